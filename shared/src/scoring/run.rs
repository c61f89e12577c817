//! A run's two records in S3: `run.json`, written once before its transform
//! job starts (what the job's end needs to finish the run), and `report.json`,
//! written last (its presence means the run is over, scored or failed).

use super::prepare::Prepared;
use crate::events::scoring::ScoringModel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The counts of [`Prepared`], as the records keep them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    pub rows_in: u64,
    pub rows_scored: u64,
    pub rows_quarantined: u64,
    pub quarantine_reasons: BTreeMap<String, u64>,
    pub rows_imputed: u64,
    pub has_target: bool,
    pub rows_with_target: u64,
    pub ignored_columns: Vec<String>,
}

impl From<&Prepared> for Rows {
    fn from(p: &Prepared) -> Self {
        Rows {
            rows_in: p.rows_in,
            rows_scored: p.rows_scored,
            rows_quarantined: p.rows_quarantined,
            quarantine_reasons: p.reasons.clone(),
            rows_imputed: p.rows_imputed,
            has_target: p.has_target,
            rows_with_target: p.rows_with_target,
            ignored_columns: p.ignored_columns.clone(),
        }
    }
}

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
    pub rows: Rows,
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
    pub rows: Option<Rows>,
    /// `s3://` URI of `quarantine.csv`, when rows went there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
    #[serde(flatten)]
    pub ending: Ending,
}
