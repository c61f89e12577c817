//! The benchmark is honest: the reference implementations under `bench/reference/` do
//! the same work as our ETL. On the real 20,640-row file and on a generated file with
//! bad rows, missing values and duplicates, every one gives the same counts (rows in and
//! out, quarantined, duplicates, imputations, caps) and the same cleaned values, row by
//! row, across its Parquet outputs. The exact ports (pandas, Python Polars) also give the
//! same split of every row and the same quarantine reasons; the idiomatic ones (DuckDB,
//! Python Polars) split by their engine's own hash (the same shares, checked) and name
//! one reason a row (as many reasons as quarantined rows, checked).

use integration_tests::{repo_root, run_etl, LocalOutput};
use polars::prelude::*;
use serde_json::Value;
use shared::dataset::Source;
use shared::etl::schema::parquet_columns;
use shared::etl::EtlOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The benchmark's venv python (`scripts/setup` installs bench/requirements.txt there).
fn bench_python() -> PathBuf {
    repo_root().join(".venv-bench/bin/python")
}

fn python(args: &[&str]) -> String {
    let python = bench_python();
    assert!(
        python.exists(),
        "{} missing: run scripts/setup",
        python.display()
    );
    let out = Command::new(&python)
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn sorted(frame: DataFrame) -> DataFrame {
    frame
        .sort(["source_line"], SortMultipleOptions::default())
        .unwrap()
}

fn ours(bytes: &[u8]) -> LocalOutput {
    let source = Source {
        source: "input.csv".into(),
        ..Default::default()
    };
    run_etl(bytes, &source, &EtlOptions::default()).expect("processed")
}

/// The exact ports of our ETL, and the idiomatic scripts that do the same work their
/// engine's way (see the module's documentation).
const EXACT: [&str; 2] = ["etl_pandas", "etl_polars"];
const IDIOMATIC: [&str; 2] = ["etl_duckdb", "etl_polars_idiomatic"];

/// The `<split>.parquet` files in `dir` (ours and every reference's), one frame in
/// source-line order; each file's rows name the split of the file they are in.
fn all_splits(what: &str, dir: &Path) -> DataFrame {
    let read = |split: &str| {
        let file = std::fs::File::open(dir.join(format!("{split}.parquet")))
            .unwrap_or_else(|e| panic!("{what}: {split}.parquet: {e}"));
        let frame = ParquetReader::new(file).finish().unwrap();
        let splits = frame.column("split").unwrap().str().unwrap().clone();
        assert!(splits.iter().all(|s| s == Some(split)), "{what}: {split}");
        frame
    };
    let mut frame = read("train");
    for split in ["validation", "test"] {
        frame.vstack_mut(&read(split)).unwrap();
    }
    sorted(frame)
}

/// Same values in every column (floats to 1e-9 relative), in source-line order; the
/// split column too when `same_split`.
fn assert_same_frames(what: &str, ours: &DataFrame, theirs: &DataFrame, same_split: bool) {
    assert_eq!(ours.height(), theirs.height(), "{what}: rows");
    for name in parquet_columns() {
        if name == "split" && !same_split {
            continue;
        }
        let a = ours.column(&name).unwrap().as_materialized_series().clone();
        let b = theirs
            .column(&name)
            .unwrap_or_else(|_| panic!("{what}: no column {name}"))
            .as_materialized_series()
            .clone();
        if a.dtype().is_float() {
            let (a, b) = (a.f64().unwrap(), b.cast(&DataType::Float64).unwrap());
            for (i, (x, y)) in a.iter().zip(b.f64().unwrap().iter()).enumerate() {
                let (x, y) = (x.unwrap(), y.unwrap());
                assert!(
                    (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                    "{what}: {name} row {i}: {x} vs {y}"
                );
            }
        } else {
            let b = b.cast(a.dtype()).unwrap();
            assert!(a.equals(&b), "{what}: column {name} differs");
        }
    }
}

fn compare(input: &Path) {
    let bytes = std::fs::read(input).unwrap();
    let output = ours(&bytes);
    let report = &output.report;
    let ours_frame = all_splits("ours", &output.dir);
    for implementation in EXACT.iter().chain(&IDIOMATIC) {
        let exact = EXACT.contains(implementation);
        let dir = tempfile::tempdir().unwrap();
        let script = format!("bench/reference/{implementation}.py");
        let summary: Value = serde_json::from_str(
            python(&[
                &script,
                input.to_str().unwrap(),
                dir.path().to_str().unwrap(),
            ])
            .trim(),
        )
        .unwrap();
        let what = format!("{implementation} on {}", input.display());
        assert_eq!(summary["rows_in"], report.rows_in, "{what}");
        assert_eq!(summary["rows_out"], report.rows_out, "{what}");
        assert_eq!(
            summary["rows_quarantined"], report.rows_quarantined,
            "{what}"
        );
        assert_eq!(summary["rows_duplicate"], report.rows_duplicate, "{what}");
        for (split, count) in &report.splits {
            let theirs = summary["splits"][split].as_u64().unwrap_or(0);
            if exact {
                assert_eq!(theirs, *count, "{what}: {split}");
            } else {
                // Another hash, the same shares (80/10/10): within 1.5 points of ours.
                let (ours, theirs) = (*count as f64, theirs as f64);
                assert!(
                    (ours - theirs).abs() <= 0.015 * report.rows_out as f64,
                    "{what}: {split}: {theirs} rows, ours {ours}"
                );
            }
        }
        assert_eq!(
            summary["imputed"], report.imputations["total_bedrooms"].count,
            "{what}"
        );
        for (flag, count) in &report.capped {
            assert_eq!(summary["capped"][flag], *count, "{what}: {flag}");
        }
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
                .unwrap();
        let reasons = written["reasons"].as_object().unwrap();
        if exact {
            for (reason, count) in &report.reasons {
                assert_eq!(written["reasons"][reason], *count, "{what}: {reason}");
            }
            assert_eq!(reasons.len(), report.reasons.len(), "{what}: reasons");
        } else {
            // One reason a row, each a reason of the contract's. A row short of a field
            // reads as values in the wrong columns there (ours says `field_count`).
            let named: u64 = reasons.values().map(|v| v.as_u64().unwrap()).sum();
            assert_eq!(named, report.rows_quarantined, "{what}: reasons");
            let columns = parquet_columns();
            for reason in reasons.keys() {
                let known = report.reasons.contains_key(reason)
                    || reason.split_once(':').is_some_and(|(kind, column)| {
                        ["missing_value", "not_a_number", "out_of_range"].contains(&kind)
                            && columns.iter().any(|c| c == column)
                    });
                assert!(known, "{what}: {reason}");
            }
        }
        let theirs = all_splits(&what, dir.path());
        assert_same_frames(&what, &ours_frame, &theirs, exact);
        // Each XGBoost CSV channel has a line for each row of its split.
        for (split, count) in summary["splits"].as_object().unwrap() {
            let csv = std::fs::read_to_string(dir.path().join(format!("{split}.csv"))).unwrap();
            assert_eq!(
                csv.lines().count() as u64,
                count.as_u64().unwrap(),
                "{what}: {split}.csv"
            );
        }
    }
}

#[test]
fn the_references_agree_with_the_etl_on_the_real_file() {
    compare(&repo_root().join("data/housing.csv"));
}

#[test]
fn the_references_agree_with_the_etl_on_a_generated_file_with_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("generated.csv");
    python(&[
        "bench/generate.py",
        "30000",
        file.to_str().unwrap(),
        "--seed",
        "7",
    ]);
    let report = ours(&std::fs::read(&file).unwrap()).output.report;
    assert!(
        report.rows_quarantined > 0 && report.rows_duplicate > 0,
        "the generated file has bad rows and duplicates: {report:?}"
    );
    assert!(report.imputations["total_bedrooms"].count > 0);
    compare(&file);
}
