//! Per-column statistics: the report's (min, max and mean by Polars, five
//! quantiles) and the drift profile's, from one sort of the column; the columns
//! shared out over the cores.

use crate::drift::profile::NumericProfile;
use crate::report::ColumnStats;
use polars::prelude::*;
use std::collections::BTreeMap;

/// The report's quantiles, by name and percent (an index of the profile's).
const QUANTILES: [(&str, usize); 5] = [
    ("p05", 5),
    ("p25", 25),
    ("p50", 50),
    ("p75", 75),
    ("p95", 95),
];

/// The report's statistics and the drift profile of one column; NaN is missing.
/// The profile's quantiles are Polars' `QuantileMethod::Linear` ones exactly,
/// so the report's are read off them.
pub fn column_stats(values: &[f64]) -> PolarsResult<(ColumnStats, NumericProfile)> {
    let profile = NumericProfile::of(values.iter().map(|v| Some(*v)));
    let present = Float64Chunked::from_iter_values(
        PlSmallStr::EMPTY,
        values.iter().copied().filter(|v| !v.is_nan()),
    );
    let stats = ColumnStats {
        min: profile.min,
        max: profile.max,
        mean: present.mean(),
        null_count: profile.nulls,
        quantiles: QUANTILES
            .iter()
            .map(|(name, percent)| (name.to_string(), profile.quantiles.get(*percent).copied()))
            .collect(),
    };
    Ok((stats, profile))
}

/// [`column_stats`] of every named column, a share of the columns per core.
pub fn columns_stats(
    columns: &[(&str, &[f64])],
) -> PolarsResult<BTreeMap<String, (ColumnStats, NumericProfile)>> {
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
        let (x, profile) = column_stats(&[1.0, 2.0, f64::NAN, 4.0, 3.0]).unwrap();
        assert_eq!(x.min, Some(1.0));
        assert_eq!(x.max, Some(4.0));
        assert_eq!(x.mean, Some(2.5));
        assert_eq!(x.null_count, 1);
        assert_eq!((profile.count, profile.nulls), (4, 1));
        assert_eq!(x.quantiles["p50"], Some(2.5));
        assert_eq!(x.quantiles["p25"], Some(1.75));
        assert!((x.quantiles["p95"].unwrap() - 3.85).abs() < 1e-12);
        let a = [3.0, 1.0, 2.0];
        let all =
            columns_stats(&[("x", &[1.0, 2.0, f64::NAN, 4.0, 3.0]), ("a", &a), ("b", &a)]).unwrap();
        assert_eq!(all["x"].0, x);
        assert_eq!(all["a"], all["b"]);
        assert_eq!(all["a"].0.quantiles["p50"], Some(2.0));
        let (empty, _) = column_stats(&[f64::NAN]).unwrap();
        assert_eq!((empty.min, empty.quantiles["p50"]), (None, None));
    }

    #[test]
    fn quantiles_are_polars_linear_quantiles_exactly() {
        let probabilities: Vec<f64> = (0..=100).map(|i| i as f64 / 100.0).collect();
        // Scrambled order, many ties (beyond 1,009 values), negative values, odd and
        // even lengths, one value.
        for n in [1usize, 2, 3, 10, 101, 1_000, 65_536] {
            let values: Vec<f64> = (0..n)
                .map(|i| (i * 7_919 % 1_009) as f64 / 8.0 - 100.0)
                .collect();
            let polars: Vec<f64> = Float64Chunked::from_slice(PlSmallStr::EMPTY, &values)
                .quantiles(&probabilities, QuantileMethod::Linear)
                .unwrap()
                .into_iter()
                .map(Option::unwrap)
                .collect();
            let (stats, profile) = column_stats(&values).unwrap();
            assert_eq!(profile.quantiles, polars, "{n} values");
            for (name, percent) in QUANTILES {
                assert_eq!(stats.quantiles[name], Some(polars[percent]), "{n} {name}");
            }
        }
    }
}
