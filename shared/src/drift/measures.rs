//! How far apart two distributions are: the measures the drift checks use.
//!
//! - [`psi`]: the population stability index over the baseline's bins.
//! - [`js_distance`]: the Jensen–Shannon distance (base 2: 0 for the same
//!   distribution, 1 for disjoint ones), as `scipy.spatial.distance.jensenshannon(p, q, base=2)`.
//! - [`ks_exact`]: the two-sample Kolmogorov–Smirnov statistic from the values,
//!   as `scipy.stats.ks_2samp(a, b).statistic`.
//! - [`ks_from_quantiles`]: the same statistic between the two piecewise-linear
//!   distribution functions that two sets of stored quantiles describe (what a
//!   profile keeps instead of the values).
//!
//! Counts and frequencies are compared as proportions; every measure is 0 for a
//! distribution compared with itself.

/// The proportion a bin with no rows is given in [`psi`], so that its
/// logarithm is finite (a common choice; it caps one empty bin's term at about
/// `p · ln(p / 1e-4)`).
pub const PSI_EMPTY_BIN: f64 = 1e-4;

fn proportions(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    if total <= 0.0 {
        return vec![0.0; counts.len()];
    }
    counts.iter().map(|c| c / total).collect()
}

/// The population stability index of `actual` against `expected`, both counts
/// (or frequencies) over the same bins: `Σ (a − e) · ln(a / e)` over the
/// proportions, an empty bin counting as [`PSI_EMPTY_BIN`]. Rules of thumb:
/// below 0.1 stable, 0.1–0.25 a moderate shift, above 0.25 a large one.
///
/// Panics if the two have different numbers of bins (a caller's bug: both
/// sides are binned on the baseline's edges).
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    assert_eq!(expected.len(), actual.len(), "psi: different bins");
    let (e, a) = (proportions(expected), proportions(actual));
    e.iter()
        .zip(&a)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(PSI_EMPTY_BIN), a.max(PSI_EMPTY_BIN));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// The Jensen–Shannon distance (square root of the divergence, base 2) between
/// two distributions given as counts or frequencies over the same bins.
pub fn js_distance(p: &[f64], q: &[f64]) -> f64 {
    assert_eq!(p.len(), q.len(), "js_distance: different bins");
    let (p, q) = (proportions(p), proportions(q));
    let kl_to_mixture = |x: &[f64]| -> f64 {
        x.iter()
            .zip(p.iter().zip(&q))
            .filter(|(&xi, _)| xi > 0.0)
            .map(|(&xi, (&pi, &qi))| xi * (xi / ((pi + qi) / 2.0)).log2())
            .sum()
    };
    let divergence = (kl_to_mixture(&p) + kl_to_mixture(&q)) / 2.0;
    // Rounding can leave a divergence of -0.0…01 for identical inputs.
    divergence.max(0.0).sqrt()
}

/// The two-sample Kolmogorov–Smirnov statistic: the largest distance between
/// the empirical distribution functions of `a` and `b`. NaNs are ignored; an
/// empty side gives 0.
pub fn ks_exact(a: &[f64], b: &[f64]) -> f64 {
    let sorted = |x: &[f64]| {
        let mut v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        // Step past every copy of the smallest value on both sides before comparing:
        // the distribution functions jump at a tied value together.
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// The distribution function that quantiles `q` at probabilities `p`
/// describe, at `x` (`left`: its limit from the left, where a run of equal
/// quantiles makes it jump).
pub(crate) fn quantile_cdf(q: &[f64], p: &[f64], x: f64, left: bool) -> f64 {
    // k: how many quantiles are below x (or at most x, from the right).
    let k = if left {
        q.partition_point(|&v| v < x)
    } else {
        q.partition_point(|&v| v <= x)
    };
    if k == 0 {
        return 0.0;
    }
    if k == q.len() {
        return 1.0;
    }
    // q[k-1] < x <= q[k] from the left, q[k-1] <= x < q[k] from the right:
    // inside the segment, whose ends differ.
    let (q0, q1, p0, p1) = (q[k - 1], q[k], p[k - 1], p[k]);
    p0 + (x - q0) / (q1 - q0) * (p1 - p0)
}

/// The Kolmogorov–Smirnov statistic between the piecewise-linear distribution
/// functions described by quantiles `qa` and `qb` (non-decreasing) at the
/// probabilities `probabilities` (increasing, from 0 to 1, shared by both).
/// The difference of two piecewise-linear functions is largest at one of
/// their knots, so the knots (from both sides of each jump) are all it looks at.
pub fn ks_from_quantiles(probabilities: &[f64], qa: &[f64], qb: &[f64]) -> f64 {
    assert!(
        probabilities.len() == qa.len() && qa.len() == qb.len(),
        "ks_from_quantiles: different lengths"
    );
    if qa.is_empty() {
        return 0.0;
    }
    qa.iter()
        .chain(qb)
        .flat_map(|&x| [false, true].map(|left| (x, left)))
        .map(|(x, left)| {
            (quantile_cdf(qa, probabilities, x, left) - quantile_cdf(qb, probabilities, x, left))
                .abs()
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn a_distribution_compared_with_itself_scores_zero() {
        let counts = [12.0, 0.0, 30.0, 7.0, 51.0];
        assert_eq!(psi(&counts, &counts), 0.0);
        assert_eq!(js_distance(&counts, &counts), 0.0);
        // The same shape at another size is the same distribution.
        let doubled: Vec<f64> = counts.iter().map(|c| c * 2.0).collect();
        assert!(close(psi(&counts, &doubled), 0.0));
        assert!(close(js_distance(&counts, &doubled), 0.0));
        let values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        assert_eq!(ks_exact(&values, &values), 0.0);
        let p = [0.0, 0.25, 0.5, 0.75, 1.0];
        let q = [1.0, 2.0, 2.0, 2.0, 7.0];
        assert_eq!(ks_from_quantiles(&p, &q, &q), 0.0);
    }

    #[test]
    fn psi_by_hand() {
        // Proportions 0.5/0.5 against 0.25/0.75:
        // (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5) = 0.25·ln 3.
        let value = psi(&[50.0, 50.0], &[25.0, 75.0]);
        assert!(close(value, 0.25 * 3f64.ln()), "{value}");
        // An emptied bin counts as 1e-4, not as an infinite term.
        let value = psi(&[50.0, 50.0], &[0.0, 100.0]);
        let by_hand = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + 0.5 * 2f64.ln();
        assert!(close(value, by_hand), "{value} vs {by_hand}");
    }

    #[test]
    fn jensen_shannon_by_hand() {
        // Disjoint: the greatest distance, 1.
        assert!(close(js_distance(&[1.0, 0.0], &[0.0, 1.0]), 1.0));
        // p = (1, 0), q = (½, ½): m = (¾, ¼);
        // KL(p‖m) = log2(4/3), KL(q‖m) = ½·log2(2/3) + ½·log2(2); JSD = their mean.
        let jsd = ((4.0f64 / 3.0).log2() + 0.5 * (2.0f64 / 3.0).log2() + 0.5) / 2.0;
        assert!(close(js_distance(&[2.0, 0.0], &[1.0, 1.0]), jsd.sqrt()));
        // Symmetric.
        assert_eq!(
            js_distance(&[3.0, 1.0, 6.0], &[1.0, 5.0, 4.0]),
            js_distance(&[1.0, 5.0, 4.0], &[3.0, 1.0, 6.0])
        );
    }

    #[test]
    fn ks_exact_by_hand() {
        // Disjoint samples: 1.
        assert_eq!(ks_exact(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
        // a = {1,2,3,4}, b = {3,4,5,6}: after 2, F_a = ½ and F_b = 0.
        assert_eq!(ks_exact(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]), 0.5);
        // Ties jump together: a = {1,1,2}, b = {1,2,2}: at 1, ⅔ vs ⅓.
        assert!(close(
            ks_exact(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]),
            1.0 / 3.0
        ));
        // NaNs are ignored, and an empty side is no evidence.
        assert_eq!(ks_exact(&[1.0, f64::NAN], &[1.0]), 0.0);
        assert_eq!(ks_exact(&[], &[1.0]), 0.0);
    }

    #[test]
    fn ks_from_quantiles_by_hand() {
        let p = [0.0, 0.5, 1.0];
        // Uniform on [0, 2] against uniform on [1, 3]: at x = 1, ½ against 0.
        assert!(close(
            ks_from_quantiles(&p, &[0.0, 1.0, 2.0], &[1.0, 2.0, 3.0]),
            0.5
        ));
        // Disjoint: 1.
        assert!(close(
            ks_from_quantiles(&p, &[0.0, 1.0, 2.0], &[5.0, 6.0, 7.0]),
            1.0
        ));
        // A point mass: quantiles (0, 5, 5, 5, 10) jump from ¼ to ¾ at 5; against
        // uniform on [0, 10] (½ at 5) the largest gap is ¼, on either side of the jump.
        let p = [0.0, 0.25, 0.5, 0.75, 1.0];
        let gap = ks_from_quantiles(&p, &[0.0, 5.0, 5.0, 5.0, 10.0], &[0.0, 2.5, 5.0, 7.5, 10.0]);
        assert!(close(gap, 0.25), "{gap}");
    }
}
