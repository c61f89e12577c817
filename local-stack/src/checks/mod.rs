//! What each function did in the main job, printed for people and checked
//! against the stack itself: each `local-stack` checking command exits 1 when
//! the chain did not behave.
//!
//! One module per step of the main job, in its order.

mod drift;
mod etl;
mod monitor;
mod permissions;
mod pipeline;
mod predictions;
mod promotion;
mod scaling;
mod scoring;
mod shadow;
mod sleeping;
mod traffic;
mod training;

pub use drift::drift;
pub use etl::summary;
pub use monitor::monitor;
pub use permissions::permissions;
pub use pipeline::pipeline;
pub use predictions::predictions;
pub use promotion::promotion;
pub use scaling::scaling;
pub use scoring::{score_file, scoring, transform};
pub use shadow::{candidate, shadow, shadow_clock, shadow_stages};
pub use sleeping::{sleeping, sleeping_stages};
pub use traffic::traffic;
pub use training::training;

use anyhow::{Context, Result};
use local_stack::{Clients, Stack};
use serde_json::Value;
use shared::aws::S3Location;
use std::path::Path;

pub fn read_response(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not the function's JSON response", path.display()))
}
/// A `DriftReport`'s scores, one column a line.
pub(crate) fn print_scores(report: &Value) -> Result<()> {
    println!(
        "    {:<26} {:>7} {:>7} {:>7}  crossed",
        "column", "PSI", "JS", "KS"
    );
    for (name, column) in report["columns"].as_object().context("no columns")? {
        let score = |s: &str| {
            column["scores"][s]
                .as_f64()
                .map_or("-".to_string(), |v| format!("{v:.4}"))
        };
        let crossed: Vec<&str> = column["crossed"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        println!(
            "    {name:<26} {:>7} {:>7} {:>7}  {}",
            score("psi"),
            score("js"),
            score("ks"),
            crossed.join(", ")
        );
    }
    Ok(())
}
/// The suite's `detail_type` events on the queue (drained), printed with what
/// `describe` says of each detail and the features they name.
pub(crate) async fn drift_events(
    stack: &Stack,
    clients: &Clients,
    detail_type: &str,
    describe: impl Fn(&Value) -> String,
) -> Result<Vec<Value>> {
    println!("\n== {detail_type} events on bus {}", stack.bus);
    let events: Vec<Value> = stack
        .received_events(clients)
        .await?
        .into_iter()
        .filter(|e| e["detail-type"] == detail_type)
        .collect();
    for e in &events {
        let features: Vec<&str> = e["detail"]["features"]
            .as_object()
            .map(|f| f.keys().map(String::as_str).collect())
            .unwrap_or_default();
        println!(
            "  {detail_type} from {}: {}, features {}",
            e["source"].as_str().unwrap_or("?"),
            describe(&e["detail"]),
            features.join(", ")
        );
    }
    Ok(events)
}

/// A JSON answer of the local API, or why there is none.
pub(crate) fn http_json(
    answer: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Value> {
    let mut answer = answer.context("the local API did not answer")?;
    let text = answer.body_mut().read_to_string()?;
    serde_json::from_str(&text).with_context(|| format!("the local API answered {text:?}"))
}

/// The test split of dataset `id` as the raw rows it came from (read back from
/// the dataset's report, its source object and its test Parquet), and where
/// the source object is.
pub(crate) async fn held_out(
    stack: &Stack,
    clients: &Clients,
    id: &shared::dataset::DatasetId,
) -> Result<(S3Location, Vec<local_stack::predictions::Held>)> {
    let layout = stack.layout();
    let read = |kind| {
        let at = layout.output(id, kind);
        async move { stack.get(clients, &at.bucket, &at.key).await }
    };
    let report: shared::report::Report =
        serde_json::from_slice(&read(shared::dataset::OutputKind::Report).await?)?;
    let source = S3Location::parse(&report.input.source).context("the dataset's source")?;
    let raw = stack.get(clients, &source.bucket, &source.key).await?;
    let test = read(shared::dataset::OutputKind::TestParquet).await?;
    Ok((source, local_stack::predictions::held_out(&raw, &test)?))
}
