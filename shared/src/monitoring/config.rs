//! The traffic monitor's configuration, from environment variables and the
//! stages and drift policy files.

use super::capture::MAX_PENDING_FILES;
use crate::aws::S3Location;
use crate::config::{dead_letter_queue, AwsSettings, Config, Env};
use crate::dataset::DatasetLayout;
use crate::drift::policy::{read_policy, DriftPolicy};
use crate::stages::{read_stages, Stages};

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    /// Where the training datasets' profiles are (`PROCESSED_BUCKET`,
    /// `PROCESSED_PREFIX`), and where the monitor keeps its reports and
    /// state (`monitoring/` in the processed bucket).
    pub layout: DatasetLayout,
    /// `DATA_CAPTURE_S3_URI`: where the endpoints capture (promote-model's).
    pub capture: S3Location,
    /// `EVENT_BUS_NAME`: where `TrafficDriftDetected` is published.
    pub event_bus: String,
    pub stages: Stages,
    pub drift: DriftPolicy,
    /// `MAX_ROWS` (default 20000): captured rows compared per stage and run (a
    /// sample across the run's files when there are more).
    pub max_rows: usize,
    /// `MIN_ROWS` (default 200): fewer new rows are kept for the next run.
    pub min_rows: usize,
    /// `MAX_CAPTURE_FILES` (default 1000): capture files read per stage and
    /// run; more pending files are sampled (evenly spaced).
    pub max_capture_files: usize,
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures go.
    pub dead_letter_queue: String,
    pub aws: AwsSettings,
}

pub const DEFAULT_MAX_ROWS: usize = 20_000;
pub const DEFAULT_MIN_ROWS: usize = 200;
pub const DEFAULT_MAX_CAPTURE_FILES: usize = 1000;

impl Config for MonitorConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let layout = DatasetLayout::read_processed(env);
        let capture_uri = env.required("DATA_CAPTURE_S3_URI");
        let capture = S3Location::parse(&capture_uri);
        if capture.is_none() && !capture_uri.is_empty() {
            env.error(format!(
                "DATA_CAPTURE_S3_URI={capture_uri:?} is not an s3:// URI"
            ));
        }
        let event_bus = env.required("EVENT_BUS_NAME");
        let stages = read_stages(env);
        let drift = read_policy(env);
        let max_rows = env.parsed("MAX_ROWS", DEFAULT_MAX_ROWS);
        let min_rows = env.parsed("MIN_ROWS", DEFAULT_MIN_ROWS);
        if min_rows == 0 || min_rows > max_rows {
            env.error(format!(
                "MIN_ROWS={min_rows} must be between 1 and MAX_ROWS ({max_rows})"
            ));
        }
        let max_capture_files = env.parsed("MAX_CAPTURE_FILES", DEFAULT_MAX_CAPTURE_FILES);
        if max_capture_files == 0 || max_capture_files > MAX_PENDING_FILES {
            env.error(format!(
                "MAX_CAPTURE_FILES={max_capture_files} must be between 1 and {MAX_PENDING_FILES}"
            ));
        }
        let dead_letter_queue = dead_letter_queue(env);
        let aws = AwsSettings::read(env);
        Some(MonitorConfig {
            layout,
            capture: capture?,
            event_bus,
            stages: stages?,
            drift: drift?,
            max_rows,
            min_rows,
            max_capture_files,
            dead_letter_queue,
            aws,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named() {
        let e = MonitorConfig::from_lookup(|k| match k {
            "DATA_CAPTURE_S3_URI" => Some("bucket/capture".into()),
            "MIN_ROWS" => Some("0".into()),
            "MAX_CAPTURE_FILES" => Some("0".into()),
            _ => None,
        })
        .unwrap_err()
        .to_string();
        for expected in [
            "PROCESSED_BUCKET is required",
            "EVENT_BUS_NAME is required",
            "DATA_CAPTURE_S3_URI=\"bucket/capture\" is not an s3:// URI",
            "MIN_ROWS=0 must be between 1",
            "MAX_CAPTURE_FILES=0 must be between 1 and 5000",
        ] {
            assert!(e.contains(expected), "{expected:?} in {e}");
        }
    }
}
