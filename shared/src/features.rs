//! The engineered features, one row at a time: the one feature function the ETL
//! (batch by batch, [`crate::etl`]) and the predictions (record by record,
//! [`crate::serving`]) both call, the one column order of the XGBoost CSV, and
//! the one way its numbers are written. No Polars here: a function that serves
//! predictions compiles this module and nothing of the data plane. A record
//! met one at a time (a request's, a scored file's row) is checked here too
//! ([`check_record`]), with the contract's checks and reasons.

use crate::contract::{
    check_category, check_numeric, Reason, HOUSEHOLDS, NUMERIC_COLUMNS, OCEAN_PROXIMITY,
    OCEAN_PROXIMITY_CATEGORIES, POPULATION, TARGET, TOTAL_BEDROOMS, TOTAL_ROOMS,
};
use std::collections::BTreeMap;

pub const ROOMS_PER_HOUSEHOLD: &str = "rooms_per_household";
pub const BEDROOMS_PER_ROOM: &str = "bedrooms_per_room";
pub const POPULATION_PER_HOUSEHOLD: &str = "population_per_household";

pub const RATIO_FEATURES: [&str; 3] = [
    ROOMS_PER_HOUSEHOLD,
    BEDROOMS_PER_ROOM,
    POPULATION_PER_HOUSEHOLD,
];

/// The model's numeric inputs: the contract's numeric columns but the target (the
/// last one), in contract order.
pub const INPUTS: usize = NUMERIC_COLUMNS.len() - 1;
/// The model's features: the inputs, the ratios, one one-hot column per category.
pub const FEATURES: usize = INPUTS + RATIO_FEATURES.len() + OCEAN_PROXIMITY_CATEGORIES.len();

const fn input_index(name: &str) -> usize {
    let mut i = 0;
    while i < INPUTS {
        if const_eq(NUMERIC_COLUMNS[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("not a model input")
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// The target is the last contract column: the inputs are the ones before it.
const _: () = assert!(const_eq(NUMERIC_COLUMNS[INPUTS].name, TARGET));

pub const ROOMS: usize = input_index(TOTAL_ROOMS);
pub const BEDROOMS: usize = input_index(TOTAL_BEDROOMS);
pub const POPULATION_INDEX: usize = input_index(POPULATION);
pub const HOUSEHOLDS_INDEX: usize = input_index(HOUSEHOLDS);

/// One cleaned row of model inputs: every value present (missing bedrooms
/// imputed), as the contract guarantees (`households` and `total_rooms` ≥ 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    /// Contract order, without the target.
    pub numeric: [f64; INPUTS],
    /// Index into [`OCEAN_PROXIMITY_CATEGORIES`].
    pub category: usize,
}

/// The ratios of one row, in [`RATIO_FEATURES`] order.
pub fn ratios(numeric: &[f64; INPUTS]) -> [f64; 3] {
    [
        numeric[ROOMS] / numeric[HOUSEHOLDS_INDEX],
        numeric[BEDROOMS] / numeric[ROOMS],
        numeric[POPULATION_INDEX] / numeric[HOUSEHOLDS_INDEX],
    ]
}

/// The feature function: one row's model features, in [`model_features`] order.
pub fn features(inputs: &Inputs) -> [f64; FEATURES] {
    let mut out = [0.0; FEATURES];
    out[..INPUTS].copy_from_slice(&inputs.numeric);
    out[INPUTS..INPUTS + 3].copy_from_slice(&ratios(&inputs.numeric));
    out[INPUTS + 3 + inputs.category] = 1.0;
    out
}

/// Which features are one-hot columns (written as integers, as the ETL's Int32 columns).
pub const fn is_one_hot(feature: usize) -> bool {
    feature >= INPUTS + RATIO_FEATURES.len()
}

/// A missing `total_bedrooms` filled with `fill` (its group's median), but never
/// more bedrooms than the row has rooms: the contract quarantines such rows, so
/// imputation must not create them.
pub fn imputed_bedrooms(fill: f64, rooms: f64) -> f64 {
    if fill > rooms {
        rooms
    } else {
        fill
    }
}

/// The one-hot column of a category, e.g. `<1H OCEAN` → `ocean_proximity_lt_1h_ocean`.
pub fn one_hot_column(category: &str) -> String {
    let slug = category
        .to_ascii_lowercase()
        .replace('<', "lt_")
        .replace(' ', "_");
    format!("{OCEAN_PROXIMITY}_{slug}")
}

/// The model's inputs, in the order of the XGBoost channel's columns after the target:
/// the numeric contract columns (without the target), the ratios, the one-hot columns.
pub fn model_features() -> Vec<String> {
    NUMERIC_COLUMNS[..INPUTS]
        .iter()
        .map(|c| c.name.to_string())
        .chain(RATIO_FEATURES.iter().map(|s| s.to_string()))
        .chain(OCEAN_PROXIMITY_CATEGORIES.iter().map(|c| one_hot_column(c)))
        .collect()
}

/// Appends one XGBoost CSV line (no newline): the target first when there is one
/// (the training channels; an inference request has none), then the features.
/// Numbers are written as the ETL's CSV writer writes them: the shortest form
/// that reads back as the same `f64` (zmij, which Polars uses), the one-hot
/// columns as integers.
pub fn write_csv_row(out: &mut String, target: Option<f64>, features: &[f64; FEATURES]) {
    let mut buffer = zmij::Buffer::new();
    if let Some(target) = target {
        out.push_str(buffer.format(target));
        out.push(',');
    }
    for (i, value) in features.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if is_one_hot(i) {
            out.push(if *value == 1.0 { '1' } else { '0' });
        } else {
            out.push_str(buffer.format(*value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_row() -> Inputs {
        // The first row of housing.csv.
        Inputs {
            numeric: [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252],
            category: OCEAN_PROXIMITY_CATEGORIES
                .iter()
                .position(|c| *c == "NEAR BAY")
                .unwrap(),
        }
    }

    #[test]
    fn features_of_one_row() {
        let f = features(&first_row());
        let names = model_features();
        assert_eq!(names.len(), FEATURES);
        assert_eq!(FEATURES, 8 + 3 + 5);
        let get = |name: &str| f[names.iter().position(|n| n == name).unwrap()];
        assert_eq!(get(ROOMS_PER_HOUSEHOLD), 880.0 / 126.0);
        assert_eq!(get(BEDROOMS_PER_ROOM), 129.0 / 880.0);
        assert_eq!(get(POPULATION_PER_HOUSEHOLD), 322.0 / 126.0);
        assert_eq!(get("median_income"), 8.3252);
        assert_eq!(get("ocean_proximity_near_bay"), 1.0);
        assert_eq!(get("ocean_proximity_inland"), 0.0);
        assert_eq!(get("ocean_proximity_lt_1h_ocean"), 0.0);
        assert_eq!(f.iter().filter(|v| **v == 1.0).count(), 1);
    }

    #[test]
    fn a_csv_row_is_the_shortest_round_trip_and_integer_one_hots() {
        let mut line = String::new();
        write_csv_row(&mut line, Some(452600.0), &features(&first_row()));
        assert_eq!(
            line,
            "452600.0,-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,\
             6.984126984126984,0.14659090909090908,2.5555555555555554,0,0,0,1,0"
        );
        let mut request = String::new();
        write_csv_row(&mut request, None, &features(&first_row()));
        assert_eq!(request, line["452600.0,".len()..]);
        for (i, field) in request.split(',').enumerate() {
            let value: f64 = field.parse().unwrap();
            let expected = if is_one_hot(i) {
                format!("{value}")
            } else {
                zmij::Buffer::new().format(value).to_string()
            };
            assert_eq!(expected, field);
        }
    }

    #[test]
    fn imputation_never_exceeds_the_rooms() {
        assert_eq!(imputed_bedrooms(435.0, 880.0), 435.0);
        assert_eq!(imputed_bedrooms(435.0, 200.0), 200.0);
    }
}

/// A record that passed the contract: `total_bedrooms` may still be missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    pub numeric: [Option<f64>; INPUTS],
    /// Index into [`OCEAN_PROXIMITY_CATEGORIES`].
    pub category: usize,
}

/// One record's contract checks, the ETL's (`contract::check_*`), every
/// problem named with the text it was found in. `cell` gives a column's text
/// (empty when missing), or `None` for a value that is no text at all.
pub fn check_record(
    cell: impl Fn(&'static str) -> Option<String>,
) -> Result<Record, Vec<(Reason, String)>> {
    let mut errors = Vec::new();
    let mut numeric = [None; INPUTS];
    for (slot, column) in numeric.iter_mut().zip(&NUMERIC_COLUMNS[..INPUTS]) {
        let Some(raw) = cell(column.name) else {
            errors.push((Reason::NotANumber(column.name), "not a number".into()));
            continue;
        };
        match check_numeric(column, &raw) {
            Ok(value) => *slot = value,
            Err(reason) => errors.push((reason, raw)),
        }
    }
    let raw_category = cell(OCEAN_PROXIMITY).unwrap_or_else(|| "?".into());
    let category = match check_category(&raw_category) {
        Ok(c) => OCEAN_PROXIMITY_CATEGORIES.iter().position(|k| *k == c),
        Err(reason) => {
            errors.push((reason, raw_category));
            None
        }
    };
    if let (Some(bedrooms), Some(rooms)) = (numeric[BEDROOMS], numeric[ROOMS]) {
        if bedrooms > rooms {
            errors.push((Reason::BedroomsExceedRooms, String::new()));
        }
    }
    match category {
        Some(category) if errors.is_empty() => Ok(Record { numeric, category }),
        _ => Err(errors),
    }
}

/// The key of [`BedroomFills::values`]' whole-file median, used when a group
/// has no value to give.
pub const FALLBACK_GROUP: &str = "*";

/// The values a missing `total_bedrooms` is filled with: a model's training
/// dataset's medians by `ocean_proximity` group, and [`FALLBACK_GROUP`] over
/// all rows (`report.json`'s `imputations.total_bedrooms.values`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BedroomFills {
    pub values: BTreeMap<String, f64>,
}

impl BedroomFills {
    /// The record's model inputs, bedrooms imputed as the ETL imputes them; `None`
    /// when it needs a value the training dataset did not have.
    pub fn inputs(&self, record: &Record) -> Option<Inputs> {
        let mut numeric = [0.0; INPUTS];
        for (slot, value) in numeric.iter_mut().zip(record.numeric) {
            *slot = value.unwrap_or(f64::NAN);
        }
        if numeric[BEDROOMS].is_nan() {
            let group = OCEAN_PROXIMITY_CATEGORIES[record.category];
            let fill = self
                .values
                .get(group)
                .or_else(|| self.values.get(FALLBACK_GROUP))?;
            numeric[BEDROOMS] = imputed_bedrooms(*fill, numeric[ROOMS]);
        }
        Some(Inputs {
            numeric,
            category: record.category,
        })
    }
}
