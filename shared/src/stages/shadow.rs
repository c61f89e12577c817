//! A stage's shadow test (`shadow:` in the stages file): before a candidate
//! serves the stage, it runs beside the serving model on a copy of a share of
//! the stage's requests, answers nobody, and is judged against these limits.

use serde::{Deserialize, Serialize};

/// SageMaker's longest shadow test (Developer Guide, "Shadow tests": 30 days).
pub const MAX_DURATION_SECONDS: u32 = 30 * 24 * 3600;
/// The shortest test this suite runs: the tick that judges it comes every 10
/// minutes, and a shorter test would be judged on a handful of requests.
pub const MIN_DURATION_SECONDS: u32 = 600;
/// Records both variants answered, fewest, for a verdict unless the stage says.
pub const DEFAULT_MIN_REQUESTS: u64 = 200;

/// Every shadow variant's name starts so: the traffic monitor leaves their
/// captures out (copies of requests the serving variant answered).
pub const VARIANT_PREFIX: &str = "Shadow-";

/// The shadow variant of a test of package version `version`:
/// `Shadow-v<version>`, so the captures of one candidate never mix with
/// another's.
pub fn variant_name(version: u32) -> String {
    format!("{VARIANT_PREFIX}v{version}")
}

/// The limits a candidate is judged by, on the requests both variants answered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowTest {
    /// Share of the stage's requests copied to the candidate (1-100; SageMaker's
    /// traffic sampling percentage).
    pub sample_percent: u32,
    /// How long the candidate runs in shadow before it is judged
    /// (600 s to 30 days).
    pub duration_seconds: u32,
    /// Fewest records (rows of the requests) both variants answered for a
    /// verdict; with fewer the candidate is rejected as untested (default 200).
    #[serde(default = "default_min_requests")]
    pub min_requests: u64,
    /// The candidate's mean model latency over the serving model's, at
    /// most (1.5: half as slow again).
    pub max_latency_ratio: f64,
    /// The candidate's share of failed requests, at most (0-1).
    pub max_error_rate: f64,
    /// The 90th percentile of |candidate - serving| / |serving| over the same
    /// requests, at most (0.2: nine in ten predictions within 20 %).
    pub max_prediction_delta: f64,
}

fn default_min_requests() -> u64 {
    DEFAULT_MIN_REQUESTS
}

impl ShadowTest {
    /// What is wrong with these limits, each said as the stages file spells it.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(1..=100).contains(&self.sample_percent) {
            out.push(format!(
                "shadow.sample_percent: {} is outside 1-100",
                self.sample_percent
            ));
        }
        if !(MIN_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&self.duration_seconds) {
            out.push(format!(
                "shadow.duration_seconds: {} is outside {MIN_DURATION_SECONDS}-{MAX_DURATION_SECONDS} (SageMaker's longest shadow test is 30 days)",
                self.duration_seconds
            ));
        }
        if self.min_requests == 0 {
            out.push("shadow.min_requests: 0 would judge a candidate on no request".into());
        }
        let finite_positive = |v: f64| v.is_finite() && v > 0.0;
        if !finite_positive(self.max_latency_ratio) {
            out.push(format!(
                "shadow.max_latency_ratio: {} must be a positive number (1 = as fast as the serving model)",
                self.max_latency_ratio
            ));
        }
        if !(0.0..=1.0).contains(&self.max_error_rate) {
            out.push(format!(
                "shadow.max_error_rate: {} must be between 0 and 1",
                self.max_error_rate
            ));
        }
        if !finite_positive(self.max_prediction_delta) {
            out.push(format!(
                "shadow.max_prediction_delta: {} must be a positive number (a relative difference)",
                self.max_prediction_delta
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test() -> ShadowTest {
        serde_norway::from_str(
            "sample_percent: 50\nduration_seconds: 3600\nmax_latency_ratio: 1.5\nmax_error_rate: 0.01\nmax_prediction_delta: 0.2\n",
        )
        .unwrap()
    }

    #[test]
    fn limits_read_with_their_default_and_every_problem_named() {
        let ok = test();
        assert_eq!(ok.min_requests, DEFAULT_MIN_REQUESTS);
        assert!(ok.problems().is_empty(), "{:?}", ok.problems());
        let bad = ShadowTest {
            sample_percent: 0,
            duration_seconds: 60,
            min_requests: 0,
            max_latency_ratio: f64::NAN,
            max_error_rate: 1.5,
            max_prediction_delta: 0.0,
        };
        let problems = bad.problems().join("\n");
        for field in [
            "sample_percent: 0",
            "duration_seconds: 60",
            "min_requests: 0",
            "max_latency_ratio: NaN",
            "max_error_rate: 1.5",
            "max_prediction_delta: 0",
        ] {
            assert!(problems.contains(field), "{field} in {problems}");
        }
        let unknown = serde_norway::from_str::<ShadowTest>(
            "sample_percent: 50\nduration_seconds: 3600\nmax_latency_ratio: 1.5\nmax_error_rate: 0.01\nmax_prediction_delta: 0.2\nsample: 3\n",
        );
        assert!(unknown.is_err());
    }
}
