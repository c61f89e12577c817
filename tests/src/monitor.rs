//! The traffic monitor's tests' common steps (`tests/tests/monitor.rs`): the real data and its
//! shifted copy through the ETL core once, a monitor on a stack whose dev stage serves a model
//! of it, capture files written as an endpoint writes them, and what a run left.

use crate::env::{Setup, TestEnv};
use crate::fixtures::stages_with_capturing_dev;
use crate::serving::deploy_unscored;
use crate::{housing, run_etl};
use local_stack::samples;
use serde_json::{json, Value};
use shared::dataset::{DatasetId, OutputKind, Source};
use shared::drift::report::DriftReport;
use shared::events::drift::MONITOR_SOURCE;
use shared::monitoring::service::MonitorService;
use std::sync::OnceLock;

pub type Env = TestEnv<MonitorService>;

/// The real data's id and profile, and the feature rows (XGBoost CSV rows,
/// label removed) of its test split and of the shifted copy's.
pub struct Data {
    pub id: DatasetId,
    pub profile: Vec<u8>,
    pub real_rows: Vec<String>,
    pub shifted_rows: Vec<String>,
}

pub fn features(out: &crate::LocalOutput) -> Vec<String> {
    String::from_utf8(out.read(OutputKind::TestXgboost).unwrap())
        .unwrap()
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect()
}

pub fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        std::thread::spawn(|| {
            let real = housing();
            let run =
                |bytes: &[u8]| run_etl(bytes, &Source::default(), &Default::default()).unwrap();
            let base = run(&real);
            let shifted = run(&samples::shifted(&real).unwrap());
            Data {
                id: base.report.dataset_id.clone(),
                profile: base.read(OutputKind::Profile).unwrap(),
                real_rows: features(&base),
                shifted_rows: features(&shifted),
            }
        })
        .join()
        .unwrap()
    })
}

/// A monitor on a stack whose dev stage serves a model of the real data.
pub async fn env(test: &str, setup: impl FnOnce(Setup) -> Setup) -> (Env, String) {
    let env = setup(Setup::new(test).stages(stages_with_capturing_dev()))
        .monitor()
        .await;
    let at = env
        .service
        .config
        .layout
        .output(&data().id, OutputKind::Profile);
    env.put(&at.bucket, &at.key, data().profile.clone()).await;
    deploy_unscored(&env, data().id.as_str()).await;
    env.events().await;
    let endpoint = env.service.config.stages.first().endpoint.clone();
    (env, endpoint)
}

/// Captured requests of `batch` rows each, written as the endpoint does: one
/// JSON Lines file per request, under `<capture>/<endpoint>/AllTraffic/<hour>/`.
pub async fn capture(env: &Env, endpoint: &str, hour: &str, rows: &[String], batch: usize) {
    for (i, chunk) in rows.chunks(batch).enumerate() {
        capture_file(env, endpoint, hour, &format!("{i:04}"), chunk, "CSV").await;
    }
}

/// One capture file `<hour>/<name>.jsonl` holding one request of `rows`, in `encoding`.
pub async fn capture_file(
    env: &Env,
    endpoint: &str,
    hour: &str,
    name: &str,
    rows: &[String],
    encoding: &str,
) {
    let capture = &env.service.config.capture;
    let body: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let record = json!({
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": body, "encoding": encoding},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": "{\"predictions\": []}", "encoding": "JSON"}
        },
        "eventMetadata": {"eventId": format!("{hour}-{name}"), "inferenceTime": "2026-12-03T10:00:00Z"},
        "eventVersion": "0"
    });
    let key = format!(
        "{}/{endpoint}/AllTraffic/2026/12/03/{hour}/{name}.jsonl",
        capture.key.trim_end_matches('/')
    );
    env.put(&capture.bucket, &key, format!("{record}\n").into_bytes())
        .await;
}

pub fn dev(out: &Value) -> &Value {
    let stages = out["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 3, "{out}");
    for stage in &stages[1..] {
        assert_eq!(stage["traffic"], "not_serving", "{out}");
    }
    &stages[0]
}

pub async fn report(env: &Env, uri: &str) -> DriftReport {
    let at = shared::aws::S3Location::parse(uri).unwrap();
    env.read_json(&at).await.expect("the report")
}

pub async fn traffic_events(env: &Env) -> Vec<Value> {
    env.events()
        .await
        .into_iter()
        .filter(|e| e["source"] == MONITOR_SOURCE)
        .collect()
}
