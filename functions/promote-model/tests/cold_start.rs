//! The function refuses to start with a bad configuration, naming every problem,
//! before it asks the Lambda Runtime API for an event.

use std::process::Command;

#[test]
fn a_bad_configuration_stops_the_cold_start_with_every_problem_named() {
    let dir = std::env::temp_dir().join(format!("promote-model-cold-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stages = dir.join("stages.yaml");
    std::fs::write(
        &stages,
        "rmse_tolerance: 0.02\nstages:\n  - name: dev\n    endpoint: dev\n    instance_type: ml.m5.large\n    instance_count: 1\n    deployment: { strategy: canary, percent: 80, wait_seconds: 60 }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_promote-model"))
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("EXPECTED_ACCOUNT_ID", "not-an-account")
        .env("STAGES_FILE", &stages)
        // Never reached: the configuration is checked first.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for expected in [
        "MODEL_PACKAGE_GROUPS is required",
        "EXPECTED_ACCOUNT_ID=\"not-an-account\" is not a 12-digit AWS account id",
        "EVENT_BUS_NAME is required",
        "SAGEMAKER_ROLE_ARN is required",
        "deployment.percent: 80 is outside 1-50",
        "alarms: a canary or linear deployment needs at least one alarm",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}
