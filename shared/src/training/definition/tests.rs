//! The unit tests of `definition`.

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
        let distribution =
            |i: usize| channels[i]["DataSource"]["S3DataSource"]["S3DataDistributionType"].clone();
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
