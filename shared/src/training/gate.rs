//! The data-quality gate: a dataset must be worth the cost of training.

use crate::report::ReportSummary;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Rows kept, at least.
    pub min_rows_out: u64,
    /// Quarantined rows / rows in, at most.
    pub max_quarantine_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_rows_out: 1_000,
            max_quarantine_ratio: 0.05,
        }
    }
}

/// The splits training reads; each must have rows.
pub const REQUIRED_SPLITS: [&str; 3] = ["train", "validation", "test"];

/// Every reason the dataset fails the gate (empty: it passes).
pub fn check(summary: &ReportSummary, t: &Thresholds) -> Vec<String> {
    let mut reasons = Vec::new();
    if summary.rows_out < t.min_rows_out {
        reasons.push(format!(
            "rows_out {} is below the minimum {}",
            summary.rows_out, t.min_rows_out
        ));
    }
    let ratio = if summary.rows_in == 0 {
        1.0
    } else {
        summary.rows_quarantined as f64 / summary.rows_in as f64
    };
    if ratio > t.max_quarantine_ratio {
        reasons.push(format!(
            "quarantine ratio {ratio:.4} ({} of {}) is above the maximum {}",
            summary.rows_quarantined, summary.rows_in, t.max_quarantine_ratio
        ));
    }
    for split in REQUIRED_SPLITS {
        if summary.splits.get(split).copied().unwrap_or(0) == 0 {
            reasons.push(format!("split {split} is empty"));
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn summary(rows_in: u64, rows_out: u64, quarantined: u64, test: u64) -> ReportSummary {
        ReportSummary {
            rows_in,
            rows_out,
            rows_quarantined: quarantined,
            rows_duplicate: rows_in - rows_out - quarantined,
            splits: BTreeMap::from([
                ("train".into(), rows_out - test),
                ("validation".into(), test),
                ("test".into(), test),
            ]),
            reasons: BTreeMap::new(),
        }
    }

    #[test]
    fn a_healthy_dataset_passes() {
        assert!(check(&summary(20_640, 20_640, 0, 2_000), &Thresholds::default()).is_empty());
    }

    #[test]
    fn every_failed_threshold_is_a_reason() {
        let reasons = check(&summary(1_000, 800, 200, 0), &Thresholds::default());
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].contains("rows_out 800 is below the minimum 1000"));
        assert!(reasons[1].contains("quarantine ratio 0.2000"));
        assert!(reasons.iter().any(|r| r == "split test is empty"));
    }
}
