#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::aws::dead_letters::DeadLetters;
use shared::config::Config;
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
    let sdk = shared::aws::sdk_config()
        .await
        .inspect_err(|e| tracing::error!("{e}"))?;
    let dead_letters = DeadLetters::new(&sdk, &config.dead_letter_queue, shared::functions::ETL);
    let service = EtlService::new(&sdk, config);
    let (service, dead_letters) = (&service, &dead_letters);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let payload = event.payload.clone();
        // A permanent failure goes to the dead-letter queue now, not after two retries.
        let result = etl::handle(service, event).await;
        dead_letters.settle(&payload, result).await
    }))
    .await
}
