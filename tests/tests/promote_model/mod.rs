//! promote-model against moto: registry approvals deploy the latest approved
//! version to dev (Model, EndpointConfig, Endpoint, lineage tags, ModelPromoted),
//! re-deliveries and older approvals are no-ops, the allow-list / account /
//! region checks, the previous-stage and quality gates, and endpoint state
//! changes. moto has no UpdateEndpoint: the update path is in promote_faults.rs.

use integration_tests::{read_json, Setup, TestEnv};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::promotion::PromotionService;
use shared::stages::{
    TAG_COMPONENT, TAG_DATASET_ID, TAG_MODEL_PACKAGE_ARN, TAG_PIPELINE_EXECUTION_ARN,
    TAG_SOURCE_EVENT_ID, TAG_STACK, TAG_STAGE, TAG_VALIDATION_RMSE,
};
use std::collections::HashMap;

/// promote-model's test environment, with this file's helpers.
struct Env(TestEnv<PromotionService>);

impl std::ops::Deref for Env {
    type Target = TestEnv<PromotionService>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

async fn env(test: &str) -> Env {
    Env(Setup::new(&format!("promo-{test}")).promotion().await)
}

const EXECUTION: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/0123456789ab";

impl Env {
    async fn invoke(&self, event: Value) -> Result<Value, Diagnostic> {
        promote_model::handle(&self.service, LambdaEvent::new(event, Context::default())).await
    }

    /// Registers a package as the pipeline does; returns its ARN.
    async fn register(&self, rmse: f64) -> String {
        let dataset = format!("ds-rmse-{}", (rmse * 1000.0) as u32);
        self.stack
            .register_model(&self.clients, rmse, &dataset, EXECUTION)
            .await
            .unwrap()
    }

    async fn approved(&self, rmse: f64) -> String {
        let arn = self.register(rmse).await;
        self.stack.approve(&self.clients, &arn).await.unwrap();
        arn
    }

    /// The sample approval event, for `arn` (version `version` of our group).
    fn approval(&self, arn: &str, version: u32) -> Value {
        let mut event = read_json("events/promote-model/model-package-approved.json");
        event["id"] = format!("approval-{version}").into();
        event["resources"] = json!([arn]);
        let detail = &mut event["detail"];
        detail["ModelPackageGroupName"] = self.stack.model_package_group().into();
        detail["ModelPackageVersion"] = version.into();
        detail["ModelPackageArn"] = arn.into();
        event
    }

    fn promote(&self, version: u32, stage: &str) -> Value {
        let mut event = read_json("events/promote-model/promote-to-pre-prod.json");
        event["detail"]["model_package_group"] = self.stack.model_package_group().into();
        event["detail"]["model_package_version"] = version.into();
        event["detail"]["target_stage"] = stage.into();
        event
    }

    fn endpoint_name(&self, stage: &str) -> String {
        format!("{}-{stage}", self.stack.name)
    }

    fn endpoint_event(&self, stage: &str, status: &str) -> Value {
        let mut event = read_json("events/promote-model/endpoint-rolling-back.json");
        event["detail"]["EndpointName"] = self.endpoint_name(stage).into();
        event["detail"]["EndpointStatus"] = status.into();
        event
    }

    /// The endpoint's status and config, if it exists.
    async fn endpoint(&self, stage: &str) -> Option<(String, String)> {
        let out = self
            .clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(self.endpoint_name(stage))
            .send()
            .await
            .ok()?;
        Some((
            out.endpoint_status()?.as_str().to_string(),
            out.endpoint_config_name()?.to_string(),
        ))
    }

    async fn tags(&self, arn: &str) -> HashMap<String, String> {
        let out = self
            .clients
            .sagemaker
            .list_tags()
            .resource_arn(arn)
            .send()
            .await
            .unwrap();
        out.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    async fn config_tags(&self, config: &str) -> HashMap<String, String> {
        let out = self
            .clients
            .sagemaker
            .describe_endpoint_config()
            .endpoint_config_name(config)
            .send()
            .await
            .unwrap();
        self.tags(out.endpoint_config_arn().unwrap()).await
    }

    async fn events(&self) -> Vec<Value> {
        self.stack.received_events(&self.clients).await.unwrap()
    }
}

mod approvals;
mod gates;
