//! Step 1: the ETL's three deliveries — rows, the dataset, every object, the Glue partition,
//! the one `HousingDatasetReady`.

use super::read_response;
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use shared::etl::config::DEFAULT_GLUE_TABLE;
use std::path::{Path, PathBuf};

pub async fn summary(
    stack: &Stack,
    clients: &Clients,
    responses: &[PathBuf],
    save_event: Option<&Path>,
) -> Result<()> {
    let mut dataset_id = None;
    println!("\n== ETL invocations");
    for (i, path) in responses.iter().enumerate() {
        let response = read_response(path)?;
        for result in response["results"]
            .as_array()
            .context("response without results")?
        {
            let status = result["status"].as_str().unwrap_or("?");
            println!(
                "  #{} s3://{}/{} -> {status}",
                i + 1,
                result["bucket"].as_str().unwrap_or("?"),
                result["key"].as_str().unwrap_or("?")
            );
            match status {
                "processed" => {
                    let d = &result["dataset"];
                    let s = &d["summary"];
                    println!(
                        "     dataset id       {}",
                        d["dataset_id"].as_str().unwrap_or("?")
                    );
                    println!(
                        "     rows             in {} / out {} / quarantined {} / duplicate {}",
                        s["rows_in"], s["rows_out"], s["rows_quarantined"], s["rows_duplicate"]
                    );
                    println!(
                        "     splits           train {} / validation {} / test {}",
                        s["splits"]["train"], s["splits"]["validation"], s["splits"]["test"]
                    );
                    println!(
                        "     event published  {}",
                        result["event_id"].as_str().unwrap_or("?")
                    );
                    dataset_id = d["dataset_id"].as_str().map(str::to_string);
                }
                "duplicate" => println!(
                    "     already processed as {}: no-op, nothing published",
                    result["dataset_id"].as_str().unwrap_or("?")
                ),
                _ => println!(
                    "     {}",
                    result["message"]
                        .as_str()
                        .or(result["reason"].as_str())
                        .unwrap_or("")
                ),
            }
        }
    }
    let id = dataset_id.context("no invocation processed the dataset")?;

    println!("\n== Objects written for {id}");
    for bucket in [&stack.processed_bucket, &stack.quarantine_bucket] {
        let out = clients.s3.list_objects_v2().bucket(bucket).send().await?;
        for o in out
            .contents()
            .iter()
            .filter(|o| o.key().is_some_and(|k| k.contains(&id)))
        {
            println!(
                "  s3://{bucket}/{:<55} {:>9} bytes",
                o.key().unwrap_or_default(),
                o.size().unwrap_or_default()
            );
        }
    }

    println!("\n== Glue Data Catalog");
    let partition = clients
        .glue
        .get_partition()
        .database_name(&stack.glue_database)
        .table_name(DEFAULT_GLUE_TABLE)
        .partition_values(&id)
        .send()
        .await
        .context("the dataset's Glue partition is missing")?;
    let location = partition
        .partition()
        .and_then(|p| p.storage_descriptor())
        .and_then(|s| s.location())
        .unwrap_or("?");
    println!(
        "  {}.{DEFAULT_GLUE_TABLE} partition dataset_id={id}\n    location {location}",
        stack.glue_database
    );

    println!(
        "\n== Events on bus {} (delivered to an SQS queue by a rule)",
        stack.bus
    );
    let events = stack.received_events(clients).await?;
    for e in &events {
        println!(
            "  {} from {}: dataset {}",
            e["detail-type"].as_str().unwrap_or("?"),
            e["source"].as_str().unwrap_or("?"),
            e["detail"]["dataset_id"].as_str().unwrap_or("?")
        );
    }
    ensure!(
        events.len() == 1,
        "expected exactly one HousingDatasetReady event, got {}",
        events.len()
    );
    ensure!(
        events[0]["detail"]["dataset_id"] == id.as_str(),
        "the event names another dataset"
    );
    if let Some(path) = save_event {
        std::fs::write(path, serde_json::to_string_pretty(&events[0])?)?;
    }
    println!("\nOK: one dataset, one event, duplicates were no-ops.");
    Ok(())
}
