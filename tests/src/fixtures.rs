//! The repository's fixtures: the bundled data, sample events, JSON files, and
//! the ETL core run as the CLI and the Lambda run it.

use anyhow::{Context, Result};
use local_stack::repo_root;
use serde_json::Value;
use shared::dataset::{identify, Source};
use shared::etl::{EtlError, EtlOptions, EtlOutput};

/// `data/housing.csv`: the real California Housing data.
pub fn housing() -> Vec<u8> {
    std::fs::read(repo_root().join("data/housing.csv")).expect("data/housing.csv")
}

/// The header and the first `rows` rows of `data/housing.csv`.
pub fn housing_head(rows: usize) -> String {
    String::from_utf8(housing())
        .unwrap()
        .lines()
        .take(rows + 1)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A JSON file of the repository (a sample event, a fixture).
pub fn read_json(relative: &str) -> Value {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A sample event from `events/`, pointed at a bucket and (encoded) key.
pub fn sample_event(file: &str, bucket: &str, encoded_key: &str) -> Result<Value> {
    let path = repo_root().join("events").join(file);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut event: Value = serde_json::from_str(&text)?;
    if let Some(records) = event.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            r["s3"]["bucket"]["name"] = bucket.into();
            r["s3"]["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
            r["s3"]["object"]["key"] = encoded_key.into();
        }
    } else {
        event["detail"]["bucket"]["name"] = bucket.into();
        event["detail"]["object"]["key"] = encoded_key.into();
        event["resources"] = serde_json::json!([format!("arn:aws:s3:::{bucket}")]);
    }
    Ok(event)
}

/// The ETL core's outputs in a temporary directory, removed on drop.
pub struct LocalOutput {
    pub output: EtlOutput,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for LocalOutput {
    type Target = EtlOutput;
    fn deref(&self) -> &Self::Target {
        &self.output
    }
}

/// Runs the ETL core on `bytes` as the CLI and the Lambda do: from a file, into a
/// directory (both temporary).
pub fn run_etl(
    bytes: &[u8],
    source: &Source,
    options: &EtlOptions,
) -> Result<LocalOutput, EtlError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("input.csv");
    std::fs::write(&input, bytes).expect("writing the input");
    let (id, identity) = identify(&input, source).expect("reading the input");
    let output = shared::etl::run(&input, id, identity, options, &dir.path().join("out"))?;
    Ok(LocalOutput { output, _dir: dir })
}

/// Runs `script` with the project's Python (`local_stack::python`) and `args`,
/// `stdin` on its standard input, and returns what it prints, as JSON. Panics
/// with the script's stderr when it fails.
pub fn python_json(script: &str, args: &[&std::ffi::OsStr], stdin: &[u8]) -> Value {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(local_stack::python())
        .args(["-c", script])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the project's Python");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// The bundled stages, awake, with dev on one instance that captures every request,
/// as it was before dev went serverless: for the tests of what capture feeds
/// (the traffic monitor), whose model is deployed to the first stage.
pub fn stages_with_capturing_dev() -> String {
    local_stack::stack::bundled_stages_with("dev", |dev| {
        dev.remove("serverless");
        dev.insert("instance_type".into(), "ml.m5.large".into());
        dev.insert("instance_count".into(), 1.into());
        dev.insert("data_capture_percent".into(), 100.into());
    })
    .expect("dev on one capturing instance")
}

/// The bundled stages with `stage` asleep now (its window excludes now, the
/// other stages never sleep), and when it wakes.
pub fn stages_with_asleep(stage: &str) -> (String, chrono::DateTime<chrono::Utc>) {
    local_stack::stack::stages_asleep(stage).expect("the sleeping stages")
}
