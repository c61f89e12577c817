//! A shadow test's run, on a stage with `shadow:` (its verdict is
//! [`super::shadow`]). A candidate for a stage that serves another package
//! first runs beside it: an endpoint config whose production variant is the
//! Model the stage serves (with its lineage tags, so predict, the monitor and
//! `status` still see the serving model) and whose shadow variant is the
//! candidate, on a copy of the stage's `sample_percent` of the requests,
//! answering nobody, every request and answer of both captured. The record is
//! `shadowing` from then on, and each time the stage converges (its InService,
//! the tick: a lost event loses nothing) the test is judged once its duration
//! has passed: the captured answers paired by request, and each variant's
//! invocations, errors and mean model latency from CloudWatch (`AWS/SageMaker`).
//! Within limits, `ShadowTestPassed` and the stage's usual blue/green
//! deployment of the candidate (`deploy.rs`); outside, the endpoint goes back
//! to the serving model alone, `ShadowTestFailed`, and the record halts
//! `ShadowRejected` with the numbers. A newer request replaces the candidate
//! (a new shadow config); a rollback, or a candidate whose serving model was
//! withdrawn, deploys straight, ending the test; a halted record's leftover
//! shadow is removed.
//!
//! Steps here never write the record: they say what to write ([`ShadowStep`])
//! and `converge.rs` writes it.

use super::config::DataCapture;
use super::desired::{self, Cause, Read, Status};
use super::endpoints;
use super::evidence;
use super::gate::{self, Verdict};
use super::names;
use super::outcome::PromotionOutcome;
use super::promoter::PromotionService;
use super::registry;
use super::shadow::{compare, pair};
use crate::aws::{bus, sagemaker};
use crate::error::Error;
use crate::events::endpoint::EndpointState;
use crate::events::promotion::{
    ShadowTestResult, PROMOTION_SOURCE, SHADOW_TEST_FAILED, SHADOW_TEST_PASSED,
};
use crate::stages::shadow::{self, ShadowTest};
use crate::stages::{same_arn, Lineage, Package, Serving, Stage, TAG_SHADOW_MODEL_PACKAGE_ARN};
use aws_sdk_sagemaker::types::Tag;

/// What converging a record does about its stage's shadow test.
pub(super) enum ShadowStep {
    /// No test to run (none on the stage, nothing serving to compare with, a
    /// rollback, a deployment already started), or the test passed: the
    /// stage deploys the candidate as it deploys.
    Deploy(Read),
    /// The test started, or runs: this outcome, and the record's new status
    /// when it changes.
    Done {
        read: Read,
        outcome: PromotionOutcome,
        status: Option<Status>,
    },
    /// The record halts.
    Halt {
        read: Read,
        reason: &'static str,
        message: String,
    },
}

impl PromotionService {
    /// Stage `index`'s shadow test of `package`, the record `read` asks for,
    /// against what the endpoint serves (`serving_withdrawn`: a package the
    /// registry no longer approves, `withdraw.rs`).
    pub(super) async fn shadow_step(
        &self,
        index: usize,
        read: Read,
        package: &Package,
        serving: Option<&Serving>,
        serving_withdrawn: bool,
    ) -> Result<ShadowStep, Error> {
        let stage = self.config.stages.at(index);
        let (Some(limits), Some(capture)) = (stage.shadow, self.config.data_capture.as_ref())
        else {
            return Ok(ShadowStep::Deploy(read));
        };
        // A rollback replaces a withdrawn model at once; nothing else to compare
        // with: a stage that serves nothing, or nothing promote-model deployed.
        let compared = serving.and_then(|s| Some((s, s.lineage.clone()?)));
        let Some((serving, lineage)) = compared.filter(|_| read.desired.cause != Cause::Rollback)
        else {
            return Ok(ShadowStep::Deploy(read));
        };
        if same_arn(&lineage.model_package_arn, &package.arn) {
            return Ok(ShadowStep::Deploy(read));
        }
        // Pending: to start; shadowing: the config and start of a test under way.
        let running = match &read.desired.status {
            Status::Pending => None,
            Status::Shadowing {
                endpoint_config,
                started_at_ms,
            } => Some((endpoint_config.clone(), *started_at_ms)),
            Status::Deploying { .. } | Status::Halted { .. } => {
                return Ok(ShadowStep::Deploy(read))
            }
        };
        // A withdrawn serving model ends the test: the candidate replaces it at
        // once, as any record of another package does (`withdraw.rs`).
        if serving_withdrawn {
            tracing::warn!(stage = %stage.name, serving = %lineage.model_package_arn, candidate = %package.arn, "the serving package was withdrawn: no shadow test, the candidate replaces it");
            return Ok(ShadowStep::Deploy(read));
        }
        let trial = Trial {
            stage,
            limits,
            capture,
            package,
            serving,
            lineage: &lineage,
        };
        match running {
            None => self.start_shadow(read, &trial).await,
            Some((config, started_at_ms)) => {
                self.run_shadow(read, &trial, &config, started_at_ms).await
            }
        }
    }

    /// A pending candidate: the shadow config, and the endpoint moved to it.
    async fn start_shadow(&self, read: Read, trial: &Trial<'_>) -> Result<ShadowStep, Error> {
        let (stage, package, s, lineage) =
            (trial.stage, trial.package, trial.serving, trial.lineage);
        let config = names::shadow_config_name(
            &s.endpoint_config,
            lineage.model_package_version,
            package,
            stage,
        );
        // Busy, failed, or refused by the gate: the deployment step says so.
        let moving_to_it = s.pending_config.as_deref() == Some(config.as_str());
        let proceeds = matches!(
            gate::check(Some(lineage), package, self.config.stages.rmse_tolerance),
            Verdict::Proceed
        );
        if !moving_to_it && (s.state != EndpointState::InService || !proceeds) {
            return Ok(ShadowStep::Deploy(read));
        }
        let started = if moving_to_it || s.endpoint_config == config {
            // Started by a delivery that crashed before recording it.
            false
        } else {
            let Some(serving_model) = s.model_name.as_deref() else {
                return Ok(ShadowStep::Deploy(read));
            };
            let candidate_model = names::stage_model_name(package, stage);
            let mut tags = self.deployment_tags(lineage);
            tags.push(
                Tag::builder()
                    .key(TAG_SHADOW_MODEL_PACKAGE_ARN)
                    .value(&package.arn)
                    .build(),
            );
            let client = &self.sagemaker;
            endpoints::ensure_model(
                client,
                &candidate_model,
                package,
                &self.config.model_role_arn,
                &tags,
                true,
            )
            .await?;
            endpoints::ensure_shadow_config(
                client,
                &config,
                serving_model,
                &candidate_model,
                &shadow::variant_name(package.version),
                stage,
                trial.limits.sample_percent,
                trial.capture,
                &tags,
            )
            .await?;
            if !self.move_endpoint(stage, s, &config).await? {
                return Ok(ShadowStep::Deploy(read));
            }
            tracing::info!(stage = %stage.name, endpoint = %stage.endpoint, %config, candidate = %package.arn, serving = %lineage.model_package_arn, "shadow test started");
            self.metric("ShadowTestsStarted", &stage.name);
            true
        };
        let started_at_ms = desired::now_ms();
        let outcome = shadowing(trial, &config, started, started_at_ms);
        let status = Status::Shadowing {
            endpoint_config: config,
            started_at_ms,
        };
        Ok(ShadowStep::Done {
            read,
            outcome,
            status: Some(status),
        })
    }

    /// A running test: judged once its duration has passed.
    async fn run_shadow(
        &self,
        read: Read,
        trial: &Trial<'_>,
        config: &str,
        started_at_ms: i64,
    ) -> Result<ShadowStep, Error> {
        let (stage, s) = (trial.stage, trial.serving);
        let starting = s.pending_config.as_deref() == Some(config)
            || (s.state.is_busy() && s.endpoint_config == config);
        let running = s.state == EndpointState::InService && s.endpoint_config == config;
        if !starting && !running {
            if s.state != EndpointState::InService {
                // Another change under way: the record waits.
                return Ok(ShadowStep::Done {
                    read,
                    outcome: PromotionOutcome::Waiting {
                        stage: stage.name.clone(),
                        endpoint: stage.endpoint.clone(),
                        endpoint_status: s.state.to_string(),
                        model_package_arn: trial.package.arn.clone(),
                    },
                    status: None,
                });
            }
            let message = format!(
                "the shadow test on {} did not run: {} serves {} (rolled back, or changed by hand)",
                config, stage.endpoint, s.endpoint_config
            );
            return Ok(ShadowStep::Halt {
                read,
                reason: "ShadowNotRunning",
                message,
            });
        }
        let due_ms = started_at_ms + i64::from(trial.limits.duration_seconds) * 1000;
        let now_ms = desired::now_ms();
        if starting || now_ms < due_ms {
            let outcome = shadowing(trial, config, false, started_at_ms);
            return Ok(ShadowStep::Done {
                read,
                outcome,
                status: None,
            });
        }
        let result = self.judge(trial, started_at_ms, now_ms).await?;
        let passed = result.comparison.crossed.is_empty();
        if passed {
            self.publish_result(SHADOW_TEST_PASSED, &result).await?;
            tracing::info!(stage = %stage.name, candidate = %trial.package.arn, comparison = ?result.comparison, "shadow test passed: deploying the candidate");
            self.metric("ShadowTestsPassed", &stage.name);
            return Ok(ShadowStep::Deploy(read));
        }
        // Back to the serving model alone first: a failure here is retried
        // (the record still shadows), and nothing is announced before it.
        self.end_shadow(stage, s).await?;
        self.publish_result(SHADOW_TEST_FAILED, &result).await?;
        self.metric("ShadowTestsFailed", &stage.name);
        let c = &result.comparison;
        let message = format!(
            "shadow test of {} v{} beside v{} ({} records compared): {}",
            trial.package.group,
            trial.package.version,
            trial.lineage.model_package_version,
            c.compared,
            c.crossed.join("; ")
        );
        Ok(ShadowStep::Halt {
            read,
            reason: "ShadowRejected",
            message,
        })
    }

    /// The comparison of the two variants since the test started.
    async fn judge(
        &self,
        trial: &Trial<'_>,
        from: i64,
        now_ms: i64,
    ) -> Result<ShadowTestResult, Error> {
        let (stage, package) = (trial.stage, trial.package);
        let shadow_variant = shadow::variant_name(package.version);
        let (s3, cloudwatch) = (&self.desired.s3, &self.cloudwatch);
        let endpoint = &stage.endpoint;
        let serving_answers =
            evidence::captured(s3, trial.capture, endpoint, &stage.variant, from).await?;
        let candidate_answers =
            evidence::captured(s3, trial.capture, endpoint, &shadow_variant, from).await?;
        let serving =
            evidence::variant_traffic(cloudwatch, endpoint, &stage.variant, from, now_ms).await?;
        let candidate =
            evidence::variant_traffic(cloudwatch, endpoint, &shadow_variant, from, now_ms).await?;
        let pairs = pair(serving_answers, candidate_answers);
        Ok(ShadowTestResult {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            model_package_arn: package.arn.clone(),
            model_package_group: package.group.clone(),
            model_package_version: package.version,
            serving_model_package_arn: Some(trial.lineage.model_package_arn.clone()),
            started_at_ms: from,
            ended_at_ms: now_ms,
            comparison: compare(&pairs, serving, candidate, &trial.limits),
        })
    }

    /// The endpoint `s` of `stage` back on the serving model alone, when it
    /// runs a shadow test: the serving package's own config for the stage,
    /// (created again if it is gone) with the Model serving now.
    pub(super) async fn end_shadow(&self, stage: &Stage, s: &Serving) -> Result<(), Error> {
        let (Some(lineage), Some(model)) = (&s.lineage, s.model_name.as_deref()) else {
            return Ok(());
        };
        if s.shadow_of.is_none() || s.state != EndpointState::InService {
            return Ok(());
        }
        let Some(serving) = registry::describe(&self.sagemaker, &lineage.model_package_arn).await?
        else {
            return Err(Error::Internal(format!(
                "{} runs a shadow test beside {}, which the registry no longer has: move the endpoint to a config of its own by hand",
                stage.endpoint, lineage.model_package_arn
            )));
        };
        let capture = self.config.data_capture.as_ref();
        let config = names::endpoint_config_name(&serving, stage, capture);
        let tags = self.deployment_tags(lineage);
        endpoints::ensure_endpoint_config(&self.sagemaker, &config, model, stage, capture, &tags)
            .await?;
        if self.move_endpoint(stage, s, &config).await? {
            tracing::info!(stage = %stage.name, endpoint = %stage.endpoint, %config, "shadow test ended: the serving model alone again");
        }
        Ok(())
    }

    /// `UpdateEndpoint` of the stage's endpoint to `config`, all at once (the
    /// production variant keeps its model). `false` when another change got
    /// there first (the stage converges again when it is done).
    async fn move_endpoint(&self, stage: &Stage, s: &Serving, config: &str) -> Result<bool, Error> {
        let keep_instance_count = self.before_update(stage, s).await?;
        let deployment = endpoints::shadow_move_config(stage);
        let moved = endpoints::update(
            &self.sagemaker,
            stage,
            config,
            deployment,
            keep_instance_count,
        )
        .await;
        match moved {
            Err(Error::Aws(e)) if sagemaker::is_concurrent_change(&e) => {
                tracing::info!(endpoint = %stage.endpoint, error = %e, "the endpoint changed meanwhile");
                Ok(false)
            }
            moved => moved.map(|()| true),
        }
    }

    async fn publish_result(
        &self,
        detail_type: &str,
        result: &ShadowTestResult,
    ) -> Result<(), Error> {
        bus::publish(
            &self.events,
            &self.config.event_bus,
            PROMOTION_SOURCE,
            detail_type,
            result,
        )
        .await?;
        Ok(())
    }
}

/// A candidate's shadow test on a stage, and what the stage serves.
struct Trial<'a> {
    stage: &'a Stage,
    limits: ShadowTest,
    capture: &'a DataCapture,
    /// The candidate.
    package: &'a Package,
    serving: &'a Serving,
    lineage: &'a Lineage,
}

/// The test on `config` since `started_at_ms` (`started`: by this call).
fn shadowing(
    trial: &Trial<'_>,
    config: &str,
    started: bool,
    started_at_ms: i64,
) -> PromotionOutcome {
    PromotionOutcome::Shadowing {
        stage: trial.stage.name.clone(),
        endpoint: trial.stage.endpoint.clone(),
        endpoint_config: config.to_string(),
        model_package_arn: trial.package.arn.clone(),
        started,
        judged_after_ms: started_at_ms + i64::from(trial.limits.duration_seconds) * 1000,
    }
}
