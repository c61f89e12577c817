//! SageMaker Runtime: scoring CSV feature rows on an endpoint, as the built-in
//! XGBoost container answers (`text/csv` in, `{"predictions": [{"score": …}]}`
//! out for `Accept: application/json`). predict and the trigger's
//! model-quality check call endpoints through this one function.

use super::{ContainerAnswer, CONTAINER_ANSWER};
use super::{CSV, JSON};
use crate::error::AwsError;
use aws_sdk_sagemakerruntime::primitives::Blob;
use aws_sdk_sagemakerruntime::Client;

/// Why an endpoint gave no scores.
#[derive(Debug)]
pub enum InvokeError {
    /// The call failed (classified as every AWS error is).
    Call(AwsError),
    /// The endpoint answered something else than one score per row.
    Answer(String),
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvokeError::Call(e) => e.fmt(f),
            InvokeError::Answer(message) => f.write_str(message),
        }
    }
}

/// The endpoint's score of each of `rows` (CSV feature rows, one per line).
/// `inference_id` is recorded with the request in the endpoint's data capture.
pub async fn scores(
    client: &Client,
    endpoint: &str,
    rows: String,
    inference_id: Option<String>,
) -> Result<Vec<f64>, InvokeError> {
    let expected = rows.lines().count();
    let out = client
        .invoke_endpoint()
        .endpoint_name(endpoint)
        .content_type(CSV)
        .accept(JSON)
        .set_inference_id(inference_id)
        .body(Blob::new(rows))
        .send()
        .await
        .map_err(|e| {
            InvokeError::Call(
                AwsError::from_sdk("SageMaker Runtime", "InvokeEndpoint", e).on(endpoint),
            )
        })?;
    let answer: ContainerAnswer = out
        .body()
        .and_then(|b| serde_json::from_slice(b.as_ref()).ok())
        .ok_or_else(|| {
            InvokeError::Answer(format!("the endpoint's answer is not {CONTAINER_ANSWER}"))
        })?;
    let scores = answer.scores();
    if scores.len() != expected {
        return Err(InvokeError::Answer(format!(
            "the endpoint answered {} predictions for {expected} records",
            scores.len()
        )));
    }
    Ok(scores)
}
