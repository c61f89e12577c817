//! A column's profile: what a drift check keeps of a dataset instead of its
//! rows, and how two profiles are compared.
//!
//! A numeric column keeps its count, nulls, min/max/mean/std, its quantiles at
//! every percent (0 % … 100 %, linear interpolation as numpy's default) and a
//! histogram on fixed edges taken from the column itself (its deciles, equal
//! ones merged). A category column keeps each category's count.
//!
//! Two numeric profiles are compared on the **baseline's** bins: both sides'
//! shares of those bins come from their quantiles (the piecewise-linear
//! distribution function they describe), so a profile compared with itself
//! scores exactly zero and no rows are needed; KS comes from the quantiles too.

use super::measures::{self, js_distance, ks_from_quantiles, psi};
use crate::dataset::DatasetId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `profile.json`'s `schema_version`.
pub const PROFILE_SCHEMA_VERSION: u32 = 1;

/// `profile.json`: what a drift check keeps of a dataset. Its kept rows (every
/// split; quarantined and duplicate rows are not data) as the model sees them
/// (a missing `total_bedrooms` imputed), the label and the ratio features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    pub schema_version: u32,
    pub dataset_id: DatasetId,
    pub rows: u64,
    /// Column name → profile: the contract's numeric columns and the ratios.
    pub numeric: BTreeMap<String, NumericProfile>,
    /// `ocean_proximity` → its categories.
    pub categories: BTreeMap<String, CategoryProfile>,
}

impl DatasetProfile {
    /// A `profile.json` read back, checked: its schema version, and in every
    /// column what the comparisons rely on (101 sorted finite quantiles, or none
    /// for a column without values; finite increasing edges; one count per bin,
    /// adding up). `Err` lists every problem: a hand-edited or truncated file, or
    /// one from another version, is refused here instead of panicking in a
    /// comparison.
    pub fn from_json(bytes: &[u8]) -> Result<DatasetProfile, String> {
        let profile: DatasetProfile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let problems = profile.problems();
        if problems.is_empty() {
            Ok(profile)
        } else {
            Err(problems.join("; "))
        }
    }

    /// Every inconsistency of this profile (empty: it can be compared).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.schema_version != PROFILE_SCHEMA_VERSION {
            problems.push(format!(
                "schema_version {} is not {PROFILE_SCHEMA_VERSION}",
                self.schema_version
            ));
        }
        for (name, column) in &self.numeric {
            problems.extend(
                column
                    .problems()
                    .into_iter()
                    .map(|p| format!("{name}: {p}")),
            );
        }
        for (name, column) in &self.categories {
            let total: u64 = column.frequencies.values().sum();
            if total != column.count {
                problems.push(format!(
                    "{name}: frequencies add up to {total}, not count {}",
                    column.count
                ));
            }
        }
        problems
    }
}

/// Quantiles are kept at every percent: 101 of them.
pub const QUANTILE_STEPS: usize = 100;
/// The histogram's bins: deciles of the column, before equal edges merge.
pub const BINS: usize = 10;

/// The probabilities the quantiles are kept at: 0, 0.01, …, 1.
pub fn probabilities() -> Vec<f64> {
    (0..=QUANTILE_STEPS)
        .map(|i| i as f64 / QUANTILE_STEPS as f64)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// Values present (not null, not NaN).
    pub count: u64,
    pub nulls: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Population standard deviation.
    pub std: Option<f64>,
    /// At [`probabilities`]; empty when there are no values.
    pub quantiles: Vec<f64>,
    /// The bins' inner edges, increasing: bin 0 is `v ≤ edges[0]`, bin `i` is
    /// `edges[i-1] < v ≤ edges[i]`, the last is `v > edges[last]`.
    pub edges: Vec<f64>,
    /// Values in each bin (`edges.len() + 1` of them).
    pub counts: Vec<u64>,
}

/// The quantile of sorted `values` at probability `p` (numpy's "linear").
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Which bin of `edges` a value falls in.
pub fn bin_of(edges: &[f64], value: f64) -> usize {
    edges.partition_point(|&e| e < value)
}

impl NumericProfile {
    /// The profile of a column's values (`None` and NaN are nulls).
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> NumericProfile {
        let mut nulls = 0u64;
        let mut sorted: Vec<f64> = values
            .into_iter()
            .filter_map(|v| {
                let v = v.filter(|v| !v.is_nan());
                nulls += u64::from(v.is_none());
                v
            })
            .collect();
        // A radix sort orders floats as `f64::total_cmp` does (-0.0 before 0.0), and
        // values equal under that order are the same bits: the result is exactly a
        // comparison sort's, in linear time.
        radsort::sort(&mut sorted);
        if sorted.is_empty() {
            return NumericProfile {
                count: 0,
                nulls,
                min: None,
                max: None,
                mean: None,
                std: None,
                quantiles: Vec::new(),
                edges: Vec::new(),
                counts: vec![0],
            };
        }
        let n = sorted.len() as f64;
        let mean = sorted.iter().sum::<f64>() / n;
        let std = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let quantiles: Vec<f64> = probabilities()
            .iter()
            .map(|&p| quantile(&sorted, p))
            .collect();
        let mut edges: Vec<f64> = (1..BINS)
            .map(|i| quantiles[i * QUANTILE_STEPS / BINS])
            .collect();
        edges.dedup();
        // The values are sorted: each bin ends where the first value above its edge is.
        let mut counts = Vec::with_capacity(edges.len() + 1);
        let mut start = 0;
        for &edge in &edges {
            let end = sorted.partition_point(|&v| v <= edge);
            counts.push((end - start) as u64);
            start = end;
        }
        counts.push((sorted.len() - start) as u64);
        NumericProfile {
            count: sorted.len() as u64,
            nulls,
            min: sorted.first().copied(),
            max: sorted.last().copied(),
            mean: Some(mean),
            std: Some(std),
            quantiles,
            edges,
            counts,
        }
    }

    /// Every inconsistency of this column's profile (see [`DatasetProfile::from_json`]).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let finite = |v: &f64| v.is_finite();
        let increasing = |v: &[f64], strict: bool| {
            v.windows(2)
                .all(|w| if strict { w[0] < w[1] } else { w[0] <= w[1] })
        };
        let expected = if self.count == 0 {
            0
        } else {
            QUANTILE_STEPS + 1
        };
        if self.quantiles.len() != expected {
            problems.push(format!(
                "{} quantiles for {} values (expected {expected})",
                self.quantiles.len(),
                self.count
            ));
        }
        if !self.quantiles.iter().all(finite) || !increasing(&self.quantiles, false) {
            problems.push("quantiles are not finite and sorted".into());
        }
        if !self.edges.iter().all(finite) || !increasing(&self.edges, true) {
            problems.push("edges are not finite and increasing".into());
        }
        if self.counts.len() != self.edges.len() + 1 {
            problems.push(format!(
                "{} counts for {} edges",
                self.counts.len(),
                self.edges.len()
            ));
        } else if self.counts.iter().sum::<u64>() != self.count {
            problems.push(format!("counts do not add up to count {}", self.count));
        }
        let stats = [self.min, self.max, self.mean, self.std];
        if stats.iter().flatten().any(|v| !v.is_finite()) {
            problems.push("min, max, mean or std is not finite".into());
        }
        problems
    }

    /// This profile's shares of the bins that `edges` make, from its quantiles.
    pub fn shares_on(&self, edges: &[f64]) -> Vec<f64> {
        if self.quantiles.is_empty() {
            return vec![0.0; edges.len() + 1];
        }
        let p = probabilities();
        let below = |x: f64| measures::quantile_cdf(&self.quantiles, &p, x, false);
        let mut shares = Vec::with_capacity(edges.len() + 1);
        let mut previous = 0.0;
        for &e in edges {
            let at = below(e);
            shares.push(at - previous);
            previous = at;
        }
        shares.push(1.0 - previous);
        shares
    }
}

/// How far a column has moved from its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub psi: f64,
    pub js: f64,
    /// Numeric columns only.
    pub ks: Option<f64>,
}

/// A numeric column against its baseline, on the baseline's bins.
pub fn compare_numeric(baseline: &NumericProfile, current: &NumericProfile) -> Scores {
    let (expected, actual) = (
        baseline.shares_on(&baseline.edges),
        current.shares_on(&baseline.edges),
    );
    let ks = (!baseline.quantiles.is_empty() && !current.quantiles.is_empty())
        .then(|| ks_from_quantiles(&probabilities(), &baseline.quantiles, &current.quantiles));
    Scores {
        psi: psi(&expected, &actual),
        js: js_distance(&expected, &actual),
        ks,
    }
}

/// A category column: each category's count (nulls apart).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CategoryProfile {
    pub count: u64,
    pub nulls: u64,
    pub frequencies: BTreeMap<String, u64>,
}

impl CategoryProfile {
    pub fn of<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> CategoryProfile {
        let mut profile = CategoryProfile::default();
        for v in values {
            match v {
                Some(v) => {
                    profile.count += 1;
                    *profile.frequencies.entry(v.to_string()).or_default() += 1;
                }
                None => profile.nulls += 1,
            }
        }
        profile
    }
}

/// A category column against its baseline, over every category either side has.
pub fn compare_categories(baseline: &CategoryProfile, current: &CategoryProfile) -> Scores {
    let mut categories: Vec<&String> = baseline
        .frequencies
        .keys()
        .chain(current.frequencies.keys())
        .collect();
    categories.sort();
    categories.dedup();
    let counts = |p: &CategoryProfile| -> Vec<f64> {
        categories
            .iter()
            .map(|c| p.frequencies.get(*c).copied().unwrap_or(0) as f64)
            .collect()
    };
    let (expected, actual) = (counts(baseline), counts(current));
    Scores {
        psi: psi(&expected, &actual),
        js: js_distance(&expected, &actual),
        ks: None,
    }
}

#[cfg(test)]
mod tests;
