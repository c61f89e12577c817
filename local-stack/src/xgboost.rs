//! `local-stack/xgboost/train.py`, run with the project's Python: what SageMaker's
//! built-in XGBoost container does with a training job. The pipeline runner's
//! Training steps, the shadow tests' candidates and the tests' models all train
//! through [`Training::run`], so the script's flags are spelled once.

use anyhow::Result;
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

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
        let mut args: Vec<OsString> = vec![script.into()];
        let flags = [
            ("--hyperparameters", Some(&self.hyperparameters)),
            ("--input-config", self.input_config.as_ref()),
            ("--train", Some(&self.train)),
            ("--validation", Some(&self.validation)),
            ("--model-dir", Some(&self.model_dir)),
            ("--archive", Some(&self.archive)),
            ("--checkpoint-dir", self.checkpoint_dir.as_ref()),
        ];
        for (flag, path) in flags {
            if let Some(path) = path {
                args.extend([flag.into(), path.into()]);
            }
        }
        crate::python_report(python, &args)
    }
}
