//! predict's handler: the routes of the HTTP API, each answered by the shared
//! serving service, every outcome a JSON response (never a panic, never an
//! internal error's details), with EMF metrics per request.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the page (`page/index.html`) |
//! | `GET /v1/model` | what the stage serves |
//! | `POST /v1/predictions` | `{"predictions": [...], "model": {...}}` |

use lambda_http::http::{header, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::serving::service::{PredictService, ServingError};
use shared::telemetry::{Metrics, Unit};
use std::sync::LazyLock;
use std::time::Instant;

/// The page for people, served at `GET /`.
pub const PAGE: &str = include_str!("../page/index.html");

/// The page's Content-Security-Policy: its inline script and style are allowed by
/// their SHA-256 (CSP Level 3 hash sources), so no other inline code runs, and no
/// other site may frame it.
pub static PAGE_CSP: LazyLock<String> = LazyLock::new(|| page_csp(PAGE));

fn page_csp(page: &str) -> String {
    let sources = |tag: &str| {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut hashes = Vec::new();
        let mut rest = page;
        while let Some(start) = rest.find(&open) {
            let body = &rest[start + open.len()..];
            let end = body.find(&close).unwrap_or(body.len());
            hashes.push(format!("'sha256-{}'", sha256_base64(&body[..end])));
            rest = &body[end..];
        }
        if hashes.is_empty() {
            "'none'".to_string()
        } else {
            hashes.join(" ")
        }
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
         form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        sources("script"),
        sources("style")
    )
}

fn sha256_base64(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

pub const MODEL_ROUTE: &str = "/v1/model";
pub const PREDICTIONS_ROUTE: &str = "/v1/predictions";

/// What a request came to, before it is a response.
struct Answer {
    status: u16,
    body: Body,
    content_type: &'static str,
    records: usize,
    error: Option<&'static str>,
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
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
    let (route, answer) = match (path.as_str(), &method) {
        ("/", &Method::GET) => (
            "page",
            Answer {
                body: Body::Text(PAGE.to_string()),
                content_type: "text/html; charset=utf-8",
                ..Answer::json(200, &Value::Null, 0)
            },
        ),
        (MODEL_ROUTE, &Method::GET) => (
            "model",
            match service.model().await {
                Ok(model) => Answer::json(200, &json!(*model), 0),
                Err(e) => Answer::failed(&e),
            },
        ),
        (PREDICTIONS_ROUTE, &Method::POST) => {
            let body: &[u8] = request.body().as_ref();
            (
                "predictions",
                match service.predict(body).await {
                    Ok(p) => {
                        let records = p.predictions.len();
                        Answer::json(200, &json!(p), records)
                    }
                    Err(e) => Answer::failed(&e),
                },
            )
        }
        ("/" | MODEL_ROUTE | PREDICTIONS_ROUTE, _) => (
            "other",
            Answer::error(405, "method_not_allowed", &format!("{method} is not allowed on {path}")),
        ),
        _ => (
            "other",
            Answer::error(404, "not_found", &format!("no route {path}: the routes are GET /, GET {MODEL_ROUTE}, POST {PREDICTIONS_ROUTE}")),
        ),
    };
    emit(route, &answer, started);
    respond(answer)
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
    if answer.status == 405 {
        response = response.header(header::ALLOW, "GET, POST");
    }
    response
        .body(answer.body)
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_policy_allows_its_own_inline_code_by_hash_and_nothing_else() {
        let csp = PAGE_CSP.as_str();
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        // A known digest: SHA-256 of "alert(1)", base64.
        assert_eq!(
            sha256_base64("alert(1)"),
            "bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="
        );
        let page = "<style>p{}</style><script>go()</script><script>alert(1)</script>";
        let csp = page_csp(page);
        assert!(
            csp.contains("script-src 'sha256-")
                && csp.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{csp}"
        );
        // One hash per inline block: a script added to the page is not allowed by the
        // policy of the page without it.
        let without = page_csp("<style>p{}</style><script>go()</script>");
        assert!(!without.contains("bhHHL3z2"), "{without}");
        assert_eq!(page_csp("<p>no code</p>").matches("'none'").count(), 6);
    }

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
    fn responses_carry_their_headers() {
        let e = ServingError::NotServing("endpoint e is not available".into());
        let response = respond(Answer::failed(&e));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "not_serving");
        assert!(body["error"].get("records").is_none());

        let response = respond(Answer::error(405, "method_not_allowed", "no"));
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
        assert!(response.headers().get("content-security-policy").is_none());
    }
}
