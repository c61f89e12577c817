//! The streaming pass over a whole file, before any row is read: what it is (not
//! empty, not binary, UTF-8, not blank), where its lines end, and the bounds
//! that keep one bad line from taking the run's memory (line length, quoted
//! fields). One chunk in memory at a time, whatever the file's size.

use super::error::{EtlError, Rejection, RejectionCode};
use std::io::{Read, Seek, SeekFrom};

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

/// A UTF-8 byte-order mark.
pub(super) const BOM: &[u8] = b"\xef\xbb\xbf";
/// The scan reads this much at a time: the whole file is never in memory.
pub(super) const CHUNK: usize = 1 << 20;
/// The longest quoted field accepted (a documented limit, half a line): longer, the file is
/// refused as a runaway quote. One stray `"` at the start of a field would
/// otherwise make the rest of the file one field, held whole in memory.
pub const MAX_QUOTED_FIELD_BYTES: u64 = 32 * 1024;
/// The longest line accepted (a documented limit; a housing row is about 100
/// bytes): a longer one refuses the file before the CSV reader holds it whole.
pub const MAX_LINE_BYTES: u64 = 64 * 1024;

pub(super) fn io_error(e: std::io::Error) -> EtlError {
    EtlError::Internal(format!("reading the input file: {e}"))
}

/// The streaming pass: returns the length of the byte-order mark to skip and the
/// number of lines (the last one may lack its line end).
pub(super) fn scan<R: Read + Seek>(input: &mut R) -> Result<(u64, u64), EtlError> {
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
