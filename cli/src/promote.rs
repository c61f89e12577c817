//! `housing-mlops promote <group> <version> <stage>`: puts the `PromoteModel` command on the
//! stack's bus, signed as whoever runs it (the bus policy lets only the stack's named
//! operators send `housing-mlops.operator` events). promote-model makes it the stage's
//! desired state and deploys it; `status` shows how that goes.
//!
//! Checked before sending, so a typo fails here rather than as a `PromotionRefused` later:
//! the stage is one of the stack's, and the version exists and is approved.

use shared::events::promotion::{PromoteModel, OPERATOR_SOURCE, PROMOTE_MODEL};
use shared::promotion::registry;

/// Send PromoteModel: deploy version <version> of <group> to <stage>.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model package group (the stack's output ModelPackageGroupName).
    group: String,
    /// The registry version.
    version: u32,
    /// The stage to deploy it to.
    stage: String,
    /// Who asks, recorded in the stage's record and the events (default: the caller's ARN).
    #[arg(long)]
    requested_by: Option<String>,
    #[command(flatten)]
    target: crate::stack::Target,
}

pub async fn run(args: Args) -> Result<String, String> {
    let stack = crate::stack::connect(&args.target).await?;
    if stack.stages.get(&args.stage).is_none() {
        return Err(format!(
            "no stage {} (the stages are {})",
            args.stage,
            stack.stages.names().join(", ")
        ));
    }
    let sagemaker = aws_sdk_sagemaker::Client::new(&stack.sdk);
    let package = registry::find(&sagemaker, &args.group, args.version)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no version {} in model package group {}",
                args.version, args.group
            )
        })?;
    if package.approval != "Approved" {
        return Err(format!(
            "{} v{} is {}, not Approved: promote-model deploys approved packages only",
            args.group, args.version, package.approval
        ));
    }
    let requested_by = match args.requested_by {
        Some(who) => who,
        None => aws_sdk_sts::Client::new(&stack.sdk)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| crate::stack::aws_error("who is asking (STS GetCallerIdentity)", &e))?
            .arn()
            .unwrap_or("an operator")
            .to_string(),
    };
    let command = PromoteModel {
        model_package_group: args.group,
        model_package_version: args.version,
        target_stage: args.stage,
        requested_by: Some(requested_by),
    };
    let events = aws_sdk_eventbridge::Client::new(&stack.sdk);
    let id = shared::aws::bus::publish(
        &events,
        &stack.bus,
        OPERATOR_SOURCE,
        PROMOTE_MODEL,
        &command,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "PromoteModel sent to {} (event {id}): {} v{} to {}, asked by {}\n\
         promote-model records it as the stage's desired state and deploys it; follow it with `housing-mlops status`.\n",
        stack.bus,
        command.model_package_group,
        command.model_package_version,
        command.target_stage,
        command.requested_by.unwrap_or_default()
    ))
}
