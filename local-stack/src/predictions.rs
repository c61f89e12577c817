//! Prediction requests made of real data: the raw records (as a client would
//! send them) of the rows the ETL put in a split, with their true values, and
//! the calls that send them.

use anyhow::{bail, Context, Result};
use polars::prelude::*;
use serde_json::{Map, Number, Value};
use shared::contract::{is_missing, normalise_header, required_columns, TARGET};
use std::collections::HashMap;
use std::io::Cursor;

/// One row of the input file as a prediction request's record.
#[derive(Debug, Clone)]
pub struct Held {
    /// The row's 1-based line in the input file.
    pub line: u64,
    /// The contract's fields but the target, as the file spells them: numbers as
    /// JSON numbers, missing values left out.
    pub record: Value,
    /// The row's `median_house_value`.
    pub target: f64,
}

/// The rows of `parquet` (a split the ETL wrote from `raw`, in its order), as
/// records made of their raw fields in `raw`.
pub fn held_out(raw: &[u8], parquet: &[u8]) -> Result<Vec<Held>> {
    let frame = ParquetReader::new(Cursor::new(parquet)).finish()?;
    let lines: Vec<i64> = frame
        .column("source_line")?
        .i64()?
        .into_no_null_iter()
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(raw.trim_ascii_start());
    let header: Vec<String> = reader.headers()?.iter().map(normalise_header).collect();
    let index: HashMap<&str, usize> = required_columns()
        .map(|c| {
            let i = header.iter().position(|h| h == c);
            i.map(|i| (c, i)).with_context(|| format!("no column {c}"))
        })
        .collect::<Result<_>>()?;
    let mut by_line = HashMap::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        by_line.insert(line, record);
    }
    lines
        .into_iter()
        .map(|line| {
            let Some(row) = by_line.get(&(line as u64)) else {
                bail!("line {line} is not in the input");
            };
            let mut record = Map::new();
            let mut target = f64::NAN;
            for (column, i) in &index {
                let raw = row.get(*i).unwrap_or_default();
                if *column == TARGET {
                    target = raw.trim().parse()?;
                    continue;
                }
                if is_missing(raw) {
                    continue;
                }
                let value = match serde_json::from_str::<Number>(raw.trim()) {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::String(raw.to_string()),
                };
                record.insert(column.to_string(), value);
            }
            Ok(Held {
                line: line as u64,
                record: Value::Object(record),
                target,
            })
        })
        .collect()
}
