//! predict against moto and the local endpoint server: a model really trained
//! (XGBoost, on the ETL's channels of the real data), registered, approved and
//! deployed to dev by promote-model, then asked for predictions through the
//! HTTP handler — the answers equal the model's own scores of the ETL's rows;
//! bad records, oversized batches, unknown routes, an absent endpoint, a model
//! that fails and a throttling endpoint each get their answer; the endpoint's
//! data capture records the traffic.

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use integration_tests::serving::{deploy, model_scores};
use integration_tests::{read_json, Setup};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use shared::contract::TOTAL_BEDROOMS;
use shared::serving::request::MAX_INSTANCES;
use shared::serving::service::PredictService;

use crate::handler::{call, env, request, Env};

async fn predict(env: &Env, instances: Value) -> (StatusCode, Value, Response<Body>) {
    let body = json!({ "instances": instances }).to_string();
    call(env, request(Method::POST, "/v1/predictions", body)).await
}

/// Every capture object the endpoint wrote for the stack's dev endpoint.
async fn captured(env: &Env) -> Vec<Value> {
    let bucket = &env.stack.processed_bucket;
    let prefix = format!("data-capture/{}-dev/AllTraffic/", env.stack.name);
    let mut records = Vec::new();
    for key in env.stack.list(&env.clients, bucket, &prefix).await.unwrap() {
        let body = env.stack.get(&env.clients, bucket, &key).await.unwrap();
        for line in String::from_utf8(body).unwrap().lines() {
            records.push(serde_json::from_str(line).unwrap());
        }
    }
    records
}

#[tokio::test]
async fn predictions_are_the_models_scores_of_the_training_features() {
    // dev on an instance that captures (the other tests here run the bundled,
    // serverless dev: the local endpoint server serves both alike).
    let env = Setup::new("predict-happy")
        .var("SERVING_STAGE", "dev")
        .stages(integration_tests::fixtures::stages_with_capturing_dev())
        .predict()
        .await;
    let deployed = deploy(&env, 2500, 16).await;
    // The first test rows, and every test row without total_bedrooms (imputed).
    let chosen: Vec<usize> = (0..deployed.held.len())
        .filter(|&i| i < 30 || deployed.held[i].record.get(TOTAL_BEDROOMS).is_none())
        .collect();
    assert!(
        chosen.len() > 30,
        "some test rows lack total_bedrooms: {}",
        chosen.len()
    );
    let instances: Vec<Value> = chosen
        .iter()
        .map(|&i| deployed.held[i].record.clone())
        .collect();
    let (status, body, response) = predict(&env, json!(instances)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(response.headers()["content-type"], "application/json");

    let rows = deployed.test_rows();
    let rows: Vec<String> = chosen.iter().map(|&i| rows[i].clone()).collect();
    let expected = model_scores(&deployed.archive(), &rows);
    let got: Vec<f64> = body["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(got, expected, "the endpoint's scores are the model's");
    // A real model: close to the true values on held-out rows.
    let truth: Vec<f64> = chosen.iter().map(|&i| deployed.held[i].target).collect();
    let rmse = (got
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / got.len() as f64)
        .sqrt();
    let spread = {
        let mean = truth.iter().sum::<f64>() / truth.len() as f64;
        (truth.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / truth.len() as f64).sqrt()
    };
    assert!(
        rmse < 0.8 * spread,
        "RMSE {rmse} vs the truth's spread {spread}"
    );

    // Which model answered.
    let model = &body["model"];
    let id = deployed.output.report.dataset_id.to_string();
    assert_eq!(model["stage"], "dev");
    assert_eq!(model["endpoint"], format!("{}-dev", env.stack.name));
    assert_eq!(
        model["model_package_group"],
        env.stack.model_package_group()
    );
    assert_eq!(model["model_package_version"], 1);
    assert_eq!(model["dataset_id"], id.as_str());
    let (status, served, _) = call(&env, request(Method::GET, "/v1/model", Body::Empty)).await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(&served, model);

    // The endpoint captured the request (the training CSV's rows) and its answer.
    let records = captured(&env).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let data = &records[0]["captureData"];
    assert_eq!(data["endpointInput"]["encoding"], "CSV");
    assert_eq!(data["endpointInput"]["observedContentType"], "text/csv");
    assert_eq!(
        data["endpointInput"]["data"],
        rows.iter().map(|r| format!("{r}\n")).collect::<String>()
    );
    assert_eq!(data["endpointOutput"]["encoding"], "JSON");
    let answered: Value =
        serde_json::from_str(data["endpointOutput"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(answered["predictions"][0]["score"], json!(expected[0]));
    assert_eq!(records[0]["eventVersion"], "0");
}

#[tokio::test]
async fn bad_records_get_their_fields_reasons_and_reach_no_model() {
    let env = env("bad").await;
    let deployed = deploy(&env, 1500, 16).await;
    let good = deployed.held[0].record.clone();
    let mut out_of_range = good.clone();
    out_of_range["latitude"] = json!(95.0);
    let mut not_a_number = good.clone();
    not_a_number["median_income"] = json!("lots");
    not_a_number["ocean_proximity"] = json!("ON THE MOON");
    let mut typo = good.clone();
    typo["housing_median_ages"] = json!(12);
    let mut target = good.clone();
    target["median_house_value"] = json!(452600.0);
    let instances = json!([good, out_of_range, not_a_number, typo, target]);
    let (status, body, _) = predict(&env, instances).await;
    assert_eq!(status, 400, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], "invalid_records");
    let reasons: Vec<(u64, String, String)> = error["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let index = r["index"].as_u64().unwrap();
            r["errors"].as_array().unwrap().iter().map(move |e| {
                (
                    index,
                    e["field"].as_str().unwrap().to_string(),
                    e["reason"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    let expected = [
        (1, "latitude", "out_of_range:latitude"),
        (2, "median_income", "not_a_number:median_income"),
        (2, "ocean_proximity", "unknown_category:ocean_proximity"),
        (3, "housing_median_ages", "unknown_field"),
        (4, "median_house_value", "not_an_input"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(i, f, r)| (*i, f.to_string(), r.to_string()))
        .collect();
    assert_eq!(reasons, expected);
    assert!(
        captured(&env).await.is_empty(),
        "nothing reached the endpoint"
    );

    // Not the request shape at all.
    for body in [
        "{not json",
        r#"{"records": []}"#,
        r#"{"instances": []}"#,
        r#"{"instances": [1]}"#,
    ] {
        let (status, answer, _) = call(&env, request(Method::POST, "/v1/predictions", body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            ["malformed_request", "invalid_records"]
                .contains(&answer["error"]["code"].as_str().unwrap()),
            "{body}: {answer}"
        );
    }

    // A batch over the documented limit.
    let many = vec![deployed.held[0].record.clone(); MAX_INSTANCES + 1];
    let (status, body, _) = predict(&env, json!(many)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    let limit = vec![deployed.held[0].record.clone(); MAX_INSTANCES];
    let (status, body, _) = predict(&env, json!(limit)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["predictions"].as_array().unwrap().len(), MAX_INSTANCES);
}

#[tokio::test]
async fn a_stage_without_an_endpoint_is_unavailable() {
    let env = env("absent").await;
    let record = json!({"longitude": -122.23, "latitude": 37.88, "housing_median_age": 41,
        "total_rooms": 880, "total_bedrooms": 129, "population": 322, "households": 126,
        "median_income": 8.3252, "ocean_proximity": "NEAR BAY"});
    let (status, body, response) = predict(&env, json!([record])).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "not_serving");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(response.headers()["retry-after"], "1");
    let (status, body, _) = call(&env, request(Method::GET, "/v1/model", Body::Empty)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "not_serving");
}

#[tokio::test]
async fn a_model_that_fails_on_the_records_is_a_bad_gateway() {
    let env = env("model-error").await;
    // A model of 10 features cannot score the 16 the contract's features make.
    let deployed = deploy(&env, 1500, 10).await;
    let (status, body, _) = predict(&env, json!([deployed.held[0].record])).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "model_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the model failed on the records"),
        "{message}"
    );
    assert!(!message.contains("Traceback"), "{message}");
}

#[tokio::test]
async fn throttling_is_retried_and_then_unavailable() {
    let env = env("throttled").await;
    let deployed = deploy(&env, 1500, 16).await;
    let record = deployed.held[0].record.clone();
    let throttled = || {
        (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
        )
    };
    let config = env.service.config.clone();
    let with = |runtime: aws_sdk_sagemakerruntime::Client| {
        PredictService::with_clients(
            aws_sdk_sagemaker::Client::new(&env.sdk),
            runtime,
            shared::aws::s3_client(&env.sdk, config.aws),
            config.clone(),
        )
    };
    let retry = || {
        aws_sdk_sagemakerruntime::config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(std::time::Duration::from_millis(5))
    };

    // Throttled twice, then answered: the SDK's retries absorb it.
    let (c, m) = throttled();
    let once = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
        .sequence()
        .http_status(c, Some(m.clone()))
        .times(2)
        .output(|| {
            aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointOutput::builder()
                .body(aws_smithy_types::Blob::new(
                    r#"{"predictions": [{"score": 2.5}]}"#,
                ))
                .content_type("application/json")
                .build()
        })
        .build();
    let service = with(mock_client!(
        aws_sdk_sagemakerruntime,
        RuleMode::Sequential,
        &[&once],
        |c| c.retry_config(retry())
    ));
    let body = json!({ "instances": [record] }).to_string();
    let response = predict::handle(
        &service,
        request(Method::POST, "/v1/predictions", body.clone()),
    )
    .await;
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(response.status(), 200, "{answer}");
    assert_eq!(answer["predictions"], json!([2.5]));
    assert_eq!(once.num_calls(), 3);

    // Throttled on every attempt: 503 with Retry-After, and the attempts were made.
    let always = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
        .sequence()
        .http_status(c, Some(m))
        .repeatedly()
        .build();
    let service = with(mock_client!(
        aws_sdk_sagemakerruntime,
        RuleMode::Sequential,
        &[&always],
        |c| c.retry_config(retry())
    ));
    let response = predict::handle(&service, request(Method::POST, "/v1/predictions", body)).await;
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(response.status(), 503, "{answer}");
    assert_eq!(answer["error"]["code"], "throttled");
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(always.num_calls(), 3);
}

#[tokio::test]
async fn the_sample_event_is_an_api_gateway_request_the_handler_answers() {
    let env = env("event").await;
    deploy(&env, 1500, 16).await;
    let event = read_json("events/predict/predictions.json");
    let request = lambda_http::request::from_str(&event.to_string()).expect("an HTTP API v2 event");
    let (status, body, _) = call(&env, request).await;
    assert_eq!(status, 200, "{body}");
    let sent = event["body"].as_str().unwrap();
    let sent: Value = serde_json::from_str(sent).unwrap();
    assert_eq!(
        body["predictions"].as_array().unwrap().len(),
        sent["instances"].as_array().unwrap().len()
    );
}

/// Outside its `active` window a stage is asleep: 503 `not_serving`, with
/// when it wakes and a `Retry-After` of the seconds until then; whatever is
/// cached is not served.
#[tokio::test]
async fn a_sleeping_stage_answers_503_with_when_it_wakes() {
    let (yaml, wakes) = integration_tests::fixtures::stages_with_asleep("dev");
    let env = Setup::new("predict-asleep")
        .var("SERVING_STAGE", "dev")
        .stages(yaml)
        .predict()
        .await;
    let sample = read_json("events/predict/predictions.json");
    let sent: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    let (status, body, response) = predict(&env, sent["instances"].clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "not_serving");
    assert_eq!(
        body["error"]["wakes_at"],
        wakes.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("asleep"),
        "{body}"
    );
    let retry: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let until = (wakes - chrono::Utc::now()).num_seconds();
    assert!(
        (until - 5..=until + 5).contains(&retry),
        "{retry} vs {until}"
    );
    let (status, body, _) = call(&env, request(Method::GET, "/v1/model", Body::Empty)).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (503, Some("not_serving"))
    );
}
