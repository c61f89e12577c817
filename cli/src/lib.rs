//! `housing-mlops`, the operators' command line: one module a subcommand.
//!
//! | subcommand | module | works on |
//! |---|---|---|
//! | `status` | [`status`] | a deployed stack ([`stack`]): records, endpoints, fleets, drift |
//! | `promote` | [`promote`] | a deployed stack: puts `PromoteModel` on its bus |
//! | `drift` | [`drift`] | a deployed stack: a dataset's or a stage's latest drift report |
//! | `cost` | [`cost`] | the stages file and the price table |
//! | `definition` (also `pipeline-definition`) | [`definition`] | the SageMaker pipeline definition |
//! | `etl` (also `housing-etl`) | [`etl`] | a local CSV file |

pub mod cost;
pub mod definition;
pub mod drift;
pub mod etl;
pub mod promote;
pub mod stack;
pub mod status;

/// A time as the commands print it: `2026-12-05 03:10:00 UTC`.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}
