//! The transform job's output joined back to the rows it scored: its answers
//! are in the order of its input (one line per row, assembled by line), which
//! is the order of `rows.csv`, so the join is a walk down both, checked to end
//! together. Written in batches as `predictions.csv` and `predictions.parquet`:
//! the input columns, the prediction, the row's line.

use super::prepare::{rows_header, LINE, PREDICTION};
use super::{io, ScoringError};
use crate::aws::{ContainerAnswer, CONTAINER_ANSWER};
use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, TARGET};
use crate::features::INPUTS;
use polars::prelude::*;
use std::io::{BufReader, Read, Write};

/// Rows a batch holds: memory stays flat however long the file is.
const BATCH_ROWS: usize = 65_536;

/// What the join came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Joined {
    /// Rows with their prediction.
    pub rows: u64,
    /// Over the rows that carried a target.
    pub evaluation: Option<Evaluation>,
}

/// The model's error on the file's own targets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evaluation {
    pub rows: u64,
    pub rmse: f64,
    pub mae: f64,
}

/// The columns of one batch.
#[derive(Default)]
struct Batch {
    inputs: Vec<Vec<Option<f64>>>,
    category: Vec<String>,
    target: Vec<Option<f64>>,
    prediction: Vec<f64>,
    line: Vec<u64>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            inputs: vec![Vec::new(); INPUTS],
            ..Batch::default()
        }
    }

    fn len(&self) -> usize {
        self.line.len()
    }

    fn frame(&mut self, has_target: bool) -> PolarsResult<DataFrame> {
        let height = self.len();
        let mut columns: Vec<Column> = NUMERIC_COLUMNS[..INPUTS]
            .iter()
            .zip(self.inputs.iter_mut())
            .map(|(c, values)| Column::new(c.name.into(), std::mem::take(values)))
            .collect();
        columns.push(Column::new(
            OCEAN_PROXIMITY.into(),
            std::mem::take(&mut self.category),
        ));
        if has_target {
            columns.push(Column::new(TARGET.into(), std::mem::take(&mut self.target)));
        }
        columns.push(Column::new(
            PREDICTION.into(),
            std::mem::take(&mut self.prediction),
        ));
        columns.push(Column::new(LINE.into(), std::mem::take(&mut self.line)));
        DataFrame::new(height, columns)
    }
}

fn cell(text: &str, what: &str) -> Result<Option<f64>, ScoringError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| ScoringError::Mismatch(format!("rows.csv: {what} {text:?} is not a number")))
}

/// Joins `output` (the job's `.out` object) to `rows` (`rows.csv`) and writes
/// the predictions to `csv` and `parquet`.
pub fn join(
    rows: impl Read,
    output: impl Read,
    csv: impl Write,
    parquet: impl Write,
) -> Result<Joined, ScoringError> {
    let mut rows = csv::Reader::from_reader(rows);
    let header = rows
        .headers()
        .map_err(|e| io("reading rows.csv", e))?
        .clone();
    let has_target = header.iter().any(|h| h == TARGET);
    if header.iter().ne(rows_header(has_target)) {
        return Err(ScoringError::Mismatch(format!(
            "rows.csv has the header {:?}, not rows.csv's",
            header.iter().collect::<Vec<_>>()
        )));
    }
    let mut scores = serde_json::Deserializer::from_reader(BufReader::new(output))
        .into_iter::<ContainerAnswer>()
        .map(|answer| answer.map(ContainerAnswer::scores));
    let mut pending = Vec::new().into_iter();
    let mut next_score = move || -> Result<Option<f64>, ScoringError> {
        loop {
            if let Some(score) = pending.next() {
                return Ok(Some(score));
            }
            match scores.next() {
                None => return Ok(None),
                Some(Ok(answer)) => pending = answer.into_iter(),
                Some(Err(e)) => {
                    return Err(ScoringError::Mismatch(format!(
                        "an answer is not the container's {CONTAINER_ANSWER}: {e}"
                    )))
                }
            }
        }
    };

    let mut csv_out = None;
    let mut parquet_out = None;
    let (mut csv, mut parquet) = (Some(csv), Some(parquet));
    let mut write = |batch: &mut Batch| -> Result<(), ScoringError> {
        let frame = batch
            .frame(has_target)
            .map_err(|e| io("building a batch of predictions", e))?;
        let schema = frame.schema().clone();
        if let Some(w) = csv.take() {
            csv_out = Some(
                CsvWriter::new(w)
                    .include_header(true)
                    .batched(&schema)
                    .map_err(|e| io("writing predictions.csv", e))?,
            );
        }
        if let Some(w) = parquet.take() {
            parquet_out = Some(
                ParquetWriter::new(w)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(|e| io("writing predictions.parquet", e))?,
            );
        }
        if let Some(w) = csv_out.as_mut() {
            w.write_batch(&frame)
                .map_err(|e| io("writing predictions.csv", e))?;
        }
        if let Some(w) = parquet_out.as_mut() {
            w.write_batch(&frame)
                .map_err(|e| io("writing predictions.parquet", e))?;
        }
        Ok(())
    };

    let mut joined = Joined::default();
    let (mut squared, mut absolute, mut evaluated) = (0.0, 0.0, 0u64);
    let mut batch = Batch::new();
    for record in rows.records() {
        let record = record.map_err(|e| io("reading rows.csv", e))?;
        let Some(score) = next_score()? else {
            return Err(ScoringError::Mismatch(format!(
                "{} predictions for more rows",
                joined.rows
            )));
        };
        if !score.is_finite() {
            return Err(ScoringError::Mismatch(format!(
                "the prediction for row {} is {score}",
                joined.rows + 1
            )));
        }
        for (i, values) in batch.inputs.iter_mut().enumerate() {
            values.push(cell(&record[i], NUMERIC_COLUMNS[i].name)?);
        }
        batch.category.push(record[INPUTS].to_string());
        if has_target {
            let target = cell(&record[INPUTS + 1], TARGET)?;
            if let Some(target) = target {
                squared += (score - target).powi(2);
                absolute += (score - target).abs();
                evaluated += 1;
            }
            batch.target.push(target);
        }
        let line = &record[record.len() - 1];
        batch.line.push(
            line.parse()
                .map_err(|_| ScoringError::Mismatch(format!("rows.csv: line {line:?}")))?,
        );
        batch.prediction.push(score);
        joined.rows += 1;
        if batch.len() == BATCH_ROWS {
            write(&mut batch)?;
        }
    }
    if next_score()?.is_some() {
        return Err(ScoringError::Mismatch(format!(
            "more predictions than the {} rows",
            joined.rows
        )));
    }
    if batch.len() > 0 || joined.rows == 0 {
        write(&mut batch)?;
    }
    if let Some(mut w) = csv_out {
        w.finish().map_err(|e| io("writing predictions.csv", e))?;
    }
    if let Some(w) = parquet_out {
        w.finish()
            .map_err(|e| io("writing predictions.parquet", e))?;
    }
    if evaluated > 0 {
        let n = evaluated as f64;
        joined.evaluation = Some(Evaluation {
            rows: evaluated,
            rmse: (squared / n).sqrt(),
            mae: absolute / n,
        });
    }
    Ok(joined)
}
