//! `DatasetDriftDetected` (the trigger) and `TrafficDriftDetected` (the
//! traffic monitor). `DatasetDriftDetected`: published when a new dataset's columns crossed the
//! drift policy's thresholds against the data the reference stage's model was
//! trained on. Consumers deduplicate on `dataset_id` (a crash between publishing
//! and writing the report publishes it again).

use crate::dataset::DatasetId;
use crate::drift::report::ColumnDrift;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `source` of the traffic monitor's events.
pub const MONITOR_SOURCE: &str = "housing-mlops.monitor";
/// `detail-type` of an endpoint's traffic that drifted from its model's training data.
pub const TRAFFIC_DRIFT_DETECTED: &str = "TrafficDriftDetected";
/// `source` of every dataset drift event.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficDriftDetected {
    pub endpoint: String,
    pub stage: String,
    pub model_package_arn: String,
    /// The dataset the serving model was trained on.
    pub baseline: DatasetId,
    /// The captured window: rows compared, capture files, the first and last.
    pub rows: u64,
    pub capture_files: u64,
    pub first_capture: String,
    pub last_capture: String,
    /// Only the columns that crossed a threshold, with every score.
    pub features: BTreeMap<String, ColumnDrift>,
    pub report: String,
}
