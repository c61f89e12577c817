//! How a stage converges to its desired-state record ([`super::desired`]):
//! every request is recorded first ([`PromotionService::want`]), then the stage
//! is deployed to its record if it serves something else and its endpoint can
//! take a deployment now (`deploy.rs`); once it serves it, what it serves moves
//! on to the next stage without a manual gate ([`PromotionService::reconcile`]).
//! A refusal, a rollback, a deployment that did not take or a withdrawn
//! package halts the record.

use super::desired::{self, Cause, Desired, Read, Status};
use super::outcome::{ignored, Advance, PromotionOutcome, Request};
use super::promoter::PromotionService;
use super::registry;
use super::shadowing::ShadowStep;
use super::withdraw::Held;
use crate::error::Error;
use crate::events::endpoint::EndpointState;
use crate::events::registry::APPROVED;
use crate::stages::{self, Package};

/// Conditional writes of a record lost to concurrent writers before giving up
/// (retryable).
const RECORD_ATTEMPTS: usize = 5;

impl PromotionService {
    /// Stage `index` reported InService: converge it to its record, and once it
    /// serves what it should, move that on to the next stage and converge that.
    pub(super) async fn reconcile(
        &self,
        index: usize,
        event_id: Option<&str>,
    ) -> Result<PromotionOutcome, Error> {
        let outcome = self.converge(index).await?;
        if !outcome.is_settled() {
            return Ok(outcome);
        }
        match self.advance(index, event_id).await? {
            Advance::To(next) => self.converge(next).await,
            Advance::Stays(reason) => ignored(reason),
        }
    }

    /// Records `package` as stage `index`'s desired state and converges the stage.
    pub(super) async fn want(
        &self,
        index: usize,
        package: &Package,
        cause: Cause,
        request: Request<'_>,
    ) -> Result<PromotionOutcome, Error> {
        self.record(index, package, cause, request).await?;
        self.converge(index).await
    }

    /// Records `package` as stage `index`'s desired state, unless the record
    /// stands ([`desired::replaces`]).
    pub(super) async fn record(
        &self,
        index: usize,
        package: &Package,
        cause: Cause,
        request: Request<'_>,
    ) -> Result<(), Error> {
        let stage = &self.config.stages.at(index).name;
        // A person's request, or a rollback from a withdrawn package, replaces the record.
        let explicit = matches!(cause, Cause::Promote | Cause::Rollback);
        for _ in 0..RECORD_ATTEMPTS {
            let current = self.desired.read(stage).await?;
            let record = current.as_ref().map(|r| &r.desired);
            if !desired::replaces(record, package, explicit) {
                // A record of a package the registry no longer has (deleted, or
                // its group re-created with versions from 1 again) would pin the
                // stage forever: it stands for nothing, so it is replaced.
                let gone = match record {
                    Some(r) if !r.names(package) => {
                        registry::describe(&self.sagemaker, &r.model_package_arn)
                            .await?
                            .is_none()
                    }
                    _ => false,
                };
                if !gone {
                    tracing::info!(%stage, desired = ?record.map(|d| &d.model_package_arn), "the stage's record stands");
                    return Ok(());
                }
                tracing::warn!(%stage, desired = ?record.map(|d| &d.model_package_arn), "the stage's record names a package the registry no longer has: replaced");
            }
            let new = Desired::new(
                stage,
                package,
                cause,
                request.requested_by,
                request.source_event_id,
            );
            if self.desired.write(&new, current.as_ref()).await? {
                tracing::info!(%stage, package = %package.arn, ?cause, "recorded as the stage's desired state");
                return Ok(());
            }
            tracing::info!(%stage, "the record changed while it was written; reading it again");
        }
        Err(Error::Busy {
            kind: "DesiredStateConflict",
            message: format!(
                "{}: {RECORD_ATTEMPTS} conditional writes lost to concurrent requests; retry later",
                self.desired.location(stage).uri()
            ),
        })
    }

    /// Deploys stage `index`'s recorded package if the stage does not serve it
    /// and its endpoint can take a deployment now; with no deployment under
    /// way, its autoscaling converges too (`scaling.rs`). Outside the stage's
    /// window it sleeps instead (`sleep.rs`).
    pub(super) async fn converge(&self, index: usize) -> Result<PromotionOutcome, Error> {
        let stage = self.config.stages.at(index);
        // Read once: every check below and the deployment look at the same endpoint.
        let serving = stages::serving(&self.sagemaker, &stage.endpoint).await?;
        // A stage outside its window sleeps: its record waits for the wake.
        if let Some(asleep) = self
            .sleep_if_outside_window(stage, serving.as_ref())
            .await?
        {
            return Ok(asleep);
        }
        let outcome = self.converge_record(index, serving.as_ref()).await?;
        self.converge_scaling(stage, serving.as_ref(), &outcome)
            .await?;
        Ok(outcome)
    }

    /// [`Self::converge`]'s deployment, against what the endpoint serves.
    async fn converge_record(
        &self,
        index: usize,
        serving: Option<&stages::Serving>,
    ) -> Result<PromotionOutcome, Error> {
        let stage = self.config.stages.at(index);
        // What it serves first: a package withdrawn after it was deployed.
        let serving_withdrawn = match self.withdraw_if_rejected(index, serving).await? {
            Held::Done(outcome) => return Ok(outcome),
            Held::Converge { withdrawn } => withdrawn,
        };
        let Some(read) = self.desired.read(&stage.name).await? else {
            return Ok(PromotionOutcome::NothingRecorded {
                stage: stage.name.clone(),
            });
        };
        if let Status::Halted { reason, .. } = &read.desired.status {
            // A test the record no longer stands for (its candidate withdrawn,
            // unverified) leaves no shadow behind.
            if let Some(s) = serving.filter(|s| s.shadow_of.is_some()) {
                self.end_shadow(stage, s).await?;
            }
            return Ok(PromotionOutcome::Halted {
                stage: stage.name.clone(),
                reason: reason.clone(),
                model_package_arn: read.desired.model_package_arn.clone(),
            });
        }
        // Checked again, every time: S3 is not a trusted channel (`verify.rs`).
        if let Some(problem) = self.record_problem(index, &read) {
            return self.halt(read, "Unverified", problem).await;
        }
        let package = registry::describe(&self.sagemaker, &read.desired.model_package_arn)
            .await?
            .filter(|p| p.approval == APPROVED);
        let Some(package) = package else {
            let message = format!(
                "{} v{} is no longer an approved package",
                read.desired.model_package_group, read.desired.model_package_version
            );
            return self.halt(read, "NotApproved", message).await;
        };
        if let Some(problem) = self.gate_problem(index, &read, &package, serving).await? {
            return self.halt(read, "Unverified", problem).await;
        }
        if read.desired.cause == Cause::Rollback {
            let capture = self.config.data_capture.as_ref();
            let config = super::names::endpoint_config_name(&package, stage, capture);
            if let Some(problem) = self
                .rollback_problem(serving, &read.desired, &config)
                .await?
            {
                return self.halt(read, "Unverified", problem).await;
            }
        }
        // On a stage with a shadow test, the candidate runs beside the serving
        // model first (`shadowing.rs`).
        // Boxed: its state is large, and would be carried by every future that converges.
        let step = Box::pin(self.shadow_step(index, read, &package, serving, serving_withdrawn));
        let read = match step.await? {
            ShadowStep::Deploy(read) => read,
            ShadowStep::Done {
                read,
                outcome,
                status,
            } => {
                if let Some(status) = status {
                    self.mark(read, status).await?;
                }
                return Ok(outcome);
            }
            ShadowStep::Halt {
                read,
                reason,
                message,
            } => return self.halt(read, reason, message).await,
        };
        let desired = &read.desired;
        let request = Request {
            source_event_id: desired.source_event_id.as_deref(),
            requested_by: desired.requested_by.as_deref(),
            explicit: desired.cause == Cause::Promote,
            rollback: desired.cause == Cause::Rollback,
        };
        let outcome = self
            .deploy(&package, index, request, desired.started(), serving)
            .await?;
        match &outcome {
            PromotionOutcome::Deploying {
                endpoint_config, ..
            }
            | PromotionOutcome::AlreadyDeploying {
                endpoint_config, ..
            } if desired.started() != Some(endpoint_config.as_str()) => {
                let status = Status::Deploying {
                    endpoint_config: endpoint_config.clone(),
                    started_at_ms: desired::now_ms(),
                };
                self.mark(read, status).await?;
            }
            PromotionOutcome::Refused {
                reason, message, ..
            } => {
                let (reason, message) = (reason.clone(), message.clone());
                self.halt(read, &reason, message).await?;
            }
            PromotionOutcome::Halted { reason, .. } => {
                let message = format!(
                    "a deployment of {} started, but {} is InService on another config: rolled back or failed",
                    desired.started().unwrap_or("?"),
                    stage.endpoint
                );
                let reason = reason.clone();
                self.halt(read, &reason, message).await?;
            }
            _ => {}
        }
        Ok(outcome)
    }

    /// Halts a record (see [`Status::Halted`]).
    pub(super) async fn halt(
        &self,
        read: Read,
        reason: &str,
        message: String,
    ) -> Result<PromotionOutcome, Error> {
        tracing::warn!(stage = %read.stage, %reason, "desired state halted: {message}");
        self.metric("PromotionsHalted", &read.stage);
        let outcome = PromotionOutcome::Halted {
            stage: read.stage.clone(),
            reason: reason.to_string(),
            model_package_arn: read.desired.model_package_arn.clone(),
        };
        let status = Status::Halted {
            reason: reason.to_string(),
            message,
            at_ms: desired::now_ms(),
        };
        self.mark(read, status).await?;
        Ok(outcome)
    }

    /// Sets a record's status, unless a new request replaced it meanwhile (that
    /// request converges the stage itself).
    pub(super) async fn mark(&self, read: Read, status: Status) -> Result<(), Error> {
        let marked = Desired {
            status,
            ..read.desired.clone()
        };
        if !self.desired.write(&marked, Some(&read)).await? {
            tracing::info!(stage = %read.stage, "the record was replaced meanwhile; left to the new request");
        }
        Ok(())
    }

    /// Stage `index` serves what it should: what it serves InService becomes
    /// the next stage's record, unless that stage has a manual gate. The next
    /// stage's index, or why nothing moves on.
    pub(super) async fn advance(
        &self,
        index: usize,
        event_id: Option<&str>,
    ) -> Result<Advance, Error> {
        let stage = self.config.stages.at(index);
        let Some(next) = self.config.stages.next(index) else {
            return Ok(Advance::Stays(format!(
                "{} is InService; it is the last stage",
                stage.name
            )));
        };
        if next.manual_gate {
            return Ok(Advance::Stays(format!(
                "{} is InService; {} has a manual gate (send PromoteModel)",
                stage.name, next.name
            )));
        }
        let serving = stages::serving(&self.sagemaker, &stage.endpoint).await?;
        let Some(lineage) = serving
            .filter(|s| s.state == EndpointState::InService)
            .and_then(|s| s.lineage)
        else {
            return Ok(Advance::Stays(format!(
                "{} serves nothing promote-model deployed",
                stage.endpoint
            )));
        };
        let Some(package) = registry::find(
            &self.sagemaker,
            &lineage.model_package_group,
            lineage.model_package_version,
        )
        .await?
        .filter(|p| p.approval == APPROVED) else {
            return Ok(Advance::Stays(format!(
                "{} v{} is no longer approved: not moved on",
                lineage.model_package_group, lineage.model_package_version
            )));
        };
        let request = Request {
            source_event_id: event_id,
            ..Request::default()
        };
        self.record(index + 1, &package, Cause::Advance, request)
            .await?;
        Ok(Advance::To(index + 1))
    }
}
