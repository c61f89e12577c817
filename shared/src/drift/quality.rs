//! The serving model's quality on a new labelled dataset: the first rows of the
//! dataset's test split (its XGBoost CSV: label first, then exactly the
//! features the model reads, as predict sends them) scored by the endpoint in
//! batches, RMSE and MAE set beside the RMSE the model was registered with.

use serde::{Deserialize, Serialize};

/// Rows scored per dataset unless `QUALITY_MAX_ROWS` says otherwise.
pub const DEFAULT_MAX_ROWS: usize = 1000;
/// `QUALITY_MAX_ROWS` at most: 50 endpoint calls.
pub const MAX_ROWS: usize = 5000;
/// The `InferenceId` of the quality check's calls (then the dataset id and the
/// batch): the endpoint captures them like any request, and the traffic
/// monitor leaves them out.
pub const QUALITY_INFERENCE_PREFIX: &str = "housing-mlops-quality-";
/// The whole quality check's time, every call included, unless
/// `QUALITY_DEADLINE_SECONDS` says otherwise: well inside the trigger's 30 s.
pub const DEFAULT_DEADLINE_SECONDS: u64 = 10;
/// `QUALITY_DEADLINE_SECONDS` at most: the claim, the drift check and the
/// pipeline start need the rest of the function's 30 s.
pub const MAX_DEADLINE_SECONDS: u64 = 20;
/// Rows per `InvokeEndpoint` call (predict's limit per request).
pub const BATCH_ROWS: usize = 100;
/// Bytes read per row at most: a row of the CSV channel is about 120.
pub const MAX_ROW_BYTES: u64 = 512;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelQuality {
    /// How many rows of the test split were scored (the first ones).
    pub rows: u64,
    pub rmse: f64,
    pub mae: f64,
    /// The RMSE on its own test split the model was registered with (the
    /// lineage tag `housing-mlops:test-rmse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_test_rmse: Option<f64>,
    /// `rmse / registered_test_rmse`: above 1, the model does worse on the new
    /// data than on its own test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse_ratio: Option<f64>,
}

impl ModelQuality {
    /// The errors of `predictions` against `labels` (same length, not empty).
    pub fn of(labels: &[f64], predictions: &[f64], registered_test_rmse: Option<f64>) -> Self {
        let n = labels.len().max(1) as f64;
        let (squares, absolutes) = labels
            .iter()
            .zip(predictions)
            .fold((0.0, 0.0), |(s, a), (y, p)| {
                (s + (y - p) * (y - p), a + (y - p).abs())
            });
        let rmse = (squares / n).sqrt();
        ModelQuality {
            rows: labels.len() as u64,
            rmse,
            mae: absolutes / n,
            registered_test_rmse,
            rmse_ratio: registered_test_rmse.filter(|r| *r > 0.0).map(|r| rmse / r),
        }
    }
}

/// The labels and the feature rows of the first `max_rows` complete lines of
/// a label-first CSV (a ranged read may end in a partial line: dropped).
pub fn labelled_rows(csv: &str, max_rows: usize) -> Result<(Vec<f64>, Vec<&str>), String> {
    let complete = match csv.rfind('\n') {
        Some(end) => &csv[..end],
        None => "",
    };
    let mut labels = Vec::new();
    let mut rows = Vec::new();
    for (i, line) in complete.lines().take(max_rows).enumerate() {
        let (label, features) = line
            .split_once(',')
            .ok_or_else(|| format!("line {} has no features", i + 1))?;
        let label: f64 = label
            .parse()
            .map_err(|_| format!("line {}: label {label:?} is not a number", i + 1))?;
        labels.push(label);
        rows.push(features);
    }
    Ok((labels, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmse_and_mae_by_hand() {
        // Errors 3, -4, 0: squares 9 + 16 + 0 = 25, mean 25/3; absolutes 7/3.
        let q = ModelQuality::of(&[10.0, 20.0, 30.0], &[7.0, 24.0, 30.0], Some(2.0));
        assert!((q.rmse - (25.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((q.mae - 7.0 / 3.0).abs() < 1e-12);
        assert_eq!(q.rows, 3);
        assert!((q.rmse_ratio.unwrap() - q.rmse / 2.0).abs() < 1e-12);
        assert_eq!(ModelQuality::of(&[1.0], &[1.0], None).rmse_ratio, None);
    }

    #[test]
    fn a_partial_last_line_is_dropped_and_rows_are_bounded() {
        let csv = "1.5,0.1,0.2\n2.5,0.3,0.4\n3.5,0.5";
        let (labels, rows) = labelled_rows(csv, 10).unwrap();
        assert_eq!(labels, [1.5, 2.5]);
        assert_eq!(rows, ["0.1,0.2", "0.3,0.4"]);
        let (labels, _) = labelled_rows("1,2\n3,4\n5,6\n", 2).unwrap();
        assert_eq!(labels, [1.0, 3.0]);
        assert!(labelled_rows("x,1\n", 5).unwrap_err().contains("label"));
        assert_eq!(labelled_rows("", 5).unwrap().0, Vec::<f64>::new());
    }
}
