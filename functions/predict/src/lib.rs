//! predict's handler: the routes of the HTTP API, each answered by the shared
//! serving service, every outcome a JSON response (never a panic, never an
//! internal error's details), with EMF metrics per request.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the page (`page/index.html`) |
//! | `GET /v1/model` | what the stage serves |
//! | `POST /v1/predictions` | `{"predictions": [...], "model": {...}}` |
//! | `GET /v1/models/{name}` | KServe v1: `{"name", "ready"}` |
//! | `POST /v1/models/{name}:predict` | KServe v1: `{"predictions": [...]}` |
//! | `GET /v2`, `/v2/health/live`, `/v2/health/ready` | Open Inference Protocol: server metadata, liveness, readiness |
//! | `GET /v2/models/{name}[/versions/{version}]` | its model metadata |
//! | `GET /v2/models/{name}[/versions/{version}]/ready` | the model's readiness |
//! | `POST /v2/models/{name}[/versions/{version}]/infer` | an inference |
//!
//! Routes are matched by `matchit` (the router axum uses). The protocols' shapes
//! are `shared::serving::protocol`'s.

use lambda_http::http::{header, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::serving::protocol;
use shared::serving::request;
use shared::serving::service::{PredictService, ServedModel, ServingError};
use shared::telemetry::{Metrics, Unit};
use std::sync::LazyLock;

pub mod openapi;
mod page;
mod routes;
pub use page::{PAGE, PAGE_CSP};
use routes::{Route, ROUTER, ROUTES};
pub use routes::{MODEL_ROUTE, PREDICTIONS_ROUTE};
use std::time::Instant;

/// The API's description, served at `GET /openapi.json`.
static OPENAPI: LazyLock<Value> = LazyLock::new(openapi::document);

/// What a request came to, before it is a response.
struct Answer {
    status: u16,
    body: Body,
    content_type: &'static str,
    records: usize,
    error: Option<&'static str>,
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
    /// `Allow`, for a 405.
    allow: Option<Method>,
}

impl Answer {
    fn json(status: u16, value: &Value, records: usize) -> Answer {
        Answer {
            status,
            body: Body::Text(value.to_string()),
            content_type: "application/json",
            records,
            error: None,
            retry_after: None,
            allow: None,
        }
    }

    fn error(status: u16, code: &'static str, message: &str) -> Answer {
        Answer {
            error: Some(code),
            ..Answer::json(
                status,
                &json!({"error": {"code": code, "message": message}}),
                0,
            )
        }
    }

    /// An error in the standard protocols' shape, `{"error": "..."}`.
    fn protocol_failed(e: &ServingError) -> Answer {
        if e.status() >= 500 {
            tracing::warn!(code = e.code(), error = ?e, "request failed");
        }
        Answer {
            error: Some(e.code()),
            retry_after: e.retry_after(),
            ..Answer::json(e.status(), &protocol::error(e), 0)
        }
    }

    fn protocol_error(status: u16, code: &'static str, message: &str) -> Answer {
        Answer {
            error: Some(code),
            ..Answer::json(status, &json!({ "error": message }), 0)
        }
    }

    fn failed(e: &ServingError) -> Answer {
        let mut body = json!({"error": {"code": e.code(), "message": e.message()}});
        if let Some(records) = e.records() {
            body["error"]["records"] = json!(records);
        }
        if let Some(wakes_at) = e.wakes_at() {
            body["error"]["wakes_at"] = json!(wakes_at);
        }
        if e.status() >= 500 {
            tracing::warn!(code = e.code(), error = ?e, "request failed");
        }
        Answer {
            error: Some(e.code()),
            retry_after: e.retry_after(),
            ..Answer::json(e.status(), &body, 0)
        }
    }
}

/// The request's path on the API: API Gateway gives it as sent; a Lambda
/// function URL served by `cargo lambda watch` may keep its
/// `/lambda-url/<function>` prefix.
fn route_path(request: &Request) -> &str {
    let path = request.uri().path();
    let path = match path.strip_prefix("/lambda-url/") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path,
    };
    match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    }
}

pub async fn handle(service: &PredictService, request: Request) -> Response<Body> {
    let started = Instant::now();
    let path = route_path(&request).to_string();
    let method = request.method().clone();
    let Ok(found) = ROUTER.at(&path) else {
        let answer = if path == "/v2" || path.starts_with("/v2/") {
            Answer::protocol_error(404, "not_found", &format!("no route {path}"))
        } else {
            Answer::error(
                404,
                "not_found",
                &format!("no route {path}: the routes are GET /, GET {MODEL_ROUTE}, POST {PREDICTIONS_ROUTE}, and KServe v1's and the Open Inference Protocol's (docs/reference/http-api.md)"),
            )
        };
        emit("other", &answer, started);
        return respond(answer);
    };
    let route = *found.value;
    let name = found.params.get("name").map(str::to_string);
    let version = found.params.get("version").map(str::to_string);
    let answer = if method != route.method() {
        let mut answer = Answer::error(
            405,
            "method_not_allowed",
            &format!("{method} is not allowed on {path}: {}", route.method()),
        );
        answer.allow = Some(route.method());
        answer
    } else {
        let body: &[u8] = request.body().as_ref();
        let header_length = request
            .headers()
            .get("inference-header-content-length")
            .and_then(|v| v.to_str().ok());
        // The page unless the client says it takes something else (a KServe
        // client's `*/*` asking whether the server lives).
        let accept_html = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.contains("text/html"));
        answer(
            service,
            route,
            name.as_deref(),
            version.as_deref(),
            body,
            header_length,
            accept_html,
        )
        .await
    };
    emit(route.name(), &answer, started);
    respond(answer)
}

/// The served model, if `name` (and `version`) name it.
async fn named(
    service: &PredictService,
    name: &str,
    version: Option<&str>,
) -> Result<std::sync::Arc<ServedModel>, Answer> {
    let model = service
        .model()
        .await
        .map_err(|e| Answer::protocol_failed(&e))?;
    protocol::names(&model, name, version)
        .map_err(|message| Answer::protocol_error(404, "not_found", &message))?;
    Ok(model)
}

async fn answer(
    service: &PredictService,
    route: Route,
    name: Option<&str>,
    version: Option<&str>,
    body: &[u8],
    header_length: Option<&str>,
    accept_html: bool,
) -> Answer {
    let name = name.unwrap_or_default();
    match route {
        // A browser gets the page; a KServe v1 client asking whether the server
        // lives gets the protocol's answer.
        Route::Page if !accept_html => Answer::json(200, &json!({ "status": "alive" }), 0),
        Route::Page => Answer {
            body: Body::Text(PAGE.to_string()),
            content_type: "text/html; charset=utf-8",
            ..Answer::json(200, &Value::Null, 0)
        },
        Route::OpenApi => Answer::json(200, &OPENAPI, 0),
        Route::Model => match service.model().await {
            Ok(model) => Answer::json(200, &json!(*model), 0),
            Err(e) => Answer::failed(&e),
        },
        Route::Predictions => match service.predict(body).await {
            Ok(p) => Answer::json(200, &json!(p), p.predictions.len()),
            Err(e) => Answer::failed(&e),
        },
        Route::V1Status => match named(service, name, None).await {
            Ok(model) => Answer::json(200, &protocol::v1_status(&model), 0),
            Err(answer) => answer,
        },
        Route::V1Predict => {
            let records = match request::parse(body) {
                Ok(records) => records,
                Err(e) => return Answer::protocol_failed(&ServingError::Request(e)),
            };
            if let Err(answer) = named(service, name, None).await {
                return answer;
            }
            match service.predict_records(&records).await {
                Ok(p) => Answer::json(
                    200,
                    &json!({ "predictions": p.predictions }),
                    p.predictions.len(),
                ),
                Err(e) => Answer::protocol_failed(&e),
            }
        }
        Route::V2Server => Answer::json(200, &protocol::v2_server(), 0),
        Route::V2Live => Answer::json(200, &json!({ "live": true }), 0),
        // Readiness is the status: 200 ready; otherwise 503 with why (and, for a
        // sleeping stage, when it wakes in Retry-After), as KServe's server answers.
        Route::V2Ready => match service.model().await {
            Ok(_) => Answer::json(200, &json!({ "ready": true }), 0),
            Err(e) => Answer::protocol_failed(&e),
        },
        Route::V2ModelReady => match service.model().await {
            Err(e) => Answer::protocol_failed(&e),
            Ok(model) => match protocol::names(&model, name, version) {
                Ok(()) => Answer::json(200, &json!({ "name": name, "ready": true }), 0),
                Err(message) => Answer::protocol_error(404, "not_found", &message),
            },
        },
        Route::V2Metadata => match named(service, name, version).await {
            Ok(model) => Answer::json(200, &protocol::v2_metadata(&model), 0),
            Err(answer) => answer,
        },
        Route::V2Infer => {
            let infer = match protocol::parse_infer(body, header_length) {
                Ok(infer) => infer,
                Err(e) => return Answer::protocol_failed(&ServingError::Request(e)),
            };
            let records = match request::check(&infer.rows) {
                Ok(records) => records,
                Err(e) => return Answer::protocol_failed(&ServingError::Request(e)),
            };
            let model = match named(service, name, version).await {
                Ok(model) => model,
                Err(answer) => return answer,
            };
            match service.predict_records(&records).await {
                Ok(p) => Answer::json(
                    200,
                    &protocol::infer_response(&model, &infer, &p.predictions),
                    p.predictions.len(),
                ),
                Err(e) => Answer::protocol_failed(&e),
            }
        }
    }
}

fn emit(route: &str, answer: &Answer, started: Instant) {
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    Metrics::new(&[("Function", shared::functions::PREDICT), ("Route", route)])
        .put("Requests", 1.0, Unit::Count)
        .put("Records", answer.records as f64, Unit::Count)
        .put("Latency", millis, Unit::Milliseconds)
        .emit();
    if let Some(class) = answer.error {
        Metrics::new(&[
            ("Function", shared::functions::PREDICT),
            ("ErrorClass", class),
        ])
        .put("Errors", 1.0, Unit::Count)
        .emit();
    }
    tracing::info!(
        route,
        status = answer.status,
        records = answer.records,
        millis,
        "answered"
    );
}

fn respond(answer: Answer) -> Response<Body> {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, answer.content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-content-type-options", "nosniff");
    if answer.content_type.starts_with("text/html") {
        response = response.header("content-security-policy", PAGE_CSP.as_str());
    }
    if let Some(seconds) = answer.retry_after {
        response = response.header(header::RETRY_AFTER, seconds.to_string());
    }
    if let Some(method) = &answer.allow {
        response = response.header(header::ALLOW, method.as_str());
    }
    response
        .body(answer.body)
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str) -> Request {
        lambda_http::http::Request::builder()
            .uri(uri)
            .body(Body::Empty)
            .unwrap()
    }

    #[test]
    fn routes_are_found_with_or_without_the_function_url_prefix() {
        for (uri, route) in [
            ("https://api.example/v1/predictions", PREDICTIONS_ROUTE),
            ("https://api.example/v1/predictions/", PREDICTIONS_ROUTE),
            (
                "http://127.0.0.1:9000/lambda-url/predict/v1/model",
                MODEL_ROUTE,
            ),
            ("http://127.0.0.1:9000/lambda-url/predict", "/"),
            ("http://127.0.0.1:9000/lambda-url/predict/", "/"),
            ("https://api.example/", "/"),
            ("https://api.example/v2/x", "/v2/x"),
        ] {
            assert_eq!(route_path(&request(uri)), route, "{uri}");
        }
    }

    #[test]
    fn every_route_is_found_with_its_parameters_and_nothing_else_is() {
        assert_eq!(ROUTER.at("/").unwrap().value, &Route::Page);
        let at = |path: &str| {
            ROUTER.at(path).ok().map(|m| {
                (
                    *m.value,
                    m.params.get("name").map(str::to_string),
                    m.params.get("version").map(str::to_string),
                )
            })
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            at("/v1/models/housing"),
            Some((Route::V1Status, s("housing"), None))
        );
        assert_eq!(
            at("/v1/models/housing:predict"),
            Some((Route::V1Predict, s("housing"), None))
        );
        assert_eq!(
            at("/v2/models/h-models"),
            Some((Route::V2Metadata, s("h-models"), None))
        );
        assert_eq!(
            at("/v2/models/h/versions/3"),
            Some((Route::V2Metadata, s("h"), s("3")))
        );
        assert_eq!(
            at("/v2/models/h/versions/3/infer"),
            Some((Route::V2Infer, s("h"), s("3")))
        );
        assert_eq!(
            at("/v2/models/h/ready"),
            Some((Route::V2ModelReady, s("h"), None))
        );
        assert_eq!(at("/v2/health/ready"), Some((Route::V2Ready, None, None)));
        assert_eq!(
            at("/v1/predictions"),
            Some((Route::Predictions, None, None))
        );
        for missing in [
            "/v1/models",
            "/v2/models/h/explain",
            "/v3",
            "/v1/predictions/x",
        ] {
            assert_eq!(at(missing), None, "{missing}");
        }
        assert_eq!(ROUTER.at("/v2").unwrap().value, &Route::V2Server);
    }

    #[test]
    fn responses_carry_their_headers() {
        let e = ServingError::NotServing("endpoint e is not available".into());
        let response = respond(Answer::failed(&e));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "not_serving");
        assert!(body["error"].get("records").is_none());

        let mut answer = Answer::error(405, "method_not_allowed", "no");
        answer.allow = Some(Method::POST);
        let response = respond(answer);
        assert_eq!(response.headers()[header::ALLOW], "POST");
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
        assert!(response.headers().get("content-security-policy").is_none());
    }
}
