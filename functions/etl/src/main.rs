#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::etl::config::EtlConfig;
use shared::etl::service::EtlService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = EtlConfig::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let sdk = shared::aws::sdk_config().await;
    let service = EtlService::new(&sdk, config);
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        etl::handle(service, event).await
    }))
    .await
}
