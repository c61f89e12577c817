#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::etl::config::EtlConfig;
use shared::etl::service::{sweep_work_dir, EtlService};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = EtlConfig::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    // A run killed by the timeout or out of memory leaves its work directory: no
    // run is under way at cold start, so whatever is there is stale.
    match sweep_work_dir(&config.work_dir) {
        Ok((0, _)) => {}
        Ok((dirs, bytes)) => {
            tracing::warn!(dirs, bytes, "removed work directories killed runs left")
        }
        Err(e) => tracing::error!("sweeping {}: {e}", config.work_dir.display()),
    }
    let sdk = shared::aws::sdk_config().await;
    let service = EtlService::new(&sdk, config);
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        etl::handle(service, event).await
    }))
    .await
}
