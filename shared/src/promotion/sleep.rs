//! Sleeping stages: outside a stage's `active` window its endpoint is deleted
//! (the desired-state record and the endpoint config stay), and when the window
//! opens the stage converges as usual: with no endpoint, its record's package
//! is deployed again (`CreateEndpoint` on the same config). A request recorded
//! while the stage sleeps is deployed when it wakes.
//!
//! SageMaker asks for an autoscaled variant to be deregistered before its
//! endpoint is deleted ("Update or delete endpoints that use auto scaling"),
//! so that comes first. An endpoint mid-deployment is left to finish; the next
//! tick deletes it.

use super::outcome::PromotionOutcome;
use super::promoter::PromotionService;
use super::scaling;
use crate::aws::sagemaker;
use crate::error::Error;
use crate::events::endpoint::EndpointState;
use crate::stages::{schedule, Serving, Stage};
use chrono::Utc;

impl PromotionService {
    /// `Some(Asleep)` when stage is outside its window at this moment (its
    /// endpoint deleted now if it still had one); `None` when it is awake or
    /// never sleeps.
    pub(super) async fn sleep_if_outside_window(
        &self,
        stage: &Stage,
        serving: Option<&Serving>,
    ) -> Result<Option<PromotionOutcome>, Error> {
        let Some(wakes_at) = stage.asleep_until(Utc::now()) else {
            return Ok(None);
        };
        let wakes_at = schedule::timestamp(wakes_at);
        let endpoint_status = match serving {
            None => "(none)".to_string(),
            Some(s) if s.state.is_busy() || s.state == EndpointState::Deleting => {
                tracing::info!(endpoint = %stage.endpoint, state = %s.state, "asleep, but the endpoint is busy: deleted at a later tick");
                s.state.to_string()
            }
            Some(_) => {
                // A no-op when the stage is not registered.
                scaling::deregister(&self.autoscaling, stage).await?;
                let deleted = self
                    .sagemaker
                    .delete_endpoint()
                    .endpoint_name(&stage.endpoint)
                    .send()
                    .await;
                sagemaker::found("DeleteEndpoint", &stage.endpoint, deleted)?;
                tracing::info!(stage = %stage.name, endpoint = %stage.endpoint, %wakes_at, "outside the stage's window: endpoint deleted (its record and config stay)");
                self.metric("StagesPutToSleep", &stage.name);
                "Deleting".to_string()
            }
        };
        Ok(Some(PromotionOutcome::Asleep {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            endpoint_status,
            wakes_at,
        }))
    }
}
