//! The training trigger against moto's SageMaker, S3 and EventBridge: a dataset
//! starts the pipeline with its parameters, the quality gate, a forged event,
//! failed-execution notifications, other pipelines, an unknown pipeline, the
//! definition. Exactly once per dataset is `start_pipeline_claims.rs`.

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use integration_tests::read_json;
use integration_tests::trigger::*;
use serde_json::{json, Value};
use shared::dataset::{DatasetId, OutputKind, TrainParts, TrainingFormat};
use shared::training::definition::{build, xgboost_image, DefinitionConfig};
use shared::training::parameters::{
    DATASET_ID, INSTANCE_COUNT, PER_DATASET, TRAINING_CONTENT_TYPE, TRAIN_DATA, VALIDATION_DATA,
};

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
    event["detail"]["outputs"] =
        json!(layout.output_uris(&id, TrainingFormat::Parquet, TrainParts::ONE));
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
    assert_eq!(parameters[INSTANCE_COUNT], "1");
}

/// A dataset whose train channel is in parts trains from the parts' folder, on
/// the configured instances but never more than it has parts (an instance
/// `ShardedByS3Key` gives nothing would fail the job on AWS).
#[tokio::test]
async fn a_dataset_in_parts_trains_from_its_folder_on_at_most_as_many_instances() {
    let mut env = env("parts", true).await;
    let mut report = housing_report().clone();
    report["options"]["train_parts"] = json!(4);
    put_report(&env, report).await;
    env.service.config.training_instances = 8;
    let out = invoke(&env.service, dataset_ready(&env.stack))
        .await
        .unwrap();
    assert_eq!(out["status"], "started", "{out}");
    let bucket = &env.stack.processed_bucket;
    assert_eq!(
        out["parameters"][TRAIN_DATA],
        format!("s3://{bucket}/datasets/{DATASET}/xgboost/train/")
    );
    assert_eq!(out["parameters"][INSTANCE_COUNT], "4");
    // Validation is never split: every instance evaluates on all of it.
    assert_eq!(
        out["parameters"][VALIDATION_DATA],
        format!("s3://{bucket}/datasets/{DATASET}/xgboost/validation/validation.csv")
    );
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
            stack_name: Some(env.stack.name.clone()),
        })
        .to_json(),
    )
    .unwrap();
    assert_eq!(stored, expected);
}
