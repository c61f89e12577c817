//! Batch scoring's data side (issue 30), on the real data: a file to score is
//! checked by the contract's input checks and sent to the transform job
//! exactly as the model was trained on it (label aside), every row scored or
//! quarantined with the ETL's reasons; the job's answers, however the
//! container batched them, are joined back to their rows, and a job that
//! answered too few or too many rows is refused.

use integration_tests::{housing, run_etl};
use local_stack::predictions::held_out;
use polars::prelude::*;
use shared::contract::{TARGET, TOTAL_BEDROOMS};
use shared::dataset::{OutputKind, Source};
use shared::features::BedroomFills;
use shared::scoring::join::join;
use shared::scoring::prepare::{prepare, Prepared, LINE, PREDICTION};
use shared::scoring::ScoringError;
use std::io::Cursor;

struct Scored {
    prepared: Prepared,
    transform_input: String,
    rows: Vec<u8>,
    quarantine: String,
}

fn score(file: &str, fills: &BedroomFills) -> Result<Scored, ScoringError> {
    let (mut transform_input, mut rows, mut quarantine) = (Vec::new(), Vec::new(), Vec::new());
    let prepared = prepare(
        file.as_bytes(),
        fills,
        &mut transform_input,
        &mut rows,
        &mut quarantine,
    )?;
    Ok(Scored {
        prepared,
        transform_input: String::from_utf8(transform_input).unwrap(),
        rows,
        quarantine: String::from_utf8(quarantine).unwrap(),
    })
}

/// The real data's test split as a file to score (its raw lines, as a
/// provider would send them), and the ETL's training medians.
fn test_split() -> (String, Vec<String>, BedroomFills) {
    let raw = housing();
    let output = run_etl(&raw, &Source::default(), &Default::default()).unwrap();
    let held = held_out(&raw, &output.read(OutputKind::TestParquet).unwrap()).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut file = format!("{}\n", lines[0]);
    for h in &held {
        file.push_str(lines[h.line as usize - 1]);
        file.push('\n');
    }
    let channel = String::from_utf8(output.read(OutputKind::TestXgboost).unwrap()).unwrap();
    let trained = channel
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect();
    let fills = BedroomFills {
        values: output.report.imputations[TOTAL_BEDROOMS].values.clone(),
    };
    (file, trained, fills)
}

/// The container's answers for `scores`, `per_answer` rows an answer (its
/// mini-batches), one answer a line as `AssembleWith: Line` writes them.
fn container_output(scores: &[f64], per_answer: usize) -> String {
    scores
        .chunks(per_answer)
        .map(|chunk| {
            let predictions: Vec<_> = chunk
                .iter()
                .map(|s| serde_json::json!({ "score": s }))
                .collect();
            serde_json::json!({ "predictions": predictions }).to_string() + "\n"
        })
        .collect()
}

#[test]
fn a_file_of_the_test_split_is_sent_as_the_model_was_trained_and_joined_back() {
    let (file, trained, fills) = test_split();
    let scored = score(&file, &fills).unwrap();
    let p = &scored.prepared;
    assert_eq!(p.rows_in, trained.len() as u64);
    assert_eq!((p.rows_scored, p.rows_quarantined), (p.rows_in, 0));
    assert!(p.has_target && p.rows_with_target == p.rows_in);
    assert!(p.rows_imputed > 10, "only {} rows imputed", p.rows_imputed);
    let sent: Vec<&str> = scored.transform_input.lines().collect();
    assert_eq!(sent.len(), trained.len());
    for (i, (s, t)) in sent.iter().zip(&trained).enumerate() {
        assert_eq!(s, t, "row {i} is not sent as the model was trained on it");
    }

    // Scores the test can check: a function of the row's line.
    let scores: Vec<f64> = (0..p.rows_scored)
        .map(|i| 100_000.0 + i as f64 * 3.5)
        .collect();
    let output = container_output(&scores, 1000);
    let (mut csv, mut parquet) = (Vec::new(), Vec::new());
    let joined = join(&scored.rows[..], output.as_bytes(), &mut csv, &mut parquet).unwrap();
    assert_eq!(joined.rows, p.rows_scored);

    let frame = ParquetReader::new(Cursor::new(&parquet)).finish().unwrap();
    let from_csv = CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(Cursor::new(&csv))
        .finish()
        .unwrap();
    assert_eq!(frame.height(), scores.len());
    assert_eq!(from_csv.height(), scores.len());
    let predicted: Vec<f64> = frame
        .column(PREDICTION)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(predicted, scores);
    let lines: Vec<u64> = frame
        .column(LINE)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(lines, (2..2 + scores.len() as u64).collect::<Vec<_>>());

    // The evaluation is the errors against the file's own targets.
    let targets: Vec<f64> = frame
        .column(TARGET)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let n = targets.len() as f64;
    let rmse = (targets
        .iter()
        .zip(&scores)
        .map(|(t, s)| (t - s).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let mae = targets
        .iter()
        .zip(&scores)
        .map(|(t, s)| (t - s).abs())
        .sum::<f64>()
        / n;
    let evaluation = joined.evaluation.unwrap();
    assert_eq!(evaluation.rows, p.rows_scored);
    assert!(
        (evaluation.rmse - rmse).abs() < 1e-6 * rmse,
        "{} vs {rmse}",
        evaluation.rmse
    );
    assert!(
        (evaluation.mae - mae).abs() < 1e-6 * mae,
        "{} vs {mae}",
        evaluation.mae
    );
}

#[test]
fn bad_rows_are_quarantined_with_the_etl_reasons_and_the_rest_scored() {
    let fills = BedroomFills {
        values: [("*".to_string(), 400.0)].into_iter().collect(),
    };
    let file = "\u{feff}Longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,ocean_proximity,note\n\
        -122.23,37.88,41,880,129,322,126,8.3252,NEAR BAY,a\n\
        -122.23,95,41,880,129,322,126,8.3252,NEAR BAY,latitude out of range\n\
        -122.23,37.88,41,880,,322,126,8.3252,near  bay,imputed; category forgiven\n\
        -122.23,37.88,41,880,900,322,126,8.3252,NEAR BAY,more bedrooms than rooms\n\
        -122.23,37.88,41,880,129,322,126,8.3252,OCEAN,unknown category\n\
        -122.23,37.88,41\n\
        -122.23,37.88,41,880,129,322,126,8.3252,NEAR BAY,a\n";
    let scored = score(file, &fills).unwrap();
    let p = &scored.prepared;
    assert_eq!((p.rows_in, p.rows_scored, p.rows_quarantined), (7, 3, 4));
    assert!(!p.has_target);
    assert_eq!(p.rows_imputed, 1);
    assert_eq!(p.ignored_columns, ["note"]);
    let reasons: Vec<(&str, u64)> = p.reasons.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        reasons,
        [
            ("bedrooms_exceed_rooms", 1),
            ("field_count", 1),
            ("out_of_range:latitude", 1),
            ("unknown_category:ocean_proximity", 1)
        ]
    );
    // The quarantine keeps each bad row as it was read, with its line.
    let quarantined: Vec<&str> = scored.quarantine.lines().collect();
    assert_eq!(quarantined.len(), 5);
    assert!(
        quarantined[0].starts_with("source_line,reasons,Longitude,"),
        "{}",
        quarantined[0]
    );
    assert!(quarantined[1].starts_with("3,out_of_range:latitude,-122.23,95,"));
    assert_eq!(quarantined[4], "7,field_count,-122.23,37.88,41");
    // A repeated row is scored again: a scoring file may repeat on purpose.
    let rows = String::from_utf8(scored.rows.clone()).unwrap();
    let lines: Vec<&str> = rows
        .lines()
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(lines, ["line", "2", "4", "8"]);
    assert!(
        rows.contains(",880.0,,322.0,126.0,8.3252,NEAR BAY,4\n"),
        "{rows}"
    );
    // The imputed row's features carry the fill.
    let second = scored.transform_input.lines().nth(1).unwrap();
    assert!(
        second.starts_with("-122.23,37.88,41.0,880.0,400.0,322.0,126.0,8.3252,"),
        "{second}"
    );
}

#[test]
fn a_file_that_cannot_be_scored_is_rejected_with_why() {
    let fills = BedroomFills::default();
    let cases = [
        ("", "empty"),
        ("longitude,latitude\n-122,37\n", "lacks housing_median_age"),
        (
            "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,ocean_proximity,latitude\n",
            "latitude is given twice",
        ),
        (
            "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,ocean_proximity\n-122,95,41,880,129,322,126,8.3,INLAND\n",
            "no row to score: 1 read, 1 quarantined",
        ),
    ];
    for (file, why) in cases {
        let Err(ScoringError::Rejected(message)) = score(file, &fills) else {
            panic!("{file:?} was not rejected");
        };
        assert!(message.contains(why), "{file:?}: {message}");
    }
    // A missing bedrooms count with nothing to impute it from is the row's
    // problem, not the file's.
    let file = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,ocean_proximity\n\
        -122,37,41,880,,322,126,8.3,INLAND\n-122,37,41,880,100,322,126,8.3,INLAND\n";
    let scored = score(file, &fills).unwrap();
    assert_eq!(
        scored.prepared.reasons.keys().collect::<Vec<_>>(),
        ["unimputable:total_bedrooms"]
    );
}

#[test]
fn answers_that_do_not_match_the_rows_are_refused() {
    let fills = BedroomFills::default();
    let file = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,ocean_proximity,median_house_value\n\
        -122,37,41,880,100,322,126,8.3,INLAND,200000\n-122,37,41,880,100,322,126,8.3,INLAND,\n-121,37,41,880,100,322,126,8.3,INLAND,abc\n";
    let scored = score(file, &fills).unwrap();
    assert_eq!(scored.prepared.rows_with_target, 1);
    let join_with =
        |output: &str| join(&scored.rows[..], output.as_bytes(), Vec::new(), Vec::new());
    // However the answers are batched, three rows take three scores.
    for per_answer in [1, 2, 3] {
        let joined = join_with(&container_output(&[1.0, 2.0, 3.0], per_answer)).unwrap();
        assert_eq!(joined.rows, 3);
        let evaluation = joined.evaluation.unwrap();
        assert_eq!((evaluation.rows, evaluation.mae), (1, 199_999.0));
    }
    let refused = [
        container_output(&[1.0, 2.0], 2),
        container_output(&[1.0, 2.0, 3.0, 4.0], 2),
        "{\"predictions\": [{\"score\": 1.0}, {\"score\": 2.0}, {\"score\": 3.0}]}\nnot json\n"
            .to_string(),
        "{\"scores\": [1, 2, 3]}".to_string(),
    ];
    for output in refused {
        match join_with(&output) {
            Err(ScoringError::Mismatch(_)) => {}
            other => panic!("{output:?}: {other:?}"),
        }
    }
}
