//! The Lambda (against the local stack) and the CLI write the same outputs for
//! the same file, byte for byte, and both state the drift policy they were
//! given in `constraints.json`.
//!
//! Byte equality here holds within one build; that the Model Monitor files do
//! not depend on how serde_json is built (its `preserve_order` feature, which
//! workspace builds turn on) is `drift::model_monitor`'s unit test.

use integration_tests::{housing, sample_event, Setup};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::dataset::{DatasetId, OutputKind, TrainingFormat};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `housing-etl` on `input` into `out`, with `args`.
fn cli(input: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_housing-etl"))
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(out)
        .args(args)
        .output()
        .expect("run housing-etl")
}

/// `housing-etl` with `--drift-policy policy`, which must succeed.
fn cli_with_policy(input: &Path, out: &Path, policy: &Path) {
    let run = cli(input, out, &["--drift-policy", policy.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
}

/// A drift policy with `ks` as its default KS threshold (the bundled one's otherwise).
fn policy_with_ks(dir: &Path, ks: f64) -> PathBuf {
    let bundled = shared::drift::policy::DriftPolicy::parse(shared::drift::policy::BUNDLED);
    let mut policy: Value = serde_json::to_value(bundled.unwrap()).unwrap();
    assert_ne!(policy["default"]["ks"], ks);
    policy["default"]["ks"] = ks.into();
    let path = dir.join("drift.yaml");
    // JSON is YAML: the policy parser reads it as the bundled file.
    std::fs::write(&path, policy.to_string()).unwrap();
    path
}

fn threshold(constraints: &[u8]) -> f64 {
    let constraints: Value = serde_json::from_slice(constraints).unwrap();
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"]
        .as_f64()
        .unwrap()
}

#[tokio::test]
async fn the_lambda_and_the_cli_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_with_ks(dir.path(), 0.25);
    let env = Setup::new("etl-vs-cli")
        .var("DRIFT_POLICY_FILE", policy.display())
        .etl()
        .await;
    env.upload("incoming/housing.csv", housing()).await;
    let event = sample_event(
        "etl/object-created.eventbridge.json",
        &env.stack.raw_bucket,
        "incoming/housing.csv",
    )
    .unwrap();
    let response = etl::handle(&env.service, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let result = &response["results"][0];
    assert_eq!(result["status"], "processed", "{response}");
    let id: DatasetId = result["dataset"]["dataset_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let out = dir.path().join("out");
    cli_with_policy(&repo().join("data/housing.csv"), &out, &policy);

    for kind in TrainingFormat::Csv.outputs() {
        let at = env.service.config.layout.output(&id, kind);
        let lambda = env
            .stack
            .get(&env.clients, &at.bucket, &at.key)
            .await
            .unwrap();
        let local = std::fs::read(out.join(kind.file_name())).unwrap();
        if kind == OutputKind::Report {
            // The one difference: where the input was read from (an S3 URI and
            // its ETag, a path without one).
            let (mut lambda, mut local): (Value, Value) = (
                serde_json::from_slice(&lambda).unwrap(),
                serde_json::from_slice(&local).unwrap(),
            );
            assert_ne!(lambda["input"]["source"], local["input"]["source"]);
            for report in [&mut lambda, &mut local] {
                let input = report["input"].as_object_mut().unwrap();
                input.remove("source");
                input.remove("etag");
            }
            assert_eq!(lambda, local);
        } else {
            assert!(
                lambda == local,
                "{kind:?}: the Lambda's and the CLI's bytes differ"
            );
        }
    }
    // The deployment's policy, not the bundled one, in both.
    let at = env
        .service
        .config
        .layout
        .output(&id, OutputKind::MonitorConstraints);
    let lambda = env
        .stack
        .get(&env.clients, &at.bucket, &at.key)
        .await
        .unwrap();
    assert_eq!(threshold(&lambda), 0.25);
    assert_eq!(env.service.config.options.drift_policy.default.ks, 0.25);
}

#[test]
fn the_cli_states_the_drift_policy_it_is_given_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo().join("data/housing.csv");
    let bundled = dir.path().join("bundled");
    assert_eq!(cli(&input, &bundled, &[]).status.code(), Some(0));
    let constraints = |out: &Path| std::fs::read(out.join("constraints.json")).unwrap();
    let default_ks = shared::drift::policy::DriftPolicy::parse(shared::drift::policy::BUNDLED)
        .unwrap()
        .default
        .ks;
    assert_eq!(threshold(&constraints(&bundled)), default_ks);

    let policy = policy_with_ks(dir.path(), 0.4);
    let given = dir.path().join("given");
    cli_with_policy(&input, &given, &policy);
    assert_eq!(threshold(&constraints(&given)), 0.4);
    // Nothing else depends on the policy.
    for kind in TrainingFormat::Csv.outputs() {
        if kind != OutputKind::MonitorConstraints && kind != OutputKind::Report {
            let name = kind.file_name();
            assert!(
                std::fs::read(bundled.join(name)).unwrap()
                    == std::fs::read(given.join(name)).unwrap(),
                "{name}"
            );
        }
    }

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "reference_stage: prod\nretrain_on: sometimes\n").unwrap();
    let run = cli(
        &input,
        &dir.path().join("refused"),
        &["--drift-policy", bad.to_str().unwrap()],
    );
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("invalid drift policy") && stderr.contains("sometimes"),
        "{stderr}"
    );
    let missing = cli(
        &input,
        &dir.path().join("missing"),
        &["--drift-policy", "/nonexistent/drift.yaml"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(!dir.path().join("refused/report.json").exists());
}
