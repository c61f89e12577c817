//! What the stages cost before anyone calls them: each stage's monthly cost
//! idle, at its smallest and at its largest scale, and a training run's cost on
//! demand and on spot, from `infra/stages.yaml` and the price table
//! `infra/prices.yaml`. Printed by `housing-mlops cost`. A stage with an
//! `active` window costs only while awake (its endpoint is deleted outside it).

use super::file::Stages;
use super::fleet::Fleet;
use crate::config::Problems;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The price table bundled with the suite: `infra/prices.yaml`.
pub const BUNDLED_PRICES: &str = include_str!("../../../infra/prices.yaml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub region: String,
    pub currency: String,
    pub recorded: String,
    pub source: String,
    pub hours_per_month: f64,
    /// Instance type → price per instance-hour.
    pub real_time_inference: BTreeMap<String, f64>,
    pub serverless_inference: ServerlessPrices,
    /// Instance type → price per instance-hour, on demand.
    pub training: BTreeMap<String, f64>,
    /// The fraction managed spot training saves (0-1).
    pub spot_saving: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerlessPrices {
    pub per_gb_second: f64,
    pub provisioned_concurrency_per_gb_second: f64,
}

impl Prices {
    pub fn parse(yaml: &str) -> Result<Prices, Problems> {
        let invalid = |list| Problems::new("price table", list);
        let prices: Prices =
            serde_norway::from_str(yaml).map_err(|e| invalid(vec![e.to_string()]))?;
        let mut problems = Vec::new();
        let serverless = prices.serverless_inference;
        let all = prices
            .real_time_inference
            .iter()
            .map(|(t, p)| (format!("real_time_inference.{t}"), *p))
            .chain(
                prices
                    .training
                    .iter()
                    .map(|(t, p)| (format!("training.{t}"), *p)),
            )
            .chain([
                ("hours_per_month".to_string(), prices.hours_per_month),
                (
                    "serverless_inference.per_gb_second".into(),
                    serverless.per_gb_second,
                ),
                (
                    "serverless_inference.provisioned_concurrency_per_gb_second".into(),
                    serverless.provisioned_concurrency_per_gb_second,
                ),
            ]);
        for (what, value) in all {
            if !(value.is_finite() && value >= 0.0) {
                problems.push(format!(
                    "{what}: {value} is not a price (a number, 0 or more)"
                ));
            }
        }
        if !(0.0..1.0).contains(&prices.spot_saving) {
            problems.push(format!(
                "spot_saving: {} is not a fraction below 1",
                prices.spot_saving
            ));
        }
        if problems.is_empty() {
            Ok(prices)
        } else {
            Err(invalid(problems))
        }
    }

    fn seconds_per_month(&self) -> f64 {
        self.hours_per_month * 3600.0
    }

    fn instance_month(&self, instance_type: &str) -> Result<f64, String> {
        self.real_time_inference
            .get(instance_type)
            .map(|hourly| hourly * self.hours_per_month)
            .ok_or_else(|| format!("no real-time inference price for {instance_type}"))
    }
}

/// A stage's monthly cost at three points.
#[derive(Debug, Clone, PartialEq)]
pub struct StageCost {
    pub stage: String,
    /// What it runs on, in words.
    pub runs_on: String,
    /// With no traffic at all.
    pub idle: f64,
    /// At its smallest scale (the autoscaling floor, or the fixed fleet).
    pub at_min: f64,
    /// At its largest (the autoscaling ceiling; serverless: every concurrent
    /// invocation busy all month).
    pub at_max: f64,
}

/// The monthly cost of one stage of `stages`.
pub fn stage_cost(stages: &Stages, name: &str, prices: &Prices) -> Result<StageCost, String> {
    let stage = stages.get(name).ok_or_else(|| format!("no stage {name}"))?;
    let (mut runs_on, idle, at_min, at_max) = match stage.fleet() {
        Fleet::Instances {
            instance_type,
            count,
            autoscaling,
        } => {
            let month = prices.instance_month(instance_type)?;
            match autoscaling {
                Some(a) => (
                    format!("{}-{} x {instance_type}, autoscaled", a.min, a.max),
                    month * f64::from(a.min),
                    month * f64::from(a.min),
                    month * f64::from(a.max),
                ),
                None => {
                    let fixed = month * f64::from(count);
                    (format!("{count} x {instance_type}"), fixed, fixed, fixed)
                }
            }
        }
        Fleet::Serverless(s) => {
            let gb = f64::from(s.memory_mb) / 1024.0;
            let month = prices.seconds_per_month();
            let sp = prices.serverless_inference;
            let provisioned = f64::from(s.provisioned_concurrency.unwrap_or(0));
            let idle = provisioned * gb * month * sp.provisioned_concurrency_per_gb_second;
            let busy = f64::from(s.max_concurrency) * gb * month * sp.per_gb_second;
            let warm = match s.provisioned_concurrency {
                Some(p) => format!(", {p} provisioned"),
                None => String::new(),
            };
            (
                format!(
                    "serverless {} MB, up to {} at once{warm}",
                    s.memory_mb, s.max_concurrency
                ),
                idle,
                idle,
                idle + busy,
            )
        }
    };
    // Asleep, a stage has no endpoint: it costs its share of the week awake.
    let awake = match stage.window() {
        Some(window) => {
            let hours = window.hours_a_week();
            runs_on.push_str(&format!(", awake {hours} h a week"));
            hours / (7.0 * 24.0)
        }
        None => 1.0,
    };
    Ok(StageCost {
        stage: stage.name.clone(),
        runs_on,
        idle: idle * awake,
        at_min: at_min * awake,
        at_max: at_max * awake,
    })
}

/// One training run at most: `count` instances for `max_runtime_seconds`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCost {
    pub instance_type: String,
    pub count: u32,
    pub max_runtime_seconds: u32,
    pub on_demand: f64,
    pub spot: f64,
}

pub fn training_cost(
    prices: &Prices,
    instance_type: &str,
    count: u32,
    max_runtime_seconds: u32,
) -> Result<TrainingCost, String> {
    let hourly = prices
        .training
        .get(instance_type)
        .ok_or_else(|| format!("no training price for {instance_type}"))?;
    let on_demand = hourly * f64::from(count) * f64::from(max_runtime_seconds) / 3600.0;
    Ok(TrainingCost {
        instance_type: instance_type.into(),
        count,
        max_runtime_seconds,
        on_demand,
        spot: on_demand * (1.0 - prices.spot_saving),
    })
}

/// The whole report, as `housing-mlops cost` prints it.
pub fn report(
    stages: &Stages,
    prices: &Prices,
    training: &TrainingCost,
) -> Result<String, Problems> {
    let costs: Vec<StageCost> = stages
        .iter()
        .map(|s| stage_cost(stages, &s.name, prices))
        .collect::<Result<_, _>>()
        .map_err(|e| Problems::new("cost", vec![e]))?;
    let money = |v: f64| format!("{v:.2}");
    let width = costs
        .iter()
        .map(|c| c.runs_on.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = String::new();
    let c = &prices.currency;
    let _ = writeln!(
        out,
        "Monthly cost ({c}, {} h) at {} on-demand prices recorded {} ({})",
        prices.hours_per_month, prices.region, prices.recorded, prices.source
    );
    let _ = writeln!(
        out,
        "{:<10} {:<width$} {:>10} {:>10} {:>10}",
        "stage", "runs on", "idle", "at min", "at max"
    );
    for cost in &costs {
        let _ = writeln!(
            out,
            "{:<10} {:<width$} {:>10} {:>10} {:>10}",
            cost.stage,
            cost.runs_on,
            money(cost.idle),
            money(cost.at_min),
            money(cost.at_max)
        );
    }
    let sum = |f: fn(&StageCost) -> f64| costs.iter().map(f).sum::<f64>();
    let _ = writeln!(
        out,
        "{:<10} {:<width$} {:>10} {:>10} {:>10}",
        "total",
        "",
        money(sum(|c| c.idle)),
        money(sum(|c| c.at_min)),
        money(sum(|c| c.at_max))
    );
    let _ = writeln!(
        out,
        "Training, one run at most ({} x {}, {} s): {c} {} on demand, {c} {} on spot ({:.0} % saving assumed)",
        training.count,
        training.instance_type,
        training.max_runtime_seconds,
        money(training.on_demand),
        money(training.spot),
        prices.spot_saving * 100.0
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::BUNDLED;

    /// The fleet every stage ran before issue 29: fixed, always on.
    const FIXED_FLEET: &str = "rmse_tolerance: 0.02
stages:
  - name: dev
    endpoint: d
    instance_type: ml.m5.large
    instance_count: 1
    deployment: { strategy: all-at-once, wait_seconds: 0 }
  - name: pre-prod
    endpoint: pp
    instance_type: ml.m5.large
    instance_count: 2
    deployment: { strategy: canary, percent: 50, wait_seconds: 600 }
    alarms: [a]
  - name: prod
    endpoint: p
    instance_type: ml.m5.xlarge
    instance_count: 4
    deployment: { strategy: linear, step_percent: 25, wait_seconds: 900 }
    alarms: [a]
";

    fn idle(stages: &Stages, prices: &Prices) -> f64 {
        stages
            .iter()
            .map(|s| stage_cost(stages, &s.name, prices).unwrap().idle)
            .sum()
    }

    #[test]
    fn the_fixed_fleet_costs_what_issue_29_says() {
        let prices = Prices::parse(BUNDLED_PRICES).unwrap();
        let fixed = Stages::parse(FIXED_FLEET).unwrap();
        // 3 x ml.m5.large + 4 x ml.m5.xlarge, 730 h.
        assert!((idle(&fixed, &prices) - (3.0 * 0.115 + 4.0 * 0.23) * 730.0).abs() < 1e-9);
        assert!((idle(&fixed, &prices) - 923.45).abs() < 0.01);
    }

    #[test]
    fn the_default_stages_cost_a_fraction_of_it_idle() {
        let prices = Prices::parse(BUNDLED_PRICES).unwrap();
        let stages = Stages::parse(BUNDLED).unwrap();
        let dev = stage_cost(&stages, "dev", &prices).unwrap();
        assert_eq!(dev.idle, 0.0, "serverless without provisioned concurrency");
        // 5 concurrent invocations of 2 GB, busy all month.
        assert!((dev.at_max - 5.0 * 2.0 * 730.0 * 3600.0 * 0.00002).abs() < 1e-6);
        let prod = stage_cost(&stages, "prod", &prices).unwrap();
        assert_eq!(prod.runs_on, "2-8 x ml.m5.large, autoscaled");
        assert!((prod.idle - 2.0 * 0.115 * 730.0).abs() < 1e-9);
        assert!((prod.at_max - 8.0 * 0.115 * 730.0).abs() < 1e-9);
        // dev 0 + pre-prod 1 x ml.m5.large awake 60 of 168 hours + prod 2 x
        // ml.m5.large: 21.4 % of the fixed fleet (issue 29's target: 25 %).
        let pre_prod = stage_cost(&stages, "pre-prod", &prices).unwrap();
        assert_eq!(
            pre_prod.runs_on,
            "1-2 x ml.m5.large, autoscaled, awake 60 h a week"
        );
        assert!((pre_prod.idle - 0.115 * 730.0 * 60.0 / 168.0).abs() < 1e-9);
        let total = idle(&stages, &prices);
        assert!(
            (total - (2.0 + 60.0 / 168.0) * 0.115 * 730.0).abs() < 1e-9,
            "{total}"
        );
        let ratio = total / idle(&Stages::parse(FIXED_FLEET).unwrap(), &prices);
        assert!(ratio <= 0.25, "{ratio}");
        assert!((ratio - 0.2143).abs() < 0.001, "{ratio}");
    }

    #[test]
    fn provisioned_concurrency_costs_while_idle_and_missing_prices_are_named() {
        let prices = Prices::parse(BUNDLED_PRICES).unwrap();
        let warm = Stages::parse(
            "rmse_tolerance: 0.02\nstages:\n  - name: dev\n    endpoint: d\n    serverless: { memory_mb: 1024, max_concurrency: 2, provisioned_concurrency: 1 }\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
        )
        .unwrap();
        let dev = stage_cost(&warm, "dev", &prices).unwrap();
        assert!((dev.idle - 730.0 * 3600.0 * 0.0000048).abs() < 1e-9);
        let gpu = Stages::parse(
            "rmse_tolerance: 0.02\nstages:\n  - name: dev\n    endpoint: d\n    instance_type: ml.g5.xlarge\n    instance_count: 1\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
        )
        .unwrap();
        assert_eq!(
            stage_cost(&gpu, "dev", &prices).unwrap_err(),
            "no real-time inference price for ml.g5.xlarge"
        );
        let run = training_cost(&prices, "ml.m5.large", 2, 1800).unwrap();
        assert!((run.on_demand - 0.115).abs() < 1e-9);
        assert!((run.spot - 0.115 * 0.3).abs() < 1e-9);
        assert!(training_cost(&prices, "ml.p5.48xlarge", 1, 60).is_err());
    }

    #[test]
    fn a_bad_price_table_is_refused_with_every_problem() {
        let bad = BUNDLED_PRICES
            .replace("ml.m5.large: 0.115", "ml.m5.large: -1")
            .replace("spot_saving: 0.7", "spot_saving: 1.5");
        let err = Prices::parse(&bad).unwrap_err().to_string();
        assert!(
            err.contains("real_time_inference.ml.m5.large: -1 is not a price"),
            "{err}"
        );
        assert!(
            err.contains("training.ml.m5.large: -1 is not a price"),
            "{err}"
        );
        assert!(
            err.contains("spot_saving: 1.5 is not a fraction below 1"),
            "{err}"
        );
        let err = Prices::parse("region: x\n").unwrap_err().to_string();
        assert!(err.contains("missing field"), "{err}");
    }
}
