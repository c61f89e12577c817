//! The ETL core on the real California-housing file and on crafted bad files.

use integration_tests::{repo_root, run_etl, LocalOutput};
use polars::prelude::*;
use shared::dataset::OutputKind;
use shared::dataset::Source;
use shared::etl::schema::{parquet_columns, xgboost_columns};
use shared::etl::{CappedPolicy, EtlError, EtlOptions, EtlOutput, RejectionCode};
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

const HEADER: &str = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,median_house_value,ocean_proximity";

fn housing() -> Vec<u8> {
    std::fs::read(repo_root().join("data/housing.csv")).expect("data/housing.csv")
}

fn source() -> Source {
    Source {
        source: "housing.csv".into(),
        ..Default::default()
    }
}

fn process(bytes: &[u8]) -> LocalOutput {
    run_etl(bytes, &source(), &EtlOptions::default()).expect("processed")
}

fn parquet(output: &EtlOutput, kind: OutputKind) -> DataFrame {
    ParquetReader::new(Cursor::new(output.read(kind).unwrap()))
        .finish()
        .expect("valid parquet")
}

/// source_line → split, over the three Parquet outputs.
fn splits_by_line(output: &EtlOutput) -> HashMap<i64, String> {
    let mut map = HashMap::new();
    for kind in [
        OutputKind::TrainParquet,
        OutputKind::ValidationParquet,
        OutputKind::TestParquet,
    ] {
        let frame = parquet(output, kind);
        let lines = frame.column("source_line").unwrap().i64().unwrap().clone();
        let splits = frame.column("split").unwrap().str().unwrap().clone();
        for (line, split) in lines.iter().zip(splits.iter()) {
            map.insert(line.unwrap(), split.unwrap().to_string());
        }
    }
    map
}

#[test]
fn the_real_file_is_fully_accounted_for() {
    let output = process(&housing());
    let r = &output.report;
    assert_eq!(r.rows_in, 20_640);
    assert_eq!(
        (r.rows_out, r.rows_quarantined, r.rows_duplicate),
        (20_640, 0, 0)
    );
    assert!(r.rows_balance());
    assert_eq!(r.imputations["total_bedrooms"].count, 207);
    assert_eq!(r.capped["median_house_value"], 965);
    assert_eq!(r.capped["housing_median_age"], 1_273);
    assert_eq!(r.splits.values().sum::<u64>(), 20_640);
    // 80/10/10 by hash: within two percentage points on 20k rows.
    let share = |s: &str| r.splits[s] as f64 / 20_640.0;
    assert!((share("train") - 0.8).abs() < 0.02, "{:?}", r.splits);
    assert!((share("validation") - 0.1).abs() < 0.02, "{:?}", r.splits);
    assert!((share("test") - 0.1).abs() < 0.02, "{:?}", r.splits);
    assert_eq!(
        r.input.sha256.as_deref(),
        Some("8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e")
    );
    assert_eq!(
        output.dataset_id.as_str(),
        "ds-8a3727f4cf54ac1a327f69b1d5b4db54"
    );
    let income = &r.columns["median_income"];
    assert_eq!((income.min, income.max), (Some(0.4999), Some(15.0001)));
    assert_eq!(r.columns["total_bedrooms"].null_count, 0);
    assert_eq!(r.columns["households"].min, Some(1.0));
}

#[test]
fn parquet_outputs_hold_clean_featured_rows() {
    let output = process(&housing());
    let train = parquet(&output, OutputKind::TrainParquet);
    assert_eq!(train.height() as u64, output.report.splits["train"]);
    let names: Vec<String> = train
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, parquet_columns());
    assert_eq!(train.column("total_bedrooms").unwrap().null_count(), 0);

    // File line 292 is the first row with a blank total_bedrooms (NEAR BAY):
    // imputed with the NEAR BAY median, and flagged.
    let all = splits_by_line(&output);
    let split = &all[&292];
    let kind = match split.as_str() {
        "train" => OutputKind::TrainParquet,
        "validation" => OutputKind::ValidationParquet,
        _ => OutputKind::TestParquet,
    };
    let frame = parquet(&output, kind);
    let row = frame
        .column("source_line")
        .unwrap()
        .i64()
        .unwrap()
        .equal(292);
    let frame = frame.filter(&row).unwrap();
    let f64_at = |c: &str| frame.column(c).unwrap().f64().unwrap().get(0).unwrap();
    let near_bay_median = output.report.imputations["total_bedrooms"].values["NEAR BAY"];
    assert_eq!(f64_at("total_bedrooms"), near_bay_median);
    assert!(frame
        .column("total_bedrooms_imputed")
        .unwrap()
        .bool()
        .unwrap()
        .get(0)
        .unwrap());
    assert_eq!(f64_at("longitude"), -122.16);
    assert!((f64_at("rooms_per_household") - 1256.0 / 218.0).abs() < 1e-12);
    assert_eq!(
        frame
            .column("ocean_proximity_near_bay")
            .unwrap()
            .i32()
            .unwrap()
            .get(0),
        Some(1)
    );
}

#[test]
fn xgboost_channels_are_target_first_without_header() {
    let output = process(&housing());
    for (kind, split) in [
        (OutputKind::TrainXgboost, "train"),
        (OutputKind::ValidationXgboost, "validation"),
        (OutputKind::TestXgboost, "test"),
    ] {
        let text = String::from_utf8(output.read(kind).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, output.report.splits[split]);
        assert!(
            lines[0].split(',').all(|f| f.parse::<f64>().is_ok()),
            "header or text in {kind:?}: {}",
            lines[0]
        );
        assert!(lines
            .iter()
            .all(|l| l.split(',').count() == xgboost_columns().len()));
        // Target first: every first field is a house value in the contract's range.
        assert!(lines.iter().all(|l| {
            let v: f64 = l.split(',').next().unwrap().parse().unwrap();
            (14_999.0..=500_001.0).contains(&v)
        }));
    }
    assert_eq!(xgboost_columns()[0], "median_house_value");
}

#[test]
fn reruns_are_byte_identical() {
    let bytes = housing();
    let a = process(&bytes);
    let b = process(&bytes);
    assert_eq!(
        a.completion_marker().unwrap(),
        b.completion_marker().unwrap()
    );
}

#[test]
fn batches_change_row_groups_not_values() {
    let bytes = housing();
    let whole = process(&bytes);
    let options = EtlOptions {
        batch_rows: 1_000,
        ..Default::default()
    };
    let batched = run_etl(&bytes, &source(), &options).unwrap();
    // 20,640 kept rows in batches of 1,000: 21 row groups in the training file.
    let groups = |output: &EtlOutput| {
        let file = std::fs::File::open(output.path(OutputKind::TrainParquet)).unwrap();
        ParquetReader::new(file)
            .get_metadata()
            .unwrap()
            .row_groups
            .len()
    };
    assert_eq!(groups(&whole), 1);
    assert_eq!(groups(&batched), 21);
    for kind in [
        OutputKind::TrainParquet,
        OutputKind::ValidationParquet,
        OutputKind::TestParquet,
    ] {
        assert!(
            parquet(&whole, kind).equals_missing(&parquet(&batched, kind)),
            "{kind:?}"
        );
    }
    for kind in [
        OutputKind::TrainXgboost,
        OutputKind::ValidationXgboost,
        OutputKind::TestXgboost,
        OutputKind::Quarantine,
        OutputKind::Report,
        OutputKind::Profile,
    ] {
        assert_eq!(
            whole.read(kind).unwrap(),
            batched.read(kind).unwrap(),
            "{kind:?}"
        );
    }
}

#[test]
fn appending_rows_never_reshuffles_old_ones() {
    let bytes = housing();
    let text = String::from_utf8(bytes).unwrap();
    let first_half: String = text
        .lines()
        .take(10_001)
        .map(|l| format!("{l}\n"))
        .collect();
    let before = splits_by_line(&process(first_half.as_bytes()));
    let after = splits_by_line(&process(text.as_bytes()));
    assert_eq!(before.len(), 10_000);
    for (line, split) in &before {
        assert_eq!(&after[line], split, "row at line {line} moved split");
    }
}

#[test]
fn column_order_does_not_change_the_split_or_the_values() {
    let text = String::from_utf8(housing()).unwrap();
    let reversed: String = text
        .lines()
        .map(|l| {
            // housing.csv has no quoted fields, so a plain split is exact here.
            let mut fields: Vec<&str> = l.split(',').collect();
            fields.reverse();
            format!("{}\n", fields.join(","))
        })
        .collect();
    let a = process(text.as_bytes());
    let b = process(reversed.as_bytes());
    assert_eq!(splits_by_line(&a), splits_by_line(&b));
    assert_eq!(a.report.columns, b.report.columns);
    assert_eq!(
        a.read(OutputKind::TrainXgboost).unwrap(),
        b.read(OutputKind::TrainXgboost).unwrap()
    );
}

#[test]
fn bad_rows_are_quarantined_with_reasons_and_original_fields() {
    let body = [
        "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY",
        "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY",
        "-122.22,37.86,21.0,7099.0,1106.0,2401.0,1138.0,8.3014,358500.0,  inland ",
        "-122.24,,52.0,1467.0,190.0,496.0,177.0,7.2574,352100.0,NEAR BAY",
        "-122.25,37.85,52.0,1274.0,235.0,558.0,219.0,5.6431,341300.0,ATLANTIS",
        "\"-122.25\",\"37.85\",\"52.0\",\"1,274.0\",235.0,558.0,219.0,5.6431,341300.0,NEAR BAY",
        "-122.25,37.85,52.0",
        "0,0,0,0,0,0,0,0,0,INLAND",
    ]
    .join("\n");
    let text = format!("{HEADER},comment\n{}\n", body.replace('\n', ",x\n") + ",x");
    let output = process(text.as_bytes());
    let r = &output.report;
    assert_eq!(
        (r.rows_in, r.rows_out, r.rows_quarantined, r.rows_duplicate),
        (8, 2, 5, 1)
    );
    assert_eq!(r.ignored_columns, vec!["comment"]);
    let expected: BTreeMap<String, u64> = [
        ("missing_value:latitude", 1),
        ("unknown_category:ocean_proximity", 1),
        ("not_a_number:total_rooms", 1),
        ("field_count", 1),
        ("out_of_range:longitude", 1),
        ("out_of_range:latitude", 1),
        ("out_of_range:total_rooms", 1),
        ("out_of_range:population", 1),
        ("out_of_range:households", 1),
        ("out_of_range:median_house_value", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(r.reasons, expected);

    let quarantine = String::from_utf8(output.read(OutputKind::Quarantine).unwrap()).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(quarantine.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[..3], ["source_line", "reasons", "longitude"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let unknown = rows
        .iter()
        .find(|r| &r[1] == "unknown_category:ocean_proximity")
        .unwrap();
    assert_eq!(&unknown[0], "6");
    assert_eq!(&unknown[11], "ATLANTIS");
    let thousands = rows
        .iter()
        .find(|r| &r[1] == "not_a_number:total_rooms")
        .unwrap();
    assert_eq!(&thousands[5], "1,274.0", "original field kept verbatim");
}

#[test]
fn the_row_limit_is_checked_before_parsing() {
    let at = |max: usize| EtlOptions {
        max_rows: Some(max),
        ..Default::default()
    };
    let output = run_etl(&housing(), &source(), &at(20_640)).unwrap();
    assert_eq!(output.report.rows_in, 20_640);
    let rejection = match run_etl(&housing(), &source(), &at(20_639)) {
        Err(EtlError::Rejected(r)) => r,
        other => panic!(
            "expected a rejection, got {:?}",
            other.map(|o| o.report.rows_in)
        ),
    };
    assert_eq!(rejection.code, RejectionCode::TooLarge);
    assert!(
        rejection
            .message
            .contains("20640 lines after the header, over the limit of 20639 rows"),
        "{}",
        rejection.message
    );

    // Old Mac line ends (a lone CR) are rows to the reader, so they are lines to the limit.
    let cr_only: Vec<u8> = housing()
        .into_iter()
        .map(|b| if b == b'\n' { b'\r' } else { b })
        .collect();
    match run_etl(&cr_only, &source(), &at(14_000)) {
        Err(EtlError::Rejected(r)) => assert_eq!(r.code, RejectionCode::TooLarge, "{r}"),
        other => panic!(
            "a CR-only file passed the limit: {:?}",
            other.map(|o| o.report.rows_in)
        ),
    }
    let output = run_etl(&cr_only, &source(), &at(20_640)).unwrap();
    assert_eq!(output.report.rows_out, 20_640);
}

#[test]
fn capped_policy_quarantine_moves_capped_rows() {
    let options = EtlOptions {
        capped_policy: CappedPolicy::Quarantine,
        ..Default::default()
    };
    let output = run_etl(&housing(), &source(), &options).unwrap();
    let r = &output.report;
    assert!(r.rows_balance());
    assert_eq!(r.reasons["capped:median_house_value"], 965);
    assert_eq!(r.reasons["capped:housing_median_age"], 1_273);
    assert_eq!(r.capped["median_house_value"], 0);
    assert_eq!(r.options.capped_policy, "quarantine");
}

#[test]
fn whole_file_rejections_name_the_problem() {
    let cases: Vec<(Vec<u8>, RejectionCode, &str)> = vec![
        (vec![], RejectionCode::Empty, "empty"),
        (
            b"\x1f\x8b\x08\x00\x00\x00".to_vec(),
            RejectionCode::NotText,
            "gzip",
        ),
        (b"PAR1\x15\x04".to_vec(), RejectionCode::NotText, "Parquet"),
        (
            [
                format!("{HEADER}\n1,2,3,4,5,6,7,8,9,caf").as_bytes(),
                &[0xe9, b'\n'],
            ]
            .concat(),
            RejectionCode::NotUtf8,
            "not UTF-8",
        ),
        (
            HEADER.replace(',', ";").into_bytes(),
            RejectionCode::WrongDelimiter,
            "';'",
        ),
        (
            b"longitude,latitude,total_rooms\n1,2,3\n".to_vec(),
            RejectionCode::MissingColumns,
            "median_income",
        ),
        (
            format!("{HEADER}\n").into_bytes(),
            RejectionCode::NoDataRows,
            "no data rows",
        ),
    ];
    for (bytes, code, needle) in cases {
        match run_etl(&bytes, &source(), &EtlOptions::default()) {
            Err(EtlError::Rejected(r)) => {
                assert_eq!(r.code, code, "{r}");
                assert!(
                    r.to_string().contains(needle),
                    "{r} should mention {needle}"
                );
                assert!(!r.to_string().contains('\n'));
            }
            other => panic!(
                "expected {code:?}, got {:?}",
                other.map(|o| o.report.rows_in)
            ),
        }
    }
}

/// Random corruptions of a valid file: the core never panics, and every
/// processed file keeps the row accounting exact.
#[test]
fn corrupted_inputs_never_panic() {
    let text = String::from_utf8(housing()).unwrap();
    let sample: Vec<u8> = text
        .lines()
        .take(60)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let noise = [b',', b'"', b'\n', b'\r', 0u8, 0xff, b'x', b' ', b';', b'-'];
    for _ in 0..300 {
        let mut bytes = sample.clone();
        for _ in 0..(next() % 8 + 1) {
            let at = (next() as usize) % bytes.len().max(1);
            match next() % 3 {
                0 => bytes[at] = noise[(next() % noise.len() as u64) as usize],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, noise[(next() % noise.len() as u64) as usize]),
            }
        }
        match run_etl(&bytes, &source(), &EtlOptions::default()) {
            Ok(output) => assert!(output.report.rows_balance()),
            Err(EtlError::Rejected(_)) => {}
            Err(e @ (EtlError::Internal(_) | EtlError::DiskFull(_))) => {
                panic!("engine failure on corrupted input: {e}")
            }
        }
    }
}

#[test]
fn crlf_line_endings_read_like_lf() {
    let text = String::from_utf8(housing()).unwrap();
    let crlf = text.replace('\n', "\r\n");
    let (a, b) = (process(text.as_bytes()), process(crlf.as_bytes()));
    assert_eq!(b.report.rows_in, 20_640);
    assert_eq!(a.report.reasons, b.report.reasons);
    assert_eq!(
        a.read(OutputKind::TrainXgboost).unwrap(),
        b.read(OutputKind::TrainXgboost).unwrap()
    );
}
