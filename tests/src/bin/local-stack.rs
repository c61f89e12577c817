//! `local-stack`: the main job's helper for the local AWS stack (moto).
//!
//!   local-stack up      --endpoint URL --name NAME --env-file FILE
//!   local-stack upload  --endpoint URL --name NAME FILE KEY
//!   local-stack summary --endpoint URL --name NAME RESPONSE...
//!
//! `summary` prints what the ETL did, checked against the stack itself (objects,
//! Glue partition, events delivered), and exits 1 if the chain did not behave.

use anyhow::{bail, ensure, Context, Result};
use integration_tests::{sdk_config, Clients, Stack};
use serde_json::Value;
use std::path::PathBuf;

struct Args {
    command: String,
    endpoint: String,
    name: String,
    env_file: Option<PathBuf>,
    rest: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let command = args
        .next()
        .context("usage: local-stack up|upload|summary --endpoint URL --name NAME ...")?;
    let (mut endpoint, mut name, mut env_file, mut rest) = (None, None, None, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--endpoint" => endpoint = args.next(),
            "--name" => name = args.next(),
            "--env-file" => env_file = args.next().map(PathBuf::from),
            _ => rest.push(a),
        }
    }
    Ok(Args {
        command,
        endpoint: endpoint.context("--endpoint is required")?,
        name: name.context("--name is required")?,
        env_file,
        rest,
    })
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("local-stack: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = parse_args()?;
    let clients = Clients::new(&sdk_config(&args.endpoint).await);
    let mut stack = Stack::named(&args.name);
    match args.command.as_str() {
        "up" => {
            stack = stack.create(&clients, true).await?;
            let file = args.env_file.context("--env-file is required")?;
            let env: String = stack
                .etl_env(&args.endpoint)
                .iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect();
            std::fs::write(&file, env)?;
            println!(
                "  stack up: buckets {}, {}, {}; bus {}; Glue database {}; queue for HousingDatasetReady",
                stack.raw_bucket, stack.processed_bucket, stack.quarantine_bucket, stack.bus, stack.glue_database
            );
            // The queue URL is found again by name in `summary`.
            Ok(())
        }
        "upload" => {
            let [file, key] = args.rest.as_slice() else {
                bail!("upload needs FILE KEY")
            };
            let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
            let size = bytes.len();
            stack.upload(&clients, key, bytes).await?;
            println!(
                "  uploaded {file} ({size} bytes) to s3://{}/{key}",
                stack.raw_bucket
            );
            Ok(())
        }
        "summary" => {
            let queue = clients
                .sqs
                .get_queue_url()
                .queue_name(format!("{}-events", stack.bus))
                .send()
                .await?;
            stack.queue_url = queue.queue_url().unwrap_or_default().to_string();
            summary(&stack, &clients, &args.rest).await
        }
        other => bail!("unknown command {other:?}"),
    }
}

async fn summary(stack: &Stack, clients: &Clients, responses: &[String]) -> Result<()> {
    let mut dataset_id = None;
    println!("\n== ETL invocations");
    for (i, path) in responses.iter().enumerate() {
        let response: Value = serde_json::from_str(
            &std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        )
        .with_context(|| format!("{path} is not the function's JSON response"))?;
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
        .table_name("housing_features")
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
        "  {}.housing_features partition dataset_id={id}\n    location {location}",
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
    println!("\nOK: one dataset, one event, duplicates were no-ops.");
    Ok(())
}
