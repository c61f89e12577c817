//! The SageMaker Model Building Pipeline, as typed Rust serialised to the
//! pipeline definition JSON (schema version 2020-12-01):
//!
//! 1. `TrainModel`: SageMaker's built-in XGBoost on the ETL's CSV channels;
//! 2. `EvaluateModel`: a Processing step on the same image running
//!    `pipeline/evaluate.py` (uploaded content-addressed, see [`evaluation_code_uri`])
//!    on the test and validation splits; it writes `evaluation.json`, exposed
//!    as the property file `EvaluationReport`;
//! 3. `CheckTestRmse`: the test RMSE ≤ the `RmseThreshold` parameter?
//! 4. yes → `RegisterModel`: a model package in the group, `PendingManualApproval`,
//!    with `evaluation.json` as its ModelQuality statistics and the dataset id,
//!    validation and test RMSE and execution ARN in its metadata;
//!    no → `RmseAboveThreshold`: a Fail step.
//!
//! Parameter names come from [`super::parameters`]; a reference to an undeclared
//! parameter cannot be written (see [`param`]).

use super::parameters::{
    Parameter, ParameterType, DATASET_ID, ETA, INSTANCE_TYPE, MAX_DEPTH, NUM_ROUND, PARAMETERS,
    RMSE_THRESHOLD, SUBSAMPLE, TEST_DATA, TRAINING_CONTENT_TYPE, TRAIN_DATA, VALIDATION_DATA,
};
use crate::stages::package::{
    METADATA_DATASET_ID, METADATA_EXECUTION_ARN, METADATA_TEST_RMSE, METADATA_VALIDATION_RMSE,
};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const TRAIN_STEP: &str = "TrainModel";
/// The training job's time limit (`StoppingCondition.MaxRuntimeInSeconds`).
pub const TRAINING_MAX_RUNTIME_SECONDS: u32 = 3600;
/// The training job's instances (`ResourceConfig.InstanceCount`).
pub const TRAINING_INSTANCE_COUNT: u32 = 1;
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
    pub name: &'static str,
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

/// The training step's `validation:rmse`.
fn validation_rmse() -> Value {
    json!({ "Get": format!("Steps.{TRAIN_STEP}.FinalMetricDataList['{RMSE_METRIC}'].Value") })
}

/// The test RMSE in the evaluation step's report.
fn test_rmse() -> Value {
    json!({ "Std:JsonGet": {
        "PropertyFile": { "Get": format!("Steps.{EVALUATE_STEP}.PropertyFiles.{EVALUATION_REPORT}") },
        "Path": TEST_RMSE_PATH,
    }})
}

/// Where the evaluation step writes `evaluation.json` (a folder).
fn evaluation_uri() -> Value {
    json!({ "Get": format!("Steps.{EVALUATE_STEP}.ProcessingOutputConfig.Outputs['{EVALUATION_OUTPUT}'].S3Output.S3Uri") })
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
    }
}

/// A training channel: its data, and its form from the dataset's report.
fn channel(name: &str, uri: &'static str) -> Value {
    json!({
        "ChannelName": name,
        "ContentType": param(TRAINING_CONTENT_TYPE),
        "DataSource": { "S3DataSource": {
            "S3DataType": "S3Prefix",
            "S3Uri": param(uri),
            "S3DataDistributionType": "FullyReplicated",
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

pub fn build(config: &DefinitionConfig) -> PipelineDefinition {
    let training = Step {
        name: TRAIN_STEP,
        kind: "Training",
        arguments: json!({
            "AlgorithmSpecification": { "TrainingImage": config.training_image, "TrainingInputMode": "File" },
            "RoleArn": config.role_arn,
            "OutputDataConfig": output_data_config(config),
            "ResourceConfig": { "InstanceCount": TRAINING_INSTANCE_COUNT, "InstanceType": param(INSTANCE_TYPE), "VolumeSizeInGB": 30 },
            "StoppingCondition": { "MaxRuntimeInSeconds": TRAINING_MAX_RUNTIME_SECONDS },
            "HyperParameters": {
                "objective": "reg:squarederror",
                "eval_metric": "rmse",
                "max_depth": as_string(param(MAX_DEPTH)),
                "eta": as_string(param(ETA)),
                "num_round": as_string(param(NUM_ROUND)),
                "subsample": as_string(param(SUBSAMPLE)),
            },
            "InputDataConfig": [channel("train", TRAIN_DATA), channel("validation", VALIDATION_DATA)],
        }),
        property_files: Vec::new(),
    };
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
    let evaluate = Step {
        name: EVALUATE_STEP,
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
                processing_input("model", json!({ "Get": format!("Steps.{TRAIN_STEP}.ModelArtifacts.S3ModelArtifacts") }), "model"),
                processing_input("test", param(TEST_DATA), "test"),
                processing_input("validation", param(VALIDATION_DATA), "validation"),
                processing_input("code", json!(evaluation_code_uri(&config.code_uri)), "input/code"),
            ],
            "ProcessingOutputConfig": evaluation_output,
            "StoppingCondition": { "MaxRuntimeInSeconds": 1800 },
        }),
        property_files: vec![json!({
            "PropertyFileName": EVALUATION_REPORT,
            "OutputName": EVALUATION_OUTPUT,
            "FilePath": EVALUATION_FILE,
        })],
    };
    let register = Step {
        name: REGISTER_STEP,
        kind: "RegisterModel",
        arguments: json!({
            "ModelPackageGroupName": config.model_package_group,
            "ModelApprovalStatus": "PendingManualApproval",
            "ModelPackageDescription": as_string(json!({ "Std:Join": { "On": " ", "Values": ["XGBoost on dataset", param(DATASET_ID)] } })),
            "InferenceSpecification": {
                "Containers": [{
                    "Image": config.training_image,
                    "ModelDataUrl": { "Get": format!("Steps.{TRAIN_STEP}.ModelArtifacts.S3ModelArtifacts") },
                }],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelMetrics": { "ModelQuality": { "Statistics": {
                "ContentType": "application/json",
                "S3Uri": { "Std:Join": { "On": "/", "Values": [evaluation_uri(), EVALUATION_FILE] } },
            }}},
            "CustomerMetadataProperties": {
                METADATA_DATASET_ID: param(DATASET_ID),
                METADATA_VALIDATION_RMSE: as_string(validation_rmse()),
                METADATA_TEST_RMSE: as_string(test_rmse()),
                METADATA_EXECUTION_ARN: { "Get": "Execution.PipelineExecutionArn" },
            },
        }),
        property_files: Vec::new(),
    };
    let fail = Step {
        name: FAIL_STEP,
        kind: "Fail",
        arguments: json!({ "ErrorMessage": { "Std:Join": { "On": " ", "Values": [
            "test RMSE", test_rmse(), "is above the threshold", param(RMSE_THRESHOLD), "for dataset", param(DATASET_ID)
        ]}}}),
        property_files: Vec::new(),
    };
    let condition = Step {
        name: CONDITION_STEP,
        kind: "Condition",
        arguments: json!({
            "Conditions": [{ "Type": "LessThanOrEqualTo", "LeftValue": test_rmse(), "RightValue": param(RMSE_THRESHOLD) }],
            "IfSteps": [register],
            "ElseSteps": [fail],
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
        steps: vec![training, evaluate, condition],
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
        }
    }

    #[test]
    fn training_encrypts_the_artifact_with_the_given_key() {
        let step = |config: &DefinitionConfig| -> Value {
            let json: Value = serde_json::from_str(&build(config).to_json()).unwrap();
            json["Steps"][0]["Arguments"]["OutputDataConfig"].clone()
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

    #[test]
    fn the_definition_declares_what_it_references_and_what_the_trigger_sends() {
        let doc: Value = serde_json::from_str(&build(&config()).to_json()).unwrap();
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
        let steps = doc["Steps"].as_array().unwrap();
        assert_eq!(steps[0]["Type"], "Training");
        assert_eq!(steps[1]["Type"], "Processing");
        let register = &steps[2]["Arguments"]["IfSteps"][0]["Arguments"];
        assert_eq!(register["ModelApprovalStatus"], "PendingManualApproval");
        assert_eq!(steps[2]["Arguments"]["ElseSteps"][0]["Type"], "Fail");
        assert_eq!(doc["Parameters"][6]["Name"], MAX_DEPTH);
        assert_eq!(doc["Parameters"][6]["DefaultValue"], 6);
        // Both training channels take their form from the dataset, CSV unless told.
        for channel in steps[0]["Arguments"]["InputDataConfig"].as_array().unwrap() {
            assert_eq!(
                channel["ContentType"],
                json!({ "Get": format!("Parameters.{TRAINING_CONTENT_TYPE}") })
            );
        }
        let content_type = doc["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["Name"] == TRAINING_CONTENT_TYPE)
            .unwrap();
        assert_eq!(content_type["DefaultValue"], "text/csv");
    }

    #[test]
    fn the_evaluation_reads_the_test_split_and_gates_registration_on_its_rmse() {
        let doc: Value = serde_json::from_str(&build(&config()).to_json()).unwrap();
        let evaluate = &doc["Steps"][1];
        assert_eq!(evaluate["Name"], EVALUATE_STEP);
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
        let condition = &doc["Steps"][2]["Arguments"]["Conditions"][0];
        assert_eq!(condition["LeftValue"]["Std:JsonGet"]["Path"], "test.rmse");
        assert_eq!(condition["RightValue"], param(RMSE_THRESHOLD));
        let register = &doc["Steps"][2]["Arguments"]["IfSteps"][0]["Arguments"];
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
