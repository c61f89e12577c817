//! Step 3: the pipeline execution, run here by the local pipeline runner, and its model.

use super::read_response;
use anyhow::{ensure, Context, Result};
use local_stack::pipeline::{Run, Runner};
use local_stack::Clients;
use shared::training::definition::{EVALUATE_STEP, EVALUATION_REPORT, TRAIN_STEP};
use std::path::Path;

/// Runs the execution the trigger started and prints what it trained and
/// measured; an execution that failed, or a model no better than predicting
/// the mean (test R² ≤ 0), is an error.
pub async fn pipeline(clients: &Clients, work_dir: &Path, response: &Path) -> Result<Run> {
    let started = read_response(response)?;
    let execution = started["execution_arn"]
        .as_str()
        .context("the trigger's response names no execution")?;
    println!("  execution {execution}");
    let runner = Runner {
        clients,
        python: local_stack::python(),
        work_dir: work_dir.to_path_buf(),
    };
    let run = runner.run(execution).await?;
    for step in &run.steps {
        println!(
            "  step {:<26} {:<13} {:>6.1} s",
            step.name, step.kind, step.seconds
        );
    }
    ensure!(
        run.status == "Succeeded",
        "the execution failed: {}",
        run.failure_reason.as_deref().unwrap_or("?")
    );
    let training = &run
        .branch_step(TRAIN_STEP)
        .context("no training step ran")?
        .output;
    println!(
        "\n== Training (XGBoost {}, {} rounds)\n  rows: train {}, validation {}\n  validation:rmse {:.2} (as the container reports it)\n  model {} ({} bytes)\n  training took {:.1} s",
        training["xgboost_version"].as_str().unwrap_or("?"),
        training["rounds"],
        training["train_rows"],
        training["validation_rows"],
        training["validation:rmse"].as_f64().unwrap_or(f64::NAN),
        training["artifact"].as_str().unwrap_or("?"),
        training["artifact_bytes"],
        training["training_seconds"].as_f64().unwrap_or(f64::NAN),
    );
    // What the job asked for that this machine can or cannot give it.
    let capacity = &training["capacity"];
    println!(
        "  capacity: {} (max wait {} s); {}",
        if capacity["spot"] == true {
            "managed spot"
        } else {
            "on demand"
        },
        capacity["max_wait_seconds"],
        capacity["note"].as_str().unwrap_or_default()
    );
    let instances = &training["instances"];
    println!(
        "  instances: {} requested; {}; train shards {}",
        instances["requested"],
        instances["note"].as_str().unwrap_or_default(),
        instances["shards"]["train"]
    );
    let checkpoints = &training["checkpoints"];
    if let Some(uri) = checkpoints["uri"].as_str() {
        println!(
            "  checkpoints: {} saved to {uri} ({} restored first)",
            checkpoints["saved"], checkpoints["restored"]
        );
    }
    let evaluation = &run
        .branch_step(EVALUATE_STEP)
        .context("no evaluation step ran")?
        .output["property_files"][EVALUATION_REPORT];
    println!("\n== Evaluation (pipeline/evaluate.py)");
    println!(
        "  {:<11} {:>7} {:>10} {:>10} {:>7} {:>7}",
        "split", "rows", "RMSE", "MAE", "R²", "MAPE"
    );
    for split in ["validation", "test"] {
        let m = &evaluation[split];
        let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "  {split:<11} {:>7} {:>10.0} {:>10.0} {:>7.4} {:>6.1}%",
            m["rows"].as_u64().unwrap_or_default(),
            f("rmse"),
            f("mae"),
            f("r2"),
            f("mape") * 100.0
        );
    }
    let r2 = evaluation["test"]["r2"].as_f64().unwrap_or(f64::NAN);
    ensure!(
        r2 > 0.0,
        "test R² is {r2}: the model is no better than predicting the mean"
    );
    let arn = run
        .model_package_arn
        .as_deref()
        .context("no package registered")?;
    println!("\n  registered {arn} (PendingManualApproval, evaluation.json as its ModelQuality statistics)");
    Ok(run)
}
