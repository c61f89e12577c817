//! The standard inference protocols, beside the suite's own `/v1/predictions`:
//! what their requests mean and what their answers look like, with no AWS in
//! them (the routes are predict's; the predictions the service's).
//!
//! - **KServe v1**: `GET /v1/models/{name}` → `{"name", "ready"}`;
//!   `POST /v1/models/{name}:predict` with `{"instances": [...]}` (the records
//!   `/v1/predictions` takes) → `{"predictions": [...]}`.
//! - **Open Inference Protocol (v2)**, its core JSON form: one named input
//!   tensor per contract field (`FP64` for the numbers, `BYTES` for
//!   `ocean_proximity`; shape `[N]` or `[N, 1]`; `total_bedrooms` may carry
//!   `null`s or be left out, and is then imputed), one output,
//!   `median_house_value` (`FP64`). Triton's binary tensor extension is
//!   refused with an error that says how to send JSON; an output asked for
//!   as binary is answered in JSON, which the clients read alike.
//!
//! The model's name and version are the served package's group and version.
//! Errors are `{"error": "..."}`, a record's problems named as
//! `/v1/predictions` names them (`record 1: latitude: 95 is outside 32.4 to
//! 42.1 (out_of_range:latitude)`).

use super::request::{RequestError, MAX_BODY_BYTES, MAX_INSTANCES};
use super::service::{ServedModel, ServingError};
use crate::contract::{MEDIAN_HOUSE_VALUE, NUMERIC_COLUMNS, OCEAN_PROXIMITY};
use crate::features::INPUTS;
use serde_json::{json, Map, Value};

/// The platform the metadata names: SageMaker's built-in XGBoost.
pub const PLATFORM: &str = "xgboost";
/// The one output.
pub const OUTPUT: &str = MEDIAN_HOUSE_VALUE;
/// A tensor datatype of the protocol.
pub const FP64: &str = "FP64";
pub const BYTES: &str = "BYTES";

/// Numeric datatypes a numeric input may be sent as (its values are JSON numbers
/// whatever their declared width).
const NUMERIC: [&str; 11] = [
    "FP16", "FP32", FP64, "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64",
];

/// The model's inputs in the contract's order: (name, datatype).
pub fn inputs() -> Vec<(&'static str, &'static str)> {
    NUMERIC_COLUMNS[..INPUTS]
        .iter()
        .map(|c| (c.name, FP64))
        .chain([(OCEAN_PROXIMITY, BYTES)])
        .collect()
}

/// Whether a request naming `name` (and `version`, if it names one) asks for
/// what `model` is; `Err` is the protocol's not-found message.
pub fn names(model: &ServedModel, name: &str, version: Option<&str>) -> Result<(), String> {
    let served = model.model_package_version.to_string();
    if name == model.model_package_group && version.is_none_or(|v| v == served) {
        return Ok(());
    }
    let asked = match version {
        Some(v) => format!("model {name:?} version {v:?}"),
        None => format!("model {name:?}"),
    };
    Err(format!(
        "{asked} is not served here: stage {} serves {:?} version {served}",
        model.stage, model.model_package_group
    ))
}

/// `GET /v1/models/{name}`.
pub fn v1_status(model: &ServedModel) -> Value {
    json!({ "name": model.model_package_group, "ready": true })
}

/// `GET /v2/models/{name}[/versions/{version}]`.
pub fn v2_metadata(model: &ServedModel) -> Value {
    let tensor =
        |name: &str, datatype: &str| json!({ "name": name, "datatype": datatype, "shape": [-1] });
    json!({
        "name": model.model_package_group,
        "versions": [model.model_package_version.to_string()],
        "platform": PLATFORM,
        "inputs": inputs().into_iter().map(|(n, d)| tensor(n, d)).collect::<Vec<_>>(),
        "outputs": [tensor(OUTPUT, FP64)],
    })
}

/// `GET /v2`: the server's metadata.
pub fn v2_server() -> Value {
    json!({ "name": "housing-mlops", "version": env!("CARGO_PKG_VERSION"), "extensions": [] })
}

/// An inference request of the Open Inference Protocol, as records.
#[derive(Debug, Clone, PartialEq)]
pub struct InferRequest {
    /// The request's `id`, echoed in the answer.
    pub id: Option<String>,
    /// One JSON object of field → value per row, for the contract's checks.
    pub rows: Vec<Value>,
    /// The rank of the first input's shape (1: `[N]`, 2: `[N, 1]`); the output's follows it.
    pub rank: usize,
}

fn malformed(message: String) -> RequestError {
    RequestError::Malformed(message)
}

/// A tensor's `data`, flattened (row-major, as the protocol allows it nested).
fn flatten(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        other => out.push(other.clone()),
    }
}

/// One input tensor: its name, its rows' values and its shape's rank.
fn tensor(input: &Value) -> Result<(String, Vec<Value>, usize), RequestError> {
    let name = input["name"]
        .as_str()
        .ok_or_else(|| malformed("an input without a \"name\"".into()))?;
    let datatype = input["datatype"].as_str().unwrap_or_default();
    let expected = inputs().into_iter().find(|(n, _)| *n == name);
    let Some((_, declared)) = expected else {
        let why = if name == MEDIAN_HOUSE_VALUE {
            "is what the model predicts, not an input".to_string()
        } else {
            format!(
                "is not an input of the model (its inputs: {})",
                inputs()
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(malformed(format!("input {name:?} {why}")));
    };
    let fits = if declared == BYTES {
        datatype == BYTES
    } else {
        NUMERIC.contains(&datatype)
    };
    if !fits {
        return Err(malformed(format!(
            "input {name:?} has datatype {datatype:?}; the model takes {declared}"
        )));
    }
    if input["parameters"].get("binary_data_size").is_some() {
        return Err(binary());
    }
    let shape: Vec<u64> = input["shape"]
        .as_array()
        .and_then(|dims| dims.iter().map(Value::as_u64).collect())
        .ok_or_else(|| {
            malformed(format!(
                "input {name:?}: \"shape\" must be a list of sizes, [N] or [N, 1]"
            ))
        })?;
    let rows = match shape.as_slice() {
        [n] | [n, 1] => *n as usize,
        _ => {
            return Err(malformed(format!(
                "input {name:?} has shape {shape:?}; one value per row: [N] or [N, 1]"
            )))
        }
    };
    let mut data = Vec::new();
    flatten(
        input
            .get("data")
            .ok_or_else(|| malformed(format!("input {name:?} has no \"data\"")))?,
        &mut data,
    );
    if data.len() != rows {
        return Err(malformed(format!(
            "input {name:?} has {} values for shape {shape:?}",
            data.len()
        )));
    }
    Ok((name.to_string(), data, shape.len()))
}

/// The error for Triton's binary tensor extension.
fn binary() -> RequestError {
    malformed(
        "binary tensor data is not accepted: send the tensors as JSON (tritonclient: \
         set_data_from_numpy(array, binary_data=False))"
            .into(),
    )
}

/// Reads `POST /v2/models/{name}/infer`'s body. `header_length` is the
/// `Inference-Header-Content-Length` header, which only binary requests carry.
pub fn parse_infer(body: &[u8], header_length: Option<&str>) -> Result<InferRequest, RequestError> {
    if header_length.is_some() {
        return Err(binary());
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(RequestError::TooLarge(format!(
            "the body is {} bytes; at most {MAX_BODY_BYTES} are accepted",
            body.len()
        )));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("the body is not JSON: {e}")))?;
    let given = value
        .get("inputs")
        .and_then(Value::as_array)
        .filter(|inputs| !inputs.is_empty())
        .ok_or_else(|| {
            malformed(
                "expected {\"inputs\": [{\"name\", \"datatype\", \"shape\", \"data\"}, …]}".into(),
            )
        })?;
    for output in value["outputs"].as_array().into_iter().flatten() {
        let name = output["name"].as_str().unwrap_or_default();
        if name != OUTPUT {
            return Err(malformed(format!(
                "output {name:?} is not an output of the model (its output: {OUTPUT})"
            )));
        }
    }
    let mut columns: Vec<(String, Vec<Value>)> = Vec::new();
    let mut rank = None;
    for input in given {
        let (name, data, r) = tensor(input)?;
        if columns.iter().any(|(n, _)| *n == name) {
            return Err(malformed(format!("input {name:?} is given twice")));
        }
        rank.get_or_insert(r);
        columns.push((name, data));
    }
    let rank = rank.unwrap_or(1);
    let rows = columns[0].1.len();
    if let Some((name, data)) = columns.iter().find(|(_, d)| d.len() != rows) {
        return Err(malformed(format!(
            "input {name:?} has {} rows, input {:?} {rows}: every input has one value per row",
            data.len(),
            columns[0].0
        )));
    }
    if rows == 0 {
        return Err(malformed(
            "the inputs have no rows: send at least one".into(),
        ));
    }
    if rows > MAX_INSTANCES {
        return Err(RequestError::TooLarge(format!(
            "{rows} rows in one request; at most {MAX_INSTANCES} are accepted"
        )));
    }
    let rows = (0..rows)
        .map(|i| {
            let fields: Map<String, Value> = columns
                .iter()
                .map(|(name, data)| (name.clone(), data[i].clone()))
                .collect();
            Value::Object(fields)
        })
        .collect();
    Ok(InferRequest {
        id: value["id"].as_str().map(str::to_string),
        rows,
        rank,
    })
}

/// The answer to an inference request.
pub fn infer_response(model: &ServedModel, request: &InferRequest, predictions: &[f64]) -> Value {
    let shape = if request.rank == 2 {
        json!([predictions.len(), 1])
    } else {
        json!([predictions.len()])
    };
    let mut answer = json!({
        "model_name": model.model_package_group,
        "model_version": model.model_package_version.to_string(),
        "outputs": [{ "name": OUTPUT, "datatype": FP64, "shape": shape, "data": predictions }],
    });
    if let Some(id) = &request.id {
        answer["id"] = json!(id);
    }
    answer
}

/// An error as both protocols carry it: `{"error": "..."}`, with every
/// record's problems.
pub fn error(e: &ServingError) -> Value {
    let mut text = e.message();
    if let Some(records) = e.records() {
        let detail: Vec<String> = records
            .iter()
            .flat_map(|r| {
                r.errors
                    .iter()
                    .map(move |f| format!("record {}: {} ({})", r.index, f.message, f.reason))
            })
            .collect();
        text = format!("{text}: {}", detail.join("; "));
    }
    json!({ "error": text })
}

#[cfg(test)]
mod tests;
