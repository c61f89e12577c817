//! The traffic monitor against moto: a model of the real data deployed to dev
//! by promote-model, capture files in SageMaker's format under its endpoint.
//! Traffic like the training data drifts nowhere; the shifted file's rows
//! drift (one `TrafficDriftDetected`); each file counts once, late ones too;
//! too few rows wait for the next run unless waiting cannot help; more rows
//! than a run compares are sampled across every file; a stage's failure stops
//! only that stage; a window in flight is redone, never republished.

use integration_tests::monitor::*;
use integration_tests::Setup;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use shared::events::drift::TRAFFIC_DRIFT_DETECTED;
use shared::monitoring::capture::{self, CaptureState};

async fn tick(env: &Env) -> Value {
    let event = integration_tests::read_json("events/monitor/scheduled.json");
    monitor::handle(&env.service, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap()
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
    // The window's page, beside its JSON: every compared column, the drifted
    // ones marked (drift_check.rs opens such a page in the browser).
    let json_at = shared::aws::S3Location::parse(detail["report"].as_str().unwrap()).unwrap();
    let page_at = shared::drift::html::beside(&json_at);
    assert_eq!(detail["report_html"], page_at.uri());
    let page = env
        .stack
        .get(&env.clients, &page_at.bucket, &page_at.key)
        .await
        .unwrap();
    let page = String::from_utf8(page).unwrap();
    let window = report(&env, detail["report"].as_str().unwrap()).await;
    for column in window.columns.keys() {
        let marked = page.contains(&format!("class=\"column drifted\" id=\"column-{column}\""));
        assert_eq!(marked, drifted.contains(&column.as_str()), "{column}");
        assert!(
            page.contains(&format!("data-column=\"{column}\"")),
            "{column}"
        );
    }
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

/// A run that stopped after publishing and before committing its window: the
/// next run redoes exactly that window (recorded as in flight before anything
/// was published), finds its report, and publishes nothing again, even though
/// new files arrived meanwhile; those are the run after's.
#[tokio::test]
async fn a_window_in_flight_is_redone_and_nothing_is_published_twice() {
    let (env, endpoint) = env("monitor-crash", |s| s).await;
    capture(&env, &endpoint, "10", &data().shifted_rows, 100).await;
    let out = tick(&env).await;
    assert_eq!(traffic_events(&env).await.len(), 1);
    // The crash: the state as the run left it before its commit.
    let at = env.service.config.layout.traffic_state(&endpoint);
    let committed: CaptureState = env.read_json(&at).await.unwrap();
    let taken: Vec<String> = committed.considered.iter().cloned().collect();
    let in_flight = CaptureState {
        considered: Default::default(),
        in_flight: Some(capture::window(taken, 1000)),
    };
    env.put(&at.bucket, &at.key, serde_json::to_vec(&in_flight).unwrap())
        .await;
    capture(&env, &endpoint, "11", &data().real_rows[..400], 100).await;

    let again = tick(&env).await;
    assert_eq!(dev(&again)["repeated"], true, "{again}");
    assert_eq!(dev(&again)["report"], dev(&out)["report"]);
    assert!(traffic_events(&env).await.is_empty());
    let next = tick(&env).await;
    assert_eq!(dev(&next)["traffic"], "checked", "{next}");
    assert_eq!(dev(&next)["capture_files"], 4, "{next}");
    assert_eq!(dev(&next)["repeated"], false, "{next}");
}

/// Instances upload capture files out of key order: a file that lands behind
/// the newest one read is read by the next run, once.
#[tokio::test]
async fn a_file_that_lands_late_is_read_once() {
    let (env, endpoint) = env("monitor-late", |s| s.var("MIN_ROWS", 50)).await;
    let rows = &data().real_rows;
    capture(&env, &endpoint, "10", &rows[..400], 100).await;
    let out = tick(&env).await;
    assert_eq!(dev(&out)["capture_files"], 4, "{out}");
    // Sorts between 0001 and 0002 of the hour already read.
    capture_file(&env, &endpoint, "10", "0001-late", &rows[400..500], "CSV").await;
    let out = tick(&env).await;
    assert_eq!(dev(&out)["traffic"], "checked", "{out}");
    assert_eq!(dev(&out)["capture_files"], 1, "{out}");
    assert_eq!(dev(&out)["rows"], 100, "{out}");
    assert_eq!(dev(&tick(&env).await)["traffic"], "no_new_capture");
}

/// More files than a run reads, none with a usable row (another client's JSON
/// requests): waiting cannot help, so the run moves past them and the next
/// one reads the real traffic. Before, they were read again every run, forever.
#[tokio::test]
async fn files_without_usable_rows_do_not_stall_the_monitor() {
    let (env, endpoint) = env("monitor-stall", |s| s.var("MAX_CAPTURE_FILES", 4)).await;
    let json_rows = vec![r#"{"instances": []}"#.to_string()];
    for i in 0..6 {
        capture_file(
            &env,
            &endpoint,
            "09",
            &format!("{i:04}"),
            &json_rows,
            "JSON",
        )
        .await;
    }
    let out = tick(&env).await;
    let stage = dev(&out);
    assert_eq!(stage["traffic"], "too_few", "{out}");
    assert_eq!(stage["moved_past"], true, "{out}");
    assert_eq!(stage["capture_files"], 4, "{out}");
    capture(&env, &endpoint, "10", &data().real_rows[..400], 100).await;
    let out = tick(&env).await;
    assert_eq!(dev(&out)["traffic"], "checked", "{out}");
    assert_eq!(dev(&out)["capture_files"], 4, "{out}");
}

/// More rows than a run compares: a sample across every file of the window,
/// and the window covers them all (before, the run stopped in the second file,
/// dropped its tail, and fell further behind every hour).
#[tokio::test]
async fn more_rows_than_a_run_compares_are_sampled_across_all_files() {
    let (env, endpoint) = env("monitor-sample", |s| {
        s.var("MAX_ROWS", 200).var("MIN_ROWS", 50)
    })
    .await;
    capture(&env, &endpoint, "10", &data().real_rows[..800], 100).await;
    let out = tick(&env).await;
    let stage = dev(&out);
    assert_eq!(stage["traffic"], "checked", "{out}");
    assert_eq!(stage["rows"], 200, "{out}");
    assert_eq!(stage["rows_captured"], 800, "{out}");
    assert_eq!(stage["capture_files"], 8, "{out}");
    assert_eq!(dev(&tick(&env).await)["traffic"], "no_new_capture");
}

/// One stage's failure (here an unreadable state object) is that stage's: the
/// others are still checked, the outcome names it, and the invocation fails
/// (not retryable: the dead-letter queue). Deleting the object starts over.
#[tokio::test]
async fn a_stage_that_fails_does_not_stop_the_others() {
    let (env, endpoint) = env("monitor-isolated", |s| s).await;
    capture(&env, &endpoint, "10", &data().real_rows[..400], 100).await;
    let at = env.service.config.layout.traffic_state(&endpoint);
    env.put(&at.bucket, &at.key, b"{not json".to_vec()).await;
    let outcome = env.service.run().await;
    let stages = serde_json::to_value(&outcome.stages).unwrap();
    assert_eq!(stages[0]["traffic"], "failed", "{stages}");
    assert!(stages[0]["error"]
        .as_str()
        .unwrap()
        .contains("unreadable monitor state"));
    assert_eq!(stages[1]["traffic"], "not_serving", "{stages}");
    assert_eq!(stages[2]["traffic"], "not_serving", "{stages}");
    let failed = monitor::handle(
        &env.service,
        LambdaEvent::new(
            integration_tests::read_json("events/monitor/scheduled.json"),
            Context::default(),
        ),
    )
    .await
    .unwrap_err();
    assert!(failed.error_type.starts_with("NonRetryable."), "{failed:?}");
    env.clients
        .s3
        .delete_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .send()
        .await
        .unwrap();
    assert_eq!(dev(&tick(&env).await)["traffic"], "checked");
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
/// (`zz-test.jsonl` is in no variant's folder; the 2099 file is dated ahead.)
/// A shadow variant's captures are copies of requests the serving variant
/// answered: left out too.
#[tokio::test]
async fn keys_that_are_not_capture_files_are_left_out() {
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
    // A shadow test's candidate answered copies of the same requests: not
    // traffic of its own.
    for foreign in [
        "zz-test.jsonl",
        "AllTraffic/2099/01/01/00/00-00-000-x.jsonl",
        "Shadow-v2/2026/12/03/10/0000.jsonl",
    ] {
        let key = format!("{root}/{foreign}");
        env.put(&capture_root.bucket, &key, one_file.clone()).await;
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

/// Capture files are streamed line by line up to a byte cap (the monitor's is
/// 32 MiB): a line the cap cuts is dropped, and the cut is reported.
#[tokio::test]
async fn capture_files_are_streamed_up_to_a_cap() {
    let (env, _) = env("monitor-stream", |s| s).await;
    let bucket = env.stack.processed_bucket.clone();
    env.put(&bucket, "lines.jsonl", b"first\nsecond\nthird".to_vec())
        .await;
    let at = shared::aws::S3Location {
        bucket,
        key: "lines.jsonl".into(),
    };
    let read = |cap: u64| {
        let (env, at) = (&env, &at);
        async move {
            let mut lines = Vec::new();
            let info = shared::aws::s3::read_lines(&env.clients.s3, at, cap, |l| {
                lines.push(String::from_utf8(l.to_vec()).unwrap())
            })
            .await
            .unwrap()
            .unwrap();
            (lines, info.truncated)
        }
    };
    assert_eq!(
        read(1 << 20).await,
        (vec!["first".into(), "second".into(), "third".into()], false)
    );
    assert_eq!(
        read(15).await,
        (vec!["first".into(), "second".into()], true)
    );
    let gone = shared::aws::S3Location {
        bucket: at.bucket.clone(),
        key: "gone.jsonl".into(),
    };
    let missing = shared::aws::s3::read_lines(&env.clients.s3, &gone, 10, |_| {}).await;
    assert_eq!(missing.unwrap(), None);
}

/// The bundled dev stage is serverless: SageMaker captures nothing there, so
/// the monitor skips it by design (not `failed`, not `no_new_capture`), and
/// the stages that capture are still checked.
#[tokio::test]
async fn a_serverless_stage_is_skipped_as_not_captured() {
    let env = Setup::new("serverless-dev").monitor().await;
    let out = tick(&env).await;
    let stages = out["stages"].as_array().unwrap();
    assert_eq!(stages[0]["stage"], "dev", "{out}");
    assert_eq!(stages[0]["traffic"], "not_captured", "{out}");
    assert!(
        stages[0]["reason"].as_str().unwrap().contains("serverless"),
        "{out}"
    );
    for stage in &stages[1..] {
        assert_eq!(stage["traffic"], "not_serving", "{out}");
    }
}

/// A stage outside its `active` window is skipped as `asleep` with its wake
/// time, not failed: it has no endpoint and no traffic.
#[tokio::test]
async fn a_sleeping_stage_is_skipped_until_it_wakes() {
    let (yaml, wakes) = integration_tests::fixtures::stages_with_asleep("pre-prod");
    let env = Setup::new("asleep").stages(yaml).monitor().await;
    let out = tick(&env).await;
    let pre_prod = &out["stages"][1];
    assert_eq!(pre_prod["traffic"], "asleep", "{out}");
    assert_eq!(
        pre_prod["wakes_at"],
        wakes.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(out["stages"][2]["traffic"], "not_serving", "{out}");
}
