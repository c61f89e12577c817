//! `DatasetDriftDetected` (the trigger) and `TrafficDriftDetected` (the
//! traffic monitor). `DatasetDriftDetected`: published when a new dataset's columns crossed the
//! drift policy's thresholds against the data the reference stage's model was
//! trained on. Consumers deduplicate on `dataset_id` (a crash between publishing
//! and writing the report publishes it again).

use crate::dataset::DatasetId;
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

/// A column that drifted, as the events carry it: every score, the thresholds
/// it was held to, and which scores reached them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftedColumn {
    pub scores: DriftScores,
    pub thresholds: DriftThresholds,
    /// The scores that reached their thresholds (`psi`, `js`, `ks`).
    pub crossed: Vec<String>,
}

/// PSI, Jensen–Shannon distance and (numeric columns only) KS statistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftScores {
    pub psi: f64,
    pub js: f64,
    pub ks: Option<f64>,
}

/// The thresholds a column's scores were held to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftThresholds {
    pub psi: f64,
    pub js: f64,
    pub ks: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetDriftDetected {
    pub dataset_id: DatasetId,
    /// The dataset the compared model was trained on.
    pub baseline: DatasetId,
    /// The stage whose model was compared, and that model.
    pub stage: String,
    pub model_package_arn: String,
    /// Only the columns that crossed a threshold, with every score.
    pub features: BTreeMap<String, DriftedColumn>,
    /// The whole `DriftReport`'s S3 URI.
    pub report: String,
    /// Its page (self-contained HTML) beside it.
    #[serde(default)]
    pub report_html: String,
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
    pub features: BTreeMap<String, DriftedColumn>,
    pub report: String,
    /// Its page (self-contained HTML) beside it.
    #[serde(default)]
    pub report_html: String,
}
