//! Per-column statistics for the report, computed by Polars: one sort per column
//! gives every quantile, and the columns are shared out over the cores.

use crate::report::ColumnStats;
use polars::prelude::*;
use std::collections::BTreeMap;

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

/// [`column_stats`] of every named column, a share of the columns per core.
pub fn columns_stats(columns: &[(&str, &[f64])]) -> PolarsResult<BTreeMap<String, ColumnStats>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = columns.len().div_ceil(cores.max(1)).max(1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = columns
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(name, values)| Ok((name.to_string(), column_stats(values)?)))
                        .collect::<PolarsResult<Vec<_>>>()
                })
            })
            .collect();
        let mut out = BTreeMap::new();
        for thread in threads {
            let part = thread
                .join()
                .map_err(|_| polars_err!(ComputeError: "a statistics thread panicked"))??;
            out.extend(part);
        }
        Ok(out)
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
        let a = [3.0, 1.0, 2.0];
        let all =
            columns_stats(&[("x", &[1.0, 2.0, f64::NAN, 4.0, 3.0]), ("a", &a), ("b", &a)]).unwrap();
        assert_eq!(all["x"], x);
        assert_eq!(all["a"], all["b"]);
        assert_eq!(all["a"].quantiles["p50"], Some(2.0));
    }
}
