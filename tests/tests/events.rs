//! Every real S3 event example (public AWS payloads in tests/fixtures/aws-events)
//! and every sample in events/ parses to the object it names.

use integration_tests::{read_json, repo_root};
use serde_json::Value;
use shared::events::s3::{parse, ObjectCreated};

fn load(path: &str) -> Value {
    read_json(path)
}

fn only_object(path: &str) -> ObjectCreated {
    let parsed = parse(&load(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(parsed.ignored.is_empty(), "{path}: {:?}", parsed.ignored);
    assert_eq!(parsed.objects.len(), 1, "{path}");
    parsed.objects.into_iter().next().unwrap()
}

#[test]
fn eventbridge_object_created_examples_parse() {
    let docs = only_object("tests/fixtures/aws-events/s3-eventbridge-object-created.aws-docs.json");
    assert_eq!(docs.bucket, "DOC-EXAMPLE-BUCKET1");
    assert_eq!(docs.key, "example-key");
    assert_eq!(
        docs.version_id.as_deref(),
        Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e")
    );
    assert_eq!(
        docs.etag.as_deref(),
        Some("b1946ac92492d2347c6235b4d2611184")
    );
    assert_eq!(docs.size, Some(5));

    let powertools =
        only_object("tests/fixtures/aws-events/s3-eventbridge-object-created.powertools.json");
    assert_eq!(powertools.key, "IMG_m7fzo3.jpg");
}

#[test]
fn classic_notification_examples_parse_and_decode_keys() {
    let rust = only_object("tests/fixtures/aws-events/s3-notification-objectcreated-put.urlencoded-key.aws-lambda-rust-runtime.json");
    assert_eq!(rust.key, "Happy Face.jpg");
    assert_eq!(rust.raw_key, "Happy%20Face.jpg");

    let docs =
        only_object("tests/fixtures/aws-events/s3-notification-objectcreated-put.aws-docs.json");
    assert_eq!(
        (docs.bucket.as_str(), docs.key.as_str()),
        ("mybucket", "HappyFace.jpg")
    );
    assert_eq!(
        docs.version_id.as_deref(),
        Some("096fKKXTRTtl3on89fVO.nfljtsv6qko")
    );
    assert_eq!(docs.size, Some(1024));

    let powertools =
        only_object("tests/fixtures/aws-events/s3-notification-objectcreated-put.powertools.json");
    assert_eq!(powertools.key, "b21b84d653bb07b05b1e6b33684dc11b");
}

#[test]
fn the_sample_events_name_the_local_upload() {
    let eventbridge = only_object("events/etl/object-created.eventbridge.json");
    assert_eq!(
        (eventbridge.bucket.as_str(), eventbridge.key.as_str()),
        ("housing-mlops-local-raw", "incoming/housing.csv")
    );
    let classic = only_object("events/etl/object-created.s3-notification.json");
    assert_eq!(classic.key, "incoming/california housing (2026-11).csv");
    assert_eq!(
        classic.raw_key,
        "incoming/california+housing+%282026-11%29.csv"
    );
}

#[test]
fn every_sagemaker_example_is_ignored_by_the_etl() {
    let dir = repo_root().join("tests/fixtures/aws-events");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("sagemaker-") || !name.ends_with(".json") {
            continue;
        }
        let parsed = parse(&load(&format!("tests/fixtures/aws-events/{name}")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            parsed.objects.is_empty() && parsed.ignored.len() == 1,
            "{name}"
        );
    }
}

#[test]
fn pipeline_status_examples_parse() {
    use shared::events::pipeline::{parse_trigger_event, TriggerEvent};
    let cases = [
        ("tests/fixtures/aws-events/sagemaker-pipeline-execution-status-change.aws-docs.json", "Succeeded", "myPipeline-123"),
        ("tests/fixtures/aws-events/sagemaker-pipeline-execution-status-change.failed.aws-samples.json", "Failed", "abalone-pipeline"),
        ("events/start-pipeline/pipeline-execution-failed.json", "Failed", "housing-mlops-local-training"),
    ];
    for (path, status, pipeline) in cases {
        match parse_trigger_event(&load(path)).unwrap_or_else(|e| panic!("{path}: {e}")) {
            TriggerEvent::PipelineStatus(change) => {
                assert_eq!(change.current_pipeline_execution_status, status, "{path}");
                assert_eq!(change.pipeline_name(), pipeline, "{path}");
                assert!(
                    change.pipeline_execution_arn.contains("/execution/"),
                    "{path}"
                );
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    match parse_trigger_event(&load("events/start-pipeline/dataset-ready.json")).unwrap() {
        TriggerEvent::DatasetReady { dataset, .. } => {
            assert_eq!(
                dataset.dataset_id.as_str(),
                "ds-8a3727f4cf54ac1a327f69b1d5b4db54"
            );
            assert_eq!(dataset.summary.rows_in, 20_640);
        }
        other => panic!("{other:?}"),
    }
    // The step-level event is SageMaker's too, but not one the trigger handles.
    let step = load(
        "tests/fixtures/aws-events/sagemaker-pipeline-execution-step-status-change.aws-docs.json",
    );
    assert!(matches!(
        parse_trigger_event(&step).unwrap(),
        TriggerEvent::Other(_)
    ));
}

fn promotion_event(path: &str, event: &Value) -> shared::events::promotion::PromotionEvent {
    shared::events::promotion::parse_promotion_event(event)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn model_package_examples_parse_with_their_quirks() {
    use shared::events::promotion::PromotionEvent;
    use shared::events::EpochMillis;
    // Exactly as documented: `source` twice (the last, an array, wins), ISO times.
    let docs = "tests/fixtures/aws-events/sagemaker-model-package-state-change.aws-docs.json";
    let exact = load(docs);
    assert!(
        exact["source"].is_array(),
        "serde_json keeps the last `source`"
    );
    let normalized = load(
        "tests/fixtures/aws-events/sagemaker-model-package-state-change.aws-docs.normalized.json",
    );
    for event in [&exact, &normalized] {
        match promotion_event(docs, event) {
            PromotionEvent::PackageStateChange { change, origin } => {
                assert_eq!(
                    change.model_package_group_name,
                    "versionedmp-p-idy6c3e1fiqj"
                );
                assert_eq!(change.model_package_version, 2);
                assert_eq!(change.model_approval_status, "Rejected");
                assert!(!change.is_approved());
                assert_eq!(change.creation_time, Some(EpochMillis(1_614_186_014_000)));
                assert_eq!(
                    (origin.account.as_deref(), origin.region.as_deref()),
                    (Some("123456789012"), Some("us-east-2"))
                );
                assert_eq!(origin.id(), Some("844e2571-85d4-695f-b930-0153b71dcb42"));
            }
            other => panic!("{other:?}"),
        }
    }

    // The captured event with placeholders: not JSON as published (placeholders,
    // a trailing comma). Filled in, it parses: epoch-millisecond CreationTime,
    // ModelPackageName, no duplicate source.
    let text = std::fs::read_to_string(repo_root().join(
        "tests/fixtures/aws-events/sagemaker-model-package-state-change.aws-samples-drift-detection.redacted.txt",
    ))
    .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
    let filled = text
        .replace("<<account>>", "123456789012")
        .replace("<<region>>", "us-east-1")
        .replace("<<project_name>>", "drift-project")
        .replace("<<project_id>>", "p-abc")
        .replace("<<training-image>>", "image")
        .replace(
            "\"ModelPackageVersion\": <<version>>",
            "\"ModelPackageVersion\": 7",
        )
        .replace("<<version>>", "7")
        .replace("],\n        },", "]\n        },");
    let captured: Value = serde_json::from_str(&filled).expect("filled-in event is JSON");
    match promotion_event("drift-detection", &captured) {
        PromotionEvent::PackageStateChange { change, .. } => {
            assert_eq!(change.model_package_version, 7);
            assert!(change.is_approved());
            assert_eq!(change.creation_time, Some(EpochMillis(1_622_695_255_225)));
            assert_eq!(
                change.model_package_arn,
                "arn:aws:sagemaker:us-east-1:123456789012:model-package/drift-project/7"
            );
        }
        other => panic!("{other:?}"),
    }
    // A hand-written version as a string ("7") is accepted too.
    let mut string_version = normalized.clone();
    string_version["detail"]["ModelPackageVersion"] = "7".into();
    match promotion_event(docs, &string_version) {
        PromotionEvent::PackageStateChange { change, .. } => {
            assert_eq!(change.model_package_version, 7)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn endpoint_state_examples_parse() {
    use shared::events::endpoint::EndpointState;
    use shared::events::promotion::PromotionEvent;
    use shared::events::EpochMillis;
    let docs = "tests/fixtures/aws-events/sagemaker-endpoint-state-change.aws-docs.json";
    match promotion_event(docs, &load(docs)) {
        PromotionEvent::EndpointState { change, .. } => {
            assert_eq!(change.endpoint_name, "MyEndpoint");
            assert_eq!(change.state(), EndpointState::InService);
            assert_eq!(change.creation_time, Some(EpochMillis(1_592_411_992_203)));
            assert_eq!(
                change.endpoint_config_name.as_deref(),
                Some("MyEndpointConfig")
            );
        }
        other => panic!("{other:?}"),
    }
    let sample = "events/promote-model/endpoint-rolling-back.json";
    match promotion_event(sample, &load(sample)) {
        PromotionEvent::EndpointState { change, .. } => {
            assert_eq!(change.endpoint_name, "housing-mlops-pre-prod");
            assert_eq!(change.state(), EndpointState::RollingBack);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_promotion_samples_name_the_local_stack() {
    use shared::events::promotion::PromotionEvent;
    let approved = "events/promote-model/model-package-approved.json";
    match promotion_event(approved, &load(approved)) {
        PromotionEvent::PackageStateChange { change, .. } => {
            assert_eq!(
                change.model_package_group_name,
                "housing-mlops-local-training-models"
            );
            assert_eq!(change.model_package_version, 1);
            assert!(change.is_approved());
        }
        other => panic!("{other:?}"),
    }
    let promote = "events/promote-model/promote-to-pre-prod.json";
    match promotion_event(promote, &load(promote)) {
        PromotionEvent::Promote { command, .. } => {
            assert_eq!(command.target_stage, "pre-prod");
            assert_eq!(command.model_package_version, 1);
        }
        other => panic!("{other:?}"),
    }
    let tick = "events/promote-model/scheduled-tick.json";
    match promotion_event(tick, &load(tick)) {
        PromotionEvent::Tick { origin } => {
            assert_eq!(origin.id(), Some("6f1d2e3c-4b5a-4978-8c6d-5e4f3a2b1c0d"))
        }
        other => panic!("{other:?}"),
    }
    // A scheduled event from anything but EventBridge itself is not a tick.
    let mut forged = load(tick);
    forged["source"] = "housing-mlops.operator".into();
    assert!(matches!(
        promotion_event(tick, &forged),
        PromotionEvent::Other(_)
    ));
    // Every SageMaker fixture is routed: none is an unknown event to promote-model
    // except the pipeline ones, which belong to the trigger.
    for name in [
        "sagemaker-pipeline-execution-status-change.aws-docs.json",
        "sagemaker-pipeline-execution-step-status-change.aws-docs.json",
    ] {
        let path = format!("tests/fixtures/aws-events/{name}");
        assert!(
            matches!(
                promotion_event(&path, &load(&path)),
                PromotionEvent::Other(_)
            ),
            "{name}"
        );
    }
}
