//! The pipeline's parameters: one definition, read by the definition generator
//! and by the trigger, so the names cannot drift apart.

/// A pipeline parameter's type, as SageMaker names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ParameterType {
    String,
    Integer,
    Float,
    Boolean,
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
/// Managed spot training (on by default): the pipeline's branch for spot
/// capacity, with its max wait and checkpoints, or the one for on-demand.
pub const USE_SPOT_INSTANCES: &str = "UseSpotInstances";
/// Training instances. Above 1 the train channel is sharded by object
/// (`ShardedByS3Key`): the trigger never asks for more instances than the
/// dataset has train parts.
pub const INSTANCE_COUNT: &str = "TrainingInstanceCount";
pub const MAX_DEPTH: &str = "MaxDepth";
pub const ETA: &str = "Eta";
pub const NUM_ROUND: &str = "NumRound";
pub const SUBSAMPLE: &str = "Subsample";
pub const RMSE_THRESHOLD: &str = "RmseThreshold";

/// Every parameter of the pipeline, in definition order.
pub const PARAMETERS: [Parameter; 13] = [
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
        name: INSTANCE_COUNT,
        kind: ParameterType::Integer,
        default: "1",
    },
    Parameter {
        name: USE_SPOT_INSTANCES,
        kind: ParameterType::Boolean,
        default: "true",
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
pub const PER_DATASET: [&str; 6] = [
    DATASET_ID,
    TRAIN_DATA,
    VALIDATION_DATA,
    TEST_DATA,
    TRAINING_CONTENT_TYPE,
    INSTANCE_COUNT,
];

/// A parameter's declared default.
pub fn default_of(name: &str) -> Option<&'static str> {
    PARAMETERS
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.default)
}

/// [`INSTANCE_COUNT`]'s default, as a number.
pub fn default_instance_count() -> u32 {
    default_of(INSTANCE_COUNT)
        .and_then(|d| d.parse().ok())
        .expect("TrainingInstanceCount's default is a whole number")
}
