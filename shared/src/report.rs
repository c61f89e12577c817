//! `report.json` and `rejection.json`: what an ETL run found, in a form any
//! function (with or without Polars) can read.

use crate::dataset::{DatasetId, InputIdentity, TrainParts, TrainingFormat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub contract: String,
    pub dataset_id: DatasetId,
    pub input: InputIdentity,
    pub options: ReportOptions,
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_quarantined: u64,
    pub rows_duplicate: u64,
    /// Rows per split: `train`, `validation`, `test`.
    pub splits: BTreeMap<String, u64>,
    /// Quarantine reason code → number of rows with that reason (a row may have several).
    pub reasons: BTreeMap<String, u64>,
    /// Header columns that are not in the contract: ignored.
    pub ignored_columns: Vec<String>,
    pub imputations: BTreeMap<String, Imputation>,
    /// Kept rows at a census top-code, per column.
    pub capped: BTreeMap<String, u64>,
    /// Statistics of every numeric output column, over the rows kept.
    pub columns: BTreeMap<String, ColumnStats>,
}

impl Report {
    /// The accounting invariant: every input row is kept, quarantined or a duplicate.
    pub fn rows_balance(&self) -> bool {
        self.rows_in == self.rows_out + self.rows_quarantined + self.rows_duplicate
    }

    pub fn summary(&self) -> ReportSummary {
        ReportSummary {
            rows_in: self.rows_in,
            rows_out: self.rows_out,
            rows_quarantined: self.rows_quarantined,
            rows_duplicate: self.rows_duplicate,
            splits: self.splits.clone(),
            reasons: self.reasons.clone(),
        }
    }
}

/// The counts that travel in events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_quarantined: u64,
    pub rows_duplicate: u64,
    pub splits: BTreeMap<String, u64>,
    pub reasons: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOptions {
    pub capped_policy: String,
    pub split_percent: BTreeMap<String, u32>,
    /// The training channels' form. Absent means CSV: a CSV run's report is what it
    /// was before the Parquet channels existed, and reports written then still read.
    #[serde(default, skip_serializing_if = "TrainingFormat::is_csv")]
    pub training_format: TrainingFormat,
    /// The files the train channel was written as. Absent means one: a report
    /// is what it was before parts existed.
    #[serde(default, skip_serializing_if = "TrainParts::is_one")]
    pub train_parts: TrainParts,
}

/// The key of [`Imputation::values`]' whole-file median, used when a group has no value to give.
pub use crate::features::FALLBACK_GROUP;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imputation {
    pub strategy: String,
    pub count: u64,
    /// The value imputed per group (group → median), and `*` for the fallback over all rows.
    pub values: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub null_count: u64,
    /// `p05`, `p25`, `p50`, `p75`, `p95` (linear interpolation).
    pub quantiles: BTreeMap<String, Option<f64>>,
}

/// Written when a file is refused whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionReport {
    pub schema_version: u32,
    pub contract: String,
    pub dataset_id: DatasetId,
    pub input: InputIdentity,
    /// Machine-readable code, e.g. `missing_columns`.
    pub code: String,
    /// The one-line, human-readable error.
    pub message: String,
}
