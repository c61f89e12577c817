//! The pipeline as code, run: the local pipeline runner executes an execution
//! moto started from the generated definition — real XGBoost training,
//! `pipeline/evaluate.py` on the test split, the RMSE condition, the
//! registration — and the registered package's metrics equal a direct
//! recomputation from the saved model. The evaluation script's own unit tests
//! run here too, with the project's venv.

use aws_sdk_sagemaker::types::Parameter;
use integration_tests::{housing_head, python_json, run_etl, Setup, TestEnv};
use local_stack::pipeline::{Run, Runner};
use serde_json::Value;
use shared::aws::S3Location;
use shared::dataset::{DatasetId, OutputKind, Source, TrainParts, TrainingFormat};
use shared::etl::EtlOptions;
use shared::stages::{
    METADATA_DATASET_ID, METADATA_EXECUTION_ARN, METADATA_TEST_RMSE, METADATA_VALIDATION_RMSE,
};
use shared::training::definition::{
    evaluation_code_uri, CAPACITY_STEP, EVALUATE_STEP, EVALUATION_REPORT, EVALUATION_SCRIPT_NAME,
    TRAINING_MAX_WAIT_SECONDS, TRAIN_STEP,
};
use shared::training::parameters::{
    INSTANCE_COUNT, NUM_ROUND, RMSE_THRESHOLD, TRAIN_DATA, USE_SPOT_INSTANCES,
};
use shared::training::trigger::TriggerService;
use std::process::Command;

type Env = TestEnv<TriggerService>;

/// The first `rows` rows of `data/housing.csv`, through the ETL with its training
/// channels in `format` (the train channel in `parts`), with every output where
/// the ETL puts it on moto (and the model package group the pipeline registers
/// in). Returns the dataset's id.
async fn dataset(env: &Env, rows: usize, format: TrainingFormat, parts: TrainParts) -> DatasetId {
    env.stack
        .create_model_package_group(&env.clients)
        .await
        .unwrap();
    let small = housing_head(rows);
    let options = EtlOptions {
        training_format: format,
        train_parts: parts,
        ..Default::default()
    };
    let output = std::thread::spawn(move || {
        run_etl(small.as_bytes(), &Source::default(), &options).unwrap()
    })
    .join()
    .unwrap();
    let id = output.report.dataset_id.clone();
    for (kind, name) in output.files() {
        if kind == OutputKind::Quarantine {
            continue;
        }
        for (file, at) in env.service.config.layout.files(&id, kind, parts) {
            if file != name {
                continue;
            }
            env.clients
                .s3
                .put_object()
                .bucket(&at.bucket)
                .key(&at.key)
                .body(std::fs::read(output.dir.join(&name)).unwrap().into())
                .send()
                .await
                .unwrap();
        }
    }
    id
}

/// Starts an execution for the dataset (its training channels in `format`, the
/// train channel in `parts`), with `overrides` over the trigger's parameters,
/// and runs it locally.
async fn try_run(
    env: &Env,
    id: &DatasetId,
    format: TrainingFormat,
    parts: TrainParts,
    overrides: &[(&str, &str)],
    work: &std::path::Path,
) -> anyhow::Result<Run> {
    let mut parameters = env.service.parameters(id, format, parts);
    for (k, v) in overrides {
        parameters.insert(k.to_string(), v.to_string());
    }
    let token = format!("{id}-{format}-{parts}-{overrides:?}");
    let started = env
        .clients
        .sagemaker
        .start_pipeline_execution()
        .pipeline_name(env.stack.pipeline_name())
        .client_request_token(shared::dataset::sha256_hex(token.as_bytes()))
        .set_pipeline_parameters(Some(
            parameters
                .iter()
                .map(|(k, v)| Parameter::builder().name(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let runner = Runner {
        clients: &env.clients,
        python: local_stack::python(),
        work_dir: work.to_path_buf(),
    };
    runner.run(started.pipeline_execution_arn().unwrap()).await
}

async fn run(
    env: &Env,
    id: &DatasetId,
    format: TrainingFormat,
    parts: TrainParts,
    overrides: &[(&str, &str)],
    work: &std::path::Path,
) -> Run {
    try_run(env, id, format, parts, overrides, work)
        .await
        .unwrap()
}

const ONE: TrainParts = TrainParts::ONE;

async fn get(env: &Env, uri: &str) -> Vec<u8> {
    let at = S3Location::parse(uri).unwrap();
    env.stack
        .get(&env.clients, &at.bucket, &at.key)
        .await
        .unwrap()
}

/// RMSE, MAE and R² of the saved model on a channel file, computed here from
/// the model itself (not through evaluate.py).
fn recompute(model_tar_gz: &std::path::Path, channel: &std::path::Path) -> Value {
    let script = r#"
import json, sys, tarfile, tempfile, os
import numpy as np, xgboost as xgb
with tempfile.TemporaryDirectory() as d:
    tarfile.open(sys.argv[1]).extractall(d)
    names = os.listdir(d)
    booster = xgb.Booster(); booster.load_model(os.path.join(d, "xgboost-model"))
data = np.loadtxt(sys.argv[2], delimiter=",", dtype=np.float32, ndmin=2)
y = data[:, 0].astype(np.float64)
p = booster.predict(xgb.DMatrix(data[:, 1:])).astype(np.float64)
print(json.dumps({"names": names, "rows": len(y), "rmse": float(np.sqrt(np.mean((p - y) ** 2))),
                  "mae": float(np.mean(np.abs(p - y))),
                  "r2": float(1 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2))}))
"#;
    python_json(
        script,
        &[model_tar_gz.as_os_str(), channel.as_os_str()],
        b"",
    )
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * b.abs().max(1.0)
}

mod runs;
mod training;
