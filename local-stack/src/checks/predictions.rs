//! Step 5: predictions through the Lambda event and over HTTP, against the served model.

use super::{held_out, http_json, read_response};
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use serde_json::Value;
use std::path::Path;

/// predict's answers: the `cargo lambda invoke` response to the sample event,
/// then real HTTP requests to the local API at `api` (`cargo lambda watch`'s
/// function URL): what the stage serves, and predictions for a few held-out
/// rows of the model's own training dataset, printed with their true values.
pub async fn predictions(
    stack: &Stack,
    clients: &Clients,
    api: &str,
    response: &Path,
    rows: usize,
) -> Result<()> {
    println!("\n== predict, invoked with an API Gateway HTTP API event");
    let r = read_response(response)?;
    ensure!(
        r["statusCode"] == 200,
        "the sample request was answered {}: {}",
        r["statusCode"],
        r["body"]
    );
    let body: Value = serde_json::from_str(r["body"].as_str().unwrap_or_default())
        .context("the response's body is not JSON")?;
    let sample = local_stack::repo_root().join("events/predict/predictions.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(sample)?)?;
    let sent: Value = serde_json::from_str(sample["body"].as_str().unwrap_or_default())?;
    let predictions = body["predictions"].as_array().cloned().unwrap_or_default();
    ensure!(
        predictions.len() == sent["instances"].as_array().map_or(0, Vec::len),
        "one prediction per record expected: {body}"
    );
    println!(
        "  200: {} predictions, {:?}",
        predictions.len(),
        predictions
            .iter()
            .filter_map(Value::as_f64)
            .collect::<Vec<_>>()
    );

    println!("\n== The local API over HTTP: {api}");
    let model = http_json(ureq::get(&format!("{api}/v1/model")).call())?;
    println!("  GET /v1/model: {model}");
    let dataset = model["dataset_id"]
        .as_str()
        .context("the served model names no dataset")?;
    let id: shared::dataset::DatasetId = dataset
        .parse()
        .map_err(|e| anyhow::anyhow!("the dataset id {dataset:?}: {e}"))?;
    let (source, held) = held_out(stack, clients, &id).await?;
    // The first rows of the test split, and its first row without total_bedrooms (imputed).
    let mut chosen: Vec<_> = held.iter().take(rows).collect();
    if let Some(missing) = held
        .iter()
        .find(|h| h.record.get(shared::contract::TOTAL_BEDROOMS).is_none())
    {
        chosen.push(missing);
    }
    let request = serde_json::json!({
        "instances": chosen.iter().map(|h| &h.record).collect::<Vec<_>>()
    });
    let answer = http_json(
        ureq::post(&format!("{api}/v1/predictions"))
            .header("content-type", "application/json")
            .send(request.to_string()),
    )?;
    let scores: Vec<f64> = answer["predictions"]
        .as_array()
        .context("no predictions")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    ensure!(
        scores.len() == chosen.len(),
        "one prediction per record expected: {answer}"
    );
    println!(
        "  POST /v1/predictions: {} held-out rows of {} ({} test rows), model {} v{} at stage {}",
        chosen.len(),
        source.uri(),
        held.len(),
        answer["model"]["model_package_group"]
            .as_str()
            .unwrap_or("?"),
        answer["model"]["model_package_version"],
        answer["model"]["stage"].as_str().unwrap_or("?")
    );
    println!(
        "  {:>5}  {:>9} {:>7} {:>4} {:>8} {:>6}  {:<11} {:>10} {:>10} {:>7}",
        "line",
        "longitude",
        "latitude",
        "age",
        "bedrooms",
        "income",
        "proximity",
        "predicted",
        "true",
        "error"
    );
    let mut squared = 0.0;
    for (h, score) in chosen.iter().zip(&scores) {
        let f = |k: &str| h.record.get(k).map_or("-".to_string(), |v| v.to_string());
        println!(
            "  {:>5}  {:>9} {:>7} {:>4} {:>8} {:>6}  {:<11} {:>10.0} {:>10.0} {:>+6.1}%",
            h.line,
            f("longitude"),
            f("latitude"),
            f("housing_median_age"),
            f("total_bedrooms"),
            f("median_income"),
            h.record["ocean_proximity"].as_str().unwrap_or("?"),
            score,
            h.target,
            100.0 * (score - h.target) / h.target
        );
        squared += (score - h.target).powi(2);
    }
    let rmse = (squared / scores.len() as f64).sqrt();
    println!("  RMSE over these rows: {rmse:.0} (bedrooms \"-\": missing, imputed from the training report)");
    ensure!(
        answer["model"] == model,
        "the predictions name another model than GET /v1/model"
    );
    let capture = format!(
        "data-capture/{}/",
        model["endpoint"].as_str().unwrap_or("?")
    );
    let captured = stack
        .list(clients, &stack.processed_bucket, &capture)
        .await?;
    ensure!(
        !captured.is_empty(),
        "the endpoint captured nothing under s3://{}/{capture}",
        stack.processed_bucket
    );
    println!(
        "  data capture: {} request(s) under s3://{}/{capture}",
        captured.len(),
        stack.processed_bucket
    );
    println!("\nOK: predictions from the model the pipeline trained, served by the pre-prod endpoint, with its version; the endpoint captured the traffic.");
    Ok(())
}
