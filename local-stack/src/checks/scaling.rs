//! Step 9: scaling and cost — what each stage runs on, the autoscaling
//! promote-model registered (checked against the stages file), what the
//! stages cost (`housing-mlops cost`'s table), and a bounded burst of requests
//! through the local API with the instance count target tracking would set.

use super::http_json;
use anyhow::{ensure, Context, Result};
use local_stack::Clients;
use shared::promotion::scaling::{self, Policy, Registered};
use shared::stages::cost::{self, Prices, BUNDLED_PRICES};
use shared::stages::{Fleet, Stages, BUNDLED};
use shared::training::definition::TRAINING_MAX_RUNTIME_SECONDS;
use shared::training::parameters::{default_instance_count, DEFAULT_TRAINING_INSTANCE_TYPE};
use std::time::Instant;

/// The burst: bounded (this many requests of one record from each of
/// `CLIENTS` clients at once), loopback only.
const BURST: usize = 40;
const CLIENTS: usize = 2;

pub async fn scaling(clients: &Clients, api: &str, stage: &str) -> Result<()> {
    // The main job's functions read the bundled stages file.
    let stages = Stages::parse(BUNDLED)?;
    println!(
        "\n== What each stage runs on, and its autoscaling as Application Auto Scaling holds it"
    );
    for s in stages.iter() {
        let exists = clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(&s.endpoint)
            .send()
            .await
            .is_ok();
        let registered = scaling::registered(&clients.autoscaling, s).await?;
        match s.fleet() {
            Fleet::Serverless(sl) => {
                println!(
                    "  {:<9} serverless: {} MB, up to {} concurrent invocations{} (no capture, all-at-once)",
                    s.name,
                    sl.memory_mb,
                    sl.max_concurrency,
                    sl.provisioned_concurrency
                        .map_or(String::new(), |p| format!(", {p} provisioned"))
                );
                ensure!(
                    registered.is_none(),
                    "{}: a serverless stage is a scalable target",
                    s.name
                );
            }
            Fleet::Instances {
                instance_type,
                count,
                autoscaling: None,
            } => {
                println!("  {:<9} {count} x {instance_type}, fixed", s.name);
                ensure!(
                    registered.is_none(),
                    "{}: a fixed stage is a scalable target",
                    s.name
                );
            }
            Fleet::Instances {
                instance_type,
                count,
                autoscaling: Some(a),
            } => {
                println!(
                    "  {:<9} {instance_type}, starts with {count}, autoscaled {}-{} at {} invocations a minute per instance (cooldowns: in {} s, out {} s)",
                    s.name, a.min, a.max, a.target_invocations_per_instance,
                    a.scale_in_cooldown_seconds, a.scale_out_cooldown_seconds
                );
                if !exists {
                    println!("            (no endpoint yet: registered once one serves)");
                    continue;
                }
                let wanted = Registered {
                    min: a.min as i32,
                    max: a.max as i32,
                    policy: Some(Policy::of(a)),
                };
                ensure!(
                    registered.as_ref() == Some(&wanted),
                    "{}: Application Auto Scaling holds {registered:?}, the stages file says {wanted:?}",
                    s.name
                );
                println!(
                    "            registered: {} between {} and {}, policy {} (target {})",
                    scaling::resource_id(s),
                    wanted.min,
                    wanted.max,
                    scaling::policy_name(s),
                    a.target_invocations_per_instance
                );
            }
        }
    }

    println!("\n== What the stages cost (housing-mlops cost)");
    let prices = Prices::parse(BUNDLED_PRICES)?;
    let training = cost::training_cost(
        &prices,
        DEFAULT_TRAINING_INSTANCE_TYPE,
        default_instance_count(),
        TRAINING_MAX_RUNTIME_SECONDS,
    )
    .map_err(anyhow::Error::msg)?;
    for line in cost::report(&stages, &prices, &training)?.lines() {
        println!("  {line}");
    }

    let at = stages.get(stage).context("no such stage")?;
    let Fleet::Instances {
        autoscaling: Some(a),
        count,
        ..
    } = at.fleet()
    else {
        anyhow::bail!("{stage} is not autoscaled");
    };
    let total = BURST * CLIENTS;
    println!(
        "\n== Load: {total} requests of one record to {stage} through the local API, {CLIENTS} clients at once"
    );
    let record = serde_json::json!({"instances": [{
        "longitude": -122.23, "latitude": 37.88, "housing_median_age": 41.0,
        "total_rooms": 880.0, "total_bedrooms": 129.0, "population": 322.0,
        "households": 126.0, "median_income": 8.3252, "ocean_proximity": "NEAR BAY"
    }]});
    let (url, body) = (format!("{api}/v1/predictions"), record.to_string());
    let client = || -> Result<()> {
        for _ in 0..BURST {
            let answer = http_json(
                ureq::post(&url)
                    .header("content-type", "application/json")
                    .send(&body),
            )?;
            ensure!(
                answer["predictions"].as_array().map_or(0, Vec::len) == 1,
                "{answer}"
            );
        }
        Ok(())
    };
    let started = Instant::now();
    std::thread::scope(|scope| {
        let running: Vec<_> = (0..CLIENTS).map(|_| scope.spawn(client)).collect();
        running
            .into_iter()
            .try_for_each(|c| c.join().map_err(|_| anyhow::anyhow!("a client panicked"))?)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let per_minute = total as f64 / seconds * 60.0;
    let per_instance = per_minute / f64::from(count);
    let desired = a.desired_count(per_minute);
    println!(
        "  {total} answered in {seconds:.1} s: {per_minute:.0} invocations a minute, {per_instance:.0} per instance on {count}"
    );
    println!(
        "  target tracking at {} a minute per instance would set {desired} instance(s) (range {}-{})",
        a.target_invocations_per_instance, a.min, a.max
    );
    println!("  and at other rates (the same rule):");
    for rate in [0.0, per_minute * 2.0, per_minute * 10.0] {
        println!(
            "    {rate:>8.0} a minute -> {} instance(s)",
            a.desired_count(rate)
        );
    }
    println!("  (on AWS the policy does this from CloudWatch's SageMakerVariantInvocationsPerInstance; moto keeps the registration, not the instances)");
    ensure!(
        (a.min..=a.max).contains(&desired),
        "the desired count left the range"
    );
    Ok(())
}
