//! Prints (or writes) the SageMaker pipeline definition JSON.
//!
//!   pipeline-definition --role-arn ARN --model-package-group NAME --model-output s3://bucket/models
//!                       --code-uri s3://bucket/pipeline-code
//!                       [--region REGION | --training-image URI] [--kms-key-arn ARN]
//!                       [--stack-name NAME] [--out FILE]

use shared::training::definition::{build, xgboost_image, DefinitionConfig};
use std::process::ExitCode;

const USAGE: &str = "usage: pipeline-definition --role-arn ARN --model-package-group NAME --model-output S3_URI --code-uri S3_URI [--region REGION | --training-image URI] [--kms-key-arn ARN] [--stack-name NAME] [--out FILE]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut role, mut group, mut output, mut code, mut region, mut image, mut key, mut out) =
        (None, None, None, None, None, None, None, None);
    let mut stack = None;
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--role-arn" => &mut role,
            "--model-package-group" => &mut group,
            "--model-output" => &mut output,
            "--code-uri" => &mut code,
            "--region" => &mut region,
            "--training-image" => &mut image,
            "--kms-key-arn" => &mut key,
            "--out" => &mut out,
            "--stack-name" => &mut stack,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("pipeline-definition: unknown argument {other}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        *slot = args.next();
    }
    let region = region.or_else(|| std::env::var("AWS_REGION").ok());
    let image = image.or_else(|| region.as_deref().and_then(xgboost_image));
    let (
        Some(role_arn),
        Some(model_package_group),
        Some(model_output_uri),
        Some(code_uri),
        Some(training_image),
    ) = (role, group, output, code, image)
    else {
        eprintln!("pipeline-definition: missing argument (a region without a known XGBoost registry needs --training-image)\n{USAGE}");
        return ExitCode::from(2);
    };
    let json = build(&DefinitionConfig {
        role_arn,
        model_package_group,
        model_output_uri,
        training_image,
        kms_key_arn: key,
        code_uri,
        stack_name: stack,
    })
    .to_json();
    match out {
        Some(path) => match std::fs::write(&path, json + "\n") {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pipeline-definition: cannot write {path}: {e}");
                ExitCode::from(1)
            }
        },
        None => {
            println!("{json}");
            ExitCode::SUCCESS
        }
    }
}
