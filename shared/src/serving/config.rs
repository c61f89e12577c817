//! predict's configuration, from environment variables and the stages file.

use crate::config::{variables_of, AwsSettings, ConfigError, Env, Variable};
use crate::dataset::{DatasetLayout, DEFAULT_PROCESSED_PREFIX};
use crate::promotion::stages::{read_stages, Stage};

#[derive(Debug, Clone, PartialEq)]
pub struct PredictConfig {
    /// `SERVING_STAGE` (default `prod`): the stage of `STAGES_FILE` (default the
    /// bundled `infra/stages.yaml`) whose endpoint the API serves.
    pub stage: Stage,
    /// Where the serving model's training dataset's `report.json` is
    /// (`PROCESSED_BUCKET`, `PROCESSED_PREFIX`): its imputation values.
    pub layout: DatasetLayout,
    /// `MODEL_CACHE_SECONDS` (default 60): how long what the stage serves is
    /// remembered before it is looked up again (0: every request).
    pub model_cache_seconds: u64,
    pub aws: AwsSettings,
}

pub const DEFAULT_STAGE: &str = "prod";
pub const DEFAULT_MODEL_CACHE_SECONDS: u64 = 60;

impl PredictConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut env = Env::new(lookup);
        let config = Self::read(&mut env);
        env.finish(config)?
            .ok_or_else(|| ConfigError(vec!["no serving stage".into()]))
    }

    /// Every variable predict reads, with its default (`None`: required).
    pub fn variables() -> Vec<Variable> {
        variables_of(Self::read)
    }

    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let stage_name = env.optional("SERVING_STAGE", DEFAULT_STAGE);
        let stages = read_stages(env);
        let layout = DatasetLayout {
            processed_bucket: env.bucket("PROCESSED_BUCKET"),
            processed_prefix: env.prefix("PROCESSED_PREFIX", DEFAULT_PROCESSED_PREFIX),
            // predict reads nothing of the quarantine.
            quarantine_bucket: String::new(),
            quarantine_prefix: String::new(),
        };
        let model_cache_seconds = env.parsed("MODEL_CACHE_SECONDS", DEFAULT_MODEL_CACHE_SECONDS);
        let aws = AwsSettings::read(env);
        let stages = stages?;
        let Some((_, stage)) = stages.find(&stage_name) else {
            let names: Vec<&str> = stages.stages.iter().map(|s| s.name.as_str()).collect();
            env.error(format!(
                "SERVING_STAGE={stage_name:?} is not a stage of the stages file ({})",
                names.join(", ")
            ));
            return None;
        };
        Some(PredictConfig {
            stage: stage.clone(),
            layout,
            model_cache_seconds,
            aws,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<PredictConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PredictConfig::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn the_stage_comes_from_the_stages_file() {
        let c = config(&[("PROCESSED_BUCKET", "processed")]).unwrap();
        assert_eq!(c.stage.name, "prod");
        assert_eq!(c.stage.endpoint, "housing-mlops-prod");
        assert_eq!(c.model_cache_seconds, DEFAULT_MODEL_CACHE_SECONDS);
        let c = config(&[("PROCESSED_BUCKET", "processed"), ("SERVING_STAGE", "dev")]).unwrap();
        assert_eq!(c.stage.endpoint, "housing-mlops-dev");
    }

    #[test]
    fn every_problem_is_named() {
        let e = config(&[
            ("SERVING_STAGE", "staging"),
            ("MODEL_CACHE_SECONDS", "soon"),
        ])
        .unwrap_err()
        .to_string();
        for expected in [
            "PROCESSED_BUCKET is required",
            "MODEL_CACHE_SECONDS=\"soon\" is invalid",
            "SERVING_STAGE=\"staging\" is not a stage of the stages file (dev, pre-prod, prod)",
        ] {
            assert!(e.contains(expected), "{expected:?} in {e}");
        }
    }
}
