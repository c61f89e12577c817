//! May a candidate package replace what a stage serves? Pure rules: never
//! downgrade within a group, and the quality gate on validation RMSE.

use super::lineage::{Lineage, Package};
use crate::training::definition::METADATA_VALIDATION_RMSE;

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
    let Some(serving_rmse) = current.validation_rmse else {
        return Verdict::Proceed;
    };
    let limit = serving_rmse * (1.0 + tolerance);
    match candidate.validation_rmse {
        None => Verdict::Refuse {
            reason: "MissingMetadata",
            message: format!(
                "{} v{} has no {METADATA_VALIDATION_RMSE} in its metadata; the serving model's is {serving_rmse}",
                candidate.group, candidate.version
            ),
        },
        Some(rmse) if rmse > limit => Verdict::Refuse {
            reason: "QualityGate",
            message: format!(
                "validation RMSE {rmse} is worse than the serving model's {serving_rmse} by more than {:.1} % (limit {limit:.6})",
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
        Package {
            arn: format!(
                "arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{version}"
            ),
            group: group.into(),
            version,
            approval: "Approved".into(),
            dataset_id: None,
            validation_rmse: rmse,
            pipeline_execution_arn: None,
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
}
