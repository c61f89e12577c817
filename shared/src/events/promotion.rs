//! Promotion: the events promote-model consumes (registry approvals, the
//! `PromoteModel` command, endpoint state changes, the schedule's tick) and
//! those it publishes.

use super::endpoint::{EndpointStateChange, ENDPOINT_STATE_CHANGE};
use super::registry::{ModelPackageStateChange, MODEL_PACKAGE_STATE_CHANGE};
use super::{number_or_string, Envelope, Origin, SAGEMAKER_SOURCE};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `source` of every event promote-model publishes.
pub const PROMOTION_SOURCE: &str = "housing-mlops.promotion";
/// `source` of the `PromoteModel` command (a person or CI puts it on the bus).
pub const OPERATOR_SOURCE: &str = "housing-mlops.operator";
/// `detail-type` of the command that promotes a package to the next stage.
pub const PROMOTE_MODEL: &str = "PromoteModel";
/// A deployment to a stage started (create or blue/green update).
pub const MODEL_PROMOTED: &str = "ModelPromoted";
/// A promotion was refused; the detail says why, with the numbers.
pub const PROMOTION_REFUSED: &str = "PromotionRefused";
/// SageMaker is rolling a stage's endpoint back (an alarm fired during a deployment).
pub const DEPLOYMENT_ROLLED_BACK: &str = "DeploymentRolledBack";
/// A stage's endpoint failed to deploy, or its rollback failed.
pub const DEPLOYMENT_FAILED: &str = "DeploymentFailed";
/// A stage serves a package the registry no longer approves.
pub const SERVING_PACKAGE_WITHDRAWN: &str = "ServingPackageWithdrawn";
/// `source` and `detail-type` of what an EventBridge schedule rule sends: the
/// tick on which promote-model converges every stage.
pub const SCHEDULE_SOURCE: &str = "aws.events";
pub const SCHEDULED_EVENT: &str = "Scheduled Event";

/// "Promote version N of this group to that stage."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoteModel {
    pub model_package_group: String,
    #[serde(deserialize_with = "number_or_string")]
    pub model_package_version: u32,
    pub target_stage: String,
    /// Who asked (a person or a CI job), recorded in the published events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPromoted {
    pub stage: String,
    pub endpoint: String,
    /// `create` (a new endpoint) or `update` (blue/green on a serving one).
    pub action: String,
    pub endpoint_config: String,
    pub model: String,
    pub model_package_arn: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    /// The traffic shifting used (`all-at-once`, `canary 10% / 600s`, ...).
    pub deployment: String,
    pub alarms: Vec<String>,
    pub dataset_id: Option<String>,
    pub validation_rmse: Option<f64>,
    /// The evaluation step's RMSE on the test split.
    pub test_rmse: Option<f64>,
    pub pipeline_execution_arn: Option<String>,
    /// The package this one replaces, if the stage served one.
    pub replaces_model_package_arn: Option<String>,
    pub source_event_id: Option<String>,
    pub requested_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionRefused {
    pub stage: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    pub model_package_arn: Option<String>,
    /// Machine-readable: `QualityGate`, `PreviousStageNotServing`, `WouldDowngrade`, ...
    pub reason: String,
    pub message: String,
    /// The metric the quality gate compared (`test_rmse` when both packages
    /// have one, else `validation_rmse`), and its two values.
    pub rmse_metric: Option<String>,
    pub candidate_rmse: Option<f64>,
    pub serving_rmse: Option<f64>,
    /// Relative RMSE increase allowed over the serving model.
    pub rmse_tolerance: Option<f64>,
    pub serving_model_package_arn: Option<String>,
    pub source_event_id: Option<String>,
    pub requested_by: Option<String>,
}

/// `ServingPackageWithdrawn`: a stage serves a package that is no longer
/// approved; it is rolled back to `rollback_to` (the newest approved version
/// of the group before it), or, when there is none, keeps serving it and its
/// record halts (`ServingWithdrawn`) until a person acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServingPackageWithdrawn {
    pub stage: String,
    pub endpoint: String,
    pub model_package_arn: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    /// The package's approval status now (`Rejected`, `PendingManualApproval`).
    pub approval: String,
    pub rollback_to: Option<String>,
    pub message: String,
    pub source_event_id: Option<String>,
}

/// `DeploymentRolledBack` / `DeploymentFailed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentReport {
    pub stage: String,
    pub endpoint: String,
    pub endpoint_status: String,
    pub endpoint_config: Option<String>,
    pub source_event_id: Option<String>,
}

/// A shadow test's candidate was within the stage's limits: it is deployed
/// with the stage's blue/green policy.
pub const SHADOW_TEST_PASSED: &str = "ShadowTestPassed";
/// A shadow test's candidate was not: the shadow is removed and the stage's
/// record halts (`ShadowRejected`).
pub const SHADOW_TEST_FAILED: &str = "ShadowTestFailed";

/// What one variant did during a shadow test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VariantTraffic {
    /// Requests it answered or failed.
    pub invocations: u64,
    /// Requests it failed (4xx and 5xx answers of the model).
    pub errors: u64,
    /// Its mean model latency over the test (CloudWatch's `ModelLatency`, Average), when measured.
    pub latency_mean_ms: Option<f64>,
}

/// The relative difference |candidate - serving| / |serving| over the requests
/// both answered, by percentile, and the mean signed difference (candidate
/// minus serving, relative: above 0, the candidate predicts higher).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictionDelta {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean_signed: f64,
}

/// A shadow test's numbers and verdict: `ShadowTestPassed`/`ShadowTestFailed`
/// carry it, and a rejected record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowComparison {
    /// Records (rows of the requests) both variants answered, paired by their input.
    pub compared: u64,
    pub serving: VariantTraffic,
    pub candidate: VariantTraffic,
    /// The candidate's failed share of its invocations.
    pub candidate_error_rate: f64,
    /// The candidate's mean latency over the serving model's, when both were measured.
    pub latency_ratio: Option<f64>,
    /// `None` when no request was answered by both.
    pub prediction_delta: Option<PredictionDelta>,
    /// Each limit the candidate did not keep, said with its numbers; empty:
    /// it passed.
    pub crossed: Vec<String>,
}

/// `ShadowTestPassed` / `ShadowTestFailed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowTestResult {
    pub stage: String,
    pub endpoint: String,
    /// The candidate.
    pub model_package_arn: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    /// What the stage served meanwhile.
    pub serving_model_package_arn: Option<String>,
    pub started_at_ms: i64,
    pub ended_at_ms: i64,
    pub comparison: ShadowComparison,
}

/// What promote-model was handed.
#[derive(Debug, Clone, PartialEq)]
pub enum PromotionEvent {
    PackageStateChange {
        origin: Origin,
        change: ModelPackageStateChange,
    },
    Promote {
        origin: Origin,
        command: PromoteModel,
    },
    EndpointState {
        origin: Origin,
        change: EndpointStateChange,
    },
    /// The schedule's tick: converge every stage.
    Tick { origin: Origin },
    /// Well-formed, but not an event promote-model handles.
    Other(String),
}

/// Routes an EventBridge event to what promote-model understands.
pub fn parse_promotion_event(event: &Value) -> Result<PromotionEvent, Error> {
    let envelope = Envelope::read(event)?;
    let origin = envelope.origin();
    match (envelope.source, envelope.detail_type) {
        (SAGEMAKER_SOURCE, MODEL_PACKAGE_STATE_CHANGE) => Ok(PromotionEvent::PackageStateChange {
            origin,
            change: envelope.detail()?,
        }),
        (SAGEMAKER_SOURCE, ENDPOINT_STATE_CHANGE) => Ok(PromotionEvent::EndpointState {
            origin,
            change: envelope.detail()?,
        }),
        (OPERATOR_SOURCE, PROMOTE_MODEL) => Ok(PromotionEvent::Promote {
            origin,
            command: envelope.detail()?,
        }),
        (SCHEDULE_SOURCE, SCHEDULED_EVENT) => Ok(PromotionEvent::Tick { origin }),
        (source, detail_type) => Ok(PromotionEvent::Other(format!("{source} {detail_type}"))),
    }
}
