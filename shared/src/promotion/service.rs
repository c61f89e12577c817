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

use super::config::PromoteConfig;
use super::desired::{Cause, DesiredStates};
use super::endpoints;
use super::lineage;
use super::registry;
use crate::aws::bus;
use crate::error::Error;
use crate::events::endpoint::{EndpointState, EndpointStateChange};
use crate::events::promotion::{
    DeploymentReport, PromoteModel, PromotionRefused, DEPLOYMENT_FAILED, DEPLOYMENT_ROLLED_BACK,
    PROMOTION_SOURCE,
};
use crate::events::registry::{ModelPackageStateChange, APPROVED};
use crate::telemetry::{Metrics, Unit};
use serde::Serialize;

const FUNCTION: &str = "promote-model";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PromotionOutcome {
    /// A deployment started: the endpoint is being created or updated.
    Deploying {
        stage: String,
        endpoint: String,
        action: String,
        endpoint_config: String,
        model: String,
        model_package_arn: String,
        deployment: String,
    },
    /// The stage already serves this package with these settings (or a newer one).
    AlreadyServing {
        stage: String,
        endpoint: String,
        endpoint_config: String,
        model_package_arn: Option<String>,
    },
    /// The stage is already being deployed to with this config.
    AlreadyDeploying {
        stage: String,
        endpoint: String,
        endpoint_config: String,
    },
    /// Refused, and `PromotionRefused` published.
    Refused {
        stage: String,
        reason: String,
        message: String,
    },
    /// A rollback or failure, published.
    Reported {
        detail_type: String,
        stage: String,
        endpoint: String,
        endpoint_status: String,
    },
    /// Recorded as the stage's desired state; the endpoint is mid-deployment,
    /// and the stage converges when it reports InService (or on the tick).
    Waiting {
        stage: String,
        endpoint: String,
        endpoint_status: String,
        model_package_arn: String,
    },
    /// Recorded, but the endpoint cannot be deployed to (Failed, ...): a person
    /// inspects and deletes it, and the tick recreates it.
    Blocked {
        stage: String,
        endpoint: String,
        endpoint_status: String,
        message: String,
    },
    /// The stage's record is halted (refused, rolled back, withdrawn): it stays
    /// as it is until a new approval or `PromoteModel`.
    Halted {
        stage: String,
        reason: String,
        model_package_arn: String,
    },
    /// The stage has no desired-state record.
    NothingRecorded {
        stage: String,
    },
    /// The tick: what converging each stage did, in stage order.
    Reconciled {
        stages: Vec<PromotionOutcome>,
    },
    Ignored {
        reason: String,
    },
}

impl PromotionOutcome {
    /// The stage's endpoint serves what it should for now: nothing to deploy
    /// there, so what it serves may move on.
    pub(super) fn is_settled(&self) -> bool {
        matches!(
            self,
            Self::AlreadyServing { .. }
                | Self::Halted { .. }
                | Self::Refused { .. }
                | Self::NothingRecorded { .. }
        )
    }
}

/// Why a deployment is asked for, for the published events.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Request<'a> {
    pub(super) source_event_id: Option<&'a str>,
    pub(super) requested_by: Option<&'a str>,
    /// A person asked (`PromoteModel`): an older version than the serving one
    /// is refused out loud rather than skipped.
    pub(super) explicit: bool,
}

pub struct PromotionService {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub desired: DesiredStates,
    pub config: PromoteConfig,
}

pub(super) fn ignored(reason: String) -> Result<PromotionOutcome, Error> {
    tracing::info!(%reason, "ignored");
    Ok(PromotionOutcome::Ignored { reason })
}

impl PromotionService {
    pub fn new(sdk: &aws_config::SdkConfig, config: PromoteConfig) -> Self {
        PromotionService {
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            desired: DesiredStates {
                s3: crate::aws::s3_client(sdk, config.aws),
                root: config.state.clone(),
            },
            config,
        }
    }

    pub(super) fn metric(&self, name: &str, stage: &str) {
        Metrics::new(&[("Function", FUNCTION), ("Stage", stage)])
            .put(name, 1.0, Unit::Count)
            .emit();
    }

    /// A registry state change: an approval deploys the group's latest approved
    /// version to the first stage.
    #[tracing::instrument(skip_all, fields(group = %change.model_package_group_name, version = change.model_package_version))]
    pub async fn on_package_state_change(
        &self,
        change: &ModelPackageStateChange,
        event_id: Option<&str>,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Result<PromotionOutcome, Error> {
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
            source_event_id: event_id,
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
        event_id: Option<&str>,
    ) -> Result<PromotionOutcome, Error> {
        let request = Request {
            source_event_id: event_id,
            requested_by: command.requested_by.as_deref(),
            explicit: true,
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
            let known: Vec<&str> = self
                .config
                .stages
                .stages
                .iter()
                .map(|s| s.name.as_str())
                .collect();
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
        let previous = &self.config.stages.stages[index - 1];
        let serving = endpoints::serving(&self.sagemaker, &previous.endpoint).await?;
        let serves_it = serving.as_ref().is_some_and(|s| {
            s.state == EndpointState::InService
                && s.lineage
                    .as_ref()
                    .is_some_and(|l| lineage::same_arn(&l.model_package_arn, &package.arn))
        });
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
        event_id: Option<&str>,
    ) -> Result<PromotionOutcome, Error> {
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
    pub async fn on_tick(&self, event_id: Option<&str>) -> Result<PromotionOutcome, Error> {
        let mut stages = Vec::new();
        let mut failed = None;
        for (index, stage) in self.config.stages.stages.iter().enumerate() {
            let converged = async {
                let outcome = self.converge(index).await?;
                if outcome.is_settled() {
                    if let Err(reason) = self.advance(index, event_id).await? {
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
