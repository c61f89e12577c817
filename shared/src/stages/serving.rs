//! What a stage's endpoint serves now: its state, its EndpointConfig, the one a
//! deployment under way moves to, and the lineage read back from the config's
//! tags. Promotion decides with it; predict, the drift check and the traffic
//! monitor learn from it which model answers.

use super::lineage::Lineage;
use crate::aws::sagemaker;
use crate::error::Error;
use crate::events::endpoint::EndpointState;
use aws_sdk_sagemaker::types::ProductionVariant;
use aws_sdk_sagemaker::Client;
use std::collections::HashMap;

/// What an endpoint serves now.
#[derive(Debug, Clone)]
pub struct Serving {
    pub state: EndpointState,
    pub endpoint_config: String,
    /// The config a deployment under way is moving to.
    pub pending_config: Option<String>,
    /// `None` when the serving config is gone or carries no lineage tags.
    pub lineage: Option<Lineage>,
    /// The serving config's instance type; `None` when it is serverless or gone.
    pub instance_type: Option<String>,
    /// The SageMaker Model its (first) variant serves; `None` when the config
    /// is gone. A Batch Transform job runs this model.
    pub model_name: Option<String>,
    /// How many instances the serving config starts with; `None` when it is
    /// serverless or gone.
    pub instance_count: Option<i32>,
    /// The serving config's serverless settings; `None` when it runs on
    /// instances or is gone.
    pub serverless: Option<ServerlessSettings>,
    /// The candidate a shadow test runs beside the serving model on this
    /// config (its tag [`super::TAG_SHADOW_MODEL_PACKAGE_ARN`]); `None`
    /// without a shadow test.
    pub shadow_of: Option<String>,
}

/// A serverless variant's settings, as its endpoint config holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerlessSettings {
    pub memory_mb: i32,
    pub max_concurrency: i32,
}

impl Serving {
    /// Its serving config was deployed from package `arn` (whatever its state).
    pub fn is_of(&self, arn: &str) -> bool {
        self.lineage
            .as_ref()
            .is_some_and(|l| super::same_arn(&l.model_package_arn, arn))
    }

    /// InService, answering with package `arn`.
    pub fn serves(&self, arn: &str) -> bool {
        self.state == EndpointState::InService && self.is_of(arn)
    }
}

/// What `endpoint` serves, or `None` when it does not exist.
pub async fn serving(client: &Client, endpoint: &str) -> Result<Option<Serving>, Error> {
    let described = client
        .describe_endpoint()
        .endpoint_name(endpoint)
        .send()
        .await;
    let Some(out) = sagemaker::found("DescribeEndpoint", endpoint, described)? else {
        return Ok(None);
    };
    let endpoint_config = out.endpoint_config_name().unwrap_or_default().to_string();
    let state = EndpointState::parse(out.endpoint_status().map_or("", |s| s.as_str()));
    let pending_config = out
        .pending_deployment_summary()
        .and_then(|p| p.endpoint_config_name())
        .map(str::to_string);
    let (tags, variant) = describe_config(client, &endpoint_config).await?;
    let variant = variant.as_ref();
    Ok(Some(Serving {
        lineage: Lineage::from_tags(&tags),
        shadow_of: tags.get(super::TAG_SHADOW_MODEL_PACKAGE_ARN).cloned(),
        instance_type: variant
            .and_then(|v| v.instance_type())
            .map(|t| t.as_str().to_string()),
        model_name: variant.and_then(|v| v.model_name()).map(str::to_string),
        instance_count: variant.and_then(|v| v.initial_instance_count()),
        serverless: variant
            .and_then(|v| v.serverless_config())
            .map(|s| ServerlessSettings {
                memory_mb: s.memory_size_in_mb().unwrap_or_default(),
                max_concurrency: s.max_concurrency().unwrap_or_default(),
            }),
        state,
        endpoint_config,
        pending_config,
    }))
}

/// An endpoint config's tags and its (first) variant; none when it is gone
/// or untagged.
async fn describe_config(
    client: &Client,
    config: &str,
) -> Result<(HashMap<String, String>, Option<ProductionVariant>), Error> {
    let described = client
        .describe_endpoint_config()
        .endpoint_config_name(config)
        .send()
        .await;
    let Some(described) = sagemaker::found("DescribeEndpointConfig", config, described)? else {
        return Ok((HashMap::new(), None));
    };
    let variant = described.production_variants().first().cloned();
    let Some(arn) = described.endpoint_config_arn() else {
        return Ok((HashMap::new(), variant));
    };
    let out = client
        .list_tags()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| sagemaker::error("ListTags", arn, e))?;
    let tags: HashMap<String, String> = out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect();
    Ok((tags, variant))
}
