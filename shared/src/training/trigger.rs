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

use super::config::TriggerConfig;
use super::drift_check::{DatasetDrift, DriftCheck};
use super::gate;
use super::parameters::{
    DATASET_ID, TEST_DATA, TRAINING_CONTENT_TYPE, TRAIN_DATA, VALIDATION_DATA,
};
use crate::aws::S3Location;
use crate::aws::{bus, s3, sagemaker};
use crate::dataset::{DatasetId, OutputKind, TrainingFormat};
use crate::error::Error;
use crate::events::dataset::DatasetReady;
use crate::events::pipeline::{
    DatasetRejected, PipelineStatusChange, TrainingFailed, DATASET_REJECTED, TRAINING_FAILED,
    TRIGGER_SOURCE,
};
use crate::report::{Report, ReportSummary};
use crate::telemetry::{Metrics, Unit};
use aws_sdk_sagemaker::types::Parameter as SmParameter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The claim's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Claim {
    Claimed {
        dataset_id: DatasetId,
        claimed_at_ms: u64,
    },
    Started {
        dataset_id: DatasetId,
        execution_arn: String,
        parameters: BTreeMap<String, String>,
    },
    Refused {
        dataset_id: DatasetId,
        reasons: Vec<String>,
    },
    Skipped {
        dataset_id: DatasetId,
        reason: String,
    },
}

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

/// A dataset an event named, as the ETL recorded it.
struct Verified {
    id: DatasetId,
    /// The report's counts (the quality gate's input), not the event's.
    summary: ReportSummary,
    /// Where the report is.
    report: String,
    /// The form the ETL wrote the training channels in (the report's).
    format: TrainingFormat,
}

pub struct TriggerService {
    pub s3: aws_sdk_s3::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// The serving model's quality check calls its endpoint.
    pub runtime: aws_sdk_sagemakerruntime::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub config: TriggerConfig,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A dataset whose training started or was refused: a duplicate delivery,
/// nothing to do. `None` for a claim still being acted on.
fn settled(id: &DatasetId, claim: &Claim) -> Option<TriggerOutcome> {
    match claim {
        Claim::Started { execution_arn, .. } => {
            tracing::info!(%execution_arn, "duplicate delivery: the dataset's execution already exists, nothing to do");
            Some(TriggerOutcome::AlreadyStarted {
                dataset_id: id.clone(),
                execution_arn: execution_arn.clone(),
            })
        }
        Claim::Refused { .. } => {
            tracing::info!("duplicate delivery: the dataset was already refused, nothing to do");
            Some(TriggerOutcome::AlreadyRefused {
                dataset_id: id.clone(),
            })
        }
        Claim::Skipped { .. } => {
            tracing::info!("duplicate delivery: retrain_on already kept the dataset from training, nothing to do");
            Some(TriggerOutcome::AlreadySkipped {
                dataset_id: id.clone(),
            })
        }
        Claim::Claimed { .. } => None,
    }
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

/// The execution's display name: `housing-` and the dataset id (≤ 82 characters,
/// letters, digits and hyphens, as SageMaker requires).
pub fn display_name(id: &DatasetId) -> String {
    format!("housing-{id}")
}

/// The idempotency token SageMaker accepts (32–128 characters), from the dataset id.
pub fn client_request_token(id: &DatasetId) -> String {
    format!("housing-mlops-{id}")
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

    /// The pipeline parameters for a dataset: every location from the dataset
    /// layout, the (validated) id and the training channels' form from its report,
    /// never from an event.
    pub fn parameters(&self, id: &DatasetId, format: TrainingFormat) -> BTreeMap<String, String> {
        let layout = &self.config.layout;
        let uri = |kind: OutputKind| layout.output(id, kind).uri();
        BTreeMap::from([
            (DATASET_ID.to_string(), id.to_string()),
            (TRAIN_DATA.to_string(), uri(format.train())),
            (VALIDATION_DATA.to_string(), uri(format.validation())),
            (TEST_DATA.to_string(), uri(OutputKind::TestXgboost)),
            (
                TRAINING_CONTENT_TYPE.to_string(),
                format.content_type().to_string(),
            ),
        ])
    }

    /// What the ETL recorded about the dataset an event names: its report, read
    /// from where the ETL wrote it (before it published the event). `None` when
    /// there is none: no dataset the ETL wrote has that id.
    async fn verify(
        &self,
        dataset: &DatasetReady,
        id: DatasetId,
    ) -> Result<Option<Verified>, Error> {
        let at = self.config.layout.output(&id, OutputKind::Report);
        let Some((bytes, _)) = s3::read(&self.s3, &at).await? else {
            return Ok(None);
        };
        let report: Report = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("unreadable report {}: {e}", at.uri())))?;
        if report.dataset_id != id {
            return Err(Error::Internal(format!(
                "{} is the report of {}, not of {id}",
                at.uri(),
                report.dataset_id
            )));
        }
        let format = report.options.training_format;
        if dataset.outputs != self.config.layout.output_uris(&id, format)
            || dataset.summary != report.summary()
        {
            tracing::warn!(
                "the event's locations or counts are not the dataset's: using the layout and the report"
            );
        }
        Ok(Some(Verified {
            id,
            summary: report.summary(),
            report: at.uri(),
            format,
        }))
    }

    /// The claim, or `None` when the dataset is unclaimed (one GET, no HEAD first).
    async fn read_claim(&self, marker: &S3Location) -> Result<Option<Claim>, Error> {
        let Some((bytes, _)) = s3::read(&self.s3, marker).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Internal(format!("unreadable claim {}: {e}", marker.uri())))
    }

    async fn write_claim(
        &self,
        marker: &S3Location,
        claim: &Claim,
        only_if_absent: bool,
    ) -> Result<bool, Error> {
        let body = serde_json::to_vec_pretty(claim).map_err(|e| Error::Internal(e.to_string()))?;
        if only_if_absent {
            Ok(s3::put_if_absent(&self.s3, marker, body, "application/json").await?)
        } else {
            s3::put(&self.s3, marker, body, "application/json").await?;
            Ok(true)
        }
    }

    /// The drift check of a verified dataset.
    async fn drift(&self, id: &DatasetId) -> Result<DriftCheck, Error> {
        DatasetDrift {
            s3: &self.s3,
            sagemaker: &self.sagemaker,
            runtime: &self.runtime,
            events: &self.events,
            event_bus: &self.config.event_bus,
            layout: &self.config.layout,
            policy: &self.config.drift,
            stages: &self.config.stages,
            quality_max_rows: self.config.quality_max_rows,
        }
        .check(id)
        .await
    }

    #[tracing::instrument(skip_all, fields(dataset_id = %dataset.dataset_id))]
    pub async fn on_dataset_ready(&self, dataset: &DatasetReady) -> Result<DatasetOutcome, Error> {
        let id: DatasetId = dataset.dataset_id.as_str().parse().map_err(Error::Event)?;
        let marker = self.config.layout.training_claim(&id);
        // The claim first: a duplicate delivery of a started or refused dataset
        // costs one GET, not two.
        let claim = self.read_claim(&marker).await?;
        if let Some(done) = claim.as_ref().and_then(|c| settled(&id, c)) {
            return Ok(done.into());
        }
        let Some(dataset) = self.verify(dataset, id).await? else {
            let reason = format!(
                "dataset {} has no report: no dataset the ETL wrote has that id",
                dataset.dataset_id
            );
            tracing::warn!("ignored: {reason}");
            Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
                .put("UnknownDatasets", 1.0, Unit::Count)
                .emit();
            return Ok(TriggerOutcome::Ignored { reason }.into());
        };
        let dataset = &dataset;
        let id = dataset.id.clone();
        let drift = self.drift(&id).await?;
        let outcome = self.decide(dataset, &marker, claim, &drift).await?;
        Ok(DatasetOutcome {
            outcome,
            drift: Some(drift),
        })
    }

    /// Train, refuse or skip a verified dataset (`claim`: as read before the check).
    async fn decide(
        &self,
        dataset: &Verified,
        marker: &S3Location,
        claim: Option<Claim>,
        drift: &DriftCheck,
    ) -> Result<TriggerOutcome, Error> {
        let id = dataset.id.clone();
        if let Some(claim) = claim {
            return self.existing(dataset, marker, claim).await;
        }

        let reasons = gate::check(&dataset.summary, &self.config.thresholds);
        if !reasons.is_empty() {
            // Published before the refusal is recorded: a crash between the two
            // repeats the event (consumers deduplicate on dataset_id), never loses it.
            let detail = DatasetRejected {
                dataset_id: id.clone(),
                reasons: reasons.clone(),
                summary: dataset.summary.clone(),
            };
            bus::publish(
                &self.events,
                &self.config.event_bus,
                TRIGGER_SOURCE,
                DATASET_REJECTED,
                &detail,
            )
            .await?;
            let claim = Claim::Refused {
                dataset_id: id.clone(),
                reasons: reasons.clone(),
            };
            if !self.write_claim(marker, &claim, true).await? {
                tracing::info!("a concurrent delivery recorded the refusal first");
            }
            tracing::warn!(
                ?reasons,
                "dataset refused by the quality gate; no training started"
            );
            Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
                .put("DatasetsRefused", 1.0, Unit::Count)
                .emit();
            return Ok(TriggerOutcome::Refused {
                dataset_id: id,
                reasons,
            });
        }

        if let Err(reason) = drift.allows_training(self.config.drift.retrain_on) {
            let claim = Claim::Skipped {
                dataset_id: id.clone(),
                reason: reason.clone(),
            };
            if !self.write_claim(marker, &claim, true).await? {
                tracing::info!("a concurrent delivery recorded the decision first");
            }
            tracing::info!(%reason, "no training started");
            Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
                .put("TrainingSkipped", 1.0, Unit::Count)
                .emit();
            return Ok(TriggerOutcome::Skipped {
                dataset_id: id,
                reason,
            });
        }

        let claim = Claim::Claimed {
            dataset_id: id.clone(),
            claimed_at_ms: now_ms(),
        };
        if !self.write_claim(marker, &claim, true).await? {
            // Another delivery claimed it between our read and our write.
            let claim = self
                .read_claim(marker)
                .await?
                .ok_or_else(|| Error::Internal("claim vanished".into()))?;
            return self.existing(dataset, marker, claim).await;
        }
        self.start(dataset, marker).await
    }

    async fn existing(
        &self,
        dataset: &Verified,
        marker: &S3Location,
        claim: Claim,
    ) -> Result<TriggerOutcome, Error> {
        let id = dataset.id.clone();
        if let Some(done) = settled(&id, &claim) {
            return Ok(done);
        }
        match claim {
            Claim::Started { .. } | Claim::Refused { .. } | Claim::Skipped { .. } => Err(
                Error::Internal("a settled claim reached the take-over path".into()),
            ),
            Claim::Claimed { claimed_at_ms, .. } => {
                if let Some(execution_arn) = self.find_execution(&id).await? {
                    let parameters = self.parameters(&id, dataset.format);
                    let started = Claim::Started {
                        dataset_id: id.clone(),
                        execution_arn: execution_arn.clone(),
                        parameters,
                    };
                    self.write_claim(marker, &started, false).await?;
                    return Ok(TriggerOutcome::AlreadyStarted {
                        dataset_id: id,
                        execution_arn,
                    });
                }
                let age_s = now_ms().saturating_sub(claimed_at_ms) / 1000;
                if age_s < self.config.claim_timeout_seconds {
                    return Err(Error::Busy {
                        kind: "ClaimInProgress",
                        message: format!("dataset {id} was claimed {age_s}s ago by another delivery; retry later"),
                    });
                }
                tracing::warn!(age_s, "taking over a claim that never started an execution");
                self.start(dataset, marker).await
            }
        }
    }

    /// An execution of our pipeline carrying this dataset's display name.
    async fn find_execution(&self, id: &DatasetId) -> Result<Option<String>, Error> {
        let out = self
            .sagemaker
            .list_pipeline_executions()
            .pipeline_name(&self.config.pipeline_name)
            .sort_by(aws_sdk_sagemaker::types::SortPipelineExecutionsBy::CreationTime)
            .sort_order(aws_sdk_sagemaker::types::SortOrder::Descending)
            .send()
            .await
            .map_err(|e| {
                sagemaker::error("ListPipelineExecutions", &self.config.pipeline_name, e)
            })?;
        let name = display_name(id);
        Ok(out
            .pipeline_execution_summaries()
            .iter()
            .find(|s| s.pipeline_execution_display_name() == Some(name.as_str()))
            .and_then(|s| s.pipeline_execution_arn().map(str::to_string)))
    }

    async fn start(
        &self,
        dataset: &Verified,
        marker: &S3Location,
    ) -> Result<TriggerOutcome, Error> {
        let id = dataset.id.clone();
        let parameters = self.parameters(&id, dataset.format);
        let sm_parameters: Vec<SmParameter> = parameters
            .iter()
            .map(|(k, v)| SmParameter::builder().name(k).value(v).build())
            .collect();
        let description = format!(
            "Training on dataset {id} ({} rows, report {})",
            dataset.summary.rows_out, dataset.report
        );
        let result = self
            .sagemaker
            .start_pipeline_execution()
            .pipeline_name(&self.config.pipeline_name)
            .pipeline_execution_display_name(display_name(&id))
            .pipeline_execution_description(description)
            .set_pipeline_parameters(Some(sm_parameters))
            .client_request_token(client_request_token(&id))
            .send()
            .await;
        let execution_arn = match result {
            Ok(out) => out.pipeline_execution_arn().unwrap_or_default().to_string(),
            Err(e) => {
                // Release the claim so the retry (or a redrive from the DLQ) starts
                // afresh. Safe even if the call reached SageMaker: the retry sends the
                // same ClientRequestToken, and AWS returns the same execution.
                s3::delete(&self.s3, marker).await?;
                let pipeline = &self.config.pipeline_name;
                return Err(sagemaker::error("StartPipelineExecution", pipeline, e).into());
            }
        };
        let claim = Claim::Started {
            dataset_id: id.clone(),
            execution_arn: execution_arn.clone(),
            parameters: parameters.clone(),
        };
        self.write_claim(marker, &claim, false).await?;
        tracing::info!(%execution_arn, pipeline = %self.config.pipeline_name, "training pipeline started");
        Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
            .put("PipelinesStarted", 1.0, Unit::Count)
            .emit();
        Ok(TriggerOutcome::Started {
            dataset_id: id,
            execution_arn,
            parameters,
        })
    }

    #[tracing::instrument(skip_all, fields(execution = %change.pipeline_execution_arn))]
    pub async fn on_pipeline_status(
        &self,
        change: &PipelineStatusChange,
    ) -> Result<TriggerOutcome, Error> {
        if !change
            .pipeline_name()
            .eq_ignore_ascii_case(&self.config.pipeline_name)
        {
            return Ok(TriggerOutcome::Ignored {
                reason: format!(
                    "pipeline {} is not {}",
                    change.pipeline_name(),
                    self.config.pipeline_name
                ),
            });
        }
        let execution_arn = change.pipeline_execution_arn.clone();
        let status = change.current_pipeline_execution_status.clone();
        let metrics = Metrics::new(&[("Function", crate::functions::START_PIPELINE)]);
        match status.as_str() {
            "Succeeded" => {
                tracing::info!("training pipeline succeeded");
                metrics.put("TrainingSucceeded", 1.0, Unit::Count).emit();
                Ok(TriggerOutcome::TrainingSucceeded { execution_arn })
            }
            "Failed" | "Stopped" => {
                let described = self
                    .sagemaker
                    .describe_pipeline_execution()
                    .pipeline_execution_arn(&execution_arn)
                    .send()
                    .await
                    .map_err(|e| {
                        sagemaker::error("DescribePipelineExecution", &execution_arn, e)
                    })?;
                let reason = described
                    .failure_reason()
                    .filter(|r| !r.is_empty())
                    .unwrap_or(match status.as_str() {
                        "Stopped" => "the execution was stopped",
                        _ => "no failure reason reported",
                    });
                let reason = reason.to_string();
                let parameters = self
                    .sagemaker
                    .list_pipeline_parameters_for_execution()
                    .pipeline_execution_arn(&execution_arn)
                    .send()
                    .await
                    .map_err(|e| {
                        sagemaker::error("ListPipelineParametersForExecution", &execution_arn, e)
                    })?;
                let dataset_id = parameters
                    .pipeline_parameters()
                    .iter()
                    .find(|p| p.name() == Some(DATASET_ID))
                    .and_then(|p| p.value().map(str::to_string));
                let detail = TrainingFailed {
                    pipeline_execution_arn: execution_arn.clone(),
                    status: status.clone(),
                    reason: reason.clone(),
                    dataset_id,
                };
                bus::publish(
                    &self.events,
                    &self.config.event_bus,
                    TRIGGER_SOURCE,
                    TRAINING_FAILED,
                    &detail,
                )
                .await?;
                tracing::error!(%status, %reason, "training pipeline did not succeed");
                metrics.put("TrainingFailed", 1.0, Unit::Count).emit();
                Ok(TriggerOutcome::TrainingFailed {
                    execution_arn,
                    execution_status: status,
                    reason,
                })
            }
            other => Ok(TriggerOutcome::Ignored {
                reason: format!("status {other} needs no action"),
            }),
        }
    }
}
