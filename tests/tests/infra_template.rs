//! `infra/template.yaml` agrees with the code: one template function per function
//! crate (and back), each function's environment is what its configuration reads,
//! its limits and timings are what the code assumes, the stages file's endpoints and
//! alarms exist, and the pipeline definition is the generator's.

use integration_tests::repo_root;
use integration_tests::template::{functions, reference, resources, template};
use serde_json::Value;
use serde_norway::Value as Yaml;
use shared::config::Config;
use shared::config::Variable;
use shared::stages::{Stages, BUNDLED};
use shared::training::definition::{build, DefinitionConfig, XGBOOST_REGISTRIES};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn every_function_crate_has_a_template_function_and_back() {
    let dir = repo_root().join("functions");
    let crates: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| dir.join(name).join("Cargo.toml").exists())
        .collect();
    let deployed: BTreeSet<String> = functions(template())
        .into_iter()
        .map(|(logical, f)| {
            assert_eq!(f["Metadata"]["BuildMethod"].as_str(), Some("makefile"));
            let uri = f["Properties"]["CodeUri"].as_str().unwrap();
            let binary = uri
                .strip_prefix("../functions/")
                .expect("CodeUri is the function's crate")
                .to_string();
            // sam build runs the crate's Makefile target for the function, which
            // packages the crate's binary (the crate is named after it).
            let makefile = std::fs::read_to_string(dir.join(&binary).join("Makefile")).unwrap();
            assert!(
                makefile.contains(&format!("build-{logical}:")),
                "{makefile}"
            );
            assert!(
                makefile.contains(&format!("$(call bootstrap,{binary})")),
                "{makefile}"
            );
            binary
        })
        .collect();
    // One cargo build makes every function's binary, and the functions' names are one list.
    let mk = std::fs::read_to_string(dir.join("lambda.mk")).unwrap();
    let built: BTreeSet<String> = mk
        .lines()
        .find_map(|l| l.strip_prefix("LAMBDA_BINARIES := "))
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(built, deployed);
    let named: BTreeSet<String> = shared::functions::ALL
        .iter()
        .map(|f| f.to_string())
        .collect();
    assert_eq!(named, deployed);
    assert_eq!(crates, deployed);
    // Failed asynchronous invocations (after Lambda's retries) are kept, not dropped.
    // predict alone is invoked synchronously (by the HTTP API): its caller gets its errors.
    for (logical, f) in functions(template()) {
        let props = &f["Properties"];
        if logical == "PredictFunction" {
            assert!(
                props.get("Events").is_none(),
                "predict has no asynchronous event source"
            );
            assert!(props.get("DeadLetterQueue").is_none());
            continue;
        }
        assert_eq!(
            props["DeadLetterQueue"]["Type"].as_str(),
            Some("SQS"),
            "{logical}"
        );
        assert!(
            props["EventInvokeConfig"]["MaximumRetryAttempts"].is_u64(),
            "{logical}"
        );
        // Permanent failures go to the same queue at once (shared::aws::dead_letters).
        let queue = reference(&props["DeadLetterQueue"]["TargetArn"]);
        assert_eq!(
            format!(
                "{}.Arn",
                reference(&props["Environment"]["Variables"]["DEAD_LETTER_QUEUE_URL"])
            ),
            queue,
            "{logical}"
        );
        let statements = props["Policies"][0]["Statement"].as_sequence().unwrap();
        assert!(
            statements
                .iter()
                .any(|s| s["Action"].as_str() == Some("sqs:SendMessage")
                    && reference(&s["Resource"]) == queue),
            "{logical} cannot send to its dead-letter queue"
        );
    }
}

#[test]
fn each_function_gets_the_configuration_its_code_reads() {
    let template = template();
    let functions = functions(template);
    let cases: [(&str, Vec<Variable>); 6] = [
        ("EtlFunction", shared::etl::config::EtlConfig::variables()),
        (
            "StartPipelineFunction",
            shared::training::config::TriggerConfig::variables(),
        ),
        (
            "PromoteModelFunction",
            shared::promotion::config::PromoteConfig::variables(),
        ),
        (
            "PredictFunction",
            shared::serving::config::PredictConfig::variables(),
        ),
        (
            "MonitorFunction",
            shared::monitoring::config::MonitorConfig::variables(),
        ),
        (
            "ScoreFunction",
            shared::scoring::config::ScoringConfig::variables(),
        ),
    ];
    assert_eq!(functions.len(), cases.len());
    for (logical, variables) in cases {
        let set: BTreeSet<&str> = functions[logical]["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        let known: BTreeSet<&str> = variables.iter().map(|(name, _)| *name).collect();
        assert!(
            set.is_subset(&known),
            "{logical} sets variables its code does not read: {:?}",
            set.difference(&known)
        );
        for (name, default) in &variables {
            // AWS_REGION is set by Lambda itself.
            if default.is_none() && *name != "AWS_REGION" {
                assert!(
                    set.contains(name),
                    "{logical} does not set the required {name}"
                );
            }
        }
    }
    // The template offers exactly the training formats the ETL reads.
    let formats: Vec<&str> = template["Parameters"]["TrainingDataFormat"]["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(formats, ["csv", "parquet"]);
    for format in formats {
        format
            .parse::<shared::dataset::TrainingFormat>()
            .unwrap_or_else(|e| panic!("{format}: {e}"));
    }
    assert_eq!(
        template["Parameters"]["TrainingDataFormat"]["Default"].as_str(),
        Some(shared::dataset::TrainingFormat::default().as_str())
    );
    // The scoring's parameters offer what its configuration accepts: the bundled
    // stages, SageMaker's instance counts.
    let stages = shared::stages::Stages::parse(shared::stages::BUNDLED).unwrap();
    for parameter in ["ScoringStage", "ServingStage"] {
        let offered: Vec<&str> = template["Parameters"][parameter]["AllowedValues"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(offered, stages.names(), "{parameter}");
    }
    let instances = &template["Parameters"]["ScoringInstances"];
    assert_eq!(instances["MinValue"].as_u64(), Some(1));
    assert_eq!(
        instances["MaxValue"].as_u64(),
        Some(shared::scoring::config::MAX_INSTANCE_COUNT.into())
    );
    // The bundled stages capture requests, so promote-model needs a destination.
    assert!(
        functions["PromoteModelFunction"]["Properties"]["Environment"]["Variables"]
            .get("DATA_CAPTURE_S3_URI")
            .is_some()
    );
}

#[test]
fn the_etl_function_has_room_for_the_largest_file_it_accepts() {
    use shared::etl::limits::{
        memory_needed_mb, storage_needed_mb, DEFAULT_MAX_OBJECT_BYTES, DEFAULT_MAX_ROWS,
    };
    let etl = &functions(template())["EtlFunction"]["Properties"];
    let limit = |name: &str, default: u64| {
        etl["Environment"]["Variables"]
            .get(name)
            .map_or(default, |v| v.as_str().unwrap().parse().unwrap())
    };
    let rows = limit("MAX_ROWS", DEFAULT_MAX_ROWS as u64);
    let bytes = limit("MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES);
    let memory = etl["MemorySize"].as_u64().unwrap();
    let storage = etl["EphemeralStorage"]["Size"].as_u64().unwrap();
    assert!(
        memory_needed_mb(rows) <= memory,
        "{rows} rows need {} MB, the function has {memory}",
        memory_needed_mb(rows)
    );
    assert!(
        storage_needed_mb(bytes, rows) <= storage,
        "a {bytes}-byte object of {rows} rows needs {} MB of /tmp, the function has {storage}",
        storage_needed_mb(bytes, rows)
    );
    // Lambda's ceiling: a run must fit in 15 minutes (BENCHMARKS.md: 10M rows take seconds).
    assert_eq!(etl["Timeout"].as_u64(), Some(900));
}

/// The score function stages a file and its rows in /tmp: the largest file it
/// accepts (as large as the ETL's) fits.
#[test]
fn the_score_function_has_room_for_the_largest_file_it_accepts() {
    use shared::scoring::config::{DEFAULT_MAX_OBJECT_BYTES, STAGING_FACTOR};
    assert_eq!(
        DEFAULT_MAX_OBJECT_BYTES,
        shared::etl::limits::DEFAULT_MAX_OBJECT_BYTES,
        "files as large as the ETL accepts"
    );
    let score = &functions(template())["ScoreFunction"]["Properties"];
    let bytes = score["Environment"]["Variables"]
        .get("MAX_OBJECT_BYTES")
        .map_or(DEFAULT_MAX_OBJECT_BYTES, |v| {
            v.as_str().unwrap().parse().unwrap()
        });
    let storage_mb = score["EphemeralStorage"]["Size"].as_u64().unwrap() as f64;
    let needed_mb = bytes as f64 * STAGING_FACTOR / 1e6;
    assert!(
        needed_mb <= storage_mb,
        "a {bytes}-byte file needs {needed_mb:.0} MB of /tmp, the function has {storage_mb}"
    );
    assert_eq!(score["Timeout"].as_u64(), Some(900));
}

#[test]
fn a_training_claim_outlives_its_holder_and_not_lambdas_first_retry() {
    use shared::training::config::{DEFAULT_CLAIM_TIMEOUT_SECONDS, FIRST_RETRY_SECONDS};
    let trigger = &functions(template())["StartPipelineFunction"]["Properties"];
    let timeout = trigger["Timeout"]
        .as_u64()
        .expect("the trigger's own Timeout");
    let claim = trigger["Environment"]["Variables"]
        .get("CLAIM_TIMEOUT_SECONDS")
        .map_or(DEFAULT_CLAIM_TIMEOUT_SECONDS, |v| {
            v.as_str().unwrap().parse().unwrap()
        });
    assert!(
        timeout < claim,
        "a live delivery ({timeout} s) could lose its claim ({claim} s)"
    );
    assert!(
        claim < FIRST_RETRY_SECONDS,
        "a crash leaves a claim ({claim} s) older than Lambda's first retry ({FIRST_RETRY_SECONDS} s)"
    );
    assert_eq!(
        trigger["EventInvokeConfig"]["MaximumRetryAttempts"].as_u64(),
        Some(2)
    );
}

#[test]
fn the_stages_endpoints_and_alarms_are_in_the_template() {
    let template = template();
    let stages = Stages::parse(BUNDLED).unwrap();
    let alarm_names: BTreeSet<String> = resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .filter_map(|(_, r)| r["Properties"]["AlarmName"].as_str().map(str::to_string))
        .collect();
    for alarm in stages.alarms() {
        assert!(
            alarm_names.contains(alarm),
            "stages.yaml names alarm {alarm}; the template does not create it"
        );
    }
    let rule =
        &functions(template)["PromoteModelFunction"]["Properties"]["Events"]["EndpointState"];
    let endpoints: Vec<&str> = rule["Properties"]["Pattern"]["detail"]["EndpointName"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = stages.iter().map(|s| s.endpoint.as_str()).collect();
    assert_eq!(endpoints, expected);
}

#[test]
fn the_drift_alarm_fires_at_the_policy_s_default_psi() {
    use shared::drift::policy::{DriftPolicy, BUNDLED};
    let template = template();
    let alarm = &template["Resources"]["FeatureDriftAlarm"]["Properties"];
    let policy = DriftPolicy::parse(BUNDLED).unwrap();
    assert_eq!(alarm["Threshold"].as_f64(), Some(policy.default.psi));
    assert_eq!(
        alarm["ComparisonOperator"].as_str(),
        Some("GreaterThanOrEqualToThreshold"),
        "a column drifts when its score reaches the threshold"
    );
    let query = alarm["Metrics"][0]["Expression"].as_str().unwrap();
    assert_eq!(
        query,
        format!(
            "SELECT MAX(FeatureDriftPSI) FROM SCHEMA({}, Feature)",
            shared::telemetry::METRICS_NAMESPACE
        )
    );
}

/// The monitor's backlog alarm reads the metric the monitor emits, with its dimensions.
#[test]
fn the_monitor_behind_alarm_reads_the_monitors_backlog_metric() {
    let template = template();
    let alarm = &template["Resources"]["MonitorBehindAlarm"]["Properties"];
    let query = alarm["Metrics"][0]["Expression"].as_str().unwrap();
    assert_eq!(
        query,
        format!(
            "SELECT MAX({}) FROM SCHEMA({}, Function, {})",
            shared::monitoring::service::OLDEST_UNREAD_METRIC,
            shared::telemetry::METRICS_NAMESPACE,
            shared::monitoring::service::STAGE_DIMENSION,
        )
    );
}

/// The withdrawn-package alarm reads the metric promote-model emits.
#[test]
fn the_package_withdrawn_alarm_reads_promote_models_metric() {
    let template = template();
    let alarm = &template["Resources"]["PackageWithdrawnAlarm"]["Properties"];
    assert_eq!(
        alarm["Metrics"][0]["Expression"].as_str().unwrap(),
        format!(
            "SELECT SUM({}) FROM SCHEMA({}, Function, Stage)",
            shared::promotion::withdraw::PACKAGES_WITHDRAWN_METRIC,
            shared::telemetry::METRICS_NAMESPACE,
        )
    );
}

#[test]
fn the_pipeline_definition_is_the_generators() {
    let template = template();
    let pipeline = &template["Resources"]["TrainingPipeline"]["Properties"]["PipelineDefinition"]
        ["PipelineDefinitionBody"];
    let Yaml::Tagged(sub) = pipeline else {
        panic!("PipelineDefinitionBody is not a !Sub")
    };
    assert!(sub.tag == "Sub");
    let body = sub.value[0].as_str().unwrap();
    let in_template: Value = serde_json::from_str(body).expect("the definition is JSON");
    let generated: Value = serde_json::from_str(
        &build(&DefinitionConfig {
            role_arn: "${TrainingPipelineRole.Arn}".into(),
            model_package_group: "${AWS::StackName}-models".into(),
            model_output_uri: "s3://${ProcessedBucket}/models".into(),
            training_image: "${TrainingImage}".into(),
            kms_key_arn: Some("${DataKey.Arn}".into()),
            code_uri: "s3://${ProcessedBucket}/pipeline-code".into(),
            stack_name: Some("${AWS::StackName}".into()),
        })
        .to_json(),
    )
    .unwrap();
    assert_eq!(
        in_template, generated,
        "regenerate it: see infra/README.md (`pipeline-definition` with the placeholders)"
    );

    let mapping: BTreeMap<String, String> = template["Mappings"]["XGBoostRegistry"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(region, v)| {
            (
                region.as_str().unwrap().to_string(),
                v["Account"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let code: BTreeMap<String, String> = XGBOOST_REGISTRIES
        .iter()
        .map(|(r, a)| (r.to_string(), a.to_string()))
        .collect();
    assert_eq!(mapping, code);
}

/// The operators' command finds a stack's resources by its outputs (`shared::outputs`): the
/// template declares each, and the promotion records' output names where promote-model keeps
/// them.
#[test]
fn the_outputs_the_operators_command_reads_are_the_templates() {
    let template = template();
    let outputs = template["Outputs"].as_mapping().expect("Outputs");
    for name in shared::outputs::ALL {
        assert!(
            outputs.contains_key(name),
            "the template has no output {name}"
        );
    }
    let promote = &functions(template)["PromoteModelFunction"]["Properties"];
    assert_eq!(
        template["Outputs"][shared::outputs::PROMOTION_STATE_URI]["Value"],
        promote["Environment"]["Variables"]["PROMOTION_STATE_S3_URI"],
        "PromotionStateUri must be where promote-model keeps its records"
    );
}
