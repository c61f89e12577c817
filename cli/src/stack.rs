//! The deployed stack the AWS commands (`status`, `promote`, `drift`) work on: found by name
//! through CloudFormation, its resources read from the stack's outputs ([`shared::outputs`]),
//! with the default credential chain, or a local stack's moto through `--endpoint-url`.

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use shared::aws::S3Location;
use shared::config::AwsSettings;
use shared::outputs;
use shared::stages::{Stages, BUNDLED};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which stack, reached how.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The CloudFormation stack the suite was deployed as (samconfig.toml's stack_name:
    /// housing-mlops-dev, -pre-prod or -prod; housing-mlops-local for scripts/run-local's).
    #[arg(long, env = "HOUSING_MLOPS_STACK", hide_env_values = true)]
    pub stack: String,
    /// Every AWS call to this endpoint instead of AWS's (a local stack's moto,
    /// http://127.0.0.1:PORT; AWS_ENDPOINT_URL does the same).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// The AWS region (default: the SDK's, from AWS_REGION or the profile).
    #[arg(long)]
    pub region: Option<String>,
    /// The stages file the stack runs with (default: the bundled infra/stages.yaml, as deployed).
    #[arg(long)]
    pub stages: Option<PathBuf>,
}

/// A stack found, and the clients to look at it with.
pub struct Stack {
    pub name: String,
    pub region: String,
    pub stages: Stages,
    pub processed_bucket: String,
    pub bus: String,
    /// Where promote-model keeps each stage's desired-state record.
    pub promotion_state: S3Location,
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
}

/// Connects to `target`'s stack: credentials, region, the stack and its outputs. Each error
/// names what is missing.
pub async fn connect(target: &Target) -> Result<Stack, String> {
    let stages_yaml = crate::cost::read(target.stages.as_deref(), BUNDLED)?;
    let stages = Stages::parse(&stages_yaml).map_err(|e| e.to_string())?;
    let mut loader = shared::aws::loader();
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = &target.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let sdk = shared::aws::with_call_timeouts(&loader.load().await);
    let region = sdk
        .region()
        .map(ToString::to_string)
        .ok_or("no AWS region: set AWS_REGION, a profile's region, or --region")?;
    let Some(credentials) = sdk.credentials_provider() else {
        return Err("no AWS credentials provider".into());
    };
    credentials.provide_credentials().await.map_err(|e| {
        format!(
            "no AWS credentials (environment, profile, SSO, web identity or instance role): {}",
            DisplayErrorContext(&e)
        )
    })?;
    let outputs = stack_outputs(&sdk, &target.stack, &region).await?;
    let output = |name: &str| {
        outputs.get(name).cloned().ok_or_else(|| {
            format!(
                "stack {} has no output {name}: deploy this version of infra/template.yaml",
                target.stack
            )
        })
    };
    let promotion_state = output(outputs::PROMOTION_STATE_URI)?;
    let promotion_state = S3Location::parse(&promotion_state).ok_or_else(|| {
        format!(
            "stack {}'s {} is not an s3:// URI: {promotion_state}",
            target.stack,
            outputs::PROMOTION_STATE_URI
        )
    })?;
    let settings = AwsSettings {
        s3_force_path_style: sdk.endpoint_url().is_some(),
    };
    Ok(Stack {
        name: target.stack.clone(),
        region,
        stages,
        processed_bucket: output(outputs::PROCESSED_BUCKET)?,
        bus: output(outputs::EVENT_BUS)?,
        promotion_state,
        s3: shared::aws::s3_client(&sdk, settings),
        sdk,
    })
}

/// An AWS call's failure in a line: the service's code and message (or the HTTP status when
/// the answer had neither), and what to do about a refusal.
pub fn aws_error<E>(operation: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let mut line = match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{operation}: {code}: {message}"),
        (Some(code), None) => format!("{operation}: {code}"),
        _ => match status {
            Some(status) => format!("{operation}: HTTP {status}"),
            None => format!("{operation}: {}", DisplayErrorContext(e)),
        },
    };
    if status == Some(403) {
        line.push_str(" (the stack's OperatorPolicyArn output is the policy this command needs)");
    }
    line
}

/// The outputs of stack `name`, by key.
async fn stack_outputs(
    sdk: &SdkConfig,
    name: &str,
    region: &str,
) -> Result<BTreeMap<String, String>, String> {
    let client = aws_sdk_cloudformation::Client::new(sdk);
    let described = client.describe_stacks().stack_name(name).send().await;
    let out = match described {
        Ok(out) => out,
        // CloudFormation's answer for a stack that is not there: a ValidationError
        // "Stack with id <name> does not exist".
        Err(e) if e.code() == Some("ValidationError") => {
            return Err(format!(
                "no stack named {name} in {region} (--stack, or HOUSING_MLOPS_STACK, names it)"
            ))
        }
        Err(e) => return Err(aws_error(&format!("describing stack {name}"), &e)),
    };
    let stack = out
        .stacks()
        .first()
        .ok_or_else(|| format!("no stack named {name} in {region}"))?;
    Ok(stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect())
}
