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

/// A value rendered as a string (hyperparameters and metadata are strings).
fn as_string(value: Value) -> Value {
    json!({ "Std:Join": { "On": "", "Values": [value] } })
}

/// The branch's training step's `validation:rmse`.
fn validation_rmse(capacity: Capacity) -> Value {
    let train = capacity.step(TRAIN_STEP);
    json!({ "Get": format!("Steps.{train}.FinalMetricDataList['{RMSE_METRIC}'].Value") })
}

/// The test RMSE in the branch's evaluation report.
fn test_rmse(capacity: Capacity) -> Value {
    let evaluate = capacity.step(EVALUATE_STEP);
    json!({ "Std:JsonGet": {
        "PropertyFile": { "Get": format!("Steps.{evaluate}.PropertyFiles.{EVALUATION_REPORT}") },
        "Path": TEST_RMSE_PATH,
    }})
}

/// Where the branch's evaluation step writes `evaluation.json` (a folder).
fn evaluation_uri(capacity: Capacity) -> Value {
    let evaluate = capacity.step(EVALUATE_STEP);
    json!({ "Get": format!("Steps.{evaluate}.ProcessingOutputConfig.Outputs['{EVALUATION_OUTPUT}'].S3Output.S3Uri") })
}

/// The branch's model artifact.
fn model_artifact(capacity: Capacity) -> Value {
    let train = capacity.step(TRAIN_STEP);
    json!({ "Get": format!("Steps.{train}.ModelArtifacts.S3ModelArtifacts") })
}

/// The cost-allocation tags of everything the pipeline creates.
fn tags(config: &DefinitionConfig) -> Value {
    let mut tags = Vec::new();
    if let Some(stack) = &config.stack_name {
        tags.push(json!({ "Key": TAG_STACK, "Value": stack }));
    }
    tags.push(json!({ "Key": TAG_COMPONENT, "Value": COMPONENT }));
    Value::Array(tags)
}

/// One input of the evaluation step: `uri` (an object or a prefix) to `/opt/ml/processing/<local>`.
fn processing_input(name: &str, uri: Value, local: &str) -> Value {
    json!({
        "InputName": name,
        "AppManaged": false,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": format!("{PROCESSING}/{local}"),
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    })
}

fn default_value(p: &Parameter) -> Value {
    match p.kind {
        ParameterType::String => Value::String(p.default.to_string()),
        ParameterType::Integer => p
            .default
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        ParameterType::Float => p
            .default
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        ParameterType::Boolean => p
            .default
            .parse::<bool>()
            .map(Value::from)
            .unwrap_or(Value::Null),
    }
}

/// A training channel: its data, and its form from the dataset's report.
/// The train channel is sharded by object: with one instance that instance
/// reads every part, with several each reads its own parts (the built-in
/// XGBoost's distributed training); validation goes whole to every instance.
fn channel(name: &str, uri: &'static str, distribution: &str) -> Value {
    json!({
        "ChannelName": name,
        "ContentType": param(TRAINING_CONTENT_TYPE),
        "DataSource": { "S3DataSource": {
            "S3DataType": "S3Prefix",
            "S3Uri": param(uri),
            "S3DataDistributionType": distribution,
        }},
    })
}

/// `<model output URI>/<dataset id>[/<more>]`.
fn dataset_output(config: &DefinitionConfig, more: Option<&str>) -> Value {
    let mut values = vec![
        json!(config.model_output_uri.trim_end_matches('/')),
        param(DATASET_ID),
    ];
    values.extend(more.map(|m| json!(m)));
    json!({ "Std:Join": { "On": "/", "Values": values } })
}

/// Where, and with which key, training writes the model artifact.
fn output_data_config(config: &DefinitionConfig) -> Value {
    let mut output = json!({ "S3OutputPath": dataset_output(config, None) });
    if let Some(key) = &config.kms_key_arn {
        output["KmsKeyId"] = json!(key);
    }
    output
}

/// `<model output URI>/<dataset id>/checkpoints/<execution id>`: one folder per
/// execution, so a spot job interrupted and restarted resumes from its own
/// checkpoints and a later run of the same dataset starts afresh.
fn checkpoint_uri(config: &DefinitionConfig) -> Value {
    json!({ "Std:Join": { "On": "/", "Values": [
        dataset_output(config, Some(CHECKPOINTS)),
        { "Get": "Execution.PipelineExecutionId" },
    ]}})
}

fn training(config: &DefinitionConfig, capacity: Capacity) -> Step {
    let mut arguments = json!({
        "AlgorithmSpecification": { "TrainingImage": config.training_image, "TrainingInputMode": "File" },
        "RoleArn": config.role_arn,
        "OutputDataConfig": output_data_config(config),
        "ResourceConfig": { "InstanceCount": param(INSTANCE_COUNT), "InstanceType": param(INSTANCE_TYPE), "VolumeSizeInGB": 30 },
        "StoppingCondition": { "MaxRuntimeInSeconds": TRAINING_MAX_RUNTIME_SECONDS },
        "HyperParameters": {
            "objective": "reg:squarederror",
            "eval_metric": "rmse",
            "max_depth": as_string(param(MAX_DEPTH)),
            "eta": as_string(param(ETA)),
            "num_round": as_string(param(NUM_ROUND)),
            "subsample": as_string(param(SUBSAMPLE)),
        },
        "InputDataConfig": [
            channel("train", TRAIN_DATA, "ShardedByS3Key"),
            channel("validation", VALIDATION_DATA, "FullyReplicated"),
        ],
        "Tags": tags(config),
    });
    if capacity == Capacity::Spot {
        arguments["EnableManagedSpotTraining"] = json!(true);
        arguments["StoppingCondition"]["MaxWaitTimeInSeconds"] = json!(TRAINING_MAX_WAIT_SECONDS);
        arguments["CheckpointConfig"] = json!({ "S3Uri": checkpoint_uri(config) });
    }
    Step {
        name: capacity.step(TRAIN_STEP),
        kind: "Training",
        arguments,
        property_files: Vec::new(),
    }
}

fn evaluation(config: &DefinitionConfig, capacity: Capacity) -> Step {
    let mut evaluation_output = json!({ "Outputs": [{
        "OutputName": EVALUATION_OUTPUT,
        "AppManaged": false,
        "S3Output": {
            "S3Uri": dataset_output(config, Some(EVALUATION_OUTPUT)),
            "LocalPath": format!("{PROCESSING}/{EVALUATION_OUTPUT}"),
            "S3UploadMode": "EndOfJob",
        },
    }]});
    if let Some(key) = &config.kms_key_arn {
        evaluation_output["KmsKeyId"] = json!(key);
    }
    Step {
        name: capacity.step(EVALUATE_STEP),
        kind: "Processing",
        arguments: json!({
            "ProcessingResources": { "ClusterConfig": { "InstanceCount": 1, "InstanceType": param(INSTANCE_TYPE), "VolumeSizeInGB": 30 } },
            "AppSpecification": {
                "ImageUri": config.training_image,
                "ContainerEntrypoint": ["python3", format!("{PROCESSING}/input/code/{EVALUATION_SCRIPT_NAME}")],
                "ContainerArguments": [
                    "--model", format!("{PROCESSING}/model"),
                    "--test", format!("{PROCESSING}/test"),
                    "--validation", format!("{PROCESSING}/validation"),
                    "--output", format!("{PROCESSING}/{EVALUATION_OUTPUT}"),
                ],
            },
            "RoleArn": config.role_arn,
            "ProcessingInputs": [
                processing_input("model", model_artifact(capacity), "model"),
                processing_input("test", param(TEST_DATA), "test"),
                processing_input("validation", param(VALIDATION_DATA), "validation"),
                processing_input("code", json!(evaluation_code_uri(&config.code_uri)), "input/code"),
            ],
            "ProcessingOutputConfig": evaluation_output,
            "StoppingCondition": { "MaxRuntimeInSeconds": 1800 },
            "Tags": tags(config),
        }),
        property_files: vec![json!({
            "PropertyFileName": EVALUATION_REPORT,
            "OutputName": EVALUATION_OUTPUT,
            "FilePath": EVALUATION_FILE,
        })],
    }
}

/// The RMSE gate: registration or the Fail step.
fn gate(config: &DefinitionConfig, capacity: Capacity) -> Step {
    let register = Step {
        name: capacity.step(REGISTER_STEP),
        kind: "RegisterModel",
        arguments: json!({
            "ModelPackageGroupName": config.model_package_group,
            "ModelApprovalStatus": "PendingManualApproval",
            "ModelPackageDescription": as_string(json!({ "Std:Join": { "On": " ", "Values": ["XGBoost on dataset", param(DATASET_ID)] } })),
            "InferenceSpecification": {
                "Containers": [{
                    "Image": config.training_image,
                    "ModelDataUrl": model_artifact(capacity),
                }],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelMetrics": { "ModelQuality": { "Statistics": {
                "ContentType": "application/json",
                "S3Uri": { "Std:Join": { "On": "/", "Values": [evaluation_uri(capacity), EVALUATION_FILE] } },
            }}},
            "CustomerMetadataProperties": {
                METADATA_DATASET_ID: param(DATASET_ID),
                METADATA_VALIDATION_RMSE: as_string(validation_rmse(capacity)),
                METADATA_TEST_RMSE: as_string(test_rmse(capacity)),
                METADATA_EXECUTION_ARN: { "Get": "Execution.PipelineExecutionArn" },
            },
            "Tags": tags(config),
        }),
        property_files: Vec::new(),
    };
    let fail = Step {
        name: capacity.step(FAIL_STEP),
        kind: "Fail",
        arguments: json!({ "ErrorMessage": { "Std:Join": { "On": " ", "Values": [
            "test RMSE", test_rmse(capacity), "is above the threshold", param(RMSE_THRESHOLD), "for dataset", param(DATASET_ID)
        ]}}}),
        property_files: Vec::new(),
    };
    Step {
        name: capacity.step(CONDITION_STEP),
        kind: "Condition",
        arguments: json!({
            "Conditions": [{ "Type": "LessThanOrEqualTo", "LeftValue": test_rmse(capacity), "RightValue": param(RMSE_THRESHOLD) }],
            "IfSteps": [register],
            "ElseSteps": [fail],
        }),
        property_files: Vec::new(),
    }
}

/// One branch: train, evaluate, gate.
fn branch(config: &DefinitionConfig, capacity: Capacity) -> Value {
    json!([
        training(config, capacity),
        evaluation(config, capacity),
        gate(config, capacity)
    ])
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::parameters::PER_DATASET;

    fn config() -> DefinitionConfig {
        DefinitionConfig {
            role_arn: "arn:aws:iam::123456789012:role/sagemaker".into(),
            model_package_group: "housing".into(),
            model_output_uri: "s3://bucket/models/".into(),
            training_image: xgboost_image("us-east-1").unwrap(),
            kms_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            code_uri: "s3://bucket/pipeline-code/".into(),
            stack_name: Some("housing-mlops-dev".into()),
        }
    }

    fn document(config: &DefinitionConfig) -> Value {
        serde_json::from_str(&build(config).to_json()).unwrap()
    }

    /// A branch's steps: train, evaluate, gate.
    fn branch_of(doc: &Value, capacity: Capacity) -> Vec<Value> {
        let choose = &doc["Steps"][0];
        assert_eq!(choose["Name"], CAPACITY_STEP);
        let side = match capacity {
            Capacity::Spot => "IfSteps",
            Capacity::OnDemand => "ElseSteps",
        };
        choose["Arguments"][side].as_array().unwrap().clone()
    }

    #[test]
    fn training_encrypts_the_artifact_with_the_given_key() {
        let step = |config: &DefinitionConfig| -> Value {
            branch_of(&document(config), Capacity::Spot)[0]["Arguments"]["OutputDataConfig"].clone()
        };
        let with_key = step(&config());
        assert_eq!(
            with_key["KmsKeyId"],
            "arn:aws:kms:us-east-1:123456789012:key/k"
        );
        assert!(with_key["S3OutputPath"].is_object());
        let default = step(&DefinitionConfig {
            kms_key_arn: None,
            ..config()
        });
        assert!(default.get("KmsKeyId").is_none());
    }

    /// Every `Parameters.X` reference anywhere in the document.
    fn references(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(s)) = map.get("Get") {
                    if let Some(name) = s.strip_prefix("Parameters.") {
                        out.push(name.to_string());
                    }
                }
                map.values().for_each(|v| references(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    /// Every step name, nested ones included.
    fn names(steps: &[Value], out: &mut Vec<String>) {
        for step in steps {
            out.push(step["Name"].as_str().unwrap().to_string());
            for side in ["IfSteps", "ElseSteps"] {
                if let Some(inner) = step["Arguments"][side].as_array() {
                    names(inner, out);
                }
            }
        }
    }

    #[test]
    fn the_definition_declares_what_it_references_and_what_the_trigger_sends() {
        let doc = document(&config());
        let declared: Vec<&str> = doc["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Name"].as_str().unwrap())
            .collect();
        let mut used = Vec::new();
        references(&doc, &mut used);
        for name in &used {
            assert!(
                declared.contains(&name.as_str()),
                "{name} referenced but not declared"
            );
        }
        for name in PER_DATASET {
            assert!(
                declared.contains(&name),
                "{name} is sent by the trigger but not declared"
            );
            assert!(used.iter().any(|u| u == name), "{name} unused");
        }
        assert_eq!(doc["Version"], "2020-12-01");
        // Step names are unique across both branches, as SageMaker requires.
        let mut all = Vec::new();
        names(doc["Steps"].as_array().unwrap(), &mut all);
        let unique: std::collections::BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        assert_eq!(all.len(), 1 + 2 * 5);
        for capacity in Capacity::ALL {
            let steps = branch_of(&doc, capacity);
            assert_eq!(steps[0]["Type"], "Training");
            assert_eq!(steps[0]["Name"], capacity.step(TRAIN_STEP));
            assert_eq!(steps[1]["Type"], "Processing");
            let register = &steps[2]["Arguments"]["IfSteps"][0]["Arguments"];
            assert_eq!(register["ModelApprovalStatus"], "PendingManualApproval");
            assert_eq!(steps[2]["Arguments"]["ElseSteps"][0]["Type"], "Fail");
            // Both training channels take their form from the dataset, CSV unless told.
            let channels = steps[0]["Arguments"]["InputDataConfig"].as_array().unwrap();
            for channel in channels {
                assert_eq!(
                    channel["ContentType"],
                    json!({ "Get": format!("Parameters.{TRAINING_CONTENT_TYPE}") })
                );
            }
            let distribution = |i: usize| {
                channels[i]["DataSource"]["S3DataSource"]["S3DataDistributionType"].clone()
            };
            assert_eq!(distribution(0), "ShardedByS3Key");
            assert_eq!(distribution(1), "FullyReplicated");
            assert_eq!(
                steps[0]["Arguments"]["ResourceConfig"]["InstanceCount"],
                param(INSTANCE_COUNT)
            );
        }
        let default = |name: &str| {
            doc["Parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["Name"] == name)
                .unwrap()["DefaultValue"]
                .clone()
        };
        assert_eq!(default(TRAINING_CONTENT_TYPE), "text/csv");
        assert_eq!(default(MAX_DEPTH), 6);
        assert_eq!(default(USE_SPOT_INSTANCES), true);
        assert_eq!(default(INSTANCE_COUNT), 1);
        let spot = doc["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["Name"] == USE_SPOT_INSTANCES)
            .unwrap();
        assert_eq!(spot["Type"], "Boolean");
    }

    #[test]
    fn spot_training_waits_longer_than_it_runs_and_checkpoints_and_on_demand_sets_neither() {
        let doc = document(&config());
        let choose = &doc["Steps"][0]["Arguments"]["Conditions"][0];
        assert_eq!(choose["Type"], "Equals");
        assert_eq!(choose["LeftValue"], param(USE_SPOT_INSTANCES));
        assert_eq!(choose["RightValue"], true);

        let spot = &branch_of(&doc, Capacity::Spot)[0]["Arguments"];
        assert_eq!(spot["EnableManagedSpotTraining"], true);
        let stopping = &spot["StoppingCondition"];
        let (run, wait) = (
            stopping["MaxRuntimeInSeconds"].as_u64().unwrap(),
            stopping["MaxWaitTimeInSeconds"].as_u64().unwrap(),
        );
        assert!(
            wait > run,
            "max wait {wait} must be above the runtime {run}"
        );
        // Checkpoints: the dataset's model folder (the processed bucket the role
        // writes), one folder per execution.
        assert_eq!(
            spot["CheckpointConfig"]["S3Uri"],
            json!({ "Std:Join": { "On": "/", "Values": [
                { "Std:Join": { "On": "/", "Values": ["s3://bucket/models", param(DATASET_ID), "checkpoints"] } },
                { "Get": "Execution.PipelineExecutionId" },
            ]}})
        );

        // AWS refuses MaxWaitTimeInSeconds on a job that is not spot.
        let on_demand = &branch_of(&doc, Capacity::OnDemand)[0]["Arguments"];
        assert!(on_demand.get("EnableManagedSpotTraining").is_none());
        assert!(on_demand["StoppingCondition"]
            .get("MaxWaitTimeInSeconds")
            .is_none());
        assert!(on_demand.get("CheckpointConfig").is_none());
        assert_eq!(
            on_demand["StoppingCondition"]["MaxRuntimeInSeconds"],
            TRAINING_MAX_RUNTIME_SECONDS
        );
    }

    #[test]
    fn every_job_and_package_carries_the_cost_allocation_tags() {
        let doc = document(&config());
        for capacity in Capacity::ALL {
            let steps = branch_of(&doc, capacity);
            let register = &steps[2]["Arguments"]["IfSteps"][0]["Arguments"];
            for args in [&steps[0]["Arguments"], &steps[1]["Arguments"], register] {
                assert_eq!(
                    args["Tags"],
                    json!([
                        { "Key": "housing-mlops:stack", "Value": "housing-mlops-dev" },
                        { "Key": "housing-mlops:component", "Value": "training" },
                    ])
                );
            }
        }
        let untagged = document(&DefinitionConfig {
            stack_name: None,
            ..config()
        });
        assert_eq!(
            branch_of(&untagged, Capacity::Spot)[0]["Arguments"]["Tags"],
            json!([{ "Key": "housing-mlops:component", "Value": "training" }])
        );
    }

    #[test]
    fn the_evaluation_reads_the_test_split_and_gates_registration_on_its_rmse() {
        let doc = document(&config());
        for capacity in Capacity::ALL {
            let steps = branch_of(&doc, capacity);
            let evaluate = &steps[1];
            assert_eq!(evaluate["Name"], capacity.step(EVALUATE_STEP));
            assert_eq!(
                evaluate["PropertyFiles"][0]["PropertyFileName"],
                EVALUATION_REPORT
            );
            assert_eq!(evaluate["PropertyFiles"][0]["FilePath"], "evaluation.json");
            let inputs = evaluate["Arguments"]["ProcessingInputs"]
                .as_array()
                .unwrap();
            let uri = |name: &str| {
                inputs.iter().find(|i| i["InputName"] == name).unwrap()["S3Input"]["S3Uri"].clone()
            };
            assert_eq!(uri("test"), param(TEST_DATA));
            assert_eq!(uri("validation"), param(VALIDATION_DATA));
            // The model is this branch's.
            assert_eq!(
                uri("model"),
                json!({ "Get": format!("Steps.{}.ModelArtifacts.S3ModelArtifacts", capacity.step(TRAIN_STEP)) })
            );
            let code = uri("code");
            let hash = evaluation_script_hash();
            assert_eq!(hash.len(), 16);
            assert_eq!(code, format!("s3://bucket/pipeline-code/{hash}/"));
            // The entry point is the uploaded script, under the name the deploy gives it.
            let entry = evaluate["Arguments"]["AppSpecification"]["ContainerEntrypoint"][1]
                .as_str()
                .unwrap();
            assert_eq!(entry, "/opt/ml/processing/input/code/evaluate.py");
            assert_eq!(
                evaluate["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"],
                "arn:aws:kms:us-east-1:123456789012:key/k"
            );
            let condition = &steps[2]["Arguments"]["Conditions"][0];
            assert_eq!(condition["LeftValue"]["Std:JsonGet"]["Path"], "test.rmse");
            assert_eq!(
                condition["LeftValue"]["Std:JsonGet"]["PropertyFile"]["Get"],
                format!(
                    "Steps.{}.PropertyFiles.{EVALUATION_REPORT}",
                    capacity.step(EVALUATE_STEP)
                )
            );
            assert_eq!(condition["RightValue"], param(RMSE_THRESHOLD));
            let register = &steps[2]["Arguments"]["IfSteps"][0]["Arguments"];
            let statistics = &register["ModelMetrics"]["ModelQuality"]["Statistics"];
            assert_eq!(statistics["ContentType"], "application/json");
            let metadata = register["CustomerMetadataProperties"].as_object().unwrap();
            let mut keys: Vec<&str> = metadata.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                [
                    METADATA_DATASET_ID,
                    METADATA_EXECUTION_ARN,
                    METADATA_TEST_RMSE,
                    METADATA_VALIDATION_RMSE
                ]
            );
        }
        // The script is the repository's file.
        assert!(EVALUATION_SCRIPT.contains("def metrics("));
    }

    #[test]
    fn images_are_known_for_listed_regions_only() {
        assert_eq!(
            xgboost_image("eu-west-1").unwrap(),
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
        );
        assert_eq!(xgboost_image("mars-north-1"), None);
    }
}
