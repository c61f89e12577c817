//! What a promotion step did ([`PromotionOutcome`], the function's answer), why
//! it was asked ([`Request`]), and whether a stage's package moves on
//! ([`Advance`]). Every step of `service.rs`, `converge.rs` and `deploy.rs`
//! speaks these; none of them is defined by a step.

use crate::error::Error;
use serde::Serialize;

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
    /// The candidate runs in a shadow test beside the serving model on
    /// `endpoint_config` (`started`: by this call), judged at the first
    /// convergence after `judged_after_ms`.
    Shadowing {
        stage: String,
        endpoint: String,
        endpoint_config: String,
        model_package_arn: String,
        started: bool,
        judged_after_ms: i64,
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
    /// Outside the stage's `active` window: its endpoint is deleted (or is
    /// being), its record waits for `wakes_at` (RFC 3339, UTC).
    Asleep {
        stage: String,
        endpoint: String,
        endpoint_status: String,
        wakes_at: String,
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
    pub fn is_settled(&self) -> bool {
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
pub struct Request<'a> {
    pub source_event_id: Option<&'a str>,
    pub requested_by: Option<&'a str>,
    /// A person asked (`PromoteModel`): an older version than the serving one
    /// is refused out loud rather than skipped.
    pub explicit: bool,
    /// A rollback from a withdrawn package: older than what serves by design,
    /// and not held to the quality gate (anything approved beats a rejected model).
    pub rollback: bool,
}

/// Whether what a stage serves moves on to the next stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    /// It became the record of the stage at this index.
    To(usize),
    /// It stays: why (the last stage, a manual gate, nothing served, withdrawn).
    Stays(String),
}

pub fn ignored(reason: String) -> Result<PromotionOutcome, Error> {
    tracing::info!(%reason, "ignored");
    Ok(PromotionOutcome::Ignored { reason })
}
