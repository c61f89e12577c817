//! Per-column statistics for the report, computed by Polars: one sort per column
//! gives every quantile.

use crate::report::ColumnStats;
use polars::prelude::*;

const QUANTILES: [(&str, f64); 5] = [
    ("p05", 0.05),
    ("p25", 0.25),
    ("p50", 0.5),
    ("p75", 0.75),
    ("p95", 0.95),
];

/// min, max, mean, missing count and quantiles of one column; NaN is missing.
pub fn column_stats(values: &[f64]) -> PolarsResult<ColumnStats> {
    let column: Float64Chunked = values.iter().map(|v| (!v.is_nan()).then_some(*v)).collect();
    let probabilities = QUANTILES.map(|(_, p)| p);
    let quantiles = column.quantiles(&probabilities, QuantileMethod::Linear)?;
    Ok(ColumnStats {
        min: column.min(),
        max: column.max(),
        mean: column.mean(),
        null_count: column.null_count() as u64,
        quantiles: QUANTILES
            .iter()
            .zip(quantiles)
            .map(|((name, _), q)| (name.to_string(), q))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_small_column() {
        let x = column_stats(&[1.0, 2.0, f64::NAN, 4.0, 3.0]).unwrap();
        assert_eq!(x.min, Some(1.0));
        assert_eq!(x.max, Some(4.0));
        assert_eq!(x.mean, Some(2.5));
        assert_eq!(x.null_count, 1);
        assert_eq!(x.quantiles["p50"], Some(2.5));
        assert_eq!(x.quantiles["p25"], Some(1.75));
        assert!((x.quantiles["p95"].unwrap() - 3.85).abs() < 1e-12);
    }
}
