//! The template's permissions: training and serving under separate least-privilege
//! roles, each event source's owner alone may put it on the bus, every role the
//! deploy role creates carries the boundary, no stack role but the schedule may
//! invoke a function, and each role trusts only the service that runs it.
//! Data protection (the key, TLS, listing) is `infra_data.rs`.

use integration_tests::policy;
use integration_tests::repo_root;
use integration_tests::template::{
    allow_statements, allowed_actions, functions, grants, reference, resolve, resources, template,
};
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
    use shared::events::scoring::SCORING_SOURCE;
    use shared::events::ETL_SOURCE;
    let template = template();
    let owners = [
        (ETL_SOURCE, "EtlFunction"),
        (TRIGGER_SOURCE, "StartPipelineFunction"),
        (DRIFT_SOURCE, "StartPipelineFunction"),
        (MONITOR_SOURCE, "MonitorFunction"),
        (PROMOTION_SOURCE, "PromoteModelFunction"),
        (SCORING_SOURCE, "ScoreFunction"),
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
    assert_eq!(denials.len(), owners.len() + 1, "one denial a source");
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
