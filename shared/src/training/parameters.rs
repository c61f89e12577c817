//! The pipeline's parameters: one definition, read by the definition generator
//! and by the trigger, so the names cannot drift apart.

/// A pipeline parameter's type, as SageMaker names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ParameterType {
    String,
    Integer,
    Float,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    pub name: &'static str,
    pub kind: ParameterType,
    /// The default in the definition; the trigger overrides the per-dataset ones.
    pub default: &'static str,
}

pub const DATASET_ID: &str = "DatasetId";
pub const TRAIN_DATA: &str = "TrainDataUri";
pub const VALIDATION_DATA: &str = "ValidationDataUri";
pub const TEST_DATA: &str = "TestDataUri";
/// The train and validation channels' `ContentType`: `text/csv` or `application/x-parquet`.
pub const TRAINING_CONTENT_TYPE: &str = "TrainingContentType";
pub const INSTANCE_TYPE: &str = "TrainingInstanceType";
/// [`INSTANCE_TYPE`]'s default: the instance a training run gets unless told.
pub const DEFAULT_TRAINING_INSTANCE_TYPE: &str = "ml.m5.large";
pub const MAX_DEPTH: &str = "MaxDepth";
pub const ETA: &str = "Eta";
pub const NUM_ROUND: &str = "NumRound";
pub const SUBSAMPLE: &str = "Subsample";
pub const RMSE_THRESHOLD: &str = "RmseThreshold";

/// Every parameter of the pipeline, in definition order.
pub const PARAMETERS: [Parameter; 11] = [
    Parameter {
        name: DATASET_ID,
        kind: ParameterType::String,
        default: "unset",
    },
    Parameter {
        name: TRAIN_DATA,
        kind: ParameterType::String,
        default: "s3://unset/train.csv",
    },
    Parameter {
        name: VALIDATION_DATA,
        kind: ParameterType::String,
        default: "s3://unset/validation.csv",
    },
    Parameter {
        name: TEST_DATA,
        kind: ParameterType::String,
        default: "s3://unset/test.csv",
    },
    Parameter {
        name: TRAINING_CONTENT_TYPE,
        kind: ParameterType::String,
        default: "text/csv",
    },
    Parameter {
        name: INSTANCE_TYPE,
        kind: ParameterType::String,
        default: DEFAULT_TRAINING_INSTANCE_TYPE,
    },
    Parameter {
        name: MAX_DEPTH,
        kind: ParameterType::Integer,
        default: "6",
    },
    Parameter {
        name: ETA,
        kind: ParameterType::Float,
        default: "0.2",
    },
    Parameter {
        name: NUM_ROUND,
        kind: ParameterType::Integer,
        default: "200",
    },
    Parameter {
        name: SUBSAMPLE,
        kind: ParameterType::Float,
        default: "0.8",
    },
    // In dollars: the target is the median house value.
    Parameter {
        name: RMSE_THRESHOLD,
        kind: ParameterType::Float,
        default: "60000",
    },
];

/// The parameters the trigger sets for each dataset.
pub const PER_DATASET: [&str; 5] = [
    DATASET_ID,
    TRAIN_DATA,
    VALIDATION_DATA,
    TEST_DATA,
    TRAINING_CONTENT_TYPE,
];
