//! No training/serving skew: for every row of the real data's test split, the
//! CSV row the predictions send to the endpoint — made from the row's raw
//! fields as a client sends them, checked by the contract, imputed with the
//! training report's values, featurised by the one feature function — is
//! byte-identical to the ETL's XGBoost CSV row for it, label aside.

use integration_tests::{housing, run_etl};
use local_stack::predictions::held_out;
use serde_json::json;
use shared::contract::TOTAL_BEDROOMS;
use shared::dataset::{OutputKind, Source};
use shared::features::BedroomFills;
use shared::serving::request::{self, MAX_INSTANCES};

#[test]
fn every_test_row_is_sent_exactly_as_the_training_csv_has_it() {
    let raw = housing();
    let output = run_etl(&raw, &Source::default(), &Default::default()).unwrap();
    let held = held_out(&raw, &output.read(OutputKind::TestParquet).unwrap()).unwrap();
    assert_eq!(held.len() as u64, output.report.splits["test"]);
    let imputation = BedroomFills {
        values: output.report.imputations[TOTAL_BEDROOMS].values.clone(),
    };
    let mut sent = String::new();
    for chunk in held.chunks(MAX_INSTANCES) {
        let records: Vec<_> = chunk.iter().map(|h| h.record.clone()).collect();
        let body = json!({ "instances": records }).to_string();
        let parsed = request::parse(body.as_bytes()).unwrap();
        let inputs: Vec<_> = parsed
            .iter()
            .map(|r| imputation.inputs(r).unwrap())
            .collect();
        sent.push_str(&request::csv_body(&inputs));
    }
    let channel = String::from_utf8(output.read(OutputKind::TestXgboost).unwrap()).unwrap();
    let trained: Vec<&str> = channel
        .lines()
        .map(|l| l.split_once(',').unwrap().1)
        .collect();
    let sent: Vec<&str> = sent.lines().collect();
    assert_eq!(sent.len(), trained.len());
    for (i, (s, t)) in sent.iter().zip(&trained).enumerate() {
        assert_eq!(s, t, "test row {i} (line {}) differs", held[i].line);
    }
    // The imputation path is part of what was compared.
    let imputed = held
        .iter()
        .filter(|h| h.record.get(TOTAL_BEDROOMS).is_none())
        .count();
    assert!(imputed > 10, "only {imputed} test rows lack total_bedrooms");
}
