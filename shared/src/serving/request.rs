//! A prediction request, `{"instances": [{…raw housing record…}, …]}` (the
//! KServe v1 shape), checked against the data contract record by record with
//! the quarantine's reason codes, and turned into the endpoint's CSV body.
//!
//! A field's value is a JSON number, a numeric string or `null`/absent (missing);
//! a number is checked as the ETL checks the same text in a CSV cell. Fields the
//! contract does not name are refused (`unknown_field`), the target among them
//! (`not_an_input`): a typo must not become a silently imputed value.

use crate::contract::{
    numeric_column, Reason, MEDIAN_HOUSE_VALUE, NUMERIC_COLUMNS, OCEAN_PROXIMITY,
    OCEAN_PROXIMITY_CATEGORIES,
};
pub use crate::features::Record;
use crate::features::{check_record, features, write_csv_row, Inputs, INPUTS};
use serde::Serialize;
use serde_json::{Map, Value};

/// Records in one request at most (documented in the README): a batch of this
/// size stays far below the endpoint's 6 MB payload and Lambda's limits.
pub const MAX_INSTANCES: usize = 100;
/// Request bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// One problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    /// A quarantine reason code (`out_of_range:latitude`), or `unknown_field`,
    /// `not_an_input`, `not_an_object`.
    pub reason: String,
    pub message: String,
}

/// Every problem of one record, by its index in `instances`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordErrors {
    pub index: usize,
    pub errors: Vec<FieldError>,
}

/// Why a request was refused (every variant is the client's to fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// Not JSON, or not the request shape.
    Malformed(String),
    /// More records (or bytes) than a request may carry.
    TooLarge(String),
    /// Records that break the contract.
    Invalid(Vec<RecordErrors>),
}

/// The parsed records of a request body.
pub fn parse(body: &[u8]) -> Result<Vec<Record>, RequestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(RequestError::TooLarge(format!(
            "the body is {} bytes; at most {MAX_BODY_BYTES} are accepted",
            body.len()
        )));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RequestError::Malformed(format!("the body is not JSON: {e}")))?;
    let instances = value
        .get("instances")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            RequestError::Malformed(
                "expected {\"instances\": [record, …]} with one object per record".into(),
            )
        })?;
    check(instances)
}

/// Records given as JSON objects of field → value, checked one by one; at
/// least one and at most [`MAX_INSTANCES`].
pub fn check(instances: &[Value]) -> Result<Vec<Record>, RequestError> {
    if instances.is_empty() {
        return Err(RequestError::Malformed(
            "\"instances\" is empty: send at least one record".into(),
        ));
    }
    if instances.len() > MAX_INSTANCES {
        return Err(RequestError::TooLarge(format!(
            "{} records in one request; at most {MAX_INSTANCES} are accepted",
            instances.len()
        )));
    }
    let mut records = Vec::with_capacity(instances.len());
    let mut invalid = Vec::new();
    for (index, instance) in instances.iter().enumerate() {
        let checked = match instance.as_object() {
            Some(fields) => check_fields(fields),
            None => Err(vec![FieldError {
                field: String::new(),
                reason: "not_an_object".into(),
                message: "a record is a JSON object of field → value".into(),
            }]),
        };
        match checked {
            Ok(record) => records.push(record),
            Err(errors) => invalid.push(RecordErrors { index, errors }),
        }
    }
    if invalid.is_empty() {
        Ok(records)
    } else {
        Err(RequestError::Invalid(invalid))
    }
}

/// A JSON value as the text of a CSV cell: numbers in their shortest form,
/// strings as they are, `null` as missing. `None` for booleans, arrays and objects.
fn cell(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    }
}

fn message(reason: &Reason, raw: &str) -> String {
    let range =
        |c: &str| numeric_column(c).map_or(String::new(), |c| format!("{} to {}", c.min, c.max));
    match reason {
        Reason::MissingValue(c) => format!("{c} is required"),
        Reason::NotANumber(c) => format!("{c}: {raw:?} is not a number"),
        Reason::OutOfRange(c) => format!("{c}: {raw} is outside {}", range(c)),
        Reason::UnknownCategory(c) => format!(
            "{c}: {raw:?} is not one of {}",
            OCEAN_PROXIMITY_CATEGORIES.join(", ")
        ),
        Reason::BedroomsExceedRooms => "total_bedrooms is larger than total_rooms".into(),
        other => other.to_string(),
    }
}

fn error(reason: Reason, raw: &str) -> FieldError {
    FieldError {
        field: reason.column().unwrap_or_default().to_string(),
        reason: reason.to_string(),
        message: message(&reason, raw),
    }
}

/// One record's contract checks ([`check_record`]), every problem named, and
/// the fields the contract does not name refused.
fn check_fields(fields: &Map<String, Value>) -> Result<Record, Vec<FieldError>> {
    let mut errors = Vec::new();
    for name in fields.keys() {
        let known =
            name == OCEAN_PROXIMITY || NUMERIC_COLUMNS[..INPUTS].iter().any(|c| c.name == name);
        if name == MEDIAN_HOUSE_VALUE {
            errors.push(FieldError {
                field: name.clone(),
                reason: "not_an_input".into(),
                message: format!("{name} is what the model predicts, not an input"),
            });
        } else if !known {
            errors.push(FieldError {
                field: name.clone(),
                reason: "unknown_field".into(),
                message: format!("{name:?} is not a field of the data contract"),
            });
        }
    }
    match check_record(|column| cell(fields.get(column))) {
        Ok(record) if errors.is_empty() => Ok(record),
        Ok(_) => Err(errors),
        Err(problems) => {
            errors.extend(
                problems
                    .into_iter()
                    .map(|(reason, raw)| error(reason, &raw)),
            );
            Err(errors)
        }
    }
}

/// The endpoint's `text/csv` body: one line per record, the training CSV's
/// feature columns in their order, without the target.
pub fn csv_body(inputs: &[Inputs]) -> String {
    let mut body = String::with_capacity(inputs.len() * 160);
    for row in inputs {
        write_csv_row(&mut body, None, &features(row));
        body.push('\n');
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{BedroomFills, BEDROOMS};
    use serde_json::json;

    fn first_row() -> Value {
        json!({"longitude": -122.23, "latitude": 37.88, "housing_median_age": 41.0,
               "total_rooms": 880.0, "total_bedrooms": 129.0, "population": 322.0,
               "households": 126.0, "median_income": 8.3252, "ocean_proximity": "NEAR BAY"})
    }

    fn body(instances: Vec<Value>) -> Vec<u8> {
        json!({ "instances": instances }).to_string().into_bytes()
    }

    fn reasons(err: RequestError) -> Vec<(usize, String, String)> {
        let RequestError::Invalid(records) = err else {
            panic!("not invalid: {err:?}")
        };
        records
            .into_iter()
            .flat_map(|r| {
                r.errors
                    .into_iter()
                    .map(move |e| (r.index, e.field, e.reason))
            })
            .collect()
    }

    #[test]
    fn a_good_record_becomes_the_training_csv_row() {
        let records = parse(&body(vec![first_row()])).unwrap();
        let inputs: Vec<Inputs> = records
            .iter()
            .map(|r| BedroomFills::default().inputs(r).unwrap())
            .collect();
        assert_eq!(
            csv_body(&inputs),
            "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,\
             6.984126984126984,0.14659090909090908,2.5555555555555554,0,0,0,1,0\n"
        );
    }

    #[test]
    fn numbers_as_strings_and_sloppy_categories_read_as_the_etl_reads_them() {
        let mut record = first_row();
        record["latitude"] = json!(" 37.88 ");
        record["ocean_proximity"] = json!(" near   bay");
        let records = parse(&body(vec![record])).unwrap();
        let expected = parse(&body(vec![first_row()])).unwrap();
        assert_eq!(records, expected);
    }

    #[test]
    fn every_problem_of_every_record_is_named_with_the_quarantine_codes() {
        let mut bad = first_row();
        bad["latitude"] = json!(95);
        bad["total_rooms"] = json!("many");
        bad["ocean_proximity"] = json!("MOON");
        bad.as_object_mut().unwrap().remove("households");
        let mut extra = first_row();
        extra["median_house_value"] = json!(452600);
        extra["total_bedroom"] = json!(1);
        let mut more = first_row();
        more["total_bedrooms"] = json!(900);
        more["median_income"] = json!(true);
        let err = parse(&body(vec![first_row(), bad, extra, more, json!(7)])).unwrap_err();
        let mut got = reasons(err);
        got.sort();
        let s = |i: usize, f: &str, r: &str| (i, f.to_string(), r.to_string());
        assert_eq!(
            got,
            vec![
                s(1, "households", "missing_value:households"),
                s(1, "latitude", "out_of_range:latitude"),
                s(1, "ocean_proximity", "unknown_category:ocean_proximity"),
                s(1, "total_rooms", "not_a_number:total_rooms"),
                s(2, "median_house_value", "not_an_input"),
                s(2, "total_bedroom", "unknown_field"),
                s(3, "median_income", "not_a_number:median_income"),
                s(3, "total_bedrooms", "bedrooms_exceed_rooms"),
                s(4, "", "not_an_object"),
            ]
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let mut bad = first_row();
        bad["latitude"] = json!(95);
        let RequestError::Invalid(records) = parse(&body(vec![bad])).unwrap_err() else {
            panic!()
        };
        assert_eq!(
            records[0].errors[0].message,
            "latitude: 95 is outside 32.4 to 42.1"
        );
    }

    #[test]
    fn missing_bedrooms_are_imputed_from_the_training_medians_capped_at_the_rooms() {
        let mut record = first_row();
        record["total_bedrooms"] = Value::Null;
        let mut small = first_row();
        small.as_object_mut().unwrap().remove("total_bedrooms");
        small["total_rooms"] = json!(100);
        small["ocean_proximity"] = json!("ISLAND");
        let records = parse(&body(vec![record, small])).unwrap();
        let imputation = BedroomFills {
            values: [("NEAR BAY".to_string(), 423.0), ("*".to_string(), 435.0)].into(),
        };
        let near_bay = imputation.inputs(&records[0]).unwrap();
        assert_eq!(near_bay.numeric[BEDROOMS], 423.0);
        // No ISLAND median: the whole-file one, capped at the 100 rooms.
        let island = imputation.inputs(&records[1]).unwrap();
        assert_eq!(island.numeric[BEDROOMS], 100.0);
        assert_eq!(BedroomFills::default().inputs(&records[0]), None);
    }

    #[test]
    fn malformed_and_oversized_requests_are_refused_before_any_record() {
        for (text, expected) in [
            ("not json", "not JSON"),
            ("[1, 2]", "expected {\"instances\""),
            ("{\"instances\": {}}", "expected {\"instances\""),
            ("{\"instances\": []}", "is empty"),
        ] {
            match parse(text.as_bytes()) {
                Err(RequestError::Malformed(m)) => assert!(m.contains(expected), "{m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let many = body(vec![first_row(); MAX_INSTANCES + 1]);
        assert!(matches!(parse(&many), Err(RequestError::TooLarge(_))));
        assert_eq!(
            parse(&body(vec![first_row(); MAX_INSTANCES]))
                .unwrap()
                .len(),
            MAX_INSTANCES
        );
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(parse(&huge), Err(RequestError::TooLarge(_))));
    }
}
