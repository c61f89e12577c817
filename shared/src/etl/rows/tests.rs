//! The unit tests of `rows`.

use super::*;
use crate::etl::input::inspect;
use crate::etl::quarantine::Quarantined;

const HEADER: &str = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,median_house_value,ocean_proximity";

/// What a parse left: the kept rows, the quarantine's counts and its rows as
/// read back from the file (line, reasons, fields).
#[derive(Debug)]
struct Parsed {
    rows: ParsedRows,
    quarantined: Quarantined,
    file: Vec<Vec<String>>,
}

fn parse_text(body: &str, options: &EtlOptions) -> Result<Parsed, Rejection> {
    let text = format!("{HEADER}\n{body}");
    let inspected = inspect(&mut std::io::Cursor::new(text.as_bytes())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quarantine.csv");
    let mut quarantine = Quarantine::create(&path, &inspected.header).unwrap();
    let rows = match parse(text.as_bytes(), &inspected, options, &mut quarantine) {
        Ok(parsed) => parsed,
        Err(EtlError::Rejected(r)) => return Err(r),
        Err(e) => panic!("{e}"),
    };
    let quarantined = quarantine.finish().unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .unwrap();
    let file = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    Ok(Parsed {
        rows,
        quarantined,
        file,
    })
}

#[test]
fn every_row_has_one_outcome() {
    let body = "\
-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY
-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY
-122.16,37.77,47.0,1256.0,,570.0,218.0,4.375,161900.0, near bay
-122.22,95.0,21.0,7099.0,1106.0,2401.0,1138.0,8.3014,358500.0,NEAR BAY
-122.22,37.86,21.0,abc,1106.0,2401.0,1138.0,8.3014,358500.0,MOON
-122.22,37.86,21.0
-122.22,37.86,21.0,100,200,2401.0,1138.0,8.3014,358500.0,INLAND
";
    let Parsed {
        rows: parsed,
        quarantined,
        file,
    } = parse_text(body, &EtlOptions::default()).unwrap();
    assert_eq!(parsed.rows_in, 7);
    assert_eq!(parsed.rows_duplicate, 1);
    assert_eq!(parsed.kept.len(), 2);
    assert_eq!(quarantined.rows, 4);
    assert_eq!(
        file.len(),
        4,
        "one line in quarantine.csv per quarantined row"
    );
    let near_bay = OCEAN_PROXIMITY_CATEGORIES
        .iter()
        .position(|c| *c == "NEAR BAY")
        .unwrap() as u8;
    assert_eq!(parsed.kept.category, vec![near_bay, near_bay]);
    assert_eq!(parsed.kept.numeric[BEDROOMS][0], 129.0);
    assert!(parsed.kept.numeric[BEDROOMS][1].is_nan());
    assert_eq!(parsed.kept.source_line, vec![2, 4]);
    let reasons = &quarantined.reasons;
    assert_eq!(reasons["out_of_range:latitude"], 1);
    assert_eq!(reasons["not_a_number:total_rooms"], 1);
    assert_eq!(reasons["unknown_category:ocean_proximity"], 1);
    assert_eq!(reasons["field_count"], 1);
    assert_eq!(reasons["bedrooms_exceed_rooms"], 1);
    let short = file.iter().find(|r| r[1] == "field_count").unwrap();
    assert_eq!(short[2..], ["-122.22", "37.86", "21.0"]);
    assert_eq!(short[0], "7");
}

#[test]
fn lines_of_spaces_are_blank_lines() {
    let row = "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY";
    let other = "-122.22,37.86,21.0,7099.0,1106.0,2401.0,1138.0,8.3014,358500.0,NEAR BAY";
    let body = format!("{row}\n\n   \n\t \n{other}\n  \n");
    let parsed = parse_text(&body, &EtlOptions::default()).unwrap();
    assert_eq!(parsed.rows.rows_in, 2);
    assert_eq!(parsed.rows.kept.len(), 2);
    assert!(parsed.file.is_empty(), "{:?}", parsed.file);
    assert_eq!(parsed.rows.kept.source_line, vec![2, 6]);
    // A field of spaces inside a row is still that row's problem.
    let spaced = format!("{row}\n   ,37.86,21.0\n");
    let parsed = parse_text(&spaced, &EtlOptions::default()).unwrap();
    assert_eq!(parsed.quarantined.rows, 1);
}

#[test]
fn capped_rows_follow_the_policy() {
    let body = "-122.23,37.88,52.0,880.0,129.0,322.0,126.0,8.3252,500001.0,NEAR BAY\n-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,400000.0,NEAR BAY\n";
    let flag = parse_text(body, &EtlOptions::default()).unwrap();
    assert_eq!(flag.rows.kept.len(), 2);
    let options = EtlOptions {
        capped_policy: CappedPolicy::Quarantine,
        ..Default::default()
    };
    let quarantine = parse_text(body, &options).unwrap();
    assert_eq!(quarantine.rows.kept.len(), 1);
    assert_eq!(
        quarantine.file[0][1],
        format!(
            "{};{}",
            Reason::Capped("housing_median_age"),
            Reason::Capped("median_house_value")
        )
    );
}

#[test]
fn missing_bedrooms_everywhere_is_a_rejection() {
    let body = "-122.23,37.88,41.0,880.0,,322.0,126.0,8.3252,452600.0,NEAR BAY\n";
    let r = parse_text(body, &EtlOptions::default()).unwrap_err();
    assert_eq!(r.code, RejectionCode::Unimputable);
}

#[test]
fn split_does_not_depend_on_formatting() {
    let mut buf = Vec::new();
    let a = [
        Some(-122.0),
        Some(37.0),
        Some(41.0),
        Some(880.0),
        None,
        Some(1.0),
        Some(1.0),
        Some(1.0),
        Some(1.0),
    ];
    let mut b = a;
    b[0] = Some(-122.000);
    assert_eq!(
        row_hash(&a, "INLAND", &mut buf),
        row_hash(&b, "INLAND", &mut buf)
    );
    assert_ne!(
        row_hash(&a, "INLAND", &mut buf),
        row_hash(&a, "ISLAND", &mut buf)
    );
}
