//! Step 7b: the traffic monitor's ticks and the `TrafficDriftDetected` they announce.

use super::{drift_events, print_scores, read_response};
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use serde_json::Value;
use shared::aws::S3Location;
use std::path::PathBuf;

/// Prints what the traffic monitor's run found at each stage (the report's
/// scores, the `TrafficDriftDetected` events) and fails unless pre-prod's
/// captured traffic was compared and its incomes drifted, once.
pub async fn monitor(stack: &Stack, clients: &Clients, responses: &[PathBuf]) -> Result<()> {
    println!("\n== Traffic monitor runs (the schedule's tick)");
    let mut checked = None;
    for (i, path) in responses.iter().enumerate() {
        let r = read_response(path)?;
        for stage in r["stages"].as_array().context("no stages")? {
            println!(
                "  #{} {}: {}{}",
                i + 1,
                stage["stage"].as_str().unwrap_or("?"),
                stage["traffic"].as_str().unwrap_or("?"),
                match stage["traffic"].as_str() {
                    Some("checked") => format!(
                        " {} rows from {} capture files, drifted {}",
                        stage["rows"], stage["capture_files"], stage["drifted"]
                    ),
                    _ => String::new(),
                }
            );
            if i == 0 && stage["stage"] == "pre-prod" {
                checked = Some(stage.clone());
            }
            if i > 0 {
                ensure!(
                    stage["traffic"] != "checked",
                    "a second run compared the same traffic: {stage}"
                );
            }
        }
    }
    let stage = checked.context("the first run did not look at pre-prod")?;
    ensure!(
        stage["traffic"] == "checked",
        "pre-prod's traffic was not compared: {stage}"
    );
    let at =
        S3Location::parse(stage["report"].as_str().unwrap_or_default()).context("no report")?;
    let report: Value = serde_json::from_slice(&stack.get(clients, &at.bucket, &at.key).await?)?;
    println!(
        "\n  {} against {}",
        report["current"].as_str().unwrap_or("?"),
        report["baseline"].as_str().unwrap_or("?")
    );
    print_scores(&report)?;
    let drifted: Vec<&str> = report["drifted"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ensure!(
        drifted.contains(&"median_income"),
        "the shifted traffic's incomes did not drift: {drifted:?}"
    );

    let events = drift_events(stack, clients, "TrafficDriftDetected", |d| {
        format!(
            "endpoint {}, {} rows",
            d["endpoint"].as_str().unwrap_or("?"),
            d["rows"]
        )
    })
    .await?;
    ensure!(
        events.len() == 1,
        "expected one TrafficDriftDetected, got {}",
        events.len()
    );
    println!("\nOK: the captured traffic was compared once with the served model's training data, and its drift announced.");
    Ok(())
}
