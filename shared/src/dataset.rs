//! Dataset identity and where a dataset's files live.
//!
//! A dataset is named by the content of the file it came from, so the same bytes
//! always give the same id, the same object keys and the same outputs, whichever
//! event, key or retry brought them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// `ds-` followed by the first 128 bits of the input's SHA-256, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatasetId(String);

impl DatasetId {
    pub fn from_sha256(sha256_hex: &str) -> Self {
        DatasetId(format!("ds-{}", &sha256_hex[..32]))
    }

    /// For a file that was refused before it was read (too large): named from its
    /// S3 identity instead of its bytes.
    pub fn from_identity(identity: &str) -> Self {
        Self::from_sha256(&sha256_hex(identity.as_bytes()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the input came from. Recorded in the report and the events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIdentity {
    /// `s3://bucket/key`, or the local path for the CLI.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub etag: Option<String>,
    pub bytes: u64,
    /// Hex SHA-256 of the content; absent when the file was refused unread.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<String>,
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
    Quarantine,
    Report,
}

impl OutputKind {
    pub const ALL: [OutputKind; 7] = [
        OutputKind::TrainParquet,
        OutputKind::ValidationParquet,
        OutputKind::TestParquet,
        OutputKind::TrainXgboost,
        OutputKind::ValidationXgboost,
        OutputKind::Quarantine,
        OutputKind::Report,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            OutputKind::TrainParquet => "train.parquet",
            OutputKind::ValidationParquet => "validation.parquet",
            OutputKind::TestParquet => "test.parquet",
            OutputKind::TrainXgboost => "train.csv",
            OutputKind::ValidationXgboost => "validation.csv",
            OutputKind::Quarantine => "quarantine.csv",
            OutputKind::Report => "report.json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OutputKind::TrainParquet | OutputKind::ValidationParquet | OutputKind::TestParquet => {
                "application/vnd.apache.parquet"
            }
            OutputKind::TrainXgboost | OutputKind::ValidationXgboost | OutputKind::Quarantine => {
                "text/csv"
            }
            OutputKind::Report => "application/json",
        }
    }
}

/// The completion marker, written last, once every other output is in place.
pub const COMPLETION_MARKER: &str = "_SUCCESS";
/// The report written for a file refused whole.
pub const REJECTION_REPORT: &str = "rejection.json";

/// The S3 layout of the processed and quarantine buckets. The one place that
/// knows object keys.
///
/// ```text
/// s3://<processed>/<prefix><id>/parquet/{train,validation,test}.parquet   (Glue partition location)
/// s3://<processed>/<prefix><id>/xgboost/{train,validation}/<split>.csv    (SageMaker channels)
/// s3://<processed>/<prefix><id>/report.json
/// s3://<processed>/<prefix><id>/_SUCCESS
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

/// A bucket and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl S3Location {
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

impl DatasetLayout {
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
            OutputKind::Report => self.processed(format!("{root}report.json")),
            OutputKind::Quarantine => S3Location {
                bucket: self.quarantine_bucket.clone(),
                key: format!("{}rows/{id}/quarantine.csv", self.quarantine_prefix),
            },
        }
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
    pub fn trigger_marker(&self, id: &DatasetId) -> S3Location {
        self.processed(format!("{}training/trigger.json", self.dataset_root(id)))
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
    fn id_is_derived_from_content() {
        let a = DatasetId::from_sha256(&sha256_hex(b"a,b\n1,2\n"));
        let b = DatasetId::from_sha256(&sha256_hex(b"a,b\n1,2\n"));
        let c = DatasetId::from_sha256(&sha256_hex(b"a,b\n1,3\n"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str().len(), 35);
        assert!(a.as_str().starts_with("ds-"));
    }

    #[test]
    fn layout_names_every_output_under_the_dataset() {
        let layout = DatasetLayout {
            processed_bucket: "proc".into(),
            processed_prefix: "datasets/".into(),
            quarantine_bucket: "quar".into(),
            quarantine_prefix: "".into(),
        };
        let id = DatasetId("ds-1".into());
        assert_eq!(
            layout.output(&id, OutputKind::TrainParquet).uri(),
            "s3://proc/datasets/ds-1/parquet/train.parquet"
        );
        assert_eq!(
            layout.output(&id, OutputKind::TrainXgboost).uri(),
            "s3://proc/datasets/ds-1/xgboost/train/train.csv"
        );
        assert_eq!(
            layout.output(&id, OutputKind::Quarantine).uri(),
            "s3://quar/rows/ds-1/quarantine.csv"
        );
        assert_eq!(layout.marker(&id).uri(), "s3://proc/datasets/ds-1/_SUCCESS");
        assert_eq!(
            layout.rejection(&id).uri(),
            "s3://quar/rejected/ds-1/rejection.json"
        );
        for kind in OutputKind::ALL {
            let loc = layout.output(&id, kind);
            assert!(
                loc.key.contains("ds-1"),
                "{kind:?} not named from the dataset id"
            );
        }
    }
}
