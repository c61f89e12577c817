//! A file to score, row by row: checked with the data contract's input checks
//! ([`crate::features::check_record`], the ETL's reason codes), imputed with
//! the serving model's training medians, and written three ways as it is
//! read: the transform job's input, `rows.csv` (the kept rows, canonical, in
//! the same order) and `quarantine.csv` (the others, as they were read).
//!
//! Every row is scored or quarantined, none dropped: a scoring file may repeat
//! a row on purpose, so duplicates are scored like the rest.

use super::{io, ScoringError};
use crate::contract::{
    check_numeric, normalise_header, numeric_column, Reason, NUMERIC_COLUMNS, OCEAN_PROXIMITY,
    OCEAN_PROXIMITY_CATEGORIES, TARGET, TOTAL_BEDROOMS,
};
use crate::features::{check_record, features, write_csv_row, BedroomFills, BEDROOMS, INPUTS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// The column of `rows.csv` and the predictions that names the row's line in
/// the scored file (1-based, the header is line 1).
pub const LINE: &str = "line";
/// The column of the predictions.
pub const PREDICTION: &str = "prediction";

/// What a file came to (as `run.json` and `report.json` keep it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Prepared {
    /// Data rows read (the header is not one).
    pub rows_in: u64,
    /// Rows sent to the transform job (in `rows.csv`, in its order).
    pub rows_scored: u64,
    /// Rows in `quarantine.csv`.
    pub rows_quarantined: u64,
    /// Reason code → quarantined rows carrying it (a row may have several).
    #[serde(rename = "quarantine_reasons")]
    pub reasons: BTreeMap<String, u64>,
    /// Kept rows whose missing `total_bedrooms` was imputed.
    pub rows_imputed: u64,
    /// Whether the file has the target column (kept for evaluation).
    pub has_target: bool,
    /// Kept rows with a usable target (a bad or missing one is left empty:
    /// the row is still scored).
    pub rows_with_target: u64,
    /// Columns of the file that are not the contract's, left out.
    pub ignored_columns: Vec<String>,
}

/// Where the contract's columns are in the file.
struct Columns {
    /// Input columns in contract order, then `ocean_proximity`.
    inputs: Vec<usize>,
    target: Option<usize>,
    width: usize,
}

/// The header of `rows.csv` (and, with the prediction, of the predictions).
pub fn rows_header(has_target: bool) -> Vec<&'static str> {
    NUMERIC_COLUMNS[..INPUTS]
        .iter()
        .map(|c| c.name)
        .chain([OCEAN_PROXIMITY])
        .chain(has_target.then_some(TARGET))
        .chain([LINE])
        .collect()
}

fn columns(header: &csv::StringRecord) -> Result<(Columns, Vec<String>), ScoringError> {
    let names: Vec<String> = header.iter().map(normalise_header).collect();
    let find = |name: &str| -> Result<Option<usize>, ScoringError> {
        let mut at = names.iter().enumerate().filter(|(_, n)| *n == name);
        match (at.next(), at.next()) {
            (Some((i, _)), None) => Ok(Some(i)),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(ScoringError::Rejected(format!(
                "the column {name} is given twice"
            ))),
        }
    };
    let wanted: Vec<&str> = NUMERIC_COLUMNS[..INPUTS]
        .iter()
        .map(|c| c.name)
        .chain([OCEAN_PROXIMITY])
        .collect();
    let mut inputs = Vec::with_capacity(wanted.len());
    let mut missing = Vec::new();
    for name in &wanted {
        match find(name)? {
            Some(i) => inputs.push(i),
            None => missing.push(*name),
        }
    }
    if !missing.is_empty() {
        return Err(ScoringError::Rejected(format!(
            "the header lacks {} (it has: {})",
            missing.join(", "),
            names.join(", ")
        )));
    }
    let target = find(TARGET)?;
    let ignored = names
        .iter()
        .filter(|n| !wanted.contains(&n.as_str()) && n.as_str() != TARGET)
        .cloned()
        .collect();
    let columns = Columns {
        inputs,
        target,
        width: names.len(),
    };
    Ok((columns, ignored))
}

/// Reads `input` (CSV with a header) and writes the transform job's input,
/// `rows.csv` and `quarantine.csv`. `fills` are the serving model's training
/// medians for `total_bedrooms`.
pub fn prepare(
    input: impl Read,
    fills: &BedroomFills,
    transform_input: impl Write,
    rows: impl Write,
    quarantine: impl Write,
) -> Result<Prepared, ScoringError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| ScoringError::Rejected(format!("no CSV header: {e}")))?
        .clone();
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(ScoringError::Rejected("the file is empty".into()));
    }
    let (columns, ignored_columns) = columns(&header)?;
    let mut out = Prepared {
        has_target: columns.target.is_some(),
        ignored_columns,
        ..Prepared::default()
    };

    let mut features_out = std::io::BufWriter::new(transform_input);
    let mut rows_out = csv::Writer::from_writer(rows);
    rows_out
        .write_record(rows_header(out.has_target))
        .map_err(|e| io("writing rows.csv", e))?;
    let mut quarantine_out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(quarantine);
    quarantine_out
        .write_record(
            ["source_line", "reasons"]
                .iter()
                .copied()
                .chain(header.iter()),
        )
        .map_err(|e| io("writing quarantine.csv", e))?;

    let target_column = numeric_column(TARGET).expect("the target is a numeric column");
    let mut line = String::new();
    let mut number = zmij::Buffer::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(ScoringError::Rejected(format!(
                    "not CSV after {} rows: {e}",
                    out.rows_in
                )))
            }
        }
        out.rows_in += 1;
        let source_line = record.position().map_or(out.rows_in + 1, |p| p.line());
        let checked = if record.len() != columns.width {
            Err(vec![Reason::FieldCount])
        } else {
            let cell = |name: &'static str| {
                let at = if name == OCEAN_PROXIMITY {
                    columns.inputs[INPUTS]
                } else {
                    let i = NUMERIC_COLUMNS[..INPUTS]
                        .iter()
                        .position(|c| c.name == name)?;
                    columns.inputs[i]
                };
                Some(record[at].to_string())
            };
            check_record(cell)
                .map_err(|problems| problems.into_iter().map(|(reason, _)| reason).collect())
                .and_then(|checked| {
                    fills
                        .inputs(&checked)
                        .map(|inputs| (checked, inputs))
                        .ok_or_else(|| vec![Reason::Unimputable(TOTAL_BEDROOMS)])
                })
        };
        let (checked, inputs) = match checked {
            Ok(kept) => kept,
            Err(reasons) => {
                out.rows_quarantined += 1;
                let mut codes = String::new();
                for (i, reason) in reasons.iter().enumerate() {
                    if i > 0 {
                        codes.push(';');
                    }
                    let code = reason.to_string();
                    codes.push_str(&code);
                    *out.reasons.entry(code).or_insert(0) += 1;
                }
                let fields = [source_line.to_string(), codes];
                quarantine_out
                    .write_record(fields.iter().map(String::as_str).chain(record.iter()))
                    .map_err(|e| io("writing quarantine.csv", e))?;
                continue;
            }
        };
        out.rows_scored += 1;
        if checked.numeric[BEDROOMS].is_none() {
            out.rows_imputed += 1;
        }
        line.clear();
        write_csv_row(&mut line, None, &features(&inputs));
        line.push('\n');
        features_out
            .write_all(line.as_bytes())
            .map_err(|e| io("writing the transform input", e))?;

        let mut row: Vec<String> = checked
            .numeric
            .iter()
            .map(|v| v.map_or(String::new(), |v| number.format(v).to_string()))
            .collect();
        row.push(OCEAN_PROXIMITY_CATEGORIES[checked.category].to_string());
        if let Some(at) = columns.target {
            let target = match check_numeric(target_column, &record[at]) {
                Ok(Some(value)) => {
                    out.rows_with_target += 1;
                    number.format(value).to_string()
                }
                _ => String::new(),
            };
            row.push(target);
        }
        row.push(source_line.to_string());
        rows_out
            .write_record(&row)
            .map_err(|e| io("writing rows.csv", e))?;
    }
    features_out
        .flush()
        .map_err(|e| io("writing the transform input", e))?;
    rows_out.flush().map_err(|e| io("writing rows.csv", e))?;
    quarantine_out
        .flush()
        .map_err(|e| io("writing quarantine.csv", e))?;
    if out.rows_scored == 0 {
        return Err(ScoringError::Rejected(format!(
            "no row to score: {} read, {} quarantined",
            out.rows_in, out.rows_quarantined
        )));
    }
    Ok(out)
}
