//! What a stage's endpoint serves now: its state, its EndpointConfig, the one a
//! deployment under way moves to, and the lineage read back from the config's
//! tags. Promotion decides with it; predict, the drift check and the traffic
//! monitor learn from it which model answers.

use super::lineage::Lineage;
use crate::aws::sagemaker;
use crate::error::Error;
use crate::events::endpoint::EndpointState;
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
    let (lineage, instance_type, model_name) = describe_config(client, &endpoint_config).await?;
    Ok(Some(Serving {
        lineage,
        instance_type,
        model_name,
        state,
        endpoint_config,
        pending_config,
    }))
}

/// An endpoint config's lineage tags, its (first) variant's instance type and
/// model; `None`s when it is gone, untagged or serverless.
async fn describe_config(
    client: &Client,
    config: &str,
) -> Result<(Option<Lineage>, Option<String>, Option<String>), Error> {
    let described = client
        .describe_endpoint_config()
        .endpoint_config_name(config)
        .send()
        .await;
    let Some(described) = sagemaker::found("DescribeEndpointConfig", config, described)? else {
        return Ok((None, None, None));
    };
    let model_name = described
        .production_variants()
        .first()
        .and_then(|v| v.model_name())
        .map(str::to_string);
    let instance_type = described
        .production_variants()
        .first()
        .and_then(|v| v.instance_type())
        .map(|t| t.as_str().to_string());
    let Some(arn) = described.endpoint_config_arn() else {
        return Ok((None, instance_type, model_name));
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
    Ok((Lineage::from_tags(&tags), instance_type, model_name))
}
