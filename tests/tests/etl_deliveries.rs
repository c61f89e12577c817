//! How the ETL Lambda takes its deliveries, against moto: duplicate and concurrent
//! deliveries publish one dataset, URL-encoded keys are decoded, other buckets and
//! prefixes are skipped, a missing object and unexpected events fail without retry.

use integration_tests::etl::*;
use integration_tests::{housing, read_json, sample_event, Setup};
use serde_json::Value;

#[tokio::test]
async fn duplicate_deliveries_publish_one_dataset() {
    let env = env("dup").await;
    env.upload("incoming/housing.csv", housing()).await;
    // A copy of the same bytes under another key is the same dataset.
    env.upload("incoming/california housing (2026-11).csv", housing())
        .await;
    let first = deliver(&env, EVENTBRIDGE, "incoming/housing.csv")
        .await
        .unwrap();
    assert_eq!(result(&first)["status"], "processed");
    let id = result(&first)["dataset"]["dataset_id"].clone();
    let before = env.processed_keys().await;
    for (sample, key) in [
        (EVENTBRIDGE, "incoming/housing.csv"),
        (NOTIFICATION, "incoming/housing.csv"),
        (
            NOTIFICATION,
            "incoming/california+housing+%282026-11%29.csv",
        ),
    ] {
        let again = deliver(&env, sample, key).await.unwrap();
        assert_eq!(result(&again)["status"], "duplicate", "{again}");
        assert_eq!(result(&again)["dataset_id"], id);
    }
    assert_eq!(env.processed_keys().await, before);
    assert_eq!(env.events().await.len(), 1);
}

#[tokio::test]
async fn concurrent_deliveries_converge_on_one_dataset() {
    let env = env("race").await;
    env.upload("incoming/housing.csv", housing()).await;
    let delivery = || deliver(&env, EVENTBRIDGE, "incoming/housing.csv");
    let (a, b) = tokio::join!(delivery(), delivery());
    let statuses = [
        result(&a.unwrap())["status"].clone(),
        result(&b.unwrap())["status"].clone(),
    ];
    assert!(statuses.contains(&Value::from("processed")), "{statuses:?}");
    let events = env.events().await;
    assert!((1..=2).contains(&events.len()));
    assert!(events
        .iter()
        .all(|e| e["detail"]["dataset_id"] == "ds-8a3727f4cf54ac1a327f69b1d5b4db54"));
    let markers = env.processed_keys().await;
    assert_eq!(
        markers.iter().filter(|k| k.ends_with("_SUCCESS")).count(),
        1
    );
}

#[tokio::test]
async fn url_encoded_keys_are_decoded() {
    let env = env("encoded").await;
    let key = "incoming/california housing (2026-11).csv";
    env.upload(key, housing()).await;
    let response = deliver(
        &env,
        NOTIFICATION,
        "incoming/california+housing+%282026-11%29.csv",
    )
    .await
    .unwrap();
    assert_processed_from(&env, &response, key);
}

#[tokio::test]
async fn an_unencoded_plus_in_an_eventbridge_key_still_finds_the_object() {
    let env = env("plus").await;
    env.upload("incoming/a+b.csv", housing()).await;
    let response = deliver(&env, EVENTBRIDGE, "incoming/a+b.csv")
        .await
        .unwrap();
    assert_processed_from(&env, &response, "incoming/a+b.csv");
}

#[tokio::test]
async fn a_missing_object_is_a_non_retryable_error() {
    let env = env("missing").await;
    let err = deliver(&env, EVENTBRIDGE, "incoming/nothing-here.csv")
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.NotFound");
    assert!(
        err.error_message.contains("incoming/nothing-here.csv"),
        "{}",
        err.error_message
    );
}

#[tokio::test]
async fn other_buckets_and_prefixes_are_skipped() {
    let env = Setup::new("skip")
        .var("RAW_PREFIX", "incoming/")
        .etl()
        .await;
    let other = invoke(
        &env,
        sample_event(EVENTBRIDGE, "someone-elses-bucket", "incoming/housing.csv").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(result(&other)["status"], "skipped");
    let outside = deliver(&env, EVENTBRIDGE, "archive/housing.csv")
        .await
        .unwrap();
    assert_eq!(result(&outside)["status"], "skipped");
}

#[tokio::test]
async fn unexpected_events_fail_without_retry() {
    let env = env("shape").await;
    let err = invoke(&env, serde_json::json!({"hello": "world"}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.UnexpectedEvent");
    let endpoint_event =
        read_json("tests/fixtures/aws-events/sagemaker-endpoint-state-change.aws-docs.json");
    let ignored = invoke(&env, endpoint_event).await.unwrap();
    assert_eq!(ignored["results"].as_array().map(Vec::len), Some(0));
    assert_eq!(ignored["ignored"].as_array().map(Vec::len), Some(1));
}
