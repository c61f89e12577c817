//! The template's permissions: training and serving under separate least-privilege
//! roles, each event source's owner alone may put it on the bus, every role the
//! deploy role creates carries the boundary, data is written with the project key
//! (the bucket policies evaluated for each kind of write, not read for their spelling).

use integration_tests::policy::{self, Context};
use integration_tests::repo_root;
use integration_tests::template::{
    allow_statements, allowed_actions, functions, grants, reference, resolve, resources, template,
};
use serde_json::Value;
use serde_norway::Value as Yaml;
use shared::stages::{Stages, BUNDLED};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn training_and_serving_run_as_separate_least_privilege_roles() {
    let template = template();
    let training = grants(template, "TrainingPipelineRole");
    let serving = grants(template, "EndpointModelRole");
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
    let alarm_names: BTreeMap<String, String> = resources(template)
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
    let promote = &functions(template)["PromoteModelFunction"]["Properties"];
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
    let functions = functions(template);
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
    let denials: BTreeMap<String, Yaml> = resources(template)
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
    let roles: Vec<(String, Yaml)> = resources(template)
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
    for (_, r) in resources(template) {
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
    let resources: BTreeMap<String, Yaml> = resources(template).into_iter().collect();
    // Each data bucket's policy, evaluated (moto evaluates no bucket policies: the
    // conditions are evaluated here by integration_tests::policy, from the IAM User
    // Guide's rules) for the writes that happen: the suite's own PutObjects send no
    // SSE headers (shared/src/aws/s3.rs), nor does a provider's plain `aws s3 cp`.
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/project";
    const OTHER: &str = "arn:aws:kms:us-east-1:123456789012:key/someone-elses";
    let sse = "s3:x-amz-server-side-encryption";
    let key_id = "s3:x-amz-server-side-encryption-aws-kms-key-id";
    // (what the write sends, its SSE condition keys, whether the policy lets it in)
    type Write = (&'static str, Vec<(&'static str, &'static str)>, bool);
    let writes: [Write; 7] = [
        (
            "no SSE headers (the bucket's default: the project key)",
            vec![],
            true,
        ),
        (
            "aws:kms with the project key",
            vec![(sse, "aws:kms"), (key_id, KEY)],
            true,
        ),
        (
            "aws:kms with another key",
            vec![(sse, "aws:kms"), (key_id, OTHER)],
            false,
        ),
        ("another key alone", vec![(key_id, OTHER)], false),
        ("SSE-S3", vec![(sse, "AES256")], false),
        (
            "aws:kms without a key (the AWS managed key)",
            vec![(sse, "aws:kms")],
            false,
        ),
        (
            "DSSE-KMS with the project key",
            vec![(sse, "aws:kms:dsse"), (key_id, KEY)],
            false,
        ),
    ];
    for bucket in ["RawBucket", "ProcessedBucket", "QuarantineBucket"] {
        let policy = resources
            .values()
            .find(|r| {
                r["Type"].as_str() == Some("AWS::S3::BucketPolicy")
                    && reference(&r["Properties"]["Bucket"]) == bucket
            })
            .unwrap_or_else(|| panic!("{bucket} has no policy"));
        let arn = format!("{bucket}.Arn");
        let names = BTreeMap::from([
            ("DataKey.Arn", KEY),
            (arn.as_str(), "arn:aws:s3:::b"),
            (
                "PromoteModelFunctionRole.Arn",
                "arn:aws:iam::123456789012:role/promote-model",
            ),
        ]);
        let document = resolve(&policy["Properties"]["PolicyDocument"], &names);
        let statements = document["Statement"].as_array().unwrap();
        let denied_at = |key: &str, context: &Context| {
            let object = format!("arn:aws:s3:::b/{key}");
            statements.iter().any(|s| {
                s["Effect"] == "Deny"
                    && policy::covers_action(s, "s3:PutObject")
                    && policy::covers_resource(s, &object)
                    && policy::holds(&s["Condition"], context)
            })
        };
        let denied = |context: &Context| denied_at("incoming/housing.csv", context);
        for (what, headers, allowed) in &writes {
            let mut context: Context = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            context.insert("aws:SecureTransport".into(), "true".into());
            assert_eq!(!denied(&context), *allowed, "{bucket}: a write with {what}");
        }
        let plain_http = Context::from([("aws:SecureTransport".to_string(), "false".to_string())]);
        assert!(denied(&plain_http), "{bucket}: a write over plain HTTP");
        // Each stage's desired-state record is promote-model's alone to write.
        let as_role = |role: &str| {
            Context::from([
                ("aws:SecureTransport".to_string(), "true".to_string()),
                (
                    "aws:PrincipalArn".to_string(),
                    format!("arn:aws:iam::123456789012:role/{role}"),
                ),
            ])
        };
        let record = "promotion/stages/prod.json";
        let records_guarded = bucket == "ProcessedBucket";
        assert_eq!(
            denied_at(record, &as_role("etl")),
            records_guarded,
            "{bucket}: {record} by the ETL"
        );
        assert!(
            !denied_at(record, &as_role("promote-model")),
            "{bucket}: {record} by promote-model"
        );
        assert!(
            !denied_at("datasets/ds-1/report.json", &as_role("etl")),
            "{bucket}: the ETL's outputs"
        );
    }
    // SageMaker names the key where it writes: training output, data capture.
    let definition = &resources["TrainingPipeline"]["Properties"]["PipelineDefinition"];
    let text = format!("{definition:?}");
    assert!(
        text.contains(r#"\"KmsKeyId\": \"${DataKey.Arn}\""#),
        "{text}"
    );
    let promote = &functions(template)["PromoteModelFunction"]["Properties"];
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

/// Every queue and topic refuses plain HTTP: a resource policy attached to it denies
/// every principal over `aws:SecureTransport = false` (the S3, SQS and SNS security
/// best-practice pages), evaluated here statement by statement for each action the
/// suite or AWS sends it. Before this test the monitor's dead-letter queue and the
/// alarm topic had no such policy.
#[test]
fn every_queue_and_topic_refuses_plain_http() {
    let template = template();
    let all = resources(template);
    let ids = |kind: &str| -> Vec<String> {
        all.iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(id, _)| id.clone())
            .collect()
    };
    // (resource type, its policy's type, the policy's list property, how a statement
    // names the resource, the actions sent to it)
    let kinds = [
        (
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            "Queues",
            ".Arn",
            vec!["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
        ),
        (
            "AWS::SNS::Topic",
            "AWS::SNS::TopicPolicy",
            "Topics",
            "",
            vec!["sns:Publish"],
        ),
    ];
    let plain = Context::from([("aws:SecureTransport".to_string(), "false".to_string())]);
    let tls = Context::from([("aws:SecureTransport".to_string(), "true".to_string())]);
    for (kind, policy_kind, list, arn_suffix, actions) in kinds {
        let found = ids(kind);
        assert!(!found.is_empty(), "no {kind} in the template");
        for id in found {
            let arn = format!("{id}{arn_suffix}");
            let names = BTreeMap::from([(arn.as_str(), "arn:aws:test:::resource")]);
            let statements: Vec<Value> = all
                .iter()
                .filter(|(_, r)| r["Type"].as_str() == Some(policy_kind))
                .filter(|(_, r)| {
                    r["Properties"][list]
                        .as_sequence()
                        .is_some_and(|l| l.iter().any(|v| reference(v) == id))
                })
                .flat_map(|(_, r)| {
                    r["Properties"]["PolicyDocument"]["Statement"]
                        .as_sequence()
                        .unwrap()
                        .clone()
                })
                .filter(|s| s["Effect"].as_str() == Some("Deny"))
                .map(|s| on_resources(&s, &names))
                .collect();
            for action in &actions {
                let denied = |context: &Context| {
                    statements.iter().any(|s| {
                        s["Principal"] == "*"
                            && policy::covers_action(s, action)
                            && policy::covers_resource(s, "arn:aws:test:::resource")
                            && policy::holds(&s["Condition"], context)
                    })
                };
                assert!(
                    denied(&plain),
                    "{id}: {action} over plain HTTP is not denied"
                );
                assert!(!denied(&tls), "{id}: {action} over TLS is denied");
            }
        }
    }
}

/// A statement as JSON for `tests/src/policy.rs`, its `Resource` reduced to the
/// resources in `names` ([`resolve_only`]); the parts the checks do not read stay
/// as the template spells them.
fn on_resources(statement: &Yaml, names: &BTreeMap<&str, &str>) -> Value {
    let mut json = serde_json::to_value(statement).unwrap();
    json["Resource"] = Value::from(resolve_only(&statement["Resource"], names));
    json
}

/// `value`'s resources with the references in `names` resolved (as `!GetAtt` or inside
/// `!Sub`), every other one dropped: a statement's Resource may list several queues,
/// and only one is asked about.
fn resolve_only(value: &Yaml, names: &BTreeMap<&str, &str>) -> Vec<String> {
    let items = match value {
        Yaml::Sequence(items) => items.clone(),
        one => vec![one.clone()],
    };
    items
        .iter()
        .filter_map(|item| {
            let text = reference(item);
            if let Some(name) = names.get(text.as_str()) {
                return Some(name.to_string());
            }
            let mut out = text;
            for (k, v) in names {
                out = out.replace(&format!("${{{k}}}"), v);
            }
            (!out.contains("${") && out.starts_with("arn:")).then_some(out)
        })
        .collect()
}

/// Listing the processed bucket is scoped to the prefixes each identity reads or
/// writes: every key its object grants cover can be listed (so a missing one reads
/// as 404, not 403: S3 API reference, GetObject/HeadObject "Permissions"; with the
/// permission scoped by `s3:prefix`, S3 decides on the key's prefix), and keys
/// elsewhere (another stage's records, captured traffic, models) cannot. moto
/// evaluates no such condition: the statements are evaluated here.
#[test]
fn listing_the_processed_bucket_is_scoped_to_what_each_identity_reads() {
    let template = template();
    let bucket = "arn:aws:s3:::processed";
    let names = BTreeMap::from([
        ("ProcessedBucket.Arn", bucket),
        ("RawBucket.Arn", "arn:aws:s3:::raw"),
        ("QuarantineBucket.Arn", "arn:aws:s3:::quarantine"),
    ]);
    let mut checked = 0;
    for (id, resource) in resources(template) {
        let statements: Vec<Value> = allow_statements(&resource["Properties"])
            .iter()
            .map(|s| on_resources(s, &names))
            .collect();
        let lists: Vec<&Value> = statements
            .iter()
            .filter(|s| {
                policy::covers_action(s, "s3:ListBucket") && policy::covers_resource(s, bucket)
            })
            .collect();
        if lists.is_empty() {
            continue;
        }
        checked += 1;
        let may_list = |prefix: &str| {
            let context = Context::from([("s3:prefix".to_string(), prefix.to_string())]);
            lists
                .iter()
                .any(|s| policy::holds(&s["Condition"], &context))
        };
        // Each key pattern its object grants name.
        let patterns: BTreeSet<String> = statements
            .iter()
            .flat_map(|s| match &s["Resource"] {
                Value::Array(items) => items.clone(),
                one => vec![one.clone()],
            })
            .filter_map(|r| Some(r.as_str()?.strip_prefix(&format!("{bucket}/"))?.to_string()))
            .collect();
        assert!(
            !patterns.is_empty(),
            "{id} lists the processed bucket but reads nothing in it"
        );
        for pattern in &patterns {
            let key = pattern.replace('*', "x");
            assert!(may_list(&key), "{id}: a missing {key} would read as 403");
        }
        for elsewhere in [
            "",
            "zz-test/x",
            "promotion/stages/prod.json",
            "models/x/model.tar.gz",
        ] {
            let granted = patterns.iter().any(|p| policy::like(p, elsewhere));
            assert!(
                granted || !may_list(elsewhere),
                "{id} may list {elsewhere:?}, which it never reads"
            );
        }
    }
    assert!(
        checked >= 6,
        "only {checked} identities list the processed bucket"
    );
}

/// Direct invocation: no role of the stack may invoke a function but the monitor's
/// schedule its function. The boundary every stack role carries (infra/bootstrap.yaml)
/// allows `lambda:InvokeFunction` only on the monitor, so a compromised ETL or trigger
/// cannot hand promote-model a forged `PromoteModel` or `aws.sagemaker` event. The
/// function names are SAM's: `<stack>-<LogicalId>-<suffix>`, the stack named
/// `housing-mlops-<environment>` (infra/samconfig.toml). moto does not evaluate
/// boundaries: the statements are evaluated here.
#[test]
fn no_stack_role_may_invoke_a_function_but_the_schedule_the_monitor() {
    let bootstrap: Yaml = serde_norway::from_str(
        &std::fs::read_to_string(repo_root().join("infra/bootstrap.yaml")).unwrap(),
    )
    .unwrap();
    let names = BTreeMap::from([
        ("AWS::Partition", "aws"),
        ("AWS::Region", "us-east-1"),
        ("AWS::AccountId", "123456789012"),
        ("Environment", "prod"),
    ]);
    let document = resolve(
        &bootstrap["Resources"]["StackRoleBoundary"]["Properties"]["PolicyDocument"],
        &names,
    );
    let statements = document["Statement"].as_array().unwrap();
    let may_invoke = |function: &str| {
        let arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:housing-mlops-prod-{function}-AbC123"
        );
        statements.iter().any(|s| {
            s["Effect"] == "Allow"
                && policy::covers_action(s, "lambda:InvokeFunction")
                && policy::covers_resource(s, &arn)
        })
    };
    assert!(may_invoke("MonitorFunction"));
    for function in [
        "EtlFunction",
        "StartPipelineFunction",
        "PromoteModelFunction",
        "PredictFunction",
    ] {
        assert!(!may_invoke(function), "a stack role may invoke {function}");
    }
    // The template grants it to the schedule's role alone, on the monitor alone.
    let template = template();
    let mut invokers = BTreeSet::new();
    for (id, resource) in resources(template) {
        for statement in allow_statements(&resource["Properties"]) {
            let mut actions = BTreeSet::new();
            allowed_actions(&statement, &mut actions);
            if actions.iter().any(|a| a.starts_with("lambda:")) {
                invokers.insert((id.clone(), reference(&statement["Resource"])));
            }
        }
    }
    assert_eq!(
        invokers,
        BTreeSet::from([(
            "MonitorScheduleRole".to_string(),
            "MonitorFunction.Arn".to_string()
        )])
    );
}

/// IAM has no condition key on a trust policy, so the deploy role cannot be kept from
/// writing any trust into a role it creates; the template's own roles are held here:
/// each trusts one AWS service of the three the suite uses, from this account only.
#[test]
fn the_stacks_roles_trust_only_the_services_that_run_them_from_this_account() {
    let template = template();
    let services = ["sagemaker.amazonaws.com", "scheduler.amazonaws.com"];
    let mut roles = 0;
    for (id, resource) in resources(template) {
        if resource["Type"].as_str() != Some("AWS::IAM::Role") {
            continue;
        }
        roles += 1;
        let statements = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        for statement in statements {
            let principal = &statement["Principal"];
            assert!(
                principal["AWS"].is_null() && principal["Federated"].is_null(),
                "{id} trusts {principal:?}"
            );
            let service = principal["Service"].as_str().unwrap_or_default();
            assert!(services.contains(&service), "{id} trusts {service:?}");
            assert_eq!(
                reference(&statement["Condition"]["StringEquals"]["aws:SourceAccount"]),
                "AWS::AccountId",
                "{id}: trust from any account"
            );
        }
    }
    assert_eq!(roles, 3);
    // The functions' roles are SAM's: trusted by lambda.amazonaws.com alone.
    assert!(functions(template)
        .values()
        .all(|f| f["Properties"]["Role"].is_null()
            && f["Properties"]["AssumeRolePolicyDocument"].is_null()));
}

/// SageMaker may use the data key for this stack's pipeline jobs, not for every
/// training job of the account. A pipeline names its jobs itself,
/// `pipelines-<execution id>-<step>-<suffix>` (the step name's case and length
/// vary), so `pipelines-*` is the tightest job ARN a policy can name; the
/// pipeline role may start and stop only such jobs too. Evaluated for the
/// `aws:SourceArn` SageMaker sends.
#[test]
fn sagemaker_uses_the_key_only_for_pipeline_jobs() {
    let template = template();
    let resources: BTreeMap<String, Yaml> = resources(template).into_iter().collect();
    let key_policy = resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_sequence()
        .unwrap();
    let statement = key_policy
        .iter()
        .find(|s| s["Sid"].as_str() == Some("SageMakerUsesTheKey"))
        .unwrap();
    let names = BTreeMap::from([
        ("AWS::Partition", "aws"),
        ("AWS::Region", "us-east-1"),
        ("AWS::AccountId", "123456789012"),
        ("AWS::StackName", "housing-mlops-dev"),
    ]);
    let condition = resolve(&statement["Condition"], &names);
    let uses = |source: &str| {
        let context = Context::from([
            ("aws:SourceAccount".to_string(), "123456789012".to_string()),
            (
                "aws:SourceArn".to_string(),
                format!("arn:aws:sagemaker:us-east-1:123456789012:{source}"),
            ),
        ]);
        policy::holds(&condition, &context)
    };
    assert!(uses(
        "training-job/pipelines-cfvy1tjuxdq8-trainmodel-tavd6f3wdf"
    ));
    assert!(uses("endpoint/housing-mlops-dev"));
    assert!(
        !uses("training-job/someone-elses-job"),
        "any training job of the account"
    );
    let pipeline_steps = resources["TrainingPipelineRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["Sid"].as_str() == Some("PipelineSteps"))
        .unwrap()
        .clone();
    let jobs = resolve_only(&pipeline_steps["Resource"], &names);
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    for resource in jobs {
        assert!(
            resource.ends_with("training-job/pipelines-*")
                || resource.ends_with("processing-job/pipelines-*"),
            "{resource}"
        );
    }
}
