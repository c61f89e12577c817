//! The SageMaker Model Building Pipeline, as typed Rust serialised to the
//! pipeline definition JSON (schema version 2020-12-01):
//!
//! 0. `ChooseTrainingCapacity`: `UseSpotInstances` (on by default) picks one of
//!    two branches, the same steps but for the training job's capacity, each
//!    step named with its branch (`TrainModelSpot`, `TrainModelOnDemand`, ...).
//!    Two branches because SageMaker refuses `MaxWaitTimeInSeconds` on a job
//!    that is not managed spot ("Invalid MaxWaitTimeInSeconds. It is only
//!    supported when EnableManagedSpotTraining is set to true"), and a
//!    parameter can set a value but not leave a field out;
//! 1. `TrainModel…`: SageMaker's built-in XGBoost on the ETL's channels,
//!    `TrainingInstanceCount` instances (the train channel `ShardedByS3Key`, so
//!    each instance reads its own part files). On spot: `MaxWaitTimeInSeconds`
//!    above the runtime limit and checkpoints under the dataset's model folder,
//!    one folder per execution, so an interrupted job resumes from its own;
//! 2. `EvaluateModel…`: a Processing step on the same image running
//!    `pipeline/evaluate.py` (uploaded content-addressed, see [`evaluation_code_uri`])
//!    on the test and validation splits; it writes `evaluation.json`, exposed
//!    as the property file `EvaluationReport`;
//! 3. `CheckTestRmse…`: the test RMSE ≤ the `RmseThreshold` parameter?
//! 4. yes → `RegisterModel…`: a model package in the group, `PendingManualApproval`,
//!    with `evaluation.json` as its ModelQuality statistics and the dataset id,
//!    validation and test RMSE and execution ARN in its metadata;
//!    no → `RmseAboveThreshold…`: a Fail step.
//!
//! Every job and package the pipeline creates carries the cost-allocation tags
//! (`housing-mlops:stack`, `housing-mlops:component` = `training`).
//! Parameter names come from [`super::parameters`]; a reference to an undeclared
//! parameter cannot be written (see [`param`]).

use super::parameters::{
    Parameter, ParameterType, DATASET_ID, ETA, INSTANCE_COUNT, INSTANCE_TYPE, MAX_DEPTH, NUM_ROUND,
    PARAMETERS, RMSE_THRESHOLD, SUBSAMPLE, TEST_DATA, TRAINING_CONTENT_TYPE, TRAIN_DATA,
    USE_SPOT_INSTANCES, VALIDATION_DATA,
};
use crate::stages::lineage::{TAG_COMPONENT, TAG_STACK};
use crate::stages::package::{
    METADATA_DATASET_ID, METADATA_EXECUTION_ARN, METADATA_TEST_RMSE, METADATA_VALIDATION_RMSE,
};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The Condition step choosing the branch by `UseSpotInstances`.
pub const CAPACITY_STEP: &str = "ChooseTrainingCapacity";
pub const TRAIN_STEP: &str = "TrainModel";
/// The training job's time limit (`StoppingCondition.MaxRuntimeInSeconds`).
pub const TRAINING_MAX_RUNTIME_SECONDS: u32 = 3600;
/// How long a spot job may take, waiting for capacity included
/// (`StoppingCondition.MaxWaitTimeInSeconds`, which must be ≥ the runtime limit).
pub const TRAINING_MAX_WAIT_SECONDS: u32 = 2 * TRAINING_MAX_RUNTIME_SECONDS;
/// Under the dataset's model folder: `checkpoints/<execution id>/`.
pub const CHECKPOINTS: &str = "checkpoints";
/// What the pipeline's jobs and packages are, for cost allocation.
pub const COMPONENT: &str = "training";
pub const EVALUATE_STEP: &str = "EvaluateModel";
pub const CONDITION_STEP: &str = "CheckTestRmse";
pub const REGISTER_STEP: &str = "RegisterModel";
pub const FAIL_STEP: &str = "RmseAboveThreshold";
/// The metric the training step reports (emitted by the built-in XGBoost).
pub const RMSE_METRIC: &str = "validation:rmse";
/// The evaluation step's property file and the paths the pipeline reads in it.
pub const EVALUATION_REPORT: &str = "EvaluationReport";
pub const EVALUATION_OUTPUT: &str = "evaluation";
pub const EVALUATION_FILE: &str = "evaluation.json";
pub const TEST_RMSE_PATH: &str = "test.rmse";

/// The evaluation script, the same file on AWS and locally.
pub const EVALUATION_SCRIPT: &str = include_str!("../../../pipeline/evaluate.py");
pub const EVALUATION_SCRIPT_NAME: &str = "evaluate.py";
/// Where the Processing container finds its inputs and writes its output.
const PROCESSING: &str = "/opt/ml/processing";

/// Registries of SageMaker's first-party framework images (XGBoost among them),
/// per region. Other regions: pass the image explicitly.
pub const XGBOOST_REGISTRIES: [(&str, &str); 9] = [
    ("us-east-1", "683313688378"),
    ("us-east-2", "257758044811"),
    ("us-west-2", "246618743249"),
    ("eu-west-1", "141502667606"),
    ("eu-west-2", "764974769150"),
    ("eu-central-1", "492215442770"),
    ("ap-northeast-1", "354813040037"),
    ("ap-southeast-2", "783357654285"),
    ("ca-central-1", "341280168497"),
];
pub const XGBOOST_VERSION: &str = "1.7-1";

/// The built-in XGBoost image for a region, if its registry is known.
pub fn xgboost_image(region: &str) -> Option<String> {
    XGBOOST_REGISTRIES
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, account)| {
            format!("{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:{XGBOOST_VERSION}")
        })
}

/// Where a training job's instances come from; each has its branch of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    Spot,
    OnDemand,
}

impl Capacity {
    pub const ALL: [Capacity; 2] = [Capacity::Spot, Capacity::OnDemand];

    /// A step's name in this branch: `TrainModel` → `TrainModelSpot`.
    pub fn step(self, base: &str) -> String {
        let suffix = match self {
            Capacity::Spot => "Spot",
            Capacity::OnDemand => "OnDemand",
        };
        format!("{base}{suffix}")
    }
}

/// What the definition needs from the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionConfig {
    pub role_arn: String,
    pub model_package_group: String,
    /// Where training writes model artifacts, e.g. `s3://bucket/models`.
    pub model_output_uri: String,
    pub training_image: String,
    /// The key training encrypts the artifacts with (the buckets take no other);
    /// `None`: the bucket's default.
    pub kms_key_arn: Option<String>,
    /// Where pipeline code is uploaded, e.g. `s3://bucket/pipeline-code`; the
    /// evaluation script lives under it at [`evaluation_code_uri`].
    pub code_uri: String,
    /// The stack the pipeline belongs to: its jobs' `housing-mlops:stack` tag
    /// (`None`: that tag is left out).
    pub stack_name: Option<String>,
}

/// The first 16 hex digits of the evaluation script's SHA-256: its folder under
/// the code URI, so a running pipeline never sees the script change under it.
pub fn evaluation_script_hash() -> String {
    let digest = Sha256::digest(EVALUATION_SCRIPT.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The folder (an S3 prefix, ending in `/`) the evaluation step reads its
/// script from; the deploy path uploads `pipeline/evaluate.py` there.
pub fn evaluation_code_uri(code_uri: &str) -> String {
    format!(
        "{}/{}/",
        code_uri.trim_end_matches('/'),
        evaluation_script_hash()
    )
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PipelineDefinition {
    pub version: &'static str,
    pub metadata: BTreeMap<String, String>,
    pub parameters: Vec<ParameterDefinition>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterDefinition {
    pub name: &'static str,
    #[serde(rename = "Type")]
    pub kind: ParameterType,
    pub default_value: Value,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Step {
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub arguments: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub property_files: Vec<Value>,
}

/// `{"Get": "Parameters.<name>"}` for a declared parameter.
pub fn param(name: &'static str) -> Value {
    assert!(
        PARAMETERS.iter().any(|p| p.name == name),
        "undeclared pipeline parameter {name}"
    );
    json!({ "Get": format!("Parameters.{name}") })
}

pub fn build(config: &DefinitionConfig) -> PipelineDefinition {
    let choose = Step {
        name: CAPACITY_STEP.to_string(),
        kind: "Condition",
        arguments: json!({
            "Conditions": [{ "Type": "Equals", "LeftValue": param(USE_SPOT_INSTANCES), "RightValue": true }],
            "IfSteps": branch(config, Capacity::Spot),
            "ElseSteps": branch(config, Capacity::OnDemand),
        }),
        property_files: Vec::new(),
    };
    PipelineDefinition {
        version: "2020-12-01",
        metadata: BTreeMap::new(),
        parameters: PARAMETERS
            .iter()
            .map(|p| ParameterDefinition {
                name: p.name,
                kind: p.kind,
                default_value: default_value(p),
            })
            .collect(),
        steps: vec![choose],
    }
}

impl PipelineDefinition {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

mod steps;
use steps::{branch, default_value};

#[cfg(test)]
mod tests;
