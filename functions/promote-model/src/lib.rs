//! promote-model's handler: registry approvals, `PromoteModel` commands,
//! endpoint state changes and the schedule's tick, each handed to the shared
//! promotion service.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::events::promotion::{parse_promotion_event, PromotionEvent};
use shared::promotion::service::{PromotionOutcome, PromotionService};

pub async fn handle(
    service: &PromotionService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    // A `shared::Error` becomes a logged, classified Diagnostic through `?`.
    let outcome = match parse_promotion_event(&event.payload)? {
        PromotionEvent::PackageStateChange {
            id,
            account,
            region,
            change,
        } => {
            service
                .on_package_state_change(
                    &change,
                    id.as_deref(),
                    account.as_deref(),
                    region.as_deref(),
                )
                .await
        }
        PromotionEvent::Promote { id, command } => {
            service.on_promote(&command, id.as_deref()).await
        }
        PromotionEvent::EndpointState { id, change } => {
            service.on_endpoint_state(&change, id.as_deref()).await
        }
        PromotionEvent::Tick { id } => service.on_tick(id.as_deref()).await,
        PromotionEvent::Other(what) => {
            tracing::warn!(event = %what, "ignored: not an event promote-model handles");
            Ok(PromotionOutcome::Ignored {
                reason: format!("not handled: {what}"),
            })
        }
    }?;
    Ok(json!(outcome))
}
