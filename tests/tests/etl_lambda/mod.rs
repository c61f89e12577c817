//! The ETL handler against a real AWS API emulator (moto server on 127.0.0.1):
//! upload → invoke → objects written, Glue partition, event delivered to SQS
//! through an EventBridge rule; the Parquet channels, rejections, limits,
//! quarantine. Deliveries (duplicates, keys, other events) are `etl_deliveries.rs`.

use integration_tests::etl::*;
use integration_tests::{housing, Setup};
use polars::prelude::{DataType, ParquetReader, SerReader};
use serde_json::Value;
use shared::dataset::{
    sha256_hex, CompletionMarker, DatasetId, OutputKind, TrainParts, TrainingFormat,
};

mod channels;
mod upload;
