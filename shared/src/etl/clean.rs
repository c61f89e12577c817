//! The kept rows as a Polars frame: missing `total_bedrooms` imputed from the
//! median of the row's `ocean_proximity` group, census top-codes flagged.

use super::rows::KeptRows;
use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, TOTAL_BEDROOMS, TOTAL_ROOMS};
use crate::report::Imputation;
use polars::prelude::*;
use std::collections::BTreeMap;

pub const SOURCE_LINE: &str = "source_line";
pub const SPLIT: &str = "split";
pub const BEDROOMS_IMPUTED: &str = "total_bedrooms_imputed";
/// The group median, but never more bedrooms than the row has rooms (the contract
/// quarantines such rows, so imputation must not create them).
pub const IMPUTATION_STRATEGY: &str = "median_by_ocean_proximity_capped_at_total_rooms";
/// The key of the whole-file median used when a group has no value to give.
pub const FALLBACK_GROUP: &str = "*";

/// The flag column of a capped numeric column, e.g. `median_house_value_capped`.
pub fn capped_flag(column: &str) -> String {
    format!("{column}_capped")
}

pub fn frame(kept: KeptRows) -> PolarsResult<DataFrame> {
    let height = kept.len();
    let mut columns: Vec<Column> = vec![
        Column::new(
            SOURCE_LINE.into(),
            kept.source_line
                .iter()
                .map(|l| *l as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            SPLIT.into(),
            kept.split.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ),
    ];
    for (spec, values) in NUMERIC_COLUMNS.iter().zip(kept.numeric) {
        columns.push(Column::new(spec.name.into(), values));
    }
    columns.push(Column::new(OCEAN_PROXIMITY.into(), kept.category));
    DataFrame::new(height, columns)
}

/// Fills missing `total_bedrooms` and adds the imputation and cap flags.
pub fn clean(frame: DataFrame) -> PolarsResult<(DataFrame, Imputation)> {
    let medians = frame
        .clone()
        .lazy()
        .group_by([col(OCEAN_PROXIMITY)])
        .agg([col(TOTAL_BEDROOMS).median()])
        .collect()?;
    let mut values = BTreeMap::new();
    let groups = medians.column(OCEAN_PROXIMITY)?.str()?.clone();
    let group_medians = medians.column(TOTAL_BEDROOMS)?.f64()?.clone();
    for (group, median) in groups.iter().zip(group_medians.iter()) {
        if let (Some(g), Some(m)) = (group, median) {
            values.insert(g.to_string(), m);
        }
    }
    let overall = frame
        .column(TOTAL_BEDROOMS)?
        .as_materialized_series()
        .median();
    if let Some(m) = overall {
        values.insert(FALLBACK_GROUP.to_string(), m);
    }

    let mut fill = lit(overall.unwrap_or(f64::NAN));
    for (group, median) in values.iter().filter(|(g, _)| g.as_str() != FALLBACK_GROUP) {
        fill = when(col(OCEAN_PROXIMITY).eq(lit(group.as_str())))
            .then(lit(*median))
            .otherwise(fill);
    }
    let mut exprs = vec![
        col(TOTAL_BEDROOMS).is_null().alias(BEDROOMS_IMPUTED),
        col(TOTAL_BEDROOMS)
            .fill_null(
                when(fill.clone().gt(col(TOTAL_ROOMS)))
                    .then(col(TOTAL_ROOMS))
                    .otherwise(fill),
            )
            .alias(TOTAL_BEDROOMS),
    ];
    for spec in NUMERIC_COLUMNS.iter() {
        if let Some(cap) = spec.cap {
            exprs.push(col(spec.name).gt_eq(lit(cap)).alias(capped_flag(spec.name)));
        }
    }
    let count = frame.column(TOTAL_BEDROOMS)?.null_count() as u64;
    let cleaned = frame.lazy().with_columns(exprs).collect()?;
    let imputation = Imputation {
        strategy: IMPUTATION_STRATEGY.to_string(),
        count,
        values,
    };
    Ok((cleaned, imputation))
}
