//! The training trigger's tests' common steps (`tests/tests/start_pipeline*.rs`):
//! a stack holding the ETL's report of `data/housing.csv`, its claim, the sample
//! events, the pipeline's executions.

use crate::{housing, read_json, run_etl, Setup, Stack, TestEnv};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::dataset::{DatasetId, OutputKind, Source};
use shared::training::trigger::{Claim, TriggerService};
use std::sync::OnceLock;

pub const DATASET: &str = "ds-8a3727f4cf54ac1a327f69b1d5b4db54";

pub type Env = TestEnv<TriggerService>;

/// A stack whose processed bucket holds the ETL's report of `data/housing.csv`
/// (dataset [`DATASET`]), as the ETL leaves it before it publishes the event.
pub async fn env(test: &str, with_pipeline: bool) -> Env {
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
pub fn housing_report() -> &'static Value {
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
pub async fn claim(env: &Env) -> Option<Value> {
    let at = env
        .service
        .config
        .layout
        .training_claim(&DATASET.parse().unwrap());
    env.read_json(&at).await
}

/// Writes `report` where the ETL writes the report of its dataset.
pub async fn put_report(env: &Env, report: Value) {
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

pub fn sample(name: &str) -> Value {
    read_json(&format!("events/start-pipeline/{name}"))
}

/// The sample `HousingDatasetReady`, its URIs pointed at this stack's bucket.
pub fn dataset_ready(stack: &Stack) -> Value {
    let text = sample("dataset-ready.json")
        .to_string()
        .replace("housing-mlops-local-processed", &stack.processed_bucket);
    serde_json::from_str(&text).unwrap()
}

pub async fn invoke(service: &TriggerService, event: Value) -> Result<Value, Diagnostic> {
    start_pipeline::handle(service, LambdaEvent::new(event, Context::default())).await
}

pub async fn executions(env: &Env) -> Vec<String> {
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

/// A claim written `age_s` seconds ago by a delivery that never started the
/// execution (it crashed between the claim and the start).
pub async fn leave_claim(env: &Env, age_s: u64) {
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

/// The housing report with counts the quality gate refuses (three reasons).
pub fn poor_report() -> Value {
    let mut report = housing_report().clone();
    report["rows_out"] = json!(500);
    report["rows_quarantined"] = json!(2_000);
    report["splits"]["test"] = json!(0);
    report
}

pub fn status_change(execution_arn: &str, status: &str) -> Value {
    let mut event = sample("pipeline-execution-failed.json");
    let pipeline_arn = execution_arn.split("/execution/").next().unwrap();
    event["detail"]["pipelineArn"] = pipeline_arn.into();
    event["detail"]["pipelineExecutionArn"] = execution_arn.into();
    event["detail"]["currentPipelineExecutionStatus"] = status.into();
    event["resources"] = json!([pipeline_arn, execution_arn]);
    event
}
