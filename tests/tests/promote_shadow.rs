//! Shadow tests through promote-model: a candidate for a stage with `shadow:`
//! first runs beside the serving model (an endpoint config with a shadow
//! variant), is judged by the tick once its duration has passed (the captured
//! answers of both variants in S3, their metrics in CloudWatch), and is then
//! deployed, or rejected with the serving model left alone.
//!
//! moto runs no endpoint (no UpdateEndpoint, no shadow variants, no
//! `AWS/SageMaker` metrics of its own), so SageMaker is the tests' stateful
//! fake (`integration_tests::sagemaker`), and the test writes what SageMaker
//! would: the capture files (S3 on moto) and the variants' invocation metrics
//! (CloudWatch on moto, which computes GetMetricData's sums and sample counts).
//! The test's "time passes" is the record's start moved back by the test
//! duration, as a hand would.

use aws_sdk_sagemaker::types::{EndpointStatus, TrafficRoutingConfigType};
use integration_tests::promotion::{outcome, World};
use integration_tests::Setup;
use serde_json::Value;
use shared::promotion::desired::Status;
use shared::stages::{TAG_MODEL_PACKAGE_VERSION, TAG_SHADOW_MODEL_PACKAGE_ARN};

/// pre-prod, and prod with a shadow test of ten minutes on half the requests,
/// judged on at least 20 requests.
const STAGES: &str = r#"
rmse_tolerance: 0.02
stages:
  - name: pre-prod
    endpoint: pre-prod
    instance_type: ml.m5.large
    instance_count: 1
    data_capture_percent: 50
    deployment: { strategy: all-at-once, wait_seconds: 0 }
  - name: prod
    endpoint: prod
    instance_type: ml.m5.large
    instance_count: 2
    data_capture_percent: 10
    deployment: { strategy: linear, step_percent: 50, wait_seconds: 600 }
    alarms: [prod-5xx]
    manual_gate: true
    shadow:
      sample_percent: 50
      duration_seconds: 600
      min_requests: 20
      max_latency_ratio: 1.5
      max_error_rate: 0.05
      max_prediction_delta: 0.1
"#;

async fn world(test: &str) -> World {
    let world = World::with(Setup::new(&format!("shadow-{test}")).stages(STAGES)).await;
    world.register(1, true, 0.50);
    world.register(2, true, 0.49);
    world.serving("pre-prod", 2, EndpointStatus::InService);
    world.serving("prod", 1, EndpointStatus::InService);
    world
}

/// The config of the last UpdateEndpoint, and its traffic routing type.
fn last_update(world: &World) -> (String, TrafficRoutingConfigType) {
    let fake = world.fake.lock().unwrap();
    let update = fake.updates.last().expect("an UpdateEndpoint");
    let routing = update
        .deployment_config()
        .and_then(|d| d.blue_green_update_policy())
        .and_then(|p| p.traffic_routing_configuration())
        .and_then(|r| r.r#type())
        .cloned()
        .unwrap();
    (update.endpoint_config_name().unwrap().to_string(), routing)
}

/// The shadow test results published so far (drains the bus's queue).
async fn results(world: &World) -> Vec<(String, Value)> {
    world
        .env
        .events()
        .await
        .into_iter()
        .filter(|e| e["detail-type"].as_str().unwrap().starts_with("ShadowTest"))
        .map(|e| {
            (
                e["detail-type"].as_str().unwrap().to_string(),
                e["detail"].clone(),
            )
        })
        .collect()
}

/// Starts v2's shadow test on prod; the shadow config's name.
async fn start(world: &World) -> String {
    let out = world.invoke(world.promote(2, "prod")).await;
    assert_eq!(out["status"], "shadowing", "{out}");
    assert_eq!(out["started"], true, "{out}");
    let config = out["endpoint_config"].as_str().unwrap().to_string();
    let desired = world.desired("prod").await;
    assert!(
        matches!(&desired.status, Status::Shadowing { endpoint_config, .. } if *endpoint_config == config),
        "{:?}",
        desired.status
    );
    world.settle("prod");
    config
}

#[tokio::test]
async fn a_candidate_runs_beside_the_serving_model_and_is_deployed_within_limits() {
    let world = world("passes").await;
    let config = start(&world).await;

    // The shadow config: the serving model answers, v2 gets half the requests,
    // everything captured; its lineage is still the serving model's.
    {
        let fake = world.fake.lock().unwrap();
        let created = fake
            .created_configs
            .iter()
            .find(|c| c.endpoint_config_name() == Some(config.as_str()))
            .unwrap();
        let production = &created.production_variants()[0];
        assert_eq!(production.variant_name(), Some("AllTraffic"));
        assert_eq!(
            production.model_name(),
            Some("served"),
            "the Model serving now"
        );
        let shadow = &created.shadow_production_variants()[0];
        assert_eq!(shadow.variant_name(), Some("Shadow-v2"));
        assert_eq!(shadow.initial_variant_weight(), Some(0.5));
        assert_eq!(shadow.initial_instance_count(), Some(2));
        let capture = created.data_capture_config().unwrap();
        assert_eq!(capture.initial_sampling_percentage(), Some(100));
        let tag = |key: &str| {
            created
                .tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        assert_eq!(tag(TAG_MODEL_PACKAGE_VERSION).as_deref(), Some("1"));
        assert_eq!(tag(TAG_SHADOW_MODEL_PACKAGE_ARN), Some(fake.arn(2)));
    }
    let (updated, routing) = last_update(&world);
    assert_eq!(
        (updated.as_str(), routing),
        (config.as_str(), TrafficRoutingConfigType::AllAtOnce)
    );
    assert_eq!(world.served_version("prod").as_deref(), Some("1"));
    assert!(world.promoted().await.is_empty(), "no user sees v2 yet");

    // Before its duration the tick leaves it running, and the same
    // PromoteModel delivered again changes nothing.
    let updates = world.deployments_to("prod");
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "shadowing", "{tick}");
    assert_eq!(outcome(&tick, "prod")["started"], false, "{tick}");
    let again = world.invoke(world.promote(2, "prod")).await;
    assert_eq!(again["status"], "shadowing", "{again}");
    assert_eq!(again["started"], false, "{again}");
    assert_eq!(world.deployments_to("prod"), updates, "no second start");

    // Ten minutes later, with 30 requests answered by both, v2 within 5 %.
    world.shadow_started_earlier("prod", 600).await;
    world.shadow_traffic("prod", 30, |s| s * 1.04, 1200.0).await;
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "deploying", "{tick}");
    assert_eq!(world.deployments_to("prod"), updates + 1);
    let (updated, routing) = last_update(&world);
    let v2 = world.config_of("prod", 2);
    assert_eq!(
        (updated, routing),
        (v2, TrafficRoutingConfigType::Linear),
        "the stage's own blue/green deployment"
    );
    let results = results(&world).await;
    assert_eq!(results.len(), 1, "{results:?}");
    let (kind, result) = &results[0];
    assert_eq!(kind, "ShadowTestPassed");
    let c = &result["comparison"];
    assert_eq!(c["compared"], 30, "{result}");
    assert_eq!(c["serving"]["invocations"], 30);
    assert_eq!(c["candidate"]["latency_mean_ms"], 1.2);
    assert!((c["latency_ratio"].as_f64().unwrap() - 1.2).abs() < 1e-9);
    assert!((c["prediction_delta"]["p90"].as_f64().unwrap() - 0.04).abs() < 1e-9);
    assert_eq!(c["crossed"], serde_json::json!([]));
    assert_eq!(result["model_package_version"], 2);
    assert!(world.desired("prod").await.started().is_some());
    assert_eq!(world.dead_lettered().await, 0);
}

#[tokio::test]
async fn a_worse_candidate_is_rejected_and_the_serving_model_stays_alone() {
    let world = world("rejected").await;
    start(&world).await;
    world.shadow_started_earlier("prod", 600).await;
    // 30 % off and twice as slow.
    world.shadow_traffic("prod", 30, |s| s * 1.3, 2000.0).await;
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "halted", "{tick}");
    assert_eq!(outcome(&tick, "prod")["reason"], "ShadowRejected", "{tick}");

    // Back to the serving model's own config, all at once.
    let (updated, routing) = last_update(&world);
    let v1 = world.config_of("prod", 1);
    assert_eq!(
        (updated, routing),
        (v1, TrafficRoutingConfigType::AllAtOnce)
    );
    let results = results(&world).await;
    let (kind, result) = &results[0];
    assert_eq!(kind, "ShadowTestFailed");
    let crossed = result["comparison"]["crossed"].as_array().unwrap();
    assert_eq!(crossed.len(), 2, "{crossed:?}");
    let Status::Halted { message, .. } = world.desired("prod").await.status else {
        panic!("not halted");
    };
    assert!(message.contains("30 records compared"), "{message}");
    assert!(message.contains("max_prediction_delta 0.1"), "{message}");
    assert!(message.contains("max_latency_ratio 1.5"), "{message}");

    // The endpoint back on v1 alone: the halted record deploys nothing more.
    world.settle("prod");
    let updates = world.deployments_to("prod");
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "halted", "{tick}");
    assert_eq!(world.deployments_to("prod"), updates);
    assert_eq!(world.served_version("prod").as_deref(), Some("1"));
    assert!(world.promoted().await.is_empty(), "v2 never served prod");
}

#[tokio::test]
async fn too_few_requests_is_no_pass() {
    let world = world("untested").await;
    start(&world).await;
    world.shadow_started_earlier("prod", 600).await;
    world.shadow_traffic("prod", 5, |s| s, 1000.0).await;
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["reason"], "ShadowRejected", "{tick}");
    let results = results(&world).await;
    let crossed = results[0].1["comparison"]["crossed"].to_string();
    assert!(
        crossed.contains("5 records answered by both variants, fewer than min_requests 20"),
        "{crossed}"
    );
}

#[tokio::test]
async fn a_newer_request_replaces_the_candidate_and_a_withdrawn_one_leaves_no_shadow() {
    let world = world("replaced").await;
    let first = start(&world).await;

    // v3 reaches pre-prod and is promoted to prod during v2's test: a new
    // shadow config, v3 beside the same serving model.
    world.register(3, true, 0.48);
    world.serving("pre-prod", 3, EndpointStatus::InService);
    let out = world.invoke(world.promote(3, "prod")).await;
    assert_eq!(out["status"], "shadowing", "{out}");
    let second = out["endpoint_config"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    {
        let fake = world.fake.lock().unwrap();
        let created = fake.created_configs.last().unwrap();
        assert_eq!(created.endpoint_config_name(), Some(second.as_str()));
        assert_eq!(
            created.production_variants()[0].model_name(),
            Some("served")
        );
        assert_eq!(
            created.shadow_production_variants()[0].variant_name(),
            Some("Shadow-v3")
        );
    }
    assert_eq!(last_update(&world).0, second);
    world.settle("prod");
    assert_eq!(world.served_version("prod").as_deref(), Some("1"));

    // v3 is withdrawn: its record halts, and the shadow is removed.
    let rejected = world.reject(3);
    world.invoke(rejected).await;
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["reason"], "NotApproved", "{tick}");
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "halted", "{tick}");
    let v1 = world.config_of("prod", 1);
    assert_eq!(last_update(&world).0, v1);
    assert!(
        results(&world).await.is_empty(),
        "no verdict on a withdrawn candidate"
    );
}

/// The serving model is withdrawn during the test: there is nothing left to
/// compare with, and the candidate replaces it at once, as the stage deploys.
#[tokio::test]
async fn a_withdrawn_serving_model_ends_the_test_and_the_candidate_replaces_it() {
    let world = world("withdrawn").await;
    start(&world).await;
    let rejected = world.reject(1);
    let out = world.invoke(rejected).await;
    assert_eq!(outcome(&out, "prod")["status"], "deploying", "{out}");
    let (updated, routing) = last_update(&world);
    let v2 = world.config_of("prod", 2);
    assert_eq!((updated, routing), (v2, TrafficRoutingConfigType::Linear));
    assert!(
        results(&world).await.is_empty(),
        "no verdict against a withdrawn model"
    );
    assert!(world.desired("prod").await.started().is_some());
}

/// A record hand-edited to `shadowing` on a config the endpoint does not run
/// halts, loudly, instead of waiting for a test that is not running.
#[tokio::test]
async fn a_shadow_test_the_endpoint_does_not_run_halts_the_record() {
    let world = world("not-running").await;
    start(&world).await;
    let read = world.service.desired.read("prod").await.unwrap().unwrap();
    let mut edited = read.desired.clone();
    edited.status = Status::Shadowing {
        endpoint_config: "prod-v1-shadow-v2-by-hand".into(),
        started_at_ms: 1,
    };
    assert!(world
        .service
        .desired
        .write(&edited, Some(&read))
        .await
        .unwrap());
    let tick = world.tick().await;
    assert_eq!(
        outcome(&tick, "prod")["reason"],
        "ShadowNotRunning",
        "{tick}"
    );
    let Status::Halted { message, .. } = world.desired("prod").await.status else {
        panic!("not halted");
    };
    assert!(
        message.contains("prod-v1-shadow-v2-by-hand did not run"),
        "{message}"
    );
    assert!(results(&world).await.is_empty());
}

/// A rollback (the serving model withdrawn, an older version approved) is
/// deployed at once: a shadow test would compare with the rejected model.
#[tokio::test]
async fn a_rollback_is_deployed_without_a_shadow_test() {
    let world = world("rollback").await;
    world.register(0, true, 0.51);
    start(&world).await;
    world.shadow_started_earlier("prod", 600).await;
    world.shadow_traffic("prod", 30, |s| s * 1.3, 1000.0).await;
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["reason"], "ShadowRejected", "{tick}");
    world.settle("prod");
    assert_eq!(results(&world).await.len(), 1);

    // v1, which prod serves, is withdrawn: prod rolls back to v0 (which
    // pre-prod serves, as a rollback past a manual gate needs) directly.
    world.serving("pre-prod", 0, EndpointStatus::InService);
    let rejected = world.reject(1);
    let out = world.invoke(rejected).await;
    assert_eq!(outcome(&out, "prod")["status"], "deploying", "{out}");
    assert_eq!(
        world.desired("prod").await.cause,
        shared::promotion::desired::Cause::Rollback
    );
    let (updated, routing) = last_update(&world);
    assert_eq!(
        (updated, routing),
        (world.config_of("prod", 0), TrafficRoutingConfigType::Linear)
    );
    assert!(results(&world).await.is_empty(), "no second test");
}
