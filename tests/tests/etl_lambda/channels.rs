//! The training channels as Parquet, and a train channel in parts.

use super::*;

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
