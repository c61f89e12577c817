//! What a run of the traffic monitor found, stage by stage, and what it
//! makes of a failed stage.

use crate::error::Error;
use serde::Serialize;

/// What the run found at one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "traffic", rename_all = "snake_case")]
pub enum StageTraffic {
    /// No model with a profiled training dataset serves the stage.
    NotServing {
        stage: String,
    },
    /// The stage sleeps outside its `active` window: it has no endpoint and
    /// no traffic until `wakes_at`.
    Asleep {
        stage: String,
        wakes_at: String,
    },
    /// The stage captures no traffic (`data_capture_percent: 0`, which every
    /// serverless stage has: SageMaker does not capture serverless endpoints):
    /// nothing to compare, by design.
    NotCaptured {
        stage: String,
        reason: String,
    },
    NoNewCapture {
        stage: String,
        endpoint: String,
    },
    /// Too few new rows to compare. `moved_past`: waiting could not help (the
    /// window was sampled or more files wait), so the run moved past them;
    /// otherwise they are read again with the next run's.
    TooFew {
        stage: String,
        endpoint: String,
        rows: u64,
        min_rows: u64,
        capture_files: u64,
        moved_past: bool,
    },
    Checked {
        stage: String,
        endpoint: String,
        /// Rows compared (a sample of `rows_captured` when those exceed `MAX_ROWS`).
        rows: u64,
        rows_captured: u64,
        /// Capture files read, and taken without being read (sampled out).
        capture_files: u64,
        capture_files_sampled_out: u64,
        report: String,
        drifted: Vec<String>,
        /// The window's report was already there (a run that crashed after
        /// publishing): nothing published again.
        repeated: bool,
    },
    /// The stage could not be checked this run; the others were.
    Failed {
        stage: String,
        error: String,
        retryable: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorOutcome {
    pub stages: Vec<StageTraffic>,
}

impl MonitorOutcome {
    /// The outcome, or, when a stage failed, an error naming every failed
    /// stage: retryable if any failure was (Lambda retries; the healthy stages
    /// find nothing new), otherwise permanent (the dead-letter queue).
    pub fn into_result(self) -> Result<MonitorOutcome, Error> {
        let failed: Vec<(&str, &str, bool)> = self
            .stages
            .iter()
            .filter_map(|s| match s {
                StageTraffic::Failed {
                    stage,
                    error,
                    retryable,
                } => Some((stage.as_str(), error.as_str(), *retryable)),
                _ => None,
            })
            .collect();
        if failed.is_empty() {
            return Ok(self);
        }
        let message = failed
            .iter()
            .map(|(stage, error, _)| format!("{stage}: {error}"))
            .collect::<Vec<_>>()
            .join("; ");
        tracing::info!(outcome = %serde_json::to_string(&self).unwrap_or_default(), "the run's stages");
        Err(if failed.iter().any(|(_, _, retryable)| *retryable) {
            Error::Busy {
                kind: "MonitorStage",
                message,
            }
        } else {
            Error::Internal(message)
        })
    }
}
