//! The training trigger's configuration, from environment variables.

use super::gate::Thresholds;
use crate::config::{dead_letter_queue, variables_of, AwsSettings, ConfigError, Env, Variable};
use crate::dataset::{DatasetLayout, DEFAULT_PROCESSED_PREFIX};

#[derive(Debug, Clone, PartialEq)]
pub struct TriggerConfig {
    /// `PIPELINE_NAME`: the SageMaker pipeline to start; status events of others are ignored.
    pub pipeline_name: String,
    /// `EVENT_BUS_NAME`: where refusals and training failures are published.
    pub event_bus: String,
    /// Where the trigger claims datasets (`PROCESSED_BUCKET`, `PROCESSED_PREFIX`), as the ETL wrote them.
    pub layout: DatasetLayout,
    pub thresholds: Thresholds,
    /// `CLAIM_TIMEOUT_SECONDS`: a claim older than this without an execution is taken over.
    pub claim_timeout_seconds: u64,
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures go.
    pub dead_letter_queue: String,
    pub aws: AwsSettings,
}

/// A claim older than this without an execution is taken over: longer than the
/// function can run (its `Timeout` is 30 s, so the claim's holder is gone), and
/// shorter than Lambda's first retry of a failed asynchronous invocation (about
/// a minute), so the retry after a crash starts the dataset's training.
pub const DEFAULT_CLAIM_TIMEOUT_SECONDS: u64 = 45;
/// Lambda retries a failed asynchronous invocation after about this long first.
pub const FIRST_RETRY_SECONDS: u64 = 60;

impl TriggerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut env = Env::new(lookup);
        let config = Self::read(&mut env);
        env.finish(config)
    }

    /// Every variable the trigger reads, with its default (`None`: required).
    pub fn variables() -> Vec<Variable> {
        variables_of(Self::read)
    }

    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Self {
        let pipeline_name = env.required("PIPELINE_NAME");
        let event_bus = env.required("EVENT_BUS_NAME");
        let layout = DatasetLayout {
            processed_bucket: env.bucket("PROCESSED_BUCKET"),
            processed_prefix: env.prefix("PROCESSED_PREFIX", DEFAULT_PROCESSED_PREFIX),
            // The trigger writes nothing to the quarantine bucket.
            quarantine_bucket: String::new(),
            quarantine_prefix: String::new(),
        };
        let defaults = Thresholds::default();
        let thresholds = Thresholds {
            min_rows_out: env.parsed("MIN_ROWS_OUT", defaults.min_rows_out),
            max_quarantine_ratio: env.parsed("MAX_QUARANTINE_RATIO", defaults.max_quarantine_ratio),
        };
        if !(0.0..=1.0).contains(&thresholds.max_quarantine_ratio) {
            env.error(format!(
                "MAX_QUARANTINE_RATIO={} must be between 0 and 1",
                thresholds.max_quarantine_ratio
            ));
        }
        let claim_timeout_seconds =
            env.parsed("CLAIM_TIMEOUT_SECONDS", DEFAULT_CLAIM_TIMEOUT_SECONDS);
        if claim_timeout_seconds == 0 || claim_timeout_seconds >= FIRST_RETRY_SECONDS {
            env.error(format!(
                "CLAIM_TIMEOUT_SECONDS={claim_timeout_seconds} must be between 1 and {}: above the function's timeout, below Lambda's first retry ({FIRST_RETRY_SECONDS} s), or a crash after claiming leaves the dataset untrained",
                FIRST_RETRY_SECONDS - 1
            ));
        }
        let dead_letter_queue = dead_letter_queue(env);
        let aws = AwsSettings::read(env);
        TriggerConfig {
            pipeline_name,
            event_bus,
            layout,
            thresholds,
            claim_timeout_seconds,
            dead_letter_queue,
            aws,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_bad_values_are_named() {
        let err = TriggerConfig::from_lookup(|k| match k {
            "MAX_QUARANTINE_RATIO" => Some("2".into()),
            "MIN_ROWS_OUT" => Some("many".into()),
            "CLAIM_TIMEOUT_SECONDS" => Some("300".into()),
            _ => None,
        })
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "PIPELINE_NAME",
            "EVENT_BUS_NAME",
            "PROCESSED_BUCKET",
            "MIN_ROWS_OUT",
            "MAX_QUARANTINE_RATIO",
            "CLAIM_TIMEOUT_SECONDS",
        ] {
            assert!(text.contains(name), "{name}: {text}");
        }
    }
}
