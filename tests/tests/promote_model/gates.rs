//! What promote-model refuses: approvals from elsewhere, a stage skipped, a worse model.

use super::*;

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
