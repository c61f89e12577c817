//! The outputs of one run, as bytes: Parquet per split, the SageMaker XGBoost
//! CSV channels, the quarantine CSV and the report. Deterministic: the same
//! input and options give byte-identical files.

use super::clean::{self, capped_flag, BEDROOMS_IMPUTED, SOURCE_LINE, SPLIT};
use super::features::{self, model_features, one_hot_column, RATIO_FEATURES};
use super::input::Inspected;
use super::rows::ParsedRows;
use super::split::Split;
use super::stats::column_stats;
use super::{EtlError, EtlOptions};
use crate::contract::{
    CONTRACT_ID, NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES, TARGET,
};
use crate::dataset::{sha256_hex, DatasetId, InputIdentity, OutputKind, COMPLETION_MARKER};
use crate::report::{Report, ReportOptions, REPORT_SCHEMA_VERSION};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct EtlOutput {
    pub dataset_id: DatasetId,
    pub report: Report,
    pub files: BTreeMap<OutputKind, Vec<u8>>,
    /// The Parquet files' columns as (name, Hive type), for the Glue table.
    pub table_columns: Vec<(String, String)>,
}

/// The columns of the Parquet outputs, in order.
pub fn parquet_columns() -> Vec<String> {
    let mut columns = vec![SOURCE_LINE.to_string(), SPLIT.to_string()];
    columns.extend(NUMERIC_COLUMNS.iter().map(|c| c.name.to_string()));
    columns.push(OCEAN_PROXIMITY.to_string());
    columns.extend(RATIO_FEATURES.iter().map(|s| s.to_string()));
    columns.extend(OCEAN_PROXIMITY_CATEGORIES.iter().map(|c| one_hot_column(c)));
    columns.push(BEDROOMS_IMPUTED.to_string());
    columns.extend(
        NUMERIC_COLUMNS
            .iter()
            .filter(|c| c.cap.is_some())
            .map(|c| capped_flag(c.name)),
    );
    columns
}

/// The XGBoost channel's columns: target first, then the model features (no header).
pub fn xgboost_columns() -> Vec<String> {
    std::iter::once(TARGET.to_string())
        .chain(model_features())
        .collect()
}

fn select(frame: &DataFrame, columns: &[String], split: Option<Split>) -> PolarsResult<DataFrame> {
    let mut lf = frame.clone().lazy();
    if let Some(split) = split {
        lf = lf.filter(col(SPLIT).eq(lit(split.as_str())));
    }
    lf.select(columns.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .collect()
}

fn parquet_bytes(mut frame: DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut frame)?;
    Ok(buf)
}

fn csv_bytes(mut frame: DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(false)
        .finish(&mut frame)?;
    Ok(buf)
}

fn hive_type(dtype: &DataType) -> &'static str {
    match dtype {
        DataType::Float64 => "double",
        DataType::Float32 => "float",
        DataType::Int32 => "int",
        DataType::Int64 | DataType::UInt64 | DataType::UInt32 => "bigint",
        DataType::Boolean => "boolean",
        _ => "string",
    }
}

fn quarantine_csv(header: &[String], parsed: &ParsedRows) -> Result<Vec<u8>, EtlError> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let internal = |e: csv::Error| EtlError::Internal(format!("writing quarantine.csv: {e}"));
    let head = ["source_line", "reasons"]
        .into_iter()
        .chain(header.iter().map(String::as_str));
    writer.write_record(head).map_err(internal)?;
    for row in &parsed.quarantined {
        let reasons = row
            .reasons
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(";");
        let line = row.line.to_string();
        let record = [line.as_str(), reasons.as_str()]
            .into_iter()
            .chain(row.fields.iter().map(String::as_str));
        writer.write_record(record).map_err(internal)?;
    }
    writer
        .into_inner()
        .map_err(|e| EtlError::Internal(format!("writing quarantine.csv: {e}")))
}

pub fn build(
    dataset_id: DatasetId,
    input: InputIdentity,
    inspected: &Inspected<'_>,
    mut parsed: ParsedRows,
    options: &EtlOptions,
) -> Result<EtlOutput, EtlError> {
    let kept = std::mem::take(&mut parsed.kept);
    let (cleaned, imputation) = clean::clean(clean::frame(kept)?)?;
    let frame = features::add_features(cleaned.lazy()).collect()?;

    let mut splits = BTreeMap::new();
    let mut files = BTreeMap::new();
    let parquet = parquet_columns();
    let xgboost = xgboost_columns();
    for (split, parquet_kind, xgboost_kind) in [
        (
            Split::Train,
            OutputKind::TrainParquet,
            Some(OutputKind::TrainXgboost),
        ),
        (
            Split::Validation,
            OutputKind::ValidationParquet,
            Some(OutputKind::ValidationXgboost),
        ),
        (Split::Test, OutputKind::TestParquet, None),
    ] {
        let part = select(&frame, &parquet, Some(split))?;
        splits.insert(split.as_str().to_string(), part.height() as u64);
        if let Some(kind) = xgboost_kind {
            files.insert(kind, csv_bytes(select(&part, &xgboost, None)?)?);
        }
        files.insert(parquet_kind, parquet_bytes(part)?);
    }
    files.insert(
        OutputKind::Quarantine,
        quarantine_csv(&inspected.header, &parsed)?,
    );

    let numeric: Vec<String> = NUMERIC_COLUMNS
        .iter()
        .map(|c| c.name.to_string())
        .chain(RATIO_FEATURES.iter().map(|s| s.to_string()))
        .collect();
    let mut capped = BTreeMap::new();
    for spec in NUMERIC_COLUMNS.iter().filter(|c| c.cap.is_some()) {
        let flag = frame
            .column(&capped_flag(spec.name))?
            .bool()?
            .sum()
            .unwrap_or(0);
        capped.insert(spec.name.to_string(), flag as u64);
    }
    let rows_out = frame.height() as u64;
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
        },
        rows_in: parsed.rows_in,
        rows_out,
        rows_quarantined: parsed.quarantined.len() as u64,
        rows_duplicate: parsed.rows_duplicate,
        splits,
        reasons: parsed.reason_counts(),
        ignored_columns: inspected.ignored_columns.clone(),
        imputations: BTreeMap::from([(crate::contract::TOTAL_BEDROOMS.to_string(), imputation)]),
        capped,
        columns: column_stats(&frame, &numeric)?,
    };
    if !report.rows_balance() {
        return Err(EtlError::Internal(format!(
            "row accounting broken: rows_in {} != rows_out {} + rows_quarantined {} + rows_duplicate {}",
            report.rows_in, report.rows_out, report.rows_quarantined, report.rows_duplicate
        )));
    }
    let mut report_json = serde_json::to_vec_pretty(&report)
        .map_err(|e| EtlError::Internal(format!("serialising report: {e}")))?;
    report_json.push(b'\n');
    files.insert(OutputKind::Report, report_json);

    let schema = frame.schema();
    let table_columns = parquet
        .iter()
        .map(|c| {
            (
                c.clone(),
                schema
                    .get(c.as_str())
                    .map_or("string", hive_type)
                    .to_string(),
            )
        })
        .collect();
    Ok(EtlOutput {
        dataset_id,
        report,
        files,
        table_columns,
    })
}

impl EtlOutput {
    pub fn file(&self, kind: OutputKind) -> &[u8] {
        self.files.get(&kind).map(Vec::as_slice).unwrap_or_default()
    }

    /// The local completion marker: the dataset id and the SHA-256 of every file.
    pub fn local_marker(&self) -> Vec<u8> {
        let files: BTreeMap<&str, String> = self
            .files
            .iter()
            .map(|(k, v)| (k.file_name(), sha256_hex(v)))
            .collect();
        let marker = serde_json::json!({ "dataset_id": self.dataset_id, "files": files });
        let mut bytes = serde_json::to_vec_pretty(&marker).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Writes every output into `dir` (created if needed), the completion marker last.
    pub fn write_to_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (kind, bytes) in &self.files {
            std::fs::write(dir.join(kind.file_name()), bytes)?;
        }
        std::fs::write(dir.join(COMPLETION_MARKER), self.local_marker())
    }
}
