//! Step 4: promote-model — each stage's desired-state record and endpoint, the `ModelPromoted`
//! events, prod waiting for its manual gate.

use super::read_response;
use anyhow::{ensure, Result};
use local_stack::{Clients, Stack};
use shared::promotion::desired::Status;
use std::path::PathBuf;

pub async fn promotion(stack: &Stack, clients: &Clients, responses: &[PathBuf]) -> Result<()> {
    let stages = shared::stages::Stages::parse(shared::stages::BUNDLED)?;
    println!("\n== promote-model invocations");
    for (i, path) in responses.iter().enumerate() {
        let r = read_response(path)?;
        let status = r["status"].as_str().unwrap_or("?");
        match r["stage"].as_str() {
            Some(stage) => println!(
                "  #{} {status}: stage {stage} endpoint {}",
                i + 1,
                r["endpoint"].as_str().unwrap_or("-")
            ),
            None => println!("  #{} {status}", i + 1),
        }
        match status {
            "deploying" => println!(
                "     {} with config {} ({})",
                r["action"].as_str().unwrap_or("?"),
                r["endpoint_config"].as_str().unwrap_or("?"),
                r["deployment"].as_str().unwrap_or("?")
            ),
            "already_serving" => println!("     duplicate delivery: no-op"),
            "reconciled" => {
                for (stage, converged) in stages
                    .iter()
                    .zip(r["stages"].as_array().into_iter().flatten())
                {
                    println!(
                        "     {:<9} {}",
                        stage.name,
                        converged["status"].as_str().unwrap_or("?")
                    );
                }
            }
            _ => println!("     {r}"),
        }
    }
    let desired = stack.desired_states(clients)?;
    let mut serving = Vec::new();
    for stage in stages.iter() {
        println!("\n== Stage {} — endpoint {}", stage.name, stage.endpoint);
        match desired.read(&stage.name).await? {
            None => println!("  desired state: none recorded"),
            Some(read) => {
                let d = &read.desired;
                let status = match &d.status {
                    Status::Pending => "pending".to_string(),
                    Status::Deploying {
                        endpoint_config, ..
                    } => {
                        format!("deployment started ({endpoint_config})")
                    }
                    Status::Shadowing {
                        endpoint_config, ..
                    } => format!("shadow test ({endpoint_config})"),
                    Status::Halted { reason, .. } => format!("halted ({reason})"),
                };
                println!(
                    "  desired state: {} v{} ({}{}), {status}\n    {}",
                    d.model_package_group,
                    d.model_package_version,
                    serde_json::to_value(d.cause)?.as_str().unwrap_or("?"),
                    d.requested_by
                        .as_ref()
                        .map_or(String::new(), |by| format!(" by {by}")),
                    desired.location(&stage.name).uri()
                );
            }
        }
        let Ok(endpoint) = clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(&stage.endpoint)
            .send()
            .await
        else {
            println!(
                "  (no endpoint: {})",
                if stage.manual_gate {
                    "manual gate, send PromoteModel"
                } else {
                    "not promoted yet"
                }
            );
            continue;
        };
        let status = endpoint
            .endpoint_status()
            .map_or("?", |s| s.as_str())
            .to_string();
        let config_name = endpoint.endpoint_config_name().unwrap_or("?");
        println!("  status {status}\n  config {config_name}");
        let config = clients
            .sagemaker
            .describe_endpoint_config()
            .endpoint_config_name(config_name)
            .send()
            .await?;
        for v in config.production_variants() {
            let runs_on = match v.serverless_config() {
                Some(s) => format!(
                    "serverless, {} MB, up to {} at once",
                    s.memory_size_in_mb().unwrap_or_default(),
                    s.max_concurrency().unwrap_or_default()
                ),
                None => format!(
                    "{} x {}",
                    v.initial_instance_count().unwrap_or_default(),
                    v.instance_type().map_or("?", |t| t.as_str())
                ),
            };
            println!(
                "    variant {} model {} on {runs_on}",
                v.variant_name().unwrap_or("?"),
                v.model_name().unwrap_or("?"),
            );
        }
        // moto describes an absent capture config as an empty one.
        if let Some(capture) = config
            .data_capture_config()
            .filter(|c| c.destination_s3_uri().is_some())
        {
            println!(
                "    data capture {} % to {}",
                capture.initial_sampling_percentage().unwrap_or_default(),
                capture.destination_s3_uri().unwrap_or("?")
            );
        }
        let tags = clients
            .sagemaker
            .list_tags()
            .resource_arn(config.endpoint_config_arn().unwrap_or_default())
            .send()
            .await?;
        println!("  lineage tags");
        for t in tags.tags() {
            println!(
                "    {:<38} {}",
                t.key().unwrap_or("?"),
                t.value().unwrap_or("?")
            );
        }
        serving.push((stage.name.clone(), status));
    }
    println!("\n== Events on bus {}", stack.bus);
    let events = stack.received_events(clients).await?;
    for e in &events {
        let d = &e["detail"];
        println!(
            "  {} from {}: {} v{} -> {} ({})",
            e["detail-type"].as_str().unwrap_or("?"),
            e["source"].as_str().unwrap_or("?"),
            d["model_package_group"].as_str().unwrap_or("?"),
            d["model_package_version"],
            d["stage"].as_str().unwrap_or("?"),
            d["action"].as_str().or(d["reason"].as_str()).unwrap_or("?")
        );
    }
    let expected = [
        ("dev".to_string(), "InService".to_string()),
        ("pre-prod".to_string(), "InService".to_string()),
    ];
    ensure!(
        serving == expected,
        "expected dev and pre-prod InService and no prod endpoint, got {serving:?}"
    );
    let promoted = events
        .iter()
        .filter(|e| e["detail-type"] == "ModelPromoted")
        .count();
    ensure!(
        promoted == 2 && events.len() == 2,
        "expected two ModelPromoted events (dev, pre-prod), got {}",
        events.len()
    );
    let last = responses.last().map(|p| read_response(p)).transpose()?;
    ensure!(
        last.as_ref().is_some_and(|r| r["status"] == "reconciled"),
        "expected the last invocation to be the tick, converging every stage"
    );
    println!("\nOK: the approved model serves dev and pre-prod; the re-delivery was a no-op; the tick found nothing to change; prod waits for its manual gate.");
    Ok(())
}
