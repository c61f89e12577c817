//! Step 10: a sleeping stage. promote-model and predict run a second time with
//! a stages file whose pre-prod window excludes now (`sleeping_stages` writes
//! it): the tick deletes pre-prod's endpoint, predict answers 503 with the
//! wake time, and the main job's promote-model (pre-prod awake) recreates it.

use super::read_response;
use anyhow::{ensure, Context, Result};
use local_stack::Clients;
use serde_json::Value;
use shared::stages::{Stages, BUNDLED};
use std::path::{Path, PathBuf};

/// Writes the bundled stages, awake, except `stage`, whose window excludes
/// now ([`local_stack::stack::stages_asleep`]).
pub fn sleeping_stages(stage: &str, out: &Path) -> Result<()> {
    let (text, wakes) = local_stack::stack::stages_asleep(stage)?;
    std::fs::write(out, text)?;
    println!("  {stage}'s window excludes now: it would wake at {wakes}");
    Ok(())
}

/// Checks what the sleeping promote-model, predict and the awake
/// promote-model answered, and that the stage's endpoint is back.
pub async fn sleeping(clients: &Clients, stage: &str, responses: &[PathBuf]) -> Result<()> {
    let [asleep, predict, awake] = responses else {
        anyhow::bail!("three responses: the sleeping tick, predict, the awake tick");
    };
    let stages = Stages::parse(BUNDLED)?;
    let (index, at) = stages.find(stage).context("no such stage")?;
    let tick = read_response(asleep)?;
    let slept = &tick["stages"][index];
    println!(
        "  tick, {stage} outside its window: {} (endpoint {}, wakes at {})",
        slept["status"].as_str().unwrap_or("?"),
        slept["endpoint_status"].as_str().unwrap_or("?"),
        slept["wakes_at"].as_str().unwrap_or("?")
    );
    ensure!(
        slept["status"] == "asleep",
        "the stage did not sleep: {tick}"
    );
    ensure!(
        slept["endpoint_status"] == "Deleting",
        "its endpoint was not deleted: {tick}"
    );

    let answer = read_response(predict)?;
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap_or_default())
        .context("predict's body is not JSON")?;
    println!(
        "  predict: {} {} — {}",
        answer["statusCode"],
        body["error"]["code"].as_str().unwrap_or("?"),
        body["error"]["message"].as_str().unwrap_or("?")
    );
    ensure!(answer["statusCode"] == 503, "predict answered {answer}");
    ensure!(
        body["error"]["wakes_at"] == slept["wakes_at"],
        "predict and promote-model disagree on the wake time: {body}"
    );

    let tick = read_response(awake)?;
    let woke = &tick["stages"][index];
    println!(
        "  tick, {stage} awake: {} ({} with {})",
        woke["status"].as_str().unwrap_or("?"),
        woke["action"].as_str().unwrap_or("?"),
        woke["endpoint_config"].as_str().unwrap_or("?")
    );
    ensure!(
        woke["status"] == "deploying" && woke["action"] == "create",
        "the stage was not recreated: {tick}"
    );
    let endpoint = clients
        .sagemaker
        .describe_endpoint()
        .endpoint_name(&at.endpoint)
        .send()
        .await
        .context("the recreated endpoint")?;
    println!(
        "  {} is {} again",
        at.endpoint,
        endpoint.endpoint_status().map_or("?", |s| s.as_str())
    );
    Ok(())
}
