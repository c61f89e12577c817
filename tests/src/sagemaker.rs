//! One SageMaker for what moto cannot do, shared by the promotion tests that
//! need it (`promote_converge.rs`, `promote_faults.rs`): moto runs no endpoint
//! deployments (no `UpdateEndpoint`, no endpoint states) and no faults. It is a
//! small stateful fake built from aws-smithy-mocks rules over [`SageMaker`]: a
//! registry, endpoints whose state a test moves, the Models and endpoint
//! configs (with their tags) promote-model creates, every request it sent, and
//! the operations a test makes fail.

use aws_sdk_sagemaker::operation::create_endpoint::CreateEndpointOutput;
use aws_sdk_sagemaker::operation::create_endpoint_config::{
    CreateEndpointConfigInput, CreateEndpointConfigOutput,
};
use aws_sdk_sagemaker::operation::create_model::{CreateModelInput, CreateModelOutput};
use aws_sdk_sagemaker::operation::delete_endpoint::DeleteEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
use aws_sdk_sagemaker::operation::describe_model::DescribeModelOutput;
use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
use aws_sdk_sagemaker::operation::update_endpoint::{UpdateEndpointInput, UpdateEndpointOutput};
use aws_sdk_sagemaker::types::{
    EndpointStatus, ModelApprovalStatus, ModelPackageSummary, PendingDeploymentSummary,
    ProductionVariant, ProductionVariantInstanceType, Tag,
};
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::DateTime;
use shared::stages::{Lineage, Package};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub const ACCOUNT_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012";

/// A registry version: approved or not, with its validation RMSE.
#[derive(Debug, Clone)]
pub struct FakePackage {
    pub version: u32,
    pub approved: bool,
    pub rmse: f64,
}

#[derive(Debug, Clone)]
pub struct FakeEndpoint {
    pub status: EndpointStatus,
    pub config: String,
    /// The config a deployment under way moves to.
    pub pending: Option<String>,
}

/// What SageMaker holds, as the rules read and change it.
#[derive(Default)]
pub struct SageMaker {
    pub group: String,
    pub packages: Vec<FakePackage>,
    pub endpoints: BTreeMap<String, FakeEndpoint>,
    /// Endpoint configs that exist, with their tags.
    pub configs: HashMap<String, Vec<Tag>>,
    pub models: Vec<String>,
    /// (endpoint, config) of every CreateEndpoint / UpdateEndpoint, in order.
    pub deployments: Vec<(String, String)>,
    /// Every request of these kinds, in order.
    pub created_models: Vec<CreateModelInput>,
    pub created_configs: Vec<CreateEndpointConfigInput>,
    pub updates: Vec<UpdateEndpointInput>,
    /// Operations that fail on every call: name (`"UpdateEndpoint"`) → (error
    /// code, message), answered as SageMaker answers them (HTTP 400, JSON).
    pub failing: HashMap<&'static str, (String, String)>,
    /// `CreateEndpoint` / `UpdateEndpoint` calls that lose a race: another
    /// delivery's identical call lands first (its effect is applied), and this
    /// one gets SageMaker's answer to the second call.
    pub racing: Vec<&'static str>,
    /// Endpoint config → its variant's instance type (none: serverless).
    pub instance_types: HashMap<String, String>,
    /// Whether an endpoint's variant is an autoscaling target now (asked of
    /// Application Auto Scaling, which is moto). SageMaker refuses an
    /// `UpdateEndpoint` that changes such a variant's instance type (Developer
    /// Guide, "Update endpoints that use auto scaling"); moto, which has no
    /// UpdateEndpoint, cannot.
    pub scalable: Option<ScalableTarget>,
}

/// Is `endpoint`'s variant a scalable target?
pub type ScalableTarget = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub type SharedSageMaker = Arc<Mutex<SageMaker>>;

impl SageMaker {
    /// An empty SageMaker whose registry holds `group`.
    pub fn shared(group: String) -> SharedSageMaker {
        Arc::new(Mutex::new(SageMaker {
            group,
            ..SageMaker::default()
        }))
    }

    pub fn arn(&self, version: u32) -> String {
        format!("{ACCOUNT_ARN}:model-package/{}/{version}", self.group)
    }

    /// A new version in the registry (approved or not); its ARN.
    pub fn register(&mut self, version: u32, approved: bool, rmse: f64) -> String {
        self.packages.push(FakePackage {
            version,
            approved,
            rmse,
        });
        self.arn(version)
    }

    /// Version `version` as promote-model reads it from the registry.
    pub fn package(&self, version: u32) -> Package {
        let p = self
            .packages
            .iter()
            .find(|p| p.version == version)
            .unwrap_or_else(|| panic!("no version {version} registered"));
        Package {
            arn: self.arn(version),
            group: self.group.clone(),
            version,
            approval: if p.approved { "Approved" } else { "Rejected" }.into(),
            dataset_id: Some(format!("ds-v{version}")),
            validation_rmse: Some(p.rmse),
            test_rmse: None,
            pipeline_execution_arn: Some(self.execution_arn(version)),
        }
    }

    fn execution_arn(&self, version: u32) -> String {
        format!("{ACCOUNT_ARN}:pipeline/p/execution/v{version}")
    }

    /// `endpoint` serves `config`, an endpoint config of `version` on `stage`
    /// with promote-model's lineage tags, in `status`.
    pub fn serve(
        &mut self,
        endpoint: &str,
        config: &str,
        version: u32,
        stage: &str,
        status: EndpointStatus,
    ) {
        let tags = Lineage::new(&self.package(version), stage, None)
            .tags()
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        self.configs.insert(config.to_string(), tags);
        self.endpoints.insert(
            endpoint.to_string(),
            FakeEndpoint {
                status,
                config: config.to_string(),
                pending: None,
            },
        );
    }

    pub fn endpoint(&mut self, name: &str) -> &mut FakeEndpoint {
        self.endpoints
            .get_mut(name)
            .unwrap_or_else(|| panic!("no endpoint {name}"))
    }

    /// Every call of `operation` fails with `code` and `message` from now on.
    pub fn fail(&mut self, operation: &'static str, code: &str, message: &str) {
        self.failing
            .insert(operation, (code.to_string(), message.to_string()));
    }

    /// The next call of `operation` loses a race with an identical one.
    pub fn race(&mut self, operation: &'static str) {
        self.racing.push(operation);
    }

    fn lost_race(&mut self, operation: &str) -> bool {
        let at = self.racing.iter().position(|o| *o == operation);
        at.map(|i| self.racing.remove(i)).is_some()
    }

    fn failure<O, E>(&self, operation: &str) -> Option<MockResponse<O, E>> {
        let (code, message) = self.failing.get(operation)?;
        Some(error(code, message))
    }
}

/// SageMaker's answer to a request it refuses: HTTP 400 with the error code.
fn error<O, E>(code: &str, message: &str) -> MockResponse<O, E> {
    let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
    MockResponse::Http(Response::new(
        StatusCode::try_from(400).unwrap(),
        SdkBody::from(body),
    ))
}

fn not_found<O, E>(message: &str) -> MockResponse<O, E> {
    error("ValidationException", message)
}

/// A SageMaker client answered by `fake` (no retries: a test sees each call).
pub fn client(fake: &SharedSageMaker) -> aws_sdk_sagemaker::Client {
    let rules = rules(fake);
    let rules: Vec<&Rule> = rules.iter().collect();
    mock_client!(
        aws_sdk_sagemaker,
        RuleMode::MatchAny,
        rules.as_slice(),
        |c| c.retry_config(
            aws_sdk_sagemaker::config::retry::RetryConfig::standard().with_max_attempts(1)
        )
    )
}

/// The rules: every SageMaker call promote-model makes.
fn rules(fake: &SharedSageMaker) -> Vec<Rule> {
    let f = fake.clone();
    let list =
        mock!(aws_sdk_sagemaker::Client::list_model_packages).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("ListModelPackages") {
                return failed;
            }
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
                        .model_approval_status(approval(p.approved))
                        .creation_time(DateTime::from_secs(1_795_000_000 + p.version as i64))
                        .build()
                })
                .collect();
            MockResponse::Output(
                ListModelPackagesOutput::builder()
                    .set_model_package_summary_list(Some(summaries))
                    .build(),
            )
        });
    let f = fake.clone();
    let package =
        mock!(aws_sdk_sagemaker::Client::describe_model_package).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DescribeModelPackage") {
                return failed;
            }
            let name = r.model_package_name().unwrap_or_default();
            let Some(p) = fake.packages.iter().find(|p| fake.arn(p.version) == name) else {
                return not_found("Model package does not exist.");
            };
            MockResponse::Output(
                DescribeModelPackageOutput::builder()
                    .model_package_group_name(&fake.group)
                    .model_package_version(p.version as i32)
                    .model_package_arn(fake.arn(p.version))
                    .model_approval_status(approval(p.approved))
                    .customer_metadata_properties("dataset_id", format!("ds-v{}", p.version))
                    .customer_metadata_properties("validation_rmse", p.rmse.to_string())
                    .customer_metadata_properties(
                        "pipeline_execution_arn",
                        fake.execution_arn(p.version),
                    )
                    .build(),
            )
        });
    let f = fake.clone();
    let endpoint =
        mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DescribeEndpoint") {
                return failed;
            }
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
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DescribeEndpointConfig") {
                return failed;
            }
            let name = r.endpoint_config_name().unwrap_or_default();
            if !fake.configs.contains_key(name) {
                return not_found("Could not find endpoint configuration.");
            }
            // A config promote-model created is described as it was created;
            // one a test set up, with one variant of the model "served".
            let created = fake
                .created_configs
                .iter()
                .rev()
                .find(|c| c.endpoint_config_name() == Some(name));
            let (variants, shadows) = match created {
                Some(c) => (
                    c.production_variants().to_vec(),
                    c.shadow_production_variants().to_vec(),
                ),
                None => {
                    let variant = ProductionVariant::builder()
                        .variant_name("AllTraffic")
                        .model_name("served")
                        .set_instance_type(
                            fake.instance_types
                                .get(name)
                                .map(|t| ProductionVariantInstanceType::from(t.as_str())),
                        )
                        .build();
                    (vec![variant], Vec::new())
                }
            };
            MockResponse::Output(
                DescribeEndpointConfigOutput::builder()
                    .endpoint_config_name(name)
                    .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                    .set_production_variants(Some(variants))
                    .set_shadow_production_variants((!shadows.is_empty()).then_some(shadows))
                    .build(),
            )
        },
    );
    let f = fake.clone();
    let tags = mock!(aws_sdk_sagemaker::Client::list_tags).then_compute_response(move |r| {
        let fake = f.lock().unwrap();
        if let Some(failed) = fake.failure("ListTags") {
            return failed;
        }
        let arn = r.resource_arn().unwrap_or_default();
        let name = arn.rsplit('/').next().unwrap_or_default();
        let tags = fake.configs.get(name).cloned();
        MockResponse::Output(ListTagsOutput::builder().set_tags(tags).build())
    });
    let f = fake.clone();
    let model = mock!(aws_sdk_sagemaker::Client::describe_model).then_compute_response(move |r| {
        let fake = f.lock().unwrap();
        if let Some(failed) = fake.failure("DescribeModel") {
            return failed;
        }
        let name = r.model_name().unwrap_or_default();
        if !fake.models.iter().any(|m| m == name) {
            return not_found("Could not find model.");
        }
        MockResponse::Output(DescribeModelOutput::builder().model_name(name).build())
    });
    let f = fake.clone();
    let create_model =
        mock!(aws_sdk_sagemaker::Client::create_model).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("CreateModel") {
                return failed;
            }
            let name = r.model_name().unwrap_or_default().to_string();
            fake.models.push(name.clone());
            fake.created_models.push(r.clone());
            MockResponse::Output(
                CreateModelOutput::builder()
                    .model_arn(format!("{ACCOUNT_ARN}:model/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    let create_config = mock!(aws_sdk_sagemaker::Client::create_endpoint_config)
        .then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("CreateEndpointConfig") {
                return failed;
            }
            let name = r.endpoint_config_name().unwrap_or_default().to_string();
            fake.configs.insert(name.clone(), r.tags().to_vec());
            let instance_type = r
                .production_variants()
                .first()
                .and_then(|v| v.instance_type());
            if let Some(t) = instance_type {
                fake.instance_types
                    .insert(name.clone(), t.as_str().to_string());
            }
            fake.created_configs.push(r.clone());
            MockResponse::Output(
                CreateEndpointConfigOutput::builder()
                    .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    let create =
        mock!(aws_sdk_sagemaker::Client::create_endpoint).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("CreateEndpoint") {
                return failed;
            }
            let (name, config) = (
                r.endpoint_name().unwrap_or_default().to_string(),
                r.endpoint_config_name().unwrap_or_default().to_string(),
            );
            // As SageMaker answers a create of an endpoint that exists.
            let exists = format!(
                "Cannot create already existing endpoint \\\"{ACCOUNT_ARN}:endpoint/{name}\\\"."
            );
            if fake.endpoints.contains_key(&name) {
                return error("ValidationException", &exists);
            }
            fake.deployments.push((name.clone(), config.clone()));
            fake.endpoints.insert(
                name.clone(),
                FakeEndpoint {
                    status: EndpointStatus::Creating,
                    config,
                    pending: None,
                },
            );
            if fake.lost_race("CreateEndpoint") {
                return error("ValidationException", &exists);
            }
            MockResponse::Output(
                CreateEndpointOutput::builder()
                    .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    let update =
        mock!(aws_sdk_sagemaker::Client::update_endpoint).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("UpdateEndpoint") {
                return failed;
            }
            let (name, config) = (
                r.endpoint_name().unwrap_or_default().to_string(),
                r.endpoint_config_name().unwrap_or_default().to_string(),
            );
            let Some(e) = fake.endpoints.get_mut(&name) else {
                return not_found("Could not find endpoint.");
            };
            if e.status != EndpointStatus::InService {
                // As SageMaker answers an update of an endpoint mid-deployment.
                return error("ValidationException", "Cannot update in-progress endpoint");
            }
            let serving = e.config.clone();
            let scalable = fake.scalable.as_ref().is_some_and(|is| is(&name));
            if scalable && fake.instance_types.get(&serving) != fake.instance_types.get(&config) {
                // Modelled on SageMaker's refusal; the exact wording is not documented.
                return error(
                    "ValidationException",
                    "The variant's instance type cannot change while it is registered for autoscaling: deregister it first",
                );
            }
            let Some(e) = fake.endpoints.get_mut(&name) else {
                return not_found("Could not find endpoint.");
            };
            e.status = EndpointStatus::Updating;
            e.pending = Some(config.clone());
            fake.deployments.push((name.clone(), config));
            fake.updates.push(r.clone());
            if fake.lost_race("UpdateEndpoint") {
                return error("ValidationException", "Cannot update in-progress endpoint");
            }
            MockResponse::Output(
                UpdateEndpointOutput::builder()
                    .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    // Deleted at once (SageMaker goes through Deleting); the config stays.
    let delete =
        mock!(aws_sdk_sagemaker::Client::delete_endpoint).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DeleteEndpoint") {
                return failed;
            }
            let name = r.endpoint_name().unwrap_or_default();
            if fake.endpoints.remove(name).is_none() {
                return not_found("Could not find endpoint.");
            }
            MockResponse::Output(DeleteEndpointOutput::builder().build())
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
        delete,
        update,
    ]
}

fn approval(approved: bool) -> ModelApprovalStatus {
    if approved {
        ModelApprovalStatus::Approved
    } else {
        ModelApprovalStatus::Rejected
    }
}
