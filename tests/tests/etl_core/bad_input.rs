//! Crafted bad files: rows quarantined with their reasons, limits, whole-file rejections, corruption.

use super::*;

#[test]
fn bad_rows_are_quarantined_with_reasons_and_original_fields() {
    let body = [
        "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY",
        "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY",
        "-122.22,37.86,21.0,7099.0,1106.0,2401.0,1138.0,8.3014,358500.0,  inland ",
        "-122.24,,52.0,1467.0,190.0,496.0,177.0,7.2574,352100.0,NEAR BAY",
        "-122.25,37.85,52.0,1274.0,235.0,558.0,219.0,5.6431,341300.0,ATLANTIS",
        "\"-122.25\",\"37.85\",\"52.0\",\"1,274.0\",235.0,558.0,219.0,5.6431,341300.0,NEAR BAY",
        "-122.25,37.85,52.0",
        "0,0,0,0,0,0,0,0,0,INLAND",
    ]
    .join("\n");
    let text = format!("{HEADER},comment\n{}\n", body.replace('\n', ",x\n") + ",x");
    let output = process(text.as_bytes());
    let r = &output.report;
    assert_eq!(
        (r.rows_in, r.rows_out, r.rows_quarantined, r.rows_duplicate),
        (8, 2, 5, 1)
    );
    assert_eq!(r.ignored_columns, vec!["comment"]);
    let expected: BTreeMap<String, u64> = [
        ("missing_value:latitude", 1),
        ("unknown_category:ocean_proximity", 1),
        ("not_a_number:total_rooms", 1),
        ("field_count", 1),
        ("out_of_range:longitude", 1),
        ("out_of_range:latitude", 1),
        ("out_of_range:total_rooms", 1),
        ("out_of_range:population", 1),
        ("out_of_range:households", 1),
        ("out_of_range:median_house_value", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(r.reasons, expected);

    let quarantine = String::from_utf8(output.read(OutputKind::Quarantine).unwrap()).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(quarantine.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[..3], ["source_line", "reasons", "longitude"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let unknown = rows
        .iter()
        .find(|r| &r[1] == "unknown_category:ocean_proximity")
        .unwrap();
    assert_eq!(&unknown[0], "6");
    assert_eq!(&unknown[11], "ATLANTIS");
    let thousands = rows
        .iter()
        .find(|r| &r[1] == "not_a_number:total_rooms")
        .unwrap();
    assert_eq!(&thousands[5], "1,274.0", "original field kept verbatim");
}

#[test]
fn the_row_limit_is_checked_before_parsing() {
    let at = |max: usize| EtlOptions {
        max_rows: Some(max),
        ..Default::default()
    };
    let output = run_etl(&housing(), &source(), &at(20_640)).unwrap();
    assert_eq!(output.report.rows_in, 20_640);
    let rejection = match run_etl(&housing(), &source(), &at(20_639)) {
        Err(EtlError::Rejected(r)) => r,
        other => panic!(
            "expected a rejection, got {:?}",
            other.map(|o| o.report.rows_in)
        ),
    };
    assert_eq!(rejection.code, RejectionCode::TooLarge);
    assert!(
        rejection
            .message
            .contains("20640 lines after the header, over the limit of 20639 rows"),
        "{}",
        rejection.message
    );

    // Old Mac line ends (a lone CR) are rows to the reader, so they are lines to the limit.
    let cr_only: Vec<u8> = housing()
        .into_iter()
        .map(|b| if b == b'\n' { b'\r' } else { b })
        .collect();
    match run_etl(&cr_only, &source(), &at(14_000)) {
        Err(EtlError::Rejected(r)) => assert_eq!(r.code, RejectionCode::TooLarge, "{r}"),
        other => panic!(
            "a CR-only file passed the limit: {:?}",
            other.map(|o| o.report.rows_in)
        ),
    }
    let output = run_etl(&cr_only, &source(), &at(20_640)).unwrap();
    assert_eq!(output.report.rows_out, 20_640);
}

#[test]
fn capped_policy_quarantine_moves_capped_rows() {
    let options = EtlOptions {
        capped_policy: CappedPolicy::Quarantine,
        ..Default::default()
    };
    let output = run_etl(&housing(), &source(), &options).unwrap();
    let r = &output.report;
    assert!(r.rows_balance());
    assert_eq!(r.reasons["capped:median_house_value"], 965);
    assert_eq!(r.reasons["capped:housing_median_age"], 1_273);
    assert_eq!(r.capped["median_house_value"], 0);
    assert_eq!(r.options.capped_policy, "quarantine");
}

#[test]
fn whole_file_rejections_name_the_problem() {
    let cases: Vec<(Vec<u8>, RejectionCode, &str)> = vec![
        (vec![], RejectionCode::Empty, "empty"),
        (
            b"\x1f\x8b\x08\x00\x00\x00".to_vec(),
            RejectionCode::NotText,
            "gzip",
        ),
        (b"PAR1\x15\x04".to_vec(), RejectionCode::NotText, "Parquet"),
        (
            [
                format!("{HEADER}\n1,2,3,4,5,6,7,8,9,caf").as_bytes(),
                &[0xe9, b'\n'],
            ]
            .concat(),
            RejectionCode::NotUtf8,
            "not UTF-8",
        ),
        (
            HEADER.replace(',', ";").into_bytes(),
            RejectionCode::WrongDelimiter,
            "';'",
        ),
        (
            b"longitude,latitude,total_rooms\n1,2,3\n".to_vec(),
            RejectionCode::MissingColumns,
            "median_income",
        ),
        (
            format!("{HEADER}\n").into_bytes(),
            RejectionCode::NoDataRows,
            "no data rows",
        ),
    ];
    for (bytes, code, needle) in cases {
        match run_etl(&bytes, &source(), &EtlOptions::default()) {
            Err(EtlError::Rejected(r)) => {
                assert_eq!(r.code, code, "{r}");
                assert!(
                    r.to_string().contains(needle),
                    "{r} should mention {needle}"
                );
                assert!(!r.to_string().contains('\n'));
            }
            other => panic!(
                "expected {code:?}, got {:?}",
                other.map(|o| o.report.rows_in)
            ),
        }
    }
}

/// Random corruptions of a valid file: the core never panics, and every
/// processed file keeps the row accounting exact.
#[test]
fn corrupted_inputs_never_panic() {
    let text = String::from_utf8(housing()).unwrap();
    let sample: Vec<u8> = text
        .lines()
        .take(60)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let noise = [b',', b'"', b'\n', b'\r', 0u8, 0xff, b'x', b' ', b';', b'-'];
    for _ in 0..300 {
        let mut bytes = sample.clone();
        for _ in 0..(next() % 8 + 1) {
            let at = (next() as usize) % bytes.len().max(1);
            match next() % 3 {
                0 => bytes[at] = noise[(next() % noise.len() as u64) as usize],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, noise[(next() % noise.len() as u64) as usize]),
            }
        }
        match run_etl(&bytes, &source(), &EtlOptions::default()) {
            Ok(output) => assert!(output.report.rows_balance()),
            Err(EtlError::Rejected(_)) => {}
            Err(e @ (EtlError::Internal(_) | EtlError::DiskFull(_))) => {
                panic!("engine failure on corrupted input: {e}")
            }
        }
    }
}

#[test]
fn crlf_line_endings_read_like_lf() {
    let text = String::from_utf8(housing()).unwrap();
    let crlf = text.replace('\n', "\r\n");
    let (a, b) = (process(text.as_bytes()), process(crlf.as_bytes()));
    assert_eq!(b.report.rows_in, 20_640);
    assert_eq!(a.report.reasons, b.report.reasons);
    assert_eq!(
        a.read(OutputKind::TrainXgboost).unwrap(),
        b.read(OutputKind::TrainXgboost).unwrap()
    );
}
