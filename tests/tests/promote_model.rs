//! promote-model against moto: registry approvals deploy the latest approved
//! version to dev (Model, EndpointConfig, Endpoint, lineage tags, ModelPromoted),
//! re-deliveries and older approvals are no-ops, the allow-list / account /
//! region checks, the previous-stage and quality gates, and endpoint state
//! changes. moto has no UpdateEndpoint: the update path is in promote_faults.rs.

use integration_tests::{read_json, Setup, TestEnv};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::promotion::PromotionService;
use shared::stages::{
    TAG_COMPONENT, TAG_DATASET_ID, TAG_MODEL_PACKAGE_ARN, TAG_PIPELINE_EXECUTION_ARN,
    TAG_SOURCE_EVENT_ID, TAG_STACK, TAG_STAGE, TAG_VALIDATION_RMSE,
};
use std::collections::HashMap;

/// promote-model's test environment, with this file's helpers.
struct Env(TestEnv<PromotionService>);

impl std::ops::Deref for Env {
    type Target = TestEnv<PromotionService>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

async fn env(test: &str) -> Env {
    Env(Setup::new(&format!("promo-{test}")).promotion().await)
}

const EXECUTION: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/0123456789ab";

impl Env {
    async fn invoke(&self, event: Value) -> Result<Value, Diagnostic> {
        promote_model::handle(&self.service, LambdaEvent::new(event, Context::default())).await
    }

    /// Registers a package as the pipeline does; returns its ARN.
    async fn register(&self, rmse: f64) -> String {
        let dataset = format!("ds-rmse-{}", (rmse * 1000.0) as u32);
        self.stack
            .register_model(&self.clients, rmse, &dataset, EXECUTION)
            .await
            .unwrap()
    }

    async fn approved(&self, rmse: f64) -> String {
        let arn = self.register(rmse).await;
        self.stack.approve(&self.clients, &arn).await.unwrap();
        arn
    }

    /// The sample approval event, for `arn` (version `version` of our group).
    fn approval(&self, arn: &str, version: u32) -> Value {
        let mut event = read_json("events/promote-model/model-package-approved.json");
        event["id"] = format!("approval-{version}").into();
        event["resources"] = json!([arn]);
        let detail = &mut event["detail"];
        detail["ModelPackageGroupName"] = self.stack.model_package_group().into();
        detail["ModelPackageVersion"] = version.into();
        detail["ModelPackageArn"] = arn.into();
        event
    }

    fn promote(&self, version: u32, stage: &str) -> Value {
        let mut event = read_json("events/promote-model/promote-to-pre-prod.json");
        event["detail"]["model_package_group"] = self.stack.model_package_group().into();
        event["detail"]["model_package_version"] = version.into();
        event["detail"]["target_stage"] = stage.into();
        event
    }

    fn endpoint_name(&self, stage: &str) -> String {
        format!("{}-{stage}", self.stack.name)
    }

    fn endpoint_event(&self, stage: &str, status: &str) -> Value {
        let mut event = read_json("events/promote-model/endpoint-rolling-back.json");
        event["detail"]["EndpointName"] = self.endpoint_name(stage).into();
        event["detail"]["EndpointStatus"] = status.into();
        event
    }

    /// The endpoint's status and config, if it exists.
    async fn endpoint(&self, stage: &str) -> Option<(String, String)> {
        let out = self
            .clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(self.endpoint_name(stage))
            .send()
            .await
            .ok()?;
        Some((
            out.endpoint_status()?.as_str().to_string(),
            out.endpoint_config_name()?.to_string(),
        ))
    }

    async fn tags(&self, arn: &str) -> HashMap<String, String> {
        let out = self
            .clients
            .sagemaker
            .list_tags()
            .resource_arn(arn)
            .send()
            .await
            .unwrap();
        out.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    async fn config_tags(&self, config: &str) -> HashMap<String, String> {
        let out = self
            .clients
            .sagemaker
            .describe_endpoint_config()
            .endpoint_config_name(config)
            .send()
            .await
            .unwrap();
        self.tags(out.endpoint_config_arn().unwrap()).await
    }

    async fn events(&self) -> Vec<Value> {
        self.stack.received_events(&self.clients).await.unwrap()
    }
}

#[tokio::test]
async fn an_approval_deploys_to_dev_with_lineage_and_a_redelivery_is_a_no_op() {
    let env = env("deploy").await;
    let arn = env.approved(0.4712).await;
    let out = env.invoke(env.approval(&arn, 1)).await.unwrap();
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["action"], "create");
    assert_eq!(out["stage"], "dev");
    assert_eq!(out["model_package_arn"], arn.as_str());

    let (status, config) = env.endpoint("dev").await.expect("dev endpoint");
    assert_eq!(status, "InService");
    assert_eq!(out["endpoint_config"], config.as_str());
    assert!(
        config.starts_with(&format!("{}-v1-", env.endpoint_name("dev"))),
        "{config}"
    );

    // The EndpointConfig: the stage's variant and size (dev is serverless: no
    // instances, no data capture), with lineage tags.
    let described = env
        .clients
        .sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(&config)
        .send()
        .await
        .unwrap();
    let variant = &described.production_variants()[0];
    assert_eq!(variant.variant_name(), Some("AllTraffic"));
    assert_eq!(variant.model_name(), out["model"].as_str());
    assert_eq!(
        (variant.instance_type(), variant.initial_instance_count()),
        (None, None)
    );
    let serverless = variant.serverless_config().expect("a serverless config");
    assert_eq!(
        (serverless.memory_size_in_mb(), serverless.max_concurrency()),
        (Some(2048), Some(5))
    );
    assert_eq!(serverless.provisioned_concurrency(), None);
    // moto describes an absent DataCaptureConfig as an empty one: nothing enabled.
    let capture = described.data_capture_config();
    assert_eq!(
        capture.and_then(|c| c.enable_capture()),
        None,
        "{capture:?}"
    );
    assert_eq!(
        capture.and_then(|c| c.destination_s3_uri()),
        None,
        "{capture:?}"
    );
    let tags = env.config_tags(&config).await;
    assert_eq!(tags[TAG_MODEL_PACKAGE_ARN], arn);
    assert_eq!(tags[TAG_DATASET_ID], "ds-rmse-471");
    assert_eq!(tags[TAG_PIPELINE_EXECUTION_ARN], EXECUTION);
    assert_eq!(tags[TAG_SOURCE_EVENT_ID], "approval-1");
    assert_eq!(tags[TAG_VALIDATION_RMSE], "0.4712");
    assert_eq!(tags[TAG_STAGE], "dev");

    // The Model: from the package, tagged the same way.
    let model = env
        .clients
        .sagemaker
        .describe_model()
        .model_name(out["model"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        model.containers()[0].model_package_name(),
        Some(arn.as_str())
    );
    // dev is serverless: its own Model, without network isolation (moto does
    // not describe that setting: promote_converge.rs checks the request).
    assert!(
        out["model"].as_str().unwrap().ends_with("-v1-serverless"),
        "{out}"
    );
    let model_tags = env.tags(model.model_arn().unwrap()).await;
    assert_eq!(model_tags[TAG_MODEL_PACKAGE_ARN], arn);
    assert_eq!(model_tags[TAG_SOURCE_EVENT_ID], "approval-1");

    // Cost allocation: the Model, the config and the endpoint count toward the
    // stack's budget, as serving, on their stage.
    let endpoint_arn = env
        .clients
        .sagemaker
        .describe_endpoint()
        .endpoint_name(env.endpoint_name("dev"))
        .send()
        .await
        .unwrap()
        .endpoint_arn()
        .unwrap()
        .to_string();
    let endpoint_tags = env.tags(&endpoint_arn).await;
    for tags in [&model_tags, &tags, &endpoint_tags] {
        assert_eq!(tags[TAG_STACK], env.stack.name, "{tags:?}");
        assert_eq!(tags[TAG_COMPONENT], "serving", "{tags:?}");
    }
    assert_eq!(endpoint_tags[TAG_STAGE], "dev");

    let events = env.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "ModelPromoted");
    let detail = &events[0]["detail"];
    assert_eq!(detail["endpoint"], env.endpoint_name("dev").as_str());
    assert_eq!(detail["endpoint_config"], config.as_str());
    assert_eq!(detail["dataset_id"], "ds-rmse-471");
    assert_eq!(detail["validation_rmse"], 0.4712);
    assert_eq!(detail["source_event_id"], "approval-1");

    // The same approval again: nothing new.
    let again = env.invoke(env.approval(&arn, 1)).await.unwrap();
    assert_eq!(again["status"], "already_serving", "{again}");
    assert_eq!(env.endpoint("dev").await.unwrap().1, config);
    assert!(env.events().await.is_empty());
}

#[tokio::test]
async fn a_late_approval_of_an_older_version_never_downgrades() {
    let env = env("late").await;
    let v1 = env.approved(0.50).await;
    let v2 = env.approved(0.48).await;
    // v1's approval arrives after v2 was approved: the latest approved (v2) is deployed.
    let out = env.invoke(env.approval(&v1, 1)).await.unwrap();
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["model_package_arn"], v2.as_str());
    let (_, config) = env.endpoint("dev").await.unwrap();
    assert!(config.contains("-v2-"), "{config}");
    // v1's approval again, and v2's: dev keeps serving v2.
    for event in [env.approval(&v1, 1), env.approval(&v2, 2)] {
        let out = env.invoke(event).await.unwrap();
        assert_eq!(out["status"], "already_serving", "{out}");
    }
    assert_eq!(env.endpoint("dev").await.unwrap().1, config);
    // A person asking to put v1 on dev is refused: dev is deployed by approval.
    let out = env.invoke(env.promote(1, "dev")).await.unwrap();
    assert_eq!(out["reason"], "FirstStage", "{out}");
}

#[tokio::test]
async fn approvals_outside_the_allow_list_account_or_region_and_rejections_are_ignored() {
    let env = env("ignored").await;
    let arn = env.approved(0.47).await;

    let mut other_group = env.approval(&arn, 1);
    other_group["detail"]["ModelPackageGroupName"] = "someone-elses-models".into();
    let mut other_account = env.approval(&arn, 1);
    other_account["account"] = "210987654321".into();
    let mut other_region = env.approval(&arn, 1);
    other_region["region"] = "eu-west-1".into();
    // The documented example: a Rejected package (with its duplicated `source` key).
    let text = std::fs::read_to_string(
        integration_tests::repo_root()
            .join("tests/fixtures/aws-events/sagemaker-model-package-state-change.aws-docs.json"),
    )
    .unwrap();
    let mut rejected: Value = serde_json::from_str(&text).unwrap();
    rejected["detail"]["ModelPackageGroupName"] = env.stack.model_package_group().into();
    rejected["account"] = "123456789012".into();
    rejected["region"] = "us-east-1".into();

    for (event, why) in [
        (other_group, "not on the allow-list"),
        (other_account, "from account 210987654321"),
        (other_region, "from region eu-west-1"),
        (rejected, "is Rejected"),
    ] {
        let out = env.invoke(event).await.unwrap();
        assert_eq!(out["status"], "ignored", "{out}");
        assert!(out["reason"].as_str().unwrap().contains(why), "{out}");
    }
    assert!(env.endpoint("dev").await.is_none(), "nothing was deployed");
    assert!(env.events().await.is_empty());

    // Not an event promote-model handles, and not an event at all.
    let out = env
        .invoke(read_json("events/etl/object-created.eventbridge.json"))
        .await
        .unwrap();
    assert_eq!(out["status"], "ignored");
    let err = env.invoke(json!({"hello": "world"})).await.unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.UnexpectedEvent");
    let mut malformed = env.approval(&arn, 1);
    malformed["detail"]["ModelPackageVersion"] = "two".into();
    let err = env.invoke(malformed).await.unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.UnexpectedEvent");
    assert!(
        err.error_message
            .contains("\"two\" is not a version number"),
        "{}",
        err.error_message
    );
}

#[tokio::test]
async fn promote_model_needs_the_package_in_service_on_the_stage_before() {
    let env = env("gates").await;
    let v1 = env.approved(0.47).await;
    let _pending = env.register(0.46).await;

    // Nothing on dev yet: pre-prod is refused, and the refusal is published.
    let out = env.invoke(env.promote(1, "pre-prod")).await.unwrap();
    assert_eq!(out["status"], "refused", "{out}");
    assert_eq!(out["reason"], "PreviousStageNotServing");
    let events = env.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail-type"], "PromotionRefused");
    assert_eq!(events[0]["detail"]["requested_by"], "local-run");
    assert!(env.endpoint("pre-prod").await.is_none());

    env.invoke(env.approval(&v1, 1)).await.unwrap();
    // Skipping a stage: prod needs v1 on pre-prod first.
    let out = env.invoke(env.promote(1, "prod")).await.unwrap();
    assert_eq!(out["reason"], "PreviousStageNotServing", "{out}");

    for (version, stage, reason) in [
        (2, "pre-prod", "NotApproved"),
        (9, "pre-prod", "UnknownPackage"),
        (1, "staging", "UnknownStage"),
        (1, "dev", "FirstStage"),
    ] {
        let out = env.invoke(env.promote(version, stage)).await.unwrap();
        assert_eq!(out["reason"], reason, "v{version} to {stage}: {out}");
    }
    let mut other_group = env.promote(1, "pre-prod");
    other_group["detail"]["model_package_group"] = "someone-elses-models".into();
    let out = env.invoke(other_group).await.unwrap();
    assert_eq!(out["reason"], "UnknownGroup", "{out}");
    env.events().await;

    // dev serves v1: pre-prod, then prod.
    for stage in ["pre-prod", "prod"] {
        let out = env.invoke(env.promote(1, stage)).await.unwrap();
        assert_eq!(out["status"], "deploying", "{stage}: {out}");
        let (status, config) = env.endpoint(stage).await.unwrap();
        assert_eq!(status, "InService");
        let tags = env.config_tags(&config).await;
        assert_eq!(tags[TAG_MODEL_PACKAGE_ARN], v1);
        assert_eq!(tags[TAG_STAGE], stage);
    }
    let promoted: Vec<String> = env
        .events()
        .await
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["detail-type"].as_str().unwrap(),
                e["detail"]["stage"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(promoted, ["ModelPromoted pre-prod", "ModelPromoted prod"]);
    // Again: a no-op.
    let out = env.invoke(env.promote(1, "prod")).await.unwrap();
    assert_eq!(out["status"], "already_serving", "{out}");
}

#[tokio::test]
async fn the_quality_gate_refuses_a_worse_model_with_the_numbers() {
    let env = env("quality").await;
    let v1 = env.approved(0.40).await;
    env.invoke(env.approval(&v1, 1)).await.unwrap();
    let (_, serving) = env.endpoint("dev").await.unwrap();
    env.events().await;

    // 0.45 is 12.5 % worse than 0.40; the bundled tolerance is 2 %.
    let v2 = env.approved(0.45).await;
    let out = env.invoke(env.approval(&v2, 2)).await.unwrap();
    assert_eq!(out["status"], "refused", "{out}");
    assert_eq!(out["reason"], "QualityGate");
    let events = env.events().await;
    assert_eq!(events.len(), 1);
    let detail = &events[0]["detail"];
    assert_eq!(events[0]["detail-type"], "PromotionRefused");
    assert_eq!(detail["rmse_metric"], "validation_rmse");
    assert_eq!(detail["candidate_rmse"], 0.45);
    assert_eq!(detail["serving_rmse"], 0.40);
    assert_eq!(detail["rmse_tolerance"], 0.02);
    assert_eq!(detail["serving_model_package_arn"], v1.as_str());
    assert_eq!(detail["model_package_arn"], v2.as_str());
    assert_eq!(
        env.endpoint("dev").await.unwrap().1,
        serving,
        "dev still serves v1"
    );

    // The refusal halts dev's record: converging again (InService, the tick)
    // neither redeploys nor refuses again.
    let record = env.service.desired.read("dev").await.unwrap().unwrap();
    assert!(record.desired.is_halted(), "{record:?}");
    for event in [
        env.endpoint_event("dev", "IN_SERVICE"),
        read_json("events/promote-model/scheduled-tick.json"),
    ] {
        env.invoke(event).await.unwrap();
    }
    let refused = env
        .events()
        .await
        .into_iter()
        .filter(|e| e["detail-type"] == "PromotionRefused")
        .count();
    assert_eq!(refused, 0);
    assert_eq!(env.endpoint("dev").await.unwrap().1, serving);
}

#[tokio::test]
async fn endpoint_state_changes_report_rollbacks_and_failures_and_move_packages_on() {
    let env = env("states").await;
    let v1 = env.approved(0.47).await;
    env.invoke(env.approval(&v1, 1)).await.unwrap();
    env.events().await;

    for (status, detail_type) in [
        ("ROLLING_BACK", "DeploymentRolledBack"),
        ("FAILED", "DeploymentFailed"),
        ("UPDATE_ROLLBACK_FAILED", "DeploymentFailed"),
    ] {
        let out = env.invoke(env.endpoint_event("dev", status)).await.unwrap();
        assert_eq!(out["status"], "reported", "{out}");
        let events = env.events().await;
        assert_eq!(events.len(), 1, "{status}");
        assert_eq!(events[0]["detail-type"], detail_type);
        assert_eq!(events[0]["detail"]["stage"], "dev");
        assert_eq!(
            events[0]["detail"]["source_event_id"],
            "b3e8f0a4-2c6d-4f19-a7d5-9e0c1b2a3f48"
        );
    }

    // Someone else's endpoint, and a status that needs nothing.
    let mut other = env.endpoint_event("dev", "FAILED");
    other["detail"]["EndpointName"] = "someone-elses-endpoint".into();
    assert_eq!(env.invoke(other).await.unwrap()["status"], "ignored");
    assert_eq!(
        env.invoke(env.endpoint_event("dev", "CREATING"))
            .await
            .unwrap()["status"],
        "ignored"
    );
    assert!(env.events().await.is_empty());

    // dev InService: pre-prod has no manual gate, so v1 moves on by itself...
    let out = env
        .invoke(env.endpoint_event("dev", "IN_SERVICE"))
        .await
        .unwrap();
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["stage"], "pre-prod");
    assert_eq!(
        env.config_tags(&env.endpoint("pre-prod").await.unwrap().1)
            .await[TAG_MODEL_PACKAGE_ARN],
        v1
    );
    // ...but prod has one: pre-prod InService does not reach it.
    let out = env
        .invoke(env.endpoint_event("pre-prod", "IN_SERVICE"))
        .await
        .unwrap();
    assert_eq!(out["status"], "ignored", "{out}");
    assert!(
        out["reason"].as_str().unwrap().contains("manual gate"),
        "{out}"
    );
    assert!(env.endpoint("prod").await.is_none());
}
