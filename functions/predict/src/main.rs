use lambda_http::{service_fn, Error, Request};
use shared::config::Config;
use shared::serving::config::PredictConfig;
use shared::serving::service::PredictService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = PredictConfig::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let sdk = shared::aws::sdk_config()
        .await
        .inspect_err(|e| tracing::error!("{e}"))?;
    let service = PredictService::new(&sdk, config);
    let service = &service;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(predict::handle(service, request).await)
    }))
    .await
}
