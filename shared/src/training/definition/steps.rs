//! The steps of a branch (training, evaluation, the RMSE gate and its two
//! ends), and the parameters' defaults, as the definition JSON has them.

use super::*;

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

pub(super) fn default_value(p: &Parameter) -> Value {
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
pub(super) fn branch(config: &DefinitionConfig, capacity: Capacity) -> Value {
    json!([
        training(config, capacity),
        evaluation(config, capacity),
        gate(config, capacity)
    ])
}
