//! Per-column statistics for the report: min, max and mean by Polars, quantiles
//! by Polars' linear method computed with successive selections instead of a sort
//! (O(n) per quantile on a shrinking range), the columns shared out over the cores.

use crate::report::ColumnStats;
use polars::prelude::*;
use std::collections::BTreeMap;

/// Ascending: each quantile's selection starts where the previous one ended.
const QUANTILES: [(&str, f64); 5] = [
    ("p05", 0.05),
    ("p25", 0.25),
    ("p50", 0.5),
    ("p75", 0.75),
    ("p95", 0.95),
];

/// min, max, mean, missing count and quantiles of one column; NaN is missing.
pub fn column_stats(values: &[f64]) -> PolarsResult<ColumnStats> {
    let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let column = Float64Chunked::from_slice(PlSmallStr::EMPTY, &present);
    let quantiles = linear_quantiles(&mut present, &QUANTILES.map(|(_, p)| p));
    Ok(ColumnStats {
        min: column.min(),
        max: column.max(),
        mean: column.mean(),
        null_count: (values.len() - present.len()) as u64,
        quantiles: QUANTILES
            .iter()
            .zip(quantiles)
            .map(|((name, _), q)| (name.to_string(), q))
            .collect(),
    })
}

/// The quantiles of `values` (no NaN; reordered in place) at ascending
/// `probabilities`, exactly as Polars' `QuantileMethod::Linear` gives them: index
/// `(n - 1) * p`, interpolated between the values at its floor and the next.
fn linear_quantiles(values: &mut [f64], probabilities: &[f64]) -> Vec<Option<f64>> {
    debug_assert!(probabilities.is_sorted());
    let n = values.len();
    let mut from = 0; // values[..from] are at most every value in values[from..]
    probabilities
        .iter()
        .map(|p| {
            if n == 0 {
                return None;
            }
            let position = (n - 1) as f64 * p;
            let index = (position as usize).min(n - 1);
            let (_, lower, above) =
                values[from..].select_nth_unstable_by(index - from, f64::total_cmp);
            let lower = *lower;
            from = index;
            if position.ceil() as usize == index {
                return Some(lower);
            }
            let upper = above.iter().copied().min_by(f64::total_cmp)?;
            Some(if lower == upper {
                lower
            } else {
                (position - index as f64) * (upper - lower) + lower
            })
        })
        .collect()
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

    #[test]
    fn quantiles_are_polars_linear_quantiles_exactly() {
        let probabilities = QUANTILES.map(|(_, p)| p);
        // Scrambled order, many ties (beyond 1,009 values), negative values, odd and
        // even lengths, one value, none.
        for n in [0usize, 1, 2, 3, 10, 101, 1_000, 65_536] {
            let values: Vec<f64> = (0..n)
                .map(|i| (i * 7_919 % 1_009) as f64 / 8.0 - 100.0)
                .collect();
            let polars = Float64Chunked::from_slice(PlSmallStr::EMPTY, &values)
                .quantiles(&probabilities, QuantileMethod::Linear)
                .unwrap();
            let ours = linear_quantiles(&mut values.clone(), &probabilities);
            assert_eq!(ours, polars, "{n} values");
        }
    }
}
