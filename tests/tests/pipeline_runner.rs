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

#[tokio::test]
async fn a_run_registers_the_model_with_metrics_that_match_a_recomputation() {
    let env = Setup::new("runner").with_pipeline().trigger().await;
    let id = dataset(&env, 3000, TrainingFormat::Csv, ONE).await;
    let work = tempfile::tempdir().unwrap();
    let run = run(
        &env,
        &id,
        TrainingFormat::Csv,
        ONE,
        &[(NUM_ROUND, "40")],
        work.path(),
    )
    .await;
    assert_eq!(run.status, "Succeeded", "{:?}", run.failure_reason);
    let steps: Vec<(&str, &str)> = run
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.kind.as_str()))
        .collect();
    // Spot unless told: the spot branch ran.
    assert_eq!(
        steps,
        [
            (CAPACITY_STEP, "Condition"),
            ("TrainModelSpot", "Training"),
            ("EvaluateModelSpot", "Processing"),
            ("CheckTestRmseSpot", "Condition"),
            ("RegisterModelSpot", "RegisterModel"),
        ]
    );
    // Its checkpoints are in the dataset's model folder, under the execution's id.
    let training = &run.step("TrainModelSpot").unwrap().output;
    assert_eq!(training["capacity"]["spot"], true);
    assert_eq!(
        training["capacity"]["max_wait_seconds"],
        TRAINING_MAX_WAIT_SECONDS
    );
    let execution_id = run.execution_arn.rsplit('/').next().unwrap();
    let checkpoints = format!(
        "s3://{}/models/{id}/checkpoints/{execution_id}",
        env.stack.processed_bucket
    );
    assert_eq!(training["checkpoints"]["uri"], checkpoints.as_str());
    assert_eq!(training["checkpoints"]["saved"], 5);
    let last = get(&env, &format!("{checkpoints}/xgboost-checkpoint.39")).await;
    assert!(!last.is_empty());

    let package = env
        .clients
        .sagemaker
        .describe_model_package()
        .model_package_name(run.model_package_arn.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    let metadata = package.customer_metadata_properties().unwrap();
    assert_eq!(metadata[METADATA_DATASET_ID], id.to_string());
    assert_eq!(
        training["tags"],
        serde_json::json!([
            { "Key": "housing-mlops:stack", "Value": env.stack.name },
            { "Key": "housing-mlops:component", "Value": "training" },
        ])
    );
    assert_eq!(metadata[METADATA_EXECUTION_ARN], run.execution_arn);
    let container = &package.inference_specification().unwrap().containers()[0];
    let artifact = container.model_data_url().unwrap();
    assert_eq!(
        artifact,
        run.branch_step(TRAIN_STEP).unwrap().output["artifact"]
            .as_str()
            .unwrap()
    );
    let statistics = package
        .model_metrics()
        .and_then(|m| m.model_quality())
        .and_then(|q| q.statistics())
        .expect("ModelQuality statistics");
    assert_eq!(statistics.content_type(), Some("application/json"));
    let evaluation: Value =
        serde_json::from_slice(&get(&env, statistics.s3_uri().unwrap()).await).unwrap();
    assert_eq!(
        evaluation,
        run.branch_step(EVALUATE_STEP).unwrap().output["property_files"][EVALUATION_REPORT]
    );

    // The model and the test split, fetched from S3, scored here.
    let model = work.path().join("check-model.tar.gz");
    std::fs::write(&model, get(&env, artifact).await).unwrap();
    let layout = &env.service.config.layout;
    let mut scores = Vec::new();
    for kind in [OutputKind::TestXgboost, OutputKind::ValidationXgboost] {
        let file = work.path().join(kind.file_name());
        std::fs::write(&file, get(&env, &layout.output(&id, kind).uri()).await).unwrap();
        scores.push(recompute(&model, &file));
    }
    let (test, validation) = (&scores[0], &scores[1]);
    assert_eq!(
        test["names"],
        serde_json::json!(["xgboost-model"]),
        "the container's layout"
    );
    let f = |v: &Value| v.as_f64().unwrap();
    assert_eq!(evaluation["test"]["rows"], test["rows"]);
    for metric in ["rmse", "mae", "r2"] {
        assert!(
            close(f(&evaluation["test"][metric]), f(&test[metric]), 1e-9),
            "test {metric}: {} vs {}",
            evaluation["test"][metric],
            test[metric]
        );
        assert!(close(
            f(&evaluation["validation"][metric]),
            f(&validation[metric]),
            1e-9
        ));
        assert!(close(
            f(&evaluation["regression_metrics"][metric]["value"]),
            f(&test[metric]),
            1e-9
        ));
    }
    let test_rmse: f64 = metadata[METADATA_TEST_RMSE].parse().unwrap();
    assert!(
        close(test_rmse, f(&test["rmse"]), 1e-9),
        "{test_rmse} vs {}",
        test["rmse"]
    );
    // validation:rmse is XGBoost's own evaluation, printed to 5 decimals.
    let validation_rmse: f64 = metadata[METADATA_VALIDATION_RMSE].parse().unwrap();
    assert!(
        close(validation_rmse, f(&validation["rmse"]), 1e-4),
        "{validation_rmse} vs {}",
        validation["rmse"]
    );
    assert!(f(&test["r2"]) > 0.5, "a real model: {test}");
}

#[tokio::test]
async fn a_model_above_the_threshold_fails_the_run_and_registers_nothing() {
    let env = Setup::new("runner-fail").with_pipeline().trigger().await;
    let id = dataset(&env, 1500, TrainingFormat::Csv, ONE).await;
    let work = tempfile::tempdir().unwrap();
    let run = run(
        &env,
        &id,
        TrainingFormat::Csv,
        ONE,
        &[(NUM_ROUND, "5"), (RMSE_THRESHOLD, "1.0")],
        work.path(),
    )
    .await;
    assert_eq!(run.status, "Failed");
    let reason = run.failure_reason.unwrap();
    assert!(reason.starts_with("test RMSE "), "{reason}");
    assert!(
        reason.contains(&format!("is above the threshold 1.0 for dataset {id}")),
        "{reason}"
    );
    assert_eq!(run.model_package_arn, None);
    assert_eq!(run.steps.last().unwrap().kind, "Fail");
    let packages = env
        .clients
        .sagemaker
        .list_model_packages()
        .model_package_group_name(env.stack.model_package_group())
        .send()
        .await
        .unwrap();
    assert!(packages.model_package_summary_list().is_empty());
}

/// The same dataset trained from its Parquet channels and from its CSV channels: the
/// Training step reads `application/x-parquet` as the container does (label in the
/// first column), and the two runs give the same model, to the last digit.
#[tokio::test]
async fn parquet_training_channels_train_the_model_the_csv_channels_train() {
    let env = Setup::new("runner-parquet").with_pipeline().trigger().await;
    // One input, so one dataset id: both forms' channels sit side by side.
    let id = dataset(&env, 3000, TrainingFormat::Csv, ONE).await;
    assert_eq!(dataset(&env, 3000, TrainingFormat::Parquet, ONE).await, id);
    let layout = &env.service.config.layout;
    let parquet = layout.output(&id, OutputKind::TrainXgboostParquet).uri();
    assert!(
        parquet.ends_with("/xgboost/train/train.parquet"),
        "{parquet}"
    );
    let work = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for format in [TrainingFormat::Csv, TrainingFormat::Parquet] {
        let run = run(&env, &id, format, ONE, &[(NUM_ROUND, "30")], work.path()).await;
        assert_eq!(
            run.status, "Succeeded",
            "{format}: {:?}",
            run.failure_reason
        );
        runs.push(run);
    }
    // What train.py reported: row counts and XGBoost's own final evaluations.
    let trained = |run: &Run| run.branch_step(TRAIN_STEP).unwrap().output.clone();
    let (csv, parquet) = (trained(&runs[0]), trained(&runs[1]));
    assert!(csv["train_rows"].as_u64().unwrap() > 2000, "{csv}");
    for key in [
        "train_rows",
        "validation_rows",
        "validation:rmse",
        "train:rmse",
    ] {
        assert_eq!(csv[key], parquet[key], "{key}: {csv} vs {parquet}");
    }
    let evaluation = |run: &Run| {
        run.branch_step(EVALUATE_STEP).unwrap().output["property_files"][EVALUATION_REPORT].clone()
    };
    assert_eq!(evaluation(&runs[0]), evaluation(&runs[1]));
    assert!(runs[1].model_package_arn.is_some());
}

/// The Python unit tests of `module` in `folder`: all `count` of them ran, and passed.
fn python_unit_tests(folder: &str, module: &str, count: usize) {
    let root = local_stack::repo_root().join(folder);
    let out = Command::new(local_stack::python())
        .args(["-m", "unittest", "-v", module])
        .current_dir(&root)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains(&format!("Ran {count} tests")), "{log}");
}

#[test]
fn the_evaluation_script_passes_its_unit_tests() {
    python_unit_tests("pipeline", "test_evaluate", 7);
}

/// A dataset whose train channel is three part files, trained on three
/// instances on demand: the on-demand branch runs (no max wait, no checkpoints,
/// as AWS requires), the channel is the parts' folder, and each instance's
/// shard is one part. A fourth instance would get no part: refused, as the
/// container would fail on AWS.
#[tokio::test]
async fn a_sharded_train_channel_trains_on_demand_on_as_many_instances_as_parts() {
    let env = Setup::new("runner-parts").with_pipeline().trigger().await;
    let three: TrainParts = "3".parse().unwrap();
    let id = dataset(&env, 2000, TrainingFormat::Csv, three).await;
    let parameters = env.service.parameters(&id, TrainingFormat::Csv, three);
    assert!(
        parameters[TRAIN_DATA].ends_with("/xgboost/train/"),
        "{parameters:?}"
    );
    // The trigger's configured instances (one) are the most it asks for.
    assert_eq!(parameters[INSTANCE_COUNT], "1");
    let work = tempfile::tempdir().unwrap();
    let overrides = [
        (NUM_ROUND, "20"),
        (USE_SPOT_INSTANCES, "false"),
        (INSTANCE_COUNT, "3"),
    ];
    let run = run(
        &env,
        &id,
        TrainingFormat::Csv,
        three,
        &overrides,
        work.path(),
    )
    .await;
    assert_eq!(run.status, "Succeeded", "{:?}", run.failure_reason);
    assert!(run.step("TrainModelSpot").is_none());
    let training = &run.step("TrainModelOnDemand").unwrap().output;
    assert_eq!(training["capacity"]["spot"], false);
    assert_eq!(training["capacity"]["max_wait_seconds"], Value::Null);
    assert_eq!(training["checkpoints"]["uri"], Value::Null);
    assert_eq!(training["instances"]["requested"], 3);
    assert_eq!(
        training["instances"]["shards"]["train"],
        serde_json::json!([
            ["train-00001-of-00003.csv"],
            ["train-00002-of-00003.csv"],
            ["train-00003-of-00003.csv"]
        ])
    );
    assert!(run.step("RegisterModelOnDemand").is_some());

    let err = try_run(
        &env,
        &id,
        TrainingFormat::Csv,
        three,
        &[(INSTANCE_COUNT, "4")],
        work.path(),
    )
    .await
    .unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains("3 object(s) for 4 instances: instance 4 would get none"),
        "{err}"
    );
}

#[test]
fn the_local_trainer_checkpoints_and_resumes_as_a_restarted_spot_job() {
    python_unit_tests("local-stack/xgboost", "test_train", 2);
}

#[test]
fn the_deploy_uploads_the_script_where_the_definition_reads_it() {
    let out = Command::new("python3")
        .arg(local_stack::repo_root().join("infra/pipeline_code.py"))
        .arg("--key")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    let read_by_the_definition = format!(
        "{}{}",
        evaluation_code_uri("s3://bucket/pipeline-code"),
        EVALUATION_SCRIPT_NAME
    );
    assert_eq!(
        format!("s3://bucket/{}", key.trim()),
        read_by_the_definition
    );
}
