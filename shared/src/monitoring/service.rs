//! One run of the traffic monitor. For each stage that serves a model with a
//! profiled training dataset:
//!
//! 1. the stage's window of capture files (`super::capture`): those not yet
//!    taken, from each variant's horizon on, at most `MAX_PENDING_FILES`, at
//!    most `MAX_CAPTURE_FILES` of them read (evenly spaced), each streamed up to
//!    `MAX_CAPTURE_FILE_BYTES`, their rows sampled down to `MAX_ROWS` across
//!    the whole window (not the first files' rows);
//! 2. fewer than `MIN_ROWS` rows: nothing compared; the files wait for the
//!    next run's, unless waiting cannot help (the window was sampled or left
//!    files for later, so it will never grow): then the run moves past them;
//! 3. otherwise the window is recorded as in flight, the rows' profile is
//!    compared with the training data's (`DriftReport` at
//!    `monitoring/<endpoint>/reports/<window>.json`), EMF scores per column,
//!    and `TrafficDriftDetected` when a column crossed a threshold; then the
//!    window is committed to the stage's state.
//!
//! Only keys laid out as SageMaker writes capture files count
//! (`<variant>/<yyyy>/<mm>/<dd>/<hh>/<file>.jsonl`, no later than the next
//! hour): anything else under the prefix (a `zz-test.jsonl`, a file dated
//! 2099) is left out and logged.
//!
//! Stages are independent: one stage's failure (an unreadable state or
//! profile, AWS refusing) is logged and counted (`StageFailures`), the other
//! stages still run, and the invocation then fails with it.

use super::capture::{
    self, hour_of, split_key, CaptureState, Sample, Window, MAX_CAPTURE_FILE_BYTES,
    MAX_PENDING_FILES,
};
use super::config::MonitorConfig;
pub use super::outcome::{MonitorOutcome, StageTraffic};
use crate::aws::S3Location;
use crate::aws::{bus, s3};
use crate::drift::html;
use crate::drift::report::{compare, DriftReport};
use crate::drift::traffic::{profile, read_capture_line, FeatureRow, Read};
use crate::error::Error;
use crate::events::drift::{TrafficDriftDetected, MONITOR_SOURCE, TRAFFIC_DRIFT_DETECTED};
use crate::stages::baseline::{self, Found};
use crate::stages::shadow;
use crate::telemetry::{Metrics, Unit};

/// The age of a stage's oldest capture file still waiting (0 when none
/// waits), by `Function` and [`STAGE_DIMENSION`]: the `monitor-behind` alarm's.
pub const OLDEST_UNREAD_METRIC: &str = "OldestUnreadCaptureAgeSeconds";
/// The dimension naming a stage in the monitor's metrics.
pub const STAGE_DIMENSION: &str = "Stage";

/// The rows a window's files gave.
struct Rows {
    rows: Vec<FeatureRow>,
    seen: u64,
    read: Read,
    cut_off: usize,
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

    /// Every stage, in promotion order, each on its own: a stage that fails is
    /// logged, counted (`StageFailures`) and reported as `Failed`, and the
    /// others still run ([`MonitorOutcome::into_result`] then fails the
    /// invocation).
    pub async fn run(&self) -> MonitorOutcome {
        let mut stages = Vec::new();
        for stage in self.config.stages.iter() {
            // Boxed: one stage's (deeply nested) future, not all of them inline.
            match Box::pin(self.stage(&stage.name)).await {
                Ok(traffic) => stages.push(traffic),
                Err(e) => {
                    tracing::error!(stage = %stage.name, error = %e, "the stage could not be checked; the others go on");
                    Metrics::new(&[
                        ("Function", crate::functions::MONITOR),
                        (STAGE_DIMENSION, &stage.name),
                    ])
                    .put("StageFailures", 1.0, Unit::Count)
                    .emit();
                    stages.push(StageTraffic::Failed {
                        stage: stage.name.clone(),
                        error: e.to_string(),
                        retryable: e.retryable(),
                    });
                }
            }
        }
        MonitorOutcome { stages }
    }

    #[tracing::instrument(skip(self))]
    async fn stage(&self, name: &str) -> Result<StageTraffic, Error> {
        let config = &self.config;
        let stage = config.stages.get(name);
        if let Some(wakes) = stage.and_then(|s| s.asleep_until(chrono::Utc::now())) {
            let wakes_at = crate::stages::schedule::timestamp(wakes);
            tracing::info!(%wakes_at, "the stage is asleep: skipped");
            return Ok(StageTraffic::Asleep {
                stage: name.into(),
                wakes_at,
            });
        }
        if let Some(stage) = stage.filter(|s| s.data_capture_percent == 0) {
            let reason = if stage.is_serverless() {
                "a serverless stage: SageMaker does not capture its traffic"
            } else {
                "data_capture_percent is 0"
            };
            tracing::info!(%reason, "the stage captures no traffic: skipped");
            return Ok(StageTraffic::NotCaptured {
                stage: name.into(),
                reason: reason.into(),
            });
        }
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
        let metrics = || {
            Metrics::new(&[
                ("Function", crate::functions::MONITOR),
                (STAGE_DIMENSION, name),
            ])
        };
        let state_at = config.layout.traffic_state(&endpoint);
        let mut state: CaptureState = match s3::read(&self.s3, &state_at).await? {
            Some((bytes, _)) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Internal(format!(
                    "unreadable monitor state {}: {e}; fix it, or delete it to start over from the capture's beginning",
                    state_at.uri()
                ))
            })?,
            None => CaptureState::default(),
        };
        let redo = state.in_flight.clone();
        let (window, complete) = match redo {
            Some(window) => {
                tracing::warn!(window = %window.id, "a window in flight (a run stopped after recording it): redone");
                (window, true)
            }
            None => {
                let (pending, complete) = self.pending(&endpoint, &state).await?;
                let oldest_unread = if complete {
                    0.0
                } else {
                    // Everything after the last file taken waits: at least this old.
                    let last = pending.last().and_then(|k| split_key(k)).map(|(_, h)| h);
                    last.and_then(capture::hour_start)
                        .map_or(0.0, |start| (now_secs() - start.secs()).max(0) as f64)
                };
                metrics()
                    .put(OLDEST_UNREAD_METRIC, oldest_unread, Unit::Seconds)
                    .emit();
                (capture::window(pending, config.max_capture_files), complete)
            }
        };
        if window.taken.is_empty() {
            tracing::info!(%endpoint, "no new capture");
            return Ok(StageTraffic::NoNewCapture {
                stage: name.into(),
                endpoint,
            });
        }
        let sampled_out = (window.taken.len() - window.read.len()) as u64;
        let rows = self.read_window(&window).await?;
        if rows.read.internal > 0 {
            tracing::info!(
                internal = rows.read.internal,
                "the trigger's quality-check requests are not traffic: left out"
            );
        }
        if rows.read.skipped > 0 {
            tracing::warn!(
                skipped = rows.read.skipped,
                "captured lines or rows that are not CSV feature rows were skipped"
            );
        }
        if rows.cut_off > 0 {
            tracing::warn!(
                files = rows.cut_off,
                max_bytes = MAX_CAPTURE_FILE_BYTES,
                "capture files longer than a run reads: their rest was left out"
            );
        }
        metrics()
            .put("CaptureFilesSampledOut", sampled_out as f64, Unit::Count)
            .put("CaptureFilesCutOff", rows.cut_off as f64, Unit::Count)
            .emit();
        if (rows.seen as usize) < config.min_rows {
            // Waiting helps only if the next run reads these files again with
            // more: every pending file was read and none is left for later.
            let wait = state.in_flight.is_none()
                && complete
                && sampled_out == 0
                && window.taken.len() < config.max_capture_files;
            let traffic = StageTraffic::TooFew {
                stage: name.into(),
                endpoint,
                rows: rows.seen,
                min_rows: config.min_rows as u64,
                capture_files: window.read.len() as u64,
                moved_past: !wait,
            };
            if wait {
                tracing::info!(
                    rows = rows.seen,
                    min_rows = config.min_rows,
                    "too few new rows: kept for the next run"
                );
            } else {
                tracing::warn!(
                    rows = rows.seen,
                    files = window.taken.len(),
                    min_rows = config.min_rows,
                    "too few usable rows in more files than a run waits for: moved past them"
                );
                state.commit(&window);
                self.save(&state_at, &state).await?;
            }
            return Ok(traffic);
        }
        if state.in_flight.is_none() {
            state.in_flight = Some(window.clone());
            self.save(&state_at, &state).await?;
        }
        let report_at = config.layout.traffic_report(&endpoint, &window.id);
        let (drifted, repeated) = match s3::read(&self.s3, &report_at).await? {
            Some((bytes, _)) => {
                let report: DriftReport = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Internal(format!("unreadable report {}: {e}", report_at.uri()))
                })?;
                (report.drifted, true)
            }
            None => {
                let (first, last) = (&window.taken[0], &window.taken[window.taken.len() - 1]);
                let current = profile(&rows.rows, &baseline.dataset);
                let window_name = format!("traffic {endpoint} {first} .. {last}");
                let mut report = compare(&trained_on, &current, &window_name, &config.drift);
                report.model = Some(baseline.model.clone());
                report.emit_metrics();
                metrics()
                    .put("CapturedRowsChecked", rows.rows.len() as f64, Unit::Count)
                    .put("DriftedFeatures", report.drifted.len() as f64, Unit::Count)
                    .emit();
                if !report.drifted.is_empty() {
                    let detail = TrafficDriftDetected {
                        endpoint: endpoint.clone(),
                        stage: name.to_string(),
                        model_package_arn: baseline.model.model_package_arn.clone(),
                        baseline: baseline.dataset.clone(),
                        rows: rows.rows.len() as u64,
                        capture_files: window.read.len() as u64,
                        first_capture: first.clone(),
                        last_capture: last.clone(),
                        features: report.drifted_columns(),
                        report: report_at.uri(),
                        report_html: html::beside(&report_at).uri(),
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
                // The page first: the JSON, written last, says the window is done.
                let page = html::render(&report, &trained_on, &current).into_bytes();
                let page_at = html::beside(&report_at);
                s3::put(&self.s3, &page_at, page, "text/html; charset=utf-8").await?;
                let body = serde_json::to_vec_pretty(&report)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                s3::put(&self.s3, &report_at, body, "application/json").await?;
                (report.drifted, false)
            }
        };
        state.commit(&window);
        self.save(&state_at, &state).await?;
        Ok(StageTraffic::Checked {
            stage: name.into(),
            endpoint,
            rows: rows.rows.len() as u64,
            rows_captured: rows.seen,
            capture_files: window.read.len() as u64,
            capture_files_sampled_out: sampled_out,
            report: report_at.uri(),
            drifted,
            repeated,
        })
    }

    /// The capture files of `endpoint` not yet taken, in time order (at most
    /// `MAX_PENDING_FILES`), and whether that is all of them.
    async fn pending(
        &self,
        endpoint: &str,
        state: &CaptureState,
    ) -> Result<(Vec<String>, bool), Error> {
        let capture = &self.config.capture;
        let root = capture.key.trim_end_matches('/');
        let prefix = if root.is_empty() {
            format!("{endpoint}/")
        } else {
            format!("{root}/{endpoint}/")
        };
        // No capture file is dated after the next hour.
        let latest = hour_of(aws_smithy_types::DateTime::from_secs(now_secs() + 3600));
        let mut pending: Vec<(String, String)> = Vec::new();
        let mut foreign: Vec<String> = Vec::new();
        let mut complete = true;
        for folder in s3::list_folders(&self.s3, &capture.bucket, &prefix).await? {
            // A shadow test's candidate answers copies of the requests the
            // serving variant answered: the traffic counts once.
            let variant = folder.trim_end_matches('/').rsplit('/').next();
            if variant.is_some_and(|v| v.starts_with(shadow::VARIANT_PREFIX)) {
                continue;
            }
            let start = state.start_after(&folder);
            let known = state
                .considered
                .iter()
                .filter(|k| k.starts_with(&folder))
                .count();
            let limit = MAX_PENDING_FILES + known;
            let keys =
                s3::list_after(&self.s3, &capture.bucket, &folder, start.as_deref(), limit).await?;
            complete &= keys.len() < limit;
            for key in keys {
                if state.considered.contains(&key) {
                    continue;
                }
                match split_key(&key) {
                    Some((f, hour)) if f == folder && hour <= latest.as_str() => {
                        pending.push((hour.to_string(), key))
                    }
                    _ => foreign.push(key),
                }
            }
        }
        if !foreign.is_empty() {
            tracing::warn!(
                count = foreign.len(),
                first = %foreign[0],
                "keys under the capture prefix that are not capture files (or dated ahead): left out"
            );
        }
        pending.sort();
        if pending.len() > MAX_PENDING_FILES {
            pending.truncate(MAX_PENDING_FILES);
            complete = false;
        }
        Ok((pending.into_iter().map(|(_, k)| k).collect(), complete))
    }

    /// The rows of the window's files, sampled down to `MAX_ROWS`.
    async fn read_window(&self, window: &Window) -> Result<Rows, Error> {
        let mut sample = Sample::new(self.config.max_rows, window);
        let mut read = Read::default();
        let mut cut_off = 0;
        for (i, key) in window.read.iter().enumerate() {
            let at = S3Location {
                bucket: self.config.capture.bucket.clone(),
                key: key.clone(),
            };
            let mut n = 0u64;
            let lines = s3::read_lines(&self.s3, &at, MAX_CAPTURE_FILE_BYTES, |line| {
                read_capture_line(line, &mut read, |row| {
                    sample.offer(i, n, row);
                    n += 1;
                })
            })
            .await?;
            match lines {
                None => tracing::warn!(%key, "a capture file listed but gone: skipped"),
                Some(l) if l.truncated => cut_off += 1,
                Some(_) => {}
            }
        }
        let seen = sample.seen;
        Ok(Rows {
            rows: sample.into_rows(),
            seen,
            read,
            cut_off,
        })
    }

    async fn save(&self, at: &S3Location, state: &CaptureState) -> Result<(), Error> {
        let body = serde_json::to_vec(state).map_err(|e| Error::Internal(e.to_string()))?;
        s3::put(&self.s3, at, body, "application/json").await?;
        Ok(())
    }
}

fn now_secs() -> i64 {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs()
}
