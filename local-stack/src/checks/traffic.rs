//! Step 7a: the shifted file's test split as live traffic through the API.

use super::{held_out, http_json, read_response};
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use std::path::Path;

/// Sends the test split of the dataset `ready` announced (a
/// `HousingDatasetReady`), as the raw records a client would send, to the
/// local API in requests of 100; prints what the endpoint captured.
pub async fn traffic(stack: &Stack, clients: &Clients, api: &str, ready: &Path) -> Result<()> {
    let event = read_response(ready)?;
    let id: shared::dataset::DatasetId = event["detail"]["dataset_id"]
        .as_str()
        .context("not a HousingDatasetReady")?
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (source, held) = held_out(stack, clients, &id).await?;
    let mut answered = 0;
    for batch in held.chunks(100) {
        let request = serde_json::json!({
            "instances": batch.iter().map(|h| &h.record).collect::<Vec<_>>()
        });
        let answer = http_json(
            ureq::post(&format!("{api}/v1/predictions"))
                .header("content-type", "application/json")
                .send(request.to_string()),
        )?;
        let n = answer["predictions"].as_array().map_or(0, Vec::len);
        ensure!(
            n == batch.len(),
            "one prediction per record expected: {answer}"
        );
        answered += n;
    }
    println!(
        "  POST /v1/predictions: the {answered} test rows of {} ({id}), {} requests",
        source.uri(),
        held.len().div_ceil(100)
    );
    Ok(())
}
