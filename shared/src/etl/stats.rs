//! Per-column statistics for the report, computed by Polars in one pass.

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

fn name(column: &str, stat: &str) -> String {
    format!("{column}\u{1f}{stat}")
}

/// min, max, mean, null count and quantiles of each named column.
pub fn column_stats(
    frame: &DataFrame,
    columns: &[String],
) -> PolarsResult<BTreeMap<String, ColumnStats>> {
    let mut exprs = Vec::new();
    for c in columns {
        let c = c.as_str();
        let x = || col(c).cast(DataType::Float64);
        exprs.push(x().min().alias(name(c, "min")));
        exprs.push(x().max().alias(name(c, "max")));
        exprs.push(x().mean().alias(name(c, "mean")));
        exprs.push(
            x().null_count()
                .cast(DataType::Float64)
                .alias(name(c, "null_count")),
        );
        for (q, p) in QUANTILES {
            exprs.push(
                x().quantile(lit(p), QuantileMethod::Linear)
                    .alias(name(c, q)),
            );
        }
    }
    let row = frame.clone().lazy().select(exprs).collect()?;
    let get = |c: &str, stat: &str| -> PolarsResult<Option<f64>> {
        Ok(row
            .column(&name(c, stat))?
            .cast(&DataType::Float64)?
            .f64()?
            .get(0))
    };
    let mut out = BTreeMap::new();
    for c in columns {
        let quantiles = QUANTILES
            .iter()
            .map(|(q, _)| Ok((q.to_string(), get(c, q)?)))
            .collect::<PolarsResult<_>>()?;
        out.insert(
            c.clone(),
            ColumnStats {
                min: get(c, "min")?,
                max: get(c, "max")?,
                mean: get(c, "mean")?,
                null_count: get(c, "null_count")?.unwrap_or(0.0) as u64,
                quantiles,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_small_column() {
        let frame = df!("x" => [Some(1.0), Some(2.0), None, Some(4.0), Some(3.0)]).unwrap();
        let stats = column_stats(&frame, &["x".to_string()]).unwrap();
        let x = &stats["x"];
        assert_eq!(x.min, Some(1.0));
        assert_eq!(x.max, Some(4.0));
        assert_eq!(x.mean, Some(2.5));
        assert_eq!(x.null_count, 1);
        assert_eq!(x.quantiles["p50"], Some(2.5));
        assert_eq!(x.quantiles["p25"], Some(1.75));
    }
}
