//! Registering datasets in the Glue Data Catalog: one external Parquet table,
//! one partition per dataset (`dataset_id`). Database, table and partition are
//! created unless they exist, so re-runs are no-ops.

use crate::error::{AwsError, Error};
use aws_sdk_glue::types::{
    Column, DatabaseInput, PartitionInput, SerDeInfo, StorageDescriptor, TableInput,
};
use aws_sdk_glue::Client;

use super::unless;

pub const PARTITION_KEY: &str = "dataset_id";
const INPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

/// A request our code could not build: a bug, the same every time.
fn unbuildable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("building the Glue {what}: {e}"))
}

/// Glue's answer to a create of something already there.
fn already_exists(e: &AwsError) -> bool {
    e.code.as_deref() == Some("AlreadyExistsException")
}

fn column(name: &str, ty: &str) -> Result<Column, Error> {
    Column::builder()
        .name(name)
        .r#type(ty)
        .build()
        .map_err(|e| unbuildable("column", e))
}

fn storage(columns: &[(String, String)], location: &str) -> Result<StorageDescriptor, Error> {
    let columns = columns
        .iter()
        .map(|(name, ty)| column(name, ty))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StorageDescriptor::builder()
        .set_columns(Some(columns))
        .location(location)
        .input_format(INPUT_FORMAT)
        .output_format(OUTPUT_FORMAT)
        .serde_info(SerDeInfo::builder().serialization_library(SERDE).build())
        .build())
}

/// The dataset's table and partition, as requested.
pub struct Registration<'a> {
    pub database: &'a str,
    pub table: &'a str,
    pub table_location: &'a str,
    pub dataset_id: &'a str,
    pub partition_location: &'a str,
    pub columns: &'a [(String, String)],
}

/// Creates the database, the table and the dataset's partition, each unless it
/// exists.
pub async fn register(client: &Client, r: &Registration<'_>) -> Result<(), Error> {
    let database = client.get_database().name(r.database).send().await;
    if unless(
        "Glue",
        "GetDatabase",
        r.database,
        database,
        AwsError::is_not_found,
    )?
    .is_none()
    {
        let input = DatabaseInput::builder()
            .name(r.database)
            .description("housing-mlops processed datasets")
            .build()
            .map_err(|e| unbuildable("database", e))?;
        let result = client.create_database().database_input(input).send().await;
        unless("Glue", "CreateDatabase", r.database, result, already_exists)?;
    }

    let table_name = format!("{}.{}", r.database, r.table);
    let table = client
        .get_table()
        .database_name(r.database)
        .name(r.table)
        .send()
        .await;
    if unless(
        "Glue",
        "GetTable",
        &table_name,
        table,
        AwsError::is_not_found,
    )?
    .is_none()
    {
        let input = TableInput::builder()
            .name(r.table)
            .description("Cleaned, featured California-housing rows; one partition per dataset")
            .table_type("EXTERNAL_TABLE")
            .parameters("classification", "parquet")
            .parameters("EXTERNAL", "TRUE")
            .partition_keys(column(PARTITION_KEY, "string")?)
            .storage_descriptor(storage(r.columns, r.table_location)?)
            .build()
            .map_err(|e| unbuildable("table", e))?;
        let result = client
            .create_table()
            .database_name(r.database)
            .table_input(input)
            .send()
            .await;
        unless("Glue", "CreateTable", &table_name, result, already_exists)?;
    }

    let partition = PartitionInput::builder()
        .values(r.dataset_id)
        .storage_descriptor(storage(r.columns, r.partition_location)?)
        .build();
    let result = client
        .create_partition()
        .database_name(r.database)
        .table_name(r.table)
        .partition_input(partition)
        .send()
        .await;
    let partition_name = format!("{table_name} {PARTITION_KEY}={}", r.dataset_id);
    unless(
        "Glue",
        "CreatePartition",
        &partition_name,
        result,
        already_exists,
    )?;
    Ok(())
}
