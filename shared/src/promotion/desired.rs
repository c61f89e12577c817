//! What each stage should serve: one record per stage, an S3 object at
//! `<PROMOTION_STATE_S3_URI>/stages/<stage>.json`.
//!
//! Every request (an approval, a `PromoteModel`, a package moving on by
//! itself) first becomes the stage's record; then the stage *converges*: its
//! endpoint is deployed to the record's package if it serves something else
//! and can take a deployment now. An endpoint mid-deployment is not a failure:
//! the record waits, and the stage converges again when its endpoint reports
//! `IN_SERVICE`, and on the scheduled tick. So no request is lost to a busy
//! endpoint, and none lands in the dead-letter queue for it.
//!
//! Records are written with S3 conditional writes (`If-None-Match: *` for the
//! first, `If-Match` on the ETag read for the rest): two requests racing for a
//! stage never overwrite each other unseen; the loser reads again and decides
//! anew. An automatic request never replaces a newer version of the same group
//! ([`replaces`]); a person's `PromoteModel` replaces the record, and re-arms a
//! halted one.
//!
//! A record is `pending` until a deployment of it starts, then `deploying`
//! (with the endpoint config); on a stage with a shadow test it is first
//! `shadowing` (with the shadow config and its start). It is `halted` when the deployment is refused
//! (quality gate, downgrade), rolled back, failed, or the package is no longer
//! approved: the stage then stays as it is until a new request, instead of
//! redeploying a model its alarms rejected.

use crate::aws::s3::{self, Precondition};
use crate::aws::S3Location;
use crate::error::Error;
use crate::stages::{group_and_version, same_arn, Package};
use serde::{Deserialize, Serialize};

/// What asked for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A registry approval: the group's latest approved version, first stage.
    Approval,
    /// A person's `PromoteModel`.
    Promote,
    /// The previous stage serves it InService and this stage has no manual gate.
    Advance,
    /// The stage served a package the registry withdrew (rejected after it was
    /// deployed): this is the newest approved version of the group before it.
    Rollback,
}

/// Where a record stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// To be deployed as soon as the endpoint can take it.
    Pending,
    /// The stage has a shadow test: the candidate runs beside the serving
    /// model on this endpoint config (its shadow variant) since
    /// `started_at_ms`, judged once the stage's `shadow.duration_seconds` have
    /// passed (`promotion::shadowing`).
    Shadowing {
        endpoint_config: String,
        started_at_ms: i64,
    },
    /// A deployment to this endpoint config has started.
    Deploying {
        endpoint_config: String,
        started_at_ms: i64,
    },
    /// Not retried until a new request: refused, rolled back, failed, or withdrawn.
    Halted {
        reason: String,
        message: String,
        at_ms: i64,
    },
}

/// A stage's desired state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    pub stage: String,
    pub model_package_arn: String,
    pub model_package_group: String,
    pub model_package_version: u32,
    pub cause: Cause,
    pub requested_by: Option<String>,
    pub source_event_id: Option<String>,
    pub recorded_at_ms: i64,
    pub status: Status,
}

impl Desired {
    pub fn new(
        stage: &str,
        package: &Package,
        cause: Cause,
        requested_by: Option<&str>,
        source_event_id: Option<&str>,
    ) -> Self {
        Desired {
            stage: stage.to_string(),
            model_package_arn: package.arn.clone(),
            model_package_group: package.group.clone(),
            model_package_version: package.version,
            cause,
            requested_by: requested_by.map(str::to_string),
            source_event_id: source_event_id.map(str::to_string),
            recorded_at_ms: now_ms(),
            status: Status::Pending,
        }
    }

    pub fn is_halted(&self) -> bool {
        matches!(self.status, Status::Halted { .. })
    }

    /// The endpoint config a deployment of this record started, if one did.
    pub fn started(&self) -> Option<&str> {
        match &self.status {
            Status::Deploying {
                endpoint_config, ..
            } => Some(endpoint_config),
            _ => None,
        }
    }

    pub fn names(&self, package: &Package) -> bool {
        same_arn(&self.model_package_arn, &package.arn)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Whether a request for `candidate` replaces the stage's record `current`.
/// `explicit`: a person asked (`PromoteModel`). The record's group and version
/// are read from its ARN, not from its (editable) fields; a record whose ARN
/// names no package version replaces nothing it could stand for. (A record
/// whose package no longer exists is replaceable too: the caller asks the
/// registry, `converge.rs`.)
pub fn replaces(current: Option<&Desired>, candidate: &Package, explicit: bool) -> bool {
    let Some(current) = current else {
        return true;
    };
    if current.names(candidate) {
        // The same package again: only a person re-arms a halted record.
        return explicit && current.is_halted();
    }
    let Some((group, version)) = group_and_version(&current.model_package_arn) else {
        return true;
    };
    let same_group = group.eq_ignore_ascii_case(&candidate.group);
    explicit || !same_group || candidate.version > version
}

/// The records' home: `root` is `PROMOTION_STATE_S3_URI`.
#[derive(Debug, Clone)]
pub struct DesiredStates {
    pub s3: aws_sdk_s3::Client,
    pub root: S3Location,
}

/// A record as read, with the ETag a conditional write replaces it on.
#[derive(Debug, Clone)]
pub struct Read {
    /// The stage whose key it was read from (a record's own `stage` field may
    /// say otherwise: it is checked, never trusted for where to write).
    pub stage: String,
    pub desired: Desired,
    pub etag: String,
}

impl DesiredStates {
    pub fn location(&self, stage: &str) -> S3Location {
        let prefix = self.root.key.trim_end_matches('/');
        let key = if prefix.is_empty() {
            format!("stages/{stage}.json")
        } else {
            format!("{prefix}/stages/{stage}.json")
        };
        S3Location {
            bucket: self.root.bucket.clone(),
            key,
        }
    }

    /// The stage's record, if it has one.
    pub async fn read(&self, stage: &str) -> Result<Option<Read>, Error> {
        let at = self.location(stage);
        let Some((bytes, etag)) = s3::read(&self.s3, &at).await? else {
            return Ok(None);
        };
        let desired = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Internal(format!(
                "{}: not a desired-state record ({e}); delete it and send the request again",
                at.uri()
            ))
        })?;
        Ok(Some(Read {
            stage: stage.to_string(),
            desired,
            etag,
        }))
    }

    /// Writes `desired` as the record of the stage `over` was read from, over
    /// it (`None`: there was none, and the record is `desired.stage`'s).
    /// `false` when another writer changed it meanwhile.
    pub async fn write(&self, desired: &Desired, over: Option<&Read>) -> Result<bool, Error> {
        let at = self.location(over.map_or(&desired.stage, |r| &r.stage));
        let bytes = serde_json::to_vec_pretty(desired)
            .map_err(|e| Error::Internal(format!("serialising {}: {e}", at.uri())))?;
        let precondition = match over {
            None => Precondition::Absent,
            Some(read) => Precondition::Matches(&read.etag),
        };
        Ok(s3::put_if(&self.s3, &at, bytes, "application/json", precondition).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(group: &str, version: u32) -> Package {
        Package::approved(group, version)
    }

    fn record(group: &str, version: u32, status: Status) -> Desired {
        Desired {
            status,
            ..Desired::new("dev", &package(group, version), Cause::Approval, None, None)
        }
    }

    fn halted() -> Status {
        Status::Halted {
            reason: "RolledBack".into(),
            message: "alarm".into(),
            at_ms: 1,
        }
    }

    #[test]
    fn a_stage_without_a_record_takes_any_request() {
        assert!(replaces(None, &package("g", 1), false));
        assert!(replaces(None, &package("g", 1), true));
    }

    #[test]
    fn automatic_requests_only_move_a_group_forward() {
        let v3 = record("g", 3, Status::Pending);
        assert!(replaces(Some(&v3), &package("g", 4), false));
        assert!(!replaces(Some(&v3), &package("g", 2), false));
        assert!(!replaces(Some(&v3), &package("g", 3), false));
        // Another group is another lineage: no version order between them.
        assert!(replaces(Some(&v3), &package("other", 1), false));
        // Group names compare without case, as SageMaker's ARNs do.
        assert!(!replaces(Some(&v3), &package("G", 2), false));
    }

    /// The version is the ARN's: a record claiming v99 of a v3 ARN does not
    /// hold back v4, and a record whose ARN names no version holds back nothing.
    #[test]
    fn a_records_version_is_read_from_its_arn() {
        let mut claims_more = record("g", 3, Status::Pending);
        claims_more.model_package_version = 99;
        assert!(replaces(Some(&claims_more), &package("g", 4), false));
        let mut no_version = record("g", 3, Status::Pending);
        no_version.model_package_arn = "arn:aws:sagemaker:us-east-1:1:model-package/g".into();
        assert!(replaces(Some(&no_version), &package("g", 1), false));
    }

    #[test]
    fn a_person_replaces_the_record_and_re_arms_a_halted_one() {
        let v3 = record("g", 3, Status::Pending);
        assert!(replaces(Some(&v3), &package("g", 2), true));
        assert!(
            !replaces(Some(&v3), &package("g", 3), true),
            "same request again: no-op"
        );
        let stopped = record("g", 3, halted());
        assert!(replaces(Some(&stopped), &package("g", 3), true));
        assert!(
            !replaces(Some(&stopped), &package("g", 3), false),
            "a redelivered approval never redeploys what was rolled back"
        );
        assert!(replaces(Some(&stopped), &package("g", 4), false));
    }

    #[test]
    fn records_round_trip_as_json_with_their_state() {
        let mut r = record("g", 3, halted());
        r.requested_by = Some("alice".into());
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(r#""state":"halted""#), "{text}");
        assert!(text.contains(r#""cause":"approval""#), "{text}");
        assert_eq!(serde_json::from_str::<Desired>(&text).unwrap(), r);
        let deploying = record(
            "g",
            3,
            Status::Deploying {
                endpoint_config: "c".into(),
                started_at_ms: 2,
            },
        );
        assert_eq!(deploying.started(), Some("c"));
        assert_eq!(record("g", 3, Status::Pending).started(), None);
    }

    #[test]
    fn each_stage_has_its_own_key_under_the_root() {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .build();
        let states = |key: &str| DesiredStates {
            s3: aws_sdk_s3::Client::from_conf(conf.clone()),
            root: S3Location {
                bucket: "b".into(),
                key: key.into(),
            },
        };
        assert_eq!(
            states("promotion/").location("pre-prod").uri(),
            "s3://b/promotion/stages/pre-prod.json"
        );
        assert_eq!(states("").location("dev").uri(), "s3://b/stages/dev.json");
    }
}
