//! predict's routes through its HTTP handler, in process: unknown paths and
//! methods, the page and its policy, the liveness answer, the protocols'
//! routes (KServe v1, the Open Inference Protocol) and their errors, Triton's
//! binary extension, a body that is not UTF-8, the OpenAPI document, and the
//! function URL's prefix.

use crate::handler::{call, env, request};
use lambda_http::http::Method;
use lambda_http::Body;
use serde_json::json;

#[tokio::test]
async fn routes_methods_and_the_page() {
    let env = env("routes").await;
    let (status, body, _) = call(&env, request(Method::GET, "/v3/predictions", Body::Empty)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    // Under /v2, the Open Inference Protocol's error shape.
    let (status, body, _) = call(&env, request(Method::GET, "/v2/predictions", Body::Empty)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no route /v2/predictions");
    let (status, body, response) = call(
        &env,
        request(Method::DELETE, "/v1/predictions", Body::Empty),
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert!(response.headers().contains_key("allow"));

    // The API's description is served as it is built (docs/openapi.json is
    // held to it in functions/predict/tests/openapi.rs).
    let (status, body, response) =
        call(&env, request(Method::GET, "/openapi.json", Body::Empty)).await;
    assert_eq!(status, 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(body, predict::openapi::document());

    let response = predict::handle(&env.service, request(Method::GET, "/", Body::Empty)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(response.headers().contains_key("content-security-policy"));
    let page = std::str::from_utf8(response.body().as_ref()).unwrap();
    let inputs = shared::contract::NUMERIC_COLUMNS.iter().map(|c| c.name);
    for field in inputs
        .filter(|c| *c != shared::contract::MEDIAN_HOUSE_VALUE)
        .chain([shared::contract::OCEAN_PROXIMITY])
    {
        assert!(
            page.contains(&format!("name=\"{field}\"")),
            "the page asks for {field}"
        );
    }

    // A client that takes no HTML asking for `/` is asking whether the server
    // lives (KServe v1).
    let mut alive = request(Method::GET, "/", Body::Empty);
    alive.headers_mut().insert("accept", "*/*".parse().unwrap());
    let (status, body, _) = call(&env, alive).await;
    assert_eq!((status.as_u16(), body), (200, json!({"status": "alive"})));

    // The protocols' routes: their methods, their error shape.
    let (status, body, response) = call(
        &env,
        request(Method::GET, "/v2/models/housing/infer", Body::Empty),
    )
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(response.headers()["allow"], "POST");
    let (status, body, _) = call(
        &env,
        request(Method::GET, "/v2/models/h/explain", Body::Empty),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("no route"),
        "{body}"
    );
    let (status, body, _) = call(&env, request(Method::GET, "/v2/health/live", Body::Empty)).await;
    assert_eq!((status.as_u16(), body), (200, json!({"live": true})));
    // No model yet: not ready, and the protocols say why.
    for path in [
        "/v2/health/ready",
        "/v2/models/housing/ready",
        "/v1/models/housing",
        "/v2/models/housing",
    ] {
        let (status, body, response) = call(&env, request(Method::GET, path, Body::Empty)).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("serves no model"),
            "{path}: {body}"
        );
        assert_eq!(response.headers()["retry-after"], "1");
    }
    let (status, body, _) = call(
        &env,
        request(
            Method::POST,
            "/v2/models/housing/infer",
            r#"{"inputs": []}"#,
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("expected {\"inputs\""),
        "{body}"
    );

    // A JSON body that is not UTF-8 (API Gateway passes it base64-encoded;
    // `cargo lambda watch` answers it 500 itself, so the fuzz leaves it out):
    // each API's malformed-request answer.
    for (path, shape) in [
        ("/v1/predictions", "code"),
        ("/v1/models/housing:predict", "text"),
        ("/v2/models/housing/infer", "text"),
    ] {
        let (status, body, _) = call(
            &env,
            request(
                Method::POST,
                path,
                Body::Binary(b"{\"instances\": \xfe\xff}".to_vec()),
            ),
        )
        .await;
        assert_eq!(status, 400, "{path}: {body}");
        match shape {
            "code" => assert_eq!(body["error"]["code"], "malformed_request", "{path}: {body}"),
            _ => assert!(body["error"].is_string(), "{path}: {body}"),
        }
    }

    // Triton's binary tensor extension (its client's default): refused, saying
    // how to send JSON. (Under `cargo lambda watch` such a request never reaches
    // the function: the emulator answers it 500 itself; API Gateway passes it on.)
    let mut binary = request(
        Method::POST,
        "/v2/models/housing/infer",
        Body::Binary(b"{\"inputs\":[]}\x00\x01\xfe\xff".to_vec()),
    );
    binary
        .headers_mut()
        .insert("inference-header-content-length", "13".parse().unwrap());
    let (status, body, _) = call(&env, binary).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("binary_data=False"),
        "{body}"
    );

    // A function URL served by `cargo lambda watch` keeps its prefix.
    let (status, body, _) = call(
        &env,
        request(Method::GET, "/lambda-url/predict/v1/nothing", Body::Empty),
    )
    .await;
    assert_eq!(status, 404, "{body}");
}
