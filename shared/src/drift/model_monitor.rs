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
//!
//! Both files are built from structs whose fields are declared in name order,
//! so their bytes are the same in every build: a `serde_json::Value` map keeps
//! insertion order when another crate in the build turns on serde_json's
//! `preserve_order`, and sorted order otherwise.

use super::policy::DriftPolicy;
use super::profile::{CategoryProfile, DatasetProfile, NumericProfile};
use serde::Serialize;

// Every struct below declares its fields in name order (see the module docs).

#[derive(Debug, Serialize)]
pub struct Statistics {
    pub dataset: DatasetStatistics,
    pub features: Vec<FeatureStatistics>,
    pub version: u32,
}

#[derive(Debug, Serialize)]
pub struct DatasetStatistics {
    pub item_count: u64,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum FeatureStatistics {
    Numeric {
        inferred_type: &'static str,
        name: String,
        numerical_statistics: NumericalStatistics,
    },
    String {
        inferred_type: &'static str,
        name: String,
        string_statistics: StringStatistics,
    },
}

#[derive(Debug, Serialize)]
pub struct Common {
    pub num_missing: u64,
    pub num_present: u64,
}

#[derive(Debug, Serialize)]
pub struct NumericalStatistics {
    pub common: Common,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub summary: Option<NumericSummary>,
}

/// Flattened into [`NumericalStatistics`] after `common`, in name order.
#[derive(Debug, Serialize)]
pub struct NumericSummary {
    pub distribution: KllDistribution,
    pub max: f64,
    pub mean: f64,
    pub min: f64,
    pub std_dev: f64,
    pub sum: f64,
}

#[derive(Debug, Serialize)]
pub struct KllDistribution {
    pub kll: Buckets<NumericBucket>,
}

#[derive(Debug, Serialize)]
pub struct Buckets<T> {
    pub buckets: Vec<T>,
}

#[derive(Debug, Serialize)]
pub struct NumericBucket {
    pub count: u64,
    pub lower_bound: f64,
    pub upper_bound: f64,
}

#[derive(Debug, Serialize)]
pub struct StringStatistics {
    pub common: Common,
    pub distinct_count: usize,
    pub distribution: CategoricalDistribution,
}

#[derive(Debug, Serialize)]
pub struct CategoricalDistribution {
    pub categorical: Buckets<CategoryBucket>,
}

#[derive(Debug, Serialize)]
pub struct CategoryBucket {
    pub count: u64,
    pub value: String,
}

fn common(present: u64, missing: u64) -> Common {
    Common {
        num_missing: missing,
        num_present: present,
    }
}

fn numeric_statistics(name: &str, p: &NumericProfile) -> FeatureStatistics {
    let summary = match (p.min, p.max, p.mean, p.std) {
        (Some(min), Some(max), Some(mean), Some(std)) => {
            let bounds: Vec<f64> = std::iter::once(min)
                .chain(p.edges.iter().copied())
                .chain([max])
                .collect();
            let buckets = bounds
                .windows(2)
                .zip(&p.counts)
                .map(|(b, &count)| NumericBucket {
                    count,
                    lower_bound: b[0],
                    upper_bound: b[1],
                })
                .collect();
            Some(NumericSummary {
                distribution: KllDistribution {
                    kll: Buckets { buckets },
                },
                max,
                mean,
                min,
                std_dev: std,
                sum: mean * p.count as f64,
            })
        }
        _ => None,
    };
    FeatureStatistics::Numeric {
        inferred_type: "Fractional",
        name: name.to_string(),
        numerical_statistics: NumericalStatistics {
            common: common(p.count, p.nulls),
            summary,
        },
    }
}

fn string_statistics(name: &str, c: &CategoryProfile) -> FeatureStatistics {
    let buckets = c
        .frequencies
        .iter()
        .map(|(value, &count)| CategoryBucket {
            count,
            value: value.clone(),
        })
        .collect();
    FeatureStatistics::String {
        inferred_type: "String",
        name: name.to_string(),
        string_statistics: StringStatistics {
            common: common(c.count, c.nulls),
            distinct_count: c.frequencies.len(),
            distribution: CategoricalDistribution {
                categorical: Buckets { buckets },
            },
        },
    }
}

/// `statistics.json`: numeric columns, then category columns, each by name.
pub fn statistics(profile: &DatasetProfile) -> Statistics {
    let features = profile
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
    Statistics {
        dataset: DatasetStatistics {
            item_count: profile.rows,
        },
        features,
        version: 0,
    }
}

fn completeness(present: u64, missing: u64) -> f64 {
    match present + missing {
        0 => 0.0,
        all => present as f64 / all as f64,
    }
}

#[derive(Debug, Serialize)]
pub struct Constraints {
    pub features: Vec<FeatureConstraints>,
    pub monitoring_config: MonitoringConfig,
    pub version: u32,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum FeatureConstraints {
    Numeric {
        completeness: f64,
        inferred_type: &'static str,
        name: String,
        num_constraints: NumConstraints,
    },
    String {
        completeness: f64,
        inferred_type: &'static str,
        name: String,
        string_constraints: StringConstraints,
    },
}

#[derive(Debug, Serialize)]
pub struct NumConstraints {
    pub is_non_negative: bool,
}

#[derive(Debug, Serialize)]
pub struct StringConstraints {
    pub domains: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MonitoringConfig {
    pub distribution_constraints: DistributionConstraints,
    pub emit_metrics: &'static str,
    pub evaluate_constraints: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DistributionConstraints {
    pub comparison_method: &'static str,
    pub comparison_threshold: f64,
    pub perform_comparison: &'static str,
}

/// `constraints.json`: what the profile's data satisfied, and the policy's
/// numeric threshold.
pub fn constraints(profile: &DatasetProfile, policy: &DriftPolicy) -> Constraints {
    let numeric = profile
        .numeric
        .iter()
        .map(|(name, p)| FeatureConstraints::Numeric {
            completeness: completeness(p.count, p.nulls),
            inferred_type: "Fractional",
            name: name.clone(),
            num_constraints: NumConstraints {
                is_non_negative: p.min.is_some_and(|m| m >= 0.0),
            },
        });
    let categories = profile
        .categories
        .iter()
        .map(|(name, c)| FeatureConstraints::String {
            completeness: completeness(c.count, c.nulls),
            inferred_type: "String",
            name: name.clone(),
            string_constraints: StringConstraints {
                domains: c.frequencies.keys().cloned().collect(),
            },
        });
    Constraints {
        features: numeric.chain(categories).collect(),
        monitoring_config: MonitoringConfig {
            distribution_constraints: DistributionConstraints {
                comparison_method: "Simple",
                comparison_threshold: policy.default.ks,
                perform_comparison: "Enabled",
            },
            emit_metrics: "Enabled",
            evaluate_constraints: "Enabled",
        },
        version: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::policy::BUNDLED;
    use crate::drift::profile::PROFILE_SCHEMA_VERSION;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    /// Every object's keys, at every depth, are in name order.
    fn keys_sorted(value: &Value) -> bool {
        match value {
            Value::Object(map) => {
                let keys: Vec<&String> = map.keys().collect();
                keys.windows(2).all(|w| w[0] < w[1]) && map.values().all(keys_sorted)
            }
            Value::Array(items) => items.iter().all(keys_sorted),
            _ => true,
        }
    }

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
        let s = serde_json::to_value(statistics(&profile)).unwrap();
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
        let k = serde_json::to_value(constraints(&profile, &policy)).unwrap();
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
        // Serialised straight from the structs (not through a map), every key
        // comes in name order, whatever serde_json's features in this build.
        for written in [
            serde_json::to_string(&statistics(&profile)).unwrap(),
            serde_json::to_string(&constraints(&profile, &policy)).unwrap(),
        ] {
            let tokens = written.matches("\":").count();
            assert!(tokens > 10, "{written}");
            assert!(keys_in_written_order_sorted(&written), "{written}");
        }
        assert!(keys_sorted(&s) && keys_sorted(&k));
        assert!(!keys_in_written_order_sorted(
            r#"{"b":1,"a":{"x":[{"d":1,"c":2}]}}"#
        ));
        assert!(keys_in_written_order_sorted(
            r#"{"a":{"x":[{"c":"d:","d":1}]},"b":1}"#
        ));
    }

    /// The keys of each object, in the order the text has them, are sorted.
    /// (A `Value` read back would sort them itself in a build without serde_json's
    /// `preserve_order`, so the text is read.)
    fn keys_in_written_order_sorted(text: &str) -> bool {
        let mut objects: Vec<Vec<String>> = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let mut string = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '"' => break,
                            _ => string.push(c),
                        }
                    }
                    // A string followed by ':' is a key of the innermost object.
                    if chars.peek() == Some(&':') {
                        objects.last_mut().unwrap().push(string);
                    }
                }
                '{' => objects.push(Vec::new()),
                '}' => {
                    let keys = objects.pop().unwrap();
                    if !keys.windows(2).all(|w| w[0] < w[1]) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        true
    }
}
