//! Datasets: what names one ([`identity`]) and where its files live ([`layout`]).

pub mod identity;
pub mod layout;

pub use identity::{identify, sha256_hex, ContentHash, DatasetId, InputIdentity, Source, Tee};
pub use layout::{
    CompletionMarker, DatasetLayout, OutputKind, TrainParts, TrainingFormat, COMPLETION_MARKER,
    DEFAULT_PROCESSED_PREFIX, DRIFT_REPORT, MONITORING_PREFIX, REJECTION_REPORT, TRAINING_CLAIM,
};
