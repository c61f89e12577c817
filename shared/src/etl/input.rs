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
/// The longest quoted field accepted (a documented limit, half a line): longer, the file is
/// refused as a runaway quote. One stray `"` at the start of a field would
/// otherwise make the rest of the file one field, held whole in memory.
pub const MAX_QUOTED_FIELD_BYTES: u64 = 32 * 1024;
/// The longest line accepted (a documented limit; a housing row is about 100
/// bytes): a longer one refuses the file before the CSV reader holds it whole.
pub const MAX_LINE_BYTES: u64 = 64 * 1024;
/// The most columns a header may have (the contract has 10).
pub const MAX_COLUMNS: usize = 1_000;

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
/// number of lines (the last one may lack its line end).
fn scan<R: Read + Seek>(input: &mut R) -> Result<(u64, u64), EtlError> {
    let mut buf = vec![0u8; CHUNK];
    // Bytes of a UTF-8 sequence cut by the chunk boundary, carried to the next chunk.
    let mut carry = 0usize;
    let mut offset = 0u64; // of buf[0] in the file
    let mut blank = true;
    let mut skip = 0u64;
    let mut lines = Lines::default();
    let mut last = b'\n';
    let mut quotes = Quotes::default();
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
        if let Err((line, length)) = lines.follow(&chunk[..valid], offset, last, MAX_LINE_BYTES) {
            return Err(Rejection::new(
                RejectionCode::LineTooLong,
                format!(
                    "line {line} is {length} bytes or more, over the limit of {MAX_LINE_BYTES} bytes a line (a housing row is about 100)"
                ),
            )
            .into());
        }
        if let Some(open) = quotes.follow(&chunk[..valid], offset, last, skip) {
            return Err(runaway_quote(input, open, false)?.into());
        }
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
    if let Some(open) = quotes.at_end() {
        return Err(runaway_quote(input, open, true)?.into());
    }
    Ok((skip, lines.ends + u64::from(!matches!(last, b'\n' | b'\r'))))
}

/// Quoted fields as the CSV reader sees them: a `"` at the start of a field
/// opens one, `""` inside it is a quote, another `"` closes it (anything after
/// that is literal). Only chunks with a `"` cost more than a `memchr`.
#[derive(Default)]
struct Quotes {
    /// The file offset of the opening quote of the field still open.
    open_at: Option<u64>,
    /// The previous chunk ended on a `"` inside a field: a close, or half of `""`.
    pending: bool,
}

impl Quotes {
    /// Follows `bytes`, at `offset` in the file after the byte `previous`
    /// (`skip`: the byte-order mark's length). Returns the opening quote's offset
    /// of a quoted field longer than [`MAX_QUOTED_FIELD_BYTES`].
    fn follow(&mut self, bytes: &[u8], offset: u64, previous: u8, skip: u64) -> Option<u64> {
        let mut i = 0;
        if std::mem::take(&mut self.pending) {
            if bytes.first() == Some(&b'"') {
                i = 1; // `""` across the chunks: still inside
            } else {
                self.open_at = None;
            }
        }
        while let Some(found) = memchr::memchr(b'"', &bytes[i..]) {
            let pos = i + found;
            let at = offset + pos as u64;
            i = pos + 1;
            match self.open_at {
                Some(open) => match bytes.get(pos + 1) {
                    None => self.pending = true,
                    Some(b'"') => i = pos + 2,
                    // The field is the bytes between the quotes.
                    Some(_) if at - open > MAX_QUOTED_FIELD_BYTES + 1 => return Some(open),
                    Some(_) => self.open_at = None,
                },
                None => {
                    let before = if pos == 0 { previous } else { bytes[pos - 1] };
                    if at == skip || matches!(before, b',' | b'\n' | b'\r') {
                        self.open_at = Some(at);
                    }
                }
            }
        }
        let end = offset + bytes.len() as u64;
        self.open_at
            .filter(|open| end - open > MAX_QUOTED_FIELD_BYTES + 1)
    }

    /// At the end of the file: the opening quote of a field never closed.
    fn at_end(&mut self) -> Option<u64> {
        if std::mem::take(&mut self.pending) {
            self.open_at = None; // the file's last byte closed it
        }
        self.open_at
    }
}

/// The rejection of a quoted field that runs away from the quote at `open`.
fn runaway_quote<R: Read + Seek>(
    input: &mut R,
    open: u64,
    unclosed: bool,
) -> Result<Rejection, EtlError> {
    let line = line_at(input, open)?;
    let what = if unclosed {
        "never closes".to_string()
    } else {
        format!("runs over {MAX_QUOTED_FIELD_BYTES} bytes")
    };
    Ok(Rejection::new(
        RejectionCode::RunawayQuote,
        format!(
            "runaway quote: the quoted field opened at line {line} (offset {open}) {what}; a stray '\"'?"
        ),
    ))
}

/// Lines as the CSV reader sees them: `\n`, `\r\n` and a lone `\r` each end
/// one, across chunks.
#[derive(Default)]
struct Lines {
    /// Line ends seen.
    ends: u64,
    /// The file offset where the current line starts.
    start: u64,
}

impl Lines {
    /// Follows `bytes`, at `offset` in the file after the byte `previous`. A line
    /// longer than `max` bytes stops it: `Err((its 1-based number, its length so far))`.
    fn follow(
        &mut self,
        bytes: &[u8],
        offset: u64,
        previous: u8,
        max: u64,
    ) -> Result<(), (u64, u64)> {
        for pos in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let at = offset + pos as u64;
            let before = if pos == 0 { previous } else { bytes[pos - 1] };
            if bytes[pos] == b'\n' && before == b'\r' {
                self.start = at + 1; // the end of a `\r\n`, already counted
                continue;
            }
            if at - self.start > max {
                return Err((self.ends + 1, at - self.start));
            }
            self.ends += 1;
            self.start = at + 1;
        }
        let open = offset + bytes.len() as u64 - self.start;
        if open > max {
            return Err((self.ends + 1, open));
        }
        Ok(())
    }
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
    let mut buf = vec![0u8; CHUNK];
    let mut lines = Lines::default();
    let (mut at, mut last) = (0u64, b'\n');
    while at < offset {
        let want = (offset - at).min(CHUNK as u64) as usize;
        let n = read_full(input, &mut buf[..want]).map_err(io_error)?;
        if n == 0 {
            break;
        }
        let _ = lines.follow(&buf[..n], at, last, u64::MAX);
        last = buf[n - 1];
        at += n as u64;
    }
    Ok(lines.ends + 1)
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
