//! Live traffic as a profile: the feature rows an endpoint received, read back
//! from its data capture (SageMaker's JSON Lines: one `captureData` object per
//! captured request, `endpointInput` holding the request body), and profiled
//! like a dataset — the inputs and ratios as numeric columns, the one-hot
//! columns back to `ocean_proximity`. No label: `median_house_value` is not
//! compared.

use super::profile::{CategoryProfile, DatasetProfile, NumericProfile, PROFILE_SCHEMA_VERSION};
use super::quality::QUALITY_INFERENCE_PREFIX;
use crate::aws::ContainerAnswer;
use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES};
use crate::dataset::DatasetId;
use crate::features::{FEATURES, INPUTS, RATIO_FEATURES};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One model input row, in the XGBoost channel's feature order.
pub type FeatureRow = [f64; FEATURES];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaptureRecord {
    capture_data: CaptureData,
    #[serde(default)]
    event_metadata: EventMetadata,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EventMetadata {
    inference_id: Option<String>,
    inference_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaptureData {
    endpoint_input: Option<Payload>,
    #[serde(default)]
    endpoint_output: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    data: String,
    encoding: String,
}

/// What a capture file held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Read {
    /// Captured requests whose rows were taken.
    pub requests: u64,
    /// Lines that were not a CSV-encoded request of feature rows (another
    /// encoding, no input captured, malformed), and rows of the wrong width.
    pub skipped: u64,
    /// The trigger's own quality-check requests (not live traffic).
    pub internal: u64,
}

/// Appends the feature rows of a capture file's JSON lines to `rows`, at most
/// up to `max_rows` rows in all.
pub fn read_capture(jsonl: &str, rows: &mut Vec<FeatureRow>, max_rows: usize) -> Read {
    let mut read = Read::default();
    for line in jsonl.lines() {
        if rows.len() >= max_rows {
            break;
        }
        read_capture_line(line.as_bytes(), &mut read, |row| {
            if rows.len() < max_rows {
                rows.push(row)
            }
        });
    }
    read
}

/// Hands each feature row of one captured request (a JSON line of a capture
/// file) to `row`, and counts the line in `read`.
pub fn read_capture_line(line: &[u8], read: &mut Read, mut row: impl FnMut(FeatureRow)) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let record = serde_json::from_slice::<CaptureRecord>(line).ok();
    let inference = record
        .as_ref()
        .and_then(|r| r.event_metadata.inference_id.as_deref());
    if inference.is_some_and(|i| i.starts_with(QUALITY_INFERENCE_PREFIX)) {
        read.internal += 1;
        return;
    }
    let input = record
        .and_then(|r| r.capture_data.endpoint_input)
        .filter(|p| p.encoding.eq_ignore_ascii_case("CSV"));
    let Some(input) = input else {
        read.skipped += 1;
        return;
    };
    read.requests += 1;
    for line in input.data.lines().filter(|l| !l.trim().is_empty()) {
        match parse_row(line) {
            Some(parsed) => row(parsed),
            None => read.skipped += 1,
        }
    }
}

/// One captured request's answers: each CSV row it sent (as sent) with the
/// prediction the variant answered for it (the built-in container's
/// `{"predictions": [{"score": …}]}`, or one score a line). `None` for a line
/// that is not such a request, whose answer was not captured, or whose answer
/// does not have one score a row; and for the trigger's quality-check requests.
pub fn read_answers(line: &[u8]) -> Option<Vec<(String, f64)>> {
    read_answers_since(line, i64::MIN)
}

/// [`read_answers`] of a request made at `since_secs` (Unix seconds) or
/// later, by its `inferenceTime`: `None` for an earlier one (a record without
/// a readable time is taken).
pub fn read_answers_since(line: &[u8], since_secs: i64) -> Option<Vec<(String, f64)>> {
    let record = serde_json::from_slice::<CaptureRecord>(line).ok()?;
    let at = record
        .event_metadata
        .inference_time
        .as_deref()
        .and_then(|t| {
            aws_smithy_types::DateTime::from_str(t, aws_smithy_types::date_time::Format::DateTime)
                .ok()
        });
    if at.is_some_and(|at| at.secs() < since_secs) {
        return None;
    }
    let inference = record.event_metadata.inference_id.as_deref();
    if inference.is_some_and(|i| i.starts_with(QUALITY_INFERENCE_PREFIX)) {
        return None;
    }
    let input = record
        .capture_data
        .endpoint_input
        .filter(|p| p.encoding.eq_ignore_ascii_case("CSV"))?;
    let output = record.capture_data.endpoint_output?;
    let scores: Vec<f64> = if output.encoding.eq_ignore_ascii_case("JSON") {
        serde_json::from_str::<ContainerAnswer>(&output.data)
            .ok()?
            .scores()
    } else if output.encoding.eq_ignore_ascii_case("CSV") {
        let scores = output.data.lines().filter(|l| !l.trim().is_empty());
        scores
            .map(|l| l.trim().parse().ok())
            .collect::<Option<_>>()?
    } else {
        return None;
    };
    let rows: Vec<String> = input
        .data
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    (rows.len() == scores.len() && scores.iter().all(|s| s.is_finite()))
        .then(|| rows.into_iter().zip(scores).collect())
}

/// A row of the features as predict sends them, every value a finite number:
/// Rust reads `inf`, `NaN` and `1e999` as floats, and such a value would turn
/// the window's profile (its mean, its quantiles) into nonsense.
fn parse_row(line: &str) -> Option<FeatureRow> {
    let mut row = [0.0; FEATURES];
    let mut fields = line.split(',');
    for value in row.iter_mut() {
        *value = fields
            .next()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())?;
    }
    fields.next().is_none().then_some(row)
}

/// The rows' profile, as the ETL profiles a dataset (without the label).
/// `baseline` names the dataset the traffic is compared with.
pub fn profile(rows: &[FeatureRow], baseline: &DatasetId) -> DatasetProfile {
    let column = |i: usize| NumericProfile::of(rows.iter().map(|r| Some(r[i])));
    let mut numeric = BTreeMap::new();
    for (i, c) in NUMERIC_COLUMNS[..INPUTS].iter().enumerate() {
        numeric.insert(c.name.to_string(), column(i));
    }
    for (j, name) in RATIO_FEATURES.iter().enumerate() {
        numeric.insert(name.to_string(), column(INPUTS + j));
    }
    let one_hot = INPUTS + RATIO_FEATURES.len();
    let category = |r: &FeatureRow| {
        OCEAN_PROXIMITY_CATEGORIES
            .iter()
            .enumerate()
            .find(|(k, _)| r[one_hot + k] == 1.0)
            .map(|(_, c)| *c)
    };
    let categories = BTreeMap::from([(
        OCEAN_PROXIMITY.to_string(),
        CategoryProfile::of(rows.iter().map(category)),
    )]);
    DatasetProfile {
        schema_version: PROFILE_SCHEMA_VERSION,
        dataset_id: baseline.clone(),
        rows: rows.len() as u64,
        numeric,
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{features, write_csv_row, Inputs};

    fn request(rows: &[FeatureRow]) -> String {
        let mut body = String::new();
        for r in rows {
            write_csv_row(&mut body, None, r);
            body.push('\n');
        }
        serde_json::json!({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": body, "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": "{}", "encoding": "JSON"}
            },
            "eventMetadata": {"eventId": "e", "inferenceTime": "2026-12-03T10:00:00Z"},
            "eventVersion": "0"
        })
        .to_string()
    }

    fn row(income: f64, category: usize) -> FeatureRow {
        features(&Inputs {
            numeric: [-122.0, 37.0, 20.0, 1000.0, 200.0, 500.0, 180.0, income],
            category,
        })
    }

    #[test]
    fn a_captured_request_s_rows_come_back_with_their_answers() {
        let record = |output: serde_json::Value| {
            serde_json::json!({
                "captureData": {
                    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2\n3,4\n", "encoding": "CSV"},
                    "endpointOutput": output
                },
                "eventMetadata": {"eventId": "e", "inferenceTime": "2026-12-03T10:00:00Z"},
                "eventVersion": "0"
            })
            .to_string()
        };
        let json = record(
            serde_json::json!({"data": "{\"predictions\": [{\"score\": 1.5}, {\"score\": 2.5}]}", "encoding": "JSON"}),
        );
        let expected = vec![("1,2".to_string(), 1.5), ("3,4".to_string(), 2.5)];
        assert_eq!(read_answers(json.as_bytes()), Some(expected.clone()));
        let csv = record(serde_json::json!({"data": "1.5\n2.5\n", "encoding": "CSV"}));
        assert_eq!(read_answers(csv.as_bytes()), Some(expected.clone()));
        // 2026-12-03T10:00:00Z is 1_796_292_000: answered before a test that
        // started a second later, not counted for it.
        assert_eq!(
            read_answers_since(csv.as_bytes(), 1_796_292_000),
            Some(expected)
        );
        assert_eq!(read_answers_since(csv.as_bytes(), 1_796_292_001), None);
        // One answer short, not captured, another encoding, not JSON: nothing.
        let short = record(
            serde_json::json!({"data": "{\"predictions\": [{\"score\": 1.5}]}", "encoding": "JSON"}),
        );
        let base64 = record(serde_json::json!({"data": "MSwy", "encoding": "BASE64"}));
        for line in [
            short.as_str(),
            base64.as_str(),
            "not json",
            r#"{"captureData": {}}"#,
        ] {
            assert_eq!(read_answers(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn captured_rows_come_back_as_the_features_sent() {
        let sent = [row(2.5, 0), row(8.25, 3), row(1.0, 4)];
        let base64 =
            r#"{"captureData": {"endpointInput": {"data": "MSwy", "encoding": "BASE64"}}}"#;
        let file = format!(
            "{}\n{base64}\nnot json\n{}\n",
            request(&sent[..2]),
            request(&sent[2..])
        );
        let mut rows = Vec::new();
        let read = read_capture(&file, &mut rows, 100);
        assert_eq!(rows, sent);
        assert_eq!(
            read,
            Read {
                requests: 2,
                skipped: 2,
                internal: 0
            }
        );
        // The trigger's quality check is not traffic.
        let quality = request(&sent).replace(
            r#""eventId":"e""#,
            r#""eventId":"e","inferenceId":"housing-mlops-quality-ds-1-0""#,
        );
        let mut left_out = Vec::new();
        let read = read_capture(&quality, &mut left_out, 100);
        assert!(left_out.is_empty());
        assert_eq!(read.internal, 1);
        // The bound holds inside a request.
        let mut bounded = Vec::new();
        read_capture(&file, &mut bounded, 1);
        assert_eq!(bounded, sent[..1]);
        // A row of the wrong width is skipped.
        let short = request(&[]).replace(r#""data":"""#, r#""data":"1,2,3\n""#);
        let mut none = Vec::new();
        assert_eq!(read_capture(&short, &mut none, 10).skipped, 1);
        assert!(none.is_empty());
        // So is a row with a value that is not a finite number.
        let line = |last: &str| {
            let fields = vec!["1"; FEATURES - 1].join(",");
            request(&[]).replace(r#""data":"""#, &format!(r#""data":"{fields},{last}\n""#))
        };
        let mut finite = Vec::new();
        read_capture(&line("2.5"), &mut finite, 10);
        assert_eq!(finite.len(), 1, "a finite row of the same shape is read");
        for bad in ["inf", "NaN", "1e999", "-infinity"] {
            let mut rows = Vec::new();
            assert_eq!(read_capture(&line(bad), &mut rows, 10).skipped, 1, "{bad}");
            assert!(rows.is_empty(), "{bad}: {rows:?}");
        }
    }

    #[test]
    fn the_profile_has_the_datasets_columns_but_the_label() {
        let rows = [row(2.5, 0), row(8.25, 3), row(1.0, 3)];
        let id: DatasetId = "ds-0123456789abcdef0123456789abcdef".parse().unwrap();
        let p = profile(&rows, &id);
        assert_eq!(p.rows, 3);
        assert_eq!(p.numeric.len(), INPUTS + RATIO_FEATURES.len());
        assert!(!p.numeric.contains_key(crate::contract::TARGET));
        assert_eq!(p.numeric["median_income"].max, Some(8.25));
        let categories = &p.categories[OCEAN_PROXIMITY].frequencies;
        assert_eq!(categories[OCEAN_PROXIMITY_CATEGORIES[3]], 2);
        assert_eq!(categories[OCEAN_PROXIMITY_CATEGORIES[0]], 1);
    }
}
