//! `housing-mlops drift <dataset id | stage>`: a drift check's report, summed up (or as JSON),
//! with where its page is. A dataset's is the training trigger's check of it against the
//! serving model's training data (`datasets/<id>/drift.json`); a stage's is the traffic
//! monitor's latest window of its endpoint (`monitoring/<endpoint>/reports/`).

use crate::stack::Stack;
use crate::when;
use shared::aws::{s3, S3Location};
use shared::dataset::{DatasetId, DatasetLayout, DEFAULT_PROCESSED_PREFIX, DRIFT_REPORT};
use shared::drift::html;
use shared::drift::report::DriftReport;
use std::fmt::Write;

/// A drift check's report, summed up, with where its page is.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A dataset id (ds-…: its check when it arrived) or a stage (its traffic's latest window).
    of: String,
    /// Print the report's JSON as stored instead.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: crate::stack::Target,
}

/// A report found: where, when, and what it says.
pub struct Found {
    pub at: S3Location,
    pub modified_ms: i64,
    pub bytes: Vec<u8>,
    pub report: DriftReport,
}

impl Found {
    /// The report's page (written beside its JSON).
    pub fn page(&self) -> S3Location {
        html::beside(&self.at)
    }
}

pub fn layout(stack: &Stack) -> DatasetLayout {
    DatasetLayout::processed_only(
        stack.processed_bucket.clone(),
        DEFAULT_PROCESSED_PREFIX.to_string(),
    )
}

pub async fn run(args: Args) -> Result<String, String> {
    let stack = crate::stack::connect(&args.target).await?;
    let found = if let Some(stage) = stack.stages.get(&args.of) {
        latest_traffic(&stack, &stage.endpoint)
            .await?
            .ok_or_else(|| {
                format!(
                    "stage {}'s endpoint {} has no traffic drift report yet (the monitor writes one an hour for a stage that captures traffic)",
                    stage.name, stage.endpoint
                )
            })?
    } else if let Ok(id) = args.of.parse::<DatasetId>() {
        let at = layout(&stack).drift_report(&id);
        read(&stack, &at, None).await?.ok_or_else(|| {
            format!("dataset {id} has no drift report ({} is missing: no serving model to compare it with, or not checked yet)", at.uri())
        })?
    } else {
        return Err(format!(
            "{} is neither a stage ({}) nor a dataset id (ds- and 32 hex digits)",
            args.of,
            stack.stages.names().join(", ")
        ));
    };
    if args.json {
        return String::from_utf8(found.bytes).map_err(|e| e.to_string());
    }
    Ok(summary(&found))
}

/// The report at `at`, if there is one; `modified_ms` as listed (or 0).
async fn read(
    stack: &Stack,
    at: &S3Location,
    modified_ms: Option<i64>,
) -> Result<Option<Found>, String> {
    let Some((bytes, _)) = s3::read(&stack.s3, at).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let report = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a drift report ({e})", at.uri()))?;
    Ok(Some(Found {
        at: at.clone(),
        modified_ms: modified_ms.unwrap_or_default(),
        bytes,
        report,
    }))
}

/// The newest object under `prefix` whose key ends in `suffix`.
pub(crate) async fn newest(
    stack: &Stack,
    prefix: &str,
    suffix: &str,
) -> Result<Option<(String, i64)>, String> {
    let mut pages = stack
        .s3
        .list_objects_v2()
        .bucket(&stack.processed_bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut newest: Option<(String, i64)> = None;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let listing = format!("listing s3://{}/{prefix}", stack.processed_bucket);
            crate::stack::aws_error(&listing, &e)
        })?;
        for object in page.contents() {
            let (Some(key), Some(modified)) = (object.key(), object.last_modified()) else {
                continue;
            };
            let ms = modified.to_millis().unwrap_or_default();
            if key.ends_with(suffix) && newest.as_ref().is_none_or(|(k, m)| (ms, key) > (*m, k)) {
                newest = Some((key.to_string(), ms));
            }
        }
    }
    Ok(newest)
}

/// The traffic monitor's latest report of `endpoint`.
pub async fn latest_traffic(stack: &Stack, endpoint: &str) -> Result<Option<Found>, String> {
    let folder = layout(stack).traffic_reports(endpoint);
    latest(stack, &folder.key, ".json").await
}

/// The latest check of a new dataset.
pub async fn latest_dataset(stack: &Stack) -> Result<Option<Found>, String> {
    latest(stack, DEFAULT_PROCESSED_PREFIX, &format!("/{DRIFT_REPORT}")).await
}

async fn latest(stack: &Stack, prefix: &str, suffix: &str) -> Result<Option<Found>, String> {
    let Some((key, ms)) = newest(stack, prefix, suffix).await? else {
        return Ok(None);
    };
    read(
        stack,
        &S3Location::new(&stack.processed_bucket, &key),
        Some(ms),
    )
    .await
}

/// "no drift" or "drift in a, b"; with the model's errors when measured.
pub fn verdict(report: &DriftReport) -> String {
    let mut out = if report.drifted.is_empty() {
        "no drift".to_string()
    } else {
        format!("drift in {}", report.drifted.join(", "))
    };
    if let Some(q) = &report.quality {
        let _ = write!(
            out,
            "; model RMSE {:.4} on {} labelled rows",
            q.rmse, q.rows
        );
        if let Some(registered) = q.registered_test_rmse {
            let _ = write!(out, " (registered with {registered:.4})");
        }
    }
    out
}

/// The report as an operator reads it: the verdict, what was compared, each column's scores
/// against its thresholds (crossed ones starred), the model's errors, where the page is.
pub fn summary(found: &Found) -> String {
    let r = &found.report;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", found.at.uri(), verdict(r));
    if found.modified_ms > 0 {
        let _ = writeln!(out, "written     {}", when(found.modified_ms));
    }
    let _ = writeln!(
        out,
        "baseline    {} (the serving model's training data)",
        r.baseline
    );
    let _ = writeln!(out, "current     {} ({} rows)", r.current, r.rows);
    if let Some(model) = &r.model {
        let _ = writeln!(
            out,
            "model       {} on stage {} ({})",
            model.model_package_arn, model.stage, model.endpoint
        );
    }
    let _ = writeln!(
        out,
        "\n{:<28} {:>16} {:>16} {:>16}",
        "column", "PSI / max", "JS / max", "KS / max"
    );
    let mut columns: Vec<_> = r.columns.iter().collect();
    // The drifted first, as the page draws them.
    columns.sort_by_key(|(name, _)| !r.drifted.contains(name));
    for (name, c) in columns {
        let score = |label: &str, value: Option<f64>, max: f64| match value {
            None => "-".to_string(),
            Some(v) => {
                let star = if c.crossed.iter().any(|x| x == label) {
                    "*"
                } else {
                    ""
                };
                format!("{star}{v:.3} / {max:.2}")
            }
        };
        let _ = writeln!(
            out,
            "{:<28} {:>16} {:>16} {:>16}",
            name,
            score("psi", Some(c.scores.psi), c.thresholds.psi),
            score("js", Some(c.scores.js), c.thresholds.js),
            score("ks", c.scores.ks, c.thresholds.ks),
        );
    }
    if !r.not_compared.is_empty() {
        let _ = writeln!(out, "not compared: {}", r.not_compared.join(", "));
    }
    if let Some(q) = &r.quality {
        let _ = writeln!(
            out,
            "\nmodel on the new labels: RMSE {:.4}, MAE {:.4} ({} rows)",
            q.rmse, q.mae, q.rows
        );
    }
    if let Some(e) = &r.quality_error {
        let _ = writeln!(out, "\nmodel quality not measured: {e}");
    }
    let _ = writeln!(
        out,
        "\n* crossed its threshold\npage: {}",
        found.page().uri()
    );
    out
}
