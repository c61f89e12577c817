//! Permanent failures go straight to the function's dead-letter queue.
//!
//! Lambda retries a failed asynchronous invocation twice, whatever the error
//! type says, so a failure that can never succeed would burn both retries (and
//! minutes) before it reached the queue. Instead the invocation ends
//! successfully, with the event in the queue and the reason beside it, exactly
//! where the events of exhausted retries land; retryable failures still fail
//! the invocation, so Lambda retries them.

use crate::error::AwsError;
use aws_sdk_sqs::types::MessageAttributeValue;
use lambda_runtime::Diagnostic;
use serde_json::{json, Value};

/// The function's dead-letter queue.
pub struct DeadLetters {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub function: &'static str,
}

fn text(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("a string attribute has its type and value")
}

impl DeadLetters {
    pub fn new(sdk: &aws_config::SdkConfig, queue_url: &str, function: &'static str) -> Self {
        DeadLetters {
            client: aws_sdk_sqs::Client::new(sdk),
            queue_url: queue_url.to_string(),
            function,
        }
    }

    /// What the invocation returns: a success as it is; a retryable failure as
    /// it is (Lambda retries it); a permanent one in the queue, as a success
    /// `{"status": "dead_lettered", ...}`. If the queue cannot take it, the
    /// failure is returned, so Lambda's own dead-lettering still keeps it.
    pub async fn settle(
        &self,
        event: &Value,
        result: Result<Value, Diagnostic>,
    ) -> Result<Value, Diagnostic> {
        let failure = match result {
            Err(d) if crate::error::is_permanent(&d.error_type) => d,
            other => return other,
        };
        let sent = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(event.to_string())
            .message_attributes("ErrorCode", text(&failure.error_type))
            .message_attributes("ErrorMessage", text(&failure.error_message))
            .message_attributes("Function", text(self.function))
            .send()
            .await;
        match sent {
            Ok(out) => {
                let message_id = out.message_id().unwrap_or_default().to_string();
                tracing::error!(error_type = %failure.error_type, %message_id, "permanent failure: the event is in the dead-letter queue");
                crate::telemetry::Metrics::new(&[("Function", self.function)])
                    .put("DeadLettered", 1.0, crate::telemetry::Unit::Count)
                    .emit();
                Ok(json!({
                    "status": "dead_lettered",
                    "error_type": failure.error_type,
                    "message": failure.error_message,
                    "dead_letter_message_id": message_id,
                }))
            }
            Err(e) => {
                let e = AwsError::from_sdk("SQS", "SendMessage", e).on(&self.queue_url);
                tracing::error!(
                    "the event could not be dead-lettered ({e}); failing the invocation instead"
                );
                Err(failure)
            }
        }
    }
}
