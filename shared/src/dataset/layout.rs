//! Where a dataset's files live: the outputs of a run, their S3 layout, and the
//! completion marker written last.

use super::DatasetId;
use crate::aws::S3Location;
use crate::config::Env;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// One output of an ETL run. The file name is what the CLI writes into its
/// output directory; [`DatasetLayout`] says where each lives in S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    TrainParquet,
    ValidationParquet,
    TestParquet,
    TrainXgboost,
    ValidationXgboost,
    TestXgboost,
    /// The train channel as Parquet ([`TrainingFormat::Parquet`]).
    TrainXgboostParquet,
    /// The validation channel as Parquet.
    ValidationXgboostParquet,
    Quarantine,
    Report,
    Profile,
    /// The profile in SageMaker Model Monitor's `statistics.json` shape.
    MonitorStatistics,
    /// The profile's constraints in Model Monitor's `constraints.json` shape.
    MonitorConstraints,
}

impl OutputKind {
    /// Every kind. A run writes all but the channels of the other training format:
    /// [`TrainingFormat::outputs`].
    pub const ALL: [OutputKind; 13] = [
        OutputKind::TrainParquet,
        OutputKind::ValidationParquet,
        OutputKind::TestParquet,
        OutputKind::TrainXgboost,
        OutputKind::ValidationXgboost,
        OutputKind::TestXgboost,
        OutputKind::TrainXgboostParquet,
        OutputKind::ValidationXgboostParquet,
        OutputKind::Quarantine,
        OutputKind::Report,
        OutputKind::Profile,
        OutputKind::MonitorStatistics,
        OutputKind::MonitorConstraints,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            OutputKind::TrainParquet => "train.parquet",
            OutputKind::ValidationParquet => "validation.parquet",
            OutputKind::TestParquet => "test.parquet",
            OutputKind::TrainXgboost => "train.csv",
            OutputKind::ValidationXgboost => "validation.csv",
            OutputKind::TestXgboost => "test.csv",
            OutputKind::TrainXgboostParquet => "xgboost-train.parquet",
            OutputKind::ValidationXgboostParquet => "xgboost-validation.parquet",
            OutputKind::Quarantine => "quarantine.csv",
            OutputKind::Report => "report.json",
            OutputKind::Profile => "profile.json",
            OutputKind::MonitorStatistics => "statistics.json",
            OutputKind::MonitorConstraints => "constraints.json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OutputKind::TrainParquet
            | OutputKind::ValidationParquet
            | OutputKind::TestParquet
            | OutputKind::TrainXgboostParquet
            | OutputKind::ValidationXgboostParquet => "application/vnd.apache.parquet",
            OutputKind::TrainXgboost
            | OutputKind::ValidationXgboost
            | OutputKind::TestXgboost
            | OutputKind::Quarantine => "text/csv",
            OutputKind::Report
            | OutputKind::Profile
            | OutputKind::MonitorStatistics
            | OutputKind::MonitorConstraints => "application/json",
        }
    }
}

/// The completion marker, written last, once every other output is in place.
pub const COMPLETION_MARKER: &str = "_SUCCESS";

/// What `_SUCCESS` holds, for the CLI and the Lambda alike: the dataset id and
/// the SHA-256 of every output file, by file name. Its presence says the run is
/// complete; its content lets anyone check the files they read are that run's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionMarker {
    pub dataset_id: DatasetId,
    /// [`OutputKind::file_name`] → hex SHA-256.
    pub files: BTreeMap<String, String>,
}

impl CompletionMarker {
    /// The marker's bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a marker always serialises");
        bytes.push(b'\n');
        bytes
    }
}
/// The report written for a file refused whole.
pub const REJECTION_REPORT: &str = "rejection.json";
/// The dataset's drift report (the trigger's check against the serving model's
/// training data), inside the dataset's folder.
pub const DRIFT_REPORT: &str = "drift.json";
/// The training trigger's claim, inside the dataset's folder.
pub const TRAINING_CLAIM: &str = "training/trigger.json";
/// Where the traffic monitor keeps, per endpoint, its state and reports.
pub const MONITORING_PREFIX: &str = "monitoring/";
/// Where datasets live in the processed bucket unless `PROCESSED_PREFIX` says otherwise.
pub const DEFAULT_PROCESSED_PREFIX: &str = "datasets/";

/// The S3 layout of the processed and quarantine buckets. The one place that
/// knows object keys.
///
/// ```text
/// s3://<processed>/<prefix><id>/parquet/{train,validation,test}.parquet   (Glue partition location)
/// s3://<processed>/<prefix><id>/xgboost/{train,validation,test}/<split>.csv (SageMaker channels)
/// s3://<processed>/<prefix><id>/xgboost/{train,validation}/<split>.parquet  (the channels as Parquet)
/// s3://<processed>/<prefix><id>/report.json
/// s3://<processed>/<prefix><id>/profile.json                               (drift baseline)
/// s3://<processed>/<prefix><id>/model-monitor/{statistics,constraints}.json (Model Monitor's shapes)
/// s3://<processed>/<prefix><id>/_SUCCESS
/// s3://<processed>/<prefix><id>/drift.json                                 (the trigger's drift check)
/// s3://<processed>/<prefix><id>/training/trigger.json                      (the trigger's claim)
/// s3://<processed>/monitoring/<endpoint>/state.json                        (the capture files the traffic monitor took)
/// s3://<processed>/monitoring/<endpoint>/reports/<window>.json              (its drift reports)
/// s3://<quarantine>/<qprefix>rows/<id>/quarantine.csv
/// s3://<quarantine>/<qprefix>rejected/<id>/rejection.json
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetLayout {
    pub processed_bucket: String,
    pub processed_prefix: String,
    pub quarantine_bucket: String,
    pub quarantine_prefix: String,
}

impl DatasetLayout {
    /// The layout of a reader of processed datasets only (the trigger, predict,
    /// the monitor): it never names a quarantine location, so it has none.
    pub fn processed_only(bucket: String, prefix: String) -> Self {
        DatasetLayout {
            processed_bucket: bucket,
            processed_prefix: prefix,
            quarantine_bucket: String::new(),
            quarantine_prefix: String::new(),
        }
    }

    /// `PROCESSED_BUCKET` and `PROCESSED_PREFIX`: the processed-only layout
    /// every function but the ETL reads.
    pub fn read_processed<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Self {
        Self::processed_only(
            env.bucket("PROCESSED_BUCKET"),
            env.prefix("PROCESSED_PREFIX", DEFAULT_PROCESSED_PREFIX),
        )
    }

    fn processed(&self, key: String) -> S3Location {
        S3Location {
            bucket: self.processed_bucket.clone(),
            key,
        }
    }

    fn dataset_root(&self, id: &DatasetId) -> String {
        format!("{}{}/", self.processed_prefix, id)
    }

    pub fn output(&self, id: &DatasetId, kind: OutputKind) -> S3Location {
        let root = self.dataset_root(id);
        match kind {
            OutputKind::TrainParquet | OutputKind::ValidationParquet | OutputKind::TestParquet => {
                self.processed(format!("{root}parquet/{}", kind.file_name()))
            }
            OutputKind::TrainXgboost => self.processed(format!("{root}xgboost/train/train.csv")),
            OutputKind::ValidationXgboost => {
                self.processed(format!("{root}xgboost/validation/validation.csv"))
            }
            OutputKind::TestXgboost => self.processed(format!("{root}xgboost/test/test.csv")),
            OutputKind::TrainXgboostParquet => {
                self.processed(format!("{root}xgboost/train/train.parquet"))
            }
            OutputKind::ValidationXgboostParquet => {
                self.processed(format!("{root}xgboost/validation/validation.parquet"))
            }
            OutputKind::Report | OutputKind::Profile => {
                self.processed(format!("{root}{}", kind.file_name()))
            }
            OutputKind::MonitorStatistics | OutputKind::MonitorConstraints => {
                self.processed(format!("{root}model-monitor/{}", kind.file_name()))
            }
            OutputKind::Quarantine => S3Location {
                bucket: self.quarantine_bucket.clone(),
                key: format!("{}rows/{id}/quarantine.csv", self.quarantine_prefix),
            },
        }
    }

    /// The files `kind` is written as, by their local name (the CLI's and the
    /// run directory's) and their S3 location: one, or the train channel's parts
    /// side by side in the channel's folder.
    pub fn files(
        &self,
        id: &DatasetId,
        kind: OutputKind,
        parts: TrainParts,
    ) -> Vec<(String, S3Location)> {
        let single = self.output(id, kind);
        let names = parts.file_names(kind);
        if names.len() == 1 {
            return vec![(names[0].clone(), single)];
        }
        let folder = self.channel_folder(&single);
        names
            .into_iter()
            .map(|name| {
                let key = format!("{}{name}", folder.key);
                (name, self.processed(key))
            })
            .collect()
    }

    /// The folder an output lives in (its key up to the last `/`).
    fn channel_folder(&self, output: &S3Location) -> S3Location {
        let end = output.key.rfind('/').map_or(0, |i| i + 1);
        S3Location {
            bucket: output.bucket.clone(),
            key: output.key[..end].to_string(),
        }
    }

    /// What a reader of `kind` is given: the object, or for a train channel in
    /// parts the folder holding them (a SageMaker `S3Prefix` reads them all).
    pub fn channel_uri(&self, id: &DatasetId, kind: OutputKind, parts: TrainParts) -> String {
        let single = self.output(id, kind);
        if parts.file_names(kind).len() == 1 {
            single.uri()
        } else {
            self.channel_folder(&single).uri()
        }
    }

    /// Every output's S3 URI of a dataset whose training channels are in `format`
    /// (the train channel in `parts`), as `HousingDatasetReady` carries them.
    pub fn output_uris(
        &self,
        id: &DatasetId,
        format: TrainingFormat,
        parts: TrainParts,
    ) -> BTreeMap<OutputKind, String> {
        format
            .outputs()
            .map(|k| (k, self.channel_uri(id, k, parts)))
            .collect()
    }

    /// The folder holding only this dataset's Parquet files: its Glue partition.
    pub fn parquet_folder(&self, id: &DatasetId) -> S3Location {
        self.processed(format!("{}parquet/", self.dataset_root(id)))
    }

    /// Where the Glue table lives: the root of every dataset.
    pub fn table_root(&self) -> S3Location {
        self.processed(self.processed_prefix.clone())
    }

    pub fn marker(&self, id: &DatasetId) -> S3Location {
        self.processed(format!("{}{COMPLETION_MARKER}", self.dataset_root(id)))
    }

    /// The training trigger's claim on a dataset: which pipeline execution trains it.
    pub fn training_claim(&self, id: &DatasetId) -> S3Location {
        self.processed(format!("{}{TRAINING_CLAIM}", self.dataset_root(id)))
    }

    /// The drift report of a dataset against the serving model's training data.
    pub fn drift_report(&self, id: &DatasetId) -> S3Location {
        self.processed(format!("{}{DRIFT_REPORT}", self.dataset_root(id)))
    }

    /// The last capture file the traffic monitor compared for `endpoint`.
    pub fn traffic_state(&self, endpoint: &str) -> S3Location {
        self.processed(format!("{MONITORING_PREFIX}{endpoint}/state.json"))
    }

    /// The traffic monitor's drift report of `endpoint`'s capture window `window`.
    pub fn traffic_report(&self, endpoint: &str, window: &str) -> S3Location {
        self.processed(format!(
            "{MONITORING_PREFIX}{endpoint}/reports/{window}.json"
        ))
    }

    pub fn rejection(&self, id: &DatasetId) -> S3Location {
        S3Location {
            bucket: self.quarantine_bucket.clone(),
            key: format!("{}rejected/{id}/{REJECTION_REPORT}", self.quarantine_prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_names_every_output_under_the_dataset() {
        let layout = DatasetLayout {
            processed_bucket: "proc".into(),
            processed_prefix: "datasets/".into(),
            quarantine_bucket: "quar".into(),
            quarantine_prefix: "".into(),
        };
        let id = DatasetId::from_sha256(&"1".repeat(64));
        assert_eq!(
            layout.output(&id, OutputKind::TrainParquet).uri(),
            format!("s3://proc/datasets/{id}/parquet/train.parquet")
        );
        assert_eq!(
            layout.output(&id, OutputKind::TrainXgboost).uri(),
            format!("s3://proc/datasets/{id}/xgboost/train/train.csv")
        );
        assert_eq!(
            layout.output(&id, OutputKind::Quarantine).uri(),
            format!("s3://quar/rows/{id}/quarantine.csv")
        );
        assert_eq!(
            layout.marker(&id).uri(),
            format!("s3://proc/datasets/{id}/_SUCCESS")
        );
        assert_eq!(
            layout.training_claim(&id).uri(),
            format!("s3://proc/datasets/{id}/training/trigger.json")
        );
        assert_eq!(
            layout.rejection(&id).uri(),
            format!("s3://quar/rejected/{id}/rejection.json")
        );
        assert_eq!(
            layout.output(&id, OutputKind::TrainXgboostParquet).uri(),
            format!("s3://proc/datasets/{id}/xgboost/train/train.parquet")
        );
        let mut keys = std::collections::BTreeSet::new();
        let mut files = std::collections::BTreeSet::new();
        for kind in OutputKind::ALL {
            let loc = layout.output(&id, kind);
            assert!(
                loc.key.contains(id.as_str()),
                "{kind:?} not named from the dataset id"
            );
            assert!(
                keys.insert(loc.uri()),
                "{kind:?}: a second output at {loc:?}"
            );
            assert!(
                files.insert(kind.file_name()),
                "{kind:?}: a second output named {}",
                kind.file_name()
            );
        }
    }

    #[test]
    fn a_train_channel_in_parts_is_a_folder_of_numbered_files() {
        let layout = DatasetLayout::processed_only("proc".into(), "datasets/".into());
        let id = DatasetId::from_sha256(&"2".repeat(64));
        let three: TrainParts = " 3 ".parse().unwrap();
        let files = layout.files(&id, OutputKind::TrainXgboost, three);
        let uris: Vec<String> = files.iter().map(|(_, loc)| loc.uri()).collect();
        assert_eq!(
            uris,
            (1..=3)
                .map(|i| format!(
                    "s3://proc/datasets/{id}/xgboost/train/train-0000{i}-of-00003.csv"
                ))
                .collect::<Vec<_>>()
        );
        assert_eq!(files[1].0, "train-00002-of-00003.csv");
        assert_eq!(
            layout.channel_uri(&id, OutputKind::TrainXgboost, three),
            format!("s3://proc/datasets/{id}/xgboost/train/")
        );
        let parquet = layout.files(&id, OutputKind::TrainXgboostParquet, three);
        assert_eq!(parquet[0].0, "xgboost-train-00001-of-00003.parquet");
        assert!(parquet[0]
            .1
            .key
            .ends_with("/xgboost/train/xgboost-train-00001-of-00003.parquet"));
        // Only the train channel is split; one part is today's single file.
        for kind in OutputKind::ALL {
            let split = layout.files(&id, kind, three).len() > 1;
            assert_eq!(
                split,
                matches!(
                    kind,
                    OutputKind::TrainXgboost | OutputKind::TrainXgboostParquet
                ),
                "{kind:?}"
            );
            assert_eq!(
                layout.files(&id, kind, TrainParts::ONE),
                vec![(kind.file_name().to_string(), layout.output(&id, kind))]
            );
            assert_eq!(
                layout.channel_uri(&id, kind, TrainParts::ONE),
                layout.output(&id, kind).uri()
            );
        }
        for bad in ["0", "65", "two", "-1"] {
            assert!(bad.parse::<TrainParts>().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<TrainParts>("0").is_err());
        assert_eq!(serde_json::from_str::<TrainParts>("64").unwrap().get(), 64);
    }

    #[test]
    fn a_run_writes_one_format_of_training_channels() {
        let csv: Vec<_> = TrainingFormat::Csv.outputs().collect();
        let parquet: Vec<_> = TrainingFormat::Parquet.outputs().collect();
        assert_eq!(csv.len(), 11);
        assert_eq!(parquet.len(), 11);
        assert!(
            csv.contains(&OutputKind::TrainXgboost) && csv.contains(&OutputKind::ValidationXgboost)
        );
        assert!(!csv.contains(&OutputKind::TrainXgboostParquet));
        assert!(parquet.contains(&OutputKind::TrainXgboostParquet));
        assert!(parquet.contains(&OutputKind::ValidationXgboostParquet));
        assert!(!parquet.contains(&OutputKind::TrainXgboost));
        // The test channel is CSV in both: the evaluation and the quality check read it.
        assert!(
            csv.contains(&OutputKind::TestXgboost) && parquet.contains(&OutputKind::TestXgboost)
        );
        for format in [TrainingFormat::Csv, TrainingFormat::Parquet] {
            assert_eq!(format.as_str().parse::<TrainingFormat>(), Ok(format));
            assert_eq!(format.train().content_type() == "text/csv", format.is_csv());
        }
        assert_eq!(
            " Parquet ".parse::<TrainingFormat>(),
            Ok(TrainingFormat::Parquet)
        );
        assert!("tsv"
            .parse::<TrainingFormat>()
            .unwrap_err()
            .contains("`csv` or `parquet`"));
        assert_eq!(
            TrainingFormat::Parquet.content_type(),
            "application/x-parquet"
        );
    }
}
