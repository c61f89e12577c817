//! What a scoring call came to, and the scheduled check's result.

use crate::error::Error;
use crate::events::scoring::{BatchScored, BatchScoringFailed};

/// What a call came to (the handler's answer: `{"started": {...}}`, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not the scoring's: an object outside the prefix, another's job.
    Ignored(String),
    /// The file's job was started.
    Started { id: String, job: String },
    /// A duplicate: the run is under way (its job exists).
    AlreadyStarted { id: String, job: String },
    /// A duplicate: the run is over.
    AlreadyDone { id: String },
    /// The job has not ended yet.
    Waiting { id: String, status: String },
    /// Scored: `BatchScored` published.
    Scored(Box<BatchScored>),
    /// Could not be scored: `BatchScoringFailed` published.
    Failed(Box<BatchScoringFailed>),
    /// The scheduled check could not finish this run (a corrupt record, an
    /// AWS failure): logged, and the check goes on with the others.
    Errored {
        id: String,
        error: String,
        retryable: bool,
    },
}

/// The scheduled check's result: its outcomes, or, when a run errored, an
/// error naming them (retryable when one of them is), so that the check is
/// seen (the function's Errors alarm) and runs again (every step can).
pub fn check_result(outcomes: Vec<Outcome>) -> Result<Vec<Outcome>, Error> {
    let errored: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Errored { .. }))
        .collect();
    if errored.is_empty() {
        return Ok(outcomes);
    }
    let retryable = errored.iter().any(|o| {
        matches!(
            o,
            Outcome::Errored {
                retryable: true,
                ..
            }
        )
    });
    let message = format!(
        "the scoring check could not finish {} of {} runs: {}",
        errored.len(),
        outcomes.len(),
        serde_json::to_string(&errored).unwrap_or_default()
    );
    Err(if retryable {
        Error::Busy {
            kind: "ScoringCheck",
            message,
        }
    } else {
        Error::Internal(message)
    })
}
