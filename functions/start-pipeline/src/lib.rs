//! The training trigger's handler: `HousingDatasetReady` starts the pipeline
//! (once per dataset, behind the quality gate); pipeline status changes of our
//! pipeline are reported.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::events::pipeline::{parse_trigger_event, TriggerEvent};
use shared::training::trigger::{TriggerOutcome, TriggerService};

pub async fn handle(
    service: &TriggerService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    // A `shared::Error` becomes a logged, classified Diagnostic through `?`.
    let outcome = match parse_trigger_event(&event.payload)? {
        TriggerEvent::DatasetReady { dataset, id } => {
            tracing::info!(event_id = id.as_deref().unwrap_or("-"), dataset_id = %dataset.dataset_id, "HousingDatasetReady received");
            service.on_dataset_ready(&dataset).await
        }
        TriggerEvent::PipelineStatus(change) => service.on_pipeline_status(&change).await,
        TriggerEvent::Other(what) => {
            tracing::warn!(event = %what, "ignored: not an event the trigger handles");
            Ok(TriggerOutcome::Ignored {
                reason: format!("not handled: {what}"),
            })
        }
    }?;
    Ok(json!(outcome))
}
