//! "SageMaker Endpoint State Change" (consumed) and the endpoint states of
//! both the events (`IN_SERVICE`) and the DescribeEndpoint API (`InService`).

use super::EpochMillis;
use serde::Deserialize;
use std::fmt;

pub const ENDPOINT_STATE_CHANGE: &str = "SageMaker Endpoint State Change";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointStateChange {
    pub endpoint_name: String,
    #[serde(default)]
    pub endpoint_arn: Option<String>,
    #[serde(default)]
    pub endpoint_config_name: Option<String>,
    pub endpoint_status: String,
    /// Epoch milliseconds as a float in the documented event.
    #[serde(default)]
    pub creation_time: Option<EpochMillis>,
    #[serde(default)]
    pub last_modified_time: Option<EpochMillis>,
}

impl EndpointStateChange {
    pub fn state(&self) -> EndpointState {
        EndpointState::parse(&self.endpoint_status)
    }
}

/// An endpoint's status, whichever casing it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointState {
    OutOfService,
    Creating,
    Updating,
    SystemUpdating,
    RollingBack,
    InService,
    Deleting,
    Failed,
    UpdateRollbackFailed,
    Other(String),
}

impl EndpointState {
    /// Whether an endpoint in this state answers requests (an update keeps
    /// serving the old configuration until it is done).
    pub fn answers(&self) -> bool {
        matches!(
            self,
            Self::InService
                | Self::Updating
                | Self::SystemUpdating
                | Self::RollingBack
                | Self::UpdateRollbackFailed
        )
    }

    /// `IN_SERVICE` (events) and `InService` (API) are the same state.
    pub fn parse(status: &str) -> Self {
        let folded: String = status
            .chars()
            .filter(|c| *c != '_' && *c != ' ')
            .flat_map(char::to_lowercase)
            .collect();
        match folded.as_str() {
            "outofservice" => Self::OutOfService,
            "creating" => Self::Creating,
            "updating" => Self::Updating,
            "systemupdating" => Self::SystemUpdating,
            "rollingback" => Self::RollingBack,
            "inservice" => Self::InService,
            "deleting" => Self::Deleting,
            "failed" => Self::Failed,
            "updaterollbackfailed" => Self::UpdateRollbackFailed,
            _ => Self::Other(status.to_string()),
        }
    }

    /// A deployment is under way: another one cannot start now, but can later.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Self::Creating | Self::Updating | Self::SystemUpdating | Self::RollingBack
        )
    }
}

impl fmt::Display for EndpointState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::OutOfService => "OutOfService",
            Self::Creating => "Creating",
            Self::Updating => "Updating",
            Self::SystemUpdating => "SystemUpdating",
            Self::RollingBack => "RollingBack",
            Self::InService => "InService",
            Self::Deleting => "Deleting",
            Self::Failed => "Failed",
            Self::UpdateRollbackFailed => "UpdateRollbackFailed",
            Self::Other(s) => s,
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_and_api_casings_are_the_same_state() {
        for (event, api, state) in [
            ("IN_SERVICE", "InService", EndpointState::InService),
            ("ROLLING_BACK", "RollingBack", EndpointState::RollingBack),
            (
                "UPDATE_ROLLBACK_FAILED",
                "UpdateRollbackFailed",
                EndpointState::UpdateRollbackFailed,
            ),
            (
                "SYSTEM_UPDATING",
                "SystemUpdating",
                EndpointState::SystemUpdating,
            ),
        ] {
            assert_eq!(EndpointState::parse(event), state);
            assert_eq!(EndpointState::parse(api), state);
            assert_eq!(state.to_string(), api);
        }
        assert_eq!(
            EndpointState::parse("Sleeping"),
            EndpointState::Other("Sleeping".into())
        );
        assert!(EndpointState::parse("UPDATING").is_busy());
        assert!(!EndpointState::parse("FAILED").is_busy());
    }
}
