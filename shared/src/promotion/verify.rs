//! A desired-state record is checked again before anything is deployed from
//! it: S3 is not a trusted channel. A record written by hand (or by anything
//! but promote-model) must not walk around the bus policy and the manual gates,
//! so converging refuses a record that promote-model could not have written:
//!
//! - its `stage` is not the stage whose key it is under;
//! - its group is not on `MODEL_PACKAGE_GROUPS`;
//! - its ARN is not version `model_package_version` of `model_package_group`;
//! - its stage has a manual gate, and it is not a `PromoteModel`'s, or the stage
//!   before does not serve the package InService (unless the stage already
//!   serves it, or is deploying it).
//!
//! A refused record is halted with reason `Unverified` and the problem; a new
//! approval or `PromoteModel` replaces it.

use super::desired::{Cause, Read};
use super::names;
use super::promoter::PromotionService;
use crate::error::Error;
use crate::stages::{self, group_and_version, Package};

impl PromotionService {
    /// What makes the record under stage `index`'s key one promote-model could
    /// not have written, before the registry is asked; `None` when nothing.
    pub(super) fn record_problem(&self, index: usize, read: &Read) -> Option<String> {
        let stage = &self.config.stages.at(index).name;
        let desired = &read.desired;
        let at = self.desired.location(&read.stage).uri();
        if desired.stage != *stage {
            return Some(format!("{at} names stage {:?}", desired.stage));
        }
        if !self.config.allows(&desired.model_package_group) {
            return Some(format!(
                "{at} names group {}, which is not on MODEL_PACKAGE_GROUPS",
                desired.model_package_group
            ));
        }
        match group_and_version(&desired.model_package_arn) {
            Some((group, version))
                if group.eq_ignore_ascii_case(&desired.model_package_group)
                    && version == desired.model_package_version => {}
            _ => {
                return Some(format!(
                    "{at}: {} is not version {} of {}",
                    desired.model_package_arn,
                    desired.model_package_version,
                    desired.model_package_group
                ))
            }
        }
        None
    }

    /// For a stage with a manual gate: why `package` may not be deployed there
    /// from this record; `None` when it may.
    pub(super) async fn gate_problem(
        &self,
        index: usize,
        read: &Read,
        package: &Package,
        own: Option<&stages::Serving>,
    ) -> Result<Option<String>, Error> {
        let stage = self.config.stages.at(index);
        if !stage.manual_gate {
            return Ok(None);
        }
        // A rollback is held to its own rule instead (`withdraw.rs`).
        if !matches!(read.desired.cause, Cause::Promote | Cause::Rollback) {
            return Ok(Some(format!(
                "{} has a manual gate: only a PromoteModel reaches it",
                stage.name
            )));
        }
        // Already there, or on its way there: nothing new would be deployed.
        let config = names::endpoint_config_name(package, stage, self.config.data_capture.as_ref());
        if let Some(own) = own {
            if own.is_of(&package.arn) || own.pending_config.as_deref() == Some(config.as_str()) {
                return Ok(None);
            }
        }
        // A manual gate is never on the first stage (validated with the stages).
        let previous = self.config.stages.at(index - 1);
        let serving = stages::serving(&self.sagemaker, &previous.endpoint).await?;
        let serves_it = serving.as_ref().is_some_and(|s| s.serves(&package.arn));
        Ok((!serves_it).then(|| {
            format!(
                "{} v{} is not InService on {}, the stage before {}'s manual gate",
                package.group, package.version, previous.name, stage.name
            )
        }))
    }
}
