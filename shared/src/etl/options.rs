//! How a run treats its input: the capped-value policy, the split, the batch
//! size, the row limit and the drift policy whose thresholds its
//! `constraints.json` states. The same for the CLI and the Lambda.

use super::split::SplitRatios;
use crate::dataset::{TrainParts, TrainingFormat};
use crate::drift::policy::{self, DriftPolicy};
use std::fmt;
use std::str::FromStr;

/// Rows per frame by default (and per Parquet row group, split by split).
pub const BATCH_ROWS: usize = 1 << 19;

/// What to do with rows at a census top-code (target 500,001, age 52).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CappedPolicy {
    /// Keep them, with a boolean `<column>_capped` flag column.
    #[default]
    Flag,
    /// Quarantine them with reason `capped:<column>`.
    Quarantine,
}

impl CappedPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            CappedPolicy::Flag => "flag",
            CappedPolicy::Quarantine => "quarantine",
        }
    }
}

impl fmt::Display for CappedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CappedPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flag" => Ok(CappedPolicy::Flag),
            "quarantine" => Ok(CappedPolicy::Quarantine),
            other => Err(format!(
                "unknown capped-value policy {other:?}: expected `flag` or `quarantine`"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EtlOptions {
    pub capped_policy: CappedPolicy,
    pub split: SplitRatios,
    /// Kept rows per frame written (and per Parquet row group, split by split):
    /// memory against row-group size. Never changes the values written.
    pub batch_rows: usize,
    /// The form of the train and validation channels: CSV or label-first Parquet.
    pub training_format: TrainingFormat,
    /// The train channel's files: one, or a part per training instance to come
    /// (`TRAIN_PARTS` for the Lambda, `--train-parts` for the CLI).
    pub train_parts: TrainParts,
    /// Files with more lines after the header are refused (`too_large`) before any
    /// row is parsed: memory grows with the rows (see [`super::limits`]).
    pub max_rows: Option<usize>,
    /// The drift policy the checks of this deployment run with: its numeric
    /// threshold is `constraints.json`'s `comparison_threshold`. The Lambda reads
    /// `DRIFT_POLICY_FILE` as the trigger and the monitor do; the CLI takes
    /// `--drift-policy`. By default the bundled `infra/drift.yaml`.
    pub drift_policy: DriftPolicy,
}

impl Default for EtlOptions {
    fn default() -> Self {
        EtlOptions {
            capped_policy: CappedPolicy::default(),
            split: SplitRatios::default(),
            batch_rows: BATCH_ROWS,
            training_format: TrainingFormat::default(),
            train_parts: TrainParts::ONE,
            max_rows: None,
            drift_policy: DriftPolicy::parse(policy::BUNDLED)
                .expect("the bundled drift policy is valid (drift::policy's tests)"),
        }
    }
}
