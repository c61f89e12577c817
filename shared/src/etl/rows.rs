//! Row-level outcomes: every input row is kept, quarantined (with its reasons and
//! original fields) or dropped as an exact duplicate of an earlier row.

use super::error::{EtlError, Rejection, RejectionCode};
use super::input::Inspected;
use super::options::{CappedPolicy, EtlOptions};
use super::quarantine::Quarantine;
use super::split::{self, Split};
use crate::contract::{
    check_category, check_numeric, Reason, NUMERIC_COLUMNS, OCEAN_PROXIMITY_CATEGORIES,
    TOTAL_BEDROOMS, TOTAL_ROOMS,
};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

pub(crate) const N: usize = NUMERIC_COLUMNS.len();
pub(crate) const BEDROOMS: usize = 4;
pub(crate) const ROOMS: usize = 3;

/// The kept rows, column by column (contract order), compact: 8 bytes per number,
/// one per category and split, so ten million rows fit in well under a gigabyte.
#[derive(Debug, Default)]
pub struct KeptRows {
    /// Contract order. A missing value (only imputable columns have them) is NaN:
    /// the contract refuses non-finite input, so NaN cannot be a real value.
    pub numeric: [Vec<f64>; N],
    /// Index into [`OCEAN_PROXIMITY_CATEGORIES`].
    pub category: Vec<u8>,
    /// 1-based line of the row in the input file.
    pub source_line: Vec<u64>,
    pub split: Vec<Split>,
}

impl KeptRows {
    pub fn len(&self) -> usize {
        self.source_line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.source_line.is_empty()
    }
}

/// What the rows came to: the kept ones (the quarantined went to the
/// [`Quarantine`] as they were found).
#[derive(Debug, Default)]
pub struct ParsedRows {
    pub rows_in: u64,
    pub rows_duplicate: u64,
    pub kept: KeptRows,
}

/// The keys of the duplicate check are already xxh3 hashes: use their low bits as
/// they are instead of hashing them again.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= (*b as u64) << (8 * i);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

/// Records go from the reader to the checker in batches of this many.
const HANDOFF_ROWS: usize = 4096;
/// Batches in flight between the two: bounds the memory of the handoff.
const HANDOFF_DEPTH: usize = 4;

/// Unique records (fields as read) and their 1-based lines, from reader to checker;
/// the checker sends the batch back to be refilled, so records are allocated once.
#[derive(Default)]
struct Handoff {
    records: Vec<csv::ByteRecord>,
    lines: Vec<u64>,
    len: usize,
}

/// Parses every data row of `input`, which starts at the header (after any
/// byte-order mark) of a file that passed [`super::input::inspect`]. Streams: only
/// the compact kept columns are held; quarantined rows go to `quarantine`.
///
/// Two threads, each a core's worth of work: one reads the CSV and drops exact
/// duplicates, in file order; the other checks each remaining row against the
/// contract and keeps or quarantines it, in the same order.
pub fn parse<R: Read + Send>(
    input: R,
    inspected: &Inspected,
    options: &EtlOptions,
    quarantine: &mut Quarantine,
) -> Result<ParsedRows, EtlError> {
    debug_assert_eq!(NUMERIC_COLUMNS[BEDROOMS].name, TOTAL_BEDROOMS);
    debug_assert_eq!(NUMERIC_COLUMNS[ROOMS].name, TOTAL_ROOMS);
    let mut out = ParsedRows::default();
    let capacity = inspected.rows_bound;
    for column in out.kept.numeric.iter_mut() {
        column.reserve(capacity);
    }
    out.kept.category.reserve(capacity);
    out.kept.source_line.reserve(capacity);
    out.kept.split.reserve(capacity);

    let (full, unique) = std::sync::mpsc::sync_channel::<Handoff>(HANDOFF_DEPTH);
    let (recycle, recycled) = std::sync::mpsc::channel::<Handoff>();
    let (rows_in, rows_duplicate) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_unique(input, full, recycled));
        let mut check = Checker::new(inspected, options);
        let mut failed = None;
        'batches: for batch in unique {
            for (record, line) in batch.records[..batch.len].iter().zip(&batch.lines) {
                if let Err(e) = check.row(record, *line, &mut out, quarantine) {
                    // Ending the loop drops the channel: the reader stops too.
                    failed = Some(e);
                    break 'batches;
                }
            }
            // The reader may have finished: then the batch is simply dropped.
            let _ = recycle.send(batch);
        }
        let counts = reader
            .join()
            .map_err(|_| EtlError::Internal("the CSV reader thread panicked".into()))?;
        failed.map_or(counts, Err)
    })?;
    out.rows_in = rows_in;
    out.rows_duplicate = rows_duplicate;

    let needs_imputation = out.kept.numeric[BEDROOMS].iter().any(|v| v.is_nan());
    let has_donors = out.kept.numeric[BEDROOMS].iter().any(|v| !v.is_nan());
    if needs_imputation && !has_donors {
        return Err(Rejection::new(
            RejectionCode::Unimputable,
            "no total_bedrooms values to impute from: every kept row lacks total_bedrooms",
        )
        .into());
    }
    Ok(out)
}

/// The reader: CSV records, exact duplicates (the same fields as an earlier row)
/// counted and dropped, the rest handed on in order. Returns (rows in, duplicates).
fn read_unique<R: Read>(
    input: R,
    full: std::sync::mpsc::SyncSender<Handoff>,
    recycled: std::sync::mpsc::Receiver<Handoff>,
) -> Result<(u64, u64), EtlError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let mut seen: HashSet<u128, BuildHasherDefault<PreHashed>> = HashSet::default();
    let mut key = Vec::with_capacity(256);
    let (mut rows_in, mut duplicates) = (0u64, 0u64);
    let mut end = false;
    while !end {
        let mut batch = recycled.try_recv().unwrap_or_default();
        batch.len = 0;
        while batch.len < HANDOFF_ROWS {
            if batch.records.len() == batch.len {
                batch.records.push(csv::ByteRecord::new());
                batch.lines.push(0);
            }
            let record = &mut batch.records[batch.len];
            // The file is UTF-8 (checked by `inspect`) and the reader flexible: only I/O fails.
            if !reader
                .read_byte_record(record)
                .map_err(|e| EtlError::Internal(format!("reading the input file: {e}")))?
            {
                end = true;
                break;
            }
            // The reader skips empty lines; a line of only spaces or tabs is one too,
            // not a row with the wrong number of fields.
            if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            rows_in += 1;
            key.clear();
            for field in record.iter() {
                key.extend_from_slice(field);
                key.push(0x1f);
            }
            if !seen.insert(xxh3_128(&key)) {
                duplicates += 1;
                continue;
            }
            batch.lines[batch.len] = record.position().map_or(0, |p| p.line());
            batch.len += 1;
        }
        if batch.len > 0 && full.send(batch).is_err() {
            break; // the checker has stopped
        }
    }
    Ok((rows_in, duplicates))
}

/// The checker: one row's contract checks, and its outcome recorded.
struct Checker<'a> {
    inspected: &'a Inspected,
    options: &'a EtlOptions,
    reasons: Vec<Reason>,
    values: [Option<f64>; N],
    hash_buf: Vec<u8>,
}

impl<'a> Checker<'a> {
    fn new(inspected: &'a Inspected, options: &'a EtlOptions) -> Self {
        Checker {
            inspected,
            options,
            reasons: Vec::new(),
            values: [None; N],
            hash_buf: Vec::with_capacity(128),
        }
    }

    fn row(
        &mut self,
        record: &csv::ByteRecord,
        line: u64,
        out: &mut ParsedRows,
        quarantine: &mut Quarantine,
    ) -> Result<(), EtlError> {
        let reasons = &mut self.reasons;
        let values = &mut self.values;
        reasons.clear();
        let field =
            |i: usize| std::str::from_utf8(record.get(i).unwrap_or_default()).unwrap_or_default();
        let mut category = "";
        let columns = &self.inspected.columns;
        if record.len() != columns.width {
            reasons.push(Reason::FieldCount);
        } else {
            for (i, column) in NUMERIC_COLUMNS.iter().enumerate() {
                match check_numeric(column, field(columns.numeric[i])) {
                    Ok(v) => values[i] = v,
                    Err(reason) => {
                        values[i] = None;
                        reasons.push(reason);
                    }
                }
            }
            match check_category(field(columns.category)) {
                Ok(c) => category = c,
                Err(reason) => reasons.push(reason),
            }
            if let (Some(bedrooms), Some(rooms)) = (values[BEDROOMS], values[ROOMS]) {
                if bedrooms > rooms {
                    reasons.push(Reason::BedroomsExceedRooms);
                }
            }
            if self.options.capped_policy == CappedPolicy::Quarantine {
                for (column, value) in NUMERIC_COLUMNS.iter().zip(*values) {
                    if let (Some(cap), Some(v)) = (column.cap, value) {
                        if v >= cap {
                            reasons.push(Reason::Capped(column.name));
                        }
                    }
                }
            }
        }

        if !reasons.is_empty() {
            return quarantine.row(line, reasons, record);
        }

        let hash = row_hash(values, category, &mut self.hash_buf);
        let kept = &mut out.kept;
        for (column, value) in kept.numeric.iter_mut().zip(*values) {
            column.push(value.unwrap_or(f64::NAN));
        }
        let index = OCEAN_PROXIMITY_CATEGORIES
            .iter()
            .position(|c| *c == category)
            .unwrap_or_default();
        kept.category.push(index as u8);
        kept.source_line.push(line);
        kept.split.push(split::assign(hash, &self.options.split));
        Ok(())
    }
}

/// A stable hash of a row's parsed values (contract order), so the split does not
/// depend on column order, number formatting or the row's position in the file.
fn row_hash(values: &[Option<f64>; N], category: &str, buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    for value in values {
        match value {
            // -0.0 and 0.0 are the same value.
            Some(v) => buf.extend_from_slice(&(v + 0.0).to_bits().to_le_bytes()),
            None => buf.extend_from_slice(&[0xff; 8]),
        }
    }
    buf.extend_from_slice(category.as_bytes());
    xxh3_64(buf)
}

#[cfg(test)]
mod tests;
