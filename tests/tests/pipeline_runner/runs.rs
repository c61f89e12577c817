//! Runs of the generated pipeline: the registration and its metrics, the RMSE condition, Parquet channels.

use super::*;

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
