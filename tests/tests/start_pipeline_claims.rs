//! The training trigger starts exactly one execution per dataset: 100 deliveries
//! (20 at a time) → 1 execution, Lambda's retry after a crash takes the claim
//! over, every call is time-limited, and throttled starts (aws-smithy-mocks)
//! release the claim.

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use integration_tests::trigger::*;
use shared::aws::{ATTEMPT_TIMEOUT, CALL_TIMEOUT, CONNECT_TIMEOUT};
use shared::dataset::OutputKind;
use shared::training::config::FIRST_RETRY_SECONDS;
use std::sync::Arc;

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
