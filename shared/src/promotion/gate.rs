//! May a candidate package replace what a stage serves? Pure rules: never
//! downgrade within a group, and the quality gate on RMSE — the test split's
//! when both packages have one (the evaluation step's, on data neither model was
//! tuned on), the validation split's otherwise (packages registered before the
//! evaluation step).

use crate::stages::{Lineage, Package, METADATA_TEST_RMSE, METADATA_VALIDATION_RMSE};

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Proceed,
    /// The stage serves a newer version of the same group.
    NewerServing {
        serving_version: u32,
    },
    Refuse {
        reason: &'static str,
        message: String,
    },
}

/// The RMSEs the gate compares: which metadata key, the candidate's, the
/// serving model's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compared {
    pub metric: &'static str,
    pub candidate: Option<f64>,
    pub serving: Option<f64>,
}

pub fn compared(serving: &Lineage, candidate: &Package) -> Compared {
    match (candidate.test_rmse, serving.test_rmse) {
        (Some(c), Some(s)) => Compared {
            metric: METADATA_TEST_RMSE,
            candidate: Some(c),
            serving: Some(s),
        },
        _ => Compared {
            metric: METADATA_VALIDATION_RMSE,
            candidate: candidate.validation_rmse,
            serving: serving.validation_rmse,
        },
    }
}

/// `serving`: the lineage of what the stage serves (`None`: nothing, or a
/// config promote-model did not make). `tolerance`: the relative RMSE increase allowed.
pub fn check(serving: Option<&Lineage>, candidate: &Package, tolerance: f64) -> Verdict {
    let Some(current) = serving else {
        return Verdict::Proceed;
    };
    let same_group = current
        .model_package_group
        .eq_ignore_ascii_case(&candidate.group);
    if same_group && current.model_package_version > candidate.version {
        return Verdict::NewerServing {
            serving_version: current.model_package_version,
        };
    }
    // The same package again (say, with new stage settings) needs no comparison.
    if current
        .model_package_arn
        .eq_ignore_ascii_case(&candidate.arn)
    {
        return Verdict::Proceed;
    }
    let Compared {
        metric,
        candidate: candidate_rmse,
        serving,
    } = compared(current, candidate);
    let Some(serving_rmse) = serving else {
        return Verdict::Proceed;
    };
    let limit = serving_rmse * (1.0 + tolerance);
    match candidate_rmse {
        None => Verdict::Refuse {
            reason: "MissingMetadata",
            message: format!(
                "{} v{} has no {metric} in its metadata; the serving model's is {serving_rmse}",
                candidate.group, candidate.version
            ),
        },
        Some(rmse) if rmse > limit => Verdict::Refuse {
            reason: "QualityGate",
            message: format!(
                "{metric} {rmse} is worse than the serving model's {serving_rmse} by more than {:.1} % (limit {limit:.6})",
                tolerance * 100.0
            ),
        },
        Some(_) => Verdict::Proceed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(group: &str, version: u32, rmse: Option<f64>) -> Package {
        tested(group, version, rmse, None)
    }

    fn tested(group: &str, version: u32, rmse: Option<f64>, test: Option<f64>) -> Package {
        Package {
            validation_rmse: rmse,
            test_rmse: test,
            ..Package::approved(group, version)
        }
    }

    fn serving(group: &str, version: u32, rmse: Option<f64>) -> Lineage {
        Lineage::new(&package(group, version, rmse), "dev", None)
    }

    #[test]
    fn nothing_serving_or_untagged_proceeds() {
        assert_eq!(check(None, &package("g", 1, None), 0.02), Verdict::Proceed);
        let no_rmse = serving("g", 1, None);
        assert_eq!(
            check(Some(&no_rmse), &package("g", 2, Some(9.0)), 0.02),
            Verdict::Proceed
        );
    }

    #[test]
    fn an_older_version_of_the_group_never_replaces_a_newer_one() {
        let current = serving("g", 5, Some(0.5));
        assert_eq!(
            check(Some(&current), &package("G", 4, Some(0.1)), 0.02),
            Verdict::NewerServing { serving_version: 5 }
        );
        // Another group's versions are not comparable: only the RMSE counts.
        assert_eq!(
            check(Some(&current), &package("h", 1, Some(0.5)), 0.02),
            Verdict::Proceed
        );
    }

    #[test]
    fn the_quality_gate_allows_the_tolerance_and_no_more() {
        let current = serving("g", 1, Some(0.40));
        for (rmse, ok) in [
            (0.30, true),
            (0.40, true),
            (0.408, true),
            (0.4081, false),
            (0.45, false),
        ] {
            let verdict = check(Some(&current), &package("g", 2, Some(rmse)), 0.02);
            assert_eq!(verdict == Verdict::Proceed, ok, "{rmse}: {verdict:?}");
            if let Verdict::Refuse { reason, message } = verdict {
                assert_eq!(reason, "QualityGate");
                assert!(
                    message.contains(&rmse.to_string()) && message.contains("0.4"),
                    "{message}"
                );
            }
        }
        let Verdict::Refuse { reason, .. } = check(Some(&current), &package("g", 2, None), 0.02)
        else {
            panic!("a candidate without an RMSE cannot pass the gate");
        };
        assert_eq!(reason, "MissingMetadata");
        // The same package with other stage settings: no comparison.
        assert_eq!(
            check(Some(&current), &package("g", 1, None), 0.02),
            Verdict::Proceed
        );
    }

    #[test]
    fn the_test_rmse_decides_when_both_packages_have_one() {
        let current = Lineage::new(&tested("g", 1, Some(0.40), Some(0.50)), "dev", None);
        // Better on test, worse on validation: the test split decides.
        let candidate = tested("g", 2, Some(0.45), Some(0.49));
        assert_eq!(check(Some(&current), &candidate, 0.02), Verdict::Proceed);
        let on = compared(&current, &candidate);
        assert_eq!(on.metric, "test_rmse");
        assert_eq!((on.candidate, on.serving), (Some(0.49), Some(0.50)));
        // Worse on test: refused, naming the metric.
        let worse = tested("g", 2, Some(0.30), Some(0.52));
        let Verdict::Refuse { reason, message } = check(Some(&current), &worse, 0.02) else {
            panic!("worse on the test split");
        };
        assert_eq!(reason, "QualityGate");
        assert!(message.starts_with("test_rmse 0.52"), "{message}");
        // A candidate without a test RMSE is compared on validation.
        let old = tested("g", 2, Some(0.45), None);
        assert_eq!(compared(&current, &old).metric, "validation_rmse");
        assert!(matches!(
            check(Some(&current), &old, 0.02),
            Verdict::Refuse {
                reason: "QualityGate",
                ..
            }
        ));
    }
}
