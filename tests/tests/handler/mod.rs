//! predict's handler as the tests call it: a stack serving dev, a request,
//! its answer (status, JSON body, response). Shared by `predict.rs` and
//! `predict_routes.rs`.

use integration_tests::{Setup, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::serving::service::PredictService;

pub type Env = TestEnv<PredictService>;

pub async fn env(test: &str) -> Env {
    Setup::new(&format!("predict-{test}"))
        .var("SERVING_STAGE", "dev")
        .predict()
        .await
}

pub fn request(method: Method, path: &str, body: impl Into<Body>) -> Request {
    lambda_http::http::Request::builder()
        .method(method)
        .uri(path)
        .body(body.into())
        .unwrap()
}

pub async fn call(env: &Env, request: Request) -> (StatusCode, Value, Response<Body>) {
    let response = predict::handle(&env.service, request).await;
    let body: &[u8] = response.body().as_ref();
    let value = serde_json::from_slice(body).unwrap_or(Value::Null);
    (response.status(), value, response)
}
