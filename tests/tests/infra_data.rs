//! The template's data protection: data is written with the project key and
//! services use it only for this stack (the bucket policies evaluated for each
//! kind of write, not read for their spelling), every queue and topic refuses
//! plain HTTP, listing the processed bucket is scoped to what each identity
//! reads, and SageMaker uses the key only for the pipeline's jobs.

use integration_tests::policy::{self, Context};
use integration_tests::template::{
    allow_statements, functions, reference, resolve, resources, template,
};
use serde_json::Value;
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

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
