//! Training: the SageMaker pipeline (its definition, generated from typed Rust)
//! and the trigger that starts it once per dataset, behind a data-quality gate.

#[cfg(feature = "trigger")]
pub mod config;
pub mod definition;
pub mod gate;
pub mod parameters;
#[cfg(feature = "trigger")]
pub mod trigger;
