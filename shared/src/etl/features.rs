//! The engineered features as frame columns: the row-level feature function
//! ([`crate::features::features`]) applied to every kept row of a batch, so the
//! ETL's features and those the predictions send are the same computation.

use super::rows::KeptRows;
use crate::contract::OCEAN_PROXIMITY_CATEGORIES;
use crate::features::{features, one_hot_column, Inputs, FEATURES, INPUTS, RATIO_FEATURES};
use polars::prelude::*;
use std::ops::Range;

/// The ratio and one-hot columns of the kept rows in `range` (cleaned: imputed,
/// no missing values). Every category gets its one-hot column, present in the
/// data or not, so the schema never depends on the batch.
pub fn feature_columns(kept: &KeptRows, range: Range<usize>) -> Vec<Column> {
    let height = range.len();
    let mut ratios: [Vec<f64>; RATIO_FEATURES.len()] =
        std::array::from_fn(|_| Vec::with_capacity(height));
    let mut one_hots: [Vec<i32>; OCEAN_PROXIMITY_CATEGORIES.len()] =
        std::array::from_fn(|_| Vec::with_capacity(height));
    for row in range {
        let inputs = Inputs {
            numeric: std::array::from_fn(|i| kept.numeric[i][row]),
            category: kept.category[row] as usize,
        };
        let row = features(&inputs);
        for (column, value) in ratios.iter_mut().zip(&row[INPUTS..]) {
            column.push(*value);
        }
        for (column, value) in one_hots
            .iter_mut()
            .zip(&row[FEATURES - OCEAN_PROXIMITY_CATEGORIES.len()..])
        {
            column.push(*value as i32);
        }
    }
    let ratios = RATIO_FEATURES
        .iter()
        .zip(ratios)
        .map(|(name, values)| Column::new((*name).into(), values));
    let one_hots = OCEAN_PROXIMITY_CATEGORIES
        .iter()
        .zip(one_hots)
        .map(|(category, values)| Column::new(one_hot_column(category).into(), values));
    ratios.chain(one_hots).collect()
}
