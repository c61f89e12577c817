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

mod rules;
use rules::{error, rules};

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
