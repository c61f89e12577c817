//! What promote-model does for each event.
//!
//! - **Approval** (registry "Approved", allowed group, our account and region):
//!   the group's *latest* approved version goes to the first stage, so a late or
//!   re-delivered approval of an older version never downgrades it.
//! - **`PromoteModel`** (group, version, target stage): refused unless that
//!   package is InService on the stage before; then deployed to the target.
//! - **Endpoint state change** of a stage's endpoint: a rollback or a failure is
//!   published with a metric; InService moves the package on to the next stage
//!   when that stage has no manual gate.
//!
//! Packages are read from the registry by [`registry`], what a stage serves by
//! [`endpoints`]; the deployment step itself (no-op, busy, no downgrade, quality
//! gate, then the SageMaker writes and `ModelPromoted`) is `deploy.rs`.

use super::config::PromoteConfig;
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
    Ignored {
        reason: String,
    },
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
    pub config: PromoteConfig,
}

fn ignored(reason: String) -> Result<PromotionOutcome, Error> {
    tracing::info!(%reason, "ignored");
    Ok(PromotionOutcome::Ignored { reason })
}

impl PromotionService {
    pub fn new(sdk: &aws_config::SdkConfig, config: PromoteConfig) -> Self {
        PromotionService {
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
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
        self.deploy(&latest, 0, request).await
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
        self.deploy(&package, index, request).await
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
            EndpointState::InService => return self.advance(index, event_id).await,
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
        Ok(PromotionOutcome::Reported {
            detail_type: detail_type.into(),
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            endpoint_status: state.to_string(),
        })
    }

    /// Stage `index` is InService: promote what it serves to the next stage,
    /// unless that one has a manual gate.
    async fn advance(
        &self,
        index: usize,
        event_id: Option<&str>,
    ) -> Result<PromotionOutcome, Error> {
        let stage = &self.config.stages.stages[index];
        let Some(next) = self.config.stages.stages.get(index + 1) else {
            return ignored(format!("{} is InService; it is the last stage", stage.name));
        };
        if next.manual_gate {
            return ignored(format!(
                "{} is InService; {} has a manual gate (send PromoteModel)",
                stage.name, next.name
            ));
        }
        let serving = endpoints::serving(&self.sagemaker, &stage.endpoint).await?;
        let Some(lineage) = serving
            .filter(|s| s.state == EndpointState::InService)
            .and_then(|s| s.lineage)
        else {
            return ignored(format!(
                "{} serves nothing promote-model deployed",
                stage.endpoint
            ));
        };
        let Some(package) = registry::find(
            &self.sagemaker,
            &lineage.model_package_group,
            lineage.model_package_version,
        )
        .await?
        .filter(|p| p.approval == APPROVED) else {
            return ignored(format!(
                "{} v{} is no longer approved: not moved on",
                lineage.model_package_group, lineage.model_package_version
            ));
        };
        let request = Request {
            source_event_id: event_id,
            ..Request::default()
        };
        self.deploy(&package, index + 1, request).await
    }
}
