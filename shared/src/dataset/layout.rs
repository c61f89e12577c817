//! Where a dataset's files live: the outputs of a run, their S3 layout, and the
//! completion marker written last.

use super::format::{TrainParts, TrainingFormat};
use super::DatasetId;
use crate::aws::S3Location;
use crate::config::Env;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

    /// The folder of the traffic monitor's drift reports of `endpoint`.
    pub fn traffic_reports(&self, endpoint: &str) -> S3Location {
        self.processed(format!("{MONITORING_PREFIX}{endpoint}/reports/"))
    }

    /// The traffic monitor's drift report of `endpoint`'s capture window `window`.
    pub fn traffic_report(&self, endpoint: &str, window: &str) -> S3Location {
        let folder = self.traffic_reports(endpoint);
        self.processed(format!("{}{window}.json", folder.key))
    }

    pub fn rejection(&self, id: &DatasetId) -> S3Location {
        S3Location {
            bucket: self.quarantine_bucket.clone(),
            key: format!("{}rejected/{id}/{REJECTION_REPORT}", self.quarantine_prefix),
        }
    }
}

#[cfg(test)]
mod tests;
