//! `housing-mlops definition` (also `pipeline-definition`): the SageMaker pipeline definition
//! JSON, printed or written to a file (infra/README.md regenerates the template's with it).

use shared::training::definition::{build, xgboost_image, DefinitionConfig};
use std::path::PathBuf;

/// Print (or write) the SageMaker pipeline definition.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The role SageMaker's training and processing jobs run as.
    #[arg(long)]
    role_arn: String,
    /// The model package group the pipeline registers into.
    #[arg(long)]
    model_package_group: String,
    /// Where training writes model artifacts (s3://bucket/prefix).
    #[arg(long)]
    model_output: String,
    /// Where the evaluation script lives (s3://bucket/prefix).
    #[arg(long)]
    code_uri: String,
    /// The region whose XGBoost image trains (default: AWS_REGION).
    #[arg(long, env = "AWS_REGION", hide_env_values = true)]
    region: Option<String>,
    /// The training image, instead of the region's XGBoost 1.7 image.
    #[arg(long)]
    training_image: Option<String>,
    /// The KMS key the jobs encrypt their volumes and outputs with.
    #[arg(long)]
    kms_key_arn: Option<String>,
    /// The stack whose cost-allocation tags the jobs carry.
    #[arg(long)]
    stack_name: Option<String>,
    /// Write the JSON here instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The definition, printed (`Ok(json)`) or written to `--out` (`Ok("")`).
pub fn run(args: Args) -> Result<String, String> {
    let training_image = match (args.training_image, args.region.as_deref()) {
        (Some(image), _) => image,
        (None, Some(region)) => xgboost_image(region).ok_or_else(|| {
            format!("no known XGBoost image in region {region}: name one with --training-image")
        })?,
        (None, None) => {
            return Err("no region: give --region (or AWS_REGION) or --training-image".into())
        }
    };
    let json = build(&DefinitionConfig {
        role_arn: args.role_arn,
        model_package_group: args.model_package_group,
        model_output_uri: args.model_output,
        training_image,
        kms_key_arn: args.kms_key_arn,
        code_uri: args.code_uri,
        stack_name: args.stack_name,
    })
    .to_json()
        + "\n";
    match args.out {
        Some(path) => std::fs::write(&path, json)
            .map(|()| String::new())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => Ok(json),
    }
}
