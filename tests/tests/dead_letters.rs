//! Permanent failures go to the function's dead-letter queue at once (moto's
//! SQS): the event as the body, the reason as attributes, and the invocation
//! ends successfully; retryable failures and successes pass through.

use integration_tests::{Function, Setup};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::aws::dead_letters::DeadLetters;

/// Every message in `queue_url` (drains it): body and attributes.
async fn messages(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Vec<(Value, Vec<(String, String)>)> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    out.messages()
        .iter()
        .map(|m| {
            let mut attributes: Vec<(String, String)> = m
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_string()))
                .collect();
            attributes.sort();
            (serde_json::from_str(m.body().unwrap()).unwrap(), attributes)
        })
        .collect()
}

#[tokio::test]
async fn a_malformed_event_is_dead_lettered_at_once_and_the_invocation_succeeds() {
    let env = Setup::new("dlq-etl").etl().await;
    let queue = env.stack.dead_letter_urls[Function::Etl.name()].clone();
    assert_eq!(env.service.config.dead_letter_queue, queue);
    let dead_letters = DeadLetters::new(&env.sdk, &queue, "etl");

    let event =
        json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": 7}});
    let result = etl::handle(
        &env.service,
        LambdaEvent::new(event.clone(), Context::default()),
    )
    .await;
    let error_type = result.as_ref().unwrap_err().error_type.clone();
    assert_eq!(error_type, "NonRetryable.UnexpectedEvent");

    let out = dead_letters.settle(&event, result).await.unwrap();
    assert_eq!(out["status"], "dead_lettered", "{out}");
    assert_eq!(out["error_type"], "NonRetryable.UnexpectedEvent");
    let kept = messages(&env.clients.sqs, &queue).await;
    assert_eq!(kept.len(), 1);
    let (body, attributes) = &kept[0];
    assert_eq!(body, &event, "the event, as delivered, for a redrive");
    let names: Vec<&str> = attributes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["ErrorCode", "ErrorMessage", "Function"]);
    assert_eq!(attributes[0].1, "NonRetryable.UnexpectedEvent");
    assert!(
        attributes[1].1.contains("unexpected event"),
        "{attributes:?}"
    );
    assert_eq!(attributes[2].1, "etl");
}

#[tokio::test]
async fn retryable_failures_and_successes_pass_through() {
    let env = Setup::new("dlq-pass").etl().await;
    let queue = env.stack.dead_letter_urls[Function::Etl.name()].clone();
    let dead_letters = DeadLetters::new(&env.sdk, &queue, "etl");
    let event = json!({"any": "event"});
    let retryable = Diagnostic {
        error_type: "Retryable.SlowDown".into(),
        error_message: "S3 GetObject failed (HTTP 503 SlowDown)".into(),
    };
    let err = dead_letters
        .settle(&event, Err(retryable))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Retryable.SlowDown", "Lambda retries it");
    let ok = dead_letters
        .settle(&event, Ok(json!({"status": "processed"})))
        .await
        .unwrap();
    assert_eq!(ok["status"], "processed");
    assert!(messages(&env.clients.sqs, &queue).await.is_empty());
}

#[tokio::test]
async fn a_queue_that_cannot_take_it_leaves_the_failure_to_lambda() {
    let env = Setup::new("dlq-gone").etl().await;
    let gone = format!(
        "{}-not-there",
        env.stack.dead_letter_urls[Function::Etl.name()]
    );
    let dead_letters = DeadLetters::new(&env.sdk, &gone, "etl");
    let permanent = Diagnostic {
        error_type: "NonRetryable.AccessDenied".into(),
        error_message: "S3 GetObject s3://raw/x failed (HTTP 403 AccessDenied)".into(),
    };
    let err = dead_letters
        .settle(&json!({}), Err(permanent))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.AccessDenied");
}
