//! The ETL function's configuration, from environment variables.

use super::limits::{DEFAULT_MAX_OBJECT_BYTES, DEFAULT_MAX_ROWS};
use super::options::{CappedPolicy, EtlOptions};
use super::split::SplitRatios;
use crate::config::{dead_letter_queue, AwsSettings, Config, Env};
use crate::dataset::{DatasetLayout, TrainParts, TrainingFormat, DEFAULT_PROCESSED_PREFIX};
use crate::drift::policy::read_policy;

/// Where the object and the outputs are staged: Lambda's ephemeral storage.
pub const DEFAULT_WORK_DIR: &str = "/tmp";
/// The Glue table every dataset is a partition of.
pub const DEFAULT_GLUE_TABLE: &str = "housing_features";

#[derive(Debug, Clone, PartialEq)]
pub struct EtlConfig {
    /// Only objects in this bucket are processed (`RAW_BUCKET`).
    pub raw_bucket: String,
    /// ...and under this prefix (`RAW_PREFIX`, default: the whole bucket).
    pub raw_prefix: String,
    pub layout: DatasetLayout,
    /// `EVENT_BUS_NAME`: where `HousingDatasetReady` is published.
    pub event_bus: String,
    pub glue_database: String,
    pub glue_table: String,
    /// `MAX_OBJECT_BYTES`: larger objects are refused.
    pub max_object_bytes: u64,
    /// `WORK_DIR`: where the object and the outputs are staged during a run.
    pub work_dir: std::path::PathBuf,
    pub options: EtlOptions,
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures go.
    pub dead_letter_queue: String,
    pub aws: AwsSettings,
}

fn glue_name<F: Fn(&str) -> Option<String>>(env: &mut Env<F>, name: &str, value: String) -> String {
    let ok = !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !value.is_empty() && !ok {
        env.error(format!(
            "{name}={value:?} is not a valid Glue name (lower-case letters, digits and '_')"
        ));
    }
    value
}

impl Config for EtlConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let raw_bucket = env.bucket("RAW_BUCKET");
        let raw_prefix = env.prefix("RAW_PREFIX", "");
        let layout = DatasetLayout {
            processed_bucket: env.bucket("PROCESSED_BUCKET"),
            processed_prefix: env.prefix("PROCESSED_PREFIX", DEFAULT_PROCESSED_PREFIX),
            quarantine_bucket: env.bucket("QUARANTINE_BUCKET"),
            quarantine_prefix: env.prefix("QUARANTINE_PREFIX", ""),
        };
        let event_bus = env.required("EVENT_BUS_NAME");
        let database = env.required("GLUE_DATABASE");
        let glue_database = glue_name(env, "GLUE_DATABASE", database);
        let table = env.optional("GLUE_TABLE", DEFAULT_GLUE_TABLE);
        let glue_table = glue_name(env, "GLUE_TABLE", table);
        let max_object_bytes = env.parsed("MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES);
        if max_object_bytes == 0 {
            env.error("MAX_OBJECT_BYTES must be greater than 0".into());
        }
        let max_rows = env.parsed("MAX_ROWS", DEFAULT_MAX_ROWS);
        if max_rows == 0 {
            env.error("MAX_ROWS must be greater than 0".into());
        }
        let work_dir = std::path::PathBuf::from(env.optional("WORK_DIR", DEFAULT_WORK_DIR));
        let drift_policy = read_policy(env);
        let mut options = EtlOptions {
            capped_policy: env.parsed("CAPPED_POLICY", CappedPolicy::default()),
            split: env.parsed("SPLIT", SplitRatios::default()),
            training_format: env.parsed("TRAINING_FORMAT", TrainingFormat::default()),
            train_parts: env.parsed("TRAIN_PARTS", TrainParts::ONE),
            max_rows: Some(max_rows),
            ..EtlOptions::default()
        };
        let dead_letter_queue = dead_letter_queue(env);
        let aws = AwsSettings::read(env);
        // `None` only when the policy file failed, which `env` reports.
        options.drift_policy = drift_policy?;
        Some(EtlConfig {
            raw_bucket,
            raw_prefix,
            layout,
            event_bus,
            glue_database,
            glue_table,
            max_object_bytes,
            work_dir,
            options,
            dead_letter_queue,
            aws,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const MINIMAL: [(&str, &str); 6] = [
        (
            "DEAD_LETTER_QUEUE_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/etl-dlq",
        ),
        ("RAW_BUCKET", "raw"),
        ("PROCESSED_BUCKET", "processed"),
        ("QUARANTINE_BUCKET", "quarantine"),
        ("EVENT_BUS_NAME", "housing"),
        ("GLUE_DATABASE", "housing_db"),
    ];

    #[test]
    fn defaults_fill_the_optional_variables() {
        let config = EtlConfig::from_lookup(vars(&MINIMAL)).unwrap();
        assert_eq!(config.layout.processed_prefix, "datasets/");
        assert_eq!(config.glue_table, "housing_features");
        assert_eq!(config.max_object_bytes, DEFAULT_MAX_OBJECT_BYTES);
        assert_eq!(
            config.options,
            EtlOptions {
                max_rows: Some(DEFAULT_MAX_ROWS),
                ..EtlOptions::default()
            }
        );
        for (name, default) in EtlConfig::variables() {
            let required = MINIMAL.iter().any(|(k, _)| *k == name);
            assert_eq!(default.is_none(), required, "{name}");
        }
        let listed = |name: &str| {
            let variables = EtlConfig::variables();
            variables.into_iter().find(|(n, _)| *n == name).unwrap().1
        };
        assert_eq!(listed("MAX_ROWS"), Some("14000000".to_string()));
        assert_eq!(listed("SPLIT"), Some("80/10/10".to_string()));
        assert_eq!(listed("RAW_PREFIX"), Some(String::new()));
        assert_eq!(EtlConfig::variables().len(), 19);
        assert_eq!(listed("TRAIN_PARTS"), Some("1".to_string()));
        assert_eq!(listed("DRIFT_POLICY_FILE"), Some(String::new()));
        assert_eq!(listed("TRAINING_FORMAT"), Some("csv".to_string()));
    }

    #[test]
    fn the_drift_policy_file_reaches_the_options() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drift.yaml");
        let yaml =
            crate::drift::policy::BUNDLED.replace("reference_stage: prod", "reference_stage: dev");
        std::fs::write(&path, yaml).unwrap();
        let mut with = MINIMAL.to_vec();
        let path_text = path.display().to_string();
        with.push(("DRIFT_POLICY_FILE", &path_text));
        let config = EtlConfig::from_lookup(vars(&with)).unwrap();
        assert_eq!(config.options.drift_policy.reference_stage, "dev");

        std::fs::write(&path, "retrain_on: sometimes\n").unwrap();
        let err = EtlConfig::from_lookup(vars(&with)).unwrap_err().to_string();
        assert!(
            err.contains("DRIFT_POLICY_FILE=") && err.contains("sometimes"),
            "{err}"
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        let err = EtlConfig::from_lookup(vars(&[
            ("RAW_BUCKET", "raw"),
            ("PROCESSED_BUCKET", "UPPER"),
            ("EVENT_BUS_NAME", "bus"),
            ("GLUE_DATABASE", "bad-name"),
            ("MAX_OBJECT_BYTES", "lots"),
            ("MAX_ROWS", "0"),
            ("CAPPED_POLICY", "drop"),
            ("SPLIT", "90/20/10"),
            ("TRAINING_FORMAT", "libsvm"),
            ("TRAIN_PARTS", "0"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "PROCESSED_BUCKET",
            "QUARANTINE_BUCKET",
            "GLUE_DATABASE",
            "MAX_OBJECT_BYTES",
            "MAX_ROWS",
            "CAPPED_POLICY",
            "SPLIT",
            "TRAINING_FORMAT",
            "TRAIN_PARTS",
            "DEAD_LETTER_QUEUE_URL",
        ] {
            assert!(text.contains(name), "{name} not named in: {text}");
        }
        assert_eq!(err.list.len(), 10, "{text}");
    }
}
