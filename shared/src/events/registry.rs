//! "SageMaker Model Package State Change": a model registry version was
//! created or its approval changed (PascalCase detail, as SageMaker sends it).

use super::{number_or_string, EpochMillis};
use serde::Deserialize;

pub const MODEL_PACKAGE_STATE_CHANGE: &str = "SageMaker Model Package State Change";
/// The approval status that starts a deployment.
pub const APPROVED: &str = "Approved";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelPackageStateChange {
    pub model_package_group_name: String,
    /// A number in the documented events; some hand-written examples use a string.
    #[serde(deserialize_with = "number_or_string")]
    pub model_package_version: u32,
    pub model_package_arn: String,
    pub model_approval_status: String,
    #[serde(default)]
    pub model_package_status: Option<String>,
    /// ISO-8601 in the documentation, epoch milliseconds in captured events.
    #[serde(default)]
    pub creation_time: Option<EpochMillis>,
    #[serde(default)]
    pub last_modified_time: Option<EpochMillis>,
}

impl ModelPackageStateChange {
    pub fn is_approved(&self) -> bool {
        self.model_approval_status == APPROVED
    }
}
