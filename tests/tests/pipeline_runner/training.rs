//! The training and evaluation scripts: their Python unit tests, sharded channels, spot checkpoints, the deploy's upload.

use super::*;

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
