//! The trigger's event handlers: `HousingDatasetReady` (claim, verify, drift
//! check, quality gate, `retrain_on`, start) and the pipeline's status changes.

use super::claims::{now_ms, settled, Claim};
use super::drift_check::{DatasetDrift, DriftCheck};
use super::{count, DatasetOutcome, TriggerOutcome, TriggerService, Verified};
use crate::aws::{bus, s3, sagemaker, S3Location};
use crate::dataset::{DatasetId, OutputKind};
use crate::error::Error;
use crate::events::dataset::DatasetReady;
use crate::events::pipeline::{
    DatasetRejected, PipelineStatusChange, TrainingFailed, DATASET_REJECTED, TRAINING_FAILED,
    TRIGGER_SOURCE,
};
use crate::report::Report;
use crate::telemetry::{Metrics, Unit};
use crate::training::gate;
use crate::training::parameters::DATASET_ID;

impl TriggerService {
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
        let (format, train_parts) = (report.options.training_format, report.options.train_parts);
        if dataset.outputs != self.config.layout.output_uris(&id, format, train_parts)
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
            train_parts,
        }))
    }

    /// The drift check of a verified dataset; none for a dataset the gate will
    /// refuse for its size: an empty or tiny dataset "drifts" on every column and
    /// would sound the drift alarm for data that is never trained on.
    async fn drift(&self, dataset: &Verified) -> Result<DriftCheck, Error> {
        let (id, min_rows) = (&dataset.id, self.config.thresholds.min_rows_out);
        if dataset.summary.rows_out < min_rows {
            let reason = format!(
                "{} rows kept, below the gate's minimum of {min_rows}: no drift check",
                dataset.summary.rows_out
            );
            tracing::info!("{reason}");
            return Ok(DriftCheck::NotChecked { reason });
        }
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
            quality_deadline: self.config.quality_deadline,
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
            count("UnknownDatasets");
            return Ok(TriggerOutcome::Ignored { reason }.into());
        };
        let dataset = &dataset;
        let drift = self.drift(dataset).await?;
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
            count("DatasetsRefused");
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
            count("TrainingSkipped");
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
