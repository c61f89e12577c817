//! The outputs of one run, written as files into a directory: Parquet per split,
//! the SageMaker XGBoost channels (CSV, or label-first Parquet for train and
//! validation: [`crate::dataset::TrainingFormat`]), the quarantine CSV, the report and the
//! drift profile (also in Model Monitor's shapes).
//! Deterministic: the same input and options give byte-identical files.
//!
//! The kept rows become frames [`EtlOptions::batch_rows`] at a time, each written straight
//! to the split's Parquet and CSV writers, so memory holds the compact kept
//! columns plus one batch, never the whole frame with its features.

use super::error::EtlError;
use super::features::feature_columns;
use super::input::Inspected;
use super::options::EtlOptions;
use super::quarantine::Quarantined;
use super::rows::{KeptRows, ParsedRows};
use super::schema::{
    capped_flag, parquet_columns, table_columns, xgboost_columns, BEDROOMS_IMPUTED, SOURCE_LINE,
    SPLIT,
};
use super::split::Split;
use super::stats::columns_stats;
use crate::contract::{
    CONTRACT_ID, NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES, TOTAL_BEDROOMS,
};
use crate::dataset::{CompletionMarker, DatasetId, InputIdentity, OutputKind, COMPLETION_MARKER};
use crate::drift::model_monitor;
use crate::drift::policy::{self, DriftPolicy};
use crate::drift::profile::{CategoryProfile, DatasetProfile, PROFILE_SCHEMA_VERSION};
use crate::features::RATIO_FEATURES;
use crate::report::{Report, ReportOptions, REPORT_SCHEMA_VERSION};
use polars::io::csv::write::BatchedWriter as CsvBatches;
use polars::io::parquet::write::BatchedWriter as ParquetBatches;
use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Range;
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

/// Polars' writers write whole pages and batches: they get the file unbuffered.
fn create(dir: &Path, kind: OutputKind) -> Result<File, EtlError> {
    let path = dir.join(kind.file_name());
    File::create(&path).map_err(|e| EtlError::io(format_args!("creating {}", path.display()), &e))
}

/// The kept rows in `range` as a frame: every Parquet column, features included.
fn batch(kept: &KeptRows, imputed: &[bool], range: Range<usize>) -> PolarsResult<DataFrame> {
    let height = range.len();
    let mut columns: Vec<Column> = vec![
        Column::new(
            SOURCE_LINE.into(),
            kept.source_line[range.clone()]
                .iter()
                .map(|l| *l as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            SPLIT.into(),
            kept.split[range.clone()]
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        ),
    ];
    for (spec, values) in NUMERIC_COLUMNS.iter().zip(&kept.numeric) {
        columns.push(Column::new(spec.name.into(), &values[range.clone()]));
    }
    columns.push(Column::new(
        OCEAN_PROXIMITY.into(),
        kept.category[range.clone()]
            .iter()
            .map(|c| OCEAN_PROXIMITY_CATEGORIES[*c as usize])
            .collect::<Vec<_>>(),
    ));
    columns.extend(feature_columns(kept, range.clone()));
    let mut frame = DataFrame::new(height, columns)?;
    frame.with_column(Column::new(
        BEDROOMS_IMPUTED.into(),
        &imputed[range.clone()],
    ))?;
    for (spec, values) in NUMERIC_COLUMNS.iter().zip(&kept.numeric) {
        if let Some(cap) = spec.cap {
            let flags: Vec<bool> = values[range.clone()].iter().map(|v| *v >= cap).collect();
            frame.with_column(Column::new(capped_flag(spec.name).into(), flags))?;
        }
    }
    Ok(frame)
}

/// A split's XGBoost channel: CSV, or Parquet whose columns are all doubles (what
/// the XGBoost container's Parquet reader turns into its matrix, label first).
enum Channel {
    Csv(CsvBatches<File>),
    Parquet(Box<ParquetBatches<File>>),
}

impl Channel {
    fn create(dir: &Path, kind: OutputKind, schema: &Schema) -> Result<Channel, EtlError> {
        let parquet = matches!(
            kind,
            OutputKind::TrainXgboostParquet | OutputKind::ValidationXgboostParquet
        );
        Ok(if !parquet {
            Channel::Csv(
                CsvWriter::new(create(dir, kind)?)
                    .include_header(false)
                    .batched(schema)?,
            )
        } else {
            let doubles: Schema = schema
                .iter_names()
                .map(|name| (name.clone(), DataType::Float64))
                .collect();
            // Snappy: a channel is read once, by the training job, so it is compressed
            // for speed (every Parquet reader has Snappy; the container's pyarrow too).
            Channel::Parquet(Box::new(
                ParquetWriter::new(create(dir, kind)?)
                    .with_compression(ParquetCompression::Snappy)
                    .batched(&doubles)?,
            ))
        })
    }

    /// Writes the channel's columns (`part` holds them and more).
    fn write(&mut self, part: &DataFrame, names: &[&str]) -> PolarsResult<()> {
        let columns = part.select(names.iter().copied())?;
        match self {
            Channel::Csv(csv) => csv.write_batch(&columns),
            Channel::Parquet(parquet) => {
                let height = columns.height();
                let doubles = columns
                    .into_columns()
                    .into_iter()
                    .map(|c| c.cast(&DataType::Float64))
                    .collect::<PolarsResult<Vec<_>>>()?;
                parquet.write_batch(&DataFrame::new(height, doubles)?)
            }
        }
    }

    fn finish(self) -> PolarsResult<()> {
        match self {
            Channel::Csv(mut csv) => csv.finish(),
            Channel::Parquet(parquet) => parquet.finish().map(|_| ()),
        }
    }
}

/// The open writers of one split.
struct SplitWriters {
    split: Split,
    parquet: ParquetBatches<File>,
    xgboost: Channel,
    rows: u64,
}

/// Writes every output file into `dir` (created by [`super::run`]) but the
/// quarantine (written while the rows were checked) and the
/// completion marker, and returns the report.
pub fn write(
    dir: &Path,
    dataset_id: DatasetId,
    input: InputIdentity,
    inspected: &Inspected,
    mut parsed: ParsedRows,
    quarantined: Quarantined,
    options: &EtlOptions,
) -> Result<EtlOutput, EtlError> {
    let mut kept = std::mem::take(&mut parsed.kept);
    let (imputed, imputation) = super::clean::impute(&mut kept);
    // The statistics of the contract columns now, those of the ratios once the
    // batches have made them and the kept columns are gone: the peak is lower.
    let named: Vec<(&str, &[f64])> = NUMERIC_COLUMNS
        .iter()
        .map(|c| c.name)
        .zip(kept.numeric.iter().map(Vec::as_slice))
        .collect();
    let mut columns = BTreeMap::new();
    let mut profiles = BTreeMap::new();
    for (name, (stats, profile)) in columns_stats(&named)? {
        columns.insert(name.clone(), stats);
        profiles.insert(name, profile);
    }
    let categories = CategoryProfile::of(
        kept.category
            .iter()
            .map(|c| Some(OCEAN_PROXIMITY_CATEGORIES[*c as usize])),
    );
    let parquet = parquet_columns();
    let xgboost = xgboost_columns();
    let parquet_names: Vec<&str> = parquet.iter().map(String::as_str).collect();
    let xgboost_names: Vec<&str> = xgboost.iter().map(String::as_str).collect();

    let mut writers: Vec<SplitWriters> = Vec::new();
    let mut glue_columns = Vec::new();
    let mut ratios: [Vec<f64>; RATIO_FEATURES.len()] = Default::default();
    let mut capped = BTreeMap::new();
    let total = kept.len();
    // At least one batch, so an empty result still gets files with the full schema.
    let batch_rows = options.batch_rows.max(1);
    for start in (0..total.max(1)).step_by(batch_rows) {
        let range = start..(start + batch_rows).min(total);
        let frame = batch(&kept, &imputed, range.clone())?;
        for (values, name) in ratios.iter_mut().zip(RATIO_FEATURES) {
            values.extend(frame.column(name)?.f64()?.into_no_null_iter());
        }
        if writers.is_empty() {
            let schema = frame
                .select(parquet_names.iter().copied())?
                .schema()
                .clone();
            glue_columns = table_columns(&schema);
            let xgboost_schema = frame
                .select(xgboost_names.iter().copied())?
                .schema()
                .clone();
            let format = options.training_format;
            for (split, parquet_kind, xgboost_kind) in [
                (Split::Train, OutputKind::TrainParquet, format.train()),
                (
                    Split::Validation,
                    OutputKind::ValidationParquet,
                    format.validation(),
                ),
                (
                    Split::Test,
                    OutputKind::TestParquet,
                    OutputKind::TestXgboost,
                ),
            ] {
                let parquet = ParquetWriter::new(create(dir, parquet_kind)?)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)?;
                let xgboost = Channel::create(dir, xgboost_kind, &xgboost_schema)?;
                writers.push(SplitWriters {
                    split,
                    parquet,
                    xgboost,
                    rows: 0,
                });
            }
        }
        let parts = writers
            .iter_mut()
            .map(|w| {
                let mask: BooleanChunked = kept.split[range.clone()]
                    .iter()
                    .map(|s| Some(*s == w.split))
                    .collect();
                let mut part = frame.filter(&mask)?.select(parquet_names.iter().copied())?;
                part.rechunk_mut();
                w.rows += part.height() as u64;
                Ok(part)
            })
            .collect::<PolarsResult<Vec<DataFrame>>>()?;
        // The Parquet files and the XGBoost channels are encoded side by side: each
        // writer has serial steps, during which the other keeps the cores busy.
        let (parquet_writers, channel_writers): (Vec<_>, Vec<_>) = writers
            .iter_mut()
            .map(|w| (&mut w.parquet, &mut w.xgboost))
            .unzip();
        std::thread::scope(|scope| {
            let channels = scope.spawn(|| -> PolarsResult<()> {
                for (xgboost, part) in channel_writers.into_iter().zip(&parts) {
                    xgboost.write(part, &xgboost_names)?;
                }
                Ok(())
            });
            for (parquet, part) in parquet_writers.into_iter().zip(&parts) {
                parquet.write_batch(part)?;
            }
            channels
                .join()
                .map_err(|_| polars_err!(ComputeError: "the channel writer thread panicked"))?
        })?;
        for spec in NUMERIC_COLUMNS.iter().filter(|c| c.cap.is_some()) {
            let flag = frame
                .column(&capped_flag(spec.name))?
                .bool()?
                .sum()
                .unwrap_or(0);
            *capped.entry(spec.name.to_string()).or_insert(0u64) += flag as u64;
        }
    }
    drop(kept);
    let named: Vec<(&str, &[f64])> = RATIO_FEATURES
        .into_iter()
        .zip(ratios.iter().map(Vec::as_slice))
        .collect();
    for (name, (stats, profile)) in columns_stats(&named)? {
        columns.insert(name.clone(), stats);
        profiles.insert(name, profile);
    }
    drop(ratios);
    let profile = DatasetProfile {
        schema_version: PROFILE_SCHEMA_VERSION,
        dataset_id: dataset_id.clone(),
        rows: total as u64,
        numeric: profiles,
        categories: BTreeMap::from([(OCEAN_PROXIMITY.to_string(), categories)]),
    };
    let mut splits = BTreeMap::new();
    for w in writers {
        w.parquet.finish()?;
        w.xgboost.finish()?;
        splits.insert(w.split.as_str().to_string(), w.rows);
    }

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
        },
        rows_in: parsed.rows_in,
        rows_out: total as u64,
        rows_quarantined: quarantined.rows,
        rows_duplicate: parsed.rows_duplicate,
        splits,
        reasons: quarantined.reasons,
        ignored_columns: inspected.ignored_columns.clone(),
        imputations: BTreeMap::from([(TOTAL_BEDROOMS.to_string(), imputation)]),
        capped,
        columns,
    };
    if !report.rows_balance() {
        return Err(EtlError::Internal(format!(
            "row accounting broken: rows_in {} != rows_out {} + rows_quarantined {} + rows_duplicate {}",
            report.rows_in, report.rows_out, report.rows_quarantined, report.rows_duplicate
        )));
    }
    write_json(dir, OutputKind::Report, &report)?;
    write_json(dir, OutputKind::Profile, &profile)?;
    write_json(
        dir,
        OutputKind::MonitorStatistics,
        &model_monitor::statistics(&profile),
    )?;
    let policy = DriftPolicy::parse(policy::BUNDLED)
        .map_err(|e| EtlError::Internal(format!("the bundled drift policy: {e}")))?;
    write_json(
        dir,
        OutputKind::MonitorConstraints,
        &model_monitor::constraints(&profile, &policy),
    )?;
    Ok(EtlOutput {
        dataset_id,
        report,
        dir: dir.to_path_buf(),
        table_columns: glue_columns,
    })
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

    /// The completion marker of these files: the dataset id and the SHA-256 of
    /// every file (hashed side by side, one thread each).
    pub fn completion_marker(&self) -> std::io::Result<CompletionMarker> {
        let sha256 = |kind: OutputKind| -> std::io::Result<String> {
            let mut hasher = Sha256::new();
            std::io::copy(&mut File::open(self.path(kind))?, &mut hasher)?;
            Ok(hex::encode(hasher.finalize()))
        };
        let hashes: Vec<std::io::Result<String>> = std::thread::scope(|scope| {
            let threads: Vec<_> = self
                .kinds()
                .map(|kind| scope.spawn(move || sha256(kind)))
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
        for (kind, hash) in self.kinds().zip(hashes) {
            files.insert(kind.file_name().to_string(), hash?);
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
