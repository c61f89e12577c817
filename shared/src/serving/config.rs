//! predict's configuration, from environment variables and the stages file.

use crate::config::{AwsSettings, Config, Env};
use crate::dataset::DatasetLayout;
use crate::stages::{read_stages, Stage};

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

impl Config for PredictConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let stage_name = env.optional("SERVING_STAGE", DEFAULT_STAGE);
        let stages = read_stages(env);
        let layout = DatasetLayout::read_processed(env);
        let model_cache_seconds = env.parsed("MODEL_CACHE_SECONDS", DEFAULT_MODEL_CACHE_SECONDS);
        let aws = AwsSettings::read(env);
        let stages = stages?;
        let Some((_, stage)) = stages.find(&stage_name) else {
            let names = stages.names();
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

    fn config(vars: &[(&str, &str)]) -> Result<PredictConfig, crate::config::Problems> {
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
