//! What a deployment came from, recorded as tags on the SageMaker Model and
//! EndpointConfig (and read back from the EndpointConfig to know what a stage
//! serves), and the deterministic names of what promote-model creates.

use super::config::DataCapture;
use super::stages::{Stage, MAX_NAME_LEN};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const TAG_MODEL_PACKAGE_ARN: &str = "housing-mlops:model-package-arn";
pub const TAG_MODEL_PACKAGE_GROUP: &str = "housing-mlops:model-package-group";
pub const TAG_MODEL_PACKAGE_VERSION: &str = "housing-mlops:model-package-version";
pub const TAG_DATASET_ID: &str = "housing-mlops:dataset-id";
pub const TAG_VALIDATION_RMSE: &str = "housing-mlops:validation-rmse";
pub const TAG_TEST_RMSE: &str = "housing-mlops:test-rmse";
pub const TAG_PIPELINE_EXECUTION_ARN: &str = "housing-mlops:pipeline-execution-arn";
pub const TAG_SOURCE_EVENT_ID: &str = "housing-mlops:source-event-id";
pub const TAG_STAGE: &str = "housing-mlops:stage";

/// Whether two ARNs name the same resource: SageMaker lower-cases names inside ARNs.
pub fn same_arn(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A registry version and what the training pipeline recorded about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub arn: String,
    pub group: String,
    pub version: u32,
    pub approval: String,
    pub dataset_id: Option<String>,
    pub validation_rmse: Option<f64>,
    /// The evaluation step's RMSE on the test split (packages registered
    /// before it existed have none).
    pub test_rmse: Option<f64>,
    pub pipeline_execution_arn: Option<String>,
}

#[cfg(test)]
impl Package {
    /// Version `version` of `group`, approved, with no metadata (unit tests).
    pub(crate) fn approved(group: &str, version: u32) -> Package {
        Package {
            arn: format!(
                "arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{version}"
            ),
            group: group.into(),
            version,
            approval: "Approved".into(),
            dataset_id: None,
            validation_rmse: None,
            test_rmse: None,
            pipeline_execution_arn: None,
        }
    }
}

/// The lineage of a deployment to a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Lineage {
    pub model_package_arn: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    pub dataset_id: Option<String>,
    pub validation_rmse: Option<f64>,
    pub test_rmse: Option<f64>,
    pub pipeline_execution_arn: Option<String>,
    pub source_event_id: Option<String>,
    pub stage: String,
}

/// Tag values: at most 256 characters of letters, digits, spaces and `_.:/=+-@`.
fn tag_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

impl Lineage {
    pub fn new(package: &Package, stage: &str, source_event_id: Option<&str>) -> Self {
        Lineage {
            model_package_arn: package.arn.clone(),
            model_package_group: package.group.clone(),
            model_package_version: package.version,
            dataset_id: package.dataset_id.clone(),
            validation_rmse: package.validation_rmse,
            test_rmse: package.test_rmse,
            pipeline_execution_arn: package.pipeline_execution_arn.clone(),
            source_event_id: source_event_id.map(str::to_string),
            stage: stage.to_string(),
        }
    }

    /// As tags, in a stable order; absent values are left out.
    pub fn tags(&self) -> Vec<(&'static str, String)> {
        let mut tags = vec![
            (TAG_MODEL_PACKAGE_ARN, self.model_package_arn.clone()),
            (TAG_MODEL_PACKAGE_GROUP, self.model_package_group.clone()),
            (
                TAG_MODEL_PACKAGE_VERSION,
                self.model_package_version.to_string(),
            ),
            (TAG_STAGE, self.stage.clone()),
        ];
        let optional = [
            (TAG_DATASET_ID, self.dataset_id.clone()),
            (
                TAG_VALIDATION_RMSE,
                self.validation_rmse.map(|r| r.to_string()),
            ),
            (TAG_TEST_RMSE, self.test_rmse.map(|r| r.to_string())),
            (
                TAG_PIPELINE_EXECUTION_ARN,
                self.pipeline_execution_arn.clone(),
            ),
            (TAG_SOURCE_EVENT_ID, self.source_event_id.clone()),
        ];
        tags.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        tags.into_iter().map(|(k, v)| (k, tag_value(&v))).collect()
    }

    /// Read back from tags; `None` when they do not name a package (a resource
    /// promote-model did not create).
    pub fn from_tags(tags: &HashMap<String, String>) -> Option<Self> {
        let get = |k: &str| tags.get(k).cloned();
        Some(Lineage {
            model_package_arn: get(TAG_MODEL_PACKAGE_ARN)?,
            model_package_group: get(TAG_MODEL_PACKAGE_GROUP)?,
            model_package_version: get(TAG_MODEL_PACKAGE_VERSION)?.parse().ok()?,
            dataset_id: get(TAG_DATASET_ID),
            validation_rmse: get(TAG_VALIDATION_RMSE).and_then(|r| r.parse().ok()),
            test_rmse: get(TAG_TEST_RMSE).and_then(|r| r.parse().ok()),
            pipeline_execution_arn: get(TAG_PIPELINE_EXECUTION_ARN),
            source_event_id: get(TAG_SOURCE_EVENT_ID),
            stage: get(TAG_STAGE).unwrap_or_default(),
        })
    }
}

fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..4])
}

/// `base` + `suffix`, `base` shortened so the whole fits SageMaker's 63 characters.
fn fit(base: &str, suffix: &str) -> String {
    let room = MAX_NAME_LEN.saturating_sub(suffix.len());
    let base = base[..base.len().min(room)].trim_end_matches('-');
    format!("{base}{suffix}")
}

/// The SageMaker Model of a package version: `<group>-v<version>` (shortened
/// with a hash of the group when too long). One per package, shared by stages.
pub fn model_name(package: &Package) -> String {
    let plain = format!("{}-v{}", package.group, package.version);
    if plain.len() <= MAX_NAME_LEN {
        plain
    } else {
        fit(
            &package.group,
            &format!("-{}-v{}", short_hash(&[&package.group]), package.version),
        )
    }
}

/// The EndpointConfig of a package version on a stage:
/// `<endpoint>-v<version>-<hash>`, the hash over the package and every stage
/// setting the config holds, so the same package with the same settings always
/// names the same config (a re-delivery finds it), and a settings change makes a new one.
pub fn endpoint_config_name(
    package: &Package,
    stage: &Stage,
    capture: Option<&DataCapture>,
) -> String {
    let count = stage.instance_count.to_string();
    let percent = stage.data_capture_percent.to_string();
    let mut settings = vec![
        package.arn.as_str(),
        &stage.variant,
        &stage.instance_type,
        &count,
        &percent,
        capture.map_or("", |c| c.uri.as_str()),
    ];
    // Only when there is one, so the names of configs without a key stay as they were.
    if let Some(key) = capture.and_then(|c| c.kms_key_arn.as_deref()) {
        settings.push(key);
    }
    let hash = short_hash(&settings);
    fit(&stage.endpoint, &format!("-v{}-{hash}", package.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promotion::stages::{Stages, BUNDLED};

    fn package(group: &str, version: u32) -> Package {
        Package {
            dataset_id: Some("ds-0123".into()),
            validation_rmse: Some(0.4712),
            test_rmse: Some(0.4655),
            pipeline_execution_arn: Some(
                "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc".into(),
            ),
            ..Package::approved(group, version)
        }
    }

    #[test]
    fn names_are_deterministic_valid_and_change_with_the_settings() {
        let stages = Stages::parse(BUNDLED).unwrap();
        let dev = stages.first().clone();
        let p = package("housing-models", 3);
        assert_eq!(model_name(&p), "housing-models-v3");
        let capture = DataCapture {
            uri: "s3://b/capture".into(),
            kms_key_arn: None,
        };
        let name = endpoint_config_name(&p, &dev, Some(&capture));
        assert!(name.starts_with("housing-mlops-dev-v3-"), "{name}");
        assert_eq!(name, endpoint_config_name(&p, &dev, Some(&capture)));
        let mut bigger = dev.clone();
        bigger.instance_count += 1;
        assert_ne!(name, endpoint_config_name(&p, &bigger, Some(&capture)));
        assert_ne!(
            name,
            endpoint_config_name(&package("housing-models", 4), &dev, Some(&capture))
        );
        // Another capture key is another config.
        let keyed = DataCapture {
            kms_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            ..capture.clone()
        };
        assert_ne!(name, endpoint_config_name(&p, &dev, Some(&keyed)));

        let long = package(&"g".repeat(63), 12345);
        let mut long_stage = dev;
        long_stage.endpoint = "e".repeat(63);
        for name in [
            model_name(&long),
            endpoint_config_name(&long, &long_stage, None),
        ] {
            assert!(
                crate::promotion::stages::is_valid_sagemaker_name(&name),
                "{name}"
            );
            assert!(
                name.ends_with("-v12345") || name.contains("-v12345-"),
                "{name}"
            );
        }
    }

    #[test]
    fn tags_round_trip_and_are_valid_tag_values() {
        let lineage = Lineage::new(&package("housing-models", 3), "dev", Some("event#1"));
        let tags = lineage.tags();
        let map: HashMap<String, String> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert_eq!(
            map[TAG_SOURCE_EVENT_ID], "event_1",
            "'#' is not allowed in tag values"
        );
        let back = Lineage::from_tags(&map).unwrap();
        assert_eq!(back.model_package_version, 3);
        assert_eq!(back.validation_rmse, Some(0.4712));
        assert_eq!(back.dataset_id.as_deref(), Some("ds-0123"));
        assert!(Lineage::from_tags(&HashMap::new()).is_none());
    }
}
