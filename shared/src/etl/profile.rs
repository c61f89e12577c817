//! The dataset's drift profile (`profile.json`) and the report's column
//! statistics, profiled in two passes so the kept rows' columns and the ratio
//! features' columns are never in memory together: the contract columns from
//! the kept rows before the batches are written, the ratio features from the
//! values the batches made.

use super::rows::KeptRows;
use super::stats::columns_stats;
use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES};
use crate::dataset::DatasetId;
use crate::drift::profile::{
    CategoryProfile, DatasetProfile, NumericProfile, PROFILE_SCHEMA_VERSION,
};
use crate::features::RATIO_FEATURES;
use crate::report::ColumnStats;
use polars::prelude::PolarsResult;
use std::collections::BTreeMap;

/// The columns profiled so far.
pub struct Profiler {
    statistics: BTreeMap<String, ColumnStats>,
    numeric: BTreeMap<String, NumericProfile>,
    category: CategoryProfile,
}

impl Profiler {
    /// The contract's numeric columns and `ocean_proximity`, from the kept rows.
    pub fn of_kept(kept: &KeptRows) -> PolarsResult<Self> {
        let mut profiler = Profiler {
            statistics: BTreeMap::new(),
            numeric: BTreeMap::new(),
            category: CategoryProfile::of(
                kept.category
                    .iter()
                    .map(|c| Some(OCEAN_PROXIMITY_CATEGORIES[*c as usize])),
            ),
        };
        let named: Vec<(&str, &[f64])> = NUMERIC_COLUMNS
            .iter()
            .map(|c| c.name)
            .zip(kept.numeric.iter().map(Vec::as_slice))
            .collect();
        profiler.add(&named)?;
        Ok(profiler)
    }

    /// The ratio features, from every kept row's values (freed as they are profiled).
    pub fn add_ratios(&mut self, ratios: [Vec<f64>; RATIO_FEATURES.len()]) -> PolarsResult<()> {
        let named: Vec<(&str, &[f64])> = RATIO_FEATURES
            .into_iter()
            .zip(ratios.iter().map(Vec::as_slice))
            .collect();
        self.add(&named)
    }

    fn add(&mut self, named: &[(&str, &[f64])]) -> PolarsResult<()> {
        for (name, (stats, profile)) in columns_stats(named)? {
            self.statistics.insert(name.clone(), stats);
            self.numeric.insert(name, profile);
        }
        Ok(())
    }

    /// The report's column statistics and the dataset's profile of `rows` rows.
    pub fn finish(
        self,
        dataset_id: DatasetId,
        rows: u64,
    ) -> (BTreeMap<String, ColumnStats>, DatasetProfile) {
        let profile = DatasetProfile {
            schema_version: PROFILE_SCHEMA_VERSION,
            dataset_id,
            rows,
            numeric: self.numeric,
            categories: BTreeMap::from([(OCEAN_PROXIMITY.to_string(), self.category)]),
        };
        (self.statistics, profile)
    }
}
