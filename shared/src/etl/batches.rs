//! Stages 4 to 6 of a run, a batch of kept rows at a time: the engineered
//! features ([`super::features`]), each row to its split (assigned when it was
//! parsed, [`super::split`]), and the split outputs: Parquet per split and the
//! SageMaker XGBoost channels (CSV, or label-first Parquet for train and
//! validation: [`crate::dataset::TrainingFormat`]). The train channel may be
//! several files ([`crate::dataset::TrainParts`]): its rows are dealt to them
//! in turn, in input order.
//!
//! Each batch of [`EtlOptions::batch_rows`] rows becomes one frame, written
//! straight to the split's Parquet and channel writers, so memory holds the
//! compact kept columns plus one batch, never the whole frame with its
//! features. The batches also hand back what later stages need of them: the
//! ratio features' values (for their statistics) and the capped counts.

use super::error::EtlError;
use super::features::feature_columns;
use super::options::EtlOptions;
use super::rows::KeptRows;
use super::schema::{
    capped_flag, parquet_columns, table_columns, xgboost_columns, BEDROOMS_IMPUTED, SOURCE_LINE,
    SPLIT,
};
use super::split::Split;
use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES};
use crate::dataset::OutputKind;
use crate::features::RATIO_FEATURES;
use polars::io::csv::write::BatchedWriter as CsvBatches;
use polars::io::parquet::write::BatchedWriter as ParquetBatches;
use polars::prelude::*;
use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Range;
use std::path::Path;

/// What the batches wrote, and what they hand on.
pub struct Written {
    /// Rows written per split (`train`, `validation`, `test`).
    pub splits: BTreeMap<String, u64>,
    /// The Parquet files' columns as (name, Hive type), for the Glue table.
    pub table_columns: Vec<(String, String)>,
    /// Every kept row's ratio features, in [`RATIO_FEATURES`] order.
    pub ratios: [Vec<f64>; RATIO_FEATURES.len()],
    /// Rows at each capped column's top-code.
    pub capped: BTreeMap<String, u64>,
}

/// Polars' writers write whole pages and batches: they get the file unbuffered.
fn create(dir: &Path, name: &str) -> Result<File, EtlError> {
    let path = dir.join(name);
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
    fn create(
        dir: &Path,
        kind: OutputKind,
        name: &str,
        schema: &Schema,
    ) -> Result<Channel, EtlError> {
        let parquet = matches!(
            kind,
            OutputKind::TrainXgboostParquet | OutputKind::ValidationXgboostParquet
        );
        Ok(if !parquet {
            Channel::Csv(
                CsvWriter::new(create(dir, name)?)
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
                ParquetWriter::new(create(dir, name)?)
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
    /// The channel's files: one, or the train channel's parts.
    xgboost: Vec<Channel>,
    rows: u64,
}

/// Writes a batch of a split's rows (the split's rows before it: `offset`) to
/// its channel files, dealing row `offset + i` to file `(offset + i) % files`.
fn write_channel(
    files: &mut [Channel],
    part: &DataFrame,
    offset: u64,
    names: &[&str],
) -> PolarsResult<()> {
    if let [only] = files {
        return only.write(part, names);
    }
    let count = files.len() as u64;
    for (index, file) in files.iter_mut().enumerate() {
        let mask: BooleanChunked = (0..part.height() as u64)
            .map(|i| Some((offset + i) % count == index as u64))
            .collect();
        file.write(&part.filter(&mask)?, names)?;
    }
    Ok(())
}

/// Writes the kept rows (with `imputed`, which rows had `total_bedrooms`
/// imputed) into `dir` a batch at a time: every split's Parquet file and
/// XGBoost channel.
pub fn write(
    dir: &Path,
    kept: &KeptRows,
    imputed: &[bool],
    options: &EtlOptions,
) -> Result<Written, EtlError> {
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
        let frame = batch(kept, imputed, range.clone())?;
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
                let parquet = ParquetWriter::new(create(dir, parquet_kind.file_name())?)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)?;
                let xgboost = options
                    .train_parts
                    .file_names(xgboost_kind)
                    .iter()
                    .map(|name| Channel::create(dir, xgboost_kind, name, &xgboost_schema))
                    .collect::<Result<Vec<_>, _>>()?;
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
                let offset = w.rows;
                w.rows += part.height() as u64;
                Ok((part, offset))
            })
            .collect::<PolarsResult<Vec<(DataFrame, u64)>>>()?;
        // The Parquet files and the XGBoost channels are encoded side by side: each
        // writer has serial steps, during which the other keeps the cores busy.
        let (parquet_writers, channel_writers): (Vec<_>, Vec<_>) = writers
            .iter_mut()
            .map(|w| (&mut w.parquet, &mut w.xgboost))
            .unzip();
        std::thread::scope(|scope| {
            let channels = scope.spawn(|| -> PolarsResult<()> {
                for (xgboost, (part, offset)) in channel_writers.into_iter().zip(&parts) {
                    write_channel(xgboost, part, *offset, &xgboost_names)?;
                }
                Ok(())
            });
            for (parquet, (part, _)) in parquet_writers.into_iter().zip(&parts) {
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
    let mut splits = BTreeMap::new();
    for w in writers {
        w.parquet.finish()?;
        for channel in w.xgboost {
            channel.finish()?;
        }
        splits.insert(w.split.as_str().to_string(), w.rows);
    }

    Ok(Written {
        splits,
        table_columns: glue_columns,
        ratios,
        capped,
    })
}
