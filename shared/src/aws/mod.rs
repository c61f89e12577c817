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

/// The shared SDK configuration: region, credentials and endpoint from the
/// environment (`AWS_ENDPOINT_URL` points every client at an emulator).
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
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
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(CALL_TIMEOUT)
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
