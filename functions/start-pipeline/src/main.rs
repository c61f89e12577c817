use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::training::config::TriggerConfig;
use shared::training::trigger::TriggerService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = TriggerConfig::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let sdk = shared::aws::sdk_config().await;
    let service = TriggerService::new(&sdk, config);
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        start_pipeline::handle(service, event).await
    }))
    .await
}
