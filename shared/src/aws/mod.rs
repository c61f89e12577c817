//! AWS wiring: the SDK configuration (built once per cold start) and small,
//! classified wrappers around the calls the functions make.

pub mod bus;
#[cfg(feature = "etl")]
pub mod catalog;
pub mod s3;
#[cfg(feature = "sagemaker")]
pub mod sagemaker;

use crate::config::AwsSettings;
use aws_config::{BehaviorVersion, SdkConfig};

/// The shared SDK configuration: region, credentials and endpoint from the
/// environment (`AWS_ENDPOINT_URL` points every client at an emulator).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

pub fn s3_client(config: &SdkConfig, settings: AwsSettings) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(settings.s3_force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}
