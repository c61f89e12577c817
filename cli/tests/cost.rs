//! `housing-mlops cost` as an operator runs it: the bundled files, other
//! files, and the README's copy of its output.

use std::path::Path;
use std::process::Command;

fn cost(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_housing-mlops"))
        .arg("cost")
        .args(args)
        .output()
        .expect("housing-mlops runs");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn repo(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_readme_shows_what_the_command_prints_for_the_default_stages() {
    let (ok, out, err) = cost(&[]);
    assert!(ok, "{err}");
    let readme = repo("README.md");
    let block = readme
        .split("$ housing-mlops cost\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows `$ housing-mlops cost`");
    assert_eq!(
        block, out,
        "README.md's cost table is stale: paste the command's output"
    );
    for row in ["dev ", "pre-prod ", "prod ", "total "] {
        assert!(out.lines().any(|l| l.starts_with(row)), "{row:?} in {out}");
    }
}

#[test]
fn other_files_are_priced_and_bad_ones_named() {
    let dir = tempfile::tempdir().unwrap();
    let stages = dir.path().join("stages.yaml");
    std::fs::write(
        &stages,
        "rmse_tolerance: 0.02\nstages:\n  - name: only\n    endpoint: only\n    instance_type: ml.m5.xlarge\n    instance_count: 3\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
    )
    .unwrap();
    let (ok, out, err) = cost(&["--stages", stages.to_str().unwrap()]);
    assert!(ok, "{err}");
    // 3 x 0.23 x 730, fixed: the same idle, at min and at max.
    assert!(out.contains("3 x ml.m5.xlarge"), "{out}");
    assert!(out.contains("503.70     503.70     503.70"), "{out}");

    let prices = dir.path().join("prices.yaml");
    std::fs::write(
        &prices,
        repo("infra/prices.yaml").replace("ml.m5.xlarge: 0.23\n", ""),
    )
    .unwrap();
    let (ok, out, err) = cost(&[
        "--stages",
        stages.to_str().unwrap(),
        "--prices",
        prices.to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("no real-time inference price for ml.m5.xlarge"),
        "{err}"
    );

    let (ok, _, err) = cost(&["--stages", "/nonexistent/stages.yaml"]);
    assert!(!ok);
    assert!(err.contains("/nonexistent/stages.yaml"), "{err}");
}
