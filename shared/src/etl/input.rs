//! Whole-file checks, before any row is read: is this a UTF-8, comma-separated
//! text file with every contract column in its header?

use super::error::{EtlError, Rejection, RejectionCode};
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

/// Signatures of common non-CSV files, to name what was sent instead.
const SIGNATURES: [(&[u8], &str); 9] = [
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a zip archive (or an Excel workbook)"),
    (b"PAR1", "a Parquet file"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xfe", "UTF-16 text (little-endian byte-order mark)"),
    (b"\xfe\xff", "UTF-16 text (big-endian byte-order mark)"),
];

const OTHER_DELIMITERS: [(char, &str); 3] = [(';', "';'"), ('\t', "tab"), ('|', "'|'")];
const BOM: &[u8] = b"\xef\xbb\xbf";
/// The scan reads this much at a time: the whole file is never in memory.
const CHUNK: usize = 1 << 20;

fn io_error(e: std::io::Error) -> EtlError {
    EtlError::Internal(format!("reading the input file: {e}"))
}

/// Checks the whole file in one streaming pass (text, UTF-8, not blank), then its
/// header. `input` is read from its start; it may be any size.
pub fn inspect<R: Read + Seek>(input: &mut R) -> Result<Inspected, EtlError> {
    input.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let (skip, lines) = scan(input)?;
    input.seek(SeekFrom::Start(skip)).map_err(io_error)?;
    let rows_bound = usize::try_from(lines.saturating_sub(1)).unwrap_or(usize::MAX);
    header(BufReader::new(input), skip, rows_bound)
}

/// The streaming pass: returns the length of the byte-order mark to skip and the
/// number of lines (the last one may lack its newline).
fn scan<R: Read + Seek>(input: &mut R) -> Result<(u64, u64), EtlError> {
    let mut buf = vec![0u8; CHUNK];
    // Bytes of a UTF-8 sequence cut by the chunk boundary, carried to the next chunk.
    let mut carry = 0usize;
    let mut offset = 0u64; // of buf[0] in the file
    let mut blank = true;
    let mut skip = 0u64;
    let mut newlines = 0u64;
    let mut last = b'\n';
    loop {
        let n = read_full(input, &mut buf[carry..]).map_err(io_error)?;
        let len = carry + n;
        let chunk = &buf[..len];
        if offset == 0 {
            if len == 0 {
                return Err(Rejection::new(
                    RejectionCode::Empty,
                    "empty file: the object has 0 bytes",
                )
                .into());
            }
            if let Some((_, what)) = SIGNATURES.iter().find(|(sig, _)| chunk.starts_with(sig)) {
                let code = if what.starts_with("UTF-16") {
                    RejectionCode::NotUtf8
                } else {
                    RejectionCode::NotText
                };
                return Err(Rejection::new(
                    code,
                    format!("not a UTF-8 CSV file: it looks like {what}"),
                )
                .into());
            }
            if chunk.starts_with(BOM) {
                skip = BOM.len() as u64;
            }
        }
        if let Some(pos) = memchr::memchr(0, chunk) {
            let at = offset + pos as u64;
            let line = line_at(input, at)?;
            return Err(Rejection::new(
                RejectionCode::NotText,
                format!("not a text file: NUL byte at offset {at} (line {line})"),
            )
            .into());
        }
        let valid = match std::str::from_utf8(chunk) {
            Ok(_) => len,
            // A sequence cut by the chunk's end: complete it with the next chunk.
            Err(e) if e.error_len().is_none() && n > 0 => e.valid_up_to(),
            Err(e) => {
                let at = offset + e.valid_up_to() as u64;
                let byte = chunk[e.valid_up_to()];
                let line = line_at(input, at)?;
                return Err(Rejection::new(
                    RejectionCode::NotUtf8,
                    format!("not UTF-8: invalid byte 0x{byte:02x} at offset {at} (line {line})"),
                )
                .into());
            }
        };
        newlines += memchr::memchr_iter(b'\n', &chunk[..valid]).count() as u64;
        if valid > 0 {
            last = chunk[valid - 1];
        }
        if blank {
            let from = if offset == 0 { skip as usize } else { 0 };
            blank = chunk[from.min(valid)..valid]
                .iter()
                .all(u8::is_ascii_whitespace);
        }
        if n == 0 {
            break;
        }
        buf.copy_within(valid..len, 0);
        carry = len - valid;
        offset += valid as u64;
    }
    if blank {
        return Err(Rejection::new(RejectionCode::Empty, "empty file: only whitespace").into());
    }
    Ok((skip, newlines + u64::from(last != b'\n')))
}

/// Reads until `buf` is full or the input ends.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The 1-based line of byte `offset` (only computed for a rejection message).
fn line_at<R: Read + Seek>(input: &mut R, offset: u64) -> Result<u64, EtlError> {
    input.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut lines = 1;
    let mut buf = vec![0u8; CHUNK];
    let mut left = offset;
    while left > 0 {
        let want = left.min(CHUNK as u64) as usize;
        let n = read_full(input, &mut buf[..want]).map_err(io_error)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        left -= n as u64;
    }
    Ok(lines)
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

    #[test]
    fn messages_are_one_line() {
        for bytes in [&b""[..], b"\xff\xfe", b"x;y;z\n", b"\xc3\x28"] {
            let r = rejected(bytes);
            assert!(!r.to_string().contains('\n'), "{r}");
        }
    }
}
