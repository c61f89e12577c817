//! The California-housing data contract: the one definition of the input schema.
//!
//! Every other part of the suite (the ETL core, the report, the Glue table) reads
//! column names, ranges, categories and missing-value tokens from here.

use std::fmt;

/// Name and version of the contract, recorded in every report.
pub const CONTRACT_ID: &str = "california-housing/v1";

/// A numeric input column and what a plausible value looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericColumn {
    pub name: &'static str,
    /// Inclusive plausible range; values outside are quarantined.
    pub min: f64,
    pub max: f64,
    /// Missing values may be imputed instead of quarantining the row.
    pub imputable: bool,
    /// The census top-code for this column, if any (a value at the cap means "this or more").
    pub cap: Option<f64>,
}

pub const LONGITUDE: &str = "longitude";
pub const LATITUDE: &str = "latitude";
pub const HOUSING_MEDIAN_AGE: &str = "housing_median_age";
pub const TOTAL_ROOMS: &str = "total_rooms";
pub const TOTAL_BEDROOMS: &str = "total_bedrooms";
pub const POPULATION: &str = "population";
pub const HOUSEHOLDS: &str = "households";
pub const MEDIAN_INCOME: &str = "median_income";
pub const MEDIAN_HOUSE_VALUE: &str = "median_house_value";
pub const OCEAN_PROXIMITY: &str = "ocean_proximity";

/// The regression target.
pub const TARGET: &str = MEDIAN_HOUSE_VALUE;

/// Numeric columns, in the canonical order of `housing.csv`.
#[rustfmt::skip]
pub const NUMERIC_COLUMNS: [NumericColumn; 9] = [
    NumericColumn { name: LONGITUDE, min: -124.6, max: -114.0, imputable: false, cap: None },
    NumericColumn { name: LATITUDE, min: 32.4, max: 42.1, imputable: false, cap: None },
    NumericColumn { name: HOUSING_MEDIAN_AGE, min: 0.0, max: 100.0, imputable: false, cap: Some(52.0) },
    NumericColumn { name: TOTAL_ROOMS, min: 1.0, max: 100_000.0, imputable: false, cap: None },
    NumericColumn { name: TOTAL_BEDROOMS, min: 0.0, max: 50_000.0, imputable: true, cap: None },
    NumericColumn { name: POPULATION, min: 1.0, max: 100_000.0, imputable: false, cap: None },
    NumericColumn { name: HOUSEHOLDS, min: 1.0, max: 50_000.0, imputable: false, cap: None },
    NumericColumn { name: MEDIAN_INCOME, min: 0.0, max: 25.0, imputable: false, cap: None },
    NumericColumn { name: MEDIAN_HOUSE_VALUE, min: 1_000.0, max: 1_000_000.0, imputable: false, cap: Some(500_001.0) },
];

/// Allowed `ocean_proximity` values, in their canonical spelling.
pub const OCEAN_PROXIMITY_CATEGORIES: [&str; 5] =
    ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"];

/// Every required input column, in canonical order.
pub fn required_columns() -> impl Iterator<Item = &'static str> {
    NUMERIC_COLUMNS
        .iter()
        .map(|c| c.name)
        .chain([OCEAN_PROXIMITY])
}

pub fn numeric_column(name: &str) -> Option<&'static NumericColumn> {
    NUMERIC_COLUMNS.iter().find(|c| c.name == name)
}

/// Tokens read as "no value" (compared after trimming, ignoring case).
pub const MISSING_TOKENS: [&str; 8] = ["", "na", "n/a", "nan", "null", "none", "?", "-"];

pub fn is_missing(raw: &str) -> bool {
    let t = raw.trim();
    MISSING_TOKENS.iter().any(|m| t.eq_ignore_ascii_case(m))
}

/// Normalises a header cell for matching by name: trimmed, lower case, BOM removed.
pub fn normalise_header(raw: &str) -> String {
    raw.trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_lowercase()
}

/// Maps a raw `ocean_proximity` value to its canonical category: case, surrounding
/// and repeated inner spaces do not matter. `None` when it is not an allowed category.
pub fn normalise_category(raw: &str) -> Option<&'static str> {
    // Most values are already canonical: no allocation for them.
    if let Some(exact) = OCEAN_PROXIMITY_CATEGORIES.iter().find(|c| **c == raw) {
        return Some(exact);
    }
    let mut words = raw.split_whitespace();
    let first = words.next()?;
    let mut joined = first.to_ascii_uppercase();
    for w in words {
        joined.push(' ');
        joined.push_str(&w.to_ascii_uppercase());
    }
    OCEAN_PROXIMITY_CATEGORIES
        .iter()
        .copied()
        .find(|c| *c == joined)
}

/// Why a row was quarantined. Rendered as a stable machine-readable code,
/// `kind` or `kind:column` (e.g. `out_of_range:latitude`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The row has a different number of fields than the header.
    FieldCount,
    MissingValue(&'static str),
    NotANumber(&'static str),
    OutOfRange(&'static str),
    UnknownCategory(&'static str),
    /// `total_bedrooms` larger than `total_rooms`.
    BedroomsExceedRooms,
    /// At a census top-code, under the `quarantine` capped-value policy.
    Capped(&'static str),
    /// A missing value that could not be imputed (no value in the file to impute from).
    Unimputable(&'static str),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::FieldCount => f.write_str("field_count"),
            Reason::MissingValue(c) => write!(f, "missing_value:{c}"),
            Reason::NotANumber(c) => write!(f, "not_a_number:{c}"),
            Reason::OutOfRange(c) => write!(f, "out_of_range:{c}"),
            Reason::UnknownCategory(c) => write!(f, "unknown_category:{c}"),
            Reason::BedroomsExceedRooms => f.write_str("bedrooms_exceed_rooms"),
            Reason::Capped(c) => write!(f, "capped:{c}"),
            Reason::Unimputable(c) => write!(f, "unimputable:{c}"),
        }
    }
}

impl Reason {
    /// The column the reason is about (`None` for the row's field count).
    pub fn column(&self) -> Option<&'static str> {
        match self {
            Reason::FieldCount => None,
            Reason::BedroomsExceedRooms => Some(TOTAL_BEDROOMS),
            Reason::MissingValue(c)
            | Reason::NotANumber(c)
            | Reason::OutOfRange(c)
            | Reason::UnknownCategory(c)
            | Reason::Capped(c)
            | Reason::Unimputable(c) => Some(c),
        }
    }
}

/// The outcome of checking one numeric field.
pub fn check_numeric(column: &'static NumericColumn, raw: &str) -> Result<Option<f64>, Reason> {
    // The common case first: no missing-value token parses as a finite number.
    match raw.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => {
            if value < column.min || value > column.max {
                Err(Reason::OutOfRange(column.name))
            } else {
                Ok(Some(value))
            }
        }
        _ if is_missing(raw) => {
            if column.imputable {
                Ok(None)
            } else {
                Err(Reason::MissingValue(column.name))
            }
        }
        // inf, -nan and the like.
        Ok(_) => Err(Reason::OutOfRange(column.name)),
        Err(_) => Err(Reason::NotANumber(column.name)),
    }
}

/// The outcome of checking the categorical field.
pub fn check_category(raw: &str) -> Result<&'static str, Reason> {
    if is_missing(raw) {
        return Err(Reason::MissingValue(OCEAN_PROXIMITY));
    }
    normalise_category(raw).ok_or(Reason::UnknownCategory(OCEAN_PROXIMITY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_normalise_case_and_spaces() {
        assert_eq!(normalise_category("  near   bay "), Some("NEAR BAY"));
        assert_eq!(normalise_category("<1h ocean"), Some("<1H OCEAN"));
        assert_eq!(normalise_category("Inland"), Some("INLAND"));
        assert_eq!(normalise_category("OCEAN"), None);
        assert_eq!(normalise_category(""), None);
    }

    #[test]
    fn numeric_checks_give_reasons() {
        let lat = numeric_column(LATITUDE).unwrap();
        let bedrooms = numeric_column(TOTAL_BEDROOMS).unwrap();
        assert_eq!(check_numeric(lat, " 37.5 "), Ok(Some(37.5)));
        assert_eq!(check_numeric(lat, "abc"), Err(Reason::NotANumber(LATITUDE)));
        assert_eq!(check_numeric(lat, "95"), Err(Reason::OutOfRange(LATITUDE)));
        assert_eq!(check_numeric(lat, "inf"), Err(Reason::OutOfRange(LATITUDE)));
        assert_eq!(
            check_numeric(lat, "NA"),
            Err(Reason::MissingValue(LATITUDE))
        );
        assert_eq!(check_numeric(bedrooms, ""), Ok(None));
        assert_eq!(check_numeric(bedrooms, "NaN"), Ok(None));
        // Every missing-value token, in any case and padding, is missing (a token that
        // parsed as a number would be taken for one: none does).
        for token in MISSING_TOKENS {
            for raw in [token.to_string(), format!(" {} ", token.to_uppercase())] {
                assert_eq!(check_numeric(bedrooms, &raw), Ok(None), "{raw:?}");
                assert_eq!(
                    check_numeric(lat, &raw),
                    Err(Reason::MissingValue(LATITUDE)),
                    "{raw:?}"
                );
            }
        }
        assert_eq!(
            check_numeric(lat, "-nan"),
            Err(Reason::OutOfRange(LATITUDE))
        );
        assert_eq!(
            check_numeric(lat, "1e400"),
            Err(Reason::OutOfRange(LATITUDE))
        );
    }

    #[test]
    fn reason_codes_are_stable() {
        assert_eq!(
            Reason::OutOfRange(LATITUDE).to_string(),
            "out_of_range:latitude"
        );
        assert_eq!(Reason::FieldCount.to_string(), "field_count");
        assert_eq!(
            Reason::Capped(TARGET).to_string(),
            "capped:median_house_value"
        );
    }
}
