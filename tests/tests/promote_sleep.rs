//! A non-prod stage sleeps outside its `active` window: the tick deletes its
//! endpoint (deregistering its autoscaling first, as SageMaker asks), keeps
//! its desired-state record and endpoint config, records a `PromoteModel` to
//! it without deploying, and recreates the endpoint with the record's package
//! once the stage is awake. The window is set relative to now (twelve hours
//! away), so nothing here depends on when the tests run.
//!
//! SageMaker is the tests' fake (moto has no endpoint states or deletions
//! that a deployment can race); Application Auto Scaling and S3 are moto.

use aws_sdk_sagemaker::types::EndpointStatus;
use integration_tests::fixtures::stages_with_asleep;
use integration_tests::promotion::World;
use integration_tests::Setup;
use shared::promotion::desired::Status;

#[tokio::test]
async fn outside_its_window_a_stage_has_no_endpoint_and_wakes_with_its_record() {
    let (yaml, wakes) = stages_with_asleep("pre-prod");
    let mut world = World::with(Setup::new("sleep-tick").stages(yaml)).await;
    world.register(1, true, 0.50);
    world.register(2, true, 0.49);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    // Awake, pre-prod serves v1 and is autoscaled.
    let asleep = world.service.config.stages.clone();
    world.service.config.stages = asleep.clone().always_awake();
    world.tick().await;
    assert!(world.scaling("pre-prod").await.is_some());

    // Asleep: the tick deregisters pre-prod's scaling and deletes its endpoint;
    // dev's v2 is recorded for pre-prod (no manual gate) but not deployed.
    world.service.config.stages = asleep;
    world.serving("dev", 2, EndpointStatus::InService);
    let out = world.tick().await;
    let pre_prod = &out["stages"][1];
    assert_eq!(pre_prod["status"], "asleep", "{out}");
    assert_eq!(
        pre_prod["wakes_at"],
        wakes.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert!(
        !world
            .fake
            .lock()
            .unwrap()
            .endpoints
            .contains_key(&world.endpoint("pre-prod")),
        "the endpoint is deleted"
    );
    assert_eq!(world.scaling("pre-prod").await, None);
    let out = world.tick().await;
    assert_eq!(out["stages"][1]["status"], "asleep", "{out}");
    assert_eq!(out["stages"][1]["endpoint_status"], "(none)", "{out}");
    let desired = world.desired("pre-prod").await;
    assert_eq!(desired.model_package_version, 2);
    assert_eq!(
        desired.status,
        Status::Pending,
        "recorded while asleep, not deployed"
    );
    assert_eq!(world.deployments(), 0);

    // A person's PromoteModel to the sleeping stage is recorded the same way.
    let out = world.invoke(world.promote(2, "pre-prod")).await;
    assert_eq!(out["status"], "asleep", "{out}");

    // The window opens: the tick recreates the endpoint with the record's package.
    world.service.config.stages = world.service.config.stages.clone().always_awake();
    let out = world.tick().await;
    assert_eq!(out["stages"][1]["status"], "deploying", "{out}");
    assert_eq!(out["stages"][1]["action"], "create", "{out}");
    world.settle("pre-prod");
    assert_eq!(world.served_version("pre-prod").as_deref(), Some("2"));
    world.tick().await;
    assert!(
        world.scaling("pre-prod").await.is_some(),
        "scaled again once it serves"
    );
}

#[tokio::test]
async fn an_endpoint_mid_deployment_is_deleted_once_the_deployment_ends() {
    let (yaml, _) = stages_with_asleep("pre-prod");
    let world = World::with(Setup::new("sleep-busy").stages(yaml)).await;
    world.register(1, true, 0.50);
    world.serving("pre-prod", 1, EndpointStatus::Updating);
    let out = world.tick().await;
    assert_eq!(out["stages"][1]["status"], "asleep", "{out}");
    assert_eq!(out["stages"][1]["endpoint_status"], "Updating", "{out}");
    assert!(world
        .fake
        .lock()
        .unwrap()
        .endpoints
        .contains_key(&world.endpoint("pre-prod")));
    world.settle("pre-prod");
    world.tick().await;
    assert!(!world
        .fake
        .lock()
        .unwrap()
        .endpoints
        .contains_key(&world.endpoint("pre-prod")));
}
