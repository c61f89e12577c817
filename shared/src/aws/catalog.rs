//! Registering datasets in the Glue Data Catalog: one external Parquet table,
//! one partition per dataset (`dataset_id`). Database, table and partition are
//! created if missing; "already exists" is success, so re-runs are no-ops.

use crate::error::AwsError;
use crate::events::dataset::CatalogEntry;
use aws_sdk_glue::types::{
    Column, DatabaseInput, PartitionInput, SerDeInfo, StorageDescriptor, TableInput,
};
use aws_sdk_glue::Client;

pub const PARTITION_KEY: &str = "dataset_id";
const INPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

fn invalid(what: &str, e: impl std::fmt::Display) -> AwsError {
    AwsError {
        service: "Glue",
        operation: "build",
        code: None,
        status: None,
        retryable: false,
        message: format!("{what}: {e}"),
    }
}

fn already_exists(e: &AwsError) -> bool {
    e.code.as_deref() == Some("AlreadyExistsException")
}

fn storage(columns: &[(String, String)], location: &str) -> Result<StorageDescriptor, AwsError> {
    let columns = columns
        .iter()
        .map(|(name, ty)| {
            Column::builder()
                .name(name)
                .r#type(ty)
                .build()
                .map_err(|e| invalid("column", e))
        })
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

pub async fn register(client: &Client, r: &Registration<'_>) -> Result<CatalogEntry, AwsError> {
    match client.get_database().name(r.database).send().await {
        Ok(_) => {}
        Err(e) => {
            let err = AwsError::from_sdk("Glue", "GetDatabase", e);
            if !err.is_not_found() {
                return Err(err);
            }
            let input = DatabaseInput::builder()
                .name(r.database)
                .description("housing-mlops processed datasets")
                .build()
                .map_err(|e| invalid("database", e))?;
            if let Err(e) = client.create_database().database_input(input).send().await {
                let err = AwsError::from_sdk("Glue", "CreateDatabase", e);
                if !already_exists(&err) {
                    return Err(err);
                }
            }
        }
    }

    if let Err(e) = client
        .get_table()
        .database_name(r.database)
        .name(r.table)
        .send()
        .await
    {
        let err = AwsError::from_sdk("Glue", "GetTable", e);
        if !err.is_not_found() {
            return Err(err);
        }
        let key = Column::builder()
            .name(PARTITION_KEY)
            .r#type("string")
            .build()
            .map_err(|e| invalid("column", e))?;
        let input = TableInput::builder()
            .name(r.table)
            .description("Cleaned, featured California-housing rows; one partition per dataset")
            .table_type("EXTERNAL_TABLE")
            .parameters("classification", "parquet")
            .parameters("EXTERNAL", "TRUE")
            .partition_keys(key)
            .storage_descriptor(storage(r.columns, r.table_location)?)
            .build()
            .map_err(|e| invalid("table", e))?;
        if let Err(e) = client
            .create_table()
            .database_name(r.database)
            .table_input(input)
            .send()
            .await
        {
            let err = AwsError::from_sdk("Glue", "CreateTable", e);
            if !already_exists(&err) {
                return Err(err);
            }
        }
    }

    let partition = PartitionInput::builder()
        .values(r.dataset_id)
        .storage_descriptor(storage(r.columns, r.partition_location)?)
        .build();
    if let Err(e) = client
        .create_partition()
        .database_name(r.database)
        .table_name(r.table)
        .partition_input(partition)
        .send()
        .await
    {
        let err = AwsError::from_sdk("Glue", "CreatePartition", e);
        if !already_exists(&err) {
            return Err(err);
        }
    }
    Ok(CatalogEntry {
        database: r.database.to_string(),
        table: r.table.to_string(),
        partition: vec![r.dataset_id.to_string()],
        location: r.partition_location.to_string(),
    })
}
