use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::aws::dead_letters::DeadLetters;
use shared::config::Config;
use shared::scoring::config::ScoringConfig;
use shared::scoring::service::ScoringService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = ScoringConfig::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let sdk = shared::aws::sdk_config()
        .await
        .inspect_err(|e| tracing::error!("{e}"))?;
    let dead_letters = DeadLetters::new(&sdk, &config.dead_letter_queue, shared::functions::SCORE);
    let service = ScoringService::new(&sdk, config);
    let (service, dead_letters) = (&service, &dead_letters);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let payload = event.payload.clone();
        // A permanent failure goes to the dead-letter queue now, not after two retries.
        let result = score::handle(service, event).await;
        dead_letters.settle(&payload, result).await
    }))
    .await
}
