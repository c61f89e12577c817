//! The SageMaker Model Building Pipeline, as typed Rust serialised to the
//! pipeline definition JSON (schema version 2020-12-01):
//!
//! 1. `TrainModel`: SageMaker's built-in XGBoost on the ETL's CSV channels;
//! 2. `CheckValidationRmse`: `validation:rmse` ≤ the `RmseThreshold` parameter?
//! 3. yes → `RegisterModel`: a model package in the group, `PendingManualApproval`,
//!    with the dataset id and validation RMSE in its metadata;
//!    no → `RmseAboveThreshold`: a Fail step.
//!
//! Parameter names come from [`super::parameters`]; a reference to an undeclared
//! parameter cannot be written (see [`param`]).

use super::parameters::{
    Parameter, ParameterType, DATASET_ID, ETA, INSTANCE_TYPE, MAX_DEPTH, NUM_ROUND, PARAMETERS,
    RMSE_THRESHOLD, SUBSAMPLE, TRAIN_DATA, VALIDATION_DATA,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const TRAIN_STEP: &str = "TrainModel";
pub const CONDITION_STEP: &str = "CheckValidationRmse";
pub const REGISTER_STEP: &str = "RegisterModel";
pub const FAIL_STEP: &str = "RmseAboveThreshold";
/// The metric the condition reads (emitted by the built-in XGBoost).
pub const RMSE_METRIC: &str = "validation:rmse";
/// Model package metadata keys the promotion step reads.
pub const METADATA_DATASET_ID: &str = "dataset_id";
pub const METADATA_VALIDATION_RMSE: &str = "validation_rmse";
pub const METADATA_EXECUTION_ARN: &str = "pipeline_execution_arn";

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

fn rmse() -> Value {
    json!({ "Get": format!("Steps.{TRAIN_STEP}.FinalMetricDataList['{RMSE_METRIC}'].Value") })
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

fn channel(name: &str, uri: &'static str) -> Value {
    json!({
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": { "S3DataSource": {
            "S3DataType": "S3Prefix",
            "S3Uri": param(uri),
            "S3DataDistributionType": "FullyReplicated",
        }},
    })
}

/// Where, and with which key, training writes the model artifact.
fn output_data_config(config: &DefinitionConfig) -> Value {
    let mut output = json!({ "S3OutputPath": {
        "Std:Join": { "On": "/", "Values": [config.model_output_uri.trim_end_matches('/'), param(DATASET_ID)] }
    }});
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
            "ResourceConfig": { "InstanceCount": 1, "InstanceType": param(INSTANCE_TYPE), "VolumeSizeInGB": 30 },
            "StoppingCondition": { "MaxRuntimeInSeconds": 3600 },
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
            "CustomerMetadataProperties": {
                METADATA_DATASET_ID: param(DATASET_ID),
                METADATA_VALIDATION_RMSE: as_string(rmse()),
                METADATA_EXECUTION_ARN: { "Get": "Execution.PipelineExecutionArn" },
            },
        }),
    };
    let fail = Step {
        name: FAIL_STEP,
        kind: "Fail",
        arguments: json!({ "ErrorMessage": { "Std:Join": { "On": " ", "Values": [
            format!("{RMSE_METRIC}"), rmse(), "is above the threshold", param(RMSE_THRESHOLD), "for dataset", param(DATASET_ID)
        ]}}}),
    };
    let condition = Step {
        name: CONDITION_STEP,
        kind: "Condition",
        arguments: json!({
            "Conditions": [{ "Type": "LessThanOrEqualTo", "LeftValue": rmse(), "RightValue": param(RMSE_THRESHOLD) }],
            "IfSteps": [register],
            "ElseSteps": [fail],
        }),
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
        steps: vec![training, condition],
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
            assert!(
                used.iter().any(|u| u == name) || name == crate::training::parameters::TEST_DATA,
                "{name} unused"
            );
        }
        assert_eq!(doc["Version"], "2020-12-01");
        let steps = doc["Steps"].as_array().unwrap();
        assert_eq!(steps[0]["Type"], "Training");
        assert_eq!(
            steps[1]["Arguments"]["IfSteps"][0]["Arguments"]["ModelApprovalStatus"],
            "PendingManualApproval"
        );
        assert_eq!(steps[1]["Arguments"]["ElseSteps"][0]["Type"], "Fail");
        assert_eq!(doc["Parameters"][5]["DefaultValue"], 6);
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
