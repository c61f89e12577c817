//! Every SageMaker write a deployment makes: the Model, the EndpointConfig,
//! `CreateEndpoint` and the blue/green `UpdateEndpoint`. What an endpoint
//! serves now is a read of [`crate::stages::serving`].

use super::config::DataCapture;
use crate::aws::sagemaker;
use crate::error::Error;
use crate::stages::{Deployment, Fleet, Package, Stage, TAG_STAGE};
use aws_sdk_sagemaker::types::{
    Alarm, AutoRollbackConfig, BlueGreenUpdatePolicy, CapacitySize, CapacitySizeType,
    CaptureContentTypeHeader, CaptureMode, CaptureOption, ContainerDefinition, DataCaptureConfig,
    DeploymentConfig, ProductionVariant, ProductionVariantInstanceType,
    ProductionVariantServerlessConfig, Tag, TrafficRoutingConfig, TrafficRoutingConfigType,
    VariantProperty, VariantPropertyType,
};
use aws_sdk_sagemaker::Client;

/// The content types the endpoints take and answer (captured as text).
pub use crate::aws::{CSV, JSON};

/// The Model `name` for `package`, created unless it exists; network-isolated
/// unless `network_isolation` is false (a serverless stage's).
pub async fn ensure_model(
    client: &Client,
    name: &str,
    package: &Package,
    role_arn: &str,
    tags: &[Tag],
    network_isolation: bool,
) -> Result<(), Error> {
    let described = client.describe_model().model_name(name).send().await;
    if sagemaker::found("DescribeModel", name, described)?.is_some() {
        return Ok(());
    }
    let created = client
        .create_model()
        .model_name(name)
        .execution_role_arn(role_arn)
        // The built-in XGBoost container needs no network: SageMaker fetches the
        // artifact and writes the captured data outside it. Serverless Inference
        // does not support isolation (Developer Guide, "serverless-endpoints").
        .enable_network_isolation(network_isolation)
        .containers(
            ContainerDefinition::builder()
                .model_package_name(&package.arn)
                .build(),
        )
        .set_tags(Some(tags.to_vec()))
        .send()
        .await;
    Ok(sagemaker::created("CreateModel", name, created)?)
}

/// The EndpointConfig `name` (one variant of `model` with the stage's instances
/// and data capture), created unless it exists.
pub async fn ensure_endpoint_config(
    client: &Client,
    name: &str,
    model: &str,
    stage: &Stage,
    capture: Option<&DataCapture>,
    tags: &[Tag],
) -> Result<(), Error> {
    let capture = capture
        .filter(|_| stage.data_capture_percent > 0)
        .map(|capture| data_capture_config(capture, stage.data_capture_percent));
    let config = Config {
        production: variant(stage, &stage.variant, model, 1.0),
        shadow: None,
        capture,
    };
    ensure(client, name, config, tags).await
}

/// A shadow test's EndpointConfig `name`: `serving_model` on the stage's
/// variant answers every request, `candidate_model` on the shadow variant
/// `shadow_variant` (the stage's instances) gets a copy of `sample_percent` of
/// them (its weight over the production variant's 1), and capture takes every
/// request and answer of both: the comparison pairs them by request.
/// Created unless it exists.
#[allow(clippy::too_many_arguments)]
pub async fn ensure_shadow_config(
    client: &Client,
    name: &str,
    serving_model: &str,
    candidate_model: &str,
    shadow_variant: &str,
    stage: &Stage,
    sample_percent: u32,
    capture: &DataCapture,
    tags: &[Tag],
) -> Result<(), Error> {
    let config = Config {
        production: variant(stage, &stage.variant, serving_model, 1.0),
        shadow: Some(variant(
            stage,
            shadow_variant,
            candidate_model,
            sample_percent as f32 / 100.0,
        )),
        capture: Some(data_capture_config(capture, 100)),
    };
    ensure(client, name, config, tags).await
}

/// What an endpoint config holds.
struct Config {
    production: ProductionVariant,
    shadow: Option<ProductionVariant>,
    capture: Option<DataCaptureConfig>,
}

/// The EndpointConfig `name` as `config` says, created unless it exists.
async fn ensure(client: &Client, name: &str, config: Config, tags: &[Tag]) -> Result<(), Error> {
    let described = client
        .describe_endpoint_config()
        .endpoint_config_name(name)
        .send()
        .await;
    if sagemaker::found("DescribeEndpointConfig", name, described)?.is_some() {
        return Ok(());
    }
    let created = client
        .create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(config.production)
        .set_shadow_production_variants(config.shadow.map(|v| vec![v]))
        .set_data_capture_config(config.capture)
        .set_tags(Some(tags.to_vec()))
        .send()
        .await;
    Ok(sagemaker::created("CreateEndpointConfig", name, created)?)
}

/// A variant `name` of `model` on the stage's fleet, with `weight`.
fn variant(stage: &Stage, name: &str, model: &str, weight: f32) -> ProductionVariant {
    let variant = ProductionVariant::builder()
        .variant_name(name)
        .model_name(model)
        .initial_variant_weight(weight);
    match stage.fleet() {
        Fleet::Instances {
            instance_type,
            count,
            ..
        } => variant
            .instance_type(ProductionVariantInstanceType::from(instance_type))
            .initial_instance_count(count as i32),
        Fleet::Serverless(s) => variant.serverless_config(
            ProductionVariantServerlessConfig::builder()
                .memory_size_in_mb(s.memory_mb as i32)
                .max_concurrency(s.max_concurrency as i32)
                .set_provisioned_concurrency(s.provisioned_concurrency.map(|p| p as i32))
                .build(),
        ),
    }
    .build()
}

/// Capture of `percent` of the requests and their answers to `capture`'s
/// destination, CSV and JSON stored as text, not base64 (drift and the shadow
/// comparison read them).
pub fn data_capture_config(capture: &DataCapture, percent: u32) -> DataCaptureConfig {
    let both = [CaptureMode::Input, CaptureMode::Output]
        .map(|mode| CaptureOption::builder().capture_mode(mode).build());
    DataCaptureConfig::builder()
        .enable_capture(true)
        .initial_sampling_percentage(percent as i32)
        .destination_s3_uri(&capture.uri)
        .set_kms_key_id(capture.kms_key_arn.clone())
        .capture_content_type_header(
            CaptureContentTypeHeader::builder()
                .csv_content_types(CSV)
                .json_content_types(JSON)
                .build(),
        )
        .set_capture_options(Some(both.to_vec()))
        .build()
}

/// The stage's first endpoint, serving `config`, tagged with its stage and `tags`.
pub async fn create(
    client: &Client,
    stage: &Stage,
    config: &str,
    tags: &[Tag],
) -> Result<(), Error> {
    let mut all = vec![Tag::builder().key(TAG_STAGE).value(&stage.name).build()];
    all.extend_from_slice(tags);
    client
        .create_endpoint()
        .endpoint_name(&stage.endpoint)
        .endpoint_config_name(config)
        .set_tags(Some(all))
        .send()
        .await
        .map_err(|e| sagemaker::error("CreateEndpoint", &stage.endpoint, e))?;
    Ok(())
}

/// Moves the stage's endpoint to `config`, blue/green as `deployment` says
/// ([`deployment_config`]: the stage's traffic shifting and rollback alarms).
/// `keep_instance_count`: the variant keeps the instance count it has now
/// (autoscaling may have grown it) instead of the config's initial count:
/// SageMaker's `RetainAllVariantProperties`, with the data capture settings
/// still taken from the new config.
pub async fn update(
    client: &Client,
    stage: &Stage,
    config: &str,
    deployment: DeploymentConfig,
    keep_instance_count: bool,
) -> Result<(), Error> {
    let mut request = client
        .update_endpoint()
        .endpoint_name(&stage.endpoint)
        .endpoint_config_name(config)
        .deployment_config(deployment);
    if keep_instance_count {
        request = request
            .retain_all_variant_properties(true)
            .exclude_retained_variant_properties(
                VariantProperty::builder()
                    .variant_property_type(VariantPropertyType::DataCaptureConfig)
                    .build(),
            );
    }
    request
        .send()
        .await
        .map_err(|e| sagemaker::error("UpdateEndpoint", &stage.endpoint, e))?;
    Ok(())
}

/// A shadow test's start or end: the production variant keeps its model, so
/// all at once, with no baking and no old fleet kept, and the stage's alarms.
pub fn shadow_move_config(stage: &Stage) -> DeploymentConfig {
    let quick = Stage {
        deployment: Deployment::AllAtOnce { wait_seconds: 0 },
        termination_wait_seconds: 0,
        max_deployment_seconds: None,
        ..stage.clone()
    };
    deployment_config(&quick)
}

/// The blue/green deployment of a stage: its traffic shifting, and its alarms
/// for automatic rollback.
pub fn deployment_config(stage: &Stage) -> DeploymentConfig {
    let percent = |value: u32| {
        CapacitySize::builder()
            .r#type(CapacitySizeType::CapacityPercent)
            .value(value as i32)
            .build()
    };
    let routing = TrafficRoutingConfig::builder()
        .wait_interval_in_seconds(stage.deployment.wait_seconds() as i32);
    let routing = match stage.deployment {
        Deployment::AllAtOnce { .. } => routing.r#type(TrafficRoutingConfigType::AllAtOnce),
        Deployment::Canary { percent: p, .. } => routing
            .r#type(TrafficRoutingConfigType::Canary)
            .canary_size(percent(p)),
        Deployment::Linear { step_percent, .. } => routing
            .r#type(TrafficRoutingConfigType::Linear)
            .linear_step_size(percent(step_percent)),
    };
    let policy = BlueGreenUpdatePolicy::builder()
        .traffic_routing_configuration(routing.build())
        .termination_wait_in_seconds(stage.termination_wait_seconds as i32)
        .maximum_execution_timeout_in_seconds(stage.deployment_timeout_seconds() as i32)
        .build();
    let rollback = (!stage.alarms.is_empty()).then(|| {
        AutoRollbackConfig::builder()
            .set_alarms(Some(
                stage
                    .alarms
                    .iter()
                    .map(|a| Alarm::builder().alarm_name(a).build())
                    .collect(),
            ))
            .build()
    });
    DeploymentConfig::builder()
        .blue_green_update_policy(policy)
        .set_auto_rollback_configuration(rollback)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::{Stages, BUNDLED};

    #[test]
    fn each_strategy_becomes_its_blue_green_routing() {
        let stages = Stages::parse(BUNDLED).unwrap();
        let routing = |name: &str| {
            let config = deployment_config(stages.find(name).unwrap().1);
            let routing = config
                .blue_green_update_policy()
                .and_then(|p| p.traffic_routing_configuration())
                .cloned()
                .unwrap();
            let alarms: Vec<String> = config
                .auto_rollback_configuration()
                .map(|a| {
                    a.alarms()
                        .iter()
                        .filter_map(|a| a.alarm_name())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            (routing, alarms)
        };
        let (dev, dev_alarms) = routing("dev");
        assert_eq!(dev.r#type(), Some(&TrafficRoutingConfigType::AllAtOnce));
        assert_eq!(dev.wait_interval_in_seconds(), Some(0));
        assert!(dev.canary_size().is_none() && dev.linear_step_size().is_none());
        assert_eq!(dev_alarms, ["housing-mlops-dev-5xx"]);

        let policy = |name: &str| {
            deployment_config(stages.find(name).unwrap().1)
                .blue_green_update_policy()
                .cloned()
                .unwrap()
        };
        let prod_policy = policy("prod");
        assert_eq!(prod_policy.termination_wait_in_seconds(), Some(600));
        assert_eq!(
            prod_policy.maximum_execution_timeout_in_seconds(),
            Some(2 * 900 + 600 + 3600)
        );
        assert_eq!(policy("dev").termination_wait_in_seconds(), Some(0));
        assert_eq!(
            policy("dev").maximum_execution_timeout_in_seconds(),
            Some(3600)
        );

        let (prod, prod_alarms) = routing("prod");
        assert_eq!(prod.r#type(), Some(&TrafficRoutingConfigType::Linear));
        assert_eq!(prod.wait_interval_in_seconds(), Some(900));
        let step = prod.linear_step_size().unwrap();
        assert_eq!(step.r#type(), Some(&CapacitySizeType::CapacityPercent));
        assert_eq!(step.value(), Some(50));
        assert_eq!(
            prod_alarms,
            ["housing-mlops-prod-5xx", "housing-mlops-prod-latency"]
        );

        let mut quiet = stages.first().clone();
        quiet.alarms.clear();
        assert!(deployment_config(&quiet)
            .auto_rollback_configuration()
            .is_none());
    }
}
