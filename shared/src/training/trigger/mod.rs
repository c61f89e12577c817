//! Starts the training pipeline exactly once per dataset, however many times the
//! `HousingDatasetReady` event is delivered.
//!
//! The event only names the dataset: its id must be one (`ds-` and 32 hex digits),
//! its counts come from the report the ETL wrote before publishing (none there:
//! no such dataset, ignored), and every data location from the dataset layout. A
//! forged event can neither point training at other data nor talk its way past
//! the quality gate.
//!
//! The claim is an S3 object next to the dataset ([`crate::dataset::TRAINING_CLAIM`]),
//! created with `If-None-Match: *` before anything is started:
//!
//! - `claimed`: this delivery owns the dataset; it starts the execution (with a
//!   `ClientRequestToken` derived from the dataset id, which AWS also honours) and
//!   records it as `started` with the execution ARN;
//! - `started`: a later delivery is a logged no-op that returns the execution;
//! - `skipped`: the drift policy's `retrain_on` kept the dataset from training
//!   (`never`, or `drift` and no column drifted); later deliveries are no-ops;
//! - `refused`: the quality gate refused the dataset (`HousingDatasetRejected` is
//!   published first, then the refusal recorded); later deliveries are no-ops;
//! - a `claimed` without an execution means another delivery is starting it now
//!   (retryable: EventBridge tries again), or crashed: the execution is looked up
//!   by its display name, and after the claim timeout started if absent. A failed
//!   start releases the claim.

//!
//! The trigger's steps, each calling only the ones below it:
//! 1. [`service`]: the event handlers (`HousingDatasetReady`, pipeline status);
//! 2. [`drift_check`]: the dataset against the serving model's training data,
//!    and the model's quality on it;
//! 3. [`execution`]: the pipeline execution, started once (and found again);
//! 4. [`claims`]: the claim object and its states.

pub mod claims;
pub mod drift_check;
pub mod execution;
pub mod service;

pub use claims::Claim;
pub use drift_check::DriftCheck;

use super::config::TriggerConfig;
use crate::dataset::{DatasetId, TrainParts, TrainingFormat};
use crate::report::ReportSummary;
use crate::telemetry::{Metrics, Unit};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TriggerOutcome {
    Started {
        dataset_id: DatasetId,
        execution_arn: String,
        parameters: BTreeMap<String, String>,
    },
    /// A re-delivery: the dataset is already training (or trained).
    AlreadyStarted {
        dataset_id: DatasetId,
        execution_arn: String,
    },
    Refused {
        dataset_id: DatasetId,
        reasons: Vec<String>,
    },
    AlreadyRefused {
        dataset_id: DatasetId,
    },
    /// `retrain_on` kept the dataset from training.
    Skipped {
        dataset_id: DatasetId,
        reason: String,
    },
    AlreadySkipped {
        dataset_id: DatasetId,
    },
    TrainingSucceeded {
        execution_arn: String,
    },
    TrainingFailed {
        execution_arn: String,
        execution_status: String,
        reason: String,
    },
    Ignored {
        reason: String,
    },
}

/// A `HousingDatasetReady`'s outcome: what the trigger did, and the drift
/// check (absent for a duplicate of a settled dataset or an unknown one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetOutcome {
    #[serde(flatten)]
    pub outcome: TriggerOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftCheck>,
}

impl From<TriggerOutcome> for DatasetOutcome {
    fn from(outcome: TriggerOutcome) -> Self {
        DatasetOutcome {
            outcome,
            drift: None,
        }
    }
}

/// A dataset an event named, as the ETL recorded it.
pub(crate) struct Verified {
    pub(crate) id: DatasetId,
    /// The report's counts (the quality gate's input), not the event's.
    pub(crate) summary: ReportSummary,
    /// Where the report is.
    pub(crate) report: String,
    /// The form the ETL wrote the training channels in (the report's).
    pub(crate) format: TrainingFormat,
    /// The files the ETL wrote the train channel as (the report's).
    pub(crate) train_parts: TrainParts,
}

pub struct TriggerService {
    pub s3: aws_sdk_s3::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// The serving model's quality check calls its endpoint.
    pub runtime: aws_sdk_sagemakerruntime::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub config: TriggerConfig,
}

impl TriggerService {
    /// The clients, with call timeouts (see [`crate::aws::with_call_timeouts`]):
    /// a claim holder never outlives the function's timeout, which the claim
    /// timeout exceeds.
    pub fn new(sdk: &aws_config::SdkConfig, config: TriggerConfig) -> Self {
        let sdk = &crate::aws::with_call_timeouts(sdk);
        TriggerService {
            s3: crate::aws::s3_client(sdk, config.aws),
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            runtime: aws_sdk_sagemakerruntime::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            config,
        }
    }
}

/// One count of `name` (EMF, dimension `Function`).
fn count(name: &str) {
    Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
        .put(name, 1.0, Unit::Count)
        .emit();
}
