//! The traffic monitor against moto: a model of the real data deployed to dev
//! by promote-model, capture files in SageMaker's format under its endpoint.
//! Traffic like the training data drifts nowhere; the shifted file's rows
//! drift (one `TrafficDriftDetected`); the watermark makes each file count
//! once; too few rows wait for the next run; other events are ignored.

use integration_tests::serving::deploy_unscored;
use integration_tests::{housing, run_etl, Setup, TestEnv};
use lambda_runtime::{Context, LambdaEvent};
use local_stack::samples;
use serde_json::{json, Value};
use shared::dataset::{DatasetId, OutputKind, Source};
use shared::drift::report::DriftReport;
use shared::events::drift::{MONITOR_SOURCE, TRAFFIC_DRIFT_DETECTED};
use shared::monitoring::service::MonitorService;
use std::sync::OnceLock;

type Env = TestEnv<MonitorService>;

/// The real data's id and profile, and the feature rows (XGBoost CSV rows,
/// label removed) of its test split and of the shifted copy's.
struct Data {
    id: DatasetId,
    profile: Vec<u8>,
    real_rows: Vec<String>,
    shifted_rows: Vec<String>,
}

fn features(out: &integration_tests::LocalOutput) -> Vec<String> {
    String::from_utf8(out.read(OutputKind::TestXgboost).unwrap())
        .unwrap()
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect()
}

fn data() -> &'static Data {
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
async fn env(test: &str, setup: impl FnOnce(Setup) -> Setup) -> (Env, String) {
    let env = setup(Setup::new(test)).monitor().await;
    let at = env
        .service
        .config
        .layout
        .output(&data().id, OutputKind::Profile);
    put(&env, &at.bucket, &at.key, data().profile.clone()).await;
    deploy_unscored(&env, data().id.as_str()).await;
    env.events().await;
    let endpoint = env.service.config.stages.first().endpoint.clone();
    (env, endpoint)
}

async fn put(env: &Env, bucket: &str, key: &str, body: Vec<u8>) {
    env.clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

/// Captured requests of `batch` rows each, written as the endpoint does: one
/// JSON Lines file per request, under `<capture>/<endpoint>/AllTraffic/<hour>/`.
async fn capture(env: &Env, endpoint: &str, hour: &str, rows: &[String], batch: usize) {
    let capture = &env.service.config.capture;
    for (i, chunk) in rows.chunks(batch).enumerate() {
        let body: String = chunk.iter().map(|r| format!("{r}\n")).collect();
        let record = json!({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": body, "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": "{\"predictions\": []}", "encoding": "JSON"}
            },
            "eventMetadata": {"eventId": format!("{hour}-{i}"), "inferenceTime": "2026-12-03T10:00:00Z"},
            "eventVersion": "0"
        });
        let key = format!(
            "{}/{endpoint}/AllTraffic/2026/12/03/{hour}/{i:04}.jsonl",
            capture.key.trim_end_matches('/')
        );
        put(
            env,
            &capture.bucket,
            &key,
            format!("{record}\n").into_bytes(),
        )
        .await;
    }
}

async fn tick(env: &Env) -> Value {
    let event = integration_tests::read_json("events/monitor/scheduled.json");
    monitor::handle(&env.service, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap()
}

fn dev(out: &Value) -> &Value {
    let stages = out["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 3, "{out}");
    for stage in &stages[1..] {
        assert_eq!(stage["traffic"], "not_serving", "{out}");
    }
    &stages[0]
}

async fn report(env: &Env, uri: &str) -> DriftReport {
    let at = shared::aws::S3Location::parse(uri).unwrap();
    let bytes = env
        .stack
        .get(&env.clients, &at.bucket, &at.key)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn traffic_events(env: &Env) -> Vec<Value> {
    env.events()
        .await
        .into_iter()
        .filter(|e| e["source"] == MONITOR_SOURCE)
        .collect()
}

#[tokio::test]
async fn traffic_like_the_training_data_passes_and_shifted_traffic_drifts_once() {
    let (env, endpoint) = env("monitor", |s| s).await;
    capture(&env, &endpoint, "10", &data().real_rows, 100).await;

    let out = tick(&env).await;
    let stage = dev(&out);
    assert_eq!(stage["traffic"], "checked", "{out}");
    assert_eq!(stage["rows"], data().real_rows.len(), "{out}");
    assert_eq!(stage["drifted"], json!([]), "{out}");
    let first = report(&env, stage["report"].as_str().unwrap()).await;
    assert_eq!(first.baseline, data().id);
    assert_eq!(first.model.as_ref().unwrap().endpoint, endpoint);
    // Traffic has no label: the baseline's label is listed, not compared.
    assert_eq!(first.not_compared, ["median_house_value"]);
    assert_eq!(first.columns.len(), 12);
    assert!(traffic_events(&env).await.is_empty());

    // Nothing new since: nothing read again.
    let again = tick(&env).await;
    assert_eq!(dev(&again)["traffic"], "no_new_capture", "{again}");

    // The shifted file's rows, an hour later: only they are compared.
    capture(&env, &endpoint, "11", &data().shifted_rows, 100).await;
    let out = tick(&env).await;
    let stage = dev(&out);
    assert_eq!(stage["rows"], data().shifted_rows.len(), "{out}");
    let drifted: Vec<&str> = stage["drifted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for feature in ["median_income", "ocean_proximity"] {
        assert!(drifted.contains(&feature), "{feature} in {drifted:?}");
    }
    let events = traffic_events(&env).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let detail = &events[0]["detail"];
    assert_eq!(events[0]["detail-type"], TRAFFIC_DRIFT_DETECTED);
    assert_eq!(detail["endpoint"], endpoint.as_str());
    assert_eq!(detail["stage"], "dev");
    assert_eq!(detail["rows"], data().shifted_rows.len());
    assert!(detail["first_capture"].as_str().unwrap().contains("/11/"));
    let mut named: Vec<&str> = detail["features"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    named.sort();
    assert_eq!(named, drifted);
    assert_eq!(dev(&tick(&env).await)["traffic"], "no_new_capture");
}

#[tokio::test]
async fn too_few_rows_wait_for_the_next_run() {
    let (env, endpoint) = env("monitor-few", |s| s.var("MIN_ROWS", 300)).await;
    let rows = &data().real_rows;
    capture(&env, &endpoint, "10", &rows[..200], 50).await;
    let out = tick(&env).await;
    assert_eq!(dev(&out)["traffic"], "too_few", "{out}");
    assert_eq!(dev(&out)["rows"], 200);
    // The next run reads them again, with the new ones.
    capture(&env, &endpoint, "11", &rows[200..400], 50).await;
    let out = tick(&env).await;
    assert_eq!(dev(&out)["traffic"], "checked", "{out}");
    assert_eq!(dev(&out)["rows"], 400);
    assert_eq!(dev(&out)["capture_files"], 8);
}

#[tokio::test]
async fn a_run_that_crashed_before_its_watermark_publishes_nothing_twice() {
    let (env, endpoint) = env("monitor-crash", |s| s).await;
    capture(&env, &endpoint, "10", &data().shifted_rows, 100).await;
    let out = tick(&env).await;
    assert_eq!(traffic_events(&env).await.len(), 1);
    // The crash: the watermark never written.
    let watermark = env.service.config.layout.traffic_watermark(&endpoint);
    env.clients
        .s3
        .delete_object()
        .bucket(&watermark.bucket)
        .key(&watermark.key)
        .send()
        .await
        .unwrap();
    let again = tick(&env).await;
    assert_eq!(dev(&again)["repeated"], true, "{again}");
    assert_eq!(dev(&again)["report"], dev(&out)["report"]);
    assert!(traffic_events(&env).await.is_empty());
}

#[tokio::test]
async fn other_events_are_ignored() {
    let (env, _) = env("monitor-other", |s| s).await;
    let out = monitor::handle(
        &env.service,
        LambdaEvent::new(json!({"source": "aws.events"}), Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], "ignored", "{out}");
}

/// Keys under the capture prefix that SageMaker would not write (a test file, a
/// file dated 2099) are left out: before, they sorted after the real files,
/// became the watermark, and every real file after them went unread forever.
#[tokio::test]
async fn keys_that_are_not_capture_files_never_become_the_watermark() {
    let (env, endpoint) = env("monitor-foreign", |s| s).await;
    let rows = &data().real_rows;
    capture(&env, &endpoint, "10", &rows[..400], 100).await;
    let capture_root = env.service.config.capture.clone();
    let root = format!("{}/{endpoint}", capture_root.key.trim_end_matches('/'));
    let one_file: Vec<u8> = {
        let key = format!("{root}/AllTraffic/2026/12/03/10/0000.jsonl");
        let out = env
            .clients
            .s3
            .get_object()
            .bucket(&capture_root.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().to_vec()
    };
    for foreign in [
        "zz-test.jsonl",
        "AllTraffic/2099/01/01/00/00-00-000-x.jsonl",
    ] {
        let key = format!("{root}/{foreign}");
        put(&env, &capture_root.bucket, &key, one_file.clone()).await;
    }
    let out = tick(&env).await;
    assert_eq!(dev(&out)["traffic"], "checked", "{out}");
    assert_eq!(dev(&out)["capture_files"], 4, "{out}");
    // The next hour's files are read by the next run.
    capture(&env, &endpoint, "11", &rows[400..800], 100).await;
    let out = tick(&env).await;
    assert_eq!(dev(&out)["traffic"], "checked", "{out}");
    assert_eq!(dev(&out)["capture_files"], 4, "{out}");
}
