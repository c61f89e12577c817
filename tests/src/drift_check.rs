//! The drift check's tests' common steps (`tests/tests/drift_check.rs`): the real data, its
//! shifted copy and its resample through the ETL core once, a trigger on a stack holding their
//! outputs, the event that delivers each, the report and events it leaves, and the report's
//! page in the browser.

use crate::env::{shared_endpoint_server, Setup, TestEnv};
use crate::serving::deploy_unscored;
use crate::{housing, read_json, run_etl, sdk_config, LocalOutput};
use lambda_runtime::{Context, LambdaEvent};
use local_stack::samples;
use serde_json::Value;
use shared::dataset::{DatasetId, OutputKind, Source};
use shared::drift::report::DriftReport;
use shared::events::drift::DRIFT_SOURCE;
use shared::training::trigger::TriggerService;
use std::sync::OnceLock;

pub type Env = TestEnv<TriggerService>;

/// A dataset as the ETL left it: its id, report, profile and test split.
pub struct Processed {
    pub id: DatasetId,
    pub report: Vec<u8>,
    pub profile: Vec<u8>,
    pub test: Vec<u8>,
}

impl Processed {
    pub fn of(out: &LocalOutput) -> Processed {
        Processed {
            id: out.report.dataset_id.clone(),
            report: out.read(OutputKind::Report).unwrap(),
            profile: out.read(OutputKind::Profile).unwrap(),
            test: out.read(OutputKind::TestXgboost).unwrap(),
        }
    }
}

/// The real data, the shifted copy and the resample, through the ETL core
/// once per test binary.
pub fn datasets() -> &'static [Processed; 3] {
    static DATASETS: OnceLock<[Processed; 3]> = OnceLock::new();
    DATASETS.get_or_init(|| {
        // Polars runs on threads of its own: off the tests' async threads.
        std::thread::spawn(|| {
            let real = housing();
            let files = [
                real.clone(),
                samples::shifted(&real).unwrap(),
                samples::half(&real).unwrap(),
            ];
            files.map(|bytes| {
                Processed::of(&run_etl(&bytes, &Source::default(), &Default::default()).unwrap())
            })
        })
        .join()
        .unwrap()
    })
}

pub fn baseline() -> &'static Processed {
    &datasets()[0]
}
pub fn shifted() -> &'static Processed {
    &datasets()[1]
}
pub fn half() -> &'static Processed {
    &datasets()[2]
}

pub async fn put(env: &Env, kind: OutputKind, dataset: &Processed) {
    let body = match kind {
        OutputKind::Profile => dataset.profile.clone(),
        OutputKind::TestXgboost => dataset.test.clone(),
        _ => dataset.report.clone(),
    };
    put_output(env, kind, &dataset.id, body).await;
}

pub async fn put_output(env: &Env, kind: OutputKind, id: &DatasetId, body: Vec<u8>) {
    let at = env.service.config.layout.output(id, kind);
    env.clients
        .s3
        .put_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

/// A trigger on a stack, calling endpoints through the local endpoint server.
pub async fn trigger(test: &str, setup: impl FnOnce(Setup) -> Setup) -> Env {
    let mut env = setup(Setup::new(test).with_pipeline()).trigger().await;
    let runtime = sdk_config(&shared_endpoint_server()).await;
    env.service.runtime = aws_sdk_sagemakerruntime::Client::new(&runtime);
    env
}

/// A trigger on a stack holding the three datasets' reports, profiles and test splits.
pub async fn env(test: &str, setup: impl FnOnce(Setup) -> Setup) -> Env {
    let env = trigger(test, setup).await;
    for dataset in datasets() {
        for kind in [
            OutputKind::Report,
            OutputKind::Profile,
            OutputKind::TestXgboost,
        ] {
            put(&env, kind, dataset).await;
        }
    }
    env
}

/// A model of the real data (its archive never uploaded: nothing can be
/// scored) deployed to dev (the stack's first stage; prod and pre-prod serve
/// nothing); the queue drained of what promote-model published.
pub async fn deploy_to_dev(env: &Env) -> String {
    let arn = deploy_unscored(env, &baseline().id.to_string()).await;
    env.events().await;
    arn
}

/// `HousingDatasetReady` for `dataset` on this stack.
pub fn dataset_ready(env: &Env, dataset: &Processed) -> Value {
    let sample = read_json("events/start-pipeline/dataset-ready.json");
    let text = sample
        .to_string()
        .replace("housing-mlops-local-processed", &env.stack.processed_bucket)
        .replace("ds-8a3727f4cf54ac1a327f69b1d5b4db54", dataset.id.as_str());
    serde_json::from_str(&text).unwrap()
}

pub async fn deliver(env: &Env, dataset: &Processed) -> Value {
    let event = dataset_ready(env, dataset);
    start_pipeline::handle(&env.service, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap()
}

pub async fn drift_report(env: &Env, dataset: &Processed) -> Option<DriftReport> {
    let at = env.service.config.layout.drift_report(&dataset.id);
    env.read_json(&at).await
}

pub async fn drift_events(env: &Env) -> Vec<Value> {
    env.events()
        .await
        .into_iter()
        .filter(|e| e["source"] == DRIFT_SOURCE)
        .collect()
}

/// `tests/browser/drift.test.mjs` on the report page `html` (Debian's
/// Chromium): what it saw. `DRIFT_SCREENSHOT=docs/drift-report.png scripts/test
/// --test drift_check` renews the docs' screenshot.
pub async fn in_the_browser(html: &[u8], columns: &[&str], drifted: &[&str]) -> Value {
    let browser = crate::repo_root().join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser check needs scripts/setup (Chromium, tests/browser/node_modules)"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drift.html");
    std::fs::write(&file, html).unwrap();
    let screenshot = match std::env::var_os("DRIFT_SCREENSHOT") {
        Some(path) => crate::repo_root().join(path),
        None => dir.path().join("drift.png"),
    };
    let (columns, drifted) = (columns.join(","), drifted.join(","));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg("drift.test.mjs")
            .current_dir(browser)
            .env("REPORT", &file)
            .env("COLUMNS", columns)
            .env("DRIFTED", drifted)
            .env("SCREENSHOT", screenshot)
            .output()
    })
    .await
    .unwrap()
    .expect("node");
    crate::api::json_stdout(&out)
}
