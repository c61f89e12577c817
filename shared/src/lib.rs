//! The library every housing-mlops function shares. A function crate is glue:
//! it reads its configuration, builds its clients, parses its event and calls
//! the room of this crate that does the work.
//!
//! ## The functions and their names
//!
//! One name per function ([`functions`]): its crate and binary under
//! `functions/`, its metrics' `Function` dimension, its dead letters and the
//! local stack use it. Where its other names differ, this table maps them:
//!
//! | function | room here (module) | cargo feature | template resource | reacts to (event source) |
//! |---|---|---|---|---|
//! | `etl` | [`etl`] | `etl` | `EtlFunction` | `aws.s3` Object Created |
//! | `start-pipeline` | [`training`] (`trigger`) | `trigger` | `StartPipelineFunction` | `housing-mlops.etl` HousingDatasetReady, `aws.sagemaker` pipeline status |
//! | `promote-model` | [`promotion`] | `promotion` | `PromoteModelFunction` | `aws.sagemaker` package and endpoint state, `housing-mlops.operator` PromoteModel, the schedule |
//! | `predict` | [`serving`] | `serving` | `PredictFunction` | the HTTP API |
//! | `monitor` | [`monitoring`] | `monitor` | `MonitorFunction` | EventBridge Scheduler, hourly |
//! | `score` | [`scoring`] | `scoring` | `ScoreFunction` | `aws.s3` Object Created under `score/`, `aws.sagemaker` transform job state, EventBridge Scheduler |
//!
//! ## Floors
//!
//! Modules import downward only: a module uses modules on lower floors, never
//! one on its own floor or above (`tests/floors.rs` holds the code to this
//! table). Read-side facts several wings need live below the wings.
//!
//! | floor | modules | what |
//! |---|---|---|
//! | 0 | `error`, `config`, `telemetry`, `contract`, `functions`, `outputs` | errors, configuration, EMF metrics, the data contract, the functions' names, the stack's outputs |
//! | 1 | `aws` | SDK configuration, classified AWS calls, `S3Location` |
//! | 2 | `dataset`, `features` | what names a dataset and where its outputs live; the row-level features |
//! | 3 | `report` | a dataset's `report.json` |
//! | 4 | `events` | every event consumed and published (payloads borrow no domain type) |
//! | 5 | `drift` | drift measures, column profiles, the policy, the report |
//! | 6 | `stages` | the stages file, packages, lineage, what a stage serves, the drift baseline |
//! | 7 | `etl`, `training`, `promotion`, `serving`, `monitoring`, `scoring` | the wings, one per function; no wing imports another |
//!
//! - [`contract`]: the California-housing schema (one definition).
//! - [`dataset`]: dataset identity and the S3 layout; [`report`]: `report.json`.
//! - [`drift`]: drift measures, column profiles, the policy and the report.
//! - [`features`]: the engineered features of one row, and the XGBoost CSV row.
//! - [`events`]: the events consumed and published.
//! - [`aws`]: SDK configuration and classified AWS calls (S3 behind feature `s3`).
//! - [`stages`]: the stages and what they serve (file, serving and baseline behind feature `stages`).
//! - [`etl`] (feature `etl`): the Polars ETL core and its S3 service.
//! - [`training`]: the SageMaker pipeline definition and (feature `trigger`) its trigger.
//! - [`promotion`] (feature `promotion`): registry approvals to endpoints, stage by stage.
//! - [`serving`] (feature `serving`): predictions from the stage's endpoint.
//! - [`monitoring`] (feature `monitor`): the scheduled check of the endpoints' captured traffic.
//! - [`scoring`] (feature `scoring`): batch scoring, a file's rows to a transform job's input and its output back to them.
//! - [`config`], [`error`], [`telemetry`], [`functions`], [`outputs`] (the stack outputs operators' tools read).

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
pub mod functions;
#[cfg(feature = "monitor")]
pub mod monitoring;
pub mod outputs;
#[cfg(feature = "promotion")]
pub mod promotion;
pub mod report;
#[cfg(feature = "scoring")]
pub mod scoring;
#[cfg(feature = "serving")]
pub mod serving;
pub mod stages;
pub mod telemetry;
pub mod training;

pub use error::Error;
