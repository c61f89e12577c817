//! The training trigger against moto's SageMaker, S3 and EventBridge: start,
//! 100 deliveries → 1 execution, the quality gate, failed-execution
//! notifications, an unknown pipeline; throttling with aws-smithy-mocks.

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use integration_tests::{housing, read_json, run_etl, Setup, Stack, TestEnv};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::aws::{ATTEMPT_TIMEOUT, CALL_TIMEOUT, CONNECT_TIMEOUT};
use shared::dataset::{DatasetId, OutputKind, Source, TrainingFormat};
use shared::training::config::FIRST_RETRY_SECONDS;
use shared::training::definition::{build, xgboost_image, DefinitionConfig};
use shared::training::parameters::{
    DATASET_ID, PER_DATASET, TRAINING_CONTENT_TYPE, TRAIN_DATA, VALIDATION_DATA,
};
use shared::training::trigger::{Claim, TriggerService};
use std::sync::{Arc, OnceLock};

const DATASET: &str = "ds-8a3727f4cf54ac1a327f69b1d5b4db54";

type Env = TestEnv<TriggerService>;

/// A stack whose processed bucket holds the ETL's report of `data/housing.csv`
/// (dataset [`DATASET`]), as the ETL leaves it before it publishes the event.
async fn env(test: &str, with_pipeline: bool) -> Env {
    let setup = Setup::new(test);
    let setup = if with_pipeline {
        setup.with_pipeline()
    } else {
        setup
    };
    let env = setup.trigger().await;
    put_report(&env, housing_report().clone()).await;
    env
}

/// The ETL core's report of `data/housing.csv`, made once per test binary.
fn housing_report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        // Polars runs on threads of its own: off the tests' async threads.
        std::thread::spawn(|| {
            let output = run_etl(&housing(), &Source::default(), &Default::default()).unwrap();
            serde_json::to_value(&output.report).unwrap()
        })
        .join()
        .unwrap()
    })
}

/// The claim on [`DATASET`], if there is one.
async fn claim(env: &Env) -> Option<Value> {
    let at = env
        .service
        .config
        .layout
        .training_claim(&DATASET.parse().unwrap());
    let bytes = env
        .stack
        .get(&env.clients, &at.bucket, &at.key)
        .await
        .ok()?;
    Some(serde_json::from_slice(&bytes).unwrap())
}

/// Writes `report` where the ETL writes the report of its dataset.
async fn put_report(env: &Env, report: Value) {
    let id: DatasetId = report["dataset_id"].as_str().unwrap().parse().unwrap();
    let at = env.service.config.layout.output(&id, OutputKind::Report);
    env.clients
        .s3
        .put_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .body(serde_json::to_vec(&report).unwrap().into())
        .send()
        .await
        .unwrap();
}

fn sample(name: &str) -> Value {
    read_json(&format!("events/start-pipeline/{name}"))
}

/// The sample `HousingDatasetReady`, its URIs pointed at this stack's bucket.
fn dataset_ready(stack: &Stack) -> Value {
    let text = sample("dataset-ready.json")
        .to_string()
        .replace("housing-mlops-local-processed", &stack.processed_bucket);
    serde_json::from_str(&text).unwrap()
}

async fn invoke(service: &TriggerService, event: Value) -> Result<Value, Diagnostic> {
    start_pipeline::handle(service, LambdaEvent::new(event, Context::default())).await
}

/// A dataset the ETL wrote with Parquet training channels (its report says so)
/// trains from them: the train and validation URIs are the Parquet channels and
/// their content type `application/x-parquet`; the test channel stays CSV.
#[tokio::test]
async fn a_parquet_dataset_trains_from_its_parquet_channels() {
    let env = env("parquet", true).await;
    let mut report = housing_report().clone();
    report["options"]["training_format"] = json!("parquet");
    put_report(&env, report).await;
    let mut event = dataset_ready(&env.stack);
    let id: DatasetId = DATASET.parse().unwrap();
    let layout = &env.service.config.layout;
    event["detail"]["outputs"] = json!(layout.output_uris(&id, TrainingFormat::Parquet));
    let out = invoke(&env.service, event).await.unwrap();
    assert_eq!(out["status"], "started", "{out}");
    let parameters = &out["parameters"];
    let bucket = &env.stack.processed_bucket;
    assert_eq!(
        parameters[TRAIN_DATA],
        format!("s3://{bucket}/datasets/{DATASET}/xgboost/train/train.parquet")
    );
    assert_eq!(
        parameters[VALIDATION_DATA],
        format!("s3://{bucket}/datasets/{DATASET}/xgboost/validation/validation.parquet")
    );
    assert_eq!(parameters[TRAINING_CONTENT_TYPE], "application/x-parquet");
    assert_eq!(
        parameters[shared::training::parameters::TEST_DATA],
        layout.output(&id, OutputKind::TestXgboost).uri()
    );
}

async fn executions(env: &Env) -> Vec<String> {
    let out = env
        .clients
        .sagemaker
        .list_pipeline_executions()
        .pipeline_name(env.stack.pipeline_name())
        .send()
        .await
        .unwrap();
    out.pipeline_execution_summaries()
        .iter()
        .filter_map(|s| s.pipeline_execution_arn().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_dataset_starts_the_pipeline_with_its_parameters() {
    let env = env("start", true).await;
    let out = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap();
    assert_eq!(out["status"], "started", "{out}");
    let arn = out["execution_arn"].as_str().unwrap();
    assert_eq!(executions(&env).await, vec![arn.to_string()]);

    let params = env
        .clients
        .sagemaker
        .list_pipeline_parameters_for_execution()
        .pipeline_execution_arn(arn)
        .send()
        .await
        .unwrap();
    let params: std::collections::BTreeMap<&str, &str> = params
        .pipeline_parameters()
        .iter()
        .filter_map(|p| Some((p.name()?, p.value()?)))
        .collect();
    for name in PER_DATASET {
        assert!(params.contains_key(name), "{name} not passed: {params:?}");
    }
    assert_eq!(params[DATASET_ID], DATASET);
    assert_eq!(
        params[TRAIN_DATA],
        format!(
            "s3://{}/datasets/{DATASET}/xgboost/train/train.csv",
            env.stack.processed_bucket
        )
    );
    // The report names no training format: the channels are CSV.
    assert!(housing_report()["options"].get("training_format").is_none());
    assert_eq!(params[TRAINING_CONTENT_TYPE], "text/csv");

    let described = env
        .clients
        .sagemaker
        .describe_pipeline_execution()
        .pipeline_execution_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.pipeline_execution_display_name(),
        Some(format!("housing-{DATASET}").as_str())
    );
    assert!(described
        .pipeline_execution_description()
        .unwrap_or_default()
        .contains(DATASET));

    // Lineage: the claim next to the dataset records dataset → execution.
    let claim = claim(&env).await.expect("the claim");
    assert_eq!(
        (claim["state"].as_str(), claim["execution_arn"].as_str()),
        (Some("started"), Some(arn))
    );
}

#[tokio::test]
async fn a_hundred_deliveries_start_one_execution() {
    let env = Arc::new(env("hundred", true).await);
    let mut started = 0;
    for _round in 0..5 {
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let env = env.clone();
            tasks.push(tokio::spawn(async move {
                invoke(&env.service, dataset_ready(&env.stack)).await
            }));
        }
        for task in tasks {
            match task.await.unwrap() {
                Ok(out) if out["status"] == "started" => started += 1,
                Ok(out) => assert_eq!(out["status"], "already_started", "{out}"),
                // A delivery racing the claim's owner is told to retry, as EventBridge would.
                Err(e) => assert_eq!(
                    e.error_type, "Retryable.ClaimInProgress",
                    "{}",
                    e.error_message
                ),
            }
        }
    }
    assert_eq!(started, 1);
    assert_eq!(executions(&env).await.len(), 1);
    let again = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap();
    assert_eq!(again["status"], "already_started");

    // A duplicate of a started dataset reads the claim only: with the report
    // gone, it is still the same no-op (not an unknown dataset).
    let report = env
        .service
        .config
        .layout
        .output(&DATASET.parse().unwrap(), OutputKind::Report);
    env.clients
        .s3
        .delete_object()
        .bucket(&report.bucket)
        .key(&report.key)
        .send()
        .await
        .unwrap();
    let again = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap();
    assert_eq!(again["status"], "already_started", "{again}");
}

/// A claim written `age_s` seconds ago by a delivery that never started the
/// execution (it crashed between the claim and the start).
async fn leave_claim(env: &Env, age_s: u64) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let claim = Claim::Claimed {
        dataset_id: DATASET.parse().unwrap(),
        claimed_at_ms: now_ms - age_s * 1000,
    };
    let at = env
        .service
        .config
        .layout
        .training_claim(&DATASET.parse().unwrap());
    env.clients
        .s3
        .put_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .body(serde_json::to_vec(&claim).unwrap().into())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn lambdas_first_retry_after_a_crash_starts_the_training() {
    // Lambda retries a failed asynchronous invocation about a minute later: by
    // then the crashed delivery's claim has timed out, and the retry takes over.
    let crashed = env("crash", true).await;
    leave_claim(&crashed, FIRST_RETRY_SECONDS - 5).await;
    let out = invoke(&crashed.service, dataset_ready(&crashed.stack))
        .await
        .unwrap();
    assert_eq!(out["status"], "started", "{out}");
    assert_eq!(executions(&crashed).await.len(), 1);

    // A claim younger than the function can run belongs to a live delivery: retry later.
    let live = env("crash-fresh", true).await;
    leave_claim(&live, 5).await;
    let err = invoke(&live.service, dataset_ready(&live.stack))
        .await
        .unwrap_err();
    assert_eq!(
        err.error_type, "Retryable.ClaimInProgress",
        "{}",
        err.error_message
    );
    assert!(executions(&live).await.is_empty());
}

#[tokio::test]
async fn the_trigger_calls_aws_with_time_limits() {
    let env = env("timeouts", false).await;
    for timeouts in [
        env.service.sagemaker.config().timeout_config(),
        env.service.s3.config().timeout_config(),
        env.service.events.config().timeout_config(),
    ] {
        let timeouts = timeouts.expect("a timeout configuration");
        assert_eq!(timeouts.operation_timeout(), Some(CALL_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
    }
    // A holder's calls end long before its claim can be taken over.
    assert!(CALL_TIMEOUT.as_secs() < env.service.config.claim_timeout_seconds);
}

#[tokio::test]
async fn a_forged_event_can_neither_move_training_nor_pass_the_gate() {
    let env = env("forged", true).await;
    // Locations of someone else's choosing: training still reads the dataset's own.
    let mut forged = dataset_ready(&env.stack);
    for (_, uri) in forged["detail"]["outputs"].as_object_mut().unwrap() {
        *uri = json!("s3://attacker-bucket/poisoned.csv");
    }
    let out = invoke(&env.service, forged).await.unwrap();
    assert_eq!(out["status"], "started", "{out}");
    let layout = &env.service.config.layout;
    let id: DatasetId = DATASET.parse().unwrap();
    assert_eq!(
        out["parameters"][TRAIN_DATA],
        layout.output(&id, OutputKind::TrainXgboost).uri()
    );
    assert!(!out.to_string().contains("attacker"), "{out}");

    // A dataset the ETL never wrote: nothing starts, whatever its counts claim.
    let mut unknown = dataset_ready(&env.stack);
    unknown["detail"]["dataset_id"] = json!(format!("ds-{}", "0".repeat(32)));
    let out = invoke(&env.service, unknown).await.unwrap();
    assert_eq!(out["status"], "ignored", "{out}");
    assert_eq!(executions(&env).await.len(), 1);

    // Not a dataset id at all (a path, say): refused as an unexpected event.
    let mut bad = dataset_ready(&env.stack);
    bad["detail"]["dataset_id"] = json!("ds-../../models");
    let err = invoke(&env.service, bad).await.unwrap_err();
    assert_eq!(
        err.error_type, "NonRetryable.UnexpectedEvent",
        "{}",
        err.error_message
    );
}

/// The housing report with counts the quality gate refuses (three reasons).
fn poor_report() -> Value {
    let mut report = housing_report().clone();
    report["rows_out"] = json!(500);
    report["rows_quarantined"] = json!(2_000);
    report["splits"]["test"] = json!(0);
    report
}

#[tokio::test]
async fn the_quality_gate_refuses_a_poor_dataset_once() {
    let env = env("gate", true).await;
    put_report(&env, poor_report()).await;
    // The event's own (good) counts do not matter: the gate reads the report.
    let event = dataset_ready(&env.stack);
    let out = invoke(&env.service, event.clone()).await.unwrap();
    assert_eq!(out["status"], "refused", "{out}");
    assert_eq!(out["reasons"].as_array().unwrap().len(), 3, "{out}");
    assert!(executions(&env).await.is_empty());
    let events = env.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail-type"], "HousingDatasetRejected");
    assert_eq!(events[0]["detail"]["dataset_id"], DATASET);
    assert!(events[0]["detail"]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("rows_out 500"));

    let again = invoke(&env.service, event).await.unwrap();
    assert_eq!(again["status"], "already_refused");
    assert!(env.events().await.is_empty());
}

#[tokio::test]
async fn a_refusal_is_announced_before_it_is_recorded() {
    // EventBridge fails the announcement: nothing is recorded, so the retry announces it.
    let mut env = env("refuse-first", true).await;
    put_report(&env, poor_report()).await;
    let event = dataset_ready(&env.stack);
    let events = env.service.events.clone();
    let unavailable = mock!(aws_sdk_eventbridge::Client::put_events)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    env.service.events = mock_client!(
        aws_sdk_eventbridge,
        RuleMode::MatchAny,
        [&unavailable],
        |c| c.retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
    );
    let err = invoke(&env.service, event.clone()).await.unwrap_err();
    assert!(
        err.error_type.starts_with("Retryable."),
        "{}",
        err.error_type
    );
    assert!(
        claim(&env).await.is_none(),
        "no refusal recorded before it was announced"
    );

    env.service.events = events;
    let out = invoke(&env.service, event.clone()).await.unwrap();
    assert_eq!(out["status"], "refused", "{out}");
    let announced = env.events().await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0]["detail-type"], "HousingDatasetRejected");
    let again = invoke(&env.service, event).await.unwrap();
    assert_eq!(again["status"], "already_refused");
}

fn status_change(execution_arn: &str, status: &str) -> Value {
    let mut event = sample("pipeline-execution-failed.json");
    let pipeline_arn = execution_arn.split("/execution/").next().unwrap();
    event["detail"]["pipelineArn"] = pipeline_arn.into();
    event["detail"]["pipelineExecutionArn"] = execution_arn.into();
    event["detail"]["currentPipelineExecutionStatus"] = status.into();
    event["resources"] = json!([pipeline_arn, execution_arn]);
    event
}

#[tokio::test]
async fn a_failed_execution_is_announced_with_its_dataset() {
    let env = env("failed", true).await;
    let started = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap();
    let arn = started["execution_arn"].as_str().unwrap().to_string();
    env.events().await;

    let out = invoke(&env.service, status_change(&arn, "Failed"))
        .await
        .unwrap();
    assert_eq!(out["status"], "training_failed", "{out}");
    let events = env.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail-type"], "TrainingFailed");
    assert_eq!(events[0]["detail"]["pipeline_execution_arn"], arn.as_str());
    assert_eq!(events[0]["detail"]["dataset_id"], DATASET);
    assert_eq!(events[0]["detail"]["status"], "Failed");

    let ok = invoke(&env.service, status_change(&arn, "Succeeded"))
        .await
        .unwrap();
    assert_eq!(ok["status"], "training_succeeded");
    let executing = invoke(&env.service, status_change(&arn, "Executing"))
        .await
        .unwrap();
    assert_eq!(executing["status"], "ignored");
    assert!(env.events().await.is_empty());
}

#[tokio::test]
async fn other_pipelines_and_other_events_are_ignored() {
    let env = env("others", true).await;
    // The real AWS examples: other pipelines.
    for fixture in [
        "sagemaker-pipeline-execution-status-change.aws-docs.json",
        "sagemaker-pipeline-execution-status-change.failed.aws-samples.json",
    ] {
        let event = read_json(&format!("tests/fixtures/aws-events/{fixture}"));
        let out = invoke(&env.service, event).await.unwrap();
        assert_eq!(out["status"], "ignored", "{fixture}: {out}");
    }
    let s3 = read_json("events/etl/object-created.eventbridge.json");
    assert_eq!(invoke(&env.service, s3).await.unwrap()["status"], "ignored");
    let err = invoke(&env.service, json!({"Records": []}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.UnexpectedEvent");
    assert!(env.events().await.is_empty());
}

#[tokio::test]
async fn an_unknown_pipeline_is_a_non_retryable_error_that_releases_the_claim() {
    let env = env("nopipeline", false).await;
    let err = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap_err();
    assert!(
        err.error_type.starts_with("NonRetryable."),
        "{}: {}",
        err.error_type,
        err.error_message
    );
    assert!(
        err.error_message.contains("StartPipelineExecution"),
        "{}",
        err.error_message
    );
    assert_eq!(claim(&env).await, None, "claim left behind");
}

#[tokio::test]
async fn the_definition_round_trips_through_create_and_describe_pipeline() {
    let env = env("definition", true).await;
    let described = env
        .clients
        .sagemaker
        .describe_pipeline()
        .pipeline_name(env.stack.pipeline_name())
        .send()
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(described.pipeline_definition().unwrap()).unwrap();
    let expected: Value = serde_json::from_str(
        &build(&DefinitionConfig {
            role_arn: "arn:aws:iam::123456789012:role/housing-mlops-sagemaker".into(),
            model_package_group: format!("{}-models", env.stack.pipeline_name()),
            model_output_uri: format!("s3://{}/models", env.stack.processed_bucket),
            training_image: xgboost_image("us-east-1").unwrap(),
            kms_key_arn: None,
            code_uri: env.stack.pipeline_code_uri(),
        })
        .to_json(),
    )
    .unwrap();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn throttled_starts_are_retryable_and_release_the_claim() {
    let mut env = env("throttle", true).await;
    let throttled = mock!(aws_sdk_sagemaker::Client::start_pipeline_execution)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .repeatedly()
        .build();
    let list = mock!(aws_sdk_sagemaker::Client::list_pipeline_executions)
        .then_output(|| aws_sdk_sagemaker::operation::list_pipeline_executions::ListPipelineExecutionsOutput::builder().build());
    env.service.sagemaker =
        mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, [&throttled, &list]);
    let err = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap_err();
    assert_eq!(
        err.error_type, "Retryable.ThrottlingException",
        "{}",
        err.error_message
    );
    assert_eq!(claim(&env).await, None, "claim left behind");
}
