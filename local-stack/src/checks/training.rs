//! Step 2: the training trigger — the execution started once, its parameters from SageMaker.

use super::read_response;
use anyhow::{ensure, Result};
use local_stack::{Clients, Stack};
use std::path::PathBuf;

pub async fn training(stack: &Stack, clients: &Clients, responses: &[PathBuf]) -> Result<()> {
    println!("\n== Training trigger invocations");
    for (i, path) in responses.iter().enumerate() {
        let r = read_response(path)?;
        let status = r["status"].as_str().unwrap_or("?");
        let dataset = r["dataset_id"].as_str().unwrap_or("?");
        println!("  #{} HousingDatasetReady {dataset} -> {status}", i + 1);
        let arn = r["execution_arn"].as_str().unwrap_or("?");
        match status {
            "started" => println!("     execution {arn}"),
            "already_started" => println!("     duplicate delivery: no-op, the execution is {arn}"),
            _ => println!("     {r}"),
        }
    }
    let out = clients
        .sagemaker
        .list_pipeline_executions()
        .pipeline_name(stack.pipeline_name())
        .send()
        .await?;
    let executions = out.pipeline_execution_summaries();
    println!("\n== Executions of pipeline {}", stack.pipeline_name());
    for e in executions {
        let arn = e.pipeline_execution_arn().unwrap_or_default();
        println!(
            "  {arn}\n    display name {}",
            e.pipeline_execution_display_name().unwrap_or("?")
        );
        let params = clients
            .sagemaker
            .list_pipeline_parameters_for_execution()
            .pipeline_execution_arn(arn)
            .send()
            .await?;
        for p in params.pipeline_parameters() {
            println!(
                "    {:<22} {}",
                p.name().unwrap_or("?"),
                p.value().unwrap_or("?")
            );
        }
    }
    ensure!(
        executions.len() == 1,
        "expected exactly one execution, got {}",
        executions.len()
    );
    println!("\nOK: one dataset, one training execution, the re-delivery was a no-op.");
    Ok(())
}
