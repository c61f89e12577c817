//! The stack's CloudFormation outputs that tools outside the functions read (the operators'
//! command finds the stack's resources by them; the local stack publishes the same). The
//! template's `Outputs` section has each (`tests/tests/infra_template.rs`).

/// The bucket raw CSV files are uploaded to.
pub const RAW_BUCKET: &str = "RawBucketName";
/// The bucket of datasets, drift reports, captures and the promotion records.
pub const PROCESSED_BUCKET: &str = "ProcessedBucketName";
/// The suite's event bus, where operators send `PromoteModel`.
pub const EVENT_BUS: &str = "EventBusName";
/// The registry's model package group.
pub const MODEL_PACKAGE_GROUP: &str = "ModelPackageGroupName";
/// Where promote-model keeps each stage's desired-state record (`PROMOTION_STATE_S3_URI`).
pub const PROMOTION_STATE_URI: &str = "PromotionStateUri";

/// Every output above.
pub const ALL: [&str; 5] = [
    RAW_BUCKET,
    PROCESSED_BUCKET,
    EVENT_BUS,
    MODEL_PACKAGE_GROUP,
    PROMOTION_STATE_URI,
];
