//! A package rejected (or sent back to pending) after it was deployed must not
//! keep serving silently. Whenever a stage converges, what it serves is held to
//! the registry; when that package is no longer approved:
//!
//! - `ServingPackageWithdrawn` is published (once per withdrawal) with a
//!   `PackagesWithdrawn` metric;
//! - the stage is rolled back to the newest approved version of the group
//!   *before* the withdrawn one: it becomes the stage's record (cause
//!   `rollback`) and is deployed like any record (blue/green, the stage's
//!   alarms), without the no-downgrade rule and the quality gate — anything
//!   approved beats a model the registry rejected;
//! - with no approved version before it, the record halts (`ServingWithdrawn`)
//!   and the endpoint keeps serving: deleting it would take the stage down,
//!   which is a person's call. The metric and the event say so; approving
//!   another version or a `PromoteModel` moves the stage on.
//!
//! A record that already asks for another package is left to do its work (it
//! replaces the withdrawn model when it deploys). A rollback record is checked
//! again at every convergence like any record (`verify.rs`): it must be what
//! this rule picks, so a hand-written one cannot downgrade a stage.

use super::desired::{Cause, Desired, Status};
use super::outcome::{PromotionOutcome, Request};
use super::promoter::PromotionService;
use super::registry;
use crate::aws::bus;
use crate::error::Error;
use crate::events::promotion::{
    ServingPackageWithdrawn, PROMOTION_SOURCE, SERVING_PACKAGE_WITHDRAWN,
};
use crate::events::registry::APPROVED;
use crate::stages::{same_arn, Package, Serving};

/// Counted (by `Function`, `Stage`) for each stage found serving a withdrawn
/// package: the `package-withdrawn` alarm's metric.
pub const PACKAGES_WITHDRAWN_METRIC: &str = "PackagesWithdrawn";

/// The halt reason of a stage serving a withdrawn package with nothing to roll back to.
pub const SERVING_WITHDRAWN: &str = "ServingWithdrawn";

/// What holding a stage's serving package to the registry came to.
pub(super) enum Held {
    /// Converging goes on. `withdrawn`: what the stage serves is no longer
    /// approved, and the stage's record (another package's, or the rollback
    /// just recorded) replaces it.
    Converge { withdrawn: bool },
    /// The stage's outcome (halted).
    Done(PromotionOutcome),
}

impl PromotionService {
    /// Holds what stage `index` serves to the registry (see the module): see [`Held`].
    pub(super) async fn withdraw_if_rejected(
        &self,
        index: usize,
        serving: Option<&Serving>,
    ) -> Result<Held, Error> {
        let stage = self.config.stages.at(index);
        let Some(lineage) = serving.and_then(|s| s.lineage.as_ref()) else {
            return Ok(Held::Converge { withdrawn: false });
        };
        let described = registry::describe(&self.sagemaker, &lineage.model_package_arn).await?;
        let approval = described
            .as_ref()
            .map_or("(deleted)".to_string(), |p| p.approval.clone());
        if approval == APPROVED {
            return Ok(Held::Converge { withdrawn: false });
        }
        let current = self.desired.read(&stage.name).await?;
        if let Some(read) = &current {
            let d = &read.desired;
            let names_served = same_arn(&d.model_package_arn, &lineage.model_package_arn);
            if !d.is_halted() && !names_served {
                // A record of another package is under way: it replaces the
                // withdrawn model (or halts, and the next convergence comes here).
                return Ok(Held::Converge { withdrawn: true });
            }
            if let Status::Halted { reason, .. } = &d.status {
                if reason == SERVING_WITHDRAWN && names_served {
                    return Ok(Held::Done(PromotionOutcome::Halted {
                        stage: stage.name.clone(),
                        reason: reason.clone(),
                        model_package_arn: d.model_package_arn.clone(),
                    }));
                }
            }
        }
        let target = registry::latest_approved_below(
            &self.sagemaker,
            &lineage.model_package_group,
            Some(lineage.model_package_version),
        )
        .await?;
        let served = format!(
            "{} v{} serves {} but is {approval}",
            lineage.model_package_group, lineage.model_package_version, stage.endpoint
        );
        let message = match &target {
            Some(t) => format!("{served}: rolled back to v{}", t.version),
            None => format!(
                "{served}, and no version before it is approved: it keeps serving until a person acts (approve another version, or PromoteModel)"
            ),
        };
        tracing::error!(stage = %stage.name, "{message}");
        self.metric(PACKAGES_WITHDRAWN_METRIC, &stage.name);
        let detail = ServingPackageWithdrawn {
            stage: stage.name.clone(),
            endpoint: stage.endpoint.clone(),
            model_package_arn: lineage.model_package_arn.clone(),
            model_package_group: lineage.model_package_group.clone(),
            model_package_version: lineage.model_package_version,
            approval,
            rollback_to: target.as_ref().map(|t| t.arn.clone()),
            message: message.clone(),
            source_event_id: None,
        };
        bus::publish(
            &self.events,
            &self.config.event_bus,
            PROMOTION_SOURCE,
            SERVING_PACKAGE_WITHDRAWN,
            &detail,
        )
        .await?;
        if let Some(target) = target {
            let request = Request {
                rollback: true,
                ..Request::default()
            };
            self.record(index, &target, Cause::Rollback, request)
                .await?;
            return Ok(Held::Converge { withdrawn: true });
        }
        let read = match current {
            Some(read) => read,
            None => {
                // Nothing recorded (a stage deployed before records existed): a
                // record of what it serves, to halt.
                let served = described.unwrap_or_else(|| Package {
                    arn: lineage.model_package_arn.clone(),
                    group: lineage.model_package_group.clone(),
                    version: lineage.model_package_version,
                    approval: detail.approval.clone(),
                    dataset_id: None,
                    validation_rmse: None,
                    test_rmse: None,
                    pipeline_execution_arn: None,
                });
                let record = Desired::new(&stage.name, &served, Cause::Rollback, None, None);
                if !self.desired.write(&record, None).await? {
                    return Ok(Held::Converge { withdrawn: true }); // another request recorded meanwhile: it converges
                }
                match self.desired.read(&stage.name).await? {
                    Some(read) => read,
                    None => return Ok(Held::Converge { withdrawn: true }),
                }
            }
        };
        Ok(Held::Done(
            self.halt(read, SERVING_WITHDRAWN, message).await?,
        ))
    }

    /// For a rollback record: why it is not the rollback this module would
    /// record for the stage whose endpoint is `serving` now; `None` when it is
    /// (or the stage already serves it, or is deploying it).
    pub(super) async fn rollback_problem(
        &self,
        serving: Option<&Serving>,
        record: &Desired,
        config: &str,
    ) -> Result<Option<String>, Error> {
        let Some(serving) = serving else {
            return Ok(Some(
                "a rollback record for an endpoint that does not exist".to_string(),
            ));
        };
        if serving.is_of(&record.model_package_arn)
            || serving.pending_config.as_deref() == Some(config)
        {
            return Ok(None);
        }
        let Some(lineage) = &serving.lineage else {
            return Ok(Some(
                "a rollback record for an endpoint whose config has no lineage".to_string(),
            ));
        };
        let withdrawn = registry::describe(&self.sagemaker, &lineage.model_package_arn)
            .await?
            .is_none_or(|p| p.approval != APPROVED);
        if !withdrawn {
            return Ok(Some(format!(
                "a rollback record, but the {} v{} it would replace is approved",
                lineage.model_package_group, lineage.model_package_version
            )));
        }
        let target = registry::latest_approved_below(
            &self.sagemaker,
            &lineage.model_package_group,
            Some(lineage.model_package_version),
        )
        .await?;
        let is_target = target
            .as_ref()
            .is_some_and(|t| same_arn(&t.arn, &record.model_package_arn));
        Ok((!is_target).then(|| {
            format!(
                "a rollback to {} is not the newest approved version before the withdrawn {} v{}",
                record.model_package_arn,
                lineage.model_package_group,
                lineage.model_package_version
            )
        }))
    }
}
