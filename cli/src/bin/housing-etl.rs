//! `housing-etl`: `housing-mlops etl` under its older name.

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "housing-etl",
    version,
    about = "Validate, clean, feature and split a California-housing CSV"
)]
struct Cli {
    #[command(flatten)]
    args: housing_mlops::etl::Args,
}

fn main() -> ExitCode {
    housing_mlops::etl::run(Cli::parse().args, "housing-etl")
}
