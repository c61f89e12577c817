//! A desired-state record is not trusted because it is in S3: promote-model
//! checks each record again before it deploys from it (`promotion/verify.rs`),
//! so a record written by hand cannot walk around the bus policy or a manual
//! gate. (The bucket policy also denies writes under `promotion/` to all but
//! promote-model's role — `infra_iam.rs` — which moto does not evaluate; these
//! tests write the records as such a principal could.)
//!
//! SageMaker is the tests' fake (`integration_tests::sagemaker`); S3 and
//! EventBridge are moto.

use aws_sdk_sagemaker::types::EndpointStatus;
use integration_tests::promotion::outcome;
use integration_tests::sagemaker::{self, SageMaker, SharedSageMaker};
use integration_tests::{read_json, Setup, TestEnv};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use shared::promotion::desired::{Cause, Desired, Status};
use shared::promotion::names;
use shared::promotion::PromotionService;

struct World {
    env: TestEnv<PromotionService>,
    fake: SharedSageMaker,
    service: PromotionService,
}

impl World {
    /// The registry holds approved v1 of the allowed group; nothing serves.
    async fn new(test: &str) -> World {
        let env = Setup::new(&format!("records-{test}")).promotion().await;
        let fake = SageMaker::shared(env.stack.model_package_group());
        fake.lock().unwrap().register(1, true, 0.45);
        let mut service = PromotionService::new(&env.sdk, env.service.config.clone());
        service.sagemaker = sagemaker::client(&fake);
        World { env, fake, service }
    }

    fn endpoint(&self, stage: &str) -> String {
        format!("{}-{stage}", self.env.stack.name)
    }

    /// A record as promote-model would write it for `stage`, by `cause`.
    fn record(&self, stage: &str, version: u32, cause: Cause) -> Desired {
        let package = self.fake.lock().unwrap().package(version);
        Desired::new(stage, &package, cause, Some("someone"), None)
    }

    /// Puts `record` (any JSON) where stage `key`'s record lives, as a principal
    /// with write access to the bucket could.
    async fn put(&self, key: &str, record: &Value) {
        let at = self.service.desired.location(key);
        self.env
            .clients
            .s3
            .put_object()
            .bucket(&at.bucket)
            .key(&at.key)
            .body(serde_json::to_vec(record).unwrap().into())
            .send()
            .await
            .unwrap();
    }

    /// The registry's approval of `version`, handled.
    async fn approve(&self, version: u32) -> Value {
        let mut approval = read_json("events/promote-model/model-package-approved.json");
        let detail = &mut approval["detail"];
        detail["ModelPackageGroupName"] = self.env.stack.model_package_group().into();
        detail["ModelPackageVersion"] = version.into();
        detail["ModelPackageArn"] = self.fake.lock().unwrap().arn(version).into();
        promote_model::handle(
            &self.service,
            LambdaEvent::new(approval, Context::default()),
        )
        .await
        .unwrap()
    }

    async fn tick(&self) -> Value {
        let tick = read_json("events/promote-model/scheduled-tick.json");
        promote_model::handle(&self.service, LambdaEvent::new(tick, Context::default()))
            .await
            .unwrap()
    }

    /// The stage's record as it stands now: halted with `reason`, and why.
    async fn halted(&self, stage: &str) -> (String, String) {
        let read = self.service.desired.read(stage).await.unwrap().unwrap();
        match read.desired.status {
            Status::Halted {
                reason, message, ..
            } => (reason, message),
            other => panic!("{stage} is {other:?}, not halted"),
        }
    }

    fn deployments(&self) -> usize {
        self.fake.lock().unwrap().deployments.len()
    }
}

#[tokio::test]
async fn a_hand_written_prod_record_is_not_deployed_past_the_manual_gate() {
    let world = World::new("prod").await;
    // prod.json as a PromoteModel would leave it, with nothing in dev or pre-prod.
    let forged = world.record("prod", 1, Cause::Promote);
    world.service.desired.write(&forged, None).await.unwrap();
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "halted", "{tick}");
    assert_eq!(outcome(&tick, "prod")["reason"], "Unverified", "{tick}");
    let (reason, message) = world.halted("prod").await;
    assert_eq!(reason, "Unverified");
    assert!(message.contains("not InService on pre-prod"), "{message}");
    assert_eq!(world.deployments(), 0, "nothing deployed");

    // Nor as if it had moved on by itself: a manual gate takes only PromoteModel.
    let world = World::new("prod-advance").await;
    let forged = world.record("prod", 1, Cause::Advance);
    world.service.desired.write(&forged, None).await.unwrap();
    world.tick().await;
    let (_, message) = world.halted("prod").await;
    assert!(message.contains("only a PromoteModel"), "{message}");
    assert_eq!(world.deployments(), 0);
}

#[tokio::test]
async fn a_prod_record_is_deployed_when_pre_prod_serves_its_package() {
    // The same record is what a real PromoteModel leaves: with pre-prod serving
    // v1 InService, prod deploys it.
    let world = World::new("prod-ok").await;
    {
        let mut fake = world.fake.lock().unwrap();
        let config = format!("{}-v1-serving", world.endpoint("pre-prod"));
        fake.serve(
            &world.endpoint("pre-prod"),
            &config,
            1,
            "pre-prod",
            EndpointStatus::InService,
        );
    }
    let record = world.record("prod", 1, Cause::Promote);
    world.service.desired.write(&record, None).await.unwrap();
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "prod")["status"], "deploying", "{tick}");
    let deployments = world.fake.lock().unwrap().deployments.clone();
    let prod = world.env.stack.stages();
    let expected = names::endpoint_config_name(
        &world.fake.lock().unwrap().package(1),
        prod.get("prod").unwrap(),
        world.service.config.data_capture.as_ref(),
    );
    assert_eq!(deployments, [(world.endpoint("prod"), expected)]);
}

#[tokio::test]
async fn records_promote_model_could_not_have_written_are_halted() {
    let world = World::new("forged").await;
    let group = world.env.stack.model_package_group();
    let arn = world.fake.lock().unwrap().arn(1);
    let record =
        |stage: &str| serde_json::to_value(world.record(stage, 1, Cause::Approval)).unwrap();

    // Another group than the allow-list's (its package would be approved in the registry).
    let mut other_group = record("dev");
    other_group["model_package_group"] = "someone-elses-models".into();
    other_group["model_package_arn"] = arn
        .replace(&format!("/{group}/"), "/someone-elses-models/")
        .into();
    world.put("dev", &other_group).await;
    // A version the ARN does not name.
    let mut other_version = record("pre-prod");
    other_version["model_package_version"] = 7.into();
    world.put("pre-prod", &other_version).await;
    // Under prod's key, a record that says it is dev's.
    world.put("prod", &record("dev")).await;

    let tick = world.tick().await;
    for stage in ["dev", "pre-prod", "prod"] {
        assert_eq!(
            outcome(&tick, stage)["reason"],
            "Unverified",
            "{stage}: {tick}"
        );
    }
    let (_, message) = world.halted("dev").await;
    assert!(
        message.contains("someone-elses-models") && message.contains("MODEL_PACKAGE_GROUPS"),
        "{message}"
    );
    let (_, message) = world.halted("pre-prod").await;
    assert!(message.contains("is not version 7"), "{message}");
    // The halt is marked on the key the record was read from, not the one it names.
    let (_, message) = world.halted("prod").await;
    assert!(message.contains(r#"names stage "dev""#), "{message}");
    assert!(world.service.desired.read("dev").await.unwrap().is_some());
    assert_eq!(world.deployments(), 0, "nothing deployed");

    // A real request replaces a halted record and converges as usual.
    let out = world.approve(1).await;
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["stage"], "dev");
    assert_eq!(json!(world.deployments()), json!(1));
}

/// A record naming a version the registry does not have (the group was
/// re-created and counts from 1 again, or the record was written by hand) would
/// pin the first stage: an approval never exceeds its version. The registry is
/// asked: a record of a package that no longer exists is replaced.
#[tokio::test]
async fn a_record_of_a_package_the_registry_no_longer_has_is_replaced() {
    let world = World::new("gone").await;
    let group = world.env.stack.model_package_group();
    let arn = world.fake.lock().unwrap().arn(1);
    let mut gone = serde_json::to_value(world.record("dev", 1, Cause::Approval)).unwrap();
    gone["model_package_version"] = 7.into();
    gone["model_package_arn"] = arn
        .replace(&format!("/{group}/1"), &format!("/{group}/7"))
        .into();
    world.put("dev", &gone).await;
    let tick = world.tick().await;
    assert_eq!(outcome(&tick, "dev")["reason"], "NotApproved", "{tick}");

    let out = world.approve(1).await;
    assert_eq!(out["status"], "deploying", "{out}");
    let read = world.service.desired.read("dev").await.unwrap().unwrap();
    assert_eq!(read.desired.model_package_arn, arn);
    assert_eq!(world.deployments(), 1);
}
