//! The ETL Lambda's handler: parse the S3 event (either shape), process each
//! created object with the shared ETL service, report what happened.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::etl::service::EtlService;
use shared::events::s3;

pub async fn handle(service: &EtlService, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    // A `shared::Error` becomes a logged, classified Diagnostic through `?`.
    let notification = s3::parse(&event.payload)?;
    for ignored in &notification.ignored {
        tracing::warn!(record = %ignored, "ignored: not an S3 object creation");
    }
    let mut results = Vec::with_capacity(notification.objects.len());
    for object in &notification.objects {
        results.push(service.process(object).await?);
    }
    Ok(json!({ "results": results, "ignored": notification.ignored }))
}
