//! predict refuses an unusable endpoint override at cold start, before it asks the
//! Lambda Runtime API for a request. Before this check, an empty
//! `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME` (a script that wrote it before its emulator
//! said where it listens) was accepted and every request then panicked in the SDK
//! ("URL was unset").

use std::process::{Command, Output};

fn predict(endpoint_variables: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_predict"));
    command
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("PROCESSED_BUCKET", "housing-processed")
        .env("SERVING_STAGE", "dev")
        // Nothing listens there: a cold start that got past its checks fails
        // asking for the first request, with another message.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");
    for (name, value) in endpoint_variables {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn an_empty_runtime_endpoint_stops_the_cold_start_naming_the_variable() {
    let out = predict(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ""),
    ]);
    assert!(!out.status.success());
    let text = text(&out);
    assert!(
        text.contains("invalid configuration: AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: set but empty"),
        "{text}"
    );
}

#[test]
fn usable_endpoints_pass_the_check_and_the_cold_start_goes_on() {
    let out = predict(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        (
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
            "http://127.0.0.1:5001",
        ),
    ]);
    let text = text(&out);
    // It got as far as the Runtime API (nothing there), with no configuration problem.
    assert!(!text.contains("invalid configuration"), "{text}");
    assert!(!out.status.success(), "{text}");
}
