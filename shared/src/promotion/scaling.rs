//! Autoscaling of a stage's variant (Application Auto Scaling, namespace
//! `sagemaker`, dimension `sagemaker:variant:DesiredInstanceCount`): a scalable
//! target between the stage's `autoscaling.min` and `max`, and one
//! target-tracking policy on `SageMakerVariantInvocationsPerInstance`.
//!
//! What SageMaker documents ("Update endpoints that use auto scaling"), and
//! what this module does with it:
//! - An `UpdateEndpoint` that changes the instance type of a variant that is a
//!   scalable target fails; changing only its model is allowed. So before an
//!   update that changes the instance type, goes serverless or drops
//!   autoscaling, the variant is deregistered (which deletes its policies);
//!   a model-only update leaves it registered ([`PromotionService::before_update`]).
//! - The new config's `InitialInstanceCount` would replace a fleet autoscaling
//!   grew; `RetainAllVariantProperties` keeps the current desired count (the
//!   data capture settings still come from the new config). Every update of an
//!   autoscaled variant that stays autoscaled uses it.
//! - Scaling is (re)registered once the endpoint serves the new config
//!   InService, never while a deployment runs; and at every convergence after
//!   that, so a policy or target deleted by hand comes back
//!   ([`PromotionService::converge_scaling`]).

use super::outcome::PromotionOutcome;
use super::promoter::PromotionService;
use crate::error::{AwsError, Error};
use crate::events::endpoint::EndpointState;
use crate::stages::{Autoscaling, Fleet, Serving, Stage};
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

const SERVICE: &str = "ApplicationAutoScaling";

/// `endpoint/<endpoint>/variant/<variant>`: the scalable target of a stage.
pub fn resource_id(stage: &Stage) -> String {
    format!("endpoint/{}/variant/{}", stage.endpoint, stage.variant)
}

/// The stage's one target-tracking policy.
pub fn policy_name(stage: &Stage) -> String {
    format!("{}-invocations-per-instance", stage.endpoint)
}

/// What Application Auto Scaling holds for a stage's variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub min: i32,
    pub max: i32,
    /// The stage's policy, when it exists and tracks invocations per instance.
    pub policy: Option<Policy>,
}

/// A target-tracking policy's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub target: f64,
    pub scale_in_cooldown: i32,
    pub scale_out_cooldown: i32,
}

impl Policy {
    pub fn of(a: &Autoscaling) -> Policy {
        Policy {
            target: f64::from(a.target_invocations_per_instance),
            scale_in_cooldown: a.scale_in_cooldown_seconds as i32,
            scale_out_cooldown: a.scale_out_cooldown_seconds as i32,
        }
    }
}

fn error<E>(
    operation: &'static str,
    stage: &Stage,
    e: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    AwsError::from_sdk(SERVICE, operation, e).on(resource_id(stage))
}

/// The stage's scalable target and policy, or `None` when it is not registered.
pub async fn registered(client: &Client, stage: &Stage) -> Result<Option<Registered>, Error> {
    let id = resource_id(stage);
    let targets = client
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(&id)
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .send()
        .await
        .map_err(|e| error("DescribeScalableTargets", stage, e))?;
    let Some(target) = targets.scalable_targets().first() else {
        return Ok(None);
    };
    let policies = client
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&id)
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_names(policy_name(stage))
        .send()
        .await
        .map_err(|e| error("DescribeScalingPolicies", stage, e))?;
    let policy = policies
        .scaling_policies()
        .iter()
        .filter_map(|p| p.target_tracking_scaling_policy_configuration())
        .find(|c| {
            c.predefined_metric_specification()
                .map(|m| m.predefined_metric_type())
                == Some(&MetricType::SageMakerVariantInvocationsPerInstance)
        })
        .map(|c| Policy {
            target: c.target_value(),
            scale_in_cooldown: c.scale_in_cooldown().unwrap_or_default(),
            scale_out_cooldown: c.scale_out_cooldown().unwrap_or_default(),
        });
    Ok(Some(Registered {
        min: target.min_capacity(),
        max: target.max_capacity(),
        policy,
    }))
}

/// Registers the stage's variant between `min` and `max` (an existing target
/// is updated in place), without its policy.
async fn register(client: &Client, stage: &Stage, a: &Autoscaling) -> Result<(), Error> {
    client
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource_id(stage))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .min_capacity(a.min as i32)
        .max_capacity(a.max as i32)
        .send()
        .await
        .map_err(|e| error("RegisterScalableTarget", stage, e))?;
    Ok(())
}

/// Creates or replaces the stage's target-tracking policy.
async fn put_policy(client: &Client, stage: &Stage, policy: Policy) -> Result<(), Error> {
    let configuration = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(policy.target)
        .predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::SageMakerVariantInvocationsPerInstance)
                .build()
                .map_err(|e| Error::Internal(e.to_string()))?,
        )
        .scale_in_cooldown(policy.scale_in_cooldown)
        .scale_out_cooldown(policy.scale_out_cooldown)
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    client
        .put_scaling_policy()
        .policy_name(policy_name(stage))
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource_id(stage))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(configuration)
        .send()
        .await
        .map_err(|e| error("PutScalingPolicy", stage, e))?;
    Ok(())
}

/// Deregisters the stage's variant (its policies go with it); a target that is
/// already gone is what was wanted.
pub async fn deregister(client: &Client, stage: &Stage) -> Result<(), Error> {
    let result = client
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource_id(stage))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = error("DeregisterScalableTarget", stage, e);
            // AWS answers ObjectNotFoundException; moto a ValidationException
            // "No scalable target found ...".
            let gone = e.code.as_deref() == Some("ObjectNotFoundException")
                || (e.code.as_deref() == Some("ValidationException")
                    && e.message.contains("No scalable target found"));
            if gone {
                Ok(())
            } else {
                Err(e.into())
            }
        }
    }
}

/// What converging a stage's scaling did (logged, counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScalingChange {
    Unchanged,
    /// The target or the policy was (re)registered.
    Applied,
    /// The stage is not autoscaled (any more): its target was deregistered.
    Removed,
}

impl PromotionService {
    /// Before a blue/green update of stage's endpoint (serving `serving` now):
    /// deregisters the variant when SageMaker would refuse the update (instance
    /// type changed) or the stage will not be autoscaled after it. Returns
    /// whether the update keeps the variant's current instance count.
    pub(super) async fn before_update(
        &self,
        stage: &Stage,
        serving: &Serving,
    ) -> Result<bool, Error> {
        if registered(&self.autoscaling, stage).await?.is_none() {
            return Ok(false);
        }
        let stays_autoscaled = matches!(
            stage.fleet(),
            Fleet::Instances {
                autoscaling: Some(_),
                ..
            }
        );
        let same_type = matches!(
            stage.fleet(),
            Fleet::Instances { instance_type, .. } if serving.instance_type.as_deref() == Some(instance_type)
        );
        if !(stays_autoscaled && same_type) {
            tracing::info!(stage = %stage.name, resource = %resource_id(stage), stays_autoscaled, same_type, "deregistering the variant from autoscaling before the update (SageMaker refuses an instance-type change of a scalable target)");
            deregister(&self.autoscaling, stage).await?;
        }
        Ok(stays_autoscaled)
    }

    /// Converges the stage's scaling to `stages.yaml` once its endpoint serves
    /// InService with no deployment under way (and none started by `outcome`):
    /// registered with the stage's range and policy when the stage and the
    /// serving config are instance-based and autoscaled, deregistered otherwise.
    pub(super) async fn converge_scaling(
        &self,
        stage: &Stage,
        serving: Option<&Serving>,
        outcome: &PromotionOutcome,
    ) -> Result<(), Error> {
        let settled = serving
            .is_some_and(|s| s.state == EndpointState::InService && s.pending_config.is_none())
            && !matches!(
                outcome,
                PromotionOutcome::Deploying { .. }
                    | PromotionOutcome::AlreadyDeploying { .. }
                    | PromotionOutcome::Waiting { .. }
                    | PromotionOutcome::Shadowing { started: true, .. }
            );
        if !settled {
            return Ok(());
        }
        let serves_instances = serving.is_some_and(|s| s.instance_type.is_some());
        let wanted = match stage.fleet() {
            Fleet::Instances {
                autoscaling: Some(a),
                ..
            } if serves_instances => Some(a),
            _ => None,
        };
        let registered = registered(&self.autoscaling, stage).await?;
        let change = match (wanted, registered) {
            (None, None) => ScalingChange::Unchanged,
            (None, Some(_)) => {
                deregister(&self.autoscaling, stage).await?;
                ScalingChange::Removed
            }
            (Some(a), registered) => {
                let policy = Policy::of(a);
                let range_ok = registered
                    .as_ref()
                    .is_some_and(|r| (r.min, r.max) == (a.min as i32, a.max as i32));
                if !range_ok {
                    register(&self.autoscaling, stage, a).await?;
                }
                let policy_ok = registered.as_ref().and_then(|r| r.policy) == Some(policy);
                if !policy_ok {
                    put_policy(&self.autoscaling, stage, policy).await?;
                }
                if range_ok && policy_ok {
                    ScalingChange::Unchanged
                } else {
                    ScalingChange::Applied
                }
            }
        };
        if change != ScalingChange::Unchanged {
            tracing::info!(stage = %stage.name, resource = %resource_id(stage), ?change, autoscaling = ?wanted, "scaling converged");
            self.metric("ScalingConverged", &stage.name);
        }
        Ok(())
    }
}
