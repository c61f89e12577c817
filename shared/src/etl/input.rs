//! Whole-file checks, before any row is read: is this a UTF-8, comma-separated
//! text file with every contract column in its header? [`super::scan`] streams
//! the bytes first; the header is checked here. The tests of both are here, as
//! `inspect` runs both.

use super::error::{EtlError, Rejection, RejectionCode};
use super::scan::{io_error, scan};
use crate::contract::{normalise_header, required_columns, NUMERIC_COLUMNS, OCEAN_PROXIMITY};
use std::io::{BufReader, Read, Seek, SeekFrom};

/// Where each contract column sits in the file (matched by name, not position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// Field index of each of [`NUMERIC_COLUMNS`], in contract order.
    pub numeric: [usize; NUMERIC_COLUMNS.len()],
    pub category: usize,
    /// Number of fields in the header.
    pub width: usize,
}

/// A file that passed the whole-file checks.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// Bytes before the header: a UTF-8 byte-order mark, or nothing.
    pub skip: u64,
    /// The header as written.
    pub header: Vec<String>,
    pub columns: ColumnMap,
    /// Header columns not in the contract (ignored, and reported).
    pub ignored_columns: Vec<String>,
    /// At most this many data rows: the file's lines after the header (a blank line
    /// or a quoted field spanning lines makes it an over-count, never an under-count).
    /// The kept columns are allocated once from it, and `MAX_ROWS` checks it.
    pub rows_bound: usize,
}

const OTHER_DELIMITERS: [(char, &str); 3] = [(';', "';'"), ('\t', "tab"), ('|', "'|'")];
/// The most columns a header may have (the contract has 10).
pub const MAX_COLUMNS: usize = 1_000;

/// Checks the whole file in one streaming pass (text, UTF-8, not blank), then its
/// header. `input` is read from its start; it may be any size.
pub fn inspect<R: Read + Seek>(input: &mut R) -> Result<Inspected, EtlError> {
    input.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let (skip, lines) = scan(input)?;
    input.seek(SeekFrom::Start(skip)).map_err(io_error)?;
    let rows_bound = usize::try_from(lines.saturating_sub(1)).unwrap_or(usize::MAX);
    header(BufReader::new(input), skip, rows_bound)
}

/// The header's checks; `skip` and `rows_bound` come from the scan.
fn header<R: Read>(input: R, skip: u64, rows_bound: usize) -> Result<Inspected, EtlError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    // The file is UTF-8 (checked above), so only I/O can fail here.
    reader
        .read_record(&mut record)
        .map_err(|e| EtlError::Internal(format!("reading the header: {e}")))?;
    if record.len() > MAX_COLUMNS {
        return Err(Rejection::new(
            RejectionCode::TooManyColumns,
            format!(
                "too many columns: the header has {}, over the limit of {MAX_COLUMNS} (the contract has {})",
                record.len(),
                required_columns().count()
            ),
        )
        .into());
    }
    let header: Vec<String> = record.iter().map(str::to_string).collect();
    let names: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();

    let position = |wanted: &str| names.iter().position(|n| n == wanted);
    let missing: Vec<&str> = required_columns()
        .filter(|c| position(c).is_none())
        .collect();
    if !missing.is_empty() {
        let first = header.first().map(String::as_str).unwrap_or_default();
        if let Some((_, name)) = OTHER_DELIMITERS
            .iter()
            .find(|(d, _)| header.len() == 1 && first.matches(*d).count() >= 2)
        {
            return Err(Rejection::new(
                RejectionCode::WrongDelimiter,
                format!(
                    "wrong delimiter: the header is separated by {name}, the contract requires ','"
                ),
            )
            .into());
        }
        return Err(Rejection::new(
            RejectionCode::MissingColumns,
            format!(
                "missing required column(s): {} (header has: {})",
                missing.join(", "),
                truncate(&header.join(", "), 200)
            ),
        )
        .into());
    }
    let mut duplicates: Vec<&str> = required_columns()
        .filter(|c| names.iter().filter(|n| n == c).count() > 1)
        .collect();
    duplicates.dedup();
    if !duplicates.is_empty() {
        return Err(Rejection::new(
            RejectionCode::DuplicateColumns,
            format!("duplicate column(s) in header: {}", duplicates.join(", ")),
        )
        .into());
    }

    let mut numeric = [0usize; NUMERIC_COLUMNS.len()];
    for (slot, column) in numeric.iter_mut().zip(NUMERIC_COLUMNS.iter()) {
        *slot = position(column.name).unwrap_or_default();
    }
    let columns = ColumnMap {
        numeric,
        category: position(OCEAN_PROXIMITY).unwrap_or_default(),
        width: header.len(),
    };
    let ignored_columns = header
        .iter()
        .zip(&names)
        .filter(|(_, n)| !required_columns().any(|c| c == n.as_str()))
        .map(|(h, _)| h.clone())
        .collect();

    let has_rows = reader
        .read_record(&mut record)
        .map_err(|e| EtlError::Internal(format!("reading the first row: {e}")))?;
    if !has_rows {
        return Err(Rejection::new(
            RejectionCode::NoDataRows,
            "no data rows: the file has a header and nothing else",
        )
        .into());
    }
    Ok(Inspected {
        skip,
        header,
        columns,
        ignored_columns,
        rows_bound,
    })
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etl::scan::{BOM, CHUNK, MAX_LINE_BYTES, MAX_QUOTED_FIELD_BYTES};

    const HEADER: &str = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,median_house_value,ocean_proximity";

    fn inspect_bytes(bytes: &[u8]) -> Result<Inspected, EtlError> {
        inspect(&mut std::io::Cursor::new(bytes))
    }

    fn rejected(bytes: &[u8]) -> Rejection {
        match inspect_bytes(bytes) {
            Err(EtlError::Rejected(r)) => r,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn accepts_the_contract_header_in_any_order_with_extras() {
        let text = "Ocean_Proximity, extra ,median_house_value,median_income,households,population,total_bedrooms,total_rooms,housing_median_age,latitude,longitude\nNEAR BAY,x,1,2,3,4,5,6,7,8,9\n";
        let inspected = inspect_bytes(text.as_bytes()).unwrap();
        assert_eq!(inspected.columns.category, 0);
        assert_eq!(inspected.columns.numeric[0], 10); // longitude is last
        assert_eq!(inspected.ignored_columns, vec![" extra ".to_string()]);
    }

    #[test]
    fn strips_a_utf8_bom() {
        let text = format!("\u{feff}{HEADER}\n1,2,3,4,5,6,7,8,9,INLAND\n");
        assert_eq!(inspect_bytes(text.as_bytes()).unwrap().skip, 3);
    }

    #[test]
    fn names_each_whole_file_problem() {
        assert_eq!(rejected(b"").code, RejectionCode::Empty);
        assert_eq!(rejected(b" \n\n ").code, RejectionCode::Empty);
        assert_eq!(
            rejected(b"\x1f\x8b\x08\x00rest").code,
            RejectionCode::NotText
        );
        assert!(rejected(b"\x1f\x8b\x08\x00").message.contains("gzip"));
        assert_eq!(rejected(b"a,b\n\x00\x01").code, RejectionCode::NotText);
        let latin1 = format!("{HEADER}\n1,2,3,4,5,6,7,8,9,caf\u{e9}\n").replace('\u{e9}', "\u{1}");
        let mut bytes = latin1.into_bytes();
        let i = bytes.iter().position(|b| *b == 1).unwrap();
        bytes[i] = 0xe9;
        let r = rejected(&bytes);
        assert_eq!(r.code, RejectionCode::NotUtf8);
        assert!(r.message.contains("line 2"), "{}", r.message);
        assert_eq!(
            rejected(&HEADER.replace(',', ";").into_bytes()).code,
            RejectionCode::WrongDelimiter
        );
        assert_eq!(
            rejected(&HEADER.replace(',', "\t").into_bytes()).code,
            RejectionCode::WrongDelimiter
        );
        let r = rejected(b"longitude,latitude\n1,2\n");
        assert_eq!(r.code, RejectionCode::MissingColumns);
        assert!(r.message.contains("median_income") && r.message.contains("ocean_proximity"));
        assert_eq!(
            rejected(format!("{HEADER},latitude\n").as_bytes()).code,
            RejectionCode::DuplicateColumns
        );
        assert_eq!(
            rejected(format!("{HEADER}\n").as_bytes()).code,
            RejectionCode::NoDataRows
        );
    }

    /// A header and enough rows to span several read chunks.
    fn big_file(rows: usize) -> Vec<u8> {
        let mut text = format!("{HEADER}\n");
        for _ in 0..rows {
            text.push_str("-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY\n");
        }
        text.into_bytes()
    }

    #[test]
    fn bounds_the_rows_by_the_lines_after_the_header() {
        let rows = |bytes: &[u8]| inspect_bytes(bytes).unwrap().rows_bound;
        // Counted across chunks, with or without a newline after the last row.
        let big = big_file(40_000);
        assert!(big.len() > 2 * CHUNK);
        assert_eq!(rows(&big), 40_000);
        assert_eq!(rows(&big[..big.len() - 1]), 40_000);
        let mut with_bom = BOM.to_vec();
        with_bom.extend_from_slice(&big_file(3));
        assert_eq!(rows(&with_bom), 3);
        // Lone CRs end lines too (the CSV reader splits rows on them), as do CRLFs,
        // also when a chunk boundary falls between the CR and the LF.
        let cr_only: Vec<u8> = big
            .iter()
            .map(|b| if *b == b'\n' { b'\r' } else { *b })
            .collect();
        assert_eq!(rows(&cr_only), 40_000);
        let crlf = String::from_utf8(big.clone())
            .unwrap()
            .replace('\n', "\r\n");
        assert_eq!(rows(crlf.as_bytes()), 40_000);
        let at = crlf.as_bytes()[..CHUNK]
            .iter()
            .rposition(|b| *b == b'\r')
            .unwrap();
        let mut split = crlf.clone().into_bytes();
        split.splice(at..at, std::iter::repeat_n(b'#', CHUNK - 1 - at));
        assert_eq!(split[CHUNK - 1..CHUNK + 1], *b"\r\n");
        assert_eq!(rows(&split), 40_000);
        // A quoted field across two lines: one row, bounded by two.
        let quoted = format!("{HEADER},note\n-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY,\"a\nb\"\n");
        assert_eq!(rows(quoted.as_bytes()), 2);
    }

    #[test]
    fn checks_stream_across_chunk_boundaries() {
        let mut bytes = big_file(40_000);
        assert!(bytes.len() > 2 * CHUNK);
        // A two-byte character cut in half by the first chunk's end is valid UTF-8.
        let row = bytes[..CHUNK].iter().rposition(|b| *b == b'\n').unwrap() + 1;
        let cut = CHUNK - 1;
        bytes.splice(row..row, std::iter::repeat_n(b'#', cut - row));
        bytes.splice(cut..cut, "\u{e9}".bytes());
        bytes.insert(cut + 2, b'\n');
        assert!(
            std::str::from_utf8(&bytes[..CHUNK]).is_err(),
            "the cut is inside the character"
        );
        assert!(inspect_bytes(&bytes).is_ok());

        // A bad byte or a NUL deep in the file is found, with its offset and line.
        let mut bad = big_file(40_000);
        let at = 2 * CHUNK + 10;
        let line = bad[..at].iter().filter(|b| **b == b'\n').count() + 1;
        for (byte, code) in [(0xff, RejectionCode::NotUtf8), (0, RejectionCode::NotText)] {
            bad[at] = byte;
            let r = rejected(&bad);
            assert_eq!(r.code, code);
            assert!(
                r.message.contains(&format!("offset {at} (line {line})")),
                "{}",
                r.message
            );
        }
        // A sequence cut by the end of the file is not.
        let mut truncated = big_file(10);
        truncated.extend_from_slice(&[0xc3]);
        assert_eq!(rejected(&truncated).code, RejectionCode::NotUtf8);
    }

    /// `big_file` with `field` as the note column of its third row (line 4).
    fn with_note(field: &str) -> Vec<u8> {
        let rows = String::from_utf8(big_file(40_000)).unwrap();
        let mut lines: Vec<String> = rows.lines().map(|l| format!("{l},")).collect();
        lines[0] = format!("{HEADER},note");
        lines[3].push_str(field);
        (lines.join("\n") + "\n").into_bytes()
    }

    #[test]
    fn quoted_fields_are_followed_and_runaway_quotes_refused() {
        let max = MAX_QUOTED_FIELD_BYTES as usize;
        // Quotes, commas, line ends and `""` inside a quoted field; a quote inside
        // an unquoted field is a plain character.
        for ok in [
            "\"a, \"\"b\"\"\nc\"".to_string(),
            "12\" pipe".to_string(),
            format!("\"{}\"", "x".repeat(max)),
            format!("\"{}\"", "\"\"".repeat(max / 2)),
        ] {
            let inspected = inspect_bytes(&with_note(&ok));
            assert!(
                inspected.is_ok(),
                "{:?}: {inspected:?}",
                &ok[..ok.len().min(20)]
            );
        }
        // One byte too long; a stray quote; a quote never closed.
        let long = rejected(&with_note(&format!("\"{}\"", "x".repeat(max + 1))));
        assert_eq!(long.code, RejectionCode::RunawayQuote);
        assert!(
            long.message.contains("line 4") && long.message.contains("runs over"),
            "{long}"
        );
        let stray = rejected(&with_note("\"oops"));
        assert_eq!(stray.code, RejectionCode::RunawayQuote);
        assert!(stray.message.contains("line 4"), "{stray}");
        let mut unclosed = big_file(3);
        unclosed.extend_from_slice(b"\"-122.23,37.88\n");
        let r = rejected(&unclosed);
        assert_eq!(r.code, RejectionCode::RunawayQuote);
        assert!(
            r.message.contains("line 5") && r.message.contains("never closes"),
            "{r}"
        );
        assert!(!r.to_string().contains('\n'));
    }

    #[test]
    fn long_lines_and_wide_headers_are_refused_before_they_are_read_whole() {
        let max = MAX_LINE_BYTES as usize;
        // A line of exactly the limit passes; one byte more is refused, naming it,
        // whether it ends in a line end or the file ends first (a single line).
        let ok = with_note(&"z".repeat(max - 100));
        assert!(inspect_bytes(&ok).is_ok());
        let at_limit = format!("{HEADER}\n{}\n", ",".repeat(max));
        assert!(!matches!(
            rejected_or_ok(at_limit.as_bytes()),
            Some(RejectionCode::LineTooLong)
        ));
        let over = format!("{HEADER}\n{}\n", ",".repeat(max + 1));
        let r = rejected(over.as_bytes());
        assert_eq!(r.code, RejectionCode::LineTooLong);
        assert!(r.message.contains("line 2"), "{r}");
        let single = ",".repeat(3 * CHUNK);
        assert_eq!(rejected(single.as_bytes()).code, RejectionCode::LineTooLong);
        // CR-only lines are lines too.
        let cr = format!("{HEADER}\r{}\r", "1".repeat(max + 1));
        assert_eq!(rejected(cr.as_bytes()).code, RejectionCode::LineTooLong);

        let wide = format!("{HEADER},{}\n1\n", vec!["x"; MAX_COLUMNS].join(","));
        let r = rejected(wide.as_bytes());
        assert_eq!(r.code, RejectionCode::TooManyColumns);
        assert!(r.message.contains("1010"), "{r}");
    }

    fn rejected_or_ok(bytes: &[u8]) -> Option<RejectionCode> {
        match inspect_bytes(bytes) {
            Err(EtlError::Rejected(r)) => Some(r.code),
            _ => None,
        }
    }

    #[test]
    fn an_escaped_quote_across_a_chunk_boundary_stays_inside_the_field() {
        // `""` with its two halves in two chunks, then the field closes.
        let mut bytes = big_file(40_000);
        let row = bytes[..CHUNK].iter().rposition(|b| *b == b'\n').unwrap() + 1;
        let field = format!("\"{}\"\"tail\",", "y".repeat(CHUNK - row - 2));
        bytes.splice(row..row, field.bytes());
        assert_eq!(bytes[CHUNK - 1..CHUNK + 1], *b"\"\"");
        assert!(inspect_bytes(&bytes).is_ok());
        // The same with a closing quote last in the chunk, and the next row long:
        // the field closed, nothing runs away.
        let mut closed = big_file(40_000);
        let field = format!("\"{}\",", "y".repeat(CHUNK - row - 2));
        closed.splice(row..row, field.bytes());
        assert_eq!(closed[CHUNK - 1], b'"');
        assert!(inspect_bytes(&closed).is_ok());
    }

    #[test]
    fn messages_are_one_line() {
        for bytes in [&b""[..], b"\xff\xfe", b"x;y;z\n", b"\xc3\x28"] {
            let r = rejected(bytes);
            assert!(!r.to_string().contains('\n'), "{r}");
        }
    }
}
