//! The standard inference protocols, spoken by published clients: Triton's
//! HTTP client (`tritonclient[http]`) and KServe's SDK (`InferenceRESTClient`,
//! v1 and v2), pinned in `tests/clients/requirements.txt`, against this
//! crate's `predict` binary served on loopback (`cargo lambda watch`) in front
//! of a model really trained and deployed on the local stack. Every client's
//! predictions are the model's own scores of the records; readiness, metadata,
//! a version not served and a record the contract refuses each get the
//! protocol's answer. (Triton's default binary input tensors are refused by
//! the handler, tested in `tests/tests/predict_routes.rs`: under `cargo lambda watch`
//! they never reach the function, the emulator answers them 500 itself.)

use integration_tests::api::LocalApi;
use integration_tests::repo_root;
use integration_tests::serving::{deploy, model_scores};
use integration_tests::Setup;
use serde_json::{json, Value};
use shared::contract::TOTAL_BEDROOMS;
use std::process::Command;

#[tokio::test]
async fn published_inference_clients_get_the_models_predictions() {
    let python = repo_root().join(".venv-clients/bin/python");
    assert!(
        python.exists(),
        "the inference clients' venv: scripts/setup installs .venv-clients"
    );
    let env = Setup::new("clients")
        .var("SERVING_STAGE", "dev")
        .predict()
        .await;
    let deployed = deploy(&env, 1500, 16).await;
    // Test rows that carry every field (Triton's numpy tensors have no null).
    let chosen: Vec<usize> = (0..deployed.held.len())
        .filter(|&i| deployed.held[i].record.get(TOTAL_BEDROOMS).is_some())
        .take(12)
        .collect();
    let records: Vec<Value> = chosen
        .iter()
        .map(|&i| deployed.held[i].record.clone())
        .collect();
    let rows = deployed.test_rows();
    let rows: Vec<String> = chosen.iter().map(|&i| rows[i].clone()).collect();
    let expected = model_scores(&deployed.archive(), &rows);

    let api = LocalApi::start(&env, std::path::Path::new(env!("CARGO_BIN_EXE_predict")));
    let group = env.stack.model_package_group();
    let (base, records) = (api.url.clone(), json!(records).to_string());
    let group_arg = group.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(repo_root().join("tests/clients/clients.py"))
            .args([&base, &group_arg, "1", &records])
            .output()
    })
    .await
    .unwrap()
    .expect("the clients' python");
    let seen: Value = integration_tests::api::json_stdout(&out);
    let triton = &seen["triton"];
    let kserve = &seen["kserve"];
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap_or_else(|| panic!("not a list: {v}"))
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect()
    };
    // Every client's predictions are the model's scores.
    assert_eq!(numbers(&triton["predictions"]), expected, "{triton}");
    assert_eq!(
        numbers(&triton["predictions_default_outputs"]),
        expected,
        "{triton}"
    );
    assert_eq!(numbers(&kserve["v1_predictions"]), expected, "{kserve}");
    assert_eq!(numbers(&kserve["v2_predictions"]), expected, "{kserve}");

    for key in ["live", "ready", "model_ready", "model_ready_version"] {
        assert_eq!(triton[key], true, "triton {key}: {triton}");
    }
    assert_eq!(triton["other_version_ready"], false, "{triton}");
    let metadata = &triton["metadata"];
    assert_eq!(metadata["name"], group.as_str());
    assert_eq!(metadata["versions"], json!(["1"]));
    assert_eq!(metadata["platform"], "xgboost");
    assert_eq!(metadata["inputs"].as_array().unwrap().len(), 9);
    assert_eq!(metadata["outputs"][0]["name"], "median_house_value");
    assert_eq!(triton["response"]["id"], "triton-1");
    assert_eq!(triton["response"]["model_version"], "1");

    let other = &triton["other_version"];
    assert_eq!(other["status"], "404", "{triton}");
    assert!(
        other["message"]
            .as_str()
            .unwrap()
            .contains("version \"2\" is not served here"),
        "{other}"
    );
    let bad = &triton["bad_record"];
    assert_eq!(bad["status"], "400", "{triton}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("record 0: latitude: 95.0 is outside 32.4 to 42.1 (out_of_range:latitude)"),
        "{bad}"
    );

    for key in [
        "v1_live",
        "v1_model_ready",
        "v2_live",
        "v2_ready",
        "v2_model_ready",
    ] {
        assert_eq!(kserve[key], true, "kserve {key}: {kserve}");
    }
    assert_eq!(kserve["v2_model_name"], group.as_str());
    assert_eq!(kserve["v2_id"], "kserve-1");
}
