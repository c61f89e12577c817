//! The protocols' shapes, request by request.

use super::*;
use crate::serving::request;

fn model() -> ServedModel {
    ServedModel {
        stage: "dev".into(),
        endpoint: "e".into(),
        endpoint_config: "c".into(),
        model_package_group: "housing-models".into(),
        model_package_version: 3,
        model_package_arn: "arn".into(),
        dataset_id: None,
        test_rmse: None,
        validation_rmse: None,
        imputation: None,
    }
}

/// Two rows of every input, the second with `total_bedrooms` null.
fn two_rows() -> Value {
    let numbers: [(&str, [Value; 2]); 8] = [
        ("longitude", [json!(-122.23), json!(-121.0)]),
        ("latitude", [json!(37.88), json!(38.1)]),
        ("housing_median_age", [json!(41), json!(12)]),
        ("total_rooms", [json!(880), json!(2000)]),
        ("total_bedrooms", [json!(129), Value::Null]),
        ("population", [json!(322), json!(900)]),
        ("households", [json!(126), json!(300)]),
        ("median_income", [json!(8.3252), json!(3.1)]),
    ];
    let mut inputs: Vec<Value> = numbers
        .iter()
        .map(|(n, d)| json!({"name": n, "datatype": "FP64", "shape": [2], "data": d}))
        .collect();
    inputs.push(json!({"name": "ocean_proximity", "datatype": "BYTES", "shape": [2], "data": ["NEAR BAY", "INLAND"]}));
    json!({"id": "r1", "inputs": inputs})
}

fn parse(v: &Value) -> Result<InferRequest, RequestError> {
    parse_infer(v.to_string().as_bytes(), None)
}

#[test]
fn named_tensors_become_the_records_the_v1_route_takes() {
    let request = parse(&two_rows()).unwrap();
    assert_eq!(request.id.as_deref(), Some("r1"));
    assert_eq!(request.rank, 1);
    let records = request::check(&request.rows).unwrap();
    let same = request::parse(
        json!({"instances": [
            {"longitude": -122.23, "latitude": 37.88, "housing_median_age": 41, "total_rooms": 880,
             "total_bedrooms": 129, "population": 322, "households": 126, "median_income": 8.3252,
             "ocean_proximity": "NEAR BAY"},
            {"longitude": -121.0, "latitude": 38.1, "housing_median_age": 12, "total_rooms": 2000,
             "population": 900, "households": 300, "median_income": 3.1, "ocean_proximity": "INLAND"}
        ]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(records, same);
    let answer = infer_response(&model(), &request, &[452600.0, 100000.5]);
    assert_eq!(
        answer,
        json!({"model_name": "housing-models", "model_version": "3", "id": "r1",
               "outputs": [{"name": "median_house_value", "datatype": "FP64", "shape": [2],
                            "data": [452600.0, 100000.5]}]})
    );
}

#[test]
fn shapes_of_rank_two_nested_data_and_an_omitted_input_are_the_protocols() {
    let mut body = two_rows();
    let inputs = body["inputs"].as_array_mut().unwrap();
    inputs.retain(|i| i["name"] != "total_bedrooms");
    inputs[0]["shape"] = json!([2, 1]);
    inputs[0]["data"] = json!([[-122.23], [-121.0]]);
    let request = parse(&body).unwrap();
    assert_eq!(request.rank, 2);
    assert!(request.rows[0].get("total_bedrooms").is_none());
    assert_eq!(request.rows[1]["longitude"], -121.0);
    let answer = infer_response(&model(), &request, &[1.0, 2.0]);
    assert_eq!(answer["outputs"][0]["shape"], json!([2, 1]));
}

#[test]
fn a_bad_request_is_refused_naming_what_is_wrong() {
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = two_rows();
        edit(&mut body);
        match parse(&body) {
            Err(RequestError::Malformed(m) | RequestError::TooLarge(m)) => m,
            other => panic!("{other:?}"),
        }
    };
    for (edit, expected) in [
        (
            &(|b: &mut Value| b["inputs"][0]["name"] = json!("lon")) as &dyn Fn(&mut Value),
            "input \"lon\" is not an input of the model",
        ),
        (
            &|b: &mut Value| b["inputs"][0]["name"] = json!("median_house_value"),
            "is what the model predicts",
        ),
        (
            &|b: &mut Value| b["inputs"][8]["datatype"] = json!("FP64"),
            "\"ocean_proximity\" has datatype \"FP64\"; the model takes BYTES",
        ),
        (
            &|b: &mut Value| b["inputs"][0]["shape"] = json!([1, 2]),
            "one value per row",
        ),
        (
            &|b: &mut Value| b["inputs"][0]["data"] = json!([1.0]),
            "has 1 values for shape [2]",
        ),
        (
            &|b: &mut Value| {
                b["inputs"][1]["shape"] = json!([1]);
                b["inputs"][1]["data"] = json!([37.0]);
            },
            "every input has one value per row",
        ),
        (
            &|b: &mut Value| {
                let first = b["inputs"][0].clone();
                b["inputs"].as_array_mut().unwrap().push(first);
            },
            "is given twice",
        ),
        (
            &|b: &mut Value| b["outputs"] = json!([{"name": "price"}]),
            "output \"price\" is not an output",
        ),
        (
            &|b: &mut Value| b["inputs"][0]["parameters"] = json!({"binary_data_size": 16}),
            "binary_data=False",
        ),
        (
            &|b: &mut Value| b["inputs"] = json!([]),
            "expected {\"inputs\"",
        ),
    ] {
        let message = with(edit);
        assert!(message.contains(expected), "{message} lacks {expected}");
    }
    let many: Vec<Value> = (0..=MAX_INSTANCES).map(|_| json!(1.0)).collect();
    let mut body = two_rows();
    body["inputs"] =
        json!([{"name": "longitude", "datatype": "FP64", "shape": [many.len()], "data": many}]);
    assert!(matches!(parse(&body), Err(RequestError::TooLarge(_))));
    assert!(matches!(
        parse_infer(b"{}", Some("120")),
        Err(RequestError::Malformed(m)) if m.contains("binary_data=False")
    ));
}

#[test]
fn the_model_is_named_by_its_package_group_and_version() {
    let m = model();
    assert!(names(&m, "housing-models", None).is_ok());
    assert!(names(&m, "housing-models", Some("3")).is_ok());
    let err = names(&m, "housing-models", Some("2")).unwrap_err();
    assert_eq!(
        err,
        "model \"housing-models\" version \"2\" is not served here: stage dev serves \"housing-models\" version 3"
    );
    assert!(names(&m, "other", None).is_err());
    let meta = v2_metadata(&m);
    assert_eq!(meta["versions"], json!(["3"]));
    assert_eq!(meta["inputs"].as_array().unwrap().len(), INPUTS + 1);
    assert_eq!(
        meta["inputs"][8],
        json!({"name": "ocean_proximity", "datatype": "BYTES", "shape": [-1]})
    );
    assert_eq!(meta["outputs"][0]["name"], "median_house_value");
    assert_eq!(
        v1_status(&m),
        json!({"name": "housing-models", "ready": true})
    );
}

#[test]
fn errors_carry_every_records_problems() {
    let mut body = two_rows();
    body["inputs"][1]["data"] = json!([95, 38.1]);
    let rows = parse(&body).unwrap().rows;
    let e = ServingError::Request(request::check(&rows).unwrap_err());
    assert_eq!(
        error(&e),
        json!({"error": "1 record(s) break the data contract: record 0: latitude: 95 is outside 32.4 to 42.1 (out_of_range:latitude)"})
    );
}
