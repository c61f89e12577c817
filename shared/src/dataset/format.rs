//! How the training channels are written: their format (CSV or Parquet) and
//! how many part files the train channel is split into.

use super::layout::OutputKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The form of the training channels (train and validation) SageMaker's built-in
/// XGBoost reads: CSV (`text/csv`, the label first, no header) or Parquet
/// (`application/x-parquet`, the label in the first column, every column a double).
/// Parquet spares the ETL the float formatting of every value. The test channel stays
/// CSV either way: the evaluation step and the drift check's model quality read its
/// first rows with one ranged GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingFormat {
    #[default]
    Csv,
    Parquet,
}

impl TrainingFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingFormat::Csv => "csv",
            TrainingFormat::Parquet => "parquet",
        }
    }

    pub fn is_csv(&self) -> bool {
        *self == TrainingFormat::Csv
    }

    /// The training channels' `ContentType` in the pipeline's Training step.
    pub fn content_type(self) -> &'static str {
        match self {
            TrainingFormat::Csv => "text/csv",
            TrainingFormat::Parquet => "application/x-parquet",
        }
    }

    /// The train channel's output.
    pub fn train(self) -> OutputKind {
        match self {
            TrainingFormat::Csv => OutputKind::TrainXgboost,
            TrainingFormat::Parquet => OutputKind::TrainXgboostParquet,
        }
    }

    /// The validation channel's output.
    pub fn validation(self) -> OutputKind {
        match self {
            TrainingFormat::Csv => OutputKind::ValidationXgboost,
            TrainingFormat::Parquet => OutputKind::ValidationXgboostParquet,
        }
    }

    /// The outputs of a run whose training channels are in this format: every
    /// kind but the other format's channels.
    pub fn outputs(self) -> impl Iterator<Item = OutputKind> {
        let other = match self {
            TrainingFormat::Csv => TrainingFormat::Parquet,
            TrainingFormat::Parquet => TrainingFormat::Csv,
        };
        OutputKind::ALL
            .into_iter()
            .filter(move |k| *k != other.train() && *k != other.validation())
    }
}

impl fmt::Display for TrainingFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrainingFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(TrainingFormat::Csv),
            "parquet" => Ok(TrainingFormat::Parquet),
            other => Err(format!(
                "unknown training format {other:?}: expected `csv` or `parquet`"
            )),
        }
    }
}

/// How many files the train channel is written as: 1 (the default) for one
/// training instance, more so that several instances each read their own
/// (`ShardedByS3Key` gives every instance a share of the channel's objects;
/// an instance given none has nothing to train on). Rows go to the parts in
/// turn, so the parts differ by one row at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct TrainParts(u16);

impl TrainParts {
    pub const ONE: TrainParts = TrainParts(1);
    /// More parts than training instances anyone runs for this data.
    pub const MAX: u16 = 64;

    pub fn get(self) -> usize {
        self.0 as usize
    }

    pub fn is_one(&self) -> bool {
        self.0 == 1
    }

    /// Whether `kind` is written in parts: the train channel, when there are several.
    fn splits(self, kind: OutputKind) -> bool {
        self.0 > 1
            && matches!(
                kind,
                OutputKind::TrainXgboost | OutputKind::TrainXgboostParquet
            )
    }

    /// The file names `kind` is written as: its own name, or for the train
    /// channel in parts `<stem>-00001-of-00004.<ext>` and so on.
    pub fn file_names(self, kind: OutputKind) -> Vec<String> {
        let name = kind.file_name();
        if !self.splits(kind) {
            return vec![name.to_string()];
        }
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        (1..=self.0)
            .map(|i| format!("{stem}-{i:05}-of-{:05}.{ext}", self.0))
            .collect()
    }
}

impl Default for TrainParts {
    fn default() -> Self {
        TrainParts::ONE
    }
}

impl TryFrom<u16> for TrainParts {
    type Error = String;
    fn try_from(n: u16) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&n) {
            Ok(TrainParts(n))
        } else {
            Err(format!(
                "{n} train parts: expected 1 to {} (one per training instance at most)",
                Self::MAX
            ))
        }
    }
}

impl From<TrainParts> for u16 {
    fn from(parts: TrainParts) -> u16 {
        parts.0
    }
}

impl fmt::Display for TrainParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TrainParts {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: u16 = s.trim().parse().map_err(|_| {
            format!(
                "train parts {s:?}: expected a whole number from 1 to {}",
                Self::MAX
            )
        })?;
        TrainParts::try_from(n)
    }
}
