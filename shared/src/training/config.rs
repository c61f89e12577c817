//! The training trigger's configuration, from environment variables.

use super::gate::Thresholds;
use crate::config::{dead_letter_queue, AwsSettings, Config, Env};
use crate::dataset::{DatasetLayout, TrainParts};
use crate::drift::policy::{read_policy, DriftPolicy};
use crate::drift::quality::{
    DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_ROWS, MAX_DEADLINE_SECONDS, MAX_ROWS,
};
use crate::stages::{read_stages, Stages};

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
    /// `DRIFT_POLICY_FILE` (default the bundled `infra/drift.yaml`): the drift
    /// check's thresholds and reference stage, and `retrain_on`.
    pub drift: DriftPolicy,
    /// `STAGES_FILE` (default the bundled `infra/stages.yaml`): where the
    /// reference stage's endpoint is.
    pub stages: Stages,
    /// `QUALITY_MAX_ROWS` (default 1000; 0: off): rows of a new dataset's test
    /// split the serving model scores.
    pub quality_max_rows: usize,
    /// `QUALITY_DEADLINE_SECONDS` (default 10, at most 20): the quality
    /// check's whole time; past it the check records why and training goes on.
    pub quality_deadline: std::time::Duration,
    /// `TRAINING_INSTANCE_COUNT` (default 1, at most 64): the instances a run
    /// trains on, as many as the dataset has train parts at most (an instance
    /// the sharded channel gives no part would have nothing to train on).
    pub training_instances: u16,
    pub aws: AwsSettings,
}

/// A claim older than this without an execution is taken over: longer than the
/// function can run (its `Timeout` is 30 s, so the claim's holder is gone), and
/// shorter than Lambda's first retry of a failed asynchronous invocation (about
/// a minute), so the retry after a crash starts the dataset's training.
pub const DEFAULT_CLAIM_TIMEOUT_SECONDS: u64 = 45;
/// Lambda retries a failed asynchronous invocation after about this long first.
pub const FIRST_RETRY_SECONDS: u64 = 60;

impl Config for TriggerConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let pipeline_name = env.required("PIPELINE_NAME");
        let event_bus = env.required("EVENT_BUS_NAME");
        let layout = DatasetLayout::read_processed(env);
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
        let drift = read_policy(env);
        let stages = read_stages(env);
        let quality_max_rows = env.parsed("QUALITY_MAX_ROWS", DEFAULT_MAX_ROWS);
        if quality_max_rows > MAX_ROWS {
            env.error(format!(
                "QUALITY_MAX_ROWS={quality_max_rows} is above {MAX_ROWS}: the endpoint calls must fit in the function's 30 s"
            ));
        }
        let deadline = env.parsed("QUALITY_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS);
        if deadline == 0 || deadline > MAX_DEADLINE_SECONDS {
            env.error(format!(
                "QUALITY_DEADLINE_SECONDS={deadline} must be between 1 and {MAX_DEADLINE_SECONDS}: the rest of the function's 30 s is the claim's, the drift check's and the pipeline start's"
            ));
        }
        let training_instances = env.parsed("TRAINING_INSTANCE_COUNT", 1u16);
        if !(1..=TrainParts::MAX).contains(&training_instances) {
            env.error(format!(
                "TRAINING_INSTANCE_COUNT={training_instances} must be between 1 and {}",
                TrainParts::MAX
            ));
        }
        let aws = AwsSettings::read(env);
        let (drift, stages) = (drift?, stages?);
        if stages.find(&drift.reference_stage).is_none() {
            let names = stages.names();
            env.error(format!(
                "the drift policy's reference_stage {:?} is not a stage of the stages file ({})",
                drift.reference_stage,
                names.join(", ")
            ));
        }
        Some(TriggerConfig {
            pipeline_name,
            event_bus,
            layout,
            thresholds,
            claim_timeout_seconds,
            dead_letter_queue,
            drift,
            stages,
            quality_max_rows,
            quality_deadline: std::time::Duration::from_secs(deadline),
            training_instances,
            aws,
        })
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
            "QUALITY_MAX_ROWS" => Some("1000000".into()),
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
            "QUALITY_MAX_ROWS",
        ] {
            assert!(text.contains(name), "{name}: {text}");
        }
    }

    #[test]
    fn the_reference_stage_must_be_a_stage() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("drift.yaml");
        let bundled = crate::drift::policy::BUNDLED;
        let edited = bundled.replace("reference_stage: prod", "reference_stage: staging");
        assert_ne!(edited, bundled, "the bundled policy names prod");
        std::fs::write(&policy, edited).unwrap();
        let vars = |k: &str| match k {
            "PIPELINE_NAME" | "EVENT_BUS_NAME" => Some("x".to_string()),
            "DEAD_LETTER_QUEUE_URL" => {
                Some("https://sqs.us-east-1.amazonaws.com/123456789012/dlq".to_string())
            }
            "PROCESSED_BUCKET" => Some("processed".to_string()),
            "DRIFT_POLICY_FILE" => Some(policy.display().to_string()),
            _ => None,
        };
        let text = TriggerConfig::from_lookup(vars).unwrap_err().to_string();
        assert!(
            text.contains("reference_stage \"staging\" is not a stage of the stages file (dev, pre-prod, prod)"),
            "{text}"
        );
        let bundled = TriggerConfig::from_lookup(|k| match k {
            "DRIFT_POLICY_FILE" => None,
            other => vars(other),
        })
        .unwrap();
        assert_eq!(bundled.drift.reference_stage, "prod");
        assert_eq!(bundled.stages.len(), 3);
    }
}
