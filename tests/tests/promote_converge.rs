//! Promotion converges: requests that meet a busy endpoint are recorded as the
//! stage's desired state (S3 on moto) and deployed when the endpoint reports
//! InService or on the schedule's tick, with nothing dead-lettered; a rollback
//! halts the record so the rejected model is not redeployed.
//!
//! moto runs no endpoint deployments (no UpdateEndpoint, no states), so
//! SageMaker is the tests' stateful fake (`integration_tests::sagemaker`):
//! a registry, endpoints whose state the test moves (Updating, InService), and
//! the configs and tags promote-model writes. EventBridge, SQS and S3 are moto.

use aws_sdk_sagemaker::types::EndpointStatus;
use integration_tests::promotion::World;
use integration_tests::read_json;
use serde_json::Value;
use shared::promotion::desired::{Cause, Desired, Status};

#[tokio::test]
async fn an_approval_that_meets_a_busy_endpoint_is_deployed_once_it_is_in_service() {
    let world = World::new("busy-dev").await;
    world.register(1, true, 0.50);
    world.serving("dev", 1, EndpointStatus::Updating);
    world.register(2, true, 0.49);

    // dev is Updating: the approval is recorded, not failed and not dead-lettered.
    let out = world.invoke(world.approval(2)).await;
    assert_eq!(out["status"], "waiting", "{out}");
    assert_eq!(out["stage"], "dev");
    assert_eq!(out["endpoint_status"], "Updating");
    let desired = world.desired("dev").await;
    assert_eq!(desired.model_package_version, 2);
    assert_eq!(desired.cause, Cause::Approval);
    assert_eq!(desired.source_event_id.as_deref(), Some("approval-2"));
    assert_eq!(desired.status, Status::Pending);
    assert_eq!(
        world.deployments(),
        0,
        "nothing deployed to a busy endpoint"
    );

    // A newer approval while still busy moves the record on; a late delivery
    // of the older one does not move it back.
    world.register(3, true, 0.48);
    let out = world.invoke(world.approval(3)).await;
    assert_eq!(out["status"], "waiting", "{out}");
    let out = world.invoke(world.approval(2)).await;
    assert_eq!(out["status"], "waiting", "{out}");
    assert_eq!(world.desired("dev").await.model_package_version, 3);

    // The endpoint reports InService: dev converges to the latest approved.
    world.settle("dev");
    let out = world
        .invoke(world.endpoint_event("dev", "IN_SERVICE"))
        .await;
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["stage"], "dev");
    assert_eq!(out["action"], "update");
    assert_eq!(world.promoted().await, [("dev".to_string(), 3)]);
    let desired = world.desired("dev").await;
    assert_eq!(
        desired.started(),
        out["endpoint_config"].as_str(),
        "the record knows its deployment started"
    );

    // A redelivered InService while the update runs starts nothing and
    // announces nothing again.
    let out = world
        .invoke(world.endpoint_event("dev", "IN_SERVICE"))
        .await;
    assert_eq!(out["status"], "already_deploying", "{out}");
    assert!(world.promoted().await.is_empty());

    // The update ends: dev serves v3, which moves on to pre-prod (no manual gate).
    world.settle("dev");
    assert_eq!(world.served_version("dev").as_deref(), Some("3"));
    let out = world
        .invoke(world.endpoint_event("dev", "IN_SERVICE"))
        .await;
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["stage"], "pre-prod");
    assert_eq!(out["action"], "create");
    assert_eq!(world.desired("pre-prod").await.cause, Cause::Advance);
    assert_eq!(world.promoted().await, [("pre-prod".to_string(), 3)]);
    assert_eq!(world.deployments(), 2);
    assert_eq!(world.dead_lettered().await, 0, "nothing in the DLQ");
}

#[tokio::test]
async fn the_tick_converges_a_stage_whose_event_never_came() {
    let world = World::new("tick").await;
    world.register(1, true, 0.50);
    world.serving("dev", 1, EndpointStatus::InService);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    world.serving("prod", 1, EndpointStatus::Updating);
    world.register(2, true, 0.49);
    world.serving("dev", 2, EndpointStatus::InService);
    world.serving("pre-prod", 2, EndpointStatus::InService);

    // prod is busy: the operator's PromoteModel is recorded with who asked.
    let out = world.invoke(world.promote(2, "prod")).await;
    assert_eq!(out["status"], "waiting", "{out}");
    let desired = world.desired("prod").await;
    assert_eq!(
        (desired.model_package_version, desired.cause),
        (2, Cause::Promote)
    );
    assert_eq!(desired.requested_by.as_deref(), Some("local-run"));

    // prod's InService event is lost; the tick finds it and converges it: the
    // bundled prod first runs a candidate in a shadow test (promote_shadow.rs).
    world.settle("prod");
    let tick = read_json("events/promote-model/scheduled-tick.json");
    let out = world.invoke(tick.clone()).await;
    assert_eq!(out["status"], "reconciled", "{out}");
    let stages: Vec<&str> = out["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    // dev has no record (it serves v2, which moves on to pre-prod: already
    // there); prod converges to its record.
    assert_eq!(
        stages,
        ["nothing_recorded", "already_serving", "shadowing"],
        "{out}"
    );
    assert_eq!(out["stages"][2]["stage"], "prod");
    assert_eq!(out["stages"][2]["started"], true, "{out}");
    assert!(world.promoted().await.is_empty(), "no user sees v2 yet");
    let desired = world.desired("prod").await;
    assert!(
        matches!(desired.status, Status::Shadowing { .. }),
        "{desired:?}"
    );
    assert_eq!(desired.requested_by.as_deref(), Some("local-run"));

    // Another tick while the shadow config is deployed: nothing new.
    let out = world.invoke(tick).await;
    assert_eq!(out["stages"][2]["status"], "shadowing", "{out}");
    assert_eq!(out["stages"][2]["started"], false, "{out}");
    assert_eq!(world.deployments(), 1);
    assert_eq!(world.dead_lettered().await, 0);
}

#[tokio::test]
async fn a_rolled_back_deployment_is_not_redeployed_until_someone_asks_again() {
    let world = World::new("rollback").await;
    world.register(1, true, 0.50);
    world.serving("dev", 1, EndpointStatus::InService);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    world.register(2, true, 0.49);
    world.serving("dev", 2, EndpointStatus::InService);

    let out = world.invoke(world.promote(2, "pre-prod")).await;
    assert_eq!(out["status"], "deploying", "{out}");
    world.promoted().await;
    // The alarms fire: SageMaker rolls back to v1.
    let out = world
        .invoke(world.endpoint_event("pre-prod", "ROLLING_BACK"))
        .await;
    assert_eq!(out["status"], "reported", "{out}");
    let desired = world.desired("pre-prod").await;
    assert!(
        matches!(&desired.status, Status::Halted { reason, .. } if reason == "RolledBack"),
        "{desired:?}"
    );
    world.roll_back("pre-prod");
    assert_eq!(world.served_version("pre-prod").as_deref(), Some("1"));

    // InService again (on v1), and the tick: the rejected v2 stays out, and
    // dev's InService does not move it on again either.
    for event in [
        world.endpoint_event("pre-prod", "IN_SERVICE"),
        world.endpoint_event("dev", "IN_SERVICE"),
        read_json("events/promote-model/scheduled-tick.json"),
    ] {
        world.invoke(event).await;
    }
    assert_eq!(world.deployments(), 1, "v2 was not redeployed");
    assert_eq!(world.served_version("pre-prod").as_deref(), Some("1"));

    // A person asks again: the record is re-armed and v2 deploys.
    let out = world.invoke(world.promote(2, "pre-prod")).await;
    assert_eq!(out["status"], "deploying", "{out}");
    let desired = world.desired("pre-prod").await;
    assert_eq!(
        desired.started(),
        out["endpoint_config"].as_str(),
        "{desired:?}"
    );
    assert_eq!(world.deployments(), 2);
    assert_eq!(world.dead_lettered().await, 0);
}

#[tokio::test]
async fn a_deployment_that_did_not_take_halts_and_a_withdrawn_package_is_not_deployed() {
    let world = World::new("not-taken").await;
    world.register(1, true, 0.50);
    world.serving("dev", 1, EndpointStatus::InService);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    world.register(2, true, 0.49);
    let out = world.invoke(world.approval(2)).await;
    assert_eq!(out["status"], "deploying", "{out}");

    // The update fails without an alarm (and its event is lost): dev is back
    // InService on v1. The next convergence sees that and halts, once.
    world.roll_back("dev");
    let tick = read_json("events/promote-model/scheduled-tick.json");
    let out = world.invoke(tick.clone()).await;
    assert_eq!(out["stages"][0]["status"], "halted", "{out}");
    assert_eq!(out["stages"][0]["reason"], "NotTaken", "{out}");
    world.invoke(tick.clone()).await;
    assert_eq!(world.deployments(), 1);

    // v3 is approved while dev is busy, then withdrawn (rejected) before dev
    // is free: it is never deployed.
    world.serving("dev", 1, EndpointStatus::Updating);
    world.register(3, true, 0.48);
    let out = world.invoke(world.approval(3)).await;
    assert_eq!(out["status"], "waiting", "{out}");
    world
        .fake
        .lock()
        .unwrap()
        .packages
        .iter_mut()
        .for_each(|p| p.approved &= p.version != 3);
    world.settle("dev");
    let out = world
        .invoke(world.endpoint_event("dev", "IN_SERVICE"))
        .await;
    assert_eq!(world.deployments(), 1, "{out}");
    let desired = world.desired("dev").await;
    assert!(
        matches!(&desired.status, Status::Halted { reason, .. } if reason == "NotApproved"),
        "{desired:?}"
    );
    assert_eq!(world.dead_lettered().await, 0);
}

/// A package rejected after it was deployed does not keep serving silently:
/// the stage is rolled back to the newest approved version before it (blue/
/// green, without the quality gate: any approved model beats a rejected one),
/// announced once, and the next tick does not announce it again.
#[tokio::test]
async fn a_package_rejected_after_deployment_is_rolled_back_and_announced() {
    let world = World::new("withdrawn").await;
    world.register(1, true, 0.40);
    world.register(2, true, 0.50);
    world.serving("dev", 2, EndpointStatus::InService);

    let out = world.invoke(world.reject(2)).await;
    let dev = &out["stages"][0];
    assert_eq!(dev["status"], "deploying", "{out}");
    assert_eq!(dev["model_package_arn"], world.fake.lock().unwrap().arn(1));
    let record = world.desired("dev").await;
    assert_eq!(record.cause, Cause::Rollback);
    assert_eq!(record.model_package_version, 1);
    let withdrawn = world.withdrawn().await;
    assert_eq!(withdrawn.len(), 1, "{withdrawn:?}");
    assert_eq!(withdrawn[0]["stage"], "dev");
    assert_eq!(withdrawn[0]["model_package_version"], 2);
    assert_eq!(withdrawn[0]["approval"], "Rejected");
    assert_eq!(
        withdrawn[0]["rollback_to"],
        world.fake.lock().unwrap().arn(1)
    );

    // While the rollback deploys, and after: nothing announced again, nothing redeployed.
    let tick = read_json("events/promote-model/scheduled-tick.json");
    world.invoke(tick.clone()).await;
    world.settle("dev");
    world.invoke(tick).await;
    assert!(world.withdrawn().await.is_empty());
    assert_eq!(world.served_version("dev").as_deref(), Some("1"));
    assert_eq!(world.deployments_to("dev"), 1);
}

/// With no approved version before it, the stage keeps serving (deleting the
/// endpoint would take it down: a person's call), and its record halts loudly
/// (`ServingWithdrawn`, the event with no rollback), once.
#[tokio::test]
async fn a_rejected_package_with_nothing_to_roll_back_to_halts_loudly() {
    let world = World::new("withdrawn-alone").await;
    world.register(1, true, 0.40);
    world.serving("dev", 1, EndpointStatus::InService);
    let out = world.invoke(world.reject(1)).await;
    assert_eq!(out["stages"][0]["status"], "halted", "{out}");
    assert_eq!(out["stages"][0]["reason"], "ServingWithdrawn", "{out}");
    let withdrawn = world.withdrawn().await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["rollback_to"], Value::Null);
    let tick = read_json("events/promote-model/scheduled-tick.json");
    world.invoke(tick).await;
    assert!(world.withdrawn().await.is_empty(), "announced once");
    assert_eq!(world.deployments_to("dev"), 0);
}

/// A rollback record is held to the rule that makes one: written by hand
/// while the stage serves an approved package, it would downgrade the stage
/// past its gates. It halts `Unverified`.
#[tokio::test]
async fn a_hand_written_rollback_record_does_not_downgrade_a_stage() {
    let world = World::new("forged-rollback").await;
    world.register(1, true, 0.40);
    world.register(2, true, 0.41);
    world.serving("dev", 2, EndpointStatus::InService);
    let package = world.fake.lock().unwrap().package(1);
    let forged = Desired::new("dev", &package, Cause::Rollback, Some("someone"), None);
    world.service.desired.write(&forged, None).await.unwrap();
    let tick = read_json("events/promote-model/scheduled-tick.json");
    let out = world.invoke(tick).await;
    assert_eq!(out["stages"][0]["reason"], "Unverified", "{out}");
    assert_eq!(world.deployments_to("dev"), 0);
    assert_eq!(world.served_version("dev").as_deref(), Some("2"));
}

/// SageMaker Serverless Inference does not support network isolation (moto
/// accepts a serverless config on an isolated Model; AWS refuses it): the
/// serverless dev stage deploys with its own Model, created without it, and a
/// stage on instances keeps the isolated one.
#[tokio::test]
async fn a_serverless_stage_deploys_a_model_without_network_isolation() {
    let world = World::new("serverless-model").await;
    world.register(1, true, 0.50);
    let out = world.invoke(world.approval(1)).await;
    assert_eq!(out["status"], "deploying", "{out}");
    world.settle("dev");
    let out = world.invoke(world.promote(1, "pre-prod")).await;
    assert_eq!(out["status"], "deploying", "{out}");
    let fake = world.fake.lock().unwrap();
    let models: Vec<(Option<&str>, Option<bool>)> = fake
        .created_models
        .iter()
        .map(|m| (m.model_name(), m.enable_network_isolation()))
        .collect();
    let group = fake.group.clone();
    assert_eq!(
        models,
        [
            (Some(format!("{group}-v1-serverless").as_str()), Some(false)),
            (Some(format!("{group}-v1").as_str()), Some(true)),
        ]
    );
}
