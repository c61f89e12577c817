//! The ETL core: a housing CSV file in, a directory of outputs out. No AWS: the
//! CLI and the Lambda service bring the file and take the outputs.
//!
//! The stages, each in its own module:
//! 1. [`input`]: whole-file checks (empty, binary, UTF-8, delimiter, header), streamed.
//! 2. [`rows`]: every row parsed against the contract: kept (in compact columns),
//!    quarantined or duplicate, streamed from the file.
//! 3. [`clean`]: `total_bedrooms` imputed from group medians.
//! 4. [`features`]: engineered features (shared with online prediction).
//! 5. [`split`]: train/validation/test by a stable hash of each row.
//! 6. [`outputs`]: Polars frames a batch at a time into Parquet and XGBoost CSV,
//!    the quarantine CSV, the report.
//!
//! Memory is the compact kept columns (about 100 bytes a row) plus one batch; the
//! input is read from disk three times (checks, header, rows) and never held.

pub mod clean;
pub mod config;
pub mod features;
pub mod input;
pub mod outputs;
pub mod rows;
pub mod service;
pub mod split;
pub mod stats;

use crate::contract::CONTRACT_ID;
use crate::dataset::{DatasetId, InputIdentity};
use crate::report::{RejectionReport, REPORT_SCHEMA_VERSION};
pub use outputs::EtlOutput;
use sha2::{Digest, Sha256};
pub use split::SplitRatios;
use std::fmt;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::str::FromStr;

/// What to do with rows at a census top-code (target 500,001, age 52).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CappedPolicy {
    /// Keep them, with a boolean `<column>_capped` flag column.
    #[default]
    Flag,
    /// Quarantine them with reason `capped:<column>`.
    Quarantine,
}

impl CappedPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            CappedPolicy::Flag => "flag",
            CappedPolicy::Quarantine => "quarantine",
        }
    }
}

impl fmt::Display for CappedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CappedPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flag" => Ok(CappedPolicy::Flag),
            "quarantine" => Ok(CappedPolicy::Quarantine),
            other => Err(format!(
                "unknown capped-value policy {other:?}: expected `flag` or `quarantine`"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtlOptions {
    pub capped_policy: CappedPolicy,
    pub split: SplitRatios,
    /// Kept rows per frame written (and per Parquet row group, split by split):
    /// memory against row-group size. Never changes the values written.
    pub batch_rows: usize,
    /// Files with more lines after the header are refused (`too_large`) before any
    /// row is parsed: memory grows with the rows (see [`config::memory_needed_mb`]).
    pub max_rows: Option<usize>,
}

impl Default for EtlOptions {
    fn default() -> Self {
        EtlOptions {
            capped_policy: CappedPolicy::default(),
            split: SplitRatios::default(),
            batch_rows: outputs::BATCH_ROWS,
            max_rows: None,
        }
    }
}

/// Why a whole file was refused. Never retryable: the same bytes fail the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionCode {
    Empty,
    NotText,
    NotUtf8,
    WrongDelimiter,
    MissingColumns,
    DuplicateColumns,
    NoDataRows,
    Unimputable,
    TooLarge,
}

impl RejectionCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Empty => "empty_file",
            RejectionCode::NotText => "not_text",
            RejectionCode::NotUtf8 => "not_utf8",
            RejectionCode::WrongDelimiter => "wrong_delimiter",
            RejectionCode::MissingColumns => "missing_columns",
            RejectionCode::DuplicateColumns => "duplicate_columns",
            RejectionCode::NoDataRows => "no_data_rows",
            RejectionCode::Unimputable => "unimputable",
            RejectionCode::TooLarge => "too_large",
        }
    }
}

/// A whole-file rejection: a code and a one-line message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file rejected ({}): {message}", code.as_str())]
pub struct Rejection {
    pub code: RejectionCode,
    pub message: String,
}

impl Rejection {
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }

    /// The report an operator finds next to quarantined data.
    pub fn report(&self, dataset_id: DatasetId, input: InputIdentity) -> RejectionReport {
        RejectionReport {
            schema_version: REPORT_SCHEMA_VERSION,
            contract: CONTRACT_ID.to_string(),
            dataset_id,
            input,
            code: self.code.as_str().to_string(),
            message: self.to_string(),
        }
    }
}

/// An ETL run that did not produce outputs.
#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    #[error("{0}")]
    Rejected(Rejection),
    /// A bug or resource failure inside the data engine, not a property of the input.
    #[error("internal error in the ETL engine: {0}")]
    Internal(String),
}

impl From<Rejection> for EtlError {
    fn from(r: Rejection) -> Self {
        EtlError::Rejected(r)
    }
}

impl From<polars::error::PolarsError> for EtlError {
    fn from(e: polars::error::PolarsError) -> Self {
        EtlError::Internal(e.to_string())
    }
}

/// Where the bytes came from, before they were read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub source: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
}

/// SHA-256 and length of a stream, computed as it is written through (the Lambda
/// hashes the object while it downloads it).
#[derive(Default)]
pub struct ContentHash {
    hasher: Sha256,
    bytes: u64,
}

impl ContentHash {
    /// The dataset id and identity of the content seen so far.
    pub fn identify(self, source: &Source) -> (DatasetId, InputIdentity) {
        let sha = hex::encode(self.hasher.finalize());
        let id = DatasetId::from_sha256(&sha);
        let identity = InputIdentity {
            source: source.source.clone(),
            version_id: source.version_id.clone(),
            etag: source.etag.clone(),
            bytes: self.bytes,
            sha256: Some(sha),
        };
        (id, identity)
    }
}

impl Write for ContentHash {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The dataset id and identity of a local file's content.
pub fn identify(path: &Path, source: &Source) -> std::io::Result<(DatasetId, InputIdentity)> {
    let mut hash = ContentHash::default();
    std::io::copy(&mut File::open(path)?, &mut hash)?;
    Ok(hash.identify(source))
}

/// Runs the whole ETL on the file at `input` (already identified), writing every
/// output into `out_dir`. The completion marker is left to the caller.
pub fn run(
    input: &Path,
    dataset_id: DatasetId,
    identity: InputIdentity,
    options: &EtlOptions,
    out_dir: &Path,
) -> Result<EtlOutput, EtlError> {
    let io = |e: std::io::Error| EtlError::Internal(format!("reading {}: {e}", input.display()));
    let mut file = File::open(input).map_err(io)?;
    let inspected = input::inspect(&mut file)?;
    if let Some(max) = options.max_rows.filter(|max| inspected.rows_bound > *max) {
        return Err(Rejection::new(
            RejectionCode::TooLarge,
            format!(
                "too many rows: {} lines after the header, over the limit of {max} rows (MAX_ROWS, --max-rows)",
                inspected.rows_bound
            ),
        )
        .into());
    }
    file.seek(SeekFrom::Start(inspected.skip)).map_err(io)?;
    let parsed = rows::parse(file, &inspected, options)?;
    outputs::write(out_dir, dataset_id, identity, &inspected, parsed, options)
}
