//! Batch scoring's events: SageMaker's "Transform Job State Change" (consumed:
//! a job ended, so its answers can be joined), and the `BatchScored` /
//! `BatchScoringFailed` the scoring publishes.

use super::{Envelope, SAGEMAKER_SOURCE};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `detail-type` of a transform job's state change.
pub const TRANSFORM_JOB_STATE_CHANGE: &str = "SageMaker Transform Job State Change";
/// `source` of every event the scoring publishes.
pub const SCORING_SOURCE: &str = "housing-mlops.scoring";
/// `detail-type` of a file scored.
pub const BATCH_SCORED: &str = "BatchScored";
/// `detail-type` of a file that could not be scored.
pub const BATCH_SCORING_FAILED: &str = "BatchScoringFailed";

/// The detail of a transform job's state change: the fields of
/// `DescribeTransformJob` (PascalCase, as SageMaker sends them); only these
/// are read, the rest may be anything.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformJobStateChange {
    pub transform_job_name: String,
    pub transform_job_status: String,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl TransformJobStateChange {
    /// `InProgress` and `Stopping` are not an end: nothing to join yet.
    pub fn has_ended(&self) -> bool {
        matches!(
            self.transform_job_status.as_str(),
            "Completed" | "Failed" | "Stopped"
        )
    }
}

/// Reads a transform job's state change; `Ok(None)` for any other event.
pub fn parse_transform_job(event: &Value) -> Result<Option<TransformJobStateChange>, Error> {
    let envelope = Envelope::read(event)?;
    if (envelope.source, envelope.detail_type) != (SAGEMAKER_SOURCE, TRANSFORM_JOB_STATE_CHANGE) {
        return Ok(None);
    }
    envelope.detail().map(Some)
}

/// The schedule's input (`{"check": "scoring"}`): the safety net for lost
/// transform-job events.
pub const SCORING_CHECK: &str = "scoring";

/// What the score function was invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum ScoringEvent {
    /// Files created (either S3 shape, [`super::s3::parse`]), and what of the
    /// event was not an object creation.
    Files(super::s3::S3Notification),
    /// A transform job's state changed.
    Job(TransformJobStateChange),
    /// The schedule's tick.
    Check,
    /// An EventBridge event that is not the scoring's (its source and type).
    Other(String),
}

/// Reads any event the score function is invoked with; an event of no known
/// shape is an [`Error::Event`] (never retried).
pub fn parse(event: &Value) -> Result<ScoringEvent, Error> {
    if event.get("check").and_then(Value::as_str) == Some(SCORING_CHECK) {
        return Ok(ScoringEvent::Check);
    }
    if event.get("Records").is_some() {
        return super::s3::parse(event).map(ScoringEvent::Files);
    }
    if event.get("detail-type").is_none() {
        return Err(Error::Event(format!(
            "not an event the scoring handles (no Records, no detail-type, not {{\"check\": \"{SCORING_CHECK}\"}}): {}",
            truncated(event)
        )));
    }
    if let Some(change) = parse_transform_job(event)? {
        return Ok(ScoringEvent::Job(change));
    }
    let files = super::s3::parse(event)?;
    if files.objects.is_empty() {
        return Ok(ScoringEvent::Other(files.ignored.join(", ")));
    }
    Ok(ScoringEvent::Files(files))
}

/// An event as a log line or error shows it: its first 300 characters.
fn truncated(event: &Value) -> String {
    let text = event.to_string();
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The model that scored a file, and what it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringModel {
    pub stage: String,
    pub model_name: String,
    pub model_package_arn: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    #[serde(default)]
    pub dataset_id: Option<String>,
}

/// A file scored: where its predictions are, and how the model did on the
/// file's own targets when it had them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchScored {
    pub score_id: String,
    /// `s3://` URI of the scored file.
    pub source: String,
    pub model: ScoringModel,
    pub transform_job: String,
    pub rows_in: u64,
    pub rows_scored: u64,
    pub rows_quarantined: u64,
    pub predictions_parquet: String,
    pub predictions_csv: String,
    pub report: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
}

/// A file that could not be scored, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchScoringFailed {
    /// `None` when the file could not even be read.
    #[serde(default)]
    pub score_id: Option<String>,
    pub source: String,
    /// `rejected` (the file), `not_serving` (the stage), `transform_failed`
    /// (the job), `output_mismatch` (its answers).
    pub reason: String,
    pub message: String,
    #[serde(default)]
    pub transform_job: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of SageMaker's event (EventBridge's schema for
    /// `aws.sagemaker` "SageMaker Transform Job State Change": the
    /// DescribeTransformJob fields in the detail).
    fn event(status: &str) -> Value {
        json!({
            "version": "0", "id": "4c6f6f0b-1bb2-4a6c-b7c5-0c8a1b8e2f10",
            "detail-type": "SageMaker Transform Job State Change", "source": "aws.sagemaker",
            "account": "123456789012", "time": "2026-12-05T10:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:sagemaker:us-east-1:123456789012:transform-job/housing-mlops-sc-0123"],
            "detail": {
                "TransformJobName": "housing-mlops-sc-0123",
                "TransformJobArn": "arn:aws:sagemaker:us-east-1:123456789012:transform-job/housing-mlops-sc-0123",
                "TransformJobStatus": status, "ModelName": "housing-models-v3",
                "CreationTime": 1796464800000_u64,
                "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://p/scores/x/transform/input.csv"}},
                                   "ContentType": "text/csv", "SplitType": "Line"},
                "TransformOutput": {"S3OutputPath": "s3://p/scores/x/transform/output/", "Accept": "application/json", "AssembleWith": "Line"},
                "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
                "Tags": {}
            }
        })
    }

    #[test]
    fn every_shape_the_function_is_invoked_with_is_told_apart() {
        assert_eq!(
            parse(&json!({"check": "scoring"})).unwrap(),
            ScoringEvent::Check
        );
        let ScoringEvent::Job(change) = parse(&event("Completed")).unwrap() else {
            panic!("a transform job event");
        };
        assert_eq!(change.transform_job_status, "Completed");
        // The ETL's sample notification (its encoded key), under the scoring prefix.
        let mut records: Value = serde_json::from_str(include_str!(
            "../../../events/etl/object-created.s3-notification.json"
        ))
        .unwrap();
        records["Records"][0]["s3"]["object"]["key"] = json!("score/a+b%282%29.csv");
        let ScoringEvent::Files(files) = parse(&records).unwrap() else {
            panic!("files");
        };
        assert_eq!(files.objects[0].key, "score/a b(2).csv");
        let mut other = event("Completed");
        other["detail-type"] = json!("SageMaker Training Job State Change");
        assert_eq!(
            parse(&other).unwrap(),
            ScoringEvent::Other("aws.sagemaker SageMaker Training Job State Change".into())
        );
        for unknown in [json!({"check": "traffic"}), json!({"hello": 1}), json!([])] {
            let e = parse(&unknown).unwrap_err();
            assert!(!e.retryable(), "{e}");
            assert!(
                e.to_string().contains("not an event the scoring handles"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_state_change_is_read_and_only_an_end_counts() {
        let change = parse_transform_job(&event("Completed")).unwrap().unwrap();
        assert_eq!(change.transform_job_name, "housing-mlops-sc-0123");
        assert!(change.has_ended() && change.failure_reason.is_none());
        let mut failed = event("Failed");
        failed["detail"]["FailureReason"] = json!("ClientError: bad input");
        let change = parse_transform_job(&failed).unwrap().unwrap();
        assert_eq!(
            change.failure_reason.as_deref(),
            Some("ClientError: bad input")
        );
        for status in ["InProgress", "Stopping"] {
            assert!(!parse_transform_job(&event(status))
                .unwrap()
                .unwrap()
                .has_ended());
        }
        let mut other = event("Completed");
        other["detail-type"] = json!("SageMaker Training Job State Change");
        assert_eq!(parse_transform_job(&other).unwrap(), None);
        let mut malformed = event("Completed");
        malformed["detail"] = json!({"TransformJobStatus": "Completed"});
        let e = parse_transform_job(&malformed).unwrap_err().to_string();
        assert!(e.contains("TransformJobName"), "{e}");
    }
}
