//! Cleaning the kept rows: missing `total_bedrooms` imputed from the median of the
//! row's `ocean_proximity` group (Polars computes the medians), never above the
//! row's `total_rooms`. Census top-codes are flagged when the frame is built.

use super::rows::{KeptRows, BEDROOMS, ROOMS};
use crate::contract::OCEAN_PROXIMITY_CATEGORIES;
use crate::features::imputed_bedrooms;
use crate::report::{Imputation, FALLBACK_GROUP};
use polars::prelude::*;
use std::collections::BTreeMap;

/// The group median, but never more bedrooms than the row has rooms
/// ([`imputed_bedrooms`], which the predictions apply too).
pub const IMPUTATION_STRATEGY: &str = "median_by_ocean_proximity_capped_at_total_rooms";

fn median(values: Vec<f64>) -> Option<f64> {
    Float64Chunked::from_vec(PlSmallStr::EMPTY, values).median()
}

/// Fills every missing `total_bedrooms` in place. Returns which rows were imputed
/// and the medians used.
pub fn impute(kept: &mut KeptRows) -> (Vec<bool>, Imputation) {
    let mut donors: [Vec<f64>; OCEAN_PROXIMITY_CATEGORIES.len()] = Default::default();
    let mut imputed = Vec::with_capacity(kept.len());
    for (value, category) in kept.numeric[BEDROOMS].iter().zip(&kept.category) {
        imputed.push(value.is_nan());
        if !value.is_nan() {
            donors[*category as usize].push(*value);
        }
    }
    let count = imputed.iter().filter(|i| **i).count() as u64;
    let overall = median(donors.concat());
    let group_median = donors.map(median);
    let mut values: BTreeMap<String, f64> = OCEAN_PROXIMITY_CATEGORIES
        .iter()
        .zip(group_median)
        .filter_map(|(c, m)| Some((c.to_string(), m?)))
        .collect();
    if let Some(m) = overall {
        values.insert(FALLBACK_GROUP.to_string(), m);
    }
    if count > 0 {
        let (before, after) = kept.numeric.split_at_mut(BEDROOMS);
        let rooms = &before[ROOMS];
        for ((bedrooms, rooms), category) in after[0].iter_mut().zip(rooms).zip(&kept.category) {
            if bedrooms.is_nan() {
                let fill = group_median[*category as usize]
                    .or(overall)
                    .unwrap_or(f64::NAN);
                *bedrooms = imputed_bedrooms(fill, *rooms);
            }
        }
    }
    let imputation = Imputation {
        strategy: IMPUTATION_STRATEGY.to_string(),
        count,
        values,
    };
    (imputed, imputation)
}
