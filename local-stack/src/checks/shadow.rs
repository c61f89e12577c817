//! Step 11: shadow tests on pre-prod. promote-model runs with a stages file
//! in which pre-prod has a shadow test (`shadow_stages` writes it); two
//! candidates, each approved, reach pre-prod through dev and run beside the
//! model it serves on a copy of half its requests (the local endpoint server
//! mirrors them, captures both, and puts each variant's metrics in moto's
//! CloudWatch), and the tick judges them once the test's duration has passed:
//! - a model retrained on the same dataset with more boosting rounds: close to
//!   the serving model, deployed;
//! - a model trained on the shifted file (its own validation RMSE passes the
//!   gate): on pre-prod's real traffic its predictions are far off, rejected.

use super::read_response;
use anyhow::{ensure, Context, Result};
use local_stack::xgboost::Training;
use local_stack::{Clients, Stack};
use serde_json::{json, Value};
use shared::dataset::{DatasetId, OutputKind};
use shared::promotion::desired::Status;
use shared::stages::Stages;
use shared::training::parameters::{Parameter, ETA, MAX_DEPTH, NUM_ROUND, PARAMETERS, SUBSAMPLE};
use std::path::{Path, PathBuf};

/// The shadow step's test: ten minutes (the shortest) on half the requests,
/// judged on 200 pairs at least; a latency ratio loose enough for one
/// machine's timing noise.
const SHADOW: &str = r#"{"sample_percent": 50, "duration_seconds": 600, "min_requests": 200,
  "max_latency_ratio": 2.5, "max_error_rate": 0.01, "max_prediction_delta": 0.1}"#;
/// The step's quality gate: loose enough that the model trained on the
/// shifted file reaches the shadow test, which is what catches it.
const RMSE_TOLERANCE: f64 = 0.25;

/// Writes the bundled stages, awake, with a shadow test on `stage` and a
/// looser quality gate.
pub fn shadow_stages(stage: &str, out: &Path) -> Result<()> {
    let shadow: Value = serde_json::from_str(SHADOW)?;
    let text = local_stack::stack::bundled_stages_with(stage, |s| {
        s.insert("shadow".into(), shadow.clone());
    })?;
    let mut stages: Value = serde_norway::from_str(&text)?;
    stages["rmse_tolerance"] = json!(RMSE_TOLERANCE);
    let text = serde_norway::to_string(&stages)?;
    Stages::parse(&text).context("the shadow step's stages")?;
    std::fs::write(out, text)?;
    println!("  {stage}: shadow {SHADOW}; rmse_tolerance {RMSE_TOLERANCE}");
    Ok(())
}

/// Trains a model on the dataset `ready` announced with the pipeline's
/// hyperparameters (`extra_rounds` more boosting rounds), registers it with
/// its validation RMSE, approves it, and writes the registry's approval event
/// to `event`.
pub async fn candidate(
    stack: &Stack,
    clients: &Clients,
    ready: &Path,
    extra_rounds: u32,
    work_dir: &Path,
    event: &Path,
) -> Result<()> {
    let announced = read_response(ready)?;
    let id: DatasetId = announced["detail"]["dataset_id"]
        .as_str()
        .context("not a HousingDatasetReady")?
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = work_dir.join(format!("{id}-{extra_rounds}"));
    let layout = stack.layout();
    for (channel, kind) in [
        ("train", OutputKind::TrainXgboost),
        ("validation", OutputKind::ValidationXgboost),
    ] {
        let at = layout.output(&id, kind);
        let body = stack.get(clients, &at.bucket, &at.key).await?;
        std::fs::create_dir_all(dir.join(channel))?;
        std::fs::write(dir.join(channel).join("data.csv"), body)?;
    }
    let default = |name: &str| {
        PARAMETERS
            .iter()
            .find(|p: &&Parameter| p.name == name)
            .map(|p| p.default.to_string())
            .with_context(|| format!("no pipeline parameter {name}"))
    };
    let rounds: u32 = default(NUM_ROUND)?.parse()?;
    let hyperparameters = json!({
        "objective": "reg:squarederror",
        "eval_metric": "rmse",
        "max_depth": default(MAX_DEPTH)?,
        "eta": default(ETA)?,
        "subsample": default(SUBSAMPLE)?,
        "num_round": (rounds + extra_rounds).to_string(),
    });
    let training = Training::in_folder(&dir);
    std::fs::write(&training.hyperparameters, hyperparameters.to_string())?;
    let trained = training.run(&local_stack::python())?;
    let rmse = trained["validation:rmse"]
        .as_f64()
        .context("no validation RMSE")?;
    let key = format!("models/{id}/candidate-{extra_rounds}/model.tar.gz");
    stack
        .put(
            clients,
            &stack.processed_bucket,
            &key,
            std::fs::read(&training.archive)?,
        )
        .await?;
    let execution =
        format!("arn:aws:sagemaker:us-east-1:123456789012:pipeline/local/execution/shadow-{id}");
    let arn = stack
        .register_artifact(clients, rmse, &id.to_string(), &execution, &key)
        .await?;
    stack.approve(clients, &arn).await?;
    let version: u32 = arn
        .rsplit('/')
        .next()
        .and_then(|v| v.parse().ok())
        .context("the package's version")?;
    let mut approved = read_response(
        &local_stack::repo_root().join("events/promote-model/model-package-approved.json"),
    )?;
    approved["id"] = json!(format!("shadow-candidate-{version}"));
    let detail = &mut approved["detail"];
    detail["ModelPackageGroupName"] = json!(stack.model_package_group());
    detail["ModelPackageVersion"] = json!(version);
    detail["ModelPackageArn"] = json!(arn);
    std::fs::write(event, serde_json::to_vec_pretty(&approved)?)?;
    println!(
        "  v{version}: trained on {id} ({} rounds), validation RMSE {rmse:.0}, approved",
        rounds + extra_rounds
    );
    Ok(())
}

/// The stage's shadow test "lasts" its duration: its record's start moved back
/// by it, as if that time had passed (nothing local waits ten minutes).
pub async fn shadow_clock(
    stack: &Stack,
    clients: &Clients,
    stages: &Path,
    stage: &str,
) -> Result<()> {
    let stages = Stages::parse(&std::fs::read_to_string(stages)?)?;
    let test = stages
        .get(stage)
        .and_then(|s| s.shadow)
        .with_context(|| format!("{stage} has no shadow test"))?;
    stack
        .shadow_started_earlier(clients, stage, i64::from(test.duration_seconds))
        .await?;
    println!(
        "  (the test's {} s pass: its record's start moved back by them; the serving variant's metrics since then count earlier traffic too)",
        test.duration_seconds
    );
    Ok(())
}

/// Prints the two verdicts from the events on the bus and checks them: the
/// first candidate passed and serves the stage, the second was rejected, its
/// record halted and the stage back on the first alone.
pub async fn shadow(
    stack: &Stack,
    clients: &Clients,
    stage: &str,
    responses: &[PathBuf],
) -> Result<()> {
    for path in responses {
        let tick = read_response(path)?;
        let at = tick["stages"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["stage"] == stage))
            .with_context(|| format!("no {stage} in {tick}"))?;
        println!(
            "  {}: {stage} {}{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            at["status"].as_str().unwrap_or("?"),
            at["reason"]
                .as_str()
                .map_or(String::new(), |r| format!(" ({r})"))
        );
    }
    let events = stack.received_events(clients).await?;
    let verdicts: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["detail-type"]
                .as_str()
                .is_some_and(|t| t.starts_with("ShadowTest"))
        })
        .collect();
    for v in &verdicts {
        let d = &v["detail"];
        let c = &d["comparison"];
        let delta = &c["prediction_delta"];
        println!(
            "\n  {} — v{} beside {}",
            v["detail-type"].as_str().unwrap_or("?"),
            d["model_package_version"],
            d["serving_model_package_arn"].as_str().unwrap_or("?")
        );
        println!(
            "    {} records compared; serving {} invocations, {:.3} ms; candidate {} invocations, {} errors, {:.3} ms (ratio {:.2})",
            c["compared"],
            c["serving"]["invocations"],
            c["serving"]["latency_mean_ms"].as_f64().unwrap_or(f64::NAN),
            c["candidate"]["invocations"],
            c["candidate"]["errors"],
            c["candidate"]["latency_mean_ms"].as_f64().unwrap_or(f64::NAN),
            c["latency_ratio"].as_f64().unwrap_or(f64::NAN)
        );
        println!(
            "    relative prediction difference: p50 {:.4}, p90 {:.4}, p99 {:.4}, max {:.4}, mean signed {:+.4}",
            delta["p50"].as_f64().unwrap_or(f64::NAN),
            delta["p90"].as_f64().unwrap_or(f64::NAN),
            delta["p99"].as_f64().unwrap_or(f64::NAN),
            delta["max"].as_f64().unwrap_or(f64::NAN),
            delta["mean_signed"].as_f64().unwrap_or(f64::NAN)
        );
        for crossed in c["crossed"].as_array().into_iter().flatten() {
            println!("    crossed: {}", crossed.as_str().unwrap_or("?"));
        }
    }
    let kinds: Vec<&str> = verdicts
        .iter()
        .filter_map(|v| v["detail-type"].as_str())
        .collect();
    ensure!(
        kinds == ["ShadowTestPassed", "ShadowTestFailed"],
        "one pass then one rejection expected: {kinds:?}"
    );
    let passed = verdicts[0]["detail"]["model_package_arn"]
        .as_str()
        .unwrap_or_default();
    let stages = Stages::parse(shared::stages::BUNDLED)?;
    let endpoint = &stages.get(stage).context("no such stage")?.endpoint;
    let serving = shared::stages::serving(&clients.sagemaker, endpoint)
        .await?
        .context("the stage's endpoint is gone")?;
    ensure!(
        serving.serves(passed) && serving.shadow_of.is_none(),
        "{stage} should serve the passing candidate alone: {serving:?}"
    );
    let record = stack
        .desired_states(clients)?
        .read(stage)
        .await?
        .context("no record")?
        .desired;
    let Status::Halted {
        reason, message, ..
    } = &record.status
    else {
        anyhow::bail!("the rejected candidate's record is not halted: {record:?}");
    };
    ensure!(reason == "ShadowRejected", "halted {reason}");
    println!(
        "\n  {stage}'s record: v{} halted {reason}: {message}",
        record.model_package_version
    );
    println!(
        "  {stage} serves v{} alone (config {})",
        serving.lineage.map_or(0, |l| l.model_package_version),
        serving.endpoint_config
    );
    Ok(())
}
