//! What moto cannot do, with aws-smithy-mocks for SageMaker (EventBridge stays
//! on moto): the blue/green update of a serving endpoint (UpdateEndpoint's
//! DeploymentConfig, canary size, alarms, same variant), an endpoint that is
//! mid-deployment, throttling, and an UpdateEndpoint the service rejects.
//!
//! The world mocked: dev serves v2 (InService), pre-prod serves v1; a
//! `PromoteModel` asks for v2 on pre-prod.

use aws_sdk_sagemaker::operation::create_endpoint_config::{
    CreateEndpointConfigInput, CreateEndpointConfigOutput,
};
use aws_sdk_sagemaker::operation::create_model::{CreateModelInput, CreateModelOutput};
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
use aws_sdk_sagemaker::operation::update_endpoint::{UpdateEndpointInput, UpdateEndpointOutput};
use aws_sdk_sagemaker::types::{
    CapacitySizeType, EndpointStatus, ModelApprovalStatus, ModelPackageSummary,
    PendingDeploymentSummary, Tag, TrafficRoutingConfigType,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::DateTime;
use integration_tests::{read_json, Clients, Setup, Stack, TestEnv};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::promotion::desired::{Cause, Status};
use shared::promotion::PromotionService;
use shared::stages::{Lineage, Package};
use std::sync::{Arc, Mutex};

const ACCOUNT_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012";
const CAPTURE_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/capture";

fn error(code: &str, message: &str) -> (u16, Option<String>) {
    (
        400,
        Some(format!(r#"{{"__type":"{code}","message":"{message}"}}"#)),
    )
}

/// A promote-model environment on moto whose SageMaker client each test
/// replaces with mocked rules.
struct World {
    env: TestEnv<PromotionService>,
    stack: Stack,
    group: String,
}

impl World {
    fn package(&self, version: u32, rmse: f64) -> Package {
        Package {
            arn: format!("{ACCOUNT_ARN}:model-package/{}/{version}", self.group),
            group: self.group.clone(),
            version,
            approval: "Approved".into(),
            dataset_id: Some(format!("ds-v{version}")),
            validation_rmse: Some(rmse),
            test_rmse: None,
            pipeline_execution_arn: Some(format!("{ACCOUNT_ARN}:pipeline/p/execution/v{version}")),
        }
    }

    fn endpoint(&self, stage: &str) -> String {
        format!("{}-{stage}", self.stack.name)
    }

    /// Registry: v2 approved (RMSE `candidate`). dev serves v2; pre-prod serves
    /// v1 (RMSE 0.41) and is `pre_prod` (status, pending config).
    fn sagemaker_rules(
        &self,
        candidate: f64,
        pre_prod: (EndpointStatus, Option<String>),
    ) -> Vec<Rule> {
        let v2 = self.package(2, candidate);
        let (group, arn2) = (self.group.clone(), v2.arn.clone());
        let list = mock!(aws_sdk_sagemaker::Client::list_model_packages).then_output(move || {
            ListModelPackagesOutput::builder()
                .model_package_summary_list(
                    ModelPackageSummary::builder()
                        .model_package_group_name(&group)
                        .model_package_version(2)
                        .model_package_arn(&arn2)
                        .model_approval_status(ModelApprovalStatus::Approved)
                        .creation_time(DateTime::from_secs(1_795_000_000))
                        .build(),
                )
                .build()
        });
        let described = v2.clone();
        let package =
            mock!(aws_sdk_sagemaker::Client::describe_model_package).then_output(move || {
                let p = &described;
                DescribeModelPackageOutput::builder()
                    .model_package_group_name(&p.group)
                    .model_package_version(p.version as i32)
                    .model_package_arn(&p.arn)
                    .model_approval_status(ModelApprovalStatus::Approved)
                    .customer_metadata_properties("dataset_id", p.dataset_id.clone().unwrap())
                    .customer_metadata_properties(
                        "validation_rmse",
                        p.validation_rmse.unwrap().to_string(),
                    )
                    .customer_metadata_properties(
                        "pipeline_execution_arn",
                        p.pipeline_execution_arn.clone().unwrap(),
                    )
                    .build()
            });
        let dev_config = format!("{}-v2-serving", self.endpoint("dev"));
        let pre_prod_config = format!("{}-v1-serving", self.endpoint("pre-prod"));
        let endpoint_rule =
            |name: String, config: String, status: EndpointStatus, pending: Option<String>| {
                let matched = name.clone();
                mock!(aws_sdk_sagemaker::Client::describe_endpoint)
                    .match_requests(move |r| r.endpoint_name() == Some(matched.as_str()))
                    .then_output(move || {
                        DescribeEndpointOutput::builder()
                            .endpoint_name(&name)
                            .endpoint_config_name(&config)
                            .endpoint_status(status.clone())
                            .set_pending_deployment_summary(pending.clone().map(|c| {
                                PendingDeploymentSummary::builder()
                                    .endpoint_config_name(c)
                                    .build()
                            }))
                            .build()
                    })
            };
        let dev = endpoint_rule(
            self.endpoint("dev"),
            dev_config.clone(),
            EndpointStatus::InService,
            None,
        );
        let pp = endpoint_rule(
            self.endpoint("pre-prod"),
            pre_prod_config.clone(),
            pre_prod.0,
            pre_prod.1,
        );
        // The two serving configs exist (with their lineage tags); any other does not yet.
        let serving_configs = [dev_config.clone(), pre_prod_config.clone()];
        let config_exists = mock!(aws_sdk_sagemaker::Client::describe_endpoint_config)
            .match_requests(move |r| {
                serving_configs
                    .iter()
                    .any(|c| Some(c.as_str()) == r.endpoint_config_name())
            })
            .then_compute_output(|r| {
                let name = r.endpoint_config_name().unwrap_or_default();
                DescribeEndpointConfigOutput::builder()
                    .endpoint_config_name(name)
                    .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                    .build()
            });
        let (lineage_dev, lineage_pp) = (
            Lineage::new(&self.package(2, candidate), "dev", Some("e1")),
            Lineage::new(&self.package(1, 0.41), "pre-prod", Some("e0")),
        );
        let tags = mock!(aws_sdk_sagemaker::Client::list_tags).then_compute_output(move |r| {
            let lineage = if r.resource_arn().unwrap_or_default().ends_with(&dev_config) {
                &lineage_dev
            } else {
                &lineage_pp
            };
            ListTagsOutput::builder()
                .set_tags(Some(
                    lineage
                        .tags()
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .build()
        });
        let (c, m) = error(
            "ValidationException",
            "Could not find endpoint configuration.",
        );
        let no_config = mock!(aws_sdk_sagemaker::Client::describe_endpoint_config)
            .sequence()
            .http_status(c, m)
            .repeatedly()
            .build();
        let (c, m) = error("ValidationException", "Could not find model.");
        let no_model = mock!(aws_sdk_sagemaker::Client::describe_model)
            .sequence()
            .http_status(c, m)
            .repeatedly()
            .build();
        let create_model = mock!(aws_sdk_sagemaker::Client::create_model).then_output(|| {
            CreateModelOutput::builder()
                .model_arn(format!("{ACCOUNT_ARN}:model/m"))
                .build()
        });
        vec![
            list,
            package,
            dev,
            pp,
            config_exists,
            tags,
            no_config,
            no_model,
            create_model,
        ]
    }

    async fn service(&self, rules: &[Rule]) -> PromotionService {
        let mut service = PromotionService::new(&self.env.sdk, self.env.service.config.clone());
        let rules: Vec<&Rule> = rules.iter().collect();
        service.sagemaker = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            rules.as_slice(),
            |c| c.retry_config(
                aws_sdk_sagemaker::config::retry::RetryConfig::standard().with_max_attempts(1)
            )
        );
        service
    }

    fn promote_v2_to_pre_prod(&self) -> Value {
        let mut event = read_json("events/promote-model/promote-to-pre-prod.json");
        event["detail"]["model_package_group"] = self.group.clone().into();
        event["detail"]["model_package_version"] = 2.into();
        event
    }
}

async fn world(test: &str) -> (World, Clients) {
    let env = Setup::new(&format!("promo-fault-{test}"))
        .var("DATA_CAPTURE_KMS_KEY_ARN", CAPTURE_KEY)
        .promotion()
        .await;
    let clients = Clients::new(&env.sdk);
    let stack = env.stack.clone();
    let group = stack.model_package_group();
    (World { env, stack, group }, clients)
}

async fn invoke(service: &PromotionService, event: Value) -> Result<Value, Diagnostic> {
    promote_model::handle(service, LambdaEvent::new(event, Context::default())).await
}

type Captured<T> = Arc<Mutex<Option<T>>>;

fn capture_config() -> (Rule, Captured<CreateEndpointConfigInput>) {
    let seen: Captured<CreateEndpointConfigInput> = Arc::default();
    let sink = seen.clone();
    let rule =
        mock!(aws_sdk_sagemaker::Client::create_endpoint_config).then_compute_output(move |r| {
            *sink.lock().unwrap() = Some(r.clone());
            CreateEndpointConfigOutput::builder()
                .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/new"))
                .build()
        });
    (rule, seen)
}

#[tokio::test]
async fn an_update_shifts_traffic_blue_green_with_the_stage_alarms_and_variant() {
    let (world, clients) = world("update").await;
    // 0.415 is 1.2 % worse than the serving 0.41: within the 2 % tolerance.
    let mut rules = world.sagemaker_rules(0.415, (EndpointStatus::InService, None));
    let (create_config, config_seen) = capture_config();
    let update_seen: Captured<UpdateEndpointInput> = Arc::default();
    let sink = update_seen.clone();
    let update = mock!(aws_sdk_sagemaker::Client::update_endpoint).then_compute_output(move |r| {
        *sink.lock().unwrap() = Some(r.clone());
        UpdateEndpointOutput::builder()
            .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/x"))
            .build()
    });
    let model_seen: Captured<CreateModelInput> = Arc::default();
    let sink = model_seen.clone();
    let create_model =
        mock!(aws_sdk_sagemaker::Client::create_model).then_compute_output(move |r| {
            *sink.lock().unwrap() = Some(r.clone());
            CreateModelOutput::builder()
                .model_arn(format!("{ACCOUNT_ARN}:model/m"))
                .build()
        });
    // Ahead of the world's own CreateModel rule: the first that matches answers.
    rules.insert(0, create_model);
    rules.extend([create_config, update]);
    let service = world.service(&rules).await;

    let out = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap();
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["action"], "update");

    let model = model_seen
        .lock()
        .unwrap()
        .clone()
        .expect("CreateModel called");
    assert_eq!(model.enable_network_isolation(), Some(true));
    assert_eq!(
        model.execution_role_arn(),
        Some(world.env.service.config.model_role_arn.as_str())
    );

    let stage = world.stack.stages().find("pre-prod").unwrap().1.clone();
    let config = config_seen
        .lock()
        .unwrap()
        .clone()
        .expect("CreateEndpointConfig called");
    let variant = &config.production_variants()[0];
    assert_eq!(
        variant.variant_name(),
        Some("AllTraffic"),
        "the same variant name as the serving config"
    );
    assert_eq!(
        variant.instance_type().map(|t| t.as_str()),
        Some(stage.instance_type.as_str())
    );
    assert_eq!(
        variant.initial_instance_count(),
        Some(stage.instance_count as i32)
    );
    assert_eq!(
        config
            .data_capture_config()
            .and_then(|d| d.initial_sampling_percentage()),
        Some(50)
    );
    // Captured payloads are stored as text, not base64, for the drift checks.
    let header = config
        .data_capture_config()
        .and_then(|d| d.capture_content_type_header())
        .expect("a CaptureContentTypeHeader");
    assert_eq!(header.csv_content_types(), ["text/csv"]);
    assert_eq!(header.json_content_types(), ["application/json"]);
    assert_eq!(
        config.data_capture_config().and_then(|d| d.kms_key_id()),
        Some(CAPTURE_KEY),
        "captured requests are encrypted with the project key"
    );
    let new_config = config.endpoint_config_name().unwrap().to_string();
    assert!(
        new_config.starts_with(&format!("{}-v2-", world.endpoint("pre-prod"))),
        "{new_config}"
    );

    let update = update_seen
        .lock()
        .unwrap()
        .clone()
        .expect("UpdateEndpoint called");
    assert_eq!(
        update.endpoint_name(),
        Some(world.endpoint("pre-prod").as_str())
    );
    assert_eq!(update.endpoint_config_name(), Some(new_config.as_str()));
    let deployment = update.deployment_config().expect("a DeploymentConfig");
    let routing = deployment
        .blue_green_update_policy()
        .and_then(|p| p.traffic_routing_configuration())
        .expect("blue/green traffic routing");
    assert_eq!(routing.r#type(), Some(&TrafficRoutingConfigType::Canary));
    assert_eq!(routing.wait_interval_in_seconds(), Some(600));
    let policy = deployment.blue_green_update_policy().unwrap();
    assert_eq!(policy.termination_wait_in_seconds(), Some(300));
    // Two shifts of 600 s baking, the 300 s termination wait, and an hour.
    assert_eq!(
        policy.maximum_execution_timeout_in_seconds(),
        Some(2 * 600 + 300 + 3600)
    );
    let canary = routing.canary_size().expect("canary size");
    assert_eq!(
        (canary.r#type(), canary.value()),
        (Some(&CapacitySizeType::CapacityPercent), Some(50))
    );
    let alarms: Vec<&str> = deployment
        .auto_rollback_configuration()
        .map(|a| a.alarms().iter().filter_map(|a| a.alarm_name()).collect())
        .unwrap_or_default();
    assert_eq!(
        alarms,
        [
            "housing-mlops-pre-prod-5xx",
            "housing-mlops-pre-prod-latency"
        ]
    );

    let events = world.stack.received_events(&clients).await.unwrap();
    assert_eq!(events.len(), 1);
    let detail = &events[0]["detail"];
    assert_eq!(events[0]["detail-type"], "ModelPromoted");
    assert_eq!(detail["action"], "update");
    assert_eq!(
        detail["replaces_model_package_arn"],
        world.package(1, 0.41).arn.as_str()
    );
    assert_eq!(detail["deployment"], "canary 50%, 600s baking");
}

#[tokio::test]
async fn an_endpoint_mid_deployment_waits_with_the_request_recorded() {
    let (world, clients) = world("busy").await;
    let rules = world.sagemaker_rules(
        0.40,
        (
            EndpointStatus::Updating,
            Some("someone-elses-config".into()),
        ),
    );
    let service = world.service(&rules).await;
    // Not a failure (Lambda's two retries come long before an update ends): the
    // request is pre-prod's desired state, deployed when the endpoint is InService.
    let out = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap();
    assert_eq!(out["status"], "waiting", "{out}");
    assert_eq!(out["endpoint_status"], "Updating", "{out}");
    let read = service.desired.read("pre-prod").await.unwrap().unwrap();
    assert_eq!(read.desired.model_package_arn, world.package(2, 0.40).arn);
    assert_eq!(read.desired.cause, Cause::Promote);
    assert_eq!(read.desired.status, Status::Pending);
    assert!(world
        .stack
        .received_events(&clients)
        .await
        .unwrap()
        .is_empty());

    // The pending deployment is this very config (its call succeeded, the
    // invocation died before recording it): a no-op, announced again so a
    // crash between UpdateEndpoint and the event loses nothing.
    let pending = shared::promotion::names::endpoint_config_name(
        &world.package(2, 0.40),
        world.stack.stages().find("pre-prod").unwrap().1,
        world.env.service.config.data_capture.as_ref(),
    );
    let rules = world.sagemaker_rules(0.40, (EndpointStatus::Updating, Some(pending.clone())));
    let service = world.service(&rules).await;
    let out = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap();
    assert_eq!(out["status"], "already_deploying", "{out}");
    let events = world.stack.received_events(&clients).await.unwrap();
    let promoted: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "ModelPromoted")
        .collect();
    assert_eq!(promoted.len(), 1, "{events:?}");
    let detail = &promoted[0]["detail"];
    assert_eq!(detail["endpoint_config"], out["endpoint_config"]);
    assert_eq!(detail["action"], "update");
    assert_eq!(detail["model_package_version"], 2);
    assert_eq!(
        detail["replaces_model_package_arn"],
        world.package(1, 0.41).arn.as_str()
    );
    let read = service.desired.read("pre-prod").await.unwrap().unwrap();
    assert_eq!(read.desired.started(), Some(pending.as_str()));
    // Once recorded as started, another delivery announces nothing.
    let out = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap();
    assert_eq!(out["status"], "already_deploying", "{out}");
    assert!(world
        .stack
        .received_events(&clients)
        .await
        .unwrap()
        .is_empty());

    // A failed endpoint cannot be updated: blocked (no retries, no dead
    // letter: the record keeps the request), with what to do.
    let rules = world.sagemaker_rules(0.40, (EndpointStatus::Failed, None));
    let service = world.service(&rules).await;
    let out = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap();
    assert_eq!(out["status"], "blocked", "{out}");
    let message = out["message"].as_str().unwrap();
    assert!(
        message.contains("is Failed") && message.contains("delete it"),
        "{message}"
    );
}

#[tokio::test]
async fn throttling_is_retryable_and_a_rejected_update_is_not() {
    let (world, clients) = world("errors").await;
    let (c, m) = error("ThrottlingException", "Rate exceeded");
    let throttled = mock!(aws_sdk_sagemaker::Client::describe_endpoint)
        .sequence()
        .http_status(c, m)
        .repeatedly()
        .build();
    let mut rules = vec![throttled];
    rules.extend(world.sagemaker_rules(0.40, (EndpointStatus::InService, None)));
    let service = world.service(&rules).await;
    let err = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap_err();
    assert_eq!(
        err.error_type, "Retryable.ThrottlingException",
        "{}",
        err.error_message
    );

    let mut rules = world.sagemaker_rules(0.40, (EndpointStatus::InService, None));
    let (create_config, _) = capture_config();
    let (c, m) = error(
        "ValidationException",
        "Alarm housing-mlops-pre-prod-5xx does not exist.",
    );
    let rejected = mock!(aws_sdk_sagemaker::Client::update_endpoint)
        .sequence()
        .http_status(c, m)
        .repeatedly()
        .build();
    rules.extend([create_config, rejected]);
    let service = world.service(&rules).await;
    let err = invoke(&service, world.promote_v2_to_pre_prod())
        .await
        .unwrap_err();
    assert_eq!(
        err.error_type, "NonRetryable.ValidationException",
        "{}",
        err.error_message
    );
    assert!(
        err.error_message.contains("UpdateEndpoint"),
        "{}",
        err.error_message
    );
    assert!(
        world
            .stack
            .received_events(&clients)
            .await
            .unwrap()
            .is_empty(),
        "nothing is announced for a deployment that did not start"
    );
}
