//! An upload end to end; rejected and oversized files; quarantined rows; the Glue database made when missing.

use super::*;

#[tokio::test]
async fn an_upload_is_processed_end_to_end() {
    let env = env("e2e").await;
    let (r, bytes) = process_housing(&env).await;
    let dataset = &r["dataset"];
    let id = dataset["dataset_id"].as_str().unwrap().to_string();
    assert_eq!(id, "ds-8a3727f4cf54ac1a327f69b1d5b4db54");
    assert_eq!(dataset["summary"]["rows_in"], 20_640);
    assert_eq!(dataset["summary"]["rows_out"], 20_640);

    // Every output, under the dataset's prefix, and the marker.
    let processed = env.processed_keys().await;
    let root = format!("datasets/{id}/");
    let expected: Vec<String> = [
        "_SUCCESS",
        "model-monitor/constraints.json",
        "model-monitor/statistics.json",
        "parquet/test.parquet",
        "parquet/train.parquet",
        "parquet/validation.parquet",
        "profile.json",
        "report.json",
        "xgboost/test/test.csv",
        "xgboost/train/train.csv",
        "xgboost/validation/validation.csv",
    ]
    .iter()
    .map(|k| format!("{root}{k}"))
    .collect();
    assert_eq!(processed, expected);
    let quarantine = env
        .stack
        .list(&env.clients, &env.stack.quarantine_bucket, "")
        .await
        .unwrap();
    assert_eq!(quarantine, vec![format!("rows/{id}/quarantine.csv")]);

    // The objects are exactly what the core (and the CLI) produce for these bytes.
    let local = local_run(&env, bytes).await;
    let train = env
        .stack
        .get(
            &env.clients,
            &env.stack.processed_bucket,
            &format!("{root}parquet/train.parquet"),
        )
        .await
        .unwrap();
    assert_eq!(train, local.read(OutputKind::TrainParquet).unwrap());

    assert_marker_names_every_output(&env, &id, TrainingFormat::Csv).await;
    let report: Value = serde_json::from_slice(
        &env.stack
            .get(
                &env.clients,
                &env.stack.processed_bucket,
                &format!("{root}report.json"),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["rows_in"], 20_640);
    assert_eq!(report["imputations"]["total_bedrooms"]["count"], 207);
    assert!(
        report["input"]["etag"].is_string(),
        "S3 identity recorded: {report}"
    );

    // The Glue partition points at the dataset's Parquet folder.
    let partition = env
        .clients
        .glue
        .get_partition()
        .database_name(&env.stack.glue_database)
        .table_name("housing_features")
        .partition_values(&id)
        .send()
        .await
        .expect("partition registered");
    let location = partition
        .partition()
        .and_then(|p| p.storage_descriptor())
        .and_then(|s| s.location())
        .unwrap();
    assert_eq!(
        location,
        format!("s3://{}/{root}parquet/", env.stack.processed_bucket)
    );
    let table = env
        .clients
        .glue
        .get_table()
        .database_name(&env.stack.glue_database)
        .name("housing_features")
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    assert_eq!(table.partition_keys()[0].name(), "dataset_id");
    let columns: Vec<&str> = table
        .storage_descriptor()
        .unwrap()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    assert!(
        columns.contains(&"rooms_per_household") && columns.contains(&"median_house_value"),
        "{columns:?}"
    );

    // One HousingDatasetReady event reached the queue through the bus's rule.
    let events = env.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "HousingDatasetReady");
    assert_eq!(events[0]["source"], "housing-mlops.etl");
    assert_eq!(events[0]["detail"]["dataset_id"], id.as_str());
    assert_eq!(
        events[0]["detail"]["outputs"]["train_xgboost"],
        format!(
            "s3://{}/{root}xgboost/train/train.csv",
            env.stack.processed_bucket
        )
    );
    assert_eq!(events[0]["detail"]["catalog"]["partition"][0], id.as_str());
}

#[tokio::test]
async fn a_rejected_file_leaves_the_raw_object_and_a_rejection_report() {
    let env = env("reject").await;
    let bad = b"longitude;latitude;housing_median_age;total_rooms\n1;2;3;4\n".to_vec();
    env.upload("incoming/bad.csv", bad.clone()).await;
    let response = deliver(&env, EVENTBRIDGE, "incoming/bad.csv")
        .await
        .unwrap();
    let r = result(&response);
    assert_eq!(r["status"], "rejected", "{response}");
    assert_eq!(r["code"], "wrong_delimiter");
    let id = r["dataset_id"].as_str().unwrap();
    let report_key = format!("rejected/{id}/rejection.json");
    assert_eq!(
        r["report"],
        format!("s3://{}/{report_key}", env.stack.quarantine_bucket)
    );
    let report: Value = serde_json::from_slice(
        &env.stack
            .get(&env.clients, &env.stack.quarantine_bucket, &report_key)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["code"], "wrong_delimiter");
    assert!(report["message"].as_str().unwrap().contains("';'"));
    assert_eq!(
        report["input"]["source"],
        format!("s3://{}/incoming/bad.csv", env.stack.raw_bucket)
    );
    // The raw object is untouched; nothing processed, nothing announced.
    assert_eq!(
        env.stack
            .get(&env.clients, &env.stack.raw_bucket, "incoming/bad.csv")
            .await
            .unwrap(),
        bad
    );
    assert!(env.processed_keys().await.is_empty());
    assert!(env.events().await.is_empty());
}

#[tokio::test]
async fn files_over_the_limits_are_refused_naming_the_limit() {
    let cases: [(&str, (&str, &str), &[&str]); 2] = [
        // Refused from HeadObject's size, before the object is read.
        (
            "large",
            ("MAX_OBJECT_BYTES", "1000"),
            &["1423529 bytes", "limit of 1000 bytes", "MAX_OBJECT_BYTES"],
        ),
        // Refused from the lines counted by the checks, before any row is parsed.
        (
            "rows",
            ("MAX_ROWS", "20000"),
            &["20640 lines", "limit of 20000 rows", "MAX_ROWS"],
        ),
    ];
    for (name, (variable, value), expected) in cases {
        let env = Setup::new(name).var(variable, value).etl().await;
        env.upload("incoming/housing.csv", housing()).await;
        let response = deliver(&env, EVENTBRIDGE, "incoming/housing.csv")
            .await
            .unwrap();
        let r = result(&response);
        assert_eq!(r["status"], "rejected", "{response}");
        assert_eq!(r["code"], "too_large");
        let message = r["message"].as_str().unwrap();
        for part in expected {
            assert!(message.contains(part), "{name}: {part:?} not in {message}");
        }
        assert!(env.processed_keys().await.is_empty());
        assert!(env.events().await.is_empty());
    }
}

#[tokio::test]
async fn quarantined_rows_go_to_the_quarantine_bucket() {
    let env = env("quarantine").await;
    let text = String::from_utf8(housing()).unwrap();
    let mut lines: Vec<String> = text.lines().take(200).map(str::to_string).collect();
    lines[10] = lines[10].replace("NEAR BAY", "ON THE MOON");
    lines[20] = "garbage".into();
    env.stack
        .upload(
            &env.clients,
            "incoming/some.csv",
            (lines.join("\n") + "\n").into_bytes(),
        )
        .await
        .unwrap();
    let response = deliver(&env, EVENTBRIDGE, "incoming/some.csv")
        .await
        .unwrap();
    let dataset = &result(&response)["dataset"];
    assert_eq!(dataset["summary"]["rows_quarantined"], 2, "{response}");
    assert_eq!(dataset["summary"]["rows_in"], 199);
    let id = dataset["dataset_id"].as_str().unwrap();
    let csv = env
        .stack
        .get(
            &env.clients,
            &env.stack.quarantine_bucket,
            &format!("rows/{id}/quarantine.csv"),
        )
        .await
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("11,unknown_category:ocean_proximity,") && csv.contains("ON THE MOON"),
        "{csv}"
    );
    assert!(csv.contains("21,field_count,garbage"), "{csv}");
}

#[tokio::test]
async fn the_glue_database_is_created_when_missing() {
    let env = Setup::new("noglue").without_glue_database().etl().await;
    env.upload("incoming/housing.csv", housing()).await;
    let response = deliver(&env, EVENTBRIDGE, "incoming/housing.csv")
        .await
        .unwrap();
    assert_eq!(result(&response)["status"], "processed", "{response}");
    env.clients
        .glue
        .get_database()
        .name(&env.stack.glue_database)
        .send()
        .await
        .expect("database created");
}
