//! Engineered features, added to a frame of cleaned contract columns: the ratios
//! and one one-hot column per category. The ETL is the only caller today.

use crate::contract::{
    HOUSEHOLDS, NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES, POPULATION, TARGET,
    TOTAL_BEDROOMS, TOTAL_ROOMS,
};
use polars::prelude::*;

pub const ROOMS_PER_HOUSEHOLD: &str = "rooms_per_household";
pub const BEDROOMS_PER_ROOM: &str = "bedrooms_per_room";
pub const POPULATION_PER_HOUSEHOLD: &str = "population_per_household";

pub const RATIO_FEATURES: [&str; 3] = [
    ROOMS_PER_HOUSEHOLD,
    BEDROOMS_PER_ROOM,
    POPULATION_PER_HOUSEHOLD,
];

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
    NUMERIC_COLUMNS
        .iter()
        .filter(|c| c.name != TARGET)
        .map(|c| c.name.to_string())
        .chain(RATIO_FEATURES.iter().map(|s| s.to_string()))
        .chain(OCEAN_PROXIMITY_CATEGORIES.iter().map(|c| one_hot_column(c)))
        .collect()
}

/// Adds every engineered feature. Expects cleaned contract columns (Float64, no
/// nulls; `households` and `total_rooms` ≥ 1, as the contract guarantees) and a
/// canonical `ocean_proximity`. Every category gets its one-hot column, present in
/// the data or not, so the schema never depends on the batch.
pub fn add_features(frame: &mut DataFrame) -> PolarsResult<()> {
    let ratio = |frame: &DataFrame, a: &str, b: &str, name: &str| -> PolarsResult<Column> {
        let quotient = frame.column(a)?.f64()? / frame.column(b)?.f64()?;
        Ok(quotient.with_name(name.into()).into_column())
    };
    let mut features = vec![
        ratio(frame, TOTAL_ROOMS, HOUSEHOLDS, ROOMS_PER_HOUSEHOLD)?,
        ratio(frame, TOTAL_BEDROOMS, TOTAL_ROOMS, BEDROOMS_PER_ROOM)?,
        ratio(frame, POPULATION, HOUSEHOLDS, POPULATION_PER_HOUSEHOLD)?,
    ];
    let category = frame.column(OCEAN_PROXIMITY)?.str()?;
    for c in OCEAN_PROXIMITY_CATEGORIES {
        let one_hot: Int32Chunked = category
            .iter()
            .map(|v| Some(i32::from(v == Some(c))))
            .collect();
        features.push(one_hot.with_name(one_hot_column(c).into()).into_column());
    }
    for feature in features {
        frame.with_column(feature)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_one_row() {
        let row = df!(
            "longitude" => [-122.23], "latitude" => [37.88], "housing_median_age" => [41.0],
            "total_rooms" => [880.0], "total_bedrooms" => [129.0], "population" => [322.0],
            "households" => [126.0], "median_income" => [8.3252], "median_house_value" => [452600.0],
            "ocean_proximity" => ["NEAR BAY"]
        )
        .unwrap();
        let mut out = row;
        add_features(&mut out).unwrap();
        let get = |c: &str| {
            out.column(c)
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap()
        };
        assert!((get(ROOMS_PER_HOUSEHOLD) - 880.0 / 126.0).abs() < 1e-12);
        assert!((get(BEDROOMS_PER_ROOM) - 129.0 / 880.0).abs() < 1e-12);
        assert!((get(POPULATION_PER_HOUSEHOLD) - 322.0 / 126.0).abs() < 1e-12);
        assert_eq!(get("ocean_proximity_near_bay"), 1.0);
        assert_eq!(get("ocean_proximity_inland"), 0.0);
        assert_eq!(get("ocean_proximity_lt_1h_ocean"), 0.0);
        for f in model_features() {
            assert!(out.column(&f).is_ok(), "missing model feature {f}");
        }
        assert_eq!(model_features().len(), 8 + 3 + 5);
    }
}
