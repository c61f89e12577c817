//! Every rule's event pattern — evaluated by a real EventBridge pattern engine
//! (moto's: rules with SQS targets, events put on the buses) — matches the sample
//! events it is for and none of the near misses.

use integration_tests::template::{functions, resolve, resources, template};
use integration_tests::{read_json, sdk_config, shared_moto, Clients};
use serde_json::{json, Value};
use serde_norway::Value as Yaml;
use shared::events::scoring::SCORING_CHECK;
use std::collections::{BTreeMap, BTreeSet};

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
    for (logical, function) in functions(template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            // No event source: only the predictions API may invoke it, synchronously.
            let invokers: Vec<String> = resources(template)
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
                // A schedule rule, not a pattern: promote-model's tick (the
                // "Scheduled Event" sample under events/promote-model/), and the
                // scoring's check, its input the handler's tick.
                let every = props["Schedule"].as_str().unwrap_or_default();
                assert!(every.starts_with("rate("), "{rule}: {every}");
                match logical.as_str() {
                    "PromoteModelFunction" => assert!(props.get("Input").is_none(), "{rule}"),
                    "ScoreFunction" => {
                        let input: Value =
                            serde_json::from_str(props["Input"].as_str().unwrap()).unwrap();
                        assert_eq!(input, read_json("events/score/scheduled.json"), "{rule}");
                        assert_eq!(input["check"], SCORING_CHECK, "{rule}");
                    }
                    other => panic!("{rule}: a schedule for {other}"),
                }
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
    let to_score = with(
        read_json("events/score/file-created.eventbridge.json"),
        &["detail", "bucket", "name"],
        json!("infra-test-raw"),
    );
    let job_ended = with(
        read_json("events/score/transform-job-completed.json"),
        &["detail", "TransformJobName"],
        json!("infra-test-sc-0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    );
    let job = ["detail", "TransformJobStatus"];
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
        ("S3 Object Created under score/ in the raw bucket", to_score.clone(), default, Some("ScoreFunction.FileCreated")),
        ("S3 Object Created under score/, AWS docs example, raw bucket", with(with(fixture("s3-eventbridge-object-created.aws-docs.json"), &["detail", "bucket", "name"], raw.clone()), &["detail", "object", "key"], json!("score/2026-12.csv")), default, Some("ScoreFunction.FileCreated")),
        ("S3 Object Created under score/ in another bucket", with(to_score.clone(), &["detail", "bucket", "name"], json!("elsewhere")), default, None),
        ("S3 Object Created under scores/ (not the prefix) in the raw bucket", with(to_score, &["detail", "object", "key"], json!("scores/x.csv")), default, Some("EtlFunction.RawObjectCreated")),
        ("transform job Completed, this stack's run", job_ended.clone(), default, Some("ScoreFunction.TransformJobEnded")),
        ("transform job Failed, this stack's run", with(job_ended.clone(), &job, json!("Failed")), default, Some("ScoreFunction.TransformJobEnded")),
        ("transform job Stopped, this stack's run", with(job_ended.clone(), &job, json!("Stopped")), default, Some("ScoreFunction.TransformJobEnded")),
        ("transform job InProgress, this stack's run", with(job_ended.clone(), &job, json!("InProgress")), default, None),
        ("transform job Completed, another stack's", with(job_ended.clone(), &["detail", "TransformJobName"], json!("other-stack-sc-0f1e2d3c4b5a69788796a5b4c3d2e1f0")), default, None),
        ("transform job Completed, on the suite's bus", job_ended, custom, None),
        ("S3 Object Deleted in the raw bucket", with(with(object_created, &["detail", "bucket", "name"], raw), &["detail-type"], json!("Object Deleted")), default, None),
        ("HousingDatasetReady", ready.clone(), custom, Some("StartPipelineFunction.DatasetReady")),
        ("HousingDatasetReady from another source", with(ready.clone(), &["source"], json!("housing-mlops.operator")), custom, None),
        ("HousingDatasetReady on the default bus", ready, default, None),
        ("pipeline execution Failed", read_json("events/start-pipeline/pipeline-execution-failed.json"), default, Some("StartPipelineFunction.PipelineStatus")),
        ("pipeline execution Succeeded, AWS docs example", fixture("sagemaker-pipeline-execution-status-change.aws-docs.json"), default, Some("StartPipelineFunction.PipelineStatus")),
        ("pipeline execution Executing", with(fixture("sagemaker-pipeline-execution-status-change.aws-docs.json"), &["detail", "currentPipelineExecutionStatus"], json!("Executing")), default, None),
        ("pipeline step status change", fixture("sagemaker-pipeline-execution-step-status-change.aws-docs.json"), default, None),
        ("model package Approved in our group", with(approved.clone(), &group, ours.clone()), default, Some("PromoteModelFunction.ModelApprovalChanged")),
        ("model package Approved in another group", approved.clone(), default, None),
        ("model package Rejected in our group, AWS docs example", with(fixture("sagemaker-model-package-state-change.aws-docs.normalized.json"), &group, ours.clone()), default, Some("PromoteModelFunction.ModelApprovalChanged")),
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
