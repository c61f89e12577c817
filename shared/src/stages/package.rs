//! A registry version (model package) and what the training pipeline recorded
//! about it: the metadata keys its RegisterModel step writes and everything
//! that knows what a stage serves reads.

/// Model package metadata keys (`CustomerMetadataProperties`): written by the
/// pipeline's RegisterModel step, read with the package.
pub const METADATA_DATASET_ID: &str = "dataset_id";
pub const METADATA_VALIDATION_RMSE: &str = "validation_rmse";
pub const METADATA_TEST_RMSE: &str = "test_rmse";
pub const METADATA_EXECUTION_ARN: &str = "pipeline_execution_arn";

/// `arn:…:model-package/<group>/<version>` → (group, version): a package ARN
/// names its group and version, whatever a record next to it claims.
pub fn group_and_version(arn: &str) -> Option<(&str, u32)> {
    let path = arn.split_once(":model-package/")?.1;
    let (group, version) = path.rsplit_once('/')?;
    Some((group, version.parse().ok()?))
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

impl Package {
    /// Version `version` of `group`, approved, with no metadata (for tests).
    #[cfg(test)]
    pub fn approved(group: &str, version: u32) -> Package {
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

    /// Version `version` of `group`, approved, with the metadata the pipeline
    /// records (for tests).
    #[cfg(test)]
    pub fn registered(group: &str, version: u32) -> Package {
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
}

#[cfg(test)]
mod tests {
    use super::group_and_version;

    #[test]
    fn a_package_arn_names_its_group_and_version() {
        assert_eq!(
            group_and_version("arn:aws:sagemaker:us-east-1:123456789012:model-package/g-1/12"),
            Some(("g-1", 12))
        );
        assert_eq!(
            group_and_version("arn:aws:sagemaker:us-east-1:1:model-package/g"),
            None
        );
        assert_eq!(
            group_and_version("arn:aws:sagemaker:us-east-1:1:model/g/1"),
            None
        );
        assert_eq!(
            group_and_version("arn:aws:sagemaker:us-east-1:1:model-package/g/x"),
            None
        );
    }
}
