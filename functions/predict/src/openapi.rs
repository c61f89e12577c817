//! The API described: an OpenAPI 3.1 document of every route, built from the
//! routes, the data contract and the limits themselves, so it cannot say what
//! the code does not do. Served at `GET /openapi.json`; `docs/openapi.json` is
//! its copy (`tests/openapi.rs` holds the two equal and validates it).

use super::{Route, MODEL_ROUTE, PREDICTIONS_ROUTE, ROUTES};
use serde_json::{json, Map, Value};
use shared::contract::{
    NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES, TOTAL_BEDROOMS, TOTAL_ROOMS,
};
use shared::features::INPUTS;
use shared::serving::protocol::{self, BYTES, FP64, OUTPUT};
use shared::serving::request::{MAX_BODY_BYTES, MAX_INSTANCES};

/// The codes of `{"error": {"code"}}` on the suite's own routes.
pub const ERROR_CODES: [&str; 10] = [
    "malformed_request",
    "too_large",
    "invalid_records",
    "not_serving",
    "throttled",
    "model_error",
    "unavailable",
    "internal",
    "not_found",
    "method_not_allowed",
];

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn body(schema: Value) -> Value {
    json!({ "content": { "application/json": { "schema": schema } } })
}

fn response(description: &str, schema: &str) -> Value {
    let mut r = body(reference(schema));
    r["description"] = json!(description);
    r
}

/// The answers every route of a kind may give, beside its success.
fn errors(route: Route) -> Map<String, Value> {
    let (error, own) = match route {
        Route::Model | Route::Predictions => ("Error", true),
        _ => ("ProtocolError", false),
    };
    let mut out = Map::new();
    let mut add = |status: &str, description: &str| {
        out.insert(status.into(), response(description, error));
    };
    match route {
        Route::Page | Route::OpenApi | Route::V2Server | Route::V2Live => {}
        Route::Model | Route::V2Ready => {
            add(
                "503",
                "the stage serves no model now, or sleeps (`Retry-After`)",
            );
        }
        Route::V1Status | Route::V2Metadata | Route::V2ModelReady => {
            add(
                "404",
                "the stage serves no model of that name (and version)",
            );
            add(
                "503",
                "the stage serves no model now, or sleeps (`Retry-After`)",
            );
        }
        Route::Predictions | Route::V1Predict | Route::V2Infer => {
            add("400", "a malformed request, or records the data contract refuses (every record's problems named)");
            add(
                "413",
                &format!(
                    "more than {MAX_INSTANCES} records, or a body over {MAX_BODY_BYTES} bytes"
                ),
            );
            if !own {
                add(
                    "404",
                    "the stage serves no model of that name (and version)",
                );
            }
            add("502", "the model failed on the records");
            add(
                "503",
                "the stage serves no model now, sleeps, or SageMaker throttles (`Retry-After`)",
            );
            add("500", "an internal error (logged; the answer says no more)");
        }
    }
    out
}

fn operation(route: Route) -> Value {
    let (summary, ok, request): (&str, Value, Option<&str>) = match route {
        Route::Page => (
            "The page for people; to a client that takes no HTML, KServe v1's liveness",
            json!({
                "description": "the page (an `Accept` with `text/html`, or none), or `{\"status\": \"alive\"}`",
                "content": {
                    "text/html": { "schema": { "type": "string" } },
                    "application/json": { "schema": reference("Alive") },
                },
            }),
            None,
        ),
        Route::OpenApi => (
            "This document",
            json!({ "description": "the OpenAPI document",
                    "content": { "application/json": { "schema": { "type": "object" } } } }),
            None,
        ),
        Route::Model => (
            "What the stage serves",
            response("the served model", "ServedModel"),
            None,
        ),
        Route::Predictions => (
            "Predictions for records",
            response("one prediction per record, in their order", "Predictions"),
            Some("PredictionsRequest"),
        ),
        Route::V1Status => (
            "KServe v1: the model's readiness",
            response("ready", "V1Status"),
            None,
        ),
        Route::V1Predict => (
            "KServe v1: predictions for records",
            response("one prediction per record, in their order", "V1Predictions"),
            Some("PredictionsRequest"),
        ),
        Route::V2Server => (
            "Open Inference Protocol: the server's metadata",
            response("the server", "ServerMetadata"),
            None,
        ),
        Route::V2Live => (
            "Open Inference Protocol: liveness",
            response("live", "Live"),
            None,
        ),
        Route::V2Ready => (
            "Open Inference Protocol: readiness",
            response("ready", "Ready"),
            None,
        ),
        Route::V2Metadata => (
            "Open Inference Protocol: the model's metadata",
            response("the model", "ModelMetadata"),
            None,
        ),
        Route::V2ModelReady => (
            "Open Inference Protocol: the model's readiness",
            response("ready", "ModelReady"),
            None,
        ),
        Route::V2Infer => (
            "Open Inference Protocol: an inference",
            response("one output value per row", "InferResponse"),
            Some("InferRequest"),
        ),
    };
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    responses.extend(errors(route));
    let mut op = json!({
        "operationId": route.name(),
        "summary": summary,
        "responses": responses,
    });
    if let Some(schema) = request {
        let mut request = body(reference(schema));
        request["required"] = json!(true);
        op["requestBody"] = request;
    }
    op
}

/// A path parameter.
fn parameter(name: &str, description: &str, pattern: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": "string", "pattern": pattern } })
}

/// A record's field: a number in the contract's range. The API also takes the
/// number's text (`"-122.23"`), as the CSV has it; the document states the
/// strict form, which is what clients should send.
fn field(column: &shared::contract::NumericColumn) -> Value {
    let mut description = format!(
        "{} to {} (the number's text, such as \"{}\", is accepted too)",
        column.min, column.max, column.min
    );
    let mut kinds = json!("number");
    if column.name == TOTAL_BEDROOMS {
        description.push_str(&format!(
            "; at most {TOTAL_ROOMS}; missing or null: imputed with the serving model's training medians"
        ));
        kinds = json!(["number", "null"]);
    }
    json!({ "type": kinds, "minimum": column.min, "maximum": column.max, "description": description })
}

fn schemas() -> Value {
    let inputs = &NUMERIC_COLUMNS[..INPUTS];
    let mut record = Map::new();
    for column in inputs {
        record.insert(column.name.into(), field(column));
    }
    record.insert(
        OCEAN_PROXIMITY.into(),
        json!({ "type": "string", "enum": OCEAN_PROXIMITY_CATEGORIES,
                "description": "the category as the CSV has it (other case and spacing are forgiven)" }),
    );
    let required: Vec<&str> = inputs
        .iter()
        .map(|c| c.name)
        .filter(|n| *n != TOTAL_BEDROOMS)
        .chain([OCEAN_PROXIMITY])
        .collect();
    let tensor_names: Vec<&str> = protocol::inputs().into_iter().map(|(n, _)| n).collect();
    let served = json!({ "type": "object", "required": ["stage", "endpoint", "endpoint_config", "model_package_group", "model_package_version", "model_package_arn"],
        "properties": {
            "stage": { "type": "string" }, "endpoint": { "type": "string" }, "endpoint_config": { "type": "string" },
            "model_package_group": { "type": "string" }, "model_package_version": { "type": "integer", "minimum": 1 },
            "model_package_arn": { "type": "string" }, "dataset_id": { "type": ["string", "null"] },
            "test_rmse": { "type": ["number", "null"] }, "validation_rmse": { "type": ["number", "null"] } } });
    let tensor_metadata = json!({ "type": "object", "required": ["name", "datatype", "shape"],
        "properties": { "name": { "type": "string" }, "datatype": { "type": "string" }, "shape": { "type": "array", "items": { "type": "integer" } } } });
    let mut schemas = Map::new();
    schemas.insert("Record".into(), json!({ "type": "object", "required": required, "properties": record, "additionalProperties": false,
                    "description": "a raw housing record: the data contract's inputs (the target is not one)" }));
    schemas.insert("PredictionsRequest".into(), json!({ "type": "object", "required": ["instances"],
            "properties": { "instances": { "type": "array", "items": reference("Record"), "minItems": 1, "maxItems": MAX_INSTANCES } } }));
    schemas.insert("ServedModel".into(), json!(served));
    schemas.insert("Predictions".into(), json!({ "type": "object", "required": ["predictions", "model"],
            "properties": { "predictions": { "type": "array", "items": { "type": "number" } }, "model": reference("ServedModel") } }));
    schemas.insert(
        "V1Predictions".into(),
        json!({ "type": "object", "required": ["predictions"],
            "properties": { "predictions": { "type": "array", "items": { "type": "number" } } } }),
    );
    schemas.insert(
        "V1Status".into(),
        json!({ "type": "object", "required": ["name", "ready"],
            "properties": { "name": { "type": "string" }, "ready": { "type": "boolean" } } }),
    );
    schemas.insert("Alive".into(), json!({ "type": "object", "required": ["status"], "properties": { "status": { "const": "alive" } } }));
    schemas.insert("Live".into(), json!({ "type": "object", "required": ["live"], "properties": { "live": { "type": "boolean" } } }));
    schemas.insert("Ready".into(), json!({ "type": "object", "required": ["ready"], "properties": { "ready": { "type": "boolean" } } }));
    schemas.insert(
        "ModelReady".into(),
        json!({ "type": "object", "required": ["name", "ready"],
            "properties": { "name": { "type": "string" }, "ready": { "type": "boolean" } } }),
    );
    schemas.insert(
        "ServerMetadata".into(),
        json!({ "type": "object", "required": ["name", "version", "extensions"],
            "properties": { "name": { "type": "string" }, "version": { "type": "string" },
                            "extensions": { "type": "array", "items": { "type": "string" } } } }),
    );
    schemas.insert("ModelMetadata".into(), json!({ "type": "object", "required": ["name", "versions", "platform", "inputs", "outputs"],
            "properties": { "name": { "type": "string" }, "versions": { "type": "array", "items": { "type": "string" } },
                            "platform": { "type": "string" },
                            "inputs": { "type": "array", "items": tensor_metadata.clone() },
                            "outputs": { "type": "array", "items": tensor_metadata } } }));
    schemas.insert("InputTensor".into(), json!({ "type": "object", "required": ["name", "datatype", "shape", "data"],
            "description": format!("one input of the model ({}): {FP64} (or another numeric datatype) for the numbers, {BYTES} for {OCEAN_PROXIMITY}; shape [N] or [N, 1]", tensor_names.join(", ")),
            "properties": { "name": { "type": "string", "enum": tensor_names },
                            "datatype": { "type": "string" },
                            "shape": { "type": "array", "items": { "type": "integer", "minimum": 0 }, "minItems": 1, "maxItems": 2 },
                            "data": { "type": "array" },
                            "parameters": { "type": "object" } } }));
    schemas.insert("InferRequest".into(), json!({ "type": "object", "required": ["inputs"],
            "properties": { "id": { "type": "string" },
                            "inputs": { "type": "array", "items": reference("InputTensor"), "minItems": 1 },
                            "outputs": { "type": "array", "items": { "type": "object", "required": ["name"],
                                         "properties": { "name": { "const": OUTPUT }, "parameters": { "type": "object" } } } },
                            "parameters": { "type": "object" } } }));
    schemas.insert("InferResponse".into(), json!({ "type": "object", "required": ["model_name", "model_version", "outputs"],
            "properties": { "model_name": { "type": "string" }, "model_version": { "type": "string" }, "id": { "type": "string" },
                            "outputs": { "type": "array", "items": { "type": "object", "required": ["name", "datatype", "shape", "data"],
                                "properties": { "name": { "const": OUTPUT }, "datatype": { "const": FP64 },
                                                "shape": { "type": "array", "items": { "type": "integer" } },
                                                "data": { "type": "array", "items": { "type": "number" } } } } } } }));
    schemas.insert("Error".into(), json!({ "type": "object", "required": ["error"],
            "properties": { "error": { "type": "object", "required": ["code", "message"],
                "properties": { "code": { "type": "string", "enum": ERROR_CODES }, "message": { "type": "string" },
                                "wakes_at": { "type": "string", "format": "date-time" },
                                "records": { "type": "array", "items": { "type": "object", "required": ["index", "errors"],
                                    "properties": { "index": { "type": "integer" },
                                                    "errors": { "type": "array", "items": { "type": "object", "required": ["field", "reason", "message"],
                                                        "properties": { "field": { "type": "string" }, "reason": { "type": "string" }, "message": { "type": "string" } } } } } } } } } } }));
    schemas.insert("ProtocolError".into(), json!({ "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } }));
    Value::Object(schemas)
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (pattern, route) in ROUTES {
        let mut parameters = Vec::new();
        if pattern.contains("{name}") {
            // SageMaker's rule for a model package group's name.
            parameters.push(parameter(
                "name",
                "the served model package group (`GET /v1/model`'s `model_package_group`)",
                "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
            ));
        }
        if pattern.contains("{version}") {
            parameters.push(parameter(
                "version",
                "the served model package version",
                "^[1-9][0-9]{0,9}$",
            ));
        }
        let mut op = operation(route);
        if pattern.contains("{version}") {
            op["operationId"] = json!(format!("{}_version", route.name()));
        }
        let mut item = json!({ route.method().as_str().to_ascii_lowercase(): op });
        if !parameters.is_empty() {
            item["parameters"] = json!(parameters);
        }
        paths.insert(pattern.to_string(), item);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "housing-mlops predictions",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Predictions of a California block's median house value from one stage's model, with exactly the training features. \
                 The suite's own routes ({MODEL_ROUTE}, {PREDICTIONS_ROUTE}), KServe v1 and the Open Inference Protocol (v2, JSON). \
                 At most {MAX_INSTANCES} records and {MAX_BODY_BYTES} bytes a request. \
                 On AWS the routes take SigV4-signed requests (service `execute-api`) unless the stack's PredictionsApiAuth is NONE, \
                 and API Gateway answers 429 above the stage's rate limit."
            ),
        },
        "servers": [{ "url": "/" }],
        "security": [{ "sigv4": [] }, {}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": { "sigv4": { "type": "apiKey", "name": "Authorization", "in": "header",
                                             "description": "AWS SigV4 (service execute-api), when PredictionsApiAuth is AWS_IAM" } },
        },
    })
}

pub const OPENAPI_ROUTE: &str = "/openapi.json";
