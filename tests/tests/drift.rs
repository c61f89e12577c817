//! The ETL's drift profile and the drift report on the demo's files: the real
//! housing data against a shifted copy (incomes scaled, one region removed),
//! a fixed half of it, and itself, under the bundled `infra/drift.yaml`.

use integration_tests::{repo_root, run_etl, LocalOutput};
use local_stack::samples;
use shared::dataset::{OutputKind, Source};
use shared::drift::policy::{profiled_columns, DriftPolicy, BUNDLED};
use shared::drift::profile::DatasetProfile;
use shared::drift::report::{compare, DriftReport};
use shared::etl::EtlOptions;

fn housing() -> Vec<u8> {
    std::fs::read(repo_root().join("data/housing.csv")).expect("data/housing.csv")
}

fn process(bytes: &[u8]) -> (LocalOutput, DatasetProfile) {
    let source = Source {
        source: "housing.csv".into(),
        ..Default::default()
    };
    let output = run_etl(bytes, &source, &EtlOptions::default()).expect("processed");
    let profile = serde_json::from_slice(&output.read(OutputKind::Profile).unwrap())
        .expect("profile.json is a DatasetProfile");
    (output, profile)
}

fn report(baseline: &DatasetProfile, current: &DatasetProfile) -> DriftReport {
    let policy = DriftPolicy::parse(BUNDLED).unwrap();
    let report = compare(baseline, current, current.dataset_id.as_str(), &policy);
    // The scores, for the record (`cargo test --test drift -- --nocapture`).
    for (name, c) in &report.columns {
        eprintln!(
            "{} {name}: psi {:.4} js {:.4} ks {:?} {:?}",
            report.current, c.scores.psi, c.scores.js, c.scores.ks, c.crossed
        );
    }
    report
}

#[test]
fn the_profile_covers_every_column_and_agrees_with_the_report() {
    let (output, profile) = process(&housing());
    assert_eq!(profile.dataset_id, output.dataset_id);
    assert_eq!(profile.rows, output.report.rows_out);
    let mut columns: Vec<&str> = profile
        .numeric
        .keys()
        .chain(profile.categories.keys())
        .map(String::as_str)
        .collect();
    columns.sort();
    let mut expected: Vec<&str> = profiled_columns().collect();
    expected.sort();
    assert_eq!(columns, expected);
    for (name, p) in &profile.numeric {
        let stats = &output.report.columns[name];
        assert_eq!((p.min, p.max), (stats.min, stats.max), "{name}");
        assert_eq!(p.nulls, stats.null_count, "{name}");
        assert_eq!(Some(p.quantiles[50]), stats.quantiles["p50"], "{name}");
        assert_eq!(p.count + p.nulls, profile.rows, "{name}");
        assert_eq!(p.counts.iter().sum::<u64>(), p.count, "{name}");
    }
    // Profiled as the model sees it: the 207 blank total_bedrooms are imputed.
    assert_eq!(profile.numeric["total_bedrooms"].nulls, 0);
    assert_eq!(output.report.imputations["total_bedrooms"].count, 207);
    let ocean = &profile.categories["ocean_proximity"];
    assert_eq!(ocean.count, profile.rows);
    assert_eq!(ocean.frequencies["ISLAND"], 5);
}

#[test]
fn the_shifted_file_drifts_where_it_was_shifted_and_a_resample_does_not() {
    let data = housing();
    let (_, original) = process(&data);
    let (_, shifted) = process(&samples::shifted(&data).unwrap());
    let (_, half) = process(&samples::half(&data).unwrap());

    let itself = report(&original, &original);
    assert!(itself.drifted.is_empty(), "{itself:?}");
    assert!(itself
        .columns
        .values()
        .all(|c| c.scores.psi == 0.0 && c.scores.js == 0.0 && c.scores.ks.unwrap_or(0.0) == 0.0));

    let resample = report(&original, &half);
    assert!(resample.drifted.is_empty(), "{:?}", resample.columns);
    assert!(half.rows > 9_000 && half.rows < 11_600, "{}", half.rows);

    let moved = report(&original, &shifted);
    for column in ["median_income", "ocean_proximity"] {
        assert!(
            moved.drifted.iter().any(|d| d == column),
            "{column}: {moved:?}"
        );
    }
    // Incomes × 1.3: KS is large; the category lost a tenth of the rows.
    assert!(moved.columns["median_income"].scores.ks.unwrap() > 0.15);
    assert!(moved.columns["ocean_proximity"].scores.psi > 0.5);
    // What the shift did not touch stays below its thresholds.
    for column in ["housing_median_age", "rooms_per_household"] {
        assert!(
            !moved.drifted.iter().any(|d| d == column),
            "{column}: {moved:?}"
        );
    }
}
