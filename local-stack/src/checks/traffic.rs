//! Step 7a: the shifted file's test split as live traffic through the API.

use super::{http_json, read_response};
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use shared::aws::S3Location;
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
    let layout = stack.layout();
    let read = |kind| {
        let at = layout.output(&id, kind);
        async move { stack.get(clients, &at.bucket, &at.key).await }
    };
    let report: shared::report::Report =
        serde_json::from_slice(&read(shared::dataset::OutputKind::Report).await?)?;
    let source = S3Location::parse(&report.input.source).context("the dataset's source")?;
    let raw = stack.get(clients, &source.bucket, &source.key).await?;
    let test = read(shared::dataset::OutputKind::TestParquet).await?;
    let held = local_stack::predictions::held_out(&raw, &test)?;
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
