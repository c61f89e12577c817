//! What predict does: find what the configured stage serves (its endpoint's
//! EndpointConfig lineage tags, and the training dataset's imputation values
//! from its `report.json`), remembered for `MODEL_CACHE_SECONDS`; check the
//! records against the contract; send their features to the endpoint as the
//! training CSV's rows (`InvokeEndpoint`, `text/csv` in, JSON out).

use super::config::PredictConfig;
use super::request::{self, Record, RecordErrors, RequestError};
use crate::aws::runtime::{self, InvokeError};
use crate::contract::{Reason, TOTAL_BEDROOMS};
use crate::error::{AwsError, Error};
use crate::features::BedroomFills;
use crate::stages::baseline::bedroom_fills;
use crate::stages::{self, Lineage};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What the stage serves: the answer to `GET /v1/model`, and every prediction's `model`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServedModel {
    pub stage: String,
    pub endpoint: String,
    pub endpoint_config: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    pub model_package_arn: String,
    pub dataset_id: Option<String>,
    pub test_rmse: Option<f64>,
    pub validation_rmse: Option<f64>,
    /// Missing bedrooms are imputed with these (none: records without
    /// `total_bedrooms` are refused as `unimputable:total_bedrooms`).
    #[serde(skip)]
    pub imputation: Option<BedroomFills>,
}

/// Predictions, in the order of the request's records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predictions {
    pub predictions: Vec<f64>,
    pub model: ServedModel,
}

/// Why a request got no predictions, by who can act on it.
#[derive(Debug)]
pub enum ServingError {
    /// The client's request (400, 413).
    Request(RequestError),
    /// The stage has no endpoint in service, or it serves nothing this suite deployed (503).
    NotServing(String),
    /// The stage sleeps outside its `active` window (503 `not_serving`, with
    /// `wakes_at` and a `Retry-After` of the seconds until then).
    Asleep {
        message: String,
        wakes_at: String,
        seconds: u64,
    },
    /// SageMaker (or the endpoint) is throttling: try again shortly (503 with `Retry-After`).
    Throttled(String),
    /// The model failed on the records, or answered something unreadable (502).
    Model(String),
    /// An AWS call failed otherwise; retryable ones are 503, the rest 500.
    Aws(AwsError),
}

impl ServingError {
    /// The HTTP status of the error.
    pub fn status(&self) -> u16 {
        match self {
            ServingError::Request(RequestError::TooLarge(_)) => 413,
            ServingError::Request(_) => 400,
            ServingError::NotServing(_)
            | ServingError::Asleep { .. }
            | ServingError::Throttled(_) => 503,
            ServingError::Model(_) => 502,
            ServingError::Aws(e) if e.retryable => 503,
            ServingError::Aws(_) => 500,
        }
    }

    /// A stable machine-readable class: the `error.code` of the response and
    /// the `ErrorClass` dimension of the metrics.
    pub fn code(&self) -> &'static str {
        match self {
            ServingError::Request(RequestError::Malformed(_)) => "malformed_request",
            ServingError::Request(RequestError::TooLarge(_)) => "too_large",
            ServingError::Request(RequestError::Invalid(_)) => "invalid_records",
            ServingError::NotServing(_) | ServingError::Asleep { .. } => "not_serving",
            ServingError::Throttled(_) => "throttled",
            ServingError::Model(_) => "model_error",
            ServingError::Aws(e) if e.retryable => "unavailable",
            ServingError::Aws(_) => "internal",
        }
    }

    /// What the client is told: no AWS internals for the errors that are ours
    /// (those are logged).
    pub fn message(&self) -> String {
        match self {
            ServingError::Request(RequestError::Malformed(m) | RequestError::TooLarge(m)) => {
                m.clone()
            }
            ServingError::Request(RequestError::Invalid(records)) => {
                format!("{} record(s) break the data contract", records.len())
            }
            ServingError::NotServing(m) | ServingError::Throttled(m) | ServingError::Model(m) => {
                m.clone()
            }
            ServingError::Asleep { message, .. } => message.clone(),
            ServingError::Aws(e) if e.retryable => {
                "the model is unavailable right now; try again".into()
            }
            ServingError::Aws(_) => "internal error (logged)".into(),
        }
    }

    /// When a sleeping stage wakes (RFC 3339), for `503 not_serving`.
    pub fn wakes_at(&self) -> Option<&str> {
        match self {
            ServingError::Asleep { wakes_at, .. } => Some(wakes_at),
            _ => None,
        }
    }

    /// `Retry-After` in seconds: until a sleeping stage wakes, 1 for the
    /// other 503s, none otherwise.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ServingError::Asleep { seconds, .. } => Some((*seconds).max(1)),
            e if e.status() == 503 => Some(1),
            _ => None,
        }
    }

    /// The records' problems, for `400 invalid_records`.
    pub fn records(&self) -> Option<&[RecordErrors]> {
        match self {
            ServingError::Request(RequestError::Invalid(records)) => Some(records),
            _ => None,
        }
    }
}

impl From<AwsError> for ServingError {
    fn from(e: AwsError) -> Self {
        ServingError::Aws(e)
    }
}

impl From<Error> for ServingError {
    fn from(e: Error) -> Self {
        match e {
            Error::Aws(e) => ServingError::Aws(e),
            other => ServingError::Model(other.to_string()),
        }
    }
}

pub struct PredictService {
    sagemaker: aws_sdk_sagemaker::Client,
    runtime: aws_sdk_sagemakerruntime::Client,
    s3: aws_sdk_s3::Client,
    pub config: PredictConfig,
    cache: Mutex<Option<(Instant, Arc<ServedModel>)>>,
}

impl PredictService {
    /// Clients built once per cold start, with call time limits (longer for
    /// InvokeEndpoint on a serverless stage, whose compute may be starting).
    pub fn new(sdk: &aws_config::SdkConfig, config: PredictConfig) -> Self {
        let invoke = if config.stage.is_serverless() {
            use crate::aws::{with_timeouts, SERVERLESS_ATTEMPT_TIMEOUT, SERVERLESS_CALL_TIMEOUT};
            with_timeouts(sdk, SERVERLESS_ATTEMPT_TIMEOUT, SERVERLESS_CALL_TIMEOUT)
        } else {
            crate::aws::with_call_timeouts(sdk)
        };
        let sdk = crate::aws::with_call_timeouts(sdk);
        Self::with_clients(
            aws_sdk_sagemaker::Client::new(&sdk),
            aws_sdk_sagemakerruntime::Client::new(&invoke),
            crate::aws::s3_client(&sdk, config.aws),
            config,
        )
    }

    pub fn with_clients(
        sagemaker: aws_sdk_sagemaker::Client,
        runtime: aws_sdk_sagemakerruntime::Client,
        s3: aws_sdk_s3::Client,
        config: PredictConfig,
    ) -> Self {
        PredictService {
            sagemaker,
            runtime,
            s3,
            config,
            cache: Mutex::new(None),
        }
    }

    /// What the stage serves now (looked up at most every `MODEL_CACHE_SECONDS`);
    /// a stage outside its `active` window is asleep, whatever is cached.
    pub async fn model(&self) -> Result<Arc<ServedModel>, ServingError> {
        self.awake(chrono::Utc::now())?;
        let mut cache = self.cache.lock().await;
        let ttl = Duration::from_secs(self.config.model_cache_seconds);
        if let Some((at, model)) = cache.as_ref() {
            if at.elapsed() < ttl {
                return Ok(model.clone());
            }
        }
        let model = Arc::new(self.look_up().await?);
        *cache = Some((Instant::now(), model.clone()));
        Ok(model)
    }

    /// `Asleep` when the stage sleeps at `now`.
    pub fn awake(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(), ServingError> {
        let stage = &self.config.stage;
        let Some(wakes) = stage.asleep_until(now) else {
            return Ok(());
        };
        let wakes_at = crate::stages::schedule::timestamp(wakes);
        let active = stage
            .active
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        Err(ServingError::Asleep {
            message: format!(
                "stage {} is asleep outside its hours ({active}): it wakes at {wakes_at}",
                stage.name
            ),
            wakes_at,
            seconds: (wakes - now).num_seconds().max(0) as u64,
        })
    }

    async fn forget(&self) {
        *self.cache.lock().await = None;
    }

    async fn look_up(&self) -> Result<ServedModel, ServingError> {
        let stage = &self.config.stage;
        let endpoint = &stage.endpoint;
        let not_serving = |why: String| {
            tracing::warn!(stage = %stage.name, endpoint = %endpoint, "not serving: {why}");
            ServingError::NotServing(format!("stage {} serves no model: {why}", stage.name))
        };
        let Some(serving) = stages::serving(&self.sagemaker, endpoint).await? else {
            return Err(not_serving(format!("endpoint {endpoint} does not exist")));
        };
        if !serving.state.answers() {
            return Err(not_serving(format!(
                "endpoint {endpoint} is {}",
                serving.state
            )));
        }
        let Some(lineage) = serving.lineage else {
            return Err(not_serving(format!(
                "endpoint config {} carries no housing-mlops lineage tags",
                serving.endpoint_config
            )));
        };
        let imputation = self.imputation(&lineage).await?;
        Ok(ServedModel {
            stage: stage.name.clone(),
            endpoint: endpoint.clone(),
            endpoint_config: serving.endpoint_config,
            model_package_group: lineage.model_package_group,
            model_package_version: lineage.model_package_version,
            model_package_arn: lineage.model_package_arn,
            dataset_id: lineage.dataset_id,
            test_rmse: lineage.test_rmse,
            validation_rmse: lineage.validation_rmse,
            imputation,
        })
    }

    /// The training dataset's imputation values, from its report; a report
    /// that does not read leaves the stage not serving.
    async fn imputation(&self, lineage: &Lineage) -> Result<Option<BedroomFills>, ServingError> {
        let dataset = lineage.dataset_id.as_deref();
        bedroom_fills(&self.s3, &self.config.layout, dataset)
            .await
            .map_err(|e| match e {
                Error::Event(message) => ServingError::NotServing(message),
                other => other.into(),
            })
    }

    /// The predictions for a request body (`{"instances": [...]}`).
    pub async fn predict(&self, body: &[u8]) -> Result<Predictions, ServingError> {
        let records = request::parse(body).map_err(ServingError::Request)?;
        self.predict_records(&records).await
    }

    /// The predictions for records that passed the contract, in their order.
    pub async fn predict_records(&self, records: &[Record]) -> Result<Predictions, ServingError> {
        let model = self.model().await?;
        let mut inputs = Vec::with_capacity(records.len());
        let mut unimputable = Vec::new();
        for (index, record) in records.iter().enumerate() {
            match model.imputation.as_ref().and_then(|i| i.inputs(record)) {
                Some(row) => inputs.push(row),
                None => unimputable.push(RecordErrors {
                    index,
                    errors: vec![request::FieldError {
                        field: TOTAL_BEDROOMS.into(),
                        reason: Reason::Unimputable(TOTAL_BEDROOMS).to_string(),
                        message: "total_bedrooms is required: the serving model's training data gives no value to impute".into(),
                    }],
                }),
            }
        }
        if !unimputable.is_empty() {
            return Err(ServingError::Request(RequestError::Invalid(unimputable)));
        }
        let body = request::csv_body(&inputs);
        let predictions = self.invoke(&model, body).await?;
        Ok(Predictions {
            predictions,
            model: (*model).clone(),
        })
    }

    async fn invoke(&self, model: &ServedModel, body: String) -> Result<Vec<f64>, ServingError> {
        match runtime::scores(&self.runtime, &model.endpoint, body, None).await {
            Ok(scores) => Ok(scores),
            Err(InvokeError::Call(e)) => Err(self.classify(e).await),
            Err(InvokeError::Answer(message)) => Err(ServingError::Model(message)),
        }
    }

    /// An `InvokeEndpoint` failure, by who can act on it; logged in full here.
    async fn classify(&self, e: AwsError) -> ServingError {
        tracing::warn!(error = %e, "InvokeEndpoint failed");
        match e.code.as_deref() {
            Some("ModelError") => {
                ServingError::Model(format!("the model failed on the records: {}", e.message))
            }
            // The endpoint went away or out of service since it was looked up.
            Some("ValidationError") => {
                self.forget().await;
                ServingError::NotServing(format!(
                    "endpoint {} is not available",
                    self.config.stage.endpoint
                ))
            }
            Some("ModelNotReadyException") => {
                ServingError::NotServing("the model is not ready yet; try again".into())
            }
            Some(code) if code.contains("Throttl") || e.status == Some(429) => {
                ServingError::Throttled("the endpoint is throttling requests; try again".into())
            }
            _ => ServingError::Aws(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{ATTEMPT_TIMEOUT, SERVERLESS_ATTEMPT_TIMEOUT, SERVERLESS_CALL_TIMEOUT};
    use crate::config::Config;

    fn service(stage: &str) -> PredictService {
        let config = PredictConfig::from_lookup(|name| match name {
            "PROCESSED_BUCKET" => Some("processed".into()),
            "SERVING_STAGE" => Some(stage.into()),
            _ => None,
        })
        .unwrap();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        PredictService::new(&sdk, config)
    }

    #[test]
    fn a_serverless_stage_gets_time_for_its_compute_to_start() {
        let attempt = |s: &PredictService| {
            let t = s.runtime.config().timeout_config().cloned().unwrap();
            (t.operation_attempt_timeout(), t.operation_timeout())
        };
        let dev = service("dev");
        assert!(
            dev.config.stage.is_serverless(),
            "the bundled dev stage is serverless"
        );
        assert_eq!(
            attempt(&dev),
            (
                Some(SERVERLESS_ATTEMPT_TIMEOUT),
                Some(SERVERLESS_CALL_TIMEOUT)
            )
        );
        let prod = service("prod");
        assert!(!prod.config.stage.is_serverless());
        assert_eq!(attempt(&prod).0, Some(ATTEMPT_TIMEOUT));
        // The control-plane reads keep the short limits either way.
        let t = dev.sagemaker.config().timeout_config().cloned().unwrap();
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    }
}
