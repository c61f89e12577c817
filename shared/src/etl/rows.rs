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
mod tests {
    use super::*;
    use crate::etl::input::inspect;
    use crate::etl::quarantine::Quarantined;

    const HEADER: &str = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,median_house_value,ocean_proximity";

    /// What a parse left: the kept rows, the quarantine's counts and its rows as
    /// read back from the file (line, reasons, fields).
    #[derive(Debug)]
    struct Parsed {
        rows: ParsedRows,
        quarantined: Quarantined,
        file: Vec<Vec<String>>,
    }

    fn parse_text(body: &str, options: &EtlOptions) -> Result<Parsed, Rejection> {
        let text = format!("{HEADER}\n{body}");
        let inspected = inspect(&mut std::io::Cursor::new(text.as_bytes())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quarantine.csv");
        let mut quarantine = Quarantine::create(&path, &inspected.header).unwrap();
        let rows = match parse(text.as_bytes(), &inspected, options, &mut quarantine) {
            Ok(parsed) => parsed,
            Err(EtlError::Rejected(r)) => return Err(r),
            Err(e) => panic!("{e}"),
        };
        let quarantined = quarantine.finish().unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&path)
            .unwrap();
        let file = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        Ok(Parsed {
            rows,
            quarantined,
            file,
        })
    }

    #[test]
    fn every_row_has_one_outcome() {
        let body = "\
-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY
-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY
-122.16,37.77,47.0,1256.0,,570.0,218.0,4.375,161900.0, near bay
-122.22,95.0,21.0,7099.0,1106.0,2401.0,1138.0,8.3014,358500.0,NEAR BAY
-122.22,37.86,21.0,abc,1106.0,2401.0,1138.0,8.3014,358500.0,MOON
-122.22,37.86,21.0
-122.22,37.86,21.0,100,200,2401.0,1138.0,8.3014,358500.0,INLAND
";
        let Parsed {
            rows: parsed,
            quarantined,
            file,
        } = parse_text(body, &EtlOptions::default()).unwrap();
        assert_eq!(parsed.rows_in, 7);
        assert_eq!(parsed.rows_duplicate, 1);
        assert_eq!(parsed.kept.len(), 2);
        assert_eq!(quarantined.rows, 4);
        assert_eq!(
            file.len(),
            4,
            "one line in quarantine.csv per quarantined row"
        );
        let near_bay = OCEAN_PROXIMITY_CATEGORIES
            .iter()
            .position(|c| *c == "NEAR BAY")
            .unwrap() as u8;
        assert_eq!(parsed.kept.category, vec![near_bay, near_bay]);
        assert_eq!(parsed.kept.numeric[BEDROOMS][0], 129.0);
        assert!(parsed.kept.numeric[BEDROOMS][1].is_nan());
        assert_eq!(parsed.kept.source_line, vec![2, 4]);
        let reasons = &quarantined.reasons;
        assert_eq!(reasons["out_of_range:latitude"], 1);
        assert_eq!(reasons["not_a_number:total_rooms"], 1);
        assert_eq!(reasons["unknown_category:ocean_proximity"], 1);
        assert_eq!(reasons["field_count"], 1);
        assert_eq!(reasons["bedrooms_exceed_rooms"], 1);
        let short = file.iter().find(|r| r[1] == "field_count").unwrap();
        assert_eq!(short[2..], ["-122.22", "37.86", "21.0"]);
        assert_eq!(short[0], "7");
    }

    #[test]
    fn lines_of_spaces_are_blank_lines() {
        let row = "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY";
        let other = "-122.22,37.86,21.0,7099.0,1106.0,2401.0,1138.0,8.3014,358500.0,NEAR BAY";
        let body = format!("{row}\n\n   \n\t \n{other}\n  \n");
        let parsed = parse_text(&body, &EtlOptions::default()).unwrap();
        assert_eq!(parsed.rows.rows_in, 2);
        assert_eq!(parsed.rows.kept.len(), 2);
        assert!(parsed.file.is_empty(), "{:?}", parsed.file);
        assert_eq!(parsed.rows.kept.source_line, vec![2, 6]);
        // A field of spaces inside a row is still that row's problem.
        let spaced = format!("{row}\n   ,37.86,21.0\n");
        let parsed = parse_text(&spaced, &EtlOptions::default()).unwrap();
        assert_eq!(parsed.quarantined.rows, 1);
    }

    #[test]
    fn capped_rows_follow_the_policy() {
        let body = "-122.23,37.88,52.0,880.0,129.0,322.0,126.0,8.3252,500001.0,NEAR BAY\n-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,400000.0,NEAR BAY\n";
        let flag = parse_text(body, &EtlOptions::default()).unwrap();
        assert_eq!(flag.rows.kept.len(), 2);
        let options = EtlOptions {
            capped_policy: CappedPolicy::Quarantine,
            ..Default::default()
        };
        let quarantine = parse_text(body, &options).unwrap();
        assert_eq!(quarantine.rows.kept.len(), 1);
        assert_eq!(
            quarantine.file[0][1],
            format!(
                "{};{}",
                Reason::Capped("housing_median_age"),
                Reason::Capped("median_house_value")
            )
        );
    }

    #[test]
    fn missing_bedrooms_everywhere_is_a_rejection() {
        let body = "-122.23,37.88,41.0,880.0,,322.0,126.0,8.3252,452600.0,NEAR BAY\n";
        let r = parse_text(body, &EtlOptions::default()).unwrap_err();
        assert_eq!(r.code, RejectionCode::Unimputable);
    }

    #[test]
    fn split_does_not_depend_on_formatting() {
        let mut buf = Vec::new();
        let a = [
            Some(-122.0),
            Some(37.0),
            Some(41.0),
            Some(880.0),
            None,
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
        ];
        let mut b = a;
        b[0] = Some(-122.000);
        assert_eq!(
            row_hash(&a, "INLAND", &mut buf),
            row_hash(&b, "INLAND", &mut buf)
        );
        assert_ne!(
            row_hash(&a, "INLAND", &mut buf),
            row_hash(&a, "ISLAND", &mut buf)
        );
    }
}
