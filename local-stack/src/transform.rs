//! The transform jobs on moto, run here: moto records a `CreateTransformJob`
//! (and calls it Completed at once) but runs nothing, so
//! `local-stack/endpoint/transform.py` runs it as SageMaker would with the
//! built-in XGBoost container (the model loaded as the local endpoint server
//! loads it), reading and writing moto's S3.

use anyhow::{Context, Result};
use serde::Deserialize;

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TransformRun {
    pub job: String,
    /// Input objects, their lines, the mini-batches the lines went in.
    pub objects: u64,
    pub lines: u64,
    pub batches: u64,
}

/// Runs transform job `job` of the moto at `moto`.
pub fn run(moto: &str, job: &str) -> Result<TransformRun> {
    let script = crate::repo_root().join("local-stack/endpoint/transform.py");
    let args = [
        script.as_os_str(),
        "--moto".as_ref(),
        moto.as_ref(),
        job.as_ref(),
    ];
    let report = crate::python_report(&crate::python(), &args)
        .with_context(|| format!("transform job {job}"))?;
    serde_json::from_value(report).with_context(|| format!("transform job {job}: its report"))
}
