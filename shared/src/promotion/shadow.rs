//! A shadow test's verdict: the candidate against the serving model on the
//! same requests. The requests are paired by their input (each copy the
//! candidate answered with an answer the serving model gave to the same
//! input), and judged against the stage's limits ([`ShadowTest`]): enough
//! requests answered by both, the candidate's error rate, its latency against
//! the serving model's, and how far its predictions are from the serving
//! model's (the 90th percentile of the relative difference).

use crate::events::promotion::{PredictionDelta, ShadowComparison, VariantTraffic};
use crate::stages::shadow::ShadowTest;
use std::collections::HashMap;

/// One request as a variant answered it: its input (the CSV row the endpoint
/// was sent) and the prediction.
pub type Answer = (String, f64);

/// The serving model's and the candidate's predictions for the same input:
/// each candidate answer is paired with an unpaired serving answer of the same
/// input (a repeated input pairs as often as both answered it), in whatever
/// order the two were read.
pub fn pair(serving: Vec<Answer>, candidate: Vec<Answer>) -> Vec<(f64, f64)> {
    let mut by_input: HashMap<String, Vec<f64>> = HashMap::new();
    for (input, prediction) in serving {
        by_input.entry(input).or_default().push(prediction);
    }
    let mut pairs = Vec::new();
    for (input, prediction) in candidate {
        if let Some(served) = by_input.get_mut(&input).and_then(Vec::pop) {
            pairs.push((served, prediction));
        }
    }
    pairs
}

/// The comparison of the two variants, with every limit the candidate crossed.
pub fn compare(
    pairs: &[(f64, f64)],
    serving: VariantTraffic,
    candidate: VariantTraffic,
    limits: &ShadowTest,
) -> ShadowComparison {
    let mut crossed = Vec::new();
    let compared = pairs.len() as u64;
    if compared < limits.min_requests {
        crossed.push(format!(
            "{compared} records answered by both variants, fewer than min_requests {}",
            limits.min_requests
        ));
    }
    let candidate_error_rate = if candidate.invocations == 0 {
        0.0
    } else {
        candidate.errors as f64 / candidate.invocations as f64
    };
    if candidate_error_rate > limits.max_error_rate {
        crossed.push(format!(
            "error rate {candidate_error_rate:.4} ({} of {}) above max_error_rate {}",
            candidate.errors, candidate.invocations, limits.max_error_rate
        ));
    }
    let latency_ratio = match (serving.latency_mean_ms, candidate.latency_mean_ms) {
        (Some(s), Some(c)) if s > 0.0 => Some(c / s),
        _ => None,
    };
    match latency_ratio {
        Some(ratio) if ratio > limits.max_latency_ratio => crossed.push(format!(
            "mean latency {:.1} ms against {:.1} ms, a ratio of {ratio:.2} above max_latency_ratio {}",
            candidate.latency_mean_ms.unwrap_or_default(),
            serving.latency_mean_ms.unwrap_or_default(),
            limits.max_latency_ratio
        )),
        Some(_) => {}
        // A candidate not measured is not known to be fast enough.
        None => crossed.push("mean latency not measured for both variants".into()),
    }
    let prediction_delta = delta(pairs);
    if let Some(d) = prediction_delta {
        if d.p90 > limits.max_prediction_delta {
            crossed.push(format!(
                "p90 relative prediction difference {:.4} above max_prediction_delta {}",
                d.p90, limits.max_prediction_delta
            ));
        }
    }
    ShadowComparison {
        compared,
        serving,
        candidate,
        candidate_error_rate,
        latency_ratio,
        prediction_delta,
        crossed,
    }
}

/// The relative differences' distribution (nearest-rank percentiles).
fn delta(pairs: &[(f64, f64)]) -> Option<PredictionDelta> {
    if pairs.is_empty() {
        return None;
    }
    let relative = |s: f64, c: f64| (c - s) / s.abs().max(f64::MIN_POSITIVE);
    let mut sizes: Vec<f64> = pairs.iter().map(|&(s, c)| relative(s, c).abs()).collect();
    sizes.sort_by(f64::total_cmp);
    let at = |q: f64| sizes[((q * sizes.len() as f64).ceil() as usize).clamp(1, sizes.len()) - 1];
    let mean_signed = pairs.iter().map(|&(s, c)| relative(s, c)).sum::<f64>() / pairs.len() as f64;
    Some(PredictionDelta {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: sizes[sizes.len() - 1],
        mean_signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ShadowTest {
        ShadowTest {
            sample_percent: 50,
            duration_seconds: 3600,
            min_requests: 10,
            max_latency_ratio: 1.5,
            max_error_rate: 0.01,
            max_prediction_delta: 0.2,
        }
    }

    fn traffic(invocations: u64, errors: u64, latency: f64) -> VariantTraffic {
        VariantTraffic {
            invocations,
            errors,
            latency_mean_ms: Some(latency),
        }
    }

    #[test]
    fn answers_pair_by_input_whatever_their_order_and_repeats_pair_as_often_as_both_answered() {
        let serving = vec![
            ("1,2".to_string(), 100.0),
            ("3,4".to_string(), 200.0),
            ("1,2".to_string(), 100.0),
            ("5,6".to_string(), 300.0),
        ];
        // A copy of "1,2" once, "3,4" twice (one more than served), none of "5,6",
        // and an input the serving model never answered.
        let candidate = vec![
            ("3,4".to_string(), 210.0),
            ("1,2".to_string(), 90.0),
            ("3,4".to_string(), 220.0),
            ("7,8".to_string(), 1.0),
        ];
        let mut pairs = pair(serving, candidate);
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(pairs, [(100.0, 90.0), (200.0, 210.0)]);
    }

    #[test]
    fn a_close_candidate_passes_with_its_numbers() {
        // 100 pairs, the candidate 1 % to 10 % above: p90 of 9 %.
        let pairs: Vec<(f64, f64)> = (1..=100)
            .map(|i| {
                (
                    1000.0,
                    1000.0 * (1.0 + (i as f64).div_euclid(10.0).max(1.0) / 100.0),
                )
            })
            .collect();
        let c = compare(
            &pairs,
            traffic(200, 0, 10.0),
            traffic(100, 0, 12.0),
            &limits(),
        );
        assert!(c.crossed.is_empty(), "{:?}", c.crossed);
        assert_eq!(c.compared, 100);
        let d = c.prediction_delta.unwrap();
        assert!((d.p90 - 0.09).abs() < 1e-12, "{d:?}");
        assert!((d.max - 0.10).abs() < 1e-12, "{d:?}");
        assert!(d.mean_signed > 0.0 && d.p50 <= d.p90 && d.p90 <= d.p99 && d.p99 <= d.max);
        assert_eq!(c.latency_ratio, Some(1.2));
    }

    #[test]
    fn every_limit_crossed_is_said_with_its_numbers() {
        // Five pairs (fewer than 10), the candidate half again as high, slower
        // and failing 2 %.
        let pairs = vec![(100.0, 150.0); 5];
        let c = compare(
            &pairs,
            traffic(500, 0, 10.0),
            traffic(250, 5, 20.0),
            &limits(),
        );
        let said = c.crossed.join("\n");
        for expected in [
            "5 records answered by both variants, fewer than min_requests 10",
            "error rate 0.0200 (5 of 250) above max_error_rate 0.01",
            "a ratio of 2.00 above max_latency_ratio 1.5",
            "p90 relative prediction difference 0.5000 above max_prediction_delta 0.2",
        ] {
            assert!(said.contains(expected), "{expected:?} in {said}");
        }
        assert_eq!(c.crossed.len(), 4);
    }

    #[test]
    fn nothing_compared_or_measured_is_not_a_pass() {
        let unmeasured = VariantTraffic {
            invocations: 0,
            errors: 0,
            latency_mean_ms: None,
        };
        let c = compare(&[], unmeasured, unmeasured, &limits());
        assert_eq!(c.prediction_delta, None);
        assert_eq!(c.crossed.len(), 2, "{:?}", c.crossed);
        assert!(c.crossed[1].contains("latency not measured"));
    }
}
