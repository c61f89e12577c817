//! The unit tests of `profile`.

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
