//! The ETL Lambda's handler: parse the S3 event (either shape), process each
//! created object with the shared ETL service, report what happened.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::etl::service::EtlService;
use shared::events::s3;

/// Maps a failure to the runtime's diagnostic; its type says whether a retry can help.
pub fn diagnostic(err: &shared::Error) -> Diagnostic {
    Diagnostic {
        error_type: err.error_type(),
        error_message: err.to_string(),
    }
}

pub async fn handle(service: &EtlService, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let fail = |e: shared::Error| {
        tracing::error!(error_type = %e.error_type(), "{e}");
        diagnostic(&e)
    };
    let notification = s3::parse(&event.payload).map_err(fail)?;
    for ignored in &notification.ignored {
        tracing::warn!(record = %ignored, "ignored: not an S3 object creation");
    }
    let mut results = Vec::with_capacity(notification.objects.len());
    for object in &notification.objects {
        results.push(service.process(object).await.map_err(fail)?);
    }
    Ok(json!({ "results": results, "ignored": notification.ignored }))
}
