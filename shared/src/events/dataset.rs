//! `HousingDatasetReady`: published by the ETL when a dataset's outputs are in
//! place; consumed by the training trigger.

use crate::dataset::{DatasetId, InputIdentity, OutputKind};
use crate::report::ReportSummary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetReady {
    pub dataset_id: DatasetId,
    pub contract: String,
    pub input: InputIdentity,
    /// S3 URI of every output.
    pub outputs: BTreeMap<OutputKind, String>,
    pub summary: ReportSummary,
    pub catalog: CatalogEntry,
}

/// Where the dataset is registered in the Glue Data Catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub database: String,
    pub table: String,
    /// Partition values, in partition-key order (`dataset_id`).
    pub partition: Vec<String>,
    pub location: String,
}
