//! The page for people, in a real headless browser: this crate's `predict`
//! binary, configured as Lambda configures it, under `cargo lambda watch`
//! (whose function URL serves it over HTTP), in front of a model really
//! trained and deployed on the local stack; `tests/browser/page.test.mjs`
//! (playwright-core driving Debian's Chromium) fills the form, submits, sees
//! the prediction; submits a bad latitude, sees that field's error.
//!
//! `PAGE_SCREENSHOT=docs/predict-page.png scripts/test --test page` renews the
//! README's screenshot.

use integration_tests::serving::deploy;
use integration_tests::{repo_root, shared_endpoint_server, Setup};
use local_stack::functions::RUNTIME_ENDPOINT_VARIABLE;
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Child processes, killed when the test ends however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn venv_bin() -> PathBuf {
    local_stack::python().parent().unwrap().to_path_buf()
}

#[tokio::test]
async fn a_person_gets_a_prediction_and_the_fields_errors() {
    let browser = repo_root().join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "the browser test needs scripts/setup (Chromium, tests/browser/node_modules)"
    );
    let env = Setup::new("page")
        .var("SERVING_STAGE", "dev")
        .predict()
        .await;
    deploy(&env, 1500, 16).await;

    let port = free_port();
    let path = format!(
        "{}:{}",
        venv_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut processes = Processes(Vec::new());
    processes.0.push(
        Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(repo_root())
            .env("PATH", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch (scripts/setup installs cargo-lambda into .venv)"),
    );
    wait_for_port(port, "cargo lambda watch");
    let mut function = Command::new(env!("CARGO_BIN_EXE_predict"));
    function
        .env_clear()
        .envs(env.environment.iter().map(|(k, v)| (k, v)))
        .env(RUNTIME_ENDPOINT_VARIABLE, shared_endpoint_server())
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt/predict"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "predict")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    processes
        .0
        .push(function.spawn().expect("the predict binary"));

    let screenshot = match std::env::var_os("PAGE_SCREENSHOT") {
        Some(path) => repo_root().join(path),
        None => std::env::temp_dir().join(format!("predict-page-{port}.png")),
    };
    let url = format!("http://127.0.0.1:{port}/lambda-url/predict/");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("page.test.mjs")
            .current_dir(browser)
            .env("PAGE_URL", url)
            .env("SCREENSHOT", &screenshot)
            .output()
            .map(|out| (out, screenshot))
    })
    .await
    .unwrap()
    .expect("node");
    let (out, screenshot) = out;
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    let group = env.stack.model_package_group();
    assert!(
        seen["model"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Model {group} v1, stage dev")),
        "{seen}"
    );
    assert!(
        seen["predictedBy"]
            .as_str()
            .unwrap()
            .contains(" v1, stage dev "),
        "{seen}"
    );
    let error = seen["latitudeError"].as_str().unwrap();
    assert!(
        error.starts_with("latitude: 95 is outside "),
        "the contract's message for the field: {seen}"
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot");
}
