//! What each function did in the main job, printed for people and checked
//! against the stack itself: each `local-stack` checking command exits 1 when
//! the chain did not behave.

use anyhow::{ensure, Context, Result};
use local_stack::pipeline::{Run, Runner};
use local_stack::{Clients, Stack};
use serde_json::Value;
use shared::aws::S3Location;
use shared::etl::config::DEFAULT_GLUE_TABLE;
use shared::promotion::desired::{DesiredStates, Status};
use shared::training::definition::{EVALUATE_STEP, EVALUATION_REPORT, TRAIN_STEP};
use std::path::{Path, PathBuf};

pub fn read_response(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not the function's JSON response", path.display()))
}

pub async fn summary(
    stack: &Stack,
    clients: &Clients,
    responses: &[PathBuf],
    save_event: Option<&Path>,
) -> Result<()> {
    let mut dataset_id = None;
    println!("\n== ETL invocations");
    for (i, path) in responses.iter().enumerate() {
        let response = read_response(path)?;
        for result in response["results"]
            .as_array()
            .context("response without results")?
        {
            let status = result["status"].as_str().unwrap_or("?");
            println!(
                "  #{} s3://{}/{} -> {status}",
                i + 1,
                result["bucket"].as_str().unwrap_or("?"),
                result["key"].as_str().unwrap_or("?")
            );
            match status {
                "processed" => {
                    let d = &result["dataset"];
                    let s = &d["summary"];
                    println!(
                        "     dataset id       {}",
                        d["dataset_id"].as_str().unwrap_or("?")
                    );
                    println!(
                        "     rows             in {} / out {} / quarantined {} / duplicate {}",
                        s["rows_in"], s["rows_out"], s["rows_quarantined"], s["rows_duplicate"]
                    );
                    println!(
                        "     splits           train {} / validation {} / test {}",
                        s["splits"]["train"], s["splits"]["validation"], s["splits"]["test"]
                    );
                    println!(
                        "     event published  {}",
                        result["event_id"].as_str().unwrap_or("?")
                    );
                    dataset_id = d["dataset_id"].as_str().map(str::to_string);
                }
                "duplicate" => println!(
                    "     already processed as {}: no-op, nothing published",
                    result["dataset_id"].as_str().unwrap_or("?")
                ),
                _ => println!(
                    "     {}",
                    result["message"]
                        .as_str()
                        .or(result["reason"].as_str())
                        .unwrap_or("")
                ),
            }
        }
    }
    let id = dataset_id.context("no invocation processed the dataset")?;

    println!("\n== Objects written for {id}");
    for bucket in [&stack.processed_bucket, &stack.quarantine_bucket] {
        let out = clients.s3.list_objects_v2().bucket(bucket).send().await?;
        for o in out
            .contents()
            .iter()
            .filter(|o| o.key().is_some_and(|k| k.contains(&id)))
        {
            println!(
                "  s3://{bucket}/{:<55} {:>9} bytes",
                o.key().unwrap_or_default(),
                o.size().unwrap_or_default()
            );
        }
    }

    println!("\n== Glue Data Catalog");
    let partition = clients
        .glue
        .get_partition()
        .database_name(&stack.glue_database)
        .table_name(DEFAULT_GLUE_TABLE)
        .partition_values(&id)
        .send()
        .await
        .context("the dataset's Glue partition is missing")?;
    let location = partition
        .partition()
        .and_then(|p| p.storage_descriptor())
        .and_then(|s| s.location())
        .unwrap_or("?");
    println!(
        "  {}.{DEFAULT_GLUE_TABLE} partition dataset_id={id}\n    location {location}",
        stack.glue_database
    );

    println!(
        "\n== Events on bus {} (delivered to an SQS queue by a rule)",
        stack.bus
    );
    let events = stack.received_events(clients).await?;
    for e in &events {
        println!(
            "  {} from {}: dataset {}",
            e["detail-type"].as_str().unwrap_or("?"),
            e["source"].as_str().unwrap_or("?"),
            e["detail"]["dataset_id"].as_str().unwrap_or("?")
        );
    }
    ensure!(
        events.len() == 1,
        "expected exactly one HousingDatasetReady event, got {}",
        events.len()
    );
    ensure!(
        events[0]["detail"]["dataset_id"] == id.as_str(),
        "the event names another dataset"
    );
    if let Some(path) = save_event {
        std::fs::write(path, serde_json::to_string_pretty(&events[0])?)?;
    }
    println!("\nOK: one dataset, one event, duplicates were no-ops.");
    Ok(())
}

pub async fn training(stack: &Stack, clients: &Clients, responses: &[PathBuf]) -> Result<()> {
    println!("\n== Training trigger invocations");
    for (i, path) in responses.iter().enumerate() {
        let r = read_response(path)?;
        let status = r["status"].as_str().unwrap_or("?");
        let dataset = r["dataset_id"].as_str().unwrap_or("?");
        println!("  #{} HousingDatasetReady {dataset} -> {status}", i + 1);
        let arn = r["execution_arn"].as_str().unwrap_or("?");
        match status {
            "started" => println!("     execution {arn}"),
            "already_started" => println!("     duplicate delivery: no-op, the execution is {arn}"),
            _ => println!("     {r}"),
        }
    }
    let out = clients
        .sagemaker
        .list_pipeline_executions()
        .pipeline_name(stack.pipeline_name())
        .send()
        .await?;
    let executions = out.pipeline_execution_summaries();
    println!("\n== Executions of pipeline {}", stack.pipeline_name());
    for e in executions {
        let arn = e.pipeline_execution_arn().unwrap_or_default();
        println!(
            "  {arn}\n    display name {}",
            e.pipeline_execution_display_name().unwrap_or("?")
        );
        let params = clients
            .sagemaker
            .list_pipeline_parameters_for_execution()
            .pipeline_execution_arn(arn)
            .send()
            .await?;
        for p in params.pipeline_parameters() {
            println!(
                "    {:<20} {}",
                p.name().unwrap_or("?"),
                p.value().unwrap_or("?")
            );
        }
    }
    ensure!(
        executions.len() == 1,
        "expected exactly one execution, got {}",
        executions.len()
    );
    println!("\nOK: one dataset, one training execution, the re-delivery was a no-op.");
    Ok(())
}

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
            "  step {:<20} {:<13} {:>6.1} s",
            step.name, step.kind, step.seconds
        );
    }
    ensure!(
        run.status == "Succeeded",
        "the execution failed: {}",
        run.failure_reason.as_deref().unwrap_or("?")
    );
    let training = &run.step(TRAIN_STEP).context("no training step ran")?.output;
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
    let evaluation = &run
        .step(EVALUATE_STEP)
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

pub async fn promotion(stack: &Stack, clients: &Clients, responses: &[PathBuf]) -> Result<()> {
    let stages = shared::stages::Stages::parse(shared::stages::BUNDLED)?;
    println!("\n== promote-model invocations");
    for (i, path) in responses.iter().enumerate() {
        let r = read_response(path)?;
        let status = r["status"].as_str().unwrap_or("?");
        match r["stage"].as_str() {
            Some(stage) => println!(
                "  #{} {status}: stage {stage} endpoint {}",
                i + 1,
                r["endpoint"].as_str().unwrap_or("-")
            ),
            None => println!("  #{} {status}", i + 1),
        }
        match status {
            "deploying" => println!(
                "     {} with config {} ({})",
                r["action"].as_str().unwrap_or("?"),
                r["endpoint_config"].as_str().unwrap_or("?"),
                r["deployment"].as_str().unwrap_or("?")
            ),
            "already_serving" => println!("     duplicate delivery: no-op"),
            "reconciled" => {
                for (stage, converged) in stages
                    .iter()
                    .zip(r["stages"].as_array().into_iter().flatten())
                {
                    println!(
                        "     {:<9} {}",
                        stage.name,
                        converged["status"].as_str().unwrap_or("?")
                    );
                }
            }
            _ => println!("     {r}"),
        }
    }
    let desired = DesiredStates {
        s3: clients.s3.clone(),
        root: S3Location::parse(&stack.promotion_state_uri()).context("the state URI")?,
    };
    let mut serving = Vec::new();
    for stage in stages.iter() {
        println!("\n== Stage {} — endpoint {}", stage.name, stage.endpoint);
        match desired.read(&stage.name).await? {
            None => println!("  desired state: none recorded"),
            Some(read) => {
                let d = &read.desired;
                let status = match &d.status {
                    Status::Pending => "pending".to_string(),
                    Status::Deploying {
                        endpoint_config, ..
                    } => {
                        format!("deployment started ({endpoint_config})")
                    }
                    Status::Halted { reason, .. } => format!("halted ({reason})"),
                };
                println!(
                    "  desired state: {} v{} ({}{}), {status}\n    {}",
                    d.model_package_group,
                    d.model_package_version,
                    serde_json::to_value(d.cause)?.as_str().unwrap_or("?"),
                    d.requested_by
                        .as_ref()
                        .map_or(String::new(), |by| format!(" by {by}")),
                    desired.location(&stage.name).uri()
                );
            }
        }
        let Ok(endpoint) = clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(&stage.endpoint)
            .send()
            .await
        else {
            println!(
                "  (no endpoint: {})",
                if stage.manual_gate {
                    "manual gate, send PromoteModel"
                } else {
                    "not promoted yet"
                }
            );
            continue;
        };
        let status = endpoint
            .endpoint_status()
            .map_or("?", |s| s.as_str())
            .to_string();
        let config_name = endpoint.endpoint_config_name().unwrap_or("?");
        println!("  status {status}\n  config {config_name}");
        let config = clients
            .sagemaker
            .describe_endpoint_config()
            .endpoint_config_name(config_name)
            .send()
            .await?;
        for v in config.production_variants() {
            println!(
                "    variant {} model {} on {} x {}",
                v.variant_name().unwrap_or("?"),
                v.model_name().unwrap_or("?"),
                v.initial_instance_count().unwrap_or_default(),
                v.instance_type().map_or("?", |t| t.as_str())
            );
        }
        if let Some(capture) = config.data_capture_config() {
            println!(
                "    data capture {} % to {}",
                capture.initial_sampling_percentage().unwrap_or_default(),
                capture.destination_s3_uri().unwrap_or("?")
            );
        }
        let tags = clients
            .sagemaker
            .list_tags()
            .resource_arn(config.endpoint_config_arn().unwrap_or_default())
            .send()
            .await?;
        println!("  lineage tags");
        for t in tags.tags() {
            println!(
                "    {:<38} {}",
                t.key().unwrap_or("?"),
                t.value().unwrap_or("?")
            );
        }
        serving.push((stage.name.clone(), status));
    }
    println!("\n== Events on bus {}", stack.bus);
    let events = stack.received_events(clients).await?;
    for e in &events {
        let d = &e["detail"];
        println!(
            "  {} from {}: {} v{} -> {} ({})",
            e["detail-type"].as_str().unwrap_or("?"),
            e["source"].as_str().unwrap_or("?"),
            d["model_package_group"].as_str().unwrap_or("?"),
            d["model_package_version"],
            d["stage"].as_str().unwrap_or("?"),
            d["action"].as_str().or(d["reason"].as_str()).unwrap_or("?")
        );
    }
    let expected = [
        ("dev".to_string(), "InService".to_string()),
        ("pre-prod".to_string(), "InService".to_string()),
    ];
    ensure!(
        serving == expected,
        "expected dev and pre-prod InService and no prod endpoint, got {serving:?}"
    );
    let promoted = events
        .iter()
        .filter(|e| e["detail-type"] == "ModelPromoted")
        .count();
    ensure!(
        promoted == 2 && events.len() == 2,
        "expected two ModelPromoted events (dev, pre-prod), got {}",
        events.len()
    );
    let last = responses.last().map(|p| read_response(p)).transpose()?;
    ensure!(
        last.as_ref().is_some_and(|r| r["status"] == "reconciled"),
        "expected the last invocation to be the tick, converging every stage"
    );
    println!("\nOK: the approved model serves dev and pre-prod; the re-delivery was a no-op; the tick found nothing to change; prod waits for its manual gate.");
    Ok(())
}

/// predict's answers: the `cargo lambda invoke` response to the sample event,
/// then real HTTP requests to the local API at `api` (`cargo lambda watch`'s
/// function URL): what the stage serves, and predictions for a few held-out
/// rows of the model's own training dataset, printed with their true values.
pub async fn predictions(
    stack: &Stack,
    clients: &Clients,
    api: &str,
    response: &Path,
    rows: usize,
) -> Result<()> {
    println!("\n== predict, invoked with an API Gateway HTTP API event");
    let r = read_response(response)?;
    ensure!(
        r["statusCode"] == 200,
        "the sample request was answered {}: {}",
        r["statusCode"],
        r["body"]
    );
    let body: Value = serde_json::from_str(r["body"].as_str().unwrap_or_default())
        .context("the response's body is not JSON")?;
    let sample = local_stack::repo_root().join("events/predict/predictions.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(sample)?)?;
    let sent: Value = serde_json::from_str(sample["body"].as_str().unwrap_or_default())?;
    let predictions = body["predictions"].as_array().cloned().unwrap_or_default();
    ensure!(
        predictions.len() == sent["instances"].as_array().map_or(0, Vec::len),
        "one prediction per record expected: {body}"
    );
    println!(
        "  200: {} predictions, {:?}",
        predictions.len(),
        predictions
            .iter()
            .filter_map(Value::as_f64)
            .collect::<Vec<_>>()
    );

    println!("\n== The local API over HTTP: {api}");
    let model = http_json(ureq::get(&format!("{api}/v1/model")).call())?;
    println!("  GET /v1/model: {model}");
    let dataset = model["dataset_id"]
        .as_str()
        .context("the served model names no dataset")?;
    let layout = stack.layout();
    let id: shared::dataset::DatasetId = dataset
        .parse()
        .map_err(|e| anyhow::anyhow!("the dataset id {dataset:?}: {e}"))?;
    let read = |kind| {
        let at = layout.output(&id, kind);
        async move { stack.get(clients, &at.bucket, &at.key).await }
    };
    let report: shared::report::Report =
        serde_json::from_slice(&read(shared::dataset::OutputKind::Report).await?)?;
    let source = S3Location::parse(&report.input.source).context("the dataset's source")?;
    let raw = stack.get(clients, &source.bucket, &source.key).await?;
    let test = read(shared::dataset::OutputKind::TestParquet).await?;
    let held = local_stack::predictions::held_out(&raw, &test)?;
    // The first rows of the test split, and its first row without total_bedrooms (imputed).
    let mut chosen: Vec<_> = held.iter().take(rows).collect();
    if let Some(missing) = held
        .iter()
        .find(|h| h.record.get(shared::contract::TOTAL_BEDROOMS).is_none())
    {
        chosen.push(missing);
    }
    let request = serde_json::json!({
        "instances": chosen.iter().map(|h| &h.record).collect::<Vec<_>>()
    });
    let answer = http_json(
        ureq::post(&format!("{api}/v1/predictions"))
            .header("content-type", "application/json")
            .send(request.to_string()),
    )?;
    let scores: Vec<f64> = answer["predictions"]
        .as_array()
        .context("no predictions")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    ensure!(
        scores.len() == chosen.len(),
        "one prediction per record expected: {answer}"
    );
    println!(
        "  POST /v1/predictions: {} held-out rows of {} ({} test rows), model {} v{} at stage {}",
        chosen.len(),
        source.uri(),
        held.len(),
        answer["model"]["model_package_group"]
            .as_str()
            .unwrap_or("?"),
        answer["model"]["model_package_version"],
        answer["model"]["stage"].as_str().unwrap_or("?")
    );
    println!(
        "  {:>5}  {:>9} {:>7} {:>4} {:>8} {:>6}  {:<11} {:>10} {:>10} {:>7}",
        "line",
        "longitude",
        "latitude",
        "age",
        "bedrooms",
        "income",
        "proximity",
        "predicted",
        "true",
        "error"
    );
    let mut squared = 0.0;
    for (h, score) in chosen.iter().zip(&scores) {
        let f = |k: &str| h.record.get(k).map_or("-".to_string(), |v| v.to_string());
        println!(
            "  {:>5}  {:>9} {:>7} {:>4} {:>8} {:>6}  {:<11} {:>10.0} {:>10.0} {:>+6.1}%",
            h.line,
            f("longitude"),
            f("latitude"),
            f("housing_median_age"),
            f("total_bedrooms"),
            f("median_income"),
            h.record["ocean_proximity"].as_str().unwrap_or("?"),
            score,
            h.target,
            100.0 * (score - h.target) / h.target
        );
        squared += (score - h.target).powi(2);
    }
    let rmse = (squared / scores.len() as f64).sqrt();
    println!("  RMSE over these rows: {rmse:.0} (bedrooms \"-\": missing, imputed from the training report)");
    ensure!(
        answer["model"] == model,
        "the predictions name another model than GET /v1/model"
    );
    let capture = format!(
        "data-capture/{}/",
        model["endpoint"].as_str().unwrap_or("?")
    );
    let captured = stack
        .list(clients, &stack.processed_bucket, &capture)
        .await?;
    ensure!(
        !captured.is_empty(),
        "the endpoint captured nothing under s3://{}/{capture}",
        stack.processed_bucket
    );
    println!(
        "  data capture: {} request(s) under s3://{}/{capture}",
        captured.len(),
        stack.processed_bucket
    );
    println!("\nOK: predictions from the model the pipeline trained, served by the pre-prod endpoint, with its version; the endpoint captured the traffic.");
    Ok(())
}

/// A JSON answer of the local API, or why there is none.
fn http_json(
    answer: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Value> {
    let mut answer = answer.context("the local API did not answer")?;
    let text = answer.body_mut().read_to_string()?;
    serde_json::from_str(&text).with_context(|| format!("the local API answered {text:?}"))
}

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
        let report: Value =
            serde_json::from_slice(&stack.get(clients, &report.bucket, &report.key).await?)?;
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

/// A `DriftReport`'s scores, one column a line.
fn print_scores(report: &Value) -> Result<()> {
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

/// Sends the test split of the dataset `ready` announced (a
/// `HousingDatasetReady`), as the raw records a client would send, to the
/// local API in requests of 100; prints what the endpoint captured.
pub async fn traffic(stack: &Stack, clients: &Clients, api: &str, ready: &Path) -> Result<()> {
    let event = read_response(ready)?;
    let id: shared::dataset::DatasetId = event["detail"]["dataset_id"]
        .as_str()
        .context("not a HousingDatasetReady")?
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let layout = stack.layout();
    let read = |kind| {
        let at = layout.output(&id, kind);
        async move { stack.get(clients, &at.bucket, &at.key).await }
    };
    let report: shared::report::Report =
        serde_json::from_slice(&read(shared::dataset::OutputKind::Report).await?)?;
    let source = S3Location::parse(&report.input.source).context("the dataset's source")?;
    let raw = stack.get(clients, &source.bucket, &source.key).await?;
    let test = read(shared::dataset::OutputKind::TestParquet).await?;
    let held = local_stack::predictions::held_out(&raw, &test)?;
    let mut answered = 0;
    for batch in held.chunks(100) {
        let request = serde_json::json!({
            "instances": batch.iter().map(|h| &h.record).collect::<Vec<_>>()
        });
        let answer = http_json(
            ureq::post(&format!("{api}/v1/predictions"))
                .header("content-type", "application/json")
                .send(request.to_string()),
        )?;
        let n = answer["predictions"].as_array().map_or(0, Vec::len);
        ensure!(
            n == batch.len(),
            "one prediction per record expected: {answer}"
        );
        answered += n;
    }
    println!(
        "  POST /v1/predictions: the {answered} test rows of {} ({id}), {} requests",
        source.uri(),
        held.len().div_ceil(100)
    );
    Ok(())
}

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

/// The suite's `detail_type` events on the queue (drained), printed with what
/// `describe` says of each detail and the features they name.
async fn drift_events(
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
