//! Publishing to the project's EventBridge bus.

use crate::error::{AwsError, Error};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use serde::Serialize;

/// Puts one event on `bus`; returns its EventBridge id. A rejected entry is an
/// error (retryable unless EventBridge says the entry itself is bad).
pub async fn publish<T: Serialize>(
    client: &Client,
    bus: &str,
    source: &str,
    detail_type: &str,
    detail: &T,
) -> Result<String, Error> {
    let detail = serde_json::to_string(detail)
        .map_err(|e| Error::Internal(format!("serialising the {detail_type} detail: {e}")))?;
    let entry = PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(source)
        .detail_type(detail_type)
        .detail(detail)
        .build();
    let out = client
        .put_events()
        .entries(entry)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("EventBridge", "PutEvents", e).on(bus))?;
    let first = out.entries().first();
    match first.and_then(|e| e.event_id()) {
        Some(id) if out.failed_entry_count() == 0 => Ok(id.to_string()),
        _ => {
            let code = first.and_then(|e| e.error_code()).map(str::to_string);
            let retryable = !matches!(
                code.as_deref(),
                Some(
                    "MalformedDetail"
                        | "InvalidArgument"
                        | "AccessDeniedException"
                        | "NotAuthorizedForSourceException"
                )
            );
            let message = first
                .and_then(|e| e.error_message())
                .unwrap_or("entry rejected without a message");
            // The call succeeded but EventBridge refused the entry: still AWS's word.
            Err(AwsError {
                service: "EventBridge",
                operation: "PutEvents",
                resource: Some(bus.to_string()),
                code,
                status: None,
                retryable,
                message: format!("{detail_type} entry rejected: {message}"),
            }
            .into())
        }
    }
}
