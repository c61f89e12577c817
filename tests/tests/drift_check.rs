//! The trigger's drift check against moto: the real data's model deployed to
//! dev by promote-model, then the demo's shifted file (drift, one event, the
//! report next to the dataset) and its resample (none), delivered twice; the
//! fallback from prod to the stage that serves; `retrain_on: drift` and
//! `never`; no model serving; the serving model's quality on new data (a
//! real XGBoost model behind the local endpoint server).

use integration_tests::drift_check::*;
use integration_tests::serving::{deploy_on, model_scores};
use integration_tests::{housing, run_etl, sdk_config};
use serde_json::{json, Value};
use shared::dataset::{OutputKind, Source};
use shared::drift::html;
use shared::events::drift::DATASET_DRIFT_DETECTED;

#[tokio::test]
async fn the_shifted_file_drifts_once_and_its_resample_does_not() {
    let env = env("drift-check", |s| s).await;
    let package = deploy_to_dev(&env).await;

    let out = deliver(&env, shifted()).await;
    assert_eq!(out["status"], "started", "every_dataset trains: {out}");
    let drift = &out["drift"];
    assert_eq!(drift["drift"], "checked", "{out}");
    assert_eq!(drift["baseline"], baseline().id.as_str(), "{out}");
    assert_eq!(drift["repeated"], false);
    let drifted: Vec<&str> = drift["drifted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for feature in ["median_income", "ocean_proximity"] {
        assert!(drifted.contains(&feature), "{feature} in {drifted:?}");
    }
    assert!(!drifted.contains(&"housing_median_age"), "{drifted:?}");

    // The report, next to the dataset, names the model it compared against:
    // prod and pre-prod serve nothing, dev does.
    let report = drift_report(&env, shifted()).await.expect("drift.json");
    assert_eq!(report.drifted, drifted);
    assert_eq!(report.baseline, baseline().id);
    let model = report.model.as_ref().expect("the compared model");
    assert_eq!(model.stage, "dev");
    assert_eq!(model.model_package_arn, package);
    assert_eq!(
        drift["report"],
        env.service.config.layout.drift_report(&shifted().id).uri()
    );
    // This model's archive was never uploaded: its quality is not measured,
    // and says why; the drift check stands.
    assert_eq!(report.quality, None);
    let why = report.quality_error.as_deref().unwrap_or_default();
    assert!(
        why.contains("ModelError") && why.contains("model.tar.gz"),
        "{why}"
    );

    // One event, naming exactly the drifted features with their scores.
    let events = drift_events(&env).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["detail-type"], DATASET_DRIFT_DETECTED);
    assert_eq!(event["detail"]["dataset_id"], shifted().id.as_str());
    assert_eq!(event["detail"]["stage"], "dev");
    let features = event["detail"]["features"].as_object().unwrap();
    let mut named: Vec<&str> = features.keys().map(String::as_str).collect();
    named.sort();
    assert_eq!(named, drifted);
    let income = &features["median_income"];
    assert!(income["scores"]["psi"].as_f64().unwrap() > 0.2, "{income}");
    assert!(
        income["crossed"]
            .as_array()
            .unwrap()
            .contains(&json!("psi")),
        "{income}"
    );

    // Its page, beside it, in a real browser: every column drawn, the drifted
    // ones marked and first, nothing fetched from anywhere.
    let page_at = html::beside(&env.service.config.layout.drift_report(&shifted().id));
    assert_eq!(event["detail"]["report_html"], page_at.uri());
    let page = env
        .stack
        .get(&env.clients, &page_at.bucket, &page_at.key)
        .await
        .unwrap();
    let columns: Vec<&str> = report.columns.keys().map(String::as_str).collect();
    let seen = in_the_browser(&page, &columns, &drifted).await;
    assert_eq!(seen["sections"], columns.len(), "{seen}");

    // Delivered again: the same report, no second event, no second training.
    let again = deliver(&env, shifted()).await;
    assert_eq!(again["status"], "already_started", "{again}");
    let before = serde_json::to_value(&report).unwrap();
    assert_eq!(
        serde_json::to_value(drift_report(&env, shifted()).await.unwrap()).unwrap(),
        before
    );
    assert!(drift_events(&env).await.is_empty());

    // A resample of the training data: checked, nothing drifted, no event.
    let out = deliver(&env, half()).await;
    assert_eq!(out["drift"]["drift"], "checked", "{out}");
    assert_eq!(out["drift"]["drifted"], json!([]), "{out}");
    let report = drift_report(&env, half()).await.expect("drift.json");
    assert!(report.drifted.is_empty());
    let income = &report.columns["median_income"].scores;
    assert!(income.psi < 0.01 && income.js < 0.05, "{income:?}");
    assert!(drift_events(&env).await.is_empty());
}

#[tokio::test]
async fn the_reference_stage_is_the_baseline_when_it_serves() {
    // With dev as the reference stage, dev is tried first (and serves).
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("drift.yaml");
    let yaml =
        shared::drift::policy::BUNDLED.replace("reference_stage: prod", "reference_stage: dev");
    std::fs::write(&policy, yaml).unwrap();
    let env = env("drift-reference", |s| {
        s.var("DRIFT_POLICY_FILE", policy.display())
    })
    .await;
    assert_eq!(env.service.config.drift.reference_stage, "dev");
    deploy_to_dev(&env).await;
    let out = deliver(&env, baseline()).await;
    // The model's own training data: zero drift.
    assert_eq!(out["drift"]["drifted"], json!([]), "{out}");
    let report = drift_report(&env, baseline()).await.unwrap();
    assert_eq!(report.model.unwrap().stage, "dev");
    for (name, column) in &report.columns {
        assert_eq!(column.scores.psi, 0.0, "{name}");
        assert_eq!(column.scores.js, 0.0, "{name}");
        assert!(column.scores.ks.unwrap_or(0.0) == 0.0, "{name}");
    }
}

fn policy_file(dir: &tempfile::TempDir, retrain_on: &str) -> String {
    let path = dir.path().join(format!("drift-{retrain_on}.yaml"));
    let bundled = shared::drift::policy::BUNDLED;
    let yaml = bundled.replace(
        "retrain_on: every_dataset",
        &format!("retrain_on: {retrain_on}"),
    );
    assert_ne!(yaml, bundled, "the bundled policy says every_dataset");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn retrain_on_drift_trains_only_the_drifted_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, "drift");
    let env = env("drift-retrain", |s| s.var("DRIFT_POLICY_FILE", &policy)).await;
    deploy_to_dev(&env).await;

    let out = deliver(&env, half()).await;
    assert_eq!(out["status"], "skipped", "{out}");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("no column drifted"),
        "{out}"
    );
    let again = deliver(&env, half()).await;
    assert_eq!(again["status"], "already_skipped", "{again}");

    let out = deliver(&env, shifted()).await;
    assert_eq!(out["status"], "started", "{out}");
    let executions = env
        .clients
        .sagemaker
        .list_pipeline_executions()
        .pipeline_name(env.stack.pipeline_name())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = executions
        .pipeline_execution_summaries()
        .iter()
        .filter_map(|s| s.pipeline_execution_display_name())
        .collect();
    assert_eq!(names, [format!("housing-{}", shifted().id)]);
}

#[tokio::test]
async fn with_no_model_serving_nothing_is_compared_and_drift_still_trains() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, "drift");
    let env = env("drift-none", |s| s.var("DRIFT_POLICY_FILE", &policy)).await;
    let out = deliver(&env, shifted()).await;
    assert_eq!(out["drift"]["drift"], "not_checked", "{out}");
    assert!(
        out["drift"]["reason"]
            .as_str()
            .unwrap()
            .contains("(prod: serves nothing; pre-prod: serves nothing; dev: serves nothing)"),
        "{out}"
    );
    assert_eq!(
        out["status"], "started",
        "the first model must be trained: {out}"
    );
    assert!(drift_report(&env, shifted()).await.is_none());
    assert!(drift_events(&env).await.is_empty());
}

/// A baseline profile that cannot be compared (hand-edited, truncated, another
/// version: here 11 quantiles where 101 are kept) is no reason to dead-letter every
/// new dataset: the check says why it compared nothing, and training goes on as the
/// policy says. Before, the trigger failed the event (an unreadable profile), or,
/// with another number of quantiles, panicked in the comparison.
#[tokio::test]
async fn an_unusable_baseline_profile_means_not_checked_and_training_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, "drift");
    let env = env("drift-corrupt", |s| s.var("DRIFT_POLICY_FILE", &policy)).await;
    deploy_to_dev(&env).await;
    let mut profile: Value = serde_json::from_slice(&baseline().profile).unwrap();
    let quantiles = &mut profile["numeric"]["median_income"]["quantiles"];
    *quantiles = Value::Array(quantiles.as_array().unwrap()[..11].to_vec());
    let body = serde_json::to_vec(&profile).unwrap();
    put_output(&env, OutputKind::Profile, &baseline().id, body).await;
    let out = deliver(&env, shifted()).await;
    assert_eq!(out["drift"]["drift"], "not_checked", "{out}");
    let reason = out["drift"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("dev: ")
            && reason.contains("profile.json is unusable: median_income: 11 quantiles"),
        "{reason}"
    );
    assert_eq!(out["status"], "started", "{out}");
    assert!(drift_events(&env).await.is_empty());
}

/// A dataset the gate refuses for its size gets no drift check: an empty or tiny
/// file "drifts" on every column, and the alarm would sound for data that is never
/// trained on.
#[tokio::test]
async fn a_dataset_too_small_to_train_on_is_not_checked_for_drift() {
    let env = env("drift-tiny", |s| s).await;
    deploy_to_dev(&env).await;
    let head: Vec<u8> = {
        let text = String::from_utf8(housing()).unwrap();
        text.lines()
            .take(60)
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    };
    let tiny = std::thread::spawn(move || {
        Processed::of(&run_etl(&head, &Source::default(), &Default::default()).unwrap())
    })
    .join()
    .unwrap();
    for kind in [
        OutputKind::Report,
        OutputKind::Profile,
        OutputKind::TestXgboost,
    ] {
        put(&env, kind, &tiny).await;
    }
    let out = deliver(&env, &tiny).await;
    assert_eq!(out["drift"]["drift"], "not_checked", "{out}");
    assert!(
        out["drift"]["reason"]
            .as_str()
            .unwrap()
            .contains("below the gate's minimum of 1000: no drift check"),
        "{out}"
    );
    assert_eq!(out["status"], "refused", "{out}");
    assert!(drift_report(&env, &tiny).await.is_none());
    assert!(drift_events(&env).await.is_empty());
}

#[tokio::test]
async fn retrain_on_never_trains_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, "never");
    let env = env("drift-never", |s| s.var("DRIFT_POLICY_FILE", &policy)).await;
    deploy_to_dev(&env).await;
    let out = deliver(&env, shifted()).await;
    assert_eq!(out["status"], "skipped", "{out}");
    // The check still ran and announced the drift.
    assert_eq!(out["drift"]["drift"], "checked", "{out}");
    assert_eq!(drift_events(&env).await.len(), 1);
}

#[tokio::test]
async fn the_serving_model_is_scored_on_the_new_datasets_test_split() {
    let env = trigger("drift-quality", |s| s.var("QUALITY_MAX_ROWS", 120)).await;
    env.stack
        .create_model_package_group(&env.clients)
        .await
        .unwrap();
    let layout = env.service.config.layout.clone();
    // A real model, trained on the first 2500 rows, serving dev.
    let deployed = deploy_on(&env, &layout, 2500, 16).await;
    let dataset = Processed::of(&deployed.output);
    let out = deliver(&env, &dataset).await;
    let quality = &out["drift"]["quality"];
    assert!(quality.is_object(), "{out}");

    // The expected errors, from the booster itself on the same rows.
    let channel =
        String::from_utf8(deployed.output.read(OutputKind::TestXgboost).unwrap()).unwrap();
    // Two calls (100 rows, then 20), and the bound cuts the split short.
    let lines: Vec<&str> = channel.lines().take(120).collect();
    let split = channel.lines().count();
    assert!(
        split > 120,
        "the split ({split} rows) is larger than the bound"
    );
    let labels: Vec<f64> = lines
        .iter()
        .map(|l| l.split_once(',').unwrap().0.parse().unwrap())
        .collect();
    let rows: Vec<String> = lines
        .iter()
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect();
    let scores = model_scores(&deployed.archive(), &rows);
    let n = labels.len() as f64;
    let rmse = (labels
        .iter()
        .zip(&scores)
        .map(|(y, p)| (y - p).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let mae = labels
        .iter()
        .zip(&scores)
        .map(|(y, p)| (y - p).abs())
        .sum::<f64>()
        / n;
    assert_eq!(quality["rows"], 120);
    let close = |got: &Value, want: f64| (got.as_f64().unwrap() - want).abs() <= want * 1e-9;
    assert!(close(&quality["rmse"], rmse), "{quality} vs rmse {rmse}");
    assert!(close(&quality["mae"], mae), "{quality} vs mae {mae}");
    // This registration records no test RMSE (the pipeline's does: run-local
    // shows the ratio), so there is nothing to set it beside.
    assert_eq!(quality.get("registered_test_rmse"), None, "{quality}");
    assert_eq!(quality.get("rmse_ratio"), None, "{quality}");
    let report = drift_report(&env, &dataset).await.unwrap();
    assert_eq!(report.quality.unwrap().rows, 120);
}

/// An endpoint on 127.0.0.1 that answers every request with HTTP 500 (`hang`:
/// accepts and never answers), for the quality check's failures.
fn failing_endpoint(hang: bool) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if hang {
                held.push(stream);
                continue;
            }
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
            );
        }
    });
    url
}

/// The old model's health never blocks training on new data: an endpoint that
/// answers 5xx, or none at all within the deadline, is recorded as the report's
/// `quality_error`, and the dataset trains. Before, a 5xx (retryable) failed the
/// event until it was dead-lettered, and a slow endpoint ran the check past the
/// function's 30 s.
#[tokio::test]
async fn a_failing_or_silent_endpoint_is_a_quality_error_not_a_failed_dataset() {
    // The 5xx case keeps the default deadline: the SDK's retries of a 500 (three
    // attempts, with backoff) end well inside it, so the error is the endpoint's.
    for (name, hang, deadline, expected) in [
        ("drift-5xx", false, 10, "HTTP 500"),
        (
            "drift-silent",
            true,
            2,
            "did not answer the quality check within 2 s",
        ),
    ] {
        let mut env = env(name, |s| s.var("QUALITY_DEADLINE_SECONDS", deadline)).await;
        deploy_to_dev(&env).await;
        let runtime = sdk_config(&failing_endpoint(hang)).await;
        env.service.runtime = aws_sdk_sagemakerruntime::Client::new(&runtime);
        let started = std::time::Instant::now();
        let out = deliver(&env, shifted()).await;
        assert!(
            started.elapsed().as_secs() < 15,
            "{name}: {:?}",
            started.elapsed()
        );
        assert_eq!(out["status"], "started", "{name}: {out}");
        assert_eq!(out["drift"]["drift"], "checked", "{name}: {out}");
        let report = drift_report(&env, shifted()).await.expect("a drift report");
        let error = report.quality_error.unwrap_or_default();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(report.quality.is_none());
    }
}
