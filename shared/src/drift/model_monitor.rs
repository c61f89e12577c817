//! A dataset profile in SageMaker Model Monitor's shapes, `statistics.json`
//! and `constraints.json` (version 0), for tools of that ecosystem.
//!
//! What maps: item count; per numeric column `num_present`/`num_missing`,
//! mean, sum, std_dev, min, max and the histogram as `distribution.kll.buckets`
//! (our decile bins, bounded by the column's min and max); per category column
//! its counts as `distribution.categorical.buckets`; completeness,
//! `is_non_negative` and the observed domain as constraints.
//!
//! What does not: there is no KLL `sketch` (the profile keeps exact
//! quantiles instead), every numeric column is `Fractional` (the contract reads
//! them all as floats), and `monitoring_config` has no categorical threshold
//! (our category drift is PSI/JS, not Model Monitor's L-infinity); its numeric
//! `comparison_threshold` is `ks` of the policy's default.

use super::policy::DriftPolicy;
use super::profile::{CategoryProfile, DatasetProfile, NumericProfile};
use serde_json::{json, Value};

fn common(present: u64, missing: u64) -> Value {
    json!({ "num_present": present, "num_missing": missing })
}

fn numeric_statistics(name: &str, p: &NumericProfile) -> Value {
    let mut stats = json!({ "common": common(p.count, p.nulls) });
    if let (Some(min), Some(max), Some(mean), Some(std)) = (p.min, p.max, p.mean, p.std) {
        let bounds: Vec<f64> = std::iter::once(min)
            .chain(p.edges.iter().copied())
            .chain([max])
            .collect();
        let buckets: Vec<Value> = bounds
            .windows(2)
            .zip(&p.counts)
            .map(|(b, count)| json!({ "lower_bound": b[0], "upper_bound": b[1], "count": count }))
            .collect();
        stats["mean"] = json!(mean);
        stats["sum"] = json!(mean * p.count as f64);
        stats["std_dev"] = json!(std);
        stats["min"] = json!(min);
        stats["max"] = json!(max);
        stats["distribution"] = json!({ "kll": { "buckets": buckets } });
    }
    json!({ "name": name, "inferred_type": "Fractional", "numerical_statistics": stats })
}

fn string_statistics(name: &str, c: &CategoryProfile) -> Value {
    let buckets: Vec<Value> = c
        .frequencies
        .iter()
        .map(|(value, count)| json!({ "value": value, "count": count }))
        .collect();
    json!({
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": common(c.count, c.nulls),
            "distinct_count": c.frequencies.len(),
            "distribution": { "categorical": { "buckets": buckets } },
        },
    })
}

/// `statistics.json`: numeric columns, then category columns, each by name.
pub fn statistics(profile: &DatasetProfile) -> Value {
    let features: Vec<Value> = profile
        .numeric
        .iter()
        .map(|(name, p)| numeric_statistics(name, p))
        .chain(
            profile
                .categories
                .iter()
                .map(|(name, c)| string_statistics(name, c)),
        )
        .collect();
    json!({ "version": 0, "dataset": { "item_count": profile.rows }, "features": features })
}

fn completeness(present: u64, missing: u64) -> f64 {
    match present + missing {
        0 => 0.0,
        all => present as f64 / all as f64,
    }
}

/// `constraints.json`: what the profile's data satisfied, and the policy's
/// numeric threshold.
pub fn constraints(profile: &DatasetProfile, policy: &DriftPolicy) -> Value {
    let numeric = profile.numeric.iter().map(|(name, p)| {
        json!({
            "name": name,
            "inferred_type": "Fractional",
            "completeness": completeness(p.count, p.nulls),
            "num_constraints": { "is_non_negative": p.min.is_some_and(|m| m >= 0.0) },
        })
    });
    let categories = profile.categories.iter().map(|(name, c)| {
        json!({
            "name": name,
            "inferred_type": "String",
            "completeness": completeness(c.count, c.nulls),
            "string_constraints": { "domains": c.frequencies.keys().collect::<Vec<_>>() },
        })
    });
    json!({
        "version": 0,
        "features": numeric.chain(categories).collect::<Vec<_>>(),
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": policy.default.ks,
                "comparison_method": "Simple",
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::policy::BUNDLED;
    use crate::drift::profile::PROFILE_SCHEMA_VERSION;
    use std::collections::BTreeMap;

    #[test]
    fn a_profile_in_model_monitor_shapes() {
        let profile = DatasetProfile {
            schema_version: PROFILE_SCHEMA_VERSION,
            dataset_id: "ds-0123456789abcdef0123456789abcdef".parse().unwrap(),
            rows: 5,
            numeric: BTreeMap::from([(
                "x".to_string(),
                NumericProfile::of([Some(-1.0), Some(2.0), Some(3.0), Some(4.0), None]),
            )]),
            categories: BTreeMap::from([(
                "c".to_string(),
                CategoryProfile::of([Some("a"), Some("b"), Some("a"), Some("a"), Some("b")]),
            )]),
        };
        let s = statistics(&profile);
        assert_eq!(s["dataset"]["item_count"], 5);
        let x = &s["features"][0]["numerical_statistics"];
        assert_eq!(x["common"], json!({ "num_present": 4, "num_missing": 1 }));
        assert_eq!(
            (x["min"].as_f64(), x["max"].as_f64()),
            (Some(-1.0), Some(4.0))
        );
        assert_eq!(x["sum"], 8.0);
        let buckets = x["distribution"]["kll"]["buckets"].as_array().unwrap();
        let total: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(total, 4);
        assert_eq!(buckets[0]["lower_bound"], -1.0);
        assert_eq!(buckets.last().unwrap()["upper_bound"], 4.0);
        let c = &s["features"][1]["string_statistics"];
        assert_eq!(c["distinct_count"], 2);
        assert_eq!(
            c["distribution"]["categorical"]["buckets"],
            json!([{ "value": "a", "count": 3 }, { "value": "b", "count": 2 }])
        );

        let policy = DriftPolicy::parse(BUNDLED).unwrap();
        let k = constraints(&profile, &policy);
        assert_eq!(k["features"][0]["completeness"], 0.8);
        assert_eq!(
            k["features"][0]["num_constraints"]["is_non_negative"],
            false
        );
        assert_eq!(
            k["features"][1]["string_constraints"]["domains"],
            json!(["a", "b"])
        );
        assert_eq!(
            k["monitoring_config"]["distribution_constraints"]["comparison_threshold"],
            policy.default.ks
        );
    }
}
