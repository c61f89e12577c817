//! Stage 7 of a run: the documents that describe it, written into its
//! directory beside the split outputs ([`super::batches`]) and the quarantine:
//! the report, the drift profile and the profile in Model Monitor's shapes
//! (with the drift policy's thresholds the run was given). And [`EtlOutput`],
//! what a run wrote and its completion marker.
//! Deterministic: the same input and options give byte-identical files.

use super::error::EtlError;
use super::options::EtlOptions;
use super::quarantine::Quarantined;
use super::split::Split;
use crate::contract::{CONTRACT_ID, TOTAL_BEDROOMS};
use crate::dataset::{CompletionMarker, DatasetId, InputIdentity, OutputKind, COMPLETION_MARKER};
use crate::drift::model_monitor;
use crate::drift::policy::DriftPolicy;
use crate::drift::profile::DatasetProfile;
use crate::report::{ColumnStats, Imputation, Report, ReportOptions, REPORT_SCHEMA_VERSION};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// What a run wrote, and where.
#[derive(Debug, Clone)]
pub struct EtlOutput {
    pub dataset_id: DatasetId,
    pub report: Report,
    /// The directory holding one file per [`OutputKind`].
    pub dir: PathBuf,
    /// The Parquet files' columns as (name, Hive type), for the Glue table.
    pub table_columns: Vec<(String, String)>,
}

/// A JSON output: pretty, with a final newline.
fn write_json(dir: &Path, kind: OutputKind, value: &impl serde::Serialize) -> Result<(), EtlError> {
    let mut json = serde_json::to_vec_pretty(value)
        .map_err(|e| EtlError::Internal(format!("serialising {}: {e}", kind.file_name())))?;
    json.push(b'\n');
    let path = dir.join(kind.file_name());
    std::fs::write(&path, json)
        .map_err(|e| EtlError::io(format_args!("writing {}", path.display()), &e))
}

/// How the rows of a run were counted, stage by stage.
pub struct Tally {
    pub rows_in: u64,
    pub rows_duplicate: u64,
    pub rows_out: u64,
    pub quarantined: Quarantined,
    pub splits: BTreeMap<String, u64>,
    pub ignored_columns: Vec<String>,
    pub imputation: Imputation,
    pub capped: BTreeMap<String, u64>,
    pub columns: BTreeMap<String, ColumnStats>,
}

/// The run's report; refused when its rows do not add up.
pub fn report(
    dataset_id: &DatasetId,
    input: InputIdentity,
    options: &EtlOptions,
    tally: Tally,
) -> Result<Report, EtlError> {
    let report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        contract: CONTRACT_ID.to_string(),
        dataset_id: dataset_id.clone(),
        input,
        options: ReportOptions {
            capped_policy: options.capped_policy.as_str().to_string(),
            split_percent: Split::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), options.split.percent(*s)))
                .collect(),
            training_format: options.training_format,
            train_parts: options.train_parts,
        },
        rows_in: tally.rows_in,
        rows_out: tally.rows_out,
        rows_quarantined: tally.quarantined.rows,
        rows_duplicate: tally.rows_duplicate,
        splits: tally.splits,
        reasons: tally.quarantined.reasons,
        ignored_columns: tally.ignored_columns,
        imputations: BTreeMap::from([(TOTAL_BEDROOMS.to_string(), tally.imputation)]),
        capped: tally.capped,
        columns: tally.columns,
    };
    if !report.rows_balance() {
        return Err(EtlError::Internal(format!(
            "row accounting broken: rows_in {} != rows_out {} + rows_quarantined {} + rows_duplicate {}",
            report.rows_in, report.rows_out, report.rows_quarantined, report.rows_duplicate
        )));
    }
    Ok(report)
}

/// Writes the report, the drift profile and its Model Monitor forms
/// (`constraints.json` with `policy`'s thresholds).
pub fn write_documents(
    dir: &Path,
    report: &Report,
    profile: &DatasetProfile,
    policy: &DriftPolicy,
) -> Result<(), EtlError> {
    write_json(dir, OutputKind::Report, report)?;
    write_json(dir, OutputKind::Profile, profile)?;
    write_json(
        dir,
        OutputKind::MonitorStatistics,
        &model_monitor::statistics(profile),
    )?;
    write_json(
        dir,
        OutputKind::MonitorConstraints,
        &model_monitor::constraints(profile, policy),
    )
}

impl EtlOutput {
    pub fn path(&self, kind: OutputKind) -> PathBuf {
        self.dir.join(kind.file_name())
    }

    /// One output's bytes (for tests and small files).
    pub fn read(&self, kind: OutputKind) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path(kind))
    }

    /// The outputs this run wrote (its training channels in its format).
    pub fn kinds(&self) -> impl Iterator<Item = OutputKind> {
        self.report.options.training_format.outputs()
    }

    /// Every file this run wrote, by kind and name (the train channel may be in parts).
    pub fn files(&self) -> Vec<(OutputKind, String)> {
        let parts = self.report.options.train_parts;
        self.kinds()
            .flat_map(|kind| parts.file_names(kind).into_iter().map(move |n| (kind, n)))
            .collect()
    }

    /// The completion marker of these files: the dataset id and the SHA-256 of
    /// every file (hashed side by side, one thread each).
    pub fn completion_marker(&self) -> std::io::Result<CompletionMarker> {
        let sha256 = |name: &str| -> std::io::Result<String> {
            let mut hasher = Sha256::new();
            std::io::copy(&mut File::open(self.dir.join(name))?, &mut hasher)?;
            Ok(hex::encode(hasher.finalize()))
        };
        let names: Vec<String> = self.files().into_iter().map(|(_, n)| n).collect();
        let hashes: Vec<std::io::Result<String>> = std::thread::scope(|scope| {
            let threads: Vec<_> = names
                .iter()
                .map(|name| scope.spawn(move || sha256(name)))
                .collect();
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err(std::io::Error::other("a hashing thread panicked")))
                })
                .collect()
        });
        let mut files = BTreeMap::new();
        for (name, hash) in names.into_iter().zip(hashes) {
            files.insert(name, hash?);
        }
        Ok(CompletionMarker {
            dataset_id: self.dataset_id.clone(),
            files,
        })
    }

    /// Writes the completion marker: the run's files are all in place.
    pub fn write_marker(&self) -> std::io::Result<()> {
        std::fs::write(
            self.dir.join(COMPLETION_MARKER),
            self.completion_marker()?.to_bytes(),
        )
    }
}
