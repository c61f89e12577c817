//! The pipeline execution of a dataset: started once (a display name and an
//! idempotency token from the dataset id), found again by its display name
//! when a claim holder crashed, and recorded in the claim.

use super::claims::{now_ms, settled, Claim};
use super::{count, TriggerOutcome, TriggerService, Verified};
use crate::aws::{s3, sagemaker, S3Location};
use crate::dataset::{DatasetId, OutputKind, TrainParts, TrainingFormat};
use crate::error::Error;
use crate::training::parameters::{
    DATASET_ID, INSTANCE_COUNT, TEST_DATA, TRAINING_CONTENT_TYPE, TRAIN_DATA, VALIDATION_DATA,
};
use aws_sdk_sagemaker::types::Parameter as SmParameter;
use std::collections::BTreeMap;

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
    /// The pipeline parameters for a dataset: every location from the dataset
    /// layout, the (validated) id and the training channels' form and parts from
    /// its report, never from an event; the configured instances, but no more
    /// than the train channel has parts.
    pub fn parameters(
        &self,
        id: &DatasetId,
        format: TrainingFormat,
        parts: TrainParts,
    ) -> BTreeMap<String, String> {
        let layout = &self.config.layout;
        let uri = |kind: OutputKind| layout.channel_uri(id, kind, parts);
        let configured = self.config.training_instances as usize;
        let instances = configured.min(parts.get());
        if instances < configured {
            tracing::warn!(
                dataset_id = %id,
                configured,
                train_parts = parts.get(),
                "the dataset's train channel has fewer parts than TRAINING_INSTANCE_COUNT: training on {instances}"
            );
        }
        BTreeMap::from([
            (DATASET_ID.to_string(), id.to_string()),
            (TRAIN_DATA.to_string(), uri(format.train())),
            (VALIDATION_DATA.to_string(), uri(format.validation())),
            (TEST_DATA.to_string(), uri(OutputKind::TestXgboost)),
            (
                TRAINING_CONTENT_TYPE.to_string(),
                format.content_type().to_string(),
            ),
            (INSTANCE_COUNT.to_string(), instances.to_string()),
        ])
    }

    /// A claimed dataset: settled, being started by another delivery, or
    /// abandoned (taken over after the claim timeout).
    pub(super) async fn existing(
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
                    let parameters = self.parameters(&id, dataset.format, dataset.train_parts);
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

    /// Starts the execution and records it in the claim; a failed start
    /// releases the claim.
    pub(super) async fn start(
        &self,
        dataset: &Verified,
        marker: &S3Location,
    ) -> Result<TriggerOutcome, Error> {
        let id = dataset.id.clone();
        let parameters = self.parameters(&id, dataset.format, dataset.train_parts);
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
        count("PipelinesStarted");
        Ok(TriggerOutcome::Started {
            dataset_id: id,
            execution_arn,
            parameters,
        })
    }
}
