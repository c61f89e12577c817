//! Datasets: what names one ([`identity`]), where its files live ([`layout`])
//! and how its training channels are written ([`format`]).

pub mod format;
pub mod identity;
pub mod layout;

pub use format::{TrainParts, TrainingFormat};
pub use identity::{
    content_name, identify, is_content_name, sha256_hex, ContentHash, DatasetId, InputIdentity,
    Source, Tee,
};
pub use layout::{
    CompletionMarker, DatasetLayout, OutputKind, COMPLETION_MARKER, DEFAULT_PROCESSED_PREFIX,
    DRIFT_REPORT, MONITORING_PREFIX, REJECTION_REPORT, TRAINING_CLAIM,
};
