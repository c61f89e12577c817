//! What promote-model does for each event.
//!
//! Every request becomes the stage's desired-state record first
//! ([`super::desired`]), then the stage converges to it (`converge.rs`):
//!
//! - **Approval** (registry "Approved", allowed group, our account and region):
//!   the group's *latest* approved version becomes the first stage's record, so
//!   a late or re-delivered approval of an older version never downgrades it.
//! - **`PromoteModel`** (group, version, target stage): refused unless that
//!   package is InService on the stage before; then the target's record.
//! - **Endpoint state change** of a stage's endpoint: a rollback or a failure is
//!   published with a metric (a rollback halts the record: the stage is not
//!   redeployed with what its alarms rejected); InService converges the stage,
//!   and once it serves its record, moves the package on to the next stage when
//!   that stage has no manual gate.
//! - **The schedule's tick** does for every stage what InService does: nothing
//!   waits on an event that was lost or never came (an endpoint deleted by hand).
//!
//! Converging never fails on a busy endpoint: the record waits for the next
//! InService or tick. Packages are read from the registry by [`registry`], what
//! a stage serves by [`endpoints`]; the deployment step itself (no-op, busy, no
//! downgrade, quality gate, then the SageMaker writes and `ModelPromoted`) is
//! `deploy.rs`.

use super::desired::Cause;
use super::outcome::{ignored, Advance, PromotionOutcome, Request};
use super::promoter::PromotionService;
use super::registry;
use crate::aws::bus;
use crate::error::Error;
use crate::events::endpoint::{EndpointState, EndpointStateChange};
use crate::events::promotion::{
    DeploymentReport, PromoteModel, PromotionRefused, DEPLOYMENT_FAILED, DEPLOYMENT_ROLLED_BACK,
    PROMOTION_SOURCE,
};
use crate::events::registry::{ModelPackageStateChange, APPROVED};
use crate::events::Origin;
use crate::stages;

impl PromotionService {
    /// A registry state change: an approval deploys the group's latest approved
    /// version to the first stage.
    #[tracing::instrument(skip_all, fields(group = %change.model_package_group_name, version = change.model_package_version))]
    pub async fn on_package_state_change(
        &self,
        change: &ModelPackageStateChange,
        origin: &Origin,
    ) -> Result<PromotionOutcome, Error> {
        let (account, region) = (origin.account.as_deref(), origin.region.as_deref());
        if account != Some(self.config.account_id.as_str()) {
            return ignored(format!(
                "event from account {}, not {}",
                account.unwrap_or("(none)"),
                self.config.account_id
            ));
        }
        if region != Some(self.config.region.as_str()) {
            return ignored(format!(
                "event from region {}, not {}",
                region.unwrap_or("(none)"),
                self.config.region
            ));
        }
        if !change.is_approved() {
            // Withdrawn: the stages that serve it converge (`withdraw.rs`).
            let mut stages = Vec::new();
            for (index, stage) in self.config.stages.iter().enumerate() {
                let serving = stages::serving(&self.sagemaker, &stage.endpoint).await?;
                if serving.is_some_and(|s| s.is_of(&change.model_package_arn)) {
                    stages.push(self.converge(index).await?);
                }
            }
            if !stages.is_empty() {
                return Ok(PromotionOutcome::Reconciled { stages });
            }
            return ignored(format!(
                "{} v{} is {}, not {APPROVED}",
                change.model_package_group_name,
                change.model_package_version,
                change.model_approval_status
            ));
        }
        let group = &change.model_package_group_name;
        if !self.config.allows(group) {
            tracing::warn!("approval in a group that is not on MODEL_PACKAGE_GROUPS");
            self.metric("PromotionsIgnored", &self.config.stages.first().name);
            return ignored(format!(
                "model package group {group} is not on the allow-list"
            ));
        }
        let Some(latest) = registry::latest_approved(&self.sagemaker, group).await? else {
            return ignored(format!("no approved package in {group} any more"));
        };
        if latest.version != change.model_package_version {
            tracing::info!(
                latest = latest.version,
                "the event names another version than the latest approved; deploying the latest"
            );
        }
        let request = Request {
            source_event_id: origin.id(),
            ..Request::default()
        };
        self.want(0, &latest, Cause::Approval, request).await
    }

    /// `PromoteModel`: the package goes to the target stage if it is InService on
    /// the stage before.
    #[tracing::instrument(skip_all, fields(group = %command.model_package_group, version = command.model_package_version, stage = %command.target_stage))]
    pub async fn on_promote(
        &self,
        command: &PromoteModel,
        origin: &Origin,
    ) -> Result<PromotionOutcome, Error> {
        let event_id = origin.id();
        let request = Request {
            source_event_id: event_id,
            requested_by: command.requested_by.as_deref(),
            explicit: true,
            rollback: false,
        };
        let refusal = |reason: &str, message: String| PromotionRefused {
            stage: command.target_stage.clone(),
            model_package_group: command.model_package_group.clone(),
            model_package_version: command.model_package_version,
            model_package_arn: None,
            reason: reason.into(),
            message,
            rmse_metric: None,
            candidate_rmse: None,
            serving_rmse: None,
            rmse_tolerance: None,
            serving_model_package_arn: None,
            source_event_id: event_id.map(str::to_string),
            requested_by: command.requested_by.clone(),
        };
        let group = &command.model_package_group;
        if !self.config.allows(group) {
            let message = format!("model package group {group} is not on the allow-list");
            return self.refuse(refusal("UnknownGroup", message)).await;
        }
        let Some((index, _)) = self.config.stages.find(&command.target_stage) else {
            let known = self.config.stages.names();
            let message = format!(
                "no stage {:?} (stages: {})",
                command.target_stage,
                known.join(", ")
            );
            return self.refuse(refusal("UnknownStage", message)).await;
        };
        if index == 0 {
            let message = format!(
                "{} is deployed by approving a package in the registry, not by PromoteModel",
                command.target_stage
            );
            return self.refuse(refusal("FirstStage", message)).await;
        }
        let Some(package) =
            registry::find(&self.sagemaker, group, command.model_package_version).await?
        else {
            let message = format!("{group} has no version {}", command.model_package_version);
            return self.refuse(refusal("UnknownPackage", message)).await;
        };
        if package.approval != APPROVED {
            let message = format!(
                "{group} v{} is {}, not {APPROVED}",
                package.version, package.approval
            );
            let mut refused = refusal("NotApproved", message);
            refused.model_package_arn = Some(package.arn.clone());
            return self.refuse(refused).await;
        }
        let previous = self.config.stages.at(index - 1);
        let serving = stages::serving(&self.sagemaker, &previous.endpoint).await?;
        let serves_it = serving.as_ref().is_some_and(|s| s.serves(&package.arn));
        if !serves_it {
            let now = match &serving {
                None => "does not exist".to_string(),
                Some(s) => format!(
                    "is {} serving {}",
                    s.state,
                    s.lineage
                        .as_ref()
                        .map_or("an untagged config".to_string(), |l| format!(
                            "{} v{}",
                            l.model_package_group, l.model_package_version
                        ))
                ),
            };
            let message = format!(
                "{group} v{} must be InService on {} ({}) before {}; that endpoint {now}",
                package.version, previous.name, previous.endpoint, command.target_stage
            );
            let mut refused = refusal("PreviousStageNotServing", message);
            refused.model_package_arn = Some(package.arn.clone());
            return self.refuse(refused).await;
        }
        self.want(index, &package, Cause::Promote, request).await
    }

    /// An endpoint state change: rollbacks and failures are published; InService
    /// moves the package on when the next stage has no manual gate.
    #[tracing::instrument(skip_all, fields(endpoint = %change.endpoint_name, status = %change.endpoint_status))]
    pub async fn on_endpoint_state(
        &self,
        change: &EndpointStateChange,
        origin: &Origin,
    ) -> Result<PromotionOutcome, Error> {
        let event_id = origin.id();
        let Some((index, stage)) = self.config.stages.by_endpoint(&change.endpoint_name) else {
            return ignored(format!(
                "endpoint {} is not a stage's",
                change.endpoint_name
            ));
        };
        let state = change.state();
        let report = DeploymentReport {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            endpoint_status: state.to_string(),
            endpoint_config: change.endpoint_config_name.clone(),
            source_event_id: event_id.map(str::to_string),
        };
        let detail_type = match state {
            EndpointState::RollingBack => DEPLOYMENT_ROLLED_BACK,
            EndpointState::Failed | EndpointState::UpdateRollbackFailed => DEPLOYMENT_FAILED,
            EndpointState::InService => return self.reconcile(index, event_id).await,
            other => return ignored(format!("{} is {other}: nothing to do", stage.endpoint)),
        };
        bus::publish(
            &self.events,
            &self.config.event_bus,
            PROMOTION_SOURCE,
            detail_type,
            &report,
        )
        .await?;
        tracing::warn!(stage = %stage.name, %state, "deployment {detail_type}");
        self.metric(detail_type, &stage.name);
        if state == EndpointState::RollingBack {
            // Its alarms rejected the model: converging must not deploy it again.
            if let Some(read) = self.desired.read(&stage.name).await? {
                if read.desired.started().is_some() {
                    let message = format!(
                        "{} rolled back the deployment of {}",
                        stage.endpoint, read.desired.model_package_arn
                    );
                    self.halt(read, "RolledBack", message).await?;
                }
            }
        }
        Ok(PromotionOutcome::Reported {
            detail_type: detail_type.into(),
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            endpoint_status: state.to_string(),
        })
    }

    /// The schedule's tick: every stage, in order, converges as if its endpoint
    /// had just reported InService (and what it serves moves on). A stage that
    /// fails does not stop the others; the first failure is returned after all
    /// were tried.
    #[tracing::instrument(skip_all)]
    pub async fn on_tick(&self, origin: &Origin) -> Result<PromotionOutcome, Error> {
        let event_id = origin.id();
        let mut stages = Vec::new();
        let mut failed = None;
        for (index, stage) in self.config.stages.iter().enumerate() {
            let converged = async {
                let outcome = self.converge(index).await?;
                if outcome.is_settled() {
                    if let Advance::Stays(reason) = self.advance(index, event_id).await? {
                        tracing::debug!(stage = %stage.name, "not moved on: {reason}");
                    }
                }
                Ok::<_, Error>(outcome)
            };
            match converged.await {
                Ok(outcome) => stages.push(outcome),
                Err(e) => {
                    tracing::error!(stage = %stage.name, "converging failed: {e}");
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(PromotionOutcome::Reconciled { stages }),
        }
    }
}
