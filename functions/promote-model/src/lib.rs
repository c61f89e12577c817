//! promote-model's handler: registry approvals, `PromoteModel` commands,
//! endpoint state changes and the schedule's tick, each handed to the shared
//! promotion service.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::events::promotion::{parse_promotion_event, PromotionEvent};
use shared::promotion::{PromotionOutcome, PromotionService};

pub async fn handle(
    service: &PromotionService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    // A `shared::Error` becomes a logged, classified Diagnostic through `?`.
    let outcome = match parse_promotion_event(&event.payload)? {
        PromotionEvent::PackageStateChange { origin, change } => {
            service.on_package_state_change(&change, &origin).await
        }
        PromotionEvent::Promote { origin, command } => service.on_promote(&command, &origin).await,
        PromotionEvent::EndpointState { origin, change } => {
            service.on_endpoint_state(&change, &origin).await
        }
        PromotionEvent::Tick { origin } => service.on_tick(&origin).await,
        PromotionEvent::Other(what) => {
            tracing::warn!(event = %what, "ignored: not an event promote-model handles");
            Ok(PromotionOutcome::Ignored {
                reason: format!("not handled: {what}"),
            })
        }
    }?;
    Ok(json!(outcome))
}
