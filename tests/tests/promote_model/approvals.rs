//! Approvals deploy the latest approved version, once; endpoint state changes move packages on.

use super::*;

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
