//! The benchmark is honest: the pandas and Python Polars reference implementations
//! under `bench/reference/` do the same work as our ETL. On the real 20,640-row file
//! and on a generated file with bad rows, missing values and duplicates, all three
//! give the same counts (rows, splits, quarantine reasons, imputations, caps) and the
//! same cleaned values, row by row, in every split's Parquet output.

use integration_tests::{repo_root, run_etl, LocalOutput};
use polars::prelude::*;
use serde_json::Value;
use shared::dataset::OutputKind;
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

/// Same values in every column (floats to 1e-9 relative), in source-line order.
fn assert_same_frames(what: &str, ours: &DataFrame, theirs: &DataFrame) {
    assert_eq!(ours.height(), theirs.height(), "{what}: rows");
    for name in parquet_columns() {
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
    for implementation in ["etl_pandas", "etl_polars"] {
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
            assert_eq!(summary["splits"][split], *count, "{what}: {split}");
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
        for (reason, count) in &report.reasons {
            assert_eq!(written["reasons"][reason], *count, "{what}: {reason}");
        }
        assert_eq!(
            written["reasons"].as_object().unwrap().len(),
            report.reasons.len(),
            "{what}: reasons"
        );
        for (kind, file) in [
            (OutputKind::TrainParquet, "train.parquet"),
            (OutputKind::ValidationParquet, "validation.parquet"),
            (OutputKind::TestParquet, "test.parquet"),
        ] {
            let ours = sorted(
                ParquetReader::new(std::io::Cursor::new(output.read(kind).unwrap()))
                    .finish()
                    .unwrap(),
            );
            let theirs = sorted(
                ParquetReader::new(std::fs::File::open(dir.path().join(file)).unwrap())
                    .finish()
                    .unwrap(),
            );
            assert_same_frames(&format!("{what}, {file}"), &ours, &theirs);
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
