//! The unit tests of `layout`.

use super::*;

#[test]
fn layout_names_every_output_under_the_dataset() {
    let layout = DatasetLayout {
        processed_bucket: "proc".into(),
        processed_prefix: "datasets/".into(),
        quarantine_bucket: "quar".into(),
        quarantine_prefix: "".into(),
    };
    let id = DatasetId::from_sha256(&"1".repeat(64));
    assert_eq!(
        layout.output(&id, OutputKind::TrainParquet).uri(),
        format!("s3://proc/datasets/{id}/parquet/train.parquet")
    );
    assert_eq!(
        layout.output(&id, OutputKind::TrainXgboost).uri(),
        format!("s3://proc/datasets/{id}/xgboost/train/train.csv")
    );
    assert_eq!(
        layout.output(&id, OutputKind::Quarantine).uri(),
        format!("s3://quar/rows/{id}/quarantine.csv")
    );
    assert_eq!(
        layout.marker(&id).uri(),
        format!("s3://proc/datasets/{id}/_SUCCESS")
    );
    assert_eq!(
        layout.training_claim(&id).uri(),
        format!("s3://proc/datasets/{id}/training/trigger.json")
    );
    assert_eq!(
        layout.rejection(&id).uri(),
        format!("s3://quar/rejected/{id}/rejection.json")
    );
    assert_eq!(
        layout.output(&id, OutputKind::TrainXgboostParquet).uri(),
        format!("s3://proc/datasets/{id}/xgboost/train/train.parquet")
    );
    let mut keys = std::collections::BTreeSet::new();
    let mut files = std::collections::BTreeSet::new();
    for kind in OutputKind::ALL {
        let loc = layout.output(&id, kind);
        assert!(
            loc.key.contains(id.as_str()),
            "{kind:?} not named from the dataset id"
        );
        assert!(
            keys.insert(loc.uri()),
            "{kind:?}: a second output at {loc:?}"
        );
        assert!(
            files.insert(kind.file_name()),
            "{kind:?}: a second output named {}",
            kind.file_name()
        );
    }
}

#[test]
fn a_train_channel_in_parts_is_a_folder_of_numbered_files() {
    let layout = DatasetLayout::processed_only("proc".into(), "datasets/".into());
    let id = DatasetId::from_sha256(&"2".repeat(64));
    let three: TrainParts = " 3 ".parse().unwrap();
    let files = layout.files(&id, OutputKind::TrainXgboost, three);
    let uris: Vec<String> = files.iter().map(|(_, loc)| loc.uri()).collect();
    assert_eq!(
        uris,
        (1..=3)
            .map(|i| format!("s3://proc/datasets/{id}/xgboost/train/train-0000{i}-of-00003.csv"))
            .collect::<Vec<_>>()
    );
    assert_eq!(files[1].0, "train-00002-of-00003.csv");
    assert_eq!(
        layout.channel_uri(&id, OutputKind::TrainXgboost, three),
        format!("s3://proc/datasets/{id}/xgboost/train/")
    );
    let parquet = layout.files(&id, OutputKind::TrainXgboostParquet, three);
    assert_eq!(parquet[0].0, "xgboost-train-00001-of-00003.parquet");
    assert!(parquet[0]
        .1
        .key
        .ends_with("/xgboost/train/xgboost-train-00001-of-00003.parquet"));
    // Only the train channel is split; one part is today's single file.
    for kind in OutputKind::ALL {
        let split = layout.files(&id, kind, three).len() > 1;
        assert_eq!(
            split,
            matches!(
                kind,
                OutputKind::TrainXgboost | OutputKind::TrainXgboostParquet
            ),
            "{kind:?}"
        );
        assert_eq!(
            layout.files(&id, kind, TrainParts::ONE),
            vec![(kind.file_name().to_string(), layout.output(&id, kind))]
        );
        assert_eq!(
            layout.channel_uri(&id, kind, TrainParts::ONE),
            layout.output(&id, kind).uri()
        );
    }
    for bad in ["0", "65", "two", "-1"] {
        assert!(bad.parse::<TrainParts>().is_err(), "{bad}");
    }
    assert!(serde_json::from_str::<TrainParts>("0").is_err());
    assert_eq!(serde_json::from_str::<TrainParts>("64").unwrap().get(), 64);
}

#[test]
fn a_run_writes_one_format_of_training_channels() {
    let csv: Vec<_> = TrainingFormat::Csv.outputs().collect();
    let parquet: Vec<_> = TrainingFormat::Parquet.outputs().collect();
    assert_eq!(csv.len(), 11);
    assert_eq!(parquet.len(), 11);
    assert!(
        csv.contains(&OutputKind::TrainXgboost) && csv.contains(&OutputKind::ValidationXgboost)
    );
    assert!(!csv.contains(&OutputKind::TrainXgboostParquet));
    assert!(parquet.contains(&OutputKind::TrainXgboostParquet));
    assert!(parquet.contains(&OutputKind::ValidationXgboostParquet));
    assert!(!parquet.contains(&OutputKind::TrainXgboost));
    // The test channel is CSV in both: the evaluation and the quality check read it.
    assert!(csv.contains(&OutputKind::TestXgboost) && parquet.contains(&OutputKind::TestXgboost));
    for format in [TrainingFormat::Csv, TrainingFormat::Parquet] {
        assert_eq!(format.as_str().parse::<TrainingFormat>(), Ok(format));
        assert_eq!(format.train().content_type() == "text/csv", format.is_csv());
    }
    assert_eq!(
        " Parquet ".parse::<TrainingFormat>(),
        Ok(TrainingFormat::Parquet)
    );
    assert!("tsv"
        .parse::<TrainingFormat>()
        .unwrap_err()
        .contains("`csv` or `parquet`"));
    assert_eq!(
        TrainingFormat::Parquet.content_type(),
        "application/x-parquet"
    );
}
