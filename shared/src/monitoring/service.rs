//! One run of the traffic monitor. For each stage that serves a model with a
//! profiled training dataset:
//!
//! 1. the capture files under `<DATA_CAPTURE_S3_URI>/<endpoint>/` after the
//!    stage's watermark (`monitoring/<endpoint>/watermark.json`), in key order
//!    (time order: the keys carry the capture hour and minute), until
//!    `MAX_ROWS` rows or [`MAX_CAPTURE_FILES`] files;
//! 2. fewer than `MIN_ROWS` rows: nothing compared, the watermark stays, the
//!    rows are read again with the next run's;
//! 3. otherwise the rows' profile against the training data's
//!    (`DriftReport` at `monitoring/<endpoint>/reports/<window>.json`, the
//!    window named from its files), EMF scores per column, and
//!    `TrafficDriftDetected` when a column crossed a threshold; then the
//!    watermark moves to the last file read.
//!
//! Only keys laid out as SageMaker writes capture files count
//! (`<variant>/<yyyy>/<mm>/<dd>/<hh>/<file>.jsonl`, no later than the next
//! hour): anything else under the prefix (a `zz-test.jsonl`, a file dated
//! 2099) is left out and logged, and can never become the watermark, which
//! would hide every real file that sorts before it.
//!
//! A run that crashed after its report and before the watermark finds the same
//! files next time, so the same window and report: nothing is published twice.

use super::config::{MonitorConfig, MAX_CAPTURE_FILES};
use crate::aws::S3Location;
use crate::aws::{bus, s3};
use crate::dataset::sha256_hex;
use crate::drift::report::{compare, DriftReport};
use crate::drift::traffic::{profile, read_capture};
use crate::error::Error;
use crate::events::drift::{TrafficDriftDetected, MONITOR_SOURCE, TRAFFIC_DRIFT_DETECTED};
use crate::stages::baseline::{self, Found};
use crate::telemetry::{Metrics, Unit};
use serde::{Deserialize, Serialize};

/// What the run found at one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "traffic", rename_all = "snake_case")]
pub enum StageTraffic {
    /// No model with a profiled training dataset serves the stage.
    NotServing {
        stage: String,
    },
    NoNewCapture {
        stage: String,
        endpoint: String,
    },
    /// Too few new rows to compare: kept for the next run.
    TooFew {
        stage: String,
        endpoint: String,
        rows: u64,
        min_rows: u64,
    },
    Checked {
        stage: String,
        endpoint: String,
        rows: u64,
        capture_files: u64,
        report: String,
        drifted: Vec<String>,
        /// The window's report was already there (a run that crashed before
        /// moving the watermark): nothing published again.
        repeated: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorOutcome {
    pub stages: Vec<StageTraffic>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Watermark {
    last_capture: String,
}

pub struct MonitorService {
    pub s3: aws_sdk_s3::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub config: MonitorConfig,
}

impl MonitorService {
    /// Clients built once per cold start, with call time limits.
    pub fn new(sdk: &aws_config::SdkConfig, config: MonitorConfig) -> Self {
        let sdk = &crate::aws::with_call_timeouts(sdk);
        MonitorService {
            s3: crate::aws::s3_client(sdk, config.aws),
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            config,
        }
    }

    /// Every stage, in promotion order.
    pub async fn run(&self) -> Result<MonitorOutcome, Error> {
        let mut stages = Vec::new();
        for stage in self.config.stages.iter() {
            // Boxed: one stage's (deeply nested) future, not all of them inline.
            stages.push(Box::pin(self.stage(&stage.name)).await?);
        }
        Ok(MonitorOutcome { stages })
    }

    #[tracing::instrument(skip(self))]
    async fn stage(&self, name: &str) -> Result<StageTraffic, Error> {
        let config = &self.config;
        let found = baseline::serving(
            &self.s3,
            &self.sagemaker,
            &config.layout,
            &config.stages,
            name,
        )
        .await?;
        let (baseline, trained_on) = match found {
            Found::Usable(found) => found,
            Found::Missing(reason) => {
                tracing::info!(%reason, "no baseline: nothing to compare");
                return Ok(StageTraffic::NotServing { stage: name.into() });
            }
        };
        let endpoint = baseline.model.endpoint.clone();
        let watermark_at = config.layout.traffic_watermark(&endpoint);
        let watermark: Option<Watermark> = match s3::read(&self.s3, &watermark_at).await? {
            Some((bytes, _)) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                Error::Internal(format!("unreadable watermark {}: {e}", watermark_at.uri()))
            })?),
            None => None,
        };
        let root = config.capture.key.trim_end_matches('/');
        let prefix = if root.is_empty() {
            format!("{endpoint}/")
        } else {
            format!("{root}/{endpoint}/")
        };
        let after = watermark.as_ref().map(|w| w.last_capture.as_str());
        let keys = s3::list_after(
            &self.s3,
            &config.capture.bucket,
            &prefix,
            after,
            MAX_CAPTURE_FILES,
        )
        .await?;
        let latest = capture_hour_limit(std::time::SystemTime::now());
        let (keys, foreign): (Vec<String>, Vec<String>) = keys
            .into_iter()
            .partition(|key| is_capture_file(&key[prefix.len()..], &latest));
        if !foreign.is_empty() {
            tracing::warn!(
                count = foreign.len(),
                first = %foreign[0],
                "keys under the capture prefix that are not capture files (or dated ahead): left out"
            );
        }
        if keys.is_empty() {
            tracing::info!(%endpoint, "no new capture");
            return Ok(StageTraffic::NoNewCapture {
                stage: name.into(),
                endpoint,
            });
        }
        let mut rows = Vec::new();
        let mut used = Vec::new();
        let (mut skipped, mut internal) = (0, 0);
        for key in keys {
            if rows.len() >= config.max_rows {
                break;
            }
            let at = S3Location {
                bucket: config.capture.bucket.clone(),
                key: key.clone(),
            };
            if let Some((bytes, _)) = s3::read(&self.s3, &at).await? {
                let text = String::from_utf8_lossy(&bytes);
                let read = read_capture(&text, &mut rows, config.max_rows);
                skipped += read.skipped;
                internal += read.internal;
            }
            used.push(key);
        }
        if internal > 0 {
            tracing::info!(
                internal,
                "the trigger's quality-check requests are not traffic: left out"
            );
        }
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "captured lines or rows that are not CSV feature rows were skipped"
            );
        }
        if rows.len() < config.min_rows {
            tracing::info!(
                rows = rows.len(),
                min_rows = config.min_rows,
                "too few new rows: kept for the next run"
            );
            return Ok(StageTraffic::TooFew {
                stage: name.into(),
                endpoint,
                rows: rows.len() as u64,
                min_rows: config.min_rows as u64,
            });
        }
        let (first, last) = (used[0].clone(), used[used.len() - 1].clone());
        let window = sha256_hex(used.join("\n").as_bytes())[..16].to_string();
        let report_at = config.layout.traffic_report(&endpoint, &window);
        let (drifted, repeated) = match s3::read(&self.s3, &report_at).await? {
            Some((bytes, _)) => {
                let report: DriftReport = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Internal(format!("unreadable report {}: {e}", report_at.uri()))
                })?;
                (report.drifted, true)
            }
            None => {
                let current = profile(&rows, &baseline.dataset);
                let window_name = format!("traffic {endpoint} {first} .. {last}");
                let mut report = compare(&trained_on, &current, &window_name, &config.drift);
                report.model = Some(baseline.model.clone());
                report.emit_metrics();
                Metrics::new(&[("Function", crate::functions::MONITOR)])
                    .put("CapturedRowsChecked", rows.len() as f64, Unit::Count)
                    .put("DriftedFeatures", report.drifted.len() as f64, Unit::Count)
                    .emit();
                if !report.drifted.is_empty() {
                    let detail = TrafficDriftDetected {
                        endpoint: endpoint.clone(),
                        stage: name.to_string(),
                        model_package_arn: baseline.model.model_package_arn.clone(),
                        baseline: baseline.dataset.clone(),
                        rows: rows.len() as u64,
                        capture_files: used.len() as u64,
                        first_capture: first.clone(),
                        last_capture: last.clone(),
                        features: report.drifted_columns(),
                        report: report_at.uri(),
                    };
                    bus::publish(
                        &self.events,
                        &config.event_bus,
                        MONITOR_SOURCE,
                        TRAFFIC_DRIFT_DETECTED,
                        &detail,
                    )
                    .await?;
                    tracing::warn!(drifted = ?report.drifted, %endpoint, "traffic drifted from the serving model's training data");
                }
                let body = serde_json::to_vec_pretty(&report)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                s3::put(&self.s3, &report_at, body, "application/json").await?;
                (report.drifted, false)
            }
        };
        let mark = serde_json::to_vec(&Watermark { last_capture: last })
            .map_err(|e| Error::Internal(e.to_string()))?;
        s3::put(&self.s3, &watermark_at, mark, "application/json").await?;
        Ok(StageTraffic::Checked {
            stage: name.into(),
            endpoint,
            rows: rows.len() as u64,
            capture_files: used.len() as u64,
            report: report_at.uri(),
            drifted,
            repeated,
        })
    }
}

/// `yyyy/mm/dd/hh` of the hour after `now` (UTC): no capture file is later.
fn capture_hour_limit(now: std::time::SystemTime) -> String {
    let next = aws_smithy_types::DateTime::from(now + std::time::Duration::from_secs(3600));
    let text = next
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    // "2026-12-04T17:51:00Z" -> "2026/12/04/17"
    text.get(..13).unwrap_or_default().replace(['-', 'T'], "/")
}

/// Whether `key` (below the endpoint's prefix) is a capture file as SageMaker
/// writes it, `<variant>/<yyyy>/<mm>/<dd>/<hh>/<file>.jsonl`, of an hour no
/// later than `latest` (`yyyy/mm/dd/hh`).
fn is_capture_file(key: &str, latest: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    let [variant, year, month, day, hour, file] = parts[..] else {
        return false;
    };
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    let hour_of = format!("{year}/{month}/{day}/{hour}");
    !variant.is_empty()
        && digits(year, 4)
        && digits(month, 2)
        && digits(day, 2)
        && digits(hour, 2)
        && file.len() > ".jsonl".len()
        && file.ends_with(".jsonl")
        && hour_of.as_str() <= latest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_capture_files_of_past_hours_count() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_406_660); // 2026-12-04T17:51:00Z
        let latest = capture_hour_limit(now);
        assert_eq!(latest, "2026/12/04/18");
        for (key, ok) in [
            ("AllTraffic/2026/12/04/17/51-00-000-abc.jsonl", true),
            ("AllTraffic/2026/12/04/18/00-00-000-abc.jsonl", true),
            ("AllTraffic/2026/12/04/19/00-00-000-abc.jsonl", false),
            ("AllTraffic/2099/01/01/00/x.jsonl", false),
            ("zz-test.jsonl", false),
            ("AllTraffic/2026/12/4/17/x.jsonl", false),
            ("AllTraffic/2026/12/04/17/x.json", false),
            ("AllTraffic/2026/12/04/17/.jsonl", false),
            ("AllTraffic/2026/12/04/17/sub/x.jsonl", false),
        ] {
            assert_eq!(is_capture_file(key, &latest), ok, "{key}");
        }
    }
}
