//! `local-stack/xgboost/train.py`, run with the project's Python: what SageMaker's
//! built-in XGBoost container does with a training job. The pipeline runner's
//! Training steps, the shadow tests' candidates and the tests' models all train
//! through [`Training::run`], so the script's flags are spelled once.

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One training run's files, as train.py's flags name them.
pub struct Training {
    /// The HyperParameters: JSON of strings, as SageMaker hands them to the container.
    pub hyperparameters: PathBuf,
    /// The channels' settings (inputdataconfig.json); without it every channel is CSV.
    pub input_config: Option<PathBuf>,
    pub train: PathBuf,
    pub validation: PathBuf,
    /// Where the model is saved (`xgboost-model`), and the archive of it.
    pub model_dir: PathBuf,
    pub archive: PathBuf,
    /// Checkpoints are saved here after every round, and a run resumes from them.
    pub checkpoint_dir: Option<PathBuf>,
}

impl Training {
    /// A training of the CSV channels in `dir`: `hyperparameters.json`, `train/` and
    /// `validation/`; the model goes to `model/`, its archive to `model.tar.gz`.
    pub fn in_folder(dir: &Path) -> Training {
        Training {
            hyperparameters: dir.join("hyperparameters.json"),
            input_config: None,
            train: dir.join("train"),
            validation: dir.join("validation"),
            model_dir: dir.join("model"),
            archive: dir.join("model.tar.gz"),
            checkpoint_dir: None,
        }
    }

    /// Trains with `python` (the project's venv); returns the report train.py
    /// prints last: the final evaluations, row counts and the training time.
    pub fn run(&self, python: &Path) -> Result<Value> {
        let script = crate::repo_root().join("local-stack/xgboost/train.py");
        let mut command = Command::new(python);
        command
            .arg(&script)
            .arg("--hyperparameters")
            .arg(&self.hyperparameters)
            .arg("--train")
            .arg(&self.train)
            .arg("--validation")
            .arg(&self.validation)
            .arg("--model-dir")
            .arg(&self.model_dir)
            .arg("--archive")
            .arg(&self.archive);
        if let Some(config) = &self.input_config {
            command.arg("--input-config").arg(config);
        }
        if let Some(dir) = &self.checkpoint_dir {
            command.arg("--checkpoint-dir").arg(dir);
        }
        let out = command
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        ensure!(
            out.status.success(),
            "training failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).with_context(|| format!("train.py printed {last:?}"))
    }
}
