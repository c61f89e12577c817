//! promote-model's configuration, from environment variables and the stages file.

use crate::aws::S3Location;
use crate::config::{dead_letter_queue, AwsSettings, Config, Env};
use crate::stages::{read_stages, Stages};

#[derive(Debug, Clone, PartialEq)]
pub struct PromoteConfig {
    pub stages: Stages,
    /// `MODEL_PACKAGE_GROUPS`: the allow-list; approvals in other groups are ignored.
    pub model_package_groups: Vec<String>,
    /// `EXPECTED_ACCOUNT_ID`: registry events from other accounts are ignored.
    pub account_id: String,
    /// `AWS_REGION`: registry events from other regions are ignored.
    pub region: String,
    /// `EVENT_BUS_NAME`: where promotions, refusals and rollbacks are published.
    pub event_bus: String,
    /// `SAGEMAKER_ROLE_ARN`: the execution role of the SageMaker models created.
    pub model_role_arn: String,
    /// Where endpoints capture requests (stages with capture on).
    pub data_capture: Option<DataCapture>,
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures go.
    pub dead_letter_queue: String,
    /// `PROMOTION_STATE_S3_URI`: where each stage's desired-state record lives
    /// (`promotion::desired`).
    pub state: S3Location,
    /// `STACK_NAME`: the stack whose cost the Models, endpoint configs and
    /// endpoints created count toward (tag `housing-mlops:stack`); unset, untagged.
    pub stack_name: Option<String>,
    pub aws: AwsSettings,
}

/// Where, and with which key, endpoints store captured requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCapture {
    /// `DATA_CAPTURE_S3_URI`.
    pub uri: String,
    /// `DATA_CAPTURE_KMS_KEY_ARN`: the key SageMaker encrypts the captured data with
    /// (the buckets take no other); unset, the bucket's default.
    pub kms_key_arn: Option<String>,
}

impl Config for PromoteConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self> {
        let model_package_groups: Vec<String> = env
            .required("MODEL_PACKAGE_GROUPS")
            .split(',')
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        let account_id = env.required("EXPECTED_ACCOUNT_ID");
        let is_account_id =
            account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit());
        if !account_id.is_empty() && !is_account_id {
            env.error(format!(
                "EXPECTED_ACCOUNT_ID={account_id:?} is not a 12-digit AWS account id"
            ));
        }
        let region = env.required("AWS_REGION");
        let event_bus = env.required("EVENT_BUS_NAME");
        let model_role_arn = env.required("SAGEMAKER_ROLE_ARN");
        let is_role_arn = model_role_arn.starts_with("arn:") && model_role_arn.contains(":role/");
        if !model_role_arn.is_empty() && !is_role_arn {
            env.error(format!(
                "SAGEMAKER_ROLE_ARN={model_role_arn:?} is not an IAM role ARN"
            ));
        }
        let stages = read_stages(env);
        let data_capture_uri =
            Some(env.optional("DATA_CAPTURE_S3_URI", "")).filter(|u| !u.is_empty());
        let kms_key_arn =
            Some(env.optional("DATA_CAPTURE_KMS_KEY_ARN", "")).filter(|k| !k.is_empty());
        if let Some(key) = &kms_key_arn {
            if !(key.starts_with("arn:") && key.contains(":kms:") && key.contains(":key/")) {
                env.error(format!(
                    "DATA_CAPTURE_KMS_KEY_ARN={key:?} is not a KMS key ARN"
                ));
            }
        }
        if let Some(uri) = &data_capture_uri {
            if !uri.starts_with("s3://") || uri.len() <= "s3://".len() {
                env.error(format!("DATA_CAPTURE_S3_URI={uri:?} is not an s3:// URI"));
            }
        }
        if let Some(stages) = &stages {
            // A shadow test compares the two variants' captured answers.
            let capturing: Vec<&str> = stages
                .iter()
                .filter(|s| s.data_capture_percent > 0 || s.shadow.is_some())
                .map(|s| s.name.as_str())
                .collect();
            if data_capture_uri.is_none() && !capturing.is_empty() {
                env.error(format!(
                    "DATA_CAPTURE_S3_URI is required: stages {} capture requests (or run shadow tests)",
                    capturing.join(", ")
                ));
            }
        }
        let state_uri = env.required("PROMOTION_STATE_S3_URI");
        let state = S3Location::parse(&state_uri);
        if state.is_none() && !state_uri.is_empty() {
            env.error(format!(
                "PROMOTION_STATE_S3_URI={state_uri:?} is not an s3:// URI"
            ));
        }
        let dead_letter_queue = dead_letter_queue(env);
        let stack_name = Some(env.optional("STACK_NAME", "")).filter(|s| !s.is_empty());
        let aws = AwsSettings::read(env);
        let state = state.unwrap_or(S3Location {
            bucket: String::new(),
            key: String::new(),
        });
        stages.map(|stages| PromoteConfig {
            stages,
            model_package_groups,
            account_id,
            region,
            event_bus,
            model_role_arn,
            data_capture: data_capture_uri.map(|uri| DataCapture { uri, kms_key_arn }),
            dead_letter_queue,
            state,
            stack_name,
            aws,
        })
    }
}

impl PromoteConfig {
    /// Is this model package group on the allow-list?
    pub fn allows(&self, group: &str) -> bool {
        self.model_package_groups
            .iter()
            .any(|g| g.eq_ignore_ascii_case(group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup<'a>(vars: &'a HashMap<&'a str, String>) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.get(k).cloned()
    }

    #[test]
    fn a_complete_configuration_reads() {
        let vars = HashMap::from([
            (
                "MODEL_PACKAGE_GROUPS",
                " housing-models , other ".to_string(),
            ),
            ("EXPECTED_ACCOUNT_ID", "123456789012".to_string()),
            ("AWS_REGION", "eu-west-1".to_string()),
            ("EVENT_BUS_NAME", "bus".to_string()),
            (
                "SAGEMAKER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/sm".to_string(),
            ),
            ("DATA_CAPTURE_S3_URI", "s3://bucket/capture".to_string()),
            (
                "PROMOTION_STATE_S3_URI",
                "s3://bucket/promotion".to_string(),
            ),
            (
                "DEAD_LETTER_QUEUE_URL",
                "https://sqs.eu-west-1.amazonaws.com/123456789012/promote-dlq".to_string(),
            ),
        ]);
        let config = PromoteConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(config.model_package_groups, ["housing-models", "other"]);
        assert!(config.allows("Housing-Models"));
        assert!(!config.allows("housing"));
        assert_eq!(config.stages.len(), 3);
        assert_eq!(config.state.uri(), "s3://bucket/promotion");
    }

    #[test]
    fn every_problem_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stages.yaml");
        std::fs::write(&file, "rmse_tolerance: 3\nstages: []\n").unwrap();
        let vars = HashMap::from([
            ("EXPECTED_ACCOUNT_ID", "12345".to_string()),
            ("SAGEMAKER_ROLE_ARN", "sm-role".to_string()),
            ("PROMOTION_STATE_S3_URI", "bucket/promotion".to_string()),
            ("STAGES_FILE", file.display().to_string()),
        ]);
        let text = PromoteConfig::from_lookup(lookup(&vars))
            .unwrap_err()
            .to_string();
        for expected in [
            "MODEL_PACKAGE_GROUPS is required",
            "EXPECTED_ACCOUNT_ID=\"12345\" is not a 12-digit",
            "AWS_REGION is required",
            "EVENT_BUS_NAME is required",
            "SAGEMAKER_ROLE_ARN=\"sm-role\" is not an IAM role ARN",
            "rmse_tolerance: 3",
            "stages: at least one stage",
            "DEAD_LETTER_QUEUE_URL is required",
            "PROMOTION_STATE_S3_URI=\"bucket/promotion\" is not an s3:// URI",
        ] {
            assert!(text.contains(expected), "missing {expected:?}: {text}");
        }
        let missing = HashMap::from([("STAGES_FILE", "/nonexistent/stages.yaml".to_string())]);
        let text = PromoteConfig::from_lookup(lookup(&missing))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("STAGES_FILE=/nonexistent/stages.yaml: cannot be read"),
            "{text}"
        );
        // The bundled stages capture requests: a destination is required.
        let text = PromoteConfig::from_lookup(lookup(&HashMap::new()))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("DATA_CAPTURE_S3_URI is required: stages pre-prod, prod"),
            "{text}"
        );
    }
}
