//! Each autoscaled stage's variant is an Application Auto Scaling target with
//! a target-tracking policy (on moto, which implements both) once its endpoint
//! serves, and it stays one through deployments the way SageMaker documents
//! ("Update endpoints that use auto scaling"): a model-only update keeps the
//! registration and the fleet's current size; an instance-type change is
//! preceded by deregistering and followed, once InService, by registering again.
//!
//! SageMaker is the tests' fake (moto runs no deployments). What moto cannot
//! do: refuse an `UpdateEndpoint` that changes the instance type of a variant
//! that is a scalable target. The fake does, asking moto
//! ([`World::enforce_autoscaling`]); the last test shows it biting.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_sagemaker::types::{EndpointStatus, VariantPropertyType};
use integration_tests::promotion::World;
use integration_tests::Setup;
use shared::promotion::scaling::{self, Policy, Registered};

fn registered(min: i32, max: i32, target: f64, scale_in: i32, scale_out: i32) -> Registered {
    Registered {
        min,
        max,
        policy: Some(Policy {
            target,
            scale_in_cooldown: scale_in,
            scale_out_cooldown: scale_out,
        }),
    }
}

#[tokio::test]
async fn serving_stages_are_scaled_as_the_stages_file_says_and_hand_deletions_come_back() {
    let world = World::new("scaling-tick").await;
    world.register(1, true, 0.50);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    world.serving("prod", 1, EndpointStatus::InService);

    world.tick().await;
    let pre_prod = registered(1, 2, 1000.0, 300, 60);
    let prod = registered(2, 8, 1000.0, 600, 60);
    assert_eq!(world.scaling("pre-prod").await, Some(pre_prod.clone()));
    assert_eq!(world.scaling("prod").await, Some(prod.clone()));
    assert_eq!(world.scaling("dev").await, None, "dev is serverless");

    // An operator deletes prod's policy and deregisters pre-prod: the next tick
    // puts both back.
    let clients = &world.env.clients;
    let stages = &world.service.config.stages;
    let prod_stage = stages.get("prod").unwrap();
    clients
        .autoscaling
        .delete_scaling_policy()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(scaling::resource_id(prod_stage))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_name(scaling::policy_name(prod_stage))
        .send()
        .await
        .unwrap();
    scaling::deregister(&clients.autoscaling, stages.get("pre-prod").unwrap())
        .await
        .unwrap();
    assert_eq!(world.scaling("pre-prod").await, None);
    assert_eq!(world.scaling("prod").await.unwrap().policy, None);
    world.tick().await;
    assert_eq!(world.scaling("pre-prod").await, Some(pre_prod));
    assert_eq!(world.scaling("prod").await, Some(prod));
    assert_eq!(world.deployments(), 0, "scaling redeploys nothing");
}

#[tokio::test]
async fn a_model_update_keeps_the_registration_and_the_fleet_autoscaling_grew() {
    let world = World::new("scaling-model").await;
    world.enforce_autoscaling();
    world.register(1, true, 0.50);
    world.register(2, true, 0.49);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    world.tick().await;
    assert!(world.scaling("pre-prod").await.is_some());

    // v2 serves dev: the tick moves it on to pre-prod, blue/green.
    world.serving("dev", 2, EndpointStatus::InService);
    world.tick().await;
    let update = {
        let fake = world.fake.lock().unwrap();
        let [update] = fake.updates.as_slice() else {
            panic!("one UpdateEndpoint: {:?}", fake.updates);
        };
        update.clone()
    };
    assert_eq!(
        update.endpoint_name(),
        Some(world.endpoint("pre-prod").as_str())
    );
    // The fleet keeps its current desired count, not the config's initial one;
    // the new config's data capture settings still apply.
    assert_eq!(update.retain_all_variant_properties(), Some(true));
    let excluded: Vec<_> = update
        .exclude_retained_variant_properties()
        .iter()
        .map(|p| p.variant_property_type().cloned())
        .collect();
    assert_eq!(excluded, [Some(VariantPropertyType::DataCaptureConfig)]);
    // A model change of an autoscaled variant is allowed: it stays registered.
    assert!(world.scaling("pre-prod").await.is_some());

    world.settle("pre-prod");
    world.tick().await;
    assert_eq!(
        world.scaling("pre-prod").await,
        Some(registered(1, 2, 1000.0, 300, 60))
    );
    assert_eq!(world.served_version("pre-prod").as_deref(), Some("2"));
}

#[tokio::test]
async fn an_instance_type_change_deregisters_first_and_registers_once_in_service() {
    let world = World::new("scaling-type").await;
    world.enforce_autoscaling();
    world.register(1, true, 0.50);
    world.register(2, true, 0.49);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    // pre-prod runs on ml.m5.xlarge today; the stages file now says ml.m5.large.
    let serving_config = {
        let mut fake = world.fake.lock().unwrap();
        let config = fake.endpoint(&world.endpoint("pre-prod")).config.clone();
        fake.instance_types
            .insert(config.clone(), "ml.m5.xlarge".into());
        config
    };
    world.tick().await;
    assert!(world.scaling("pre-prod").await.is_some());

    // The fake refuses what SageMaker refuses: the type change while registered.
    let other = format!("{serving_config}-large");
    world
        .fake
        .lock()
        .unwrap()
        .instance_types
        .insert(other.clone(), "ml.m5.large".into());
    let refused = world
        .service
        .sagemaker
        .update_endpoint()
        .endpoint_name(world.endpoint("pre-prod"))
        .endpoint_config_name(&other)
        .send()
        .await;
    assert!(refused.is_err(), "the fake must refuse it");

    world.serving("dev", 2, EndpointStatus::InService);
    world.tick().await;
    assert_eq!(
        world.fake.lock().unwrap().updates.len(),
        1,
        "the deployment went through"
    );
    // Deregistered before the update, and not registered while it runs.
    assert_eq!(world.scaling("pre-prod").await, None);
    world.tick().await;
    assert_eq!(world.scaling("pre-prod").await, None, "still Updating");

    world.settle("pre-prod");
    world.tick().await;
    assert_eq!(
        world.scaling("pre-prod").await,
        Some(registered(1, 2, 1000.0, 300, 60))
    );
}

#[tokio::test]
async fn a_stage_without_autoscaling_is_deregistered() {
    // pre-prod without autoscaling, and awake: whatever the hour, only the
    // missing autoscaling can deregister it (the bundled file's pre-prod
    // sleeps at night, which deregisters it too).
    let yaml = local_stack::stack::bundled_stages_with("pre-prod", |s| {
        assert!(s.remove("autoscaling").is_some(), "pre-prod is autoscaled");
    })
    .unwrap();
    let world = World::with(Setup::new("scaling-off").stages(yaml)).await;
    world.register(1, true, 0.50);
    world.serving("pre-prod", 1, EndpointStatus::InService);
    // Left over from when the stage was autoscaled.
    let stage = world.service.config.stages.get("pre-prod").unwrap();
    world
        .env
        .clients
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(scaling::resource_id(stage))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .min_capacity(1)
        .max_capacity(4)
        .send()
        .await
        .unwrap();
    assert!(world.scaling("pre-prod").await.is_some());
    world.tick().await;
    assert_eq!(world.scaling("pre-prod").await, None);
}
