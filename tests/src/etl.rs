//! The ETL Lambda's tests' common steps (`tests/tests/etl_*.rs`): an environment,
//! deliveries of the sample events, and the outputs read back where the layout
//! puts them.

use crate::{housing, run_etl, sample_event, LocalOutput, Setup, TestEnv};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::dataset::{
    sha256_hex, CompletionMarker, DatasetId, OutputKind, Source, TrainingFormat,
};
use shared::etl::service::EtlService;
use shared::etl::EtlOptions;

pub const EVENTBRIDGE: &str = "etl/object-created.eventbridge.json";

pub const NOTIFICATION: &str = "etl/object-created.s3-notification.json";

pub type Env = TestEnv<EtlService>;

pub async fn env(test: &str) -> Env {
    Setup::new(test).etl().await
}

pub async fn invoke(env: &Env, event: Value) -> Result<Value, Diagnostic> {
    etl::handle(&env.service, LambdaEvent::new(event, Context::default())).await
}

/// Invokes the handler with a sample event from `events/`, naming
/// `encoded_key` (as S3 would write it) in the raw bucket.
pub async fn deliver(env: &Env, sample: &str, encoded_key: &str) -> Result<Value, Diagnostic> {
    let event = sample_event(sample, &env.stack.raw_bucket, encoded_key).unwrap();
    invoke(env, event).await
}

/// Asserts the one object was processed, read from `key` in the raw bucket.
pub fn assert_processed_from(env: &Env, response: &Value, key: &str) {
    assert_eq!(result(response)["status"], "processed", "{response}");
    let source = format!("s3://{}/{key}", env.stack.raw_bucket);
    assert_eq!(result(response)["dataset"]["input"]["source"], source);
}

pub fn result(response: &Value) -> &Value {
    assert_eq!(
        response["results"].as_array().map(Vec::len),
        Some(1),
        "{response}"
    );
    &response["results"][0]
}

/// `_SUCCESS` of dataset `id` has the CLI's format: the dataset id and the SHA-256
/// of every output a run in `format` writes, which are the objects' as stored.
/// Uploads `data/housing.csv` as `incoming/housing.csv` and delivers its event:
/// the object's result (processed), and the bytes.
pub async fn process_housing(env: &Env) -> (Value, Vec<u8>) {
    let bytes = housing();
    env.upload("incoming/housing.csv", bytes.clone()).await;
    let response = deliver(env, EVENTBRIDGE, "incoming/housing.csv")
        .await
        .unwrap();
    let r = result(&response).clone();
    assert_eq!(r["status"], "processed", "{response}");
    (r, bytes)
}

/// The ETL core's outputs of `bytes` uploaded as `incoming/housing.csv`, with CSV
/// channels, run here (off the test's async thread: Polars blocks on its own
/// runtime, as in the service).
pub async fn local_run(env: &Env, bytes: Vec<u8>) -> LocalOutput {
    let source = Source {
        source: format!("s3://{}/incoming/housing.csv", env.stack.raw_bucket),
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || run_etl(&bytes, &source, &EtlOptions::default()))
        .await
        .unwrap()
        .unwrap()
}

/// The object the ETL wrote for output `kind` of dataset `id`, where the layout puts it.
pub async fn output_object(env: &Env, id: &DatasetId, kind: OutputKind) -> Vec<u8> {
    let at = env.service.config.layout.output(id, kind);
    env.stack
        .get(&env.clients, &at.bucket, &at.key)
        .await
        .unwrap()
}

pub async fn assert_marker_names_every_output(env: &Env, id: &str, format: TrainingFormat) {
    let marker: CompletionMarker = serde_json::from_slice(
        &env.stack
            .get(
                &env.clients,
                &env.stack.processed_bucket,
                &format!("datasets/{id}/_SUCCESS"),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(marker.dataset_id.as_str(), id);
    assert_eq!(marker.files.len(), format.outputs().count());
    for kind in format.outputs() {
        let bytes = output_object(env, &marker.dataset_id, kind).await;
        assert_eq!(
            marker.files[kind.file_name()],
            sha256_hex(&bytes),
            "{kind:?}"
        );
    }
}
