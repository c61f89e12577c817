//! Promotion: approved registry models to real-time endpoints, stage by stage
//! (`infra/stages.yaml`), with blue/green traffic shifting and alarm rollback.
//!
//! - [`stages`]: the stages file and its validation;
//! - [`config`]: the function's environment;
//! - [`lineage`]: packages, lineage tags and deterministic resource names;
//! - [`gate`]: may a candidate replace what a stage serves (no downgrade, RMSE);
//! - [`service`]: what happens for each event.

pub mod config;
pub mod gate;
pub mod lineage;
pub mod service;
pub mod stages;
