//! SageMaker "Model Building Pipeline Execution Status Change" (consumed), and the
//! training events the trigger publishes.

use super::{Envelope, SAGEMAKER_SOURCE};
use crate::dataset::DatasetId;
use crate::error::Error;
use crate::report::ReportSummary;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const PIPELINE_STATUS_CHANGE: &str =
    "SageMaker Model Building Pipeline Execution Status Change";

/// The detail of a pipeline execution status change (camelCase, as SageMaker sends it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatusChange {
    pub pipeline_arn: String,
    pub pipeline_execution_arn: String,
    pub current_pipeline_execution_status: String,
    #[serde(default)]
    pub previous_pipeline_execution_status: Option<String>,
    #[serde(default)]
    pub pipeline_execution_display_name: Option<String>,
}

impl PipelineStatusChange {
    /// The pipeline's name, from its ARN (`arn:aws:sagemaker:<region>:<account>:pipeline/<name>`).
    pub fn pipeline_name(&self) -> &str {
        self.pipeline_arn
            .rsplit_once(":pipeline/")
            .map_or("", |(_, name)| name)
    }
}

/// What the trigger was handed.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerEvent {
    DatasetReady {
        id: Option<String>,
        dataset: Box<super::dataset::DatasetReady>,
    },
    PipelineStatus(PipelineStatusChange),
    /// Well-formed, but not an event the trigger handles.
    Other(String),
}

/// Routes an EventBridge event to what the trigger understands.
pub fn parse_trigger_event(event: &Value) -> Result<TriggerEvent, Error> {
    let envelope = Envelope::read(event)?;
    match (envelope.source, envelope.detail_type) {
        (super::ETL_SOURCE, super::DATASET_READY) => Ok(TriggerEvent::DatasetReady {
            id: envelope.id.map(str::to_string),
            dataset: envelope.detail()?,
        }),
        (SAGEMAKER_SOURCE, PIPELINE_STATUS_CHANGE) => {
            Ok(TriggerEvent::PipelineStatus(envelope.detail()?))
        }
        (source, detail_type) => Ok(TriggerEvent::Other(format!("{source} {detail_type}"))),
    }
}

/// `detail-type` of a dataset the quality gate refused.
pub const DATASET_REJECTED: &str = "HousingDatasetRejected";
/// `detail-type` of a failed or stopped training execution.
pub const TRAINING_FAILED: &str = "TrainingFailed";
/// `source` of every event the trigger publishes.
pub const TRIGGER_SOURCE: &str = "housing-mlops.training";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRejected {
    pub dataset_id: DatasetId,
    pub reasons: Vec<String>,
    pub summary: ReportSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingFailed {
    pub pipeline_execution_arn: String,
    pub status: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dataset_id: Option<String>,
}
