//! AWS wiring: the SDK configuration (built once per cold start) and small,
//! classified wrappers around the calls the functions make.

pub mod bus;
#[cfg(feature = "etl")]
pub mod catalog;
pub mod dead_letters;
mod location;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "sagemaker")]
pub mod sagemaker;

pub use location::S3Location;

use crate::config::Problems;
use crate::error::AwsError;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

/// The content types endpoints take and answer.
pub const CSV: &str = "text/csv";
pub const JSON: &str = "application/json";

/// The built-in XGBoost container's answer to CSV rows with `Accept:
/// application/json`, [`CONTAINER_ANSWER`], one score a row: what an endpoint
/// answers, a transform job writes (one per mini-batch) and data capture keeps.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ContainerAnswer {
    predictions: Vec<ContainerScore>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct ContainerScore {
    score: f64,
}

/// The container's answer's shape, as error messages name it.
pub const CONTAINER_ANSWER: &str = r#"{"predictions": [{"score": …}]}"#;

impl ContainerAnswer {
    /// Its scores, in the order of the rows.
    pub fn scores(self) -> Vec<f64> {
        self.predictions.into_iter().map(|p| p.score).collect()
    }
}

/// The shared SDK configuration: region, credentials and endpoint from the
/// environment (`AWS_ENDPOINT_URL` points every client at an emulator). Refused
/// at cold start when an endpoint variable is set but unusable
/// ([`endpoint_problems`]): the SDK would accept it here and fail every call.
pub async fn sdk_config() -> Result<SdkConfig, Problems> {
    let problems = endpoint_problems(std::env::vars());
    if !problems.is_empty() {
        return Err(Problems::new("configuration", problems));
    }
    Ok(loader().load().await)
}

/// The SDK's endpoint overrides: `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL";

/// A problem for every endpoint override among `vars` that is set but is not an
/// absolute http(s) URL with a host. An empty one is the classic: a script that
/// wrote `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=` before its emulator said where it
/// listens; the SDK takes it for a custom endpoint and fails each request.
pub fn endpoint_problems(vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut problems: Vec<String> = vars
        .into_iter()
        .filter(|(name, _)| {
            name == ENDPOINT_VARIABLE
                || name
                    .strip_prefix(ENDPOINT_VARIABLE)
                    .is_some_and(|rest| rest.starts_with('_'))
        })
        .filter_map(|(name, value)| endpoint_url_problem(&value).map(|p| format!("{name}: {p}")))
        .collect();
    problems.sort();
    problems
}

/// Why `value` cannot be an endpoint URL, or `None` when it can.
pub fn endpoint_url_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some(
            "set but empty (unset it for AWS's own endpoint, or name the emulator's URL)".into(),
        );
    }
    let host = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    match host {
        _ if value.chars().any(char::is_whitespace) => {
            Some(format!("{value:?} contains whitespace"))
        }
        None => Some(format!("{value:?} is not an http:// or https:// URL")),
        Some(rest) if rest.is_empty() || rest.starts_with(['/', ':']) => {
            Some(format!("{value:?} names no host"))
        }
        Some(_) => None,
    }
}

/// The SDK configuration's loader with our [`http_client`]; the caller may set more
/// (the local stack: endpoint, region, credentials).
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client())
}

/// The one HTTP client of every SDK client: hyper with rustls and ring (HTTPS, and
/// plain HTTP for a local emulator). The SDK's default would bring aws-lc as well.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Per attempt: connecting, then the whole request and response.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// All attempts of one call, retries included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// `sdk` with time limits on every call, for functions that make only small
/// control-plane calls: a hung call fails (retryable) instead of running the
/// function into its own timeout. Not for the ETL, whose transfers are long.
pub fn with_call_timeouts(sdk: &SdkConfig) -> SdkConfig {
    with_timeouts(sdk, ATTEMPT_TIMEOUT, CALL_TIMEOUT)
}

/// A serverless endpoint's first request after idling waits for compute to
/// start (seconds): InvokeEndpoint on one gets this long per attempt, and the
/// call stays inside API Gateway's 30 s integration limit.
pub const SERVERLESS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
pub const SERVERLESS_CALL_TIMEOUT: Duration = Duration::from_secs(27);

/// `sdk` with these limits per attempt and per call (and [`CONNECT_TIMEOUT`]).
pub fn with_timeouts(sdk: &SdkConfig, attempt: Duration, call: Duration) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(attempt)
        .operation_timeout(call)
        .build();
    sdk.to_builder().timeout_config(timeouts).build()
}

#[cfg(feature = "s3")]
pub fn s3_client(config: &SdkConfig, settings: crate::config::AwsSettings) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(settings.s3_force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// A call's output, `None` for the failures `tolerated` accepts (a read of
/// something missing, a create of something that exists), or the classified
/// error naming `resource`.
pub(crate) fn unless<T, E>(
    service: &'static str,
    operation: &'static str,
    resource: &str,
    result: Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
    tolerated: fn(&AwsError) -> bool,
) -> Result<Option<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) => {
            let e = AwsError::from_sdk(service, operation, e).on(resource);
            if tolerated(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn usable_endpoints_and_other_variables_pass() {
        let ok = vars(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            (
                "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
                "https://runtime.example.com/",
            ),
            ("AWS_ENDPOINT_URLS", ""),
            ("PATH", ""),
        ]);
        assert_eq!(endpoint_problems(ok), Vec::<String>::new());
    }

    #[test]
    fn an_empty_or_malformed_endpoint_is_named() {
        let bad = vars(&[
            ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ""),
            ("AWS_ENDPOINT_URL", "127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_S3", "http://"),
            ("AWS_ENDPOINT_URL_SQS", "http://:4566"),
            ("AWS_ENDPOINT_URL_GLUE", "http://a b"),
        ]);
        let problems = endpoint_problems(bad);
        assert_eq!(problems.len(), 5, "{problems:#?}");
        for expected in [
            "AWS_ENDPOINT_URL: \"127.0.0.1:5000\" is not an http:// or https:// URL",
            "AWS_ENDPOINT_URL_GLUE: \"http://a b\" contains whitespace",
            "AWS_ENDPOINT_URL_S3: \"http://\" names no host",
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: set but empty",
            "AWS_ENDPOINT_URL_SQS: \"http://:4566\" names no host",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected:?} not in {problems:#?}"
            );
        }
    }
}
