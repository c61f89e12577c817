//! The deployment step of promotion: may this package go to this stage now,
//! and if so, the deployment (its SageMaker calls are [`super::endpoints`]).
//! Called when a stage converges to its desired-state record.
//!
//! Against what the stage serves: the same config is a no-op; a deployment
//! under way to it is a no-op (announced again if its record does not know it
//! started); an endpoint mid-deployment means *wait* (the record stays, and the
//! stage converges at its next InService or tick; the function never waits in
//! a loop); a failed endpoint needs a person; a deployment this record started
//! that the endpoint no longer runs or serves was rolled back or failed (the
//! record halts); a newer version serving is never downgraded (refused out loud
//! when a person asked); the quality gate compares RMSEs. Then Model,
//! EndpointConfig, CreateEndpoint or blue/green UpdateEndpoint, and
//! `ModelPromoted`. Refusals are `PromotionRefused` events, not failures.

use super::endpoints;
use super::gate::{self, Verdict};
use super::names;
use super::outcome::{PromotionOutcome, Request};
use super::promoter::PromotionService;
use crate::aws::{bus, sagemaker};
use crate::error::Error;
use crate::events::endpoint::EndpointState;
use crate::events::promotion::{
    ModelPromoted, PromotionRefused, MODEL_PROMOTED, PROMOTION_REFUSED, PROMOTION_SOURCE,
};
use crate::stages::{self, same_arn, Lineage, Package, Stage};

/// A deployment that has started, as `ModelPromoted` tells it.
#[derive(Clone, Copy)]
struct Started<'a> {
    package: &'a Package,
    stage: &'a Stage,
    action: &'static str,
    endpoint_config: &'a str,
    model: &'a str,
    /// What the stage served before.
    replaces: Option<&'a Lineage>,
}

impl PromotionService {
    /// Publishes `ModelPromoted`: the deployment has started.
    async fn announce(&self, started: &Started<'_>, request: Request<'_>) -> Result<(), Error> {
        let (package, stage) = (started.package, started.stage);
        let detail = ModelPromoted {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            action: started.action.into(),
            endpoint_config: started.endpoint_config.to_string(),
            model: started.model.to_string(),
            model_package_arn: package.arn.clone(),
            model_package_group: package.group.clone(),
            model_package_version: package.version,
            deployment: stage.deployment.to_string(),
            alarms: stage.alarms.clone(),
            dataset_id: package.dataset_id.clone(),
            validation_rmse: package.validation_rmse,
            test_rmse: package.test_rmse,
            pipeline_execution_arn: package.pipeline_execution_arn.clone(),
            replaces_model_package_arn: started.replaces.map(|l| l.model_package_arn.clone()),
            source_event_id: request.source_event_id.map(str::to_string),
            requested_by: request.requested_by.map(str::to_string),
        };
        bus::publish(
            &self.events,
            &self.config.event_bus,
            PROMOTION_SOURCE,
            MODEL_PROMOTED,
            &detail,
        )
        .await?;
        Ok(())
    }

    /// Deploys `package` to stage `index` (create or blue/green update), behind
    /// the no-downgrade rule and the quality gate. `started`: the endpoint
    /// config a deployment of this package's record already started, if any.
    pub(super) async fn deploy(
        &self,
        package: &Package,
        index: usize,
        request: Request<'_>,
        started: Option<&str>,
        serving: Option<&stages::Serving>,
    ) -> Result<PromotionOutcome, Error> {
        let stage = self.config.stages.at(index);
        let capture = self.config.data_capture.as_ref();
        let model = names::stage_model_name(package, stage);
        let endpoint_config = names::endpoint_config_name(package, stage, capture);
        // This deployment, as `ModelPromoted` will tell it (action and predecessor set below).
        let this = Started {
            package,
            stage,
            action: "create",
            endpoint_config: &endpoint_config,
            model: &model,
            replaces: None,
        };
        let already_serving = |config: &str, arn: Option<String>| {
            tracing::info!(endpoint = %stage.endpoint, %config, "already serving: nothing to do");
            Ok(PromotionOutcome::AlreadyServing {
                stage: stage.name.clone(),
                endpoint: stage.endpoint.clone(),
                endpoint_config: config.to_string(),
                model_package_arn: arn,
            })
        };
        if let Some(s) = &serving {
            let serving_arn = s.lineage.as_ref().map(|l| l.model_package_arn.clone());
            if s.pending_config.as_deref() == Some(endpoint_config.as_str())
                || (s.state.is_busy() && s.endpoint_config == endpoint_config)
            {
                if started != Some(endpoint_config.as_str()) {
                    // Announced again: a crash between the call that started it and
                    // recording that it started must not lose `ModelPromoted`
                    // (consumers deduplicate on endpoint_config).
                    tracing::info!(endpoint = %stage.endpoint, "this deployment is already under way; announced again");
                    let action = if s.state == EndpointState::Creating {
                        "create"
                    } else {
                        "update"
                    };
                    let replaces = s
                        .lineage
                        .as_ref()
                        .filter(|l| !same_arn(&l.model_package_arn, &package.arn));
                    let started = Started {
                        action,
                        replaces,
                        ..this
                    };
                    self.announce(&started, request).await?;
                }
                return Ok(PromotionOutcome::AlreadyDeploying {
                    stage: stage.name.clone(),
                    endpoint: stage.endpoint.clone(),
                    endpoint_config,
                });
            }
            if s.state.is_busy() || s.state == EndpointState::Deleting {
                tracing::info!(endpoint = %stage.endpoint, state = %s.state, package = %package.arn, "another deployment is under way: recorded, deployed when the endpoint is InService");
                self.metric("PromotionsWaiting", &stage.name);
                return Ok(PromotionOutcome::Waiting {
                    stage: stage.name.clone(),
                    endpoint: stage.endpoint.clone(),
                    endpoint_status: s.state.to_string(),
                    model_package_arn: package.arn.clone(),
                });
            }
            if s.state != EndpointState::InService {
                let message = format!(
                    "endpoint {} is {}: it cannot be updated; inspect it (FailureReason) and delete it: the next tick recreates it with {}",
                    stage.endpoint, s.state, package.arn
                );
                tracing::error!(endpoint = %stage.endpoint, "{message}");
                self.metric("PromotionsBlocked", &stage.name);
                return Ok(PromotionOutcome::Blocked {
                    stage: stage.name.clone(),
                    endpoint: stage.endpoint.clone(),
                    endpoint_status: s.state.to_string(),
                    message,
                });
            }
            if s.endpoint_config == endpoint_config {
                return already_serving(&endpoint_config, serving_arn);
            }
            if started == Some(endpoint_config.as_str()) {
                // It started, and the endpoint is back InService on another config.
                return Ok(PromotionOutcome::Halted {
                    stage: stage.name.clone(),
                    reason: "NotTaken".into(),
                    model_package_arn: package.arn.clone(),
                });
            }
            if s.lineage.is_none() {
                tracing::warn!(endpoint = %stage.endpoint, "the serving config has no lineage tags: no downgrade or quality check possible");
            }
            let current = s.lineage.as_ref();
            // A rollback from a withdrawn package is older by design, and any
            // approved model beats a rejected one (`withdraw.rs`).
            let verdict = if request.rollback {
                Verdict::Proceed
            } else {
                gate::check(current, package, self.config.stages.rmse_tolerance)
            };
            match verdict {
                Verdict::Proceed => {}
                Verdict::NewerServing { serving_version } if !request.explicit => {
                    tracing::info!(
                        serving_version,
                        "a newer version serves this stage: never downgraded"
                    );
                    return already_serving(&s.endpoint_config, serving_arn);
                }
                Verdict::NewerServing { serving_version } => {
                    let message = format!(
                        "{} serves v{serving_version}, newer than v{}: promotions never downgrade a stage",
                        stage.name, package.version
                    );
                    let refused =
                        self.refusal(package, stage, "WouldDowngrade", message, current, request);
                    return self.refuse(refused).await;
                }
                Verdict::Refuse { reason, message } => {
                    let refused = self.refusal(package, stage, reason, message, current, request);
                    return self.refuse(refused).await;
                }
            }
        }

        let lineage = Lineage::new(package, &stage.name, request.source_event_id);
        let tags = self.deployment_tags(&lineage);
        let client = &self.sagemaker;
        // Serverless Inference does not support network isolation.
        let isolated = !stage.is_serverless();
        endpoints::ensure_model(
            client,
            &model,
            package,
            &self.config.model_role_arn,
            &tags,
            isolated,
        )
        .await?;
        endpoints::ensure_endpoint_config(client, &endpoint_config, &model, stage, capture, &tags)
            .await?;
        let (action, call) = match &serving {
            None => (
                "create",
                endpoints::create(client, stage, &endpoint_config, &self.cost_tags()).await,
            ),
            Some(s) => {
                let keep_instance_count = self.before_update(stage, s).await?;
                let deployment = endpoints::deployment_config(stage);
                let update = endpoints::update(
                    client,
                    stage,
                    &endpoint_config,
                    deployment,
                    keep_instance_count,
                );
                ("update", update.await)
            }
        };
        match call {
            Err(Error::Aws(e)) if sagemaker::is_concurrent_change(&e) => {
                // Another delivery changed the endpoint since it was read: what
                // it does now decides (the same deployment under way, or another
                // one the record waits for).
                tracing::info!(endpoint = %stage.endpoint, error = %e, "the endpoint changed meanwhile; reading it again");
                return self.after_race(package, stage, &endpoint_config).await;
            }
            call => call?,
        }
        let replaces = serving.as_ref().and_then(|s| s.lineage.as_ref());
        let started = Started {
            action,
            replaces,
            ..this
        };
        self.announce(&started, request).await?;
        tracing::info!(stage = %stage.name, endpoint = %stage.endpoint, %endpoint_config, action, deployment = %stage.deployment, "deployment started");
        self.metric("PromotionsStarted", &stage.name);
        Ok(PromotionOutcome::Deploying {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            action: action.into(),
            endpoint_config,
            model,
            model_package_arn: package.arn.clone(),
            deployment: stage.deployment.to_string(),
        })
    }

    /// A create or update lost a race: the stage's endpoint, read again.
    async fn after_race(
        &self,
        package: &Package,
        stage: &Stage,
        endpoint_config: &str,
    ) -> Result<PromotionOutcome, Error> {
        let serving = stages::serving(&self.sagemaker, &stage.endpoint).await?;
        let ours = serving.as_ref().is_some_and(|s| {
            s.pending_config.as_deref() == Some(endpoint_config)
                || s.endpoint_config == endpoint_config
        });
        if ours {
            // The other delivery started this very deployment, and announces it.
            return Ok(PromotionOutcome::AlreadyDeploying {
                stage: stage.name.clone(),
                endpoint: stage.endpoint.clone(),
                endpoint_config: endpoint_config.to_string(),
            });
        }
        self.metric("PromotionsWaiting", &stage.name);
        Ok(PromotionOutcome::Waiting {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            endpoint_status: serving.map_or("(none)".to_string(), |s| s.state.to_string()),
            model_package_arn: package.arn.clone(),
        })
    }

    fn refusal(
        &self,
        package: &Package,
        stage: &Stage,
        reason: &str,
        message: String,
        serving: Option<&Lineage>,
        request: Request<'_>,
    ) -> PromotionRefused {
        let compared = serving.map(|l| gate::compared(l, package));
        PromotionRefused {
            stage: stage.name.clone(),
            model_package_group: package.group.clone(),
            model_package_version: package.version,
            model_package_arn: Some(package.arn.clone()),
            reason: reason.into(),
            message,
            rmse_metric: compared.map(|c| c.metric.to_string()),
            candidate_rmse: compared.map_or(package.validation_rmse, |c| c.candidate),
            serving_rmse: compared.and_then(|c| c.serving),
            rmse_tolerance: Some(self.config.stages.rmse_tolerance),
            serving_model_package_arn: serving.map(|l| l.model_package_arn.clone()),
            source_event_id: request.source_event_id.map(str::to_string),
            requested_by: request.requested_by.map(str::to_string),
        }
    }

    /// Publishes `PromotionRefused`: a handled outcome, not a failure.
    pub(super) async fn refuse(
        &self,
        refused: PromotionRefused,
    ) -> Result<PromotionOutcome, Error> {
        bus::publish(
            &self.events,
            &self.config.event_bus,
            PROMOTION_SOURCE,
            PROMOTION_REFUSED,
            &refused,
        )
        .await?;
        tracing::warn!(reason = %refused.reason, stage = %refused.stage, "promotion refused: {}", refused.message);
        self.metric("PromotionsRefused", &refused.stage);
        Ok(PromotionOutcome::Refused {
            stage: refused.stage,
            reason: refused.reason,
            message: refused.message,
        })
    }
}
