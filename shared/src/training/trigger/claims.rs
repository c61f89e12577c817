//! The claim: an S3 object next to the dataset, the record of what the
//! trigger decided for it (see the module docs of [`super`]).

use super::{TriggerOutcome, TriggerService};
use crate::aws::{s3, S3Location};
use crate::dataset::DatasetId;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The claim's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Claim {
    Claimed {
        dataset_id: DatasetId,
        claimed_at_ms: u64,
    },
    Started {
        dataset_id: DatasetId,
        execution_arn: String,
        parameters: BTreeMap<String, String>,
    },
    Refused {
        dataset_id: DatasetId,
        reasons: Vec<String>,
    },
    Skipped {
        dataset_id: DatasetId,
        reason: String,
    },
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A dataset whose training started or was refused: a duplicate delivery,
/// nothing to do. `None` for a claim still being acted on.
pub(super) fn settled(id: &DatasetId, claim: &Claim) -> Option<TriggerOutcome> {
    match claim {
        Claim::Started { execution_arn, .. } => {
            tracing::info!(%execution_arn, "duplicate delivery: the dataset's execution already exists, nothing to do");
            Some(TriggerOutcome::AlreadyStarted {
                dataset_id: id.clone(),
                execution_arn: execution_arn.clone(),
            })
        }
        Claim::Refused { .. } => {
            tracing::info!("duplicate delivery: the dataset was already refused, nothing to do");
            Some(TriggerOutcome::AlreadyRefused {
                dataset_id: id.clone(),
            })
        }
        Claim::Skipped { .. } => {
            tracing::info!("duplicate delivery: retrain_on already kept the dataset from training, nothing to do");
            Some(TriggerOutcome::AlreadySkipped {
                dataset_id: id.clone(),
            })
        }
        Claim::Claimed { .. } => None,
    }
}

impl TriggerService {
    /// The claim, or `None` when the dataset is unclaimed (one GET, no HEAD first).
    pub(super) async fn read_claim(&self, marker: &S3Location) -> Result<Option<Claim>, Error> {
        let Some((bytes, _)) = s3::read(&self.s3, marker).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Internal(format!("unreadable claim {}: {e}", marker.uri())))
    }

    pub(super) async fn write_claim(
        &self,
        marker: &S3Location,
        claim: &Claim,
        only_if_absent: bool,
    ) -> Result<bool, Error> {
        let body = serde_json::to_vec_pretty(claim).map_err(|e| Error::Internal(e.to_string()))?;
        if only_if_absent {
            Ok(s3::put_if_absent(&self.s3, marker, body, "application/json").await?)
        } else {
            s3::put(&self.s3, marker, body, "application/json").await?;
            Ok(true)
        }
    }
}
