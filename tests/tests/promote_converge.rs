//! Promotion converges: requests that meet a busy endpoint are recorded as the
//! stage's desired state (S3 on moto) and deployed when the endpoint reports
//! InService or on the schedule's tick, with nothing dead-lettered; a rollback
//! halts the record so the rejected model is not redeployed.
//!
//! moto runs no endpoint deployments (no UpdateEndpoint, no states), so
//! SageMaker is a small stateful fake built from aws-smithy-mocks rules: a
//! registry, endpoints whose state the test moves (Updating, InService), and
//! the configs and tags promote-model writes. EventBridge, SQS and S3 are moto.

use aws_sdk_sagemaker::operation::create_endpoint::CreateEndpointOutput;
use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigOutput;
use aws_sdk_sagemaker::operation::create_model::CreateModelOutput;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
use aws_sdk_sagemaker::operation::describe_model::DescribeModelOutput;
use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
use aws_sdk_sagemaker::operation::update_endpoint::UpdateEndpointOutput;
use aws_sdk_sagemaker::types::{
    EndpointStatus, ModelApprovalStatus, ModelPackageSummary, PendingDeploymentSummary, Tag,
};
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::DateTime;
use integration_tests::{read_json, Function, Setup, TestEnv};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::aws::dead_letters::DeadLetters;
use shared::promotion::desired::{Cause, Desired, Status};
use shared::promotion::names;
use shared::promotion::PromotionService;
use shared::stages::{Lineage, TAG_MODEL_PACKAGE_VERSION};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

const ACCOUNT_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012";

#[derive(Clone)]
struct FakePackage {
    version: u32,
    approved: bool,
    rmse: f64,
}

struct FakeEndpoint {
    status: EndpointStatus,
    config: String,
    pending: Option<String>,
}

/// What SageMaker holds, as the fake's rules read and change it.
#[derive(Default)]
struct Fake {
    group: String,
    packages: Vec<FakePackage>,
    endpoints: BTreeMap<String, FakeEndpoint>,
    /// Endpoint configs promote-model created, with their tags.
    configs: HashMap<String, Vec<Tag>>,
    models: Vec<String>,
    /// (endpoint, config) of every CreateEndpoint / UpdateEndpoint, in order.
    deployments: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Fake>>;

fn not_found<O, E>(message: &str) -> MockResponse<O, E> {
    let body = format!(r#"{{"__type":"ValidationException","message":"{message}"}}"#);
    MockResponse::Http(Response::new(
        StatusCode::try_from(400).unwrap(),
        SdkBody::from(body),
    ))
}

impl Fake {
    fn arn(&self, version: u32) -> String {
        format!("{ACCOUNT_ARN}:model-package/{}/{version}", self.group)
    }
}

/// The rules of the fake: every SageMaker call promote-model makes.
fn rules(fake: &Shared) -> Vec<Rule> {
    let f = fake.clone();
    let list =
        mock!(aws_sdk_sagemaker::Client::list_model_packages).then_compute_output(move |r| {
            let fake = f.lock().unwrap();
            let only_approved = r.model_approval_status() == Some(&ModelApprovalStatus::Approved);
            let summaries = fake
                .packages
                .iter()
                .rev()
                .filter(|p| p.approved || !only_approved)
                .map(|p| {
                    ModelPackageSummary::builder()
                        .model_package_group_name(&fake.group)
                        .model_package_version(p.version as i32)
                        .model_package_arn(fake.arn(p.version))
                        .model_approval_status(if p.approved {
                            ModelApprovalStatus::Approved
                        } else {
                            ModelApprovalStatus::Rejected
                        })
                        .creation_time(DateTime::from_secs(1_795_000_000 + p.version as i64))
                        .build()
                })
                .collect();
            ListModelPackagesOutput::builder()
                .set_model_package_summary_list(Some(summaries))
                .build()
        });
    let f = fake.clone();
    let package =
        mock!(aws_sdk_sagemaker::Client::describe_model_package).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            let name = r.model_package_name().unwrap_or_default();
            let Some(p) = fake.packages.iter().find(|p| fake.arn(p.version) == name) else {
                return not_found("Model package does not exist.");
            };
            MockResponse::Output(
                DescribeModelPackageOutput::builder()
                    .model_package_group_name(&fake.group)
                    .model_package_version(p.version as i32)
                    .model_package_arn(fake.arn(p.version))
                    .model_approval_status(if p.approved {
                        ModelApprovalStatus::Approved
                    } else {
                        ModelApprovalStatus::Rejected
                    })
                    .customer_metadata_properties("dataset_id", format!("ds-v{}", p.version))
                    .customer_metadata_properties("validation_rmse", p.rmse.to_string())
                    .build(),
            )
        });
    let f = fake.clone();
    let endpoint =
        mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            let name = r.endpoint_name().unwrap_or_default();
            let Some(e) = fake.endpoints.get(name) else {
                return not_found("Could not find endpoint.");
            };
            MockResponse::Output(
                DescribeEndpointOutput::builder()
                    .endpoint_name(name)
                    .endpoint_config_name(&e.config)
                    .endpoint_status(e.status.clone())
                    .set_pending_deployment_summary(e.pending.as_ref().map(|c| {
                        PendingDeploymentSummary::builder()
                            .endpoint_config_name(c)
                            .build()
                    }))
                    .build(),
            )
        });
    let f = fake.clone();
    let config = mock!(aws_sdk_sagemaker::Client::describe_endpoint_config).then_compute_response(
        move |r| {
            let name = r.endpoint_config_name().unwrap_or_default();
            if !f.lock().unwrap().configs.contains_key(name) {
                return not_found("Could not find endpoint configuration.");
            }
            MockResponse::Output(
                DescribeEndpointConfigOutput::builder()
                    .endpoint_config_name(name)
                    .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                    .build(),
            )
        },
    );
    let f = fake.clone();
    let tags = mock!(aws_sdk_sagemaker::Client::list_tags).then_compute_output(move |r| {
        let arn = r.resource_arn().unwrap_or_default();
        let name = arn.rsplit('/').next().unwrap_or_default();
        let tags = f.lock().unwrap().configs.get(name).cloned();
        ListTagsOutput::builder().set_tags(tags).build()
    });
    let f = fake.clone();
    let model = mock!(aws_sdk_sagemaker::Client::describe_model).then_compute_response(move |r| {
        let name = r.model_name().unwrap_or_default();
        if !f.lock().unwrap().models.iter().any(|m| m == name) {
            return not_found("Could not find model.");
        }
        MockResponse::Output(DescribeModelOutput::builder().model_name(name).build())
    });
    let f = fake.clone();
    let create_model =
        mock!(aws_sdk_sagemaker::Client::create_model).then_compute_output(move |r| {
            let name = r.model_name().unwrap_or_default().to_string();
            f.lock().unwrap().models.push(name.clone());
            CreateModelOutput::builder()
                .model_arn(format!("{ACCOUNT_ARN}:model/{name}"))
                .build()
        });
    let f = fake.clone();
    let create_config = mock!(aws_sdk_sagemaker::Client::create_endpoint_config)
        .then_compute_output(move |r| {
            let name = r.endpoint_config_name().unwrap_or_default().to_string();
            let tags = r.tags().to_vec();
            f.lock().unwrap().configs.insert(name.clone(), tags);
            CreateEndpointConfigOutput::builder()
                .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                .build()
        });
    let f = fake.clone();
    let create = mock!(aws_sdk_sagemaker::Client::create_endpoint).then_compute_output(move |r| {
        let (name, config) = (
            r.endpoint_name().unwrap_or_default().to_string(),
            r.endpoint_config_name().unwrap_or_default().to_string(),
        );
        let mut fake = f.lock().unwrap();
        fake.deployments.push((name.clone(), config.clone()));
        fake.endpoints.insert(
            name.clone(),
            FakeEndpoint {
                status: EndpointStatus::Creating,
                config,
                pending: None,
            },
        );
        CreateEndpointOutput::builder()
            .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/{name}"))
            .build()
    });
    let f = fake.clone();
    let update = mock!(aws_sdk_sagemaker::Client::update_endpoint).then_compute_response(move |r| {
        let (name, config) = (
            r.endpoint_name().unwrap_or_default().to_string(),
            r.endpoint_config_name().unwrap_or_default().to_string(),
        );
        let mut fake = f.lock().unwrap();
        let Some(e) = fake.endpoints.get_mut(&name) else {
            return not_found("Could not find endpoint.");
        };
        if e.status != EndpointStatus::InService {
            // As SageMaker answers an update of an endpoint mid-deployment.
            let body = r#"{"__type":"ValidationException","message":"Cannot update in-progress endpoint"}"#;
            return MockResponse::Http(Response::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(body),
            ));
        }
        e.status = EndpointStatus::Updating;
        e.pending = Some(config.clone());
        fake.deployments.push((name.clone(), config));
        MockResponse::Output(
            UpdateEndpointOutput::builder()
                .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/{name}"))
                .build(),
        )
    });
    vec![
        list,
        package,
        endpoint,
        config,
        tags,
        model,
        create_model,
        create_config,
        create,
        update,
    ]
}

struct World {
    env: TestEnv<PromotionService>,
    fake: Shared,
    service: PromotionService,
    dead_letters: DeadLetters,
    queue: String,
}

impl World {
    async fn new(test: &str) -> World {
        let env = Setup::new(&format!("converge-{test}")).promotion().await;
        let fake: Shared = Arc::new(Mutex::new(Fake {
            group: env.stack.model_package_group(),
            ..Fake::default()
        }));
        let mut service = PromotionService::new(&env.sdk, env.service.config.clone());
        let rules = rules(&fake);
        let rules: Vec<&Rule> = rules.iter().collect();
        service.sagemaker = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            rules.as_slice(),
            |c| c.retry_config(
                aws_sdk_sagemaker::config::retry::RetryConfig::standard().with_max_attempts(1)
            )
        );
        let queue = env.stack.dead_letter_urls[Function::PromoteModel.name()].clone();
        let dead_letters = DeadLetters::new(&env.sdk, &queue, "promote-model");
        World {
            env,
            fake,
            service,
            dead_letters,
            queue,
        }
    }

    fn endpoint(&self, stage: &str) -> String {
        format!("{}-{stage}", self.env.stack.name)
    }

    /// A new version in the registry (approved or not).
    fn register(&self, version: u32, approved: bool, rmse: f64) -> String {
        let mut fake = self.fake.lock().unwrap();
        fake.packages.push(FakePackage {
            version,
            approved,
            rmse,
        });
        fake.arn(version)
    }

    /// The stage's endpoint serves `version` (the config promote-model makes for
    /// it, with its lineage tags) in `status`.
    fn serving(&self, stage: &str, version: u32, status: EndpointStatus) {
        let mut fake = self.fake.lock().unwrap();
        let p = fake
            .packages
            .iter()
            .find(|p| p.version == version)
            .cloned()
            .unwrap();
        let package = shared::stages::Package {
            arn: fake.arn(version),
            group: fake.group.clone(),
            version,
            approval: "Approved".into(),
            dataset_id: Some(format!("ds-v{version}")),
            validation_rmse: Some(p.rmse),
            test_rmse: None,
            pipeline_execution_arn: None,
        };
        let stages = self.env.stack.stages();
        let config = names::endpoint_config_name(
            &package,
            stages.find(stage).unwrap().1,
            self.service.config.data_capture.as_ref(),
        );
        let tags = Lineage::new(&package, stage, None)
            .tags()
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        fake.configs.insert(config.clone(), tags);
        fake.endpoints.insert(
            self.endpoint(stage),
            FakeEndpoint {
                status,
                config,
                pending: None,
            },
        );
    }

    /// The endpoint's deployment ends: the pending config (if any) serves, InService.
    fn settle(&self, stage: &str) {
        let mut fake = self.fake.lock().unwrap();
        let e = fake.endpoints.get_mut(&self.endpoint(stage)).unwrap();
        if let Some(config) = e.pending.take() {
            e.config = config;
        }
        e.status = EndpointStatus::InService;
    }

    /// SageMaker rolled the deployment back: the old config serves again.
    fn roll_back(&self, stage: &str) {
        let mut fake = self.fake.lock().unwrap();
        let e = fake.endpoints.get_mut(&self.endpoint(stage)).unwrap();
        e.pending = None;
        e.status = EndpointStatus::InService;
    }

    /// The version the stage's endpoint serves, from its config's lineage tags.
    fn served_version(&self, stage: &str) -> Option<String> {
        let fake = self.fake.lock().unwrap();
        let e = fake.endpoints.get(&self.endpoint(stage))?;
        let tags = fake.configs.get(&e.config)?;
        tags.iter()
            .find(|t| t.key() == Some(TAG_MODEL_PACKAGE_VERSION))
            .and_then(|t| t.value())
            .map(str::to_string)
    }

    fn deployments(&self) -> usize {
        self.fake.lock().unwrap().deployments.len()
    }

    /// Invokes promote-model as `main.rs` does: the handler, then the
    /// dead-letter settlement. Panics on a failed invocation.
    async fn invoke(&self, event: Value) -> Value {
        let result = promote_model::handle(
            &self.service,
            LambdaEvent::new(event.clone(), Context::default()),
        )
        .await;
        let out = self.dead_letters.settle(&event, result).await;
        let out = out.unwrap_or_else(|e| panic!("invocation failed: {e:?}"));
        assert_ne!(out["status"], "dead_lettered", "{out}");
        out
    }

    fn approval(&self, version: u32) -> Value {
        let fake = self.fake.lock().unwrap();
        let mut event = read_json("events/promote-model/model-package-approved.json");
        event["id"] = format!("approval-{version}").into();
        let detail = &mut event["detail"];
        detail["ModelPackageGroupName"] = fake.group.clone().into();
        detail["ModelPackageVersion"] = version.into();
        detail["ModelPackageArn"] = fake.arn(version).into();
        event
    }

    fn endpoint_event(&self, stage: &str, status: &str) -> Value {
        let mut event = read_json("events/promote-model/endpoint-rolling-back.json");
        event["detail"]["EndpointName"] = self.endpoint(stage).into();
        event["detail"]["EndpointStatus"] = status.into();
        event
    }

    fn promote(&self, version: u32, stage: &str) -> Value {
        let mut event = read_json("events/promote-model/promote-to-pre-prod.json");
        event["detail"]["model_package_group"] = self.fake.lock().unwrap().group.clone().into();
        event["detail"]["model_package_version"] = version.into();
        event["detail"]["target_stage"] = stage.into();
        event
    }

    async fn desired(&self, stage: &str) -> Desired {
        let read = self.service.desired.read(stage).await.unwrap();
        read.unwrap_or_else(|| panic!("{stage} has no desired-state record"))
            .desired
    }

    async fn dead_lettered(&self) -> usize {
        let out = self
            .env
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        out.messages().len()
    }

    /// `ModelPromoted` events so far (drains the bus's queue): (stage, version).
    async fn promoted(&self) -> Vec<(String, u64)> {
        self.env
            .events()
            .await
            .iter()
            .filter(|e| e["detail-type"] == "ModelPromoted")
            .map(|e| {
                let d = &e["detail"];
                (
                    d["stage"].as_str().unwrap().to_string(),
                    d["model_package_version"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}

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

    // prod's InService event is lost; the tick finds it and deploys.
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
        ["nothing_recorded", "already_serving", "deploying"],
        "{out}"
    );
    assert_eq!(out["stages"][2]["stage"], "prod");
    let promoted = world.promoted().await;
    assert_eq!(promoted, [("prod".to_string(), 2)]);
    let announced_by = world.desired("prod").await.requested_by;
    assert_eq!(announced_by.as_deref(), Some("local-run"));

    // Another tick mid-deployment: nothing new.
    let out = world.invoke(tick).await;
    assert_eq!(out["stages"][2]["status"], "already_deploying", "{out}");
    assert!(world.promoted().await.is_empty());
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
