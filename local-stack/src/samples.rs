//! The drift demo's two uploads, made from a housing CSV (`data/housing.csv`):
//!
//! - [`shifted`]: every `median_income` × [`INCOME_SCALE`] and every
//!   [`REMOVED_REGION`] row gone — what a drift check must name;
//! - [`half`]: a fixed half of the rows, unchanged — a resample it must not.
//!
//! Both are deterministic: a row's fate depends only on its line number, so the
//! same input gives the same files (and the same dataset ids). The
//! `drift-samples` command (`src/bin/drift-samples.rs`) writes them; the tests
//! call these functions.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// How much the shifted sample's incomes are scaled.
pub const INCOME_SCALE: f64 = 1.3;
/// The `ocean_proximity` the shifted sample removes.
pub const REMOVED_REGION: &str = "NEAR BAY";

fn rewrite(
    csv: &[u8],
    mut row: impl FnMut(u64, &mut csv::StringRecord, &csv::StringRecord) -> Result<bool>,
) -> Result<Vec<u8>> {
    let mut reader = csv::Reader::from_reader(csv);
    let headers = reader.headers().context("the sample's header")?.clone();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers)?;
    for (line, record) in reader.records().enumerate() {
        let mut record = record.with_context(|| format!("record {}", line + 1))?;
        if row(line as u64, &mut record, &headers)? {
            writer.write_record(&record)?;
        }
    }
    Ok(writer.into_inner()?)
}

fn column(headers: &csv::StringRecord, name: &str) -> Result<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("no {name} column"))
}

/// Incomes scaled, one region removed.
pub fn shifted(csv: &[u8]) -> Result<Vec<u8>> {
    rewrite(csv, |_, record, headers| {
        let (income, region) = (
            column(headers, "median_income")?,
            column(headers, "ocean_proximity")?,
        );
        if &record[region] == REMOVED_REGION {
            return Ok(false);
        }
        let scaled: f64 = record[income]
            .parse::<f64>()
            .with_context(|| format!("median_income {:?}", &record[income]))?
            * INCOME_SCALE;
        let mut fields: Vec<String> = record.iter().map(String::from).collect();
        fields[income] = format!("{scaled:.4}");
        *record = csv::StringRecord::from(fields);
        Ok(true)
    })
}

/// The rows whose line number's SHA-256 starts with an even byte: about half,
/// spread over the whole file.
pub fn half(csv: &[u8]) -> Result<Vec<u8>> {
    rewrite(csv, |line, _, _| {
        Ok(Sha256::digest(line.to_le_bytes())[0] % 2 == 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "median_income,ocean_proximity\n1.0,INLAND\n2.5,NEAR BAY\n8.3252,NEAR OCEAN\n";

    #[test]
    fn the_shift_scales_incomes_and_removes_the_region() {
        let out = String::from_utf8(shifted(CSV.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out,
            "median_income,ocean_proximity\n1.3000,INLAND\n10.8228,NEAR OCEAN\n"
        );
        assert!(shifted(b"median_income\n1.0\n").is_err());
    }

    #[test]
    fn half_keeps_rows_whole_and_is_deterministic() {
        let many: String = std::iter::once("median_income,ocean_proximity\n".to_string())
            .chain((0..1000).map(|i| format!("{i},INLAND\n")))
            .collect();
        let out = half(many.as_bytes()).unwrap();
        assert_eq!(out, half(many.as_bytes()).unwrap());
        let rows = out.iter().filter(|b| **b == b'\n').count() - 1;
        assert!((400..600).contains(&rows), "{rows}");
        assert!(String::from_utf8(out)
            .unwrap()
            .lines()
            .skip(1)
            .all(|l| l.ends_with(",INLAND")));
    }
}
