//! The batch scoring's handler: a file created under the scoring prefix (the
//! ETL's two S3 event shapes) starts its transform job; a transform job's
//! state change finishes its run; the schedule's tick (`{"check": "scoring"}`)
//! finishes every run whose job event was lost. Each is handed to the shared
//! scoring service.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::events::scoring::{parse, ScoringEvent};
use shared::scoring::outcome::{check_result, Outcome};
use shared::scoring::service::ScoringService;

pub async fn handle(
    service: &ScoringService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    // A `shared::Error` becomes a logged, classified Diagnostic through `?`.
    match parse(&event.payload)? {
        ScoringEvent::Files(files) => {
            for ignored in &files.ignored {
                tracing::warn!(record = %ignored, "ignored: not an S3 object creation");
            }
            let mut outcomes = Vec::with_capacity(files.objects.len());
            for object in &files.objects {
                outcomes.push(service.start(object).await?);
            }
            Ok(json!({"outcomes": outcomes, "ignored": files.ignored}))
        }
        ScoringEvent::Job(change) if !change.has_ended() => {
            Ok(json!({"outcomes": [Outcome::Waiting {
                id: change.transform_job_name,
                status: change.transform_job_status,
            }]}))
        }
        ScoringEvent::Job(change) => {
            let outcome = service.finish(&change.transform_job_name).await?;
            Ok(json!({ "outcomes": [outcome] }))
        }
        ScoringEvent::Check => {
            // Every run is tried; one that errored fails the invocation after.
            let outcomes = check_result(service.check().await?)?;
            Ok(json!({ "outcomes": outcomes }))
        }
        ScoringEvent::Other(what) => {
            tracing::warn!(event = %what, "ignored: not an event the scoring handles");
            Ok(json!({"outcomes": [Outcome::Ignored(format!("not handled: {what}"))]}))
        }
    }
}
