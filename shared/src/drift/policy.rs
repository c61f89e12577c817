//! The drift policy (`infra/drift.yaml`): each column's thresholds, the stage
//! whose model's training data is the baseline, and whether a new dataset
//! starts training. Parsed and validated at cold start; every problem is
//! reported at once.

use super::profile::Scores;
use crate::config::{Env, Problems};
use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY};
use crate::features::RATIO_FEATURES;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The policy bundled into the functions: `infra/drift.yaml`.
pub const BUNDLED: &str = include_str!("../../../infra/drift.yaml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftPolicy {
    /// The stage whose serving model's training dataset is the baseline.
    pub reference_stage: String,
    pub retrain_on: RetrainOn,
    /// Every column's thresholds unless `columns` says otherwise.
    pub default: Thresholds,
    /// Per column: the scores whose thresholds differ from `default`.
    #[serde(default)]
    pub columns: BTreeMap<String, ThresholdOverrides>,
}

/// Whether a new dataset starts training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetrainOn {
    /// Every dataset (the behaviour before drift checks).
    EveryDataset,
    /// Only a dataset that drifted from the baseline, or when there is none.
    Drift,
    /// Never: training starts only by hand.
    Never,
}

/// A column drifts when any of its scores reaches its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub psi: f64,
    pub js: f64,
    pub ks: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverrides {
    pub psi: Option<f64>,
    pub js: Option<f64>,
    pub ks: Option<f64>,
}

impl Thresholds {
    /// Which of `scores` reach their thresholds, by name (`psi`, `js`, `ks`).
    pub fn crossed(&self, scores: &Scores) -> Vec<&'static str> {
        let mut crossed = Vec::new();
        if scores.psi >= self.psi {
            crossed.push("psi");
        }
        if scores.js >= self.js {
            crossed.push("js");
        }
        if scores.ks.is_some_and(|ks| ks >= self.ks) {
            crossed.push("ks");
        }
        crossed
    }
}

/// Every problem in a drift policy file.
fn invalid(list: Vec<String>) -> Problems {
    Problems::new("drift policy", list)
}

/// The columns a profile has: the contract's numeric columns, the ratio
/// features and `ocean_proximity`.
pub fn profiled_columns() -> impl Iterator<Item = &'static str> {
    NUMERIC_COLUMNS
        .iter()
        .map(|c| c.name)
        .chain(RATIO_FEATURES)
        .chain([OCEAN_PROXIMITY])
}

/// `DRIFT_POLICY_FILE` (unset: the bundled `infra/drift.yaml`), read and
/// validated; `None` when it cannot be, every problem reported to `env`.
pub fn read_policy<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<DriftPolicy> {
    env.file("DRIFT_POLICY_FILE", ("infra/drift.yaml", BUNDLED), |yaml| {
        DriftPolicy::parse(yaml).map_err(|e| e.list)
    })
}

impl DriftPolicy {
    pub fn parse(yaml: &str) -> Result<DriftPolicy, Problems> {
        let policy: DriftPolicy =
            serde_norway::from_str(yaml).map_err(|e| invalid(vec![e.to_string()]))?;
        policy.validate()?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), Problems> {
        let mut problems = Vec::new();
        if self.reference_stage.trim().is_empty() {
            problems.push("reference_stage: empty".to_string());
        }
        let check = |at: &str, score: &str, value: f64| {
            let (ok, range) = match score {
                "psi" => (value.is_finite() && value > 0.0, "> 0"),
                _ => (value > 0.0 && value <= 1.0, "in (0, 1]"),
            };
            (!ok).then(|| format!("{at}.{score}: {value} is not {range}"))
        };
        let d = self.default;
        for (score, value) in [("psi", d.psi), ("js", d.js), ("ks", d.ks)] {
            problems.extend(check("default", score, value));
        }
        for (column, o) in &self.columns {
            let at = format!("columns.{column}");
            for (score, value) in [("psi", o.psi), ("js", o.js), ("ks", o.ks)] {
                problems.extend(value.and_then(|value| check(&at, score, value)));
            }
            if !profiled_columns().any(|c| c == column) {
                problems.push(format!(
                    "{at}: not a profiled column (one of {})",
                    profiled_columns().collect::<Vec<_>>().join(", ")
                ));
            } else if column == OCEAN_PROXIMITY && o.ks.is_some() {
                problems.push(format!("{at}.ks: KS is for numeric columns only"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(invalid(problems))
        }
    }

    /// A column's thresholds: the default with the column's overrides.
    pub fn thresholds(&self, column: &str) -> Thresholds {
        let o = self.columns.get(column).copied().unwrap_or_default();
        Thresholds {
            psi: o.psi.unwrap_or(self.default.psi),
            js: o.js.unwrap_or(self.default.js),
            ks: o.ks.unwrap_or(self.default.ks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_policy_is_valid() {
        let policy = DriftPolicy::parse(BUNDLED).unwrap();
        assert_eq!(policy.retrain_on, RetrainOn::EveryDataset);
        assert_eq!(policy.reference_stage, "prod");
        assert_eq!(policy.thresholds("median_income"), policy.default);
        let label = policy.thresholds("median_house_value");
        assert!(label.psi > policy.default.psi, "{label:?}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let yaml =
            "reference_stage: ' '\nretrain_on: drift\ndefault: { psi: 0, js: 1.5, ks: 0.1 }\n\
                    columns:\n  median_incom: { psi: 0.1 }\n  ocean_proximity: { ks: 0.2 }\n";
        let problems = DriftPolicy::parse(yaml).unwrap_err().list;
        assert_eq!(problems.len(), 5, "{problems:?}");
        for expected in [
            "reference_stage: empty",
            "default.psi: 0 is not > 0",
            "default.js: 1.5 is not in (0, 1]",
            "columns.median_incom: not a profiled column",
            "columns.ocean_proximity.ks: KS is for numeric columns only",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected}: {problems:?}"
            );
        }
        let unknown = DriftPolicy::parse("reference_stage: prod\nretrain_on: sometimes\n");
        assert!(unknown.unwrap_err().list[0].contains("sometimes"));
    }

    #[test]
    fn a_score_at_its_threshold_crosses_it() {
        let t = Thresholds {
            psi: 0.2,
            js: 0.1,
            ks: 0.1,
        };
        let scores = |psi, js, ks| Scores { psi, js, ks };
        assert!(t.crossed(&scores(0.19, 0.09, Some(0.09))).is_empty());
        assert_eq!(t.crossed(&scores(0.2, 0.0, None)), ["psi"]);
        assert_eq!(t.crossed(&scores(0.0, 0.3, Some(0.1))), ["js", "ks"]);
    }
}
