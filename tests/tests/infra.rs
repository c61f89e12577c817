//! `infra/template.yaml` agrees with the code: one template function per function
//! crate (and back), each function's environment is what its configuration reads,
//! the stages file's endpoints and alarms exist, the pipeline definition is the
//! generator's, and every rule's event pattern — evaluated by a real EventBridge
//! pattern engine (moto's: rules with SQS targets, events put on the buses) —
//! matches the sample events it is for and none of the near misses.

use integration_tests::{read_json, repo_root, sdk_config, shared_moto, Clients};
use serde_json::{json, Map, Value};
use serde_norway::Value as Yaml;
use shared::config::Config;
use shared::config::Variable;
use shared::stages::{Stages, BUNDLED};
use shared::training::definition::{build, DefinitionConfig, XGBOOST_REGISTRIES};
use std::collections::{BTreeMap, BTreeSet};

fn template() -> Yaml {
    let text = std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap();
    serde_norway::from_str(&text).expect("infra/template.yaml is YAML")
}

fn resources(template: &Yaml) -> Vec<(String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

/// The template's Lambda functions: logical id → resource.
fn functions(template: &Yaml) -> BTreeMap<String, Yaml> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .collect()
}

/// A template value as JSON, with `!Ref` and `!Sub` resolved from `names`.
fn resolve(value: &Yaml, names: &BTreeMap<&str, &str>) -> Value {
    match value {
        Yaml::Tagged(tagged) => {
            let text = tagged
                .value
                .as_str()
                .unwrap_or_else(|| panic!("unsupported {tagged:?}"));
            if tagged.tag == "Ref" {
                Value::from(
                    *names
                        .get(text)
                        .unwrap_or_else(|| panic!("no name for !Ref {text}")),
                )
            } else if tagged.tag == "Sub" {
                let mut out = text.to_string();
                for (k, v) in names {
                    out = out.replace(&format!("${{{k}}}"), v);
                }
                assert!(!out.contains("${"), "unresolved placeholder in {text}");
                Value::from(out)
            } else {
                panic!("unsupported tag {tagged:?}")
            }
        }
        Yaml::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), resolve(v, names)))
                .collect::<Map<_, _>>(),
        ),
        Yaml::Sequence(items) => Value::Array(items.iter().map(|v| resolve(v, names)).collect()),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::Bool(b) => Value::from(*b),
        Yaml::Null => Value::Null,
    }
}

#[test]
fn every_function_crate_has_a_template_function_and_back() {
    let dir = repo_root().join("functions");
    let crates: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| dir.join(name).join("Cargo.toml").exists())
        .collect();
    let deployed: BTreeSet<String> = functions(&template())
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
    for (logical, f) in functions(&template()) {
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
    let functions = functions(&template);
    let cases: [(&str, Vec<Variable>); 5] = [
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
    let etl = &functions(&template())["EtlFunction"]["Properties"];
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

#[test]
fn a_training_claim_outlives_its_holder_and_not_lambdas_first_retry() {
    use shared::training::config::{DEFAULT_CLAIM_TIMEOUT_SECONDS, FIRST_RETRY_SECONDS};
    let trigger = &functions(&template())["StartPipelineFunction"]["Properties"];
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

/// A resource reference or ARN as text: `!GetAtt X.Arn` → `X.Arn`, `!Sub "…"` → `…`.
fn reference(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Tagged(tagged) => match &tagged.value {
            Yaml::Sequence(items) => reference(&items[0]),
            inner => reference(inner),
        },
        other => format!("{other:?}"),
    }
}

/// Every (action, resource) an IAM role's inline policies allow.
fn grants(template: &Yaml, role: &str) -> BTreeSet<(String, String)> {
    let resources: BTreeMap<String, Yaml> = resources(template).into_iter().collect();
    let one_or_many = |v: &Yaml| -> Vec<Yaml> {
        match v {
            Yaml::Sequence(items) => items.clone(),
            one => vec![one.clone()],
        }
    };
    let mut out = BTreeSet::new();
    let policies = resources[role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    for statement in policies.iter().flat_map(|p| {
        p["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap()
            .clone()
    }) {
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{role}");
        for action in one_or_many(&statement["Action"]) {
            for resource in one_or_many(&statement["Resource"]) {
                out.insert((action.as_str().unwrap().to_string(), reference(&resource)));
            }
        }
    }
    out
}

#[test]
fn training_and_serving_run_as_separate_least_privilege_roles() {
    let template = template();
    let training = grants(&template, "TrainingPipelineRole");
    let serving = grants(&template, "EndpointModelRole");
    let allows = |grants: &BTreeSet<(String, String)>, action: &str, part: &str| {
        grants
            .iter()
            .any(|(a, r)| a == action && (r.contains(part) || r == "*"))
    };
    // Only training writes artifacts, reads datasets and registers packages.
    for (action, part) in [
        ("s3:PutObject", "/models/"),
        ("s3:GetObject", "/datasets/"),
        ("sagemaker:CreateModelPackage", "model-package"),
        ("sagemaker:CreateTrainingJob", "training-job"),
    ] {
        assert!(
            allows(&training, action, part),
            "training cannot {action} {part}"
        );
        assert!(
            !allows(&serving, action, part),
            "an endpoint can {action} {part}"
        );
    }
    // Only endpoints write captured requests and read the rollback alarms.
    assert!(allows(&serving, "s3:PutObject", "/data-capture/"));
    assert!(!allows(&training, "s3:PutObject", "/data-capture/"));
    assert!(!training
        .iter()
        .any(|(a, _)| a.starts_with("cloudwatch:Describe")));

    // DescribeAlarms on exactly the alarms the stages roll back on.
    let alarm_names: BTreeMap<String, String> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .map(|(id, r)| {
            (
                format!("{id}.Arn"),
                r["Properties"]["AlarmName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let watched: BTreeSet<String> = serving
        .iter()
        .filter(|(a, _)| a == "cloudwatch:DescribeAlarms")
        .map(|(_, r)| {
            alarm_names
                .get(r)
                .cloned()
                .unwrap_or_else(|| panic!("DescribeAlarms on {r}, not a stage alarm"))
        })
        .collect();
    let stages = Stages::parse(BUNDLED).unwrap();
    let expected: BTreeSet<String> = stages.alarms().into_iter().map(str::to_string).collect();
    assert_eq!(watched, expected);

    // promote-model creates models that run as the endpoint role, and can pass no other.
    let promote = &functions(&template)["PromoteModelFunction"]["Properties"];
    assert_eq!(
        reference(&promote["Environment"]["Variables"]["SAGEMAKER_ROLE_ARN"]),
        "EndpointModelRole.Arn"
    );
    let passes: Vec<String> = promote["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|s| s["Action"].as_str() == Some("iam:PassRole"))
        .map(|s| reference(&s["Resource"]))
        .collect();
    assert_eq!(passes, ["EndpointModelRole.Arn"]);
}

#[test]
fn only_each_source_s_owner_may_put_it_on_the_bus() {
    use shared::events::drift::{DRIFT_SOURCE, MONITOR_SOURCE};
    use shared::events::pipeline::TRIGGER_SOURCE;
    use shared::events::promotion::{OPERATOR_SOURCE, PROMOTION_SOURCE};
    use shared::events::ETL_SOURCE;
    let template = template();
    let owners = [
        (ETL_SOURCE, "EtlFunction"),
        (TRIGGER_SOURCE, "StartPipelineFunction"),
        (DRIFT_SOURCE, "StartPipelineFunction"),
        (MONITOR_SOURCE, "MonitorFunction"),
        (PROMOTION_SOURCE, "PromoteModelFunction"),
    ];
    // Each function may put its own sources, and only them.
    let functions = functions(&template);
    for (_, function) in owners {
        let statements = functions[function]["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap();
        let puts: Vec<&Yaml> = statements
            .iter()
            .filter(|s| s["Action"].as_str() == Some("events:PutEvents"))
            .collect();
        assert_eq!(puts.len(), 1, "{function}");
        let condition = &puts[0]["Condition"]["StringEquals"]["events:source"];
        let allowed: BTreeSet<&str> = match condition.as_sequence() {
            Some(sources) => sources.iter().filter_map(|s| s.as_str()).collect(),
            None => condition.as_str().into_iter().collect(),
        };
        let own: BTreeSet<&str> = owners
            .iter()
            .filter(|(_, f)| *f == function)
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(
            allowed, own,
            "{function} may put other sources than its own"
        );
    }
    // The bus denies each source to everyone but its owner, whatever else allows it.
    let denials: BTreeMap<String, Yaml> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Events::EventBusPolicy"))
        .map(|(_, r)| {
            let statement = r["Properties"]["Statement"].clone();
            assert_eq!(statement["Effect"].as_str(), Some("Deny"));
            assert_eq!(statement["Principal"].as_str(), Some("*"));
            assert_eq!(statement["Action"].as_str(), Some("events:PutEvents"));
            let source = statement["Condition"]["StringEquals"]["events:source"]
                .as_str()
                .unwrap()
                .to_string();
            (
                source,
                statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].clone(),
            )
        })
        .collect();
    for (source, function) in owners {
        let allowed = denials
            .get(source)
            .unwrap_or_else(|| panic!("nothing stops others putting {source}"));
        assert_eq!(
            reference(allowed),
            format!("{function}Role.Arn"),
            "{source}"
        );
    }
    // Operator commands: the named operators, by default the GitHub deploy role.
    let operators = denials
        .get(OPERATOR_SOURCE)
        .expect("nothing stops anyone sending PromoteModel");
    let Yaml::Tagged(choice) = operators else {
        panic!("{operators:?}")
    };
    let branches = choice.value.as_sequence().unwrap();
    assert_eq!(branches[0].as_str(), Some("OperatorsNamed"));
    assert_eq!(reference(&branches[1]), "OperatorPrincipalArns");
    assert!(
        reference(&branches[2][0]).ends_with(":role/github-deploy-housing-mlops-${Environment}"),
        "{:?}",
        branches[2]
    );
    let bootstrap = std::fs::read_to_string(repo_root().join("infra/bootstrap.yaml")).unwrap();
    assert!(bootstrap.contains(r#"RoleName: !Sub "github-deploy-housing-mlops-${Environment}""#));
    assert_eq!(denials.len(), 6);
}

/// Every action the statements under `value` allow.
fn allowed_actions(value: &Yaml, out: &mut BTreeSet<String>) {
    match value {
        Yaml::Mapping(m) => {
            if value["Effect"].as_str() == Some("Allow") {
                match &value["Action"] {
                    Yaml::String(a) => {
                        out.insert(a.clone());
                    }
                    Yaml::Sequence(items) => {
                        out.extend(items.iter().filter_map(|a| a.as_str().map(str::to_string)))
                    }
                    _ => {}
                }
            }
            for (_, v) in m {
                allowed_actions(v, out);
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|v| allowed_actions(v, out)),
        Yaml::Tagged(t) => allowed_actions(&t.value, out),
        _ => {}
    }
}

#[test]
fn every_role_the_deploy_role_creates_carries_the_boundary() {
    let template = template();
    let bootstrap: Yaml = serde_norway::from_str(
        &std::fs::read_to_string(repo_root().join("infra/bootstrap.yaml")).unwrap(),
    )
    .unwrap();
    let boundary = &bootstrap["Resources"]["StackRoleBoundary"]["Properties"];
    let name = boundary["ManagedPolicyName"].clone();
    let expected = format!(
        "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{}",
        reference(&name)
    );
    // The template puts it on every role: the functions' (Globals) and its own.
    assert_eq!(
        reference(&template["Globals"]["Function"]["PermissionsBoundary"]),
        expected
    );
    let roles: Vec<(String, Yaml)> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::IAM::Role"))
        .collect();
    assert_eq!(roles.len(), 3);
    for (logical, role) in &roles {
        assert_eq!(
            reference(&role["Properties"]["PermissionsBoundary"]),
            expected,
            "{logical}"
        );
    }
    // The boundary allows all the stack's roles use (their policies, what SAM adds for
    // the dead-letter queues, logs and X-Ray), so it breaks nothing.
    let mut used = BTreeSet::new();
    for (_, r) in resources(&template) {
        if matches!(
            r["Type"].as_str(),
            Some("AWS::IAM::Role" | "AWS::IAM::RolePolicy" | "AWS::Serverless::Function")
        ) {
            allowed_actions(&r["Properties"]["Policies"], &mut used);
            allowed_actions(&r["Properties"]["PolicyDocument"], &mut used);
        }
    }
    used.extend(
        [
            "sqs:SendMessage",
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
        ]
        .map(str::to_string),
    );
    let mut bounded = BTreeSet::new();
    allowed_actions(&boundary["PolicyDocument"], &mut bounded);
    let missing: Vec<&String> = used.difference(&bounded).collect();
    assert!(
        missing.is_empty(),
        "the boundary forbids what the stack uses: {missing:?}"
    );

    // The deploy role creates or changes a role only with the boundary on it, and can
    // never take it off.
    let statements = bootstrap["Resources"]["DeployRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .clone();
    let bounding = [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
    ];
    for statement in &statements {
        let mut actions = BTreeSet::new();
        allowed_actions(statement, &mut actions);
        assert!(!actions.contains("iam:DeleteRolePermissionsBoundary"));
        if actions.iter().any(|a| bounding.contains(&a.as_str())) {
            assert_eq!(
                reference(&statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"]),
                "StackRoleBoundary",
                "{:?} without the boundary",
                statement["Sid"]
            );
        }
    }
}

#[test]
fn data_is_written_with_the_project_key_and_services_use_it_only_for_this_stack() {
    let template = template();
    let resources: BTreeMap<String, Yaml> = resources(&template).into_iter().collect();
    // Each data bucket refuses an upload under any other key, or without KMS.
    for bucket in ["RawBucket", "ProcessedBucket", "QuarantineBucket"] {
        let policy = resources
            .values()
            .find(|r| {
                r["Type"].as_str() == Some("AWS::S3::BucketPolicy")
                    && reference(&r["Properties"]["Bucket"]) == bucket
            })
            .unwrap_or_else(|| panic!("{bucket} has no policy"));
        let statements = policy["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        let denies = |key: &str| -> Option<String> {
            statements
                .iter()
                .filter(|s| {
                    s["Effect"].as_str() == Some("Deny")
                        && s["Action"].as_str() == Some("s3:PutObject")
                })
                .map(|s| &s["Condition"]["StringNotEqualsIfExists"][key])
                .find(|v| !v.is_null())
                .map(reference)
        };
        assert_eq!(
            denies("s3:x-amz-server-side-encryption-aws-kms-key-id").as_deref(),
            Some("DataKey.Arn"),
            "{bucket} takes uploads under other keys"
        );
        assert_eq!(
            denies("s3:x-amz-server-side-encryption").as_deref(),
            Some("aws:kms"),
            "{bucket} takes uploads without KMS"
        );
    }
    // SageMaker names the key where it writes: training output, data capture.
    let definition = &resources["TrainingPipeline"]["Properties"]["PipelineDefinition"];
    let text = format!("{definition:?}");
    assert!(
        text.contains(r#"\"KmsKeyId\": \"${DataKey.Arn}\""#),
        "{text}"
    );
    let promote = &functions(&template)["PromoteModelFunction"]["Properties"];
    assert_eq!(
        reference(&promote["Environment"]["Variables"]["DATA_CAPTURE_KMS_KEY_ARN"]),
        "DataKey.Arn"
    );
    // Every service principal uses the key only for this stack's resources.
    let key_policy = resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_sequence()
        .unwrap();
    for statement in key_policy {
        if statement["Principal"]["Service"].is_null() {
            continue;
        }
        let condition = &statement["Condition"];
        let scoped = !condition["ArnLike"]["aws:SourceArn"].is_null()
            || !condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].is_null();
        assert!(scoped, "{:?} is not scoped to this stack", statement["Sid"]);
        assert!(
            statement["Principal"]["Service"].as_str().is_some(),
            "{:?}: one service a statement, each with its own scope",
            statement["Sid"]
        );
    }
}

#[test]
fn the_stages_endpoints_and_alarms_are_in_the_template() {
    let template = template();
    let stages = Stages::parse(BUNDLED).unwrap();
    let alarm_names: BTreeSet<String> = resources(&template)
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
        &functions(&template)["PromoteModelFunction"]["Properties"]["Events"]["EndpointState"];
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

/// A sample event as a PutEvents entry on `bus`.
fn entry(event: &Value, bus: &str) -> aws_sdk_eventbridge::types::PutEventsRequestEntry {
    let source = match &event["source"] {
        Value::Array(a) => a[0].as_str().unwrap().to_string(),
        s => s.as_str().unwrap().to_string(),
    };
    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(source)
        .detail_type(event["detail-type"].as_str().unwrap())
        .detail(event["detail"].to_string())
        .set_resources(event["resources"].as_array().map(|r| {
            r.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        }))
        .build()
}

#[tokio::test]
async fn every_rule_matches_its_events_and_none_of_the_near_misses() {
    let clients = Clients::new(&sdk_config(&shared_moto()).await);
    let names = BTreeMap::from([
        ("AWS::StackName", "infra-test"),
        ("RawBucket", "infra-test-raw"),
        ("EventBus", "infra-test-bus"),
    ]);
    clients
        .events
        .create_event_bus()
        .name("infra-test-bus")
        .send()
        .await
        .unwrap();

    // Every rule of every function, on its bus, delivering to a queue of its own.
    let mut queues = BTreeMap::new();
    let template = template();
    for (logical, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            // No event source: only the predictions API may invoke it, synchronously.
            let invokers: Vec<String> = resources(&template)
                .into_iter()
                .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Lambda::Permission"))
                .filter(|(_, r)| {
                    matches!(&r["Properties"]["FunctionName"],
                        Yaml::Tagged(t) if t.tag == "Ref" && t.value.as_str() == Some(logical.as_str()))
                })
                .map(|(_, r)| r["Properties"]["Principal"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(invokers, ["apigateway.amazonaws.com"], "{logical}");
            continue;
        };
        for (event_name, event) in events {
            let rule = format!("{logical}.{}", event_name.as_str().unwrap());
            let props = &event["Properties"];
            assert!(
                matches!(props["DeadLetterConfig"]["Arn"], Yaml::Tagged(_)),
                "{rule} has no dead-letter queue"
            );
            assert!(
                props["RetryPolicy"]["MaximumEventAgeInSeconds"].is_u64(),
                "{rule} has no retry policy"
            );
            if event["Type"].as_str() == Some("ScheduleV2") {
                // The traffic monitor: EventBridge Scheduler, its input the
                // handler's tick (the sample under events/monitor/).
                assert_eq!(logical, "MonitorFunction", "{rule}");
                let input: Value = serde_json::from_str(props["Input"].as_str().unwrap()).unwrap();
                assert_eq!(input, read_json("events/monitor/scheduled.json"), "{rule}");
                assert_eq!(input["check"], monitor::TICK, "{rule}");
                continue;
            }
            if event["Type"].as_str() == Some("Schedule") {
                // promote-model's tick: a schedule, not a pattern (its event is
                // the "Scheduled Event" sample under events/promote-model/).
                assert_eq!(logical, "PromoteModelFunction", "{rule}");
                let every = props["Schedule"].as_str().unwrap_or_default();
                assert!(every.starts_with("rate("), "{rule}: {every}");
                continue;
            }
            assert_eq!(event["Type"].as_str(), Some("EventBridgeRule"), "{rule}");
            let bus = props
                .get("EventBusName")
                .map_or("default".to_string(), |b| {
                    resolve(b, &names).as_str().unwrap().to_string()
                });
            let pattern = resolve(&props["Pattern"], &names);
            let rule_name = rule.replace('.', "-");
            clients
                .events
                .put_rule()
                .name(&rule_name)
                .event_bus_name(&bus)
                .event_pattern(pattern.to_string())
                .send()
                .await
                .unwrap();
            let queue = clients
                .sqs
                .create_queue()
                .queue_name(format!("infra-test-{rule_name}"))
                .send()
                .await
                .unwrap();
            let url = queue.queue_url().unwrap().to_string();
            let attrs = clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap();
            let arn = attrs.attributes().unwrap()
                [&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
                .clone();
            let target = aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .unwrap();
            clients
                .events
                .put_targets()
                .rule(&rule_name)
                .event_bus_name(&bus)
                .targets(target)
                .send()
                .await
                .unwrap();
            queues.insert(rule, url);
        }
    }

    let fixture = |name: &str| read_json(&format!("tests/fixtures/aws-events/{name}"));
    let with = |mut event: Value, path: &[&str], value: Value| {
        let mut at = &mut event;
        for key in path {
            at = &mut at[*key];
        }
        *at = value;
        event
    };
    let object_created = read_json("events/etl/object-created.eventbridge.json");
    let raw = json!("infra-test-raw");
    let approved = read_json("events/promote-model/model-package-approved.json");
    let ours = json!("infra-test-models");
    let group = ["detail", "ModelPackageGroupName"];
    let ready = read_json("events/start-pipeline/dataset-ready.json");
    let promote = read_json("events/promote-model/promote-to-pre-prod.json");
    let (default, custom) = ("default", "infra-test-bus");
    #[rustfmt::skip]
    let cases: Vec<(&str, Value, &str, Option<&str>)> = vec![
        ("S3 Object Created in the raw bucket", with(object_created.clone(), &["detail", "bucket", "name"], raw.clone()), default, Some("EtlFunction.RawObjectCreated")),
        ("S3 Object Created, AWS docs example, raw bucket", with(fixture("s3-eventbridge-object-created.aws-docs.json"), &["detail", "bucket", "name"], raw.clone()), default, Some("EtlFunction.RawObjectCreated")),
        ("S3 Object Created in another bucket", object_created.clone(), default, None),
        ("S3 Object Deleted in the raw bucket", with(with(object_created, &["detail", "bucket", "name"], raw), &["detail-type"], json!("Object Deleted")), default, None),
        ("HousingDatasetReady", ready.clone(), custom, Some("StartPipelineFunction.DatasetReady")),
        ("HousingDatasetReady from another source", with(ready.clone(), &["source"], json!("housing-mlops.operator")), custom, None),
        ("HousingDatasetReady on the default bus", ready, default, None),
        ("pipeline execution Failed", read_json("events/start-pipeline/pipeline-execution-failed.json"), default, Some("StartPipelineFunction.PipelineStatus")),
        ("pipeline execution Succeeded, AWS docs example", fixture("sagemaker-pipeline-execution-status-change.aws-docs.json"), default, Some("StartPipelineFunction.PipelineStatus")),
        ("pipeline execution Executing", with(fixture("sagemaker-pipeline-execution-status-change.aws-docs.json"), &["detail", "currentPipelineExecutionStatus"], json!("Executing")), default, None),
        ("pipeline step status change", fixture("sagemaker-pipeline-execution-step-status-change.aws-docs.json"), default, None),
        ("model package Approved in our group", with(approved.clone(), &group, ours.clone()), default, Some("PromoteModelFunction.ModelApproved")),
        ("model package Approved in another group", approved.clone(), default, None),
        ("model package Rejected in our group, AWS docs example", with(fixture("sagemaker-model-package-state-change.aws-docs.normalized.json"), &group, ours.clone()), default, None),
        ("model package PendingManualApproval in our group", with(with(approved, &group, ours), &["detail", "ModelApprovalStatus"], json!("PendingManualApproval")), default, None),
        ("PromoteModel", promote.clone(), custom, Some("PromoteModelFunction.PromoteCommand")),
        ("PromoteModel from another source", with(promote.clone(), &["source"], json!("someone.else")), custom, None),
        ("PromoteModel on the default bus", promote, default, None),
        ("endpoint ROLLING_BACK, a stage's endpoint", read_json("events/promote-model/endpoint-rolling-back.json"), default, Some("PromoteModelFunction.EndpointState")),
        ("endpoint IN_SERVICE, another endpoint (AWS docs example)", fixture("sagemaker-endpoint-state-change.aws-docs.json"), default, None),
    ];
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    for (what, event, bus, expected) in &cases {
        let out = clients
            .events
            .put_events()
            .entries(entry(event, bus))
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_entry_count(), 0, "{what}: {out:?}");
        let mut delivered = Vec::new();
        for (rule, url) in &queues {
            let got = clients
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            for m in got.messages() {
                delivered.push(rule.as_str());
                clients
                    .sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        let expected: Vec<&str> = expected.iter().copied().collect();
        assert_eq!(delivered, expected, "{what}");
        reached.extend(expected);
    }
    let rules: BTreeSet<&str> = queues.keys().map(String::as_str).collect();
    assert_eq!(
        reached, rules,
        "every rule has at least one event that reaches it"
    );
}
