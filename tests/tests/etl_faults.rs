//! Faults the emulator cannot produce, with aws-smithy-mocks: S3 503 SlowDown
//! (retried by the SDK, then processed), retries exhausted (a retryable Lambda
//! error), AccessDenied (non-retryable), a bare 400 (one line for people),
//! EventBridge rejecting an entry.

use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use integration_tests::{Clients, Setup, Stack};
use shared::dataset::TrainingFormat;
use shared::etl::service::{EtlService, Outcome};
use shared::events::s3::ObjectCreated;
use std::time::Duration;

const KEY: &str = "incoming/small.csv";

fn small_csv() -> Vec<u8> {
    let text =
        std::fs::read_to_string(integration_tests::repo_root().join("data/housing.csv")).unwrap();
    (text.lines().take(101).collect::<Vec<_>>().join("\n") + "\n").into_bytes()
}

fn slow_down() -> (u16, Option<String>) {
    (503, Some("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".into()))
}

/// A mocked S3 where HEAD of the raw object succeeds, HEAD of anything else is
/// 404, PUTs succeed, and GET follows `get`.
fn s3_with(get: &Rule) -> (aws_sdk_s3::Client, [Rule; 3]) {
    let size = small_csv().len() as i64;
    let head_raw = mock!(aws_sdk_s3::Client::head_object)
        .match_requests(|r| r.key() == Some(KEY))
        .then_output(move || {
            HeadObjectOutput::builder()
                .content_length(size)
                .e_tag("\"etag\"")
                .build()
        });
    let head_other = mock!(aws_sdk_s3::Client::head_object)
        .sequence()
        .http_status(404, None)
        .repeatedly()
        .build();
    let put =
        mock!(aws_sdk_s3::Client::put_object).then_output(|| PutObjectOutput::builder().build());
    let client = mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&head_raw, get, &head_other, &put],
        |c| c
            .retry_config(
                aws_sdk_s3::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
            )
            .force_path_style(true)
    );
    (client, [head_raw, head_other, put])
}

/// The service with a mocked S3 client and moto's Glue and EventBridge.
async fn service(s3: aws_sdk_s3::Client) -> (EtlService, Stack, Clients) {
    let env = Setup::new("fault").etl().await;
    let mut service = env.service;
    service.s3 = s3;
    (service, env.stack, env.clients)
}

fn object(stack: &Stack) -> ObjectCreated {
    ObjectCreated {
        bucket: stack.raw_bucket.clone(),
        key: KEY.into(),
        raw_key: KEY.into(),
        version_id: None,
        etag: None,
        size: None,
    }
}

#[tokio::test]
async fn s3_slow_down_is_retried_then_processed() {
    let get = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(slow_down().0, slow_down().1)
        .times(2)
        .output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from(small_csv()))
                .build()
        })
        .build();
    let (s3, _rules) = s3_with(&get);
    let (service, stack, clients) = service(s3).await;
    let result = service
        .process(&object(&stack))
        .await
        .expect("processed after retries");
    assert!(
        matches!(result.outcome, Outcome::Processed { .. }),
        "{result:?}"
    );
    assert_eq!(get.num_calls(), 3, "two 503s, then the object");
    assert_eq!(stack.received_events(&clients).await.unwrap().len(), 1);
}

#[tokio::test]
async fn s3_slow_down_past_the_retries_is_a_retryable_failure() {
    let get = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(slow_down().0, slow_down().1)
        .repeatedly()
        .build();
    let (s3, _rules) = s3_with(&get);
    let (service, stack, clients) = service(s3).await;
    let err = service.process(&object(&stack)).await.expect_err("fails");
    assert!(err.retryable(), "{err}");
    assert_eq!(err.error_type(), "Retryable.SlowDown");
    assert_eq!(get.num_calls(), 3);
    assert!(stack.received_events(&clients).await.unwrap().is_empty());
}

#[tokio::test]
async fn s3_access_denied_is_not_retried() {
    let body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
    let get = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(403, Some(body.into()))
        .repeatedly()
        .build();
    let (s3, _rules) = s3_with(&get);
    let (service, stack, _) = service(s3).await;
    let err = service.process(&object(&stack)).await.expect_err("fails");
    assert!(!err.retryable(), "{err}");
    assert_eq!(err.error_type(), "NonRetryable.AccessDenied");
    assert!(err.to_string().contains("Access Denied"), "{err}");
    assert_eq!(get.num_calls(), 1, "a non-retryable error is not retried");
}

/// Ephemeral storage with no room left.
struct FullDisk;

impl std::io::Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::StorageFull.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_disk_while_downloading_is_retryable() {
    let get = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from(small_csv()))
            .build()
    });
    let (s3, _rules) = s3_with(&get);
    let loc = shared::aws::S3Location {
        bucket: "raw".into(),
        key: KEY.into(),
    };
    let err = shared::aws::s3::download(&s3, &loc, None, &mut FullDisk)
        .await
        .unwrap_err();
    assert!(err.retryable(), "{err}");
    assert_eq!(err.error_type(), "Retryable.DiskFull");
    assert!(
        err.to_string().contains("s3://raw/incoming/small.csv"),
        "{err}"
    );
}

#[tokio::test]
async fn a_bare_s3_400_is_one_line_naming_the_call_and_the_object() {
    // S3 answers HEAD without a body: no code, no message, only the status.
    let head = mock!(aws_sdk_s3::Client::head_object)
        .sequence()
        .http_status(400, None)
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head], |c| c
        .force_path_style(true));
    let (service, stack, _) = service(client).await;
    let err = service.process(&object(&stack)).await.expect_err("fails");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(
        diagnostic.error_message,
        format!(
            "S3 HeadObject s3://{}/{KEY} failed (HTTP 400)",
            stack.raw_bucket
        )
    );
    assert_eq!(diagnostic.error_type, "NonRetryable.S3Error");
}

#[tokio::test]
async fn an_eventbridge_entry_failure_is_retryable_and_leaves_no_marker() {
    let get = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from(small_csv()))
            .build()
    });
    let (s3, [_, _, put]) = s3_with(&get);
    let (mut service, stack, _) = service(s3).await;
    let put_events = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
        PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("InternalFailure")
                    .error_message("try again")
                    .build(),
            )
            .build()
    });
    service.events = mock_client!(aws_sdk_eventbridge, [&put_events]);
    let err = service.process(&object(&stack)).await.expect_err("fails");
    assert!(err.retryable(), "{err}");
    assert_eq!(err.error_type(), "Retryable.InternalFailure");
    // Every output was written (11: three Parquet, three XGBoost CSV, the
    // quarantine, the report, the profile and its Model Monitor forms); the completion
    // marker was not (so a retry redoes the work).
    assert_eq!(put.num_calls(), TrainingFormat::Csv.outputs().count());
}
