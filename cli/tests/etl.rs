//! `housing-etl --input <csv> --output <dir>`: the exact interface other tooling uses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cli(input: &Path, output: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_housing-etl"))
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .output()
        .expect("run housing-etl")
}

#[test]
fn the_real_file_exits_0_with_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&repo().join("data/housing.csv"), &dir.path().join("out"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("20640 rows in, 20640 out, 0 quarantined, 0 duplicate"),
        "{stdout}"
    );
    for name in [
        "train.parquet",
        "validation.parquet",
        "test.parquet",
        "train.csv",
        "validation.csv",
        "quarantine.csv",
        "report.json",
        "_SUCCESS",
    ] {
        assert!(
            dir.path().join("out").join(name).is_file(),
            "{name} missing"
        );
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["rows_in"], 20640);
}

/// `--training-format parquet`: the train and validation channels as Parquet, the
/// marker naming exactly the files written; an unknown format is a usage error.
#[test]
fn the_training_format_chooses_the_channels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_housing-etl"))
        .arg("--input")
        .arg(repo().join("data/housing.csv"))
        .arg("--output")
        .arg(&out)
        .args(["--training-format", "parquet"])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for name in [
        "xgboost-train.parquet",
        "xgboost-validation.parquet",
        "test.csv",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    for name in ["train.csv", "validation.csv"] {
        assert!(!out.join(name).exists(), "{name} written");
    }
    // Parquet's magic at both ends.
    let channel = std::fs::read(out.join("xgboost-train.parquet")).unwrap();
    assert!(channel.starts_with(b"PAR1") && channel.ends_with(b"PAR1"));
    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_SUCCESS")).unwrap()).unwrap();
    let files = marker["files"].as_object().unwrap();
    assert_eq!(files.len(), 11);
    assert!(files.contains_key("xgboost-train.parquet") && !files.contains_key("train.csv"));

    let bad = Command::new(env!("CARGO_BIN_EXE_housing-etl"))
        .arg("--input")
        .arg(repo().join("data/housing.csv"))
        .arg("--output")
        .arg(dir.path().join("bad"))
        .args(["--training-format", "libsvm"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("`csv` or `parquet`"), "{stderr}");
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn quarantined_rows_still_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let text = std::fs::read_to_string(repo().join("data/housing.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().take(50).collect();
    lines.push("not,a,row");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = cli(&input, &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["rows_quarantined"], 1);
    assert_eq!(report["reasons"]["field_count"], 1);
}

#[test]
fn malformed_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 5] = [
        ("empty.csv", b"", "empty"),
        (
            "semicolons.csv",
            b"longitude;latitude;housing_median_age\n1;2;3\n",
            "wrong delimiter",
        ),
        (
            "columns.csv",
            b"longitude,latitude\n1,2\n",
            "missing required column",
        ),
        ("binary.csv", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (
            "latin1.csv",
            b"longitude,ocean_proximity\n1,caf\xe9\n",
            "not UTF-8",
        ),
    ];
    for (name, bytes, needle) in cases {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let output = dir.path().join(format!("{name}.out"));
        let out = cli(&input, &output);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{name}: one line expected, got {stderr}"
        );
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        let rejection: serde_json::Value =
            serde_json::from_slice(&std::fs::read(output.join("rejection.json")).unwrap()).unwrap();
        assert!(rejection["code"].is_string());
        assert!(!output.join("report.json").exists());
    }
}

#[test]
fn a_missing_input_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&dir.path().join("nope.csv"), &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
