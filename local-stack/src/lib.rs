//! The local AWS stack: everything the suite needs from AWS, on one machine.
//!
//! - [`moto`]: the moto server process on 127.0.0.1, SDK clients pointed at it, and
//!   the local endpoint server (InvokeEndpoint with the real XGBoost, data capture);
//! - [`stack`]: the suite's resources on it (buckets, bus, Glue database, the
//!   training pipeline, the model registry, a queue that receives every event the
//!   suite publishes), and what the tests and the main job read back;
//! - [`functions`]: each function's environment, as Lambda would set it;
//! - [`roles`]: each function's role, made from the template ([`template`]),
//!   whose credentials it runs with (moto enforces identity policies);
//! - [`predictions`]: prediction requests made of a split's raw rows;
//! - [`samples`]: the drift demo's uploads (a shifted file, a resample);
//! - [`pipeline`]: the pipeline runner — the steps of an execution moto started,
//!   run here with the real XGBoost (moto runs none);
//! - [`transform`]: the transform jobs moto records, run here the same way;
//! - [`xgboost`]: training with `local-stack/xgboost/train.py`, as SageMaker's
//!   XGBoost container trains.
//!
//! `scripts/run-local` drives it through the `local-stack` command
//! (`src/main.rs`); the integration tests (`tests/`) use it as a library, so
//! both run the same setup.

pub mod functions;
pub mod moto;
pub mod pipeline;
pub mod predictions;
pub mod roles;
pub mod samples;
pub mod stack;
pub mod template;
pub mod transform;
pub mod xgboost;

pub use functions::Function;
pub use moto::{sdk_config, EndpointServer, Moto};
pub use stack::{Clients, Stack};

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// moto's region for every local run.
pub const REGION: &str = "us-east-1";
/// moto's default account.
pub const ACCOUNT: &str = "123456789012";
/// The execution role named in the local stack (moto does not check it).
pub const SAGEMAKER_ROLE: &str = "arn:aws:iam::123456789012:role/housing-mlops-sagemaker";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project venv's Python (xgboost, for the pipeline runner):
/// `$HOUSING_MLOPS_VENV/bin/python`, by default `.venv` in the repository.
pub fn python() -> PathBuf {
    std::env::var_os("HOUSING_MLOPS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"))
        .join("bin/python")
}

/// Runs one of the project's Python scripts (`args`: the script and its flags)
/// with `python`, and returns the JSON report it prints on its last line; a
/// failure names the command and carries the script's stderr.
pub fn python_report<S: AsRef<OsStr>>(python: &Path, args: &[S]) -> Result<Value> {
    let out = std::process::Command::new(python)
        .args(args)
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    ensure!(
        out.status.success(),
        "{} {} failed: {}",
        python.display(),
        args.iter()
            .map(|a| a.as_ref().to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("the script printed {last:?}"))
}
