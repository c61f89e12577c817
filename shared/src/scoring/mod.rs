//! Batch scoring: a file of housing records (under the raw bucket's scoring
//! prefix) scored by the model a stage serves, with a SageMaker Batch
//! Transform job on that model, and every prediction joined back to its row.
//!
//! This room is the data side, and needs no AWS:
//! - [`prepare`]: the file's rows checked with the data contract's input
//!   checks (the target, when the file has it, is kept for evaluation, never
//!   required); the kept rows, imputed as the serving model's training data
//!   was, go to the transform job's input (`text/csv`, the training columns
//!   without the target, no header, [`crate::features`]' one row function) and,
//!   in the same order, to `rows.csv`; the others to `quarantine.csv` with the
//!   ETL's reason codes.
//! - [`join`]: the job's output (the built-in XGBoost container's
//!   `{"predictions": [{"score": …}]}`, one answer per mini-batch, assembled by
//!   line) joined back to `rows.csv` in order: `predictions.csv` and
//!   `.parquet` (the input columns, the prediction, the row's line), and the
//!   RMSE and MAE over the rows that carried a target.
//! - [`layout`]: a run is named by its file's content ([`layout::ScoreId`]),
//!   and its objects live under `scores/<id>/` of the processed bucket.
//!
//! Both stream: memory holds a batch of rows, never the file.
//!
//! The AWS side: [`service`] starts a run's job ([`transform`]) once per
//! content and `finish.rs` finishes it when the job ends, with its records ([`run`]) in
//! S3, and says what each call came to ([`outcome`]); [`config`] is its
//! configuration.

pub mod config;
mod finish;
pub mod join;
pub mod layout;
pub mod outcome;
pub mod prepare;
pub mod run;
pub mod service;
pub mod transform;

/// Why a file could not be scored. None is retryable: the same bytes fail
/// the same way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoringError {
    /// The file as a whole cannot be scored: no header, an input column
    /// missing or given twice, not CSV, no row left to score.
    #[error("the file cannot be scored: {0}")]
    Rejected(String),
    /// The transform job's output does not answer its input row for row.
    #[error("the transform job's output does not match its input: {0}")]
    Mismatch(String),
    /// Reading or writing a local file failed.
    #[error("{0}")]
    Io(String),
}

impl ScoringError {
    /// The `reason` a `BatchScoringFailed` event and the metrics carry.
    pub fn code(&self) -> &'static str {
        match self {
            ScoringError::Rejected(_) => "rejected",
            ScoringError::Mismatch(_) => "output_mismatch",
            ScoringError::Io(_) => "io",
        }
    }
}

fn io(what: &str, e: impl std::fmt::Display) -> ScoringError {
    ScoringError::Io(format!("{what}: {e}"))
}
