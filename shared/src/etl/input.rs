//! Whole-file checks, before any row is read: is this a UTF-8, comma-separated
//! text file with every contract column in its header?

use super::{Rejection, RejectionCode};
use crate::contract::{normalise_header, required_columns, NUMERIC_COLUMNS, OCEAN_PROXIMITY};

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
#[derive(Debug)]
pub struct Inspected<'a> {
    /// The text, without a UTF-8 byte-order mark.
    pub text: &'a str,
    /// The header as written.
    pub header: Vec<String>,
    pub columns: ColumnMap,
    /// Header columns not in the contract (ignored, and reported).
    pub ignored_columns: Vec<String>,
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

pub fn inspect(bytes: &[u8]) -> Result<Inspected<'_>, Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::new(
            RejectionCode::Empty,
            "empty file: the object has 0 bytes",
        ));
    }
    if let Some((_, what)) = SIGNATURES.iter().find(|(sig, _)| bytes.starts_with(sig)) {
        let code = if what.starts_with("UTF-16") {
            RejectionCode::NotUtf8
        } else {
            RejectionCode::NotText
        };
        return Err(Rejection::new(
            code,
            format!("not a UTF-8 CSV file: it looks like {what}"),
        ));
    }
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        return Err(Rejection::new(
            RejectionCode::NotText,
            format!(
                "not a text file: NUL byte at offset {pos} (line {})",
                line_of(bytes, pos)
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let pos = e.valid_up_to();
        Rejection::new(
            RejectionCode::NotUtf8,
            format!(
                "not UTF-8: invalid byte 0x{:02x} at offset {pos} (line {})",
                bytes[pos],
                line_of(bytes, pos)
            ),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Rejection::new(
            RejectionCode::Empty,
            "empty file: only whitespace",
        ));
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    // The text is UTF-8 and the reader is flexible, so reading the first record cannot fail.
    let _ = reader.read_record(&mut record);
    let header: Vec<String> = record.iter().map(str::to_string).collect();
    let names: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();

    let position = |wanted: &str| names.iter().position(|n| n == wanted);
    let missing: Vec<&str> = required_columns()
        .filter(|c| position(c).is_none())
        .collect();
    if !missing.is_empty() {
        let first_line = text.lines().next().unwrap_or_default();
        if let Some((_, name)) = OTHER_DELIMITERS
            .iter()
            .find(|(d, _)| header.len() == 1 && first_line.matches(*d).count() >= 2)
        {
            return Err(Rejection::new(
                RejectionCode::WrongDelimiter,
                format!(
                    "wrong delimiter: the header is separated by {name}, the contract requires ','"
                ),
            ));
        }
        return Err(Rejection::new(
            RejectionCode::MissingColumns,
            format!(
                "missing required column(s): {} (header has: {})",
                missing.join(", "),
                truncate(&header.join(", "), 200)
            ),
        ));
    }
    let mut duplicates: Vec<&str> = required_columns()
        .filter(|c| names.iter().filter(|n| n == c).count() > 1)
        .collect();
    duplicates.dedup();
    if !duplicates.is_empty() {
        return Err(Rejection::new(
            RejectionCode::DuplicateColumns,
            format!("duplicate column(s) in header: {}", duplicates.join(", ")),
        ));
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

    if !reader.read_record(&mut record).unwrap_or(false) {
        return Err(Rejection::new(
            RejectionCode::NoDataRows,
            "no data rows: the file has a header and nothing else",
        ));
    }
    Ok(Inspected {
        text,
        header,
        columns,
        ignored_columns,
    })
}

fn line_of(bytes: &[u8], pos: usize) -> usize {
    bytes[..pos].iter().filter(|b| **b == b'\n').count() + 1
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

    fn rejected(bytes: &[u8]) -> Rejection {
        inspect(bytes).expect_err("expected a rejection")
    }

    #[test]
    fn accepts_the_contract_header_in_any_order_with_extras() {
        let text = "Ocean_Proximity, extra ,median_house_value,median_income,households,population,total_bedrooms,total_rooms,housing_median_age,latitude,longitude\nNEAR BAY,x,1,2,3,4,5,6,7,8,9\n";
        let inspected = inspect(text.as_bytes()).unwrap();
        assert_eq!(inspected.columns.category, 0);
        assert_eq!(inspected.columns.numeric[0], 10); // longitude is last
        assert_eq!(inspected.ignored_columns, vec![" extra ".to_string()]);
    }

    #[test]
    fn strips_a_utf8_bom() {
        let text = format!("\u{feff}{HEADER}\n1,2,3,4,5,6,7,8,9,INLAND\n");
        assert!(inspect(text.as_bytes()).is_ok());
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

    #[test]
    fn messages_are_one_line() {
        for bytes in [&b""[..], b"\xff\xfe", b"x;y;z\n", b"\xc3\x28"] {
            let r = rejected(bytes);
            assert!(!r.to_string().contains('\n'), "{r}");
        }
    }
}
