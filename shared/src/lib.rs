//! The library every housing-mlops function shares.
//!
//! - [`contract`]: the California-housing schema (one definition).
//! - [`dataset`]: dataset identity and the S3 layout; [`report`]: `report.json`.
//! - [`drift`]: drift measures and column profiles.
//! - [`features`]: the engineered features of one row, and the XGBoost CSV row.
//! - [`etl`] (feature `etl`): the Polars ETL core and its S3 service.
//! - [`events`]: the events consumed and published.
//! - [`aws`]: SDK configuration and classified AWS calls (S3 behind feature `s3`).
//! - [`training`]: the SageMaker pipeline definition and (feature `trigger`) its trigger.
//! - [`promotion`] (feature `promotion`): registry approvals to endpoints, stage by stage.
//! - [`serving`] (feature `serving`): predictions from the stage's endpoint.
//! - [`monitoring`] (feature `monitor`): the scheduled check of the endpoints' captured traffic.
//! - [`config`], [`error`], [`telemetry`].

pub mod aws;
pub mod config;
pub mod contract;
pub mod dataset;
pub mod drift;
pub mod error;
#[cfg(feature = "etl")]
pub mod etl;
pub mod events;
pub mod features;
#[cfg(feature = "monitor")]
pub mod monitoring;
#[cfg(feature = "promotion")]
pub mod promotion;
pub mod report;
#[cfg(feature = "serving")]
pub mod serving;
pub mod telemetry;
pub mod training;

pub use error::Error;
