//! `DatasetDriftDetected`: published when a new dataset's columns crossed the
//! drift policy's thresholds against the data the reference stage's model was
//! trained on. Consumers deduplicate on `dataset_id` (a crash between publishing
//! and writing the report publishes it again).

use crate::dataset::DatasetId;
use crate::drift::report::ColumnDrift;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `source` of every drift event.
pub const DRIFT_SOURCE: &str = "housing-mlops.drift";
/// `detail-type` of a dataset that drifted from the serving model's training data.
pub const DATASET_DRIFT_DETECTED: &str = "DatasetDriftDetected";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetDriftDetected {
    pub dataset_id: DatasetId,
    /// The dataset the compared model was trained on.
    pub baseline: DatasetId,
    /// The stage whose model was compared, and that model.
    pub stage: String,
    pub model_package_arn: String,
    /// Only the columns that crossed a threshold, with every score.
    pub features: BTreeMap<String, ColumnDrift>,
    /// The whole `DriftReport`'s S3 URI.
    pub report: String,
}
