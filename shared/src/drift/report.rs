//! The `DriftReport`: every profiled column of a dataset (or of captured
//! traffic) scored against the baseline's profile, and the columns whose scores
//! crossed the policy's thresholds.

use super::policy::{DriftPolicy, Thresholds};
use super::profile::{compare_categories, compare_numeric, DatasetProfile, Scores};
use super::quality::ModelQuality;
use crate::dataset::DatasetId;
use crate::events::drift::{DriftScores, DriftThresholds, DriftedColumn};
use crate::telemetry::{Metrics, Unit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `DriftReport`'s `schema_version`.
pub const DRIFT_REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub schema_version: u32,
    /// The dataset the serving model was trained on.
    pub baseline: DatasetId,
    /// The model whose training data the baseline is (absent when the report
    /// compares two profiles outside a stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ComparedModel>,
    /// What was compared with it: a dataset id, or the traffic's window.
    pub current: String,
    pub rows: u64,
    /// Every column both profiles have, by name.
    pub columns: BTreeMap<String, ColumnDrift>,
    /// The columns whose scores reached a threshold, sorted.
    pub drifted: Vec<String>,
    /// Baseline columns the current profile lacks (traffic has no label).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
    /// The compared model's errors on the dataset's test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<ModelQuality>,
    /// Why the model's quality could not be measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_error: Option<String>,
}

/// The stage, endpoint and registry version whose training data was the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparedModel {
    pub stage: String,
    pub endpoint: String,
    pub model_package_arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub scores: Scores,
    pub thresholds: Thresholds,
    /// The scores that reached their thresholds (`psi`, `js`, `ks`).
    pub crossed: Vec<String>,
}

impl ColumnDrift {
    /// As the drift events carry it.
    pub fn as_event(&self) -> DriftedColumn {
        let (scores, thresholds) = (self.scores, self.thresholds);
        DriftedColumn {
            scores: DriftScores {
                psi: scores.psi,
                js: scores.js,
                ks: scores.ks,
            },
            thresholds: DriftThresholds {
                psi: thresholds.psi,
                js: thresholds.js,
                ks: thresholds.ks,
            },
            crossed: self.crossed.clone(),
        }
    }
}

impl DriftReport {
    /// Every compared column's scores as EMF (`FeatureDriftPSI`,
    /// `FeatureDriftJS`, `FeatureDriftKS` for numeric columns; dimension
    /// `Feature`), the alarm's input.
    pub fn emit_metrics(&self) {
        for (feature, column) in &self.columns {
            let metrics = Metrics::new(&[("Feature", feature.as_str())])
                .put("FeatureDriftPSI", column.scores.psi, Unit::None)
                .put("FeatureDriftJS", column.scores.js, Unit::None);
            match column.scores.ks {
                Some(ks) => metrics.put("FeatureDriftKS", ks, Unit::None),
                None => metrics,
            }
            .emit();
        }
    }

    /// The columns that crossed a threshold, with their scores: what the drift
    /// events carry.
    pub fn drifted_columns(&self) -> BTreeMap<String, DriftedColumn> {
        self.columns
            .iter()
            .filter(|(name, _)| self.drifted.contains(name))
            .map(|(name, column)| (name.clone(), column.as_event()))
            .collect()
    }
}

/// `current` against `baseline`, column by column, under `policy`.
pub fn compare(
    baseline: &DatasetProfile,
    current: &DatasetProfile,
    current_name: &str,
    policy: &DriftPolicy,
) -> DriftReport {
    let mut columns = BTreeMap::new();
    let mut not_compared = Vec::new();
    let numeric = baseline.numeric.iter().map(|(name, base)| {
        let scores = current.numeric.get(name).map(|c| compare_numeric(base, c));
        (name, scores)
    });
    let categories = baseline.categories.iter().map(|(name, base)| {
        let scores = current
            .categories
            .get(name)
            .map(|c| compare_categories(base, c));
        (name, scores)
    });
    for (name, scores) in numeric.chain(categories) {
        let Some(scores) = scores else {
            not_compared.push(name.clone());
            continue;
        };
        let thresholds = policy.thresholds(name);
        let crossed = thresholds
            .crossed(&scores)
            .into_iter()
            .map(String::from)
            .collect();
        columns.insert(
            name.clone(),
            ColumnDrift {
                scores,
                thresholds,
                crossed,
            },
        );
    }
    let drifted = columns
        .iter()
        .filter(|(_, c)| !c.crossed.is_empty())
        .map(|(name, _)| name.clone())
        .collect();
    DriftReport {
        schema_version: DRIFT_REPORT_SCHEMA_VERSION,
        baseline: baseline.dataset_id.clone(),
        model: None,
        current: current_name.to_string(),
        rows: current.rows,
        columns,
        drifted,
        not_compared,
        quality: None,
        quality_error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::policy::BUNDLED;
    use crate::drift::profile::{CategoryProfile, NumericProfile, PROFILE_SCHEMA_VERSION};

    fn profile(shift: f64, label: bool) -> DatasetProfile {
        let column =
            |f: &dyn Fn(f64) -> f64| NumericProfile::of((0..1000).map(|i| Some(f(i as f64))));
        let mut numeric = BTreeMap::from([
            ("median_income".to_string(), column(&|x| x / 100.0 + shift)),
            (
                "housing_median_age".to_string(),
                column(&|x| (x % 52.0) + 1.0),
            ),
        ]);
        if label {
            numeric.insert("median_house_value".into(), column(&|x| x * 500.0));
        }
        DatasetProfile {
            schema_version: PROFILE_SCHEMA_VERSION,
            dataset_id: "ds-0123456789abcdef0123456789abcdef".parse().unwrap(),
            rows: 1000,
            numeric,
            categories: BTreeMap::from([(
                "ocean_proximity".to_string(),
                CategoryProfile::of((0..1000).map(|i| Some(["INLAND", "NEAR BAY"][i % 2]))),
            )]),
        }
    }

    /// `median_income` shifted by 3, and the label missing.
    fn shifted() -> DriftReport {
        let policy = DriftPolicy::parse(BUNDLED).unwrap();
        compare(
            &profile(0.0, true),
            &profile(3.0, false),
            "shifted",
            &policy,
        )
    }

    #[test]
    fn a_dataset_compared_with_itself_has_no_drift() {
        let policy = DriftPolicy::parse(BUNDLED).unwrap();
        let p = profile(0.0, true);
        let report = compare(&p, &p, "itself", &policy);
        assert!(report.drifted.is_empty(), "{report:?}");
        assert_eq!(report.columns.len(), 4);
        for (name, c) in &report.columns {
            assert_eq!((c.scores.psi, c.scores.js), (0.0, 0.0), "{name}");
            assert!(c.scores.ks.is_none_or(|ks| ks == 0.0), "{name}");
        }
    }

    #[test]
    fn a_shifted_column_is_named_and_a_missing_one_is_not_compared() {
        let report = shifted();
        assert_eq!(report.drifted, ["median_income"]);
        assert_eq!(report.columns["median_income"].crossed, ["psi", "js", "ks"]);
        assert_eq!(report.not_compared, ["median_house_value"]);
        assert_eq!(report.current, "shifted");
    }

    #[test]
    fn the_events_carry_the_drifted_columns_as_the_report_writes_them() {
        let report = shifted();
        let carried = report.drifted_columns();
        assert_eq!(carried.keys().collect::<Vec<_>>(), ["median_income"]);
        // The event's own types serialise exactly as the report's column does.
        let column = &report.columns["median_income"];
        assert_eq!(
            serde_json::to_value(&carried["median_income"]).unwrap(),
            serde_json::to_value(column).unwrap()
        );
    }
}
