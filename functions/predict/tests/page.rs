//! The page for people, in a real headless browser: this crate's `predict`
//! binary, configured as Lambda configures it, under `cargo lambda watch`
//! (whose function URL serves it over HTTP), in front of a model really
//! trained and deployed on the local stack; `tests/browser/page.test.mjs`
//! (playwright-core driving Debian's Chromium) fills the form, submits, sees
//! the prediction; submits a bad latitude, sees that field's error.
//!
//! `PAGE_SCREENSHOT=docs/predict-page.png scripts/test -- page::` renews the
//! README's screenshot.

use integration_tests::api::LocalApi;
use integration_tests::serving::deploy;
use integration_tests::{repo_root, Setup};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

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

    let api = LocalApi::start(&env, std::path::Path::new(env!("CARGO_BIN_EXE_predict")));
    let screenshot = match std::env::var_os("PAGE_SCREENSHOT") {
        Some(path) => repo_root().join(path),
        None => std::env::temp_dir().join(format!("predict-page-{}.png", std::process::id())),
    };
    let url = format!("{}/", api.url);
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
    let seen: Value = integration_tests::api::json_stdout(&out);
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
