//! The training trigger's handler: `HousingDatasetReady` starts the pipeline
//! (once per dataset, after the drift check, behind the quality gate and `retrain_on`); pipeline status changes of our
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
            json!(service.on_dataset_ready(&dataset).await?)
        }
        TriggerEvent::PipelineStatus(change) => json!(service.on_pipeline_status(&change).await?),
        TriggerEvent::Other(what) => {
            tracing::warn!(event = %what, "ignored: not an event the trigger handles");
            json!(TriggerOutcome::Ignored {
                reason: format!("not handled: {what}"),
            })
        }
    };
    Ok(outcome)
}
