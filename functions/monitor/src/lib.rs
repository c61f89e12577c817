//! The traffic monitor's handler: the schedule's tick (`{"check": "traffic"}`,
//! the EventBridge Scheduler target's input) runs one check of every stage's
//! captured traffic; anything else is logged and ignored.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::monitoring::service::MonitorService;

/// The schedule's input.
pub const TICK: &str = "traffic";

pub async fn handle(
    service: &MonitorService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    if event.payload["check"] != TICK {
        tracing::warn!(event = %event.payload, "ignored: not the traffic monitor's schedule");
        return Ok(json!({"status": "ignored", "reason": "not {\"check\": \"traffic\"}"}));
    }
    // A failed stage becomes a logged, classified Diagnostic through `?` (the
    // other stages ran).
    let outcome = service.run().await.into_result()?;
    Ok(json!({"status": "checked", "stages": outcome.stages}))
}
