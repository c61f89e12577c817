//! Step 6: the drift check on the shifted and the resampled file.

use super::{drift_events, print_scores, read_response};
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use serde_json::Value;
use shared::aws::S3Location;
use std::path::PathBuf;

/// Prints what the drift check made of the demo's files — the trigger's
/// responses, each dataset's `drift.json` with the serving model's quality on
/// it, the `DatasetDriftDetected` events — and fails unless the shifted file
/// drifted (incomes and the removed region named), its resample did not, the
/// model was scored on both, re-deliveries were no-ops, and exactly one event
/// was published, for the shifted file.
pub async fn drift(
    stack: &Stack,
    clients: &Clients,
    shifted: &[PathBuf],
    resampled: &[PathBuf],
) -> Result<()> {
    println!("\n== Drift checks (the trigger, on HousingDatasetReady)");
    let mut ids = Vec::new();
    for (label, responses) in [("shifted.csv", shifted), ("half.csv", resampled)] {
        let mut first: Option<Value> = None;
        for (i, path) in responses.iter().enumerate() {
            let r = read_response(path)?;
            let drift = &r["drift"];
            let status = r["status"].as_str().unwrap_or("?");
            if first.is_some() {
                // A duplicate of a settled dataset stops at its claim: nothing is
                // checked, published or trained again.
                println!(
                    "  {label} #{}: {status}: a duplicate delivery, nothing checked again",
                    i + 1
                );
                ensure!(drift.is_null(), "{label} was checked again: {r}");
                ensure!(
                    status.starts_with("already_"),
                    "{label}'s duplicate did something: {r}"
                );
                continue;
            }
            println!(
                "  {label} #{}: drift {}, training {status}",
                i + 1,
                drift["drift"].as_str().unwrap_or("?"),
            );
            ensure!(drift["drift"] == "checked", "{label} was not checked: {r}");
            first = Some(drift.clone());
        }
        let first = first.context("no responses")?;
        let report = S3Location::parse(first["report"].as_str().unwrap_or_default())
            .context("no report location")?;
        let page_at = shared::drift::html::beside(&report);
        let report: Value =
            serde_json::from_slice(&stack.get(clients, &report.bucket, &report.key).await?)?;
        // Its page, saved beside the responses, for a browser.
        let page = stack
            .get(clients, &page_at.bucket, &page_at.key)
            .await
            .with_context(|| format!("{label}'s report page {}", page_at.uri()))?;
        let saved =
            responses[0].with_file_name(format!("drift-{}.html", label.trim_end_matches(".csv")));
        std::fs::write(&saved, page)?;
        let model = &report["model"];
        println!(
            "\n  {label} = {} against {} (the training data of {} on stage {}, endpoint {})",
            report["current"].as_str().unwrap_or("?"),
            report["baseline"].as_str().unwrap_or("?"),
            model["model_package_arn"].as_str().unwrap_or("?"),
            model["stage"].as_str().unwrap_or("?"),
            model["endpoint"].as_str().unwrap_or("?")
        );
        print_scores(&report)?;
        println!(
            "    its page: {} (saved: {})",
            page_at.uri(),
            saved.display()
        );
        let drifted: Vec<&str> = report["drifted"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        println!(
            "    drifted: {}",
            if drifted.is_empty() {
                "none".to_string()
            } else {
                drifted.join(", ")
            }
        );
        let quality = &report["quality"];
        ensure!(
            quality.is_object(),
            "{label}: the serving model's quality was not measured: {}",
            report["quality_error"]
        );
        println!(
            "    the serving model on its test split: {} rows, RMSE {:.0}, MAE {:.0}; registered test RMSE {:.0} (ratio {:.3})",
            quality["rows"],
            quality["rmse"].as_f64().unwrap_or(f64::NAN),
            quality["mae"].as_f64().unwrap_or(f64::NAN),
            quality["registered_test_rmse"].as_f64().unwrap_or(f64::NAN),
            quality["rmse_ratio"].as_f64().unwrap_or(f64::NAN)
        );
        if label == "shifted.csv" {
            for expected in ["median_income", "ocean_proximity"] {
                ensure!(
                    drifted.contains(&expected),
                    "the shifted file's {expected} did not drift"
                );
            }
        } else {
            ensure!(drifted.is_empty(), "the resample drifted: {drifted:?}");
        }
        ids.push(report["current"].as_str().unwrap_or_default().to_string());
    }

    let events = drift_events(stack, clients, "DatasetDriftDetected", |d| {
        format!("dataset {}", d["dataset_id"].as_str().unwrap_or("?"))
    })
    .await?;
    ensure!(
        events.len() == 1 && events[0]["detail"]["dataset_id"] == ids[0].as_str(),
        "expected exactly one DatasetDriftDetected, for the shifted file; got {}",
        events.len()
    );
    println!("\nOK: the shifted file drifted, its resample did not; one event, re-deliveries were no-ops.");
    Ok(())
}
