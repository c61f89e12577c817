//! `pipeline-definition`: `housing-mlops definition` under its older name.

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pipeline-definition",
    version,
    about = "Print (or write) the SageMaker pipeline definition"
)]
struct Cli {
    #[command(flatten)]
    args: housing_mlops::definition::Args,
}

fn main() -> ExitCode {
    match housing_mlops::definition::run(Cli::parse().args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pipeline-definition: {e}");
            ExitCode::FAILURE
        }
    }
}
