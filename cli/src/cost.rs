//! `housing-mlops cost`: each stage's monthly cost (idle, at min and at max scale) and a
//! training run's, from the stages file and the price table.

use shared::stages::cost::{self, Prices, BUNDLED_PRICES};
use shared::stages::{Stages, BUNDLED};
use shared::training::definition::TRAINING_MAX_RUNTIME_SECONDS;
use shared::training::parameters::{default_instance_count, DEFAULT_TRAINING_INSTANCE_TYPE};
use std::path::{Path, PathBuf};

/// Each stage's monthly cost idle, at min and at max scale, and a training run's on demand
/// and on spot.
#[derive(clap::Args, Debug)]
pub struct Args {
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
}

/// `path`'s text, or `bundled` when no path is given.
pub fn read(path: Option<&Path>, bundled: &str) -> Result<String, String> {
    match path {
        None => Ok(bundled.to_string()),
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())),
    }
}

pub fn run(args: Args) -> Result<String, String> {
    let stages =
        Stages::parse(&read(args.stages.as_deref(), BUNDLED)?).map_err(|e| e.to_string())?;
    let prices =
        Prices::parse(&read(args.prices.as_deref(), BUNDLED_PRICES)?).map_err(|e| e.to_string())?;
    let training = cost::training_cost(
        &prices,
        &args.training_instance_type,
        args.training_instances,
        TRAINING_MAX_RUNTIME_SECONDS,
    )?;
    cost::report(&stages, &prices, &training).map_err(|e| e.to_string())
}
