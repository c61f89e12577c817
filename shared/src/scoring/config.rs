//! The scoring's configuration, from environment variables and the stages file.

use crate::config::{dead_letter_queue, AwsSettings, Config, Env};
use crate::dataset::DatasetLayout;
use crate::stages::{read_stages, Stage};

#[derive(Debug, Clone, PartialEq)]
pub struct ScoringConfig {
    /// `SCORING_STAGE` (default `prod`): the stage of `STAGES_FILE` whose
    /// serving model scores the files.
    pub stage: Stage,
    /// `SCORING_PREFIX` (default `score/`): the raw bucket's keys that are
    /// files to score; any other object is not the scoring's.
    pub prefix: String,
    /// `PROCESSED_BUCKET`, `PROCESSED_PREFIX`: where the runs' objects go
    /// (`scores/<id>/` at the bucket's root), and where the serving model's
    /// training dataset's report (its imputation values) is.
    pub layout: DatasetLayout,
    /// `TRANSFORM_INSTANCE_TYPE` (default `ml.m5.large`) and
    /// `TRANSFORM_INSTANCE_COUNT` (1 to 100, default 1): the job's instances.
    pub instance_type: String,
    pub instance_count: u32,
    /// `TRANSFORM_MAX_PAYLOAD_MB` (1 to 6, default 6): a mini-batch's size;
    /// the built-in XGBoost container takes at most 6 MB a request.
    pub max_payload_mb: u32,
    /// `STACK_NAME` (default `housing-mlops`): the transform jobs' names
    /// begin with it (and their cost-allocation tag carries it).
    pub stack_name: String,
    /// `MAX_OBJECT_BYTES` (default 768 MiB, as the ETL's): larger files are
    /// refused unread (`too_large`); the function stages a file and its rows
    /// in `/tmp`, up to 4 times its size ([`STAGING_FACTOR`]).
    pub max_object_bytes: u64,
    /// `EVENT_BUS_NAME`: where `BatchScored`/`BatchScoringFailed` go.
    pub event_bus: String,
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures go.
    pub dead_letter_queue: String,
    pub aws: AwsSettings,
}

pub const DEFAULT_STAGE: &str = "prod";
pub const DEFAULT_PREFIX: &str = "score/";
pub const DEFAULT_INSTANCE_TYPE: &str = "ml.m5.large";
pub const DEFAULT_STACK_NAME: &str = "housing-mlops";
/// As large as the ETL accepts (`etl::limits`; a test holds the two equal).
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 768 * 1024 * 1024;
/// `/tmp` a run needs, in multiples of its file, rounded up: at the start the
/// file, the job's input (the 16 features: 1.7 times the raw row on
/// `data/housing.csv`, whose 1.42 MB make 2.58 MB of XGBoost channels with the
/// label) and `rows.csv` (about the file) — 3.7; at the end `rows.csv`, the
/// job's answers and the predictions as CSV and Parquet — less.
pub const STAGING_FACTOR: f64 = 4.0;
/// The built-in XGBoost container's largest request.
pub const MAX_PAYLOAD_MB: u32 = 6;
/// `CreateTransformJob`'s `InstanceCount` at most (API reference).
pub const MAX_INSTANCE_COUNT: u32 = 100;

impl Config for ScoringConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let stage_name = env.optional("SCORING_STAGE", DEFAULT_STAGE);
        let stages = read_stages(env);
        let prefix = env.prefix("SCORING_PREFIX", DEFAULT_PREFIX);
        let layout = DatasetLayout::read_processed(env);
        let instance_type = env.optional("TRANSFORM_INSTANCE_TYPE", DEFAULT_INSTANCE_TYPE);
        let instance_count = env.parsed("TRANSFORM_INSTANCE_COUNT", 1u32);
        let max_payload_mb = env.parsed("TRANSFORM_MAX_PAYLOAD_MB", MAX_PAYLOAD_MB);
        let stack_name = env.optional("STACK_NAME", DEFAULT_STACK_NAME);
        let max_object_bytes = env.parsed("MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES);
        let event_bus = env.required("EVENT_BUS_NAME");
        let dead_letter_queue = dead_letter_queue(env);
        let aws = AwsSettings::read(env);
        if prefix.is_empty() {
            env.error("SCORING_PREFIX is empty: every object of the raw bucket would be scored, datasets too".into());
        }
        if stack_name.len() > super::layout::MAX_STACK_NAME {
            env.error(format!(
                "STACK_NAME={stack_name:?} is longer than {} characters: the transform jobs' names (at most 63, `<stack>-sc-<id>`) cannot carry it",
                super::layout::MAX_STACK_NAME
            ));
        }
        if !instance_type.starts_with("ml.") {
            env.error(format!(
                "TRANSFORM_INSTANCE_TYPE={instance_type:?} is not a SageMaker instance type (ml.…)"
            ));
        }
        if !(1..=MAX_INSTANCE_COUNT).contains(&instance_count) {
            env.error(format!(
                "TRANSFORM_INSTANCE_COUNT={instance_count} is outside 1 to {MAX_INSTANCE_COUNT}"
            ));
        }
        if !(1..=MAX_PAYLOAD_MB).contains(&max_payload_mb) {
            env.error(format!(
                "TRANSFORM_MAX_PAYLOAD_MB={max_payload_mb} is outside 1 to {MAX_PAYLOAD_MB} (the container's largest request)"
            ));
        }
        let stages = stages?;
        let Some((_, stage)) = stages.find(&stage_name) else {
            env.error(format!(
                "SCORING_STAGE={stage_name:?} is not a stage of the stages file ({})",
                stages.names().join(", ")
            ));
            return None;
        };
        Some(ScoringConfig {
            stage: stage.clone(),
            prefix,
            layout,
            instance_type,
            instance_count,
            max_payload_mb,
            stack_name,
            max_object_bytes,
            event_bus,
            dead_letter_queue,
            aws,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<ScoringConfig, crate::config::Problems> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ScoringConfig::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_and_every_problem_named() {
        let c = config(&[
            ("PROCESSED_BUCKET", "processed"),
            ("EVENT_BUS_NAME", "bus"),
            ("DEAD_LETTER_QUEUE_URL", "https://sqs.example/dlq"),
        ])
        .unwrap();
        assert_eq!(c.stage.name, "prod");
        assert_eq!(c.prefix, "score/");
        assert_eq!(
            (c.instance_type.as_str(), c.instance_count, c.max_payload_mb),
            ("ml.m5.large", 1, 6)
        );
        let e = config(&[
            ("SCORING_STAGE", "staging"),
            ("TRANSFORM_INSTANCE_TYPE", "m5.large"),
            ("TRANSFORM_INSTANCE_COUNT", "0"),
            ("TRANSFORM_MAX_PAYLOAD_MB", "7"),
            ("STACK_NAME", "housing-mlops-a-very-long-stack"),
        ])
        .unwrap_err()
        .to_string();
        for expected in [
            "PROCESSED_BUCKET is required",
            "EVENT_BUS_NAME is required",
            "DEAD_LETTER_QUEUE_URL is required",
            "TRANSFORM_INSTANCE_TYPE=\"m5.large\" is not a SageMaker instance type",
            "TRANSFORM_INSTANCE_COUNT=0 is outside 1 to 100",
            "TRANSFORM_MAX_PAYLOAD_MB=7 is outside 1 to 6",
            "STACK_NAME=\"housing-mlops-a-very-long-stack\" is longer than 27 characters",
            "SCORING_STAGE=\"staging\" is not a stage of the stages file",
        ] {
            assert!(e.contains(expected), "{expected:?} in {e}");
        }
    }
}
