//! A run's two records in S3: `run.json`, written once before its transform
//! job starts (what the job's end needs to finish the run), and `report.json`,
//! written last (its presence means the run is over, scored or failed).

use super::prepare::Prepared;
use crate::events::scoring::ScoringModel;
use serde::{Deserialize, Serialize};

/// `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub score_id: String,
    /// `s3://` URI of the scored file.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version_id: Option<String>,
    pub model: ScoringModel,
    pub transform_job: String,
    pub rows: Prepared,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Ending {
    Scored {
        predictions_parquet: String,
        predictions_csv: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evaluation: Option<EvaluationRecord>,
    },
    Failed {
        /// As `BatchScoringFailed` names it.
        reason: String,
        message: String,
    },
}

/// The model's error on the file's own targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    pub rows: u64,
    pub rmse: f64,
    pub mae: f64,
}

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    pub score_id: String,
    pub source: String,
    /// `None` when the run failed before a model was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ScoringModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform_job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Prepared>,
    /// `s3://` URI of `quarantine.csv`, when rows went there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
    #[serde(flatten)]
    pub ending: Ending,
}
