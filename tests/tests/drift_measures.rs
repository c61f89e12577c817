//! The drift measures against numpy's and scipy's, on the real data: the
//! quantiles (numpy.quantile), KS (scipy.stats.ks_2samp), the Jensen–Shannon
//! distance (scipy.spatial.distance.jensenshannon, base 2) and PSI (numpy, the
//! same formula), for a column against itself shifted, resampled and capped.

use integration_tests::python_json;
use serde_json::{json, Value};
use shared::drift::measures::{js_distance, ks_exact, ks_from_quantiles, psi};
use shared::drift::profile::{compare_numeric, probabilities, NumericProfile};

/// A column of `data/housing.csv`, by its header name (empty cells skipped).
fn column(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(local_stack::repo_root().join("data/housing.csv")).unwrap();
    let mut lines = text.lines();
    let index = lines
        .next()
        .unwrap()
        .split(',')
        .position(|h| h == name)
        .unwrap();
    lines
        .filter_map(|l| l.split(',').nth(index).unwrap().parse().ok())
        .collect()
}

const SCIPY: &str = r#"
import json, sys
import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp
cases = json.load(sys.stdin)
out = []
for c in cases:
    a, b = np.array(c["a"]), np.array(c["b"])
    e, x = np.array(c["expected"], float), np.array(c["actual"], float)
    e, x = np.maximum(e / e.sum(), 1e-4), np.maximum(x / x.sum(), 1e-4)
    out.append({
        "quantiles": np.quantile(a, np.linspace(0, 1, 101)).tolist(),
        "ks": float(ks_2samp(a, b).statistic),
        "js": float(jensenshannon(c["expected"], c["actual"], base=2)),
        "psi": float(np.sum((x - e) * np.log(x / e))),
    })
json.dump(out, sys.stdout)
"#;

fn scipy(cases: &Value) -> Vec<Value> {
    serde_json::from_value(python_json(SCIPY, &[], cases.to_string().as_bytes())).unwrap()
}

fn close(ours: f64, theirs: f64, what: &str) {
    assert!(
        (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
        "{what}: ours {ours}, scipy {theirs}"
    );
}

#[test]
fn the_measures_agree_with_numpy_and_scipy_on_the_real_data() {
    let income = column("median_income");
    let age = column("housing_median_age"); // 52 is a cap: a point mass
    let every_other = |v: &[f64]| v.iter().step_by(2).copied().collect::<Vec<f64>>();
    let cases: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        (
            "income, scaled by 1.2",
            income.clone(),
            income.iter().map(|v| v * 1.2).collect(),
        ),
        (
            "income, every other row",
            income.clone(),
            every_other(&income),
        ),
        (
            "age, +3 years and capped",
            age.clone(),
            age.iter().map(|v| (v + 3.0).min(52.0)).collect(),
        ),
        ("age against itself", age.clone(), age.clone()),
    ];
    let profiles: Vec<(NumericProfile, NumericProfile)> = cases
        .iter()
        .map(|(_, a, b)| {
            (
                NumericProfile::of(a.iter().map(|v| Some(*v))),
                NumericProfile::of(b.iter().map(|v| Some(*v))),
            )
        })
        .collect();
    // Both sides binned exactly on the baseline's edges, for JS and PSI.
    let binned = |p: &NumericProfile, values: &[f64]| -> Vec<f64> {
        let mut counts = vec![0.0; p.edges.len() + 1];
        for &v in values {
            counts[shared::drift::profile::bin_of(&p.edges, v)] += 1.0;
        }
        counts
    };
    let request = json!(cases
        .iter()
        .zip(&profiles)
        .map(|((_, a, b), (pa, _))| json!({
            "a": a, "b": b, "expected": binned(pa, a), "actual": binned(pa, b),
        }))
        .collect::<Vec<_>>());
    let answers = scipy(&request);

    for (((what, a, b), (pa, pb)), theirs) in cases.iter().zip(&profiles).zip(&answers) {
        let quantiles: Vec<f64> = theirs["quantiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_f64().unwrap())
            .collect();
        for (ours, theirs) in pa.quantiles.iter().zip(&quantiles) {
            close(*ours, *theirs, &format!("{what}: quantile"));
        }
        assert_eq!(
            pa.counts,
            binned(pa, a).iter().map(|c| *c as u64).collect::<Vec<_>>()
        );
        let (expected, actual) = (binned(pa, a), binned(pa, b));
        let ks = ks_exact(a, b);
        close(ks, theirs["ks"].as_f64().unwrap(), &format!("{what}: KS"));
        close(
            js_distance(&expected, &actual),
            theirs["js"].as_f64().unwrap(),
            &format!("{what}: JS"),
        );
        close(
            psi(&expected, &actual),
            theirs["psi"].as_f64().unwrap(),
            &format!("{what}: PSI"),
        );
        // What a profile keeps is enough: KS from 101 quantiles is within 0.02 of the exact one.
        let from_quantiles = ks_from_quantiles(&probabilities(), &pa.quantiles, &pb.quantiles);
        assert!(
            (from_quantiles - ks).abs() < 0.02,
            "{what}: KS {ks} exact, {from_quantiles} from quantiles"
        );
        assert_eq!(compare_numeric(pa, pb).ks, Some(from_quantiles));
    }
    // The shifts score; the resample and the column itself do not.
    let scores: Vec<_> = profiles
        .iter()
        .map(|(a, b)| compare_numeric(a, b))
        .collect();
    assert!(scores[0].psi > 0.1 && scores[2].psi > 0.1, "{scores:?}");
    assert!(scores[1].psi < 0.01, "{scores:?}");
    assert_eq!(
        (scores[3].psi, scores[3].js, scores[3].ks),
        (0.0, 0.0, Some(0.0))
    );
}
