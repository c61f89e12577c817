//! What a deployment came from, recorded as tags on the SageMaker Model and
//! EndpointConfig that promote-model creates, and read back from the
//! EndpointConfig to know what a stage serves.

use super::package::Package;
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
/// On a shadow test's endpoint config: the candidate its shadow variant runs
/// (the lineage tags beside it are the serving model's).
pub const TAG_SHADOW_MODEL_PACKAGE_ARN: &str = "housing-mlops:shadow-model-package-arn";
/// Cost allocation (with [`TAG_STAGE`]): the stack that owns a resource, and
/// which part of the suite it is (`serving` for what promote-model creates).
/// The template's MonthlyBudget counts what carries the stack's tag.
pub const TAG_STACK: &str = "housing-mlops:stack";
pub const TAG_COMPONENT: &str = "housing-mlops:component";

/// Whether two ARNs name the same resource: SageMaker lower-cases names inside ARNs.
pub fn same_arn(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_are_valid_tag_values() {
        let lineage = Lineage::new(
            &Package::registered("housing-models", 3),
            "dev",
            Some("event#1"),
        );
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
