//! `housing-mlops`: the operators' command line.
//!
//!   housing-mlops cost [--stages FILE] [--prices FILE] [--training-instance-type T] [--training-instances N]
//!       each stage's monthly cost (idle, at min and at max scale) and a training
//!       run's, from the stages file and the price table (the bundled
//!       `infra/stages.yaml` and `infra/prices.yaml` by default)
//!
//! Exit 0: done. Exit 1: a file could not be read or is invalid (every problem
//! on stderr).

use clap::{Parser, Subcommand};
use shared::stages::cost::{self, Prices, BUNDLED_PRICES};
use shared::stages::{Stages, BUNDLED};
use shared::training::definition::TRAINING_MAX_RUNTIME_SECONDS;
use shared::training::parameters::{default_instance_count, DEFAULT_TRAINING_INSTANCE_TYPE};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "housing-mlops", version, about = "Operate housing-mlops")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Each stage's monthly cost idle, at min and at max scale, and a training
    /// run's on demand and on spot.
    Cost {
        /// The stages file (default: the bundled infra/stages.yaml).
        #[arg(long)]
        stages: Option<PathBuf>,
        /// The price table (default: the bundled infra/prices.yaml).
        #[arg(long)]
        prices: Option<PathBuf>,
        /// The training instance type (default: the pipeline's default).
        #[arg(long, default_value = DEFAULT_TRAINING_INSTANCE_TYPE)]
        training_instance_type: String,
        /// Training instances (default: the pipeline's default).
        #[arg(long, default_value_t = default_instance_count())]
        training_instances: u32,
    },
}

/// `path`'s text, or `bundled` when no path is given.
fn read(path: Option<&Path>, bundled: &str) -> Result<String, String> {
    match path {
        None => Ok(bundled.to_string()),
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())),
    }
}

fn run(cli: Cli) -> Result<String, String> {
    match cli.command {
        Command::Cost {
            stages,
            prices,
            training_instance_type,
            training_instances,
        } => {
            let stages =
                Stages::parse(&read(stages.as_deref(), BUNDLED)?).map_err(|e| e.to_string())?;
            let prices = Prices::parse(&read(prices.as_deref(), BUNDLED_PRICES)?)
                .map_err(|e| e.to_string())?;
            let training = cost::training_cost(
                &prices,
                &training_instance_type,
                training_instances,
                TRAINING_MAX_RUNTIME_SECONDS,
            )?;
            cost::report(&stages, &prices, &training).map_err(|e| e.to_string())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("housing-mlops: {e}");
            ExitCode::FAILURE
        }
    }
}
