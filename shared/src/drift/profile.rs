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
mod tests {
    use super::*;

    fn values(n: usize, f: impl Fn(f64) -> f64) -> Vec<Option<f64>> {
        (0..n).map(|i| Some(f(i as f64 / n as f64))).collect()
    }

    /// The radix sort gives a comparison sort's (`total_cmp`) order, bit for bit: signed
    /// zeros, subnormals, infinities, ties, and both signs of every magnitude.
    #[test]
    fn the_radix_sort_is_total_cmp_order() {
        let mut values: Vec<f64> = (0..20_000u64)
            .map(|i| {
                let x = ((i * 2_654_435_761) % 10_007) as f64 / 37.0 - 135.0;
                if i % 7 == 0 {
                    x.round()
                } else {
                    x
                }
            })
            .collect();
        values.extend([
            0.0,
            -0.0,
            f64::MIN_POSITIVE / 4.0,
            -f64::MIN_POSITIVE / 4.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            -0.0,
            0.0,
        ]);
        let mut radix = values.clone();
        radsort::sort(&mut radix);
        values.sort_by(f64::total_cmp);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&radix), bits(&values));
    }

    #[test]
    fn a_profile_read_back_is_checked_before_anything_compares_it() {
        let column = NumericProfile::of(values(500, |x| x * 2.0));
        let good = DatasetProfile {
            schema_version: PROFILE_SCHEMA_VERSION,
            dataset_id: "ds-8a3727f4cf54ac1a327f69b1d5b4db54".parse().unwrap(),
            rows: 500,
            numeric: BTreeMap::from([("x".to_string(), column.clone())]),
            categories: BTreeMap::from([(
                "ocean_proximity".to_string(),
                CategoryProfile::of([Some("INLAND"), None]),
            )]),
        };
        let json = serde_json::to_vec(&good).unwrap();
        assert_eq!(DatasetProfile::from_json(&json), Ok(good.clone()));
        // An empty column is fine: no values, no quantiles.
        let mut empty = good.clone();
        empty
            .numeric
            .insert("none".into(), NumericProfile::of([None, None]));
        assert!(empty.problems().is_empty(), "{:?}", empty.problems());

        let broken = |edit: fn(&mut DatasetProfile)| {
            let mut p = good.clone();
            edit(&mut p);
            // Non-finite numbers cannot come through JSON (serde_json writes them as
            // null, which does not read back as a number): checked on the value.
            p.problems().join("; ")
        };
        fn x(p: &mut DatasetProfile) -> &mut NumericProfile {
            p.numeric.get_mut("x").unwrap()
        }
        for (problem, expected) in [
            (
                broken(|p| p.schema_version = 2),
                "schema_version 2 is not 1",
            ),
            (
                broken(|p| {
                    x(p).quantiles.truncate(11);
                }),
                "x: 11 quantiles for 500 values (expected 101)",
            ),
            (
                broken(|p| x(p).quantiles.swap(3, 90)),
                "x: quantiles are not finite and sorted",
            ),
            (
                broken(|p| x(p).edges[2] = f64::INFINITY),
                "x: edges are not finite and increasing",
            ),
            (
                broken(|p| {
                    x(p).counts.pop();
                }),
                "counts for",
            ),
            (
                broken(|p| x(p).counts[0] += 1),
                "x: counts do not add up to count 500",
            ),
            (
                broken(|p| x(p).mean = Some(f64::NAN)),
                "x: min, max, mean or std is not finite",
            ),
            (
                broken(|p| p.categories.get_mut("ocean_proximity").unwrap().count = 7),
                "ocean_proximity: frequencies add up to 1, not count 7",
            ),
        ] {
            assert!(problem.contains(expected), "{problem:?} lacks {expected:?}");
        }
        assert!(DatasetProfile::from_json(b"{\"schema_version\": 1").is_err());
        let mut short = good.clone();
        x(&mut short).quantiles.truncate(11);
        let refused = DatasetProfile::from_json(&serde_json::to_vec(&short).unwrap());
        assert_eq!(
            refused,
            Err("x: 11 quantiles for 500 values (expected 101)".into())
        );
    }

    #[test]
    fn the_profile_of_a_column() {
        let p = NumericProfile::of([
            Some(4.0),
            None,
            Some(1.0),
            Some(f64::NAN),
            Some(3.0),
            Some(2.0),
        ]);
        assert_eq!((p.count, p.nulls), (4, 2));
        assert_eq!((p.min, p.max, p.mean), (Some(1.0), Some(4.0), Some(2.5)));
        assert_eq!(p.std, Some(1.25f64.sqrt()));
        assert_eq!(p.quantiles.len(), 101);
        // numpy.quantile([1, 2, 3, 4], 0.25) = 1.75; the median 2.5.
        assert_eq!((p.quantiles[25], p.quantiles[50]), (1.75, 2.5));
        assert_eq!(p.counts.iter().sum::<u64>(), 4);
        assert_eq!(p.counts.len(), p.edges.len() + 1);
    }

    #[test]
    fn equal_edges_merge_and_a_point_mass_keeps_its_bin() {
        // 80 % of the values are 52 (like the capped housing_median_age).
        let column: Vec<Option<f64>> = (0..100)
            .map(|i| Some(if i < 80 { 52.0 } else { i as f64 }))
            .collect();
        let p = NumericProfile::of(column);
        let mut sorted = p.edges.clone();
        sorted.dedup();
        assert_eq!(sorted, p.edges);
        assert!(p.edges.len() < BINS - 1, "{:?}", p.edges);
        assert_eq!(p.counts[bin_of(&p.edges, 52.0)], 80);
        assert_eq!(p.counts.iter().sum::<u64>(), 100);
    }

    #[test]
    fn a_profile_compared_with_itself_scores_zero() {
        let p = NumericProfile::of(values(1000, |x| x * x * 100.0));
        assert_eq!(
            compare_numeric(&p, &p),
            Scores {
                psi: 0.0,
                js: 0.0,
                ks: Some(0.0)
            }
        );
        let c = CategoryProfile::of(["a", "b", "b", "c"].map(Some));
        assert_eq!(
            compare_categories(&c, &c),
            Scores {
                psi: 0.0,
                js: 0.0,
                ks: None
            }
        );
    }

    #[test]
    fn a_shift_scores_more_than_a_resample() {
        let base = NumericProfile::of(values(2000, |x| x * 10.0));
        let resample = NumericProfile::of(values(1500, |x| x * 10.0));
        let shifted = NumericProfile::of(values(2000, |x| x * 10.0 + 3.0));
        let same = compare_numeric(&base, &resample);
        let moved = compare_numeric(&base, &shifted);
        assert!(
            same.psi < 0.01 && same.js < 0.05 && same.ks.unwrap() < 0.01,
            "{same:?}"
        );
        // Uniform on [0, 10] against [3, 13]: KS is 0.3.
        assert!((moved.ks.unwrap() - 0.3).abs() < 0.01, "{moved:?}");
        assert!(moved.psi > 0.25 && moved.js > same.js, "{moved:?}");
    }

    #[test]
    fn a_new_category_counts_as_drift() {
        let base = CategoryProfile::of(["a", "a", "b", "b"].map(Some));
        let now = CategoryProfile::of(["a", "b", "c", "c"].map(Some));
        let scores = compare_categories(&base, &now);
        assert!(scores.psi > 0.25 && scores.js > 0.3, "{scores:?}");
        assert_eq!(CategoryProfile::of([None, Some("a")]).nulls, 1);
    }
}
