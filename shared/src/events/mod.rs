//! Event types: what the functions consume and publish. The one place for event
//! sources and detail types.

pub mod dataset;
pub mod pipeline;
pub mod s3;

/// `source` of every event the ETL publishes.
pub const ETL_SOURCE: &str = "housing-mlops.etl";
/// `detail-type` of the event announcing a processed dataset.
pub const DATASET_READY: &str = "HousingDatasetReady";
