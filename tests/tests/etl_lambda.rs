//! The ETL handler against a real AWS API emulator (moto server on 127.0.0.1):
//! upload → invoke → objects written, Glue partition, event delivered to SQS
//! through an EventBridge rule; the Parquet channels, rejections, limits,
//! quarantine. Deliveries (duplicates, keys, other events) are `etl_deliveries.rs`.

use integration_tests::etl::*;
use integration_tests::{housing, Setup};
use polars::prelude::{DataType, ParquetReader, SerReader};
use serde_json::Value;
use shared::dataset::{
    sha256_hex, CompletionMarker, DatasetId, OutputKind, TrainParts, TrainingFormat,
};

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

/// The real data processed by an ETL with `variable` set to `value`: the
/// stack, the result, the input's bytes and the dataset's id.
async fn processed_with(
    test: &str,
    variable: &str,
    value: &str,
) -> (Env, Value, Vec<u8>, DatasetId) {
    let env = Setup::new(test).var(variable, value).etl().await;
    let (r, bytes) = process_housing(&env).await;
    let id = r["dataset"]["dataset_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (env, r, bytes, id)
}

/// `TRAINING_FORMAT=parquet`: the train and validation channels are label-first
/// Parquet files of doubles holding the CSV channels' values; everything else is
/// what a CSV run writes, byte for byte; the marker and the event name exactly the
/// files written.
#[tokio::test]
async fn parquet_training_channels_hold_the_csv_channels_values() {
    let (env, r, bytes, id) =
        processed_with("parquet-channels", "TRAINING_FORMAT", "parquet").await;
    let layout = &env.service.config.layout;
    assert_eq!(
        r["dataset"]["outputs"],
        serde_json::to_value(layout.output_uris(&id, TrainingFormat::Parquet, TrainParts::ONE))
            .unwrap()
    );
    let processed = env.processed_keys().await;
    let root = format!("datasets/{id}/");
    for key in [
        "xgboost/train/train.parquet",
        "xgboost/validation/validation.parquet",
        "xgboost/test/test.csv",
    ] {
        assert!(
            processed.contains(&format!("{root}{key}")),
            "{key}: {processed:?}"
        );
    }
    for key in [
        "xgboost/train/train.csv",
        "xgboost/validation/validation.csv",
    ] {
        assert!(
            !processed.contains(&format!("{root}{key}")),
            "{key}: {processed:?}"
        );
    }
    let get = |kind: OutputKind| output_object(&env, &id, kind);
    assert_marker_names_every_output(&env, id.as_str(), TrainingFormat::Parquet).await;

    // The same bytes with CSV channels, here.
    let csv = local_run(&env, bytes).await;
    for kind in TrainingFormat::Parquet.outputs() {
        if kind == OutputKind::Report {
            let mut report: Value = serde_json::from_slice(&get(kind).await).unwrap();
            assert_eq!(report["options"]["training_format"], "parquet");
            report["options"]
                .as_object_mut()
                .unwrap()
                .remove("training_format");
            // The Lambda knows the object's ETag; a local run does not.
            report["input"].as_object_mut().unwrap().remove("etag");
            assert_eq!(report, serde_json::to_value(&csv.report).unwrap());
        } else if ![
            TrainingFormat::Parquet.train(),
            TrainingFormat::Parquet.validation(),
            OutputKind::Quarantine,
        ]
        .contains(&kind)
        {
            assert!(
                get(kind).await == csv.read(kind).unwrap(),
                "{kind:?} differs from a CSV run's"
            );
        }
    }
    for (parquet, csv_kind) in [
        (OutputKind::TrainXgboostParquet, OutputKind::TrainXgboost),
        (
            OutputKind::ValidationXgboostParquet,
            OutputKind::ValidationXgboost,
        ),
    ] {
        let frame = ParquetReader::new(std::io::Cursor::new(get(parquet).await))
            .finish()
            .unwrap();
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names,
            shared::etl::schema::xgboost_columns(),
            "label first, then the features"
        );
        assert!(
            frame.dtypes().iter().all(|t| *t == DataType::Float64),
            "{:?}",
            frame.dtypes()
        );
        let text = String::from_utf8(csv.read(csv_kind).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(frame.height(), lines.len(), "{parquet:?}");
        assert!(frame.height() > 1000);
        let columns: Vec<Vec<f64>> = frame
            .columns()
            .iter()
            .map(|c| c.f64().unwrap().into_no_null_iter().collect())
            .collect();
        for (row, line) in lines.iter().enumerate() {
            for (column, field) in line.split(',').enumerate() {
                let expected: f64 = field.parse().unwrap();
                assert_eq!(
                    columns[column][row].to_bits(),
                    expected.to_bits(),
                    "{parquet:?} row {row} column {column}"
                );
            }
        }
    }
}

/// `TRAIN_PARTS=3`: the train channel is three files in its folder, which the
/// event names (the folder is what the pipeline reads); dealt back in turn their
/// lines are a one-part run's `train.csv`, byte for byte; the marker holds each
/// part's hash; every other output is a one-part run's.
#[tokio::test]
async fn a_train_channel_in_parts_deals_the_one_part_rows_in_turn() {
    let (env, r, bytes, id) = processed_with("train-parts", "TRAIN_PARTS", "3").await;
    let three: TrainParts = "3".parse().unwrap();
    let layout = &env.service.config.layout;
    assert_eq!(
        r["dataset"]["outputs"]["train_xgboost"],
        format!(
            "s3://{}/datasets/{id}/xgboost/train/",
            env.stack.processed_bucket
        )
    );
    let marker: CompletionMarker = serde_json::from_slice(
        &env.stack
            .get(
                &env.clients,
                &layout.processed_bucket,
                &layout.marker(&id).key,
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        marker.files.len(),
        TrainingFormat::Csv.outputs().count() + 2
    );
    let mut parts = Vec::new();
    for (name, at) in layout.files(&id, OutputKind::TrainXgboost, three) {
        let body = env
            .stack
            .get(&env.clients, &at.bucket, &at.key)
            .await
            .unwrap();
        assert_eq!(marker.files[&name], sha256_hex(&body), "{name}");
        parts.push(String::from_utf8(body).unwrap());
    }
    let one = local_run(&env, bytes).await;
    let whole = String::from_utf8(one.read(OutputKind::TrainXgboost).unwrap()).unwrap();
    let mut lines: Vec<std::str::Lines> = parts.iter().map(|p| p.lines()).collect();
    let mut dealt = String::new();
    'rows: loop {
        for part in lines.iter_mut() {
            match part.next() {
                Some(line) => {
                    dealt.push_str(line);
                    dealt.push('\n');
                }
                None => break 'rows,
            }
        }
    }
    for part in lines.iter_mut() {
        assert!(part.next().is_none(), "a part holds a row too many");
    }
    assert_eq!(dealt.len(), whole.len());
    assert!(
        dealt == whole,
        "the parts are not the one-part channel dealt in turn"
    );
    let sizes: Vec<usize> = parts.iter().map(|p| p.lines().count()).collect();
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
    for kind in TrainingFormat::Csv.outputs() {
        if matches!(
            kind,
            OutputKind::TrainXgboost | OutputKind::Report | OutputKind::Quarantine
        ) {
            continue;
        }
        assert!(
            output_object(&env, &id, kind).await == one.read(kind).unwrap(),
            "{kind:?} differs from a one-part run's"
        );
    }
    let report: Value =
        serde_json::from_slice(&output_object(&env, &id, OutputKind::Report).await).unwrap();
    assert_eq!(report["options"]["train_parts"], 3);
    assert!(serde_json::to_value(&one.report).unwrap()["options"]
        .get("train_parts")
        .is_none());
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
