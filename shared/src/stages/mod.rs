//! The stages and what they serve: the read-side facts every wing that acts on
//! a stage shares (feature `stages`). Promotion writes what a stage serves;
//! predict, the trigger's drift check and the traffic monitor only read it, so
//! they import this room and never `promotion`.
//!
//! [`package`] and [`lineage`] are plain data (always compiled: the pipeline
//! definition writes the metadata keys); the rest needs feature `stages`.
//!
//! - [`file`]: `infra/stages.yaml`, parsed and validated at cold start;
//! - [`cost`]: what the stages cost a month, from the price table
//!   `infra/prices.yaml` (`housing-mlops cost`);
//! - [`fleet`]: what a stage runs on (instances, autoscaled or not, or
//!   serverless) and SageMaker's rules for each;
//! - [`schedule`]: when a non-prod stage is awake (`active` windows);
//! - [`package`]: a registry version and the metadata the pipeline records;
//! - [`lineage`]: the tags that say what an endpoint config came from;
//! - [`serving`]: what a stage's endpoint serves now (its state and lineage);
//! - [`baseline`]: the model a stage serves and its training data's profile,
//!   the baseline of every drift comparison;
//! - [`shadow`]: a stage's shadow-test limits (run and judged by promote-model).

#[cfg(feature = "stages")]
pub mod baseline;
#[cfg(feature = "schedule")]
pub mod cost;
#[cfg(feature = "stages")]
pub mod file;
#[cfg(feature = "stages")]
pub mod fleet;
pub mod lineage;
pub mod package;
#[cfg(feature = "stages")]
pub mod schedule;
#[cfg(feature = "stages")]
pub mod serving;
#[cfg(feature = "stages")]
pub mod shadow;

#[cfg(feature = "stages")]
pub use file::{
    is_valid_sagemaker_name, read_stages, Deployment, Stage, Stages, BUNDLED, MAX_NAME_LEN,
};
#[cfg(feature = "stages")]
pub use fleet::{Autoscaling, Fleet, Serverless};
pub use lineage::{same_arn, Lineage};
pub use lineage::{
    TAG_COMPONENT, TAG_DATASET_ID, TAG_MODEL_PACKAGE_ARN, TAG_MODEL_PACKAGE_GROUP,
    TAG_MODEL_PACKAGE_VERSION, TAG_PIPELINE_EXECUTION_ARN, TAG_SHADOW_MODEL_PACKAGE_ARN,
    TAG_SOURCE_EVENT_ID, TAG_STACK, TAG_STAGE, TAG_TEST_RMSE, TAG_VALIDATION_RMSE,
};
pub use package::{
    group_and_version, Package, METADATA_DATASET_ID, METADATA_EXECUTION_ARN, METADATA_TEST_RMSE,
    METADATA_VALIDATION_RMSE,
};
#[cfg(feature = "stages")]
pub use schedule::Active;
#[cfg(feature = "stages")]
pub use serving::{serving, Serving};
