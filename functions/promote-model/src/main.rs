use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::promotion::config::PromoteConfig;
use shared::promotion::service::PromotionService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = PromoteConfig::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let sdk = shared::aws::sdk_config().await;
    let service = PromotionService::new(&sdk, config);
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        promote_model::handle(service, event).await
    }))
    .await
}
