//! The ETL core on the real California-housing file and on crafted bad files.

use integration_tests::{repo_root, run_etl, LocalOutput};
use polars::prelude::*;
use shared::dataset::OutputKind;
use shared::dataset::Source;
use shared::etl::schema::{parquet_columns, xgboost_columns};
use shared::etl::{CappedPolicy, EtlError, EtlOptions, EtlOutput, RejectionCode};
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

const HEADER: &str = "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,median_house_value,ocean_proximity";

fn housing() -> Vec<u8> {
    std::fs::read(repo_root().join("data/housing.csv")).expect("data/housing.csv")
}

fn source() -> Source {
    Source {
        source: "housing.csv".into(),
        ..Default::default()
    }
}

fn process(bytes: &[u8]) -> LocalOutput {
    run_etl(bytes, &source(), &EtlOptions::default()).expect("processed")
}

fn parquet(output: &EtlOutput, kind: OutputKind) -> DataFrame {
    ParquetReader::new(Cursor::new(output.read(kind).unwrap()))
        .finish()
        .expect("valid parquet")
}

/// source_line → split, over the three Parquet outputs.
fn splits_by_line(output: &EtlOutput) -> HashMap<i64, String> {
    let mut map = HashMap::new();
    for kind in [
        OutputKind::TrainParquet,
        OutputKind::ValidationParquet,
        OutputKind::TestParquet,
    ] {
        let frame = parquet(output, kind);
        let lines = frame.column("source_line").unwrap().i64().unwrap().clone();
        let splits = frame.column("split").unwrap().str().unwrap().clone();
        for (line, split) in lines.iter().zip(splits.iter()) {
            map.insert(line.unwrap(), split.unwrap().to_string());
        }
    }
    map
}

mod bad_input;
mod real_file;
