//! The template's permissions: training and serving under separate least-privilege
//! roles, each event source's owner alone may put it on the bus, every role the
//! deploy role creates carries the boundary, data is written with the project key
//! (the bucket policies evaluated for each kind of write, not read for their spelling).

use integration_tests::policy::{self, Context};
use integration_tests::repo_root;
use integration_tests::template::{
    allowed_actions, functions, grants, reference, resolve, resources, template,
};
use serde_norway::Value as Yaml;
use shared::stages::{Stages, BUNDLED};
use std::collections::{BTreeMap, BTreeSet};

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
