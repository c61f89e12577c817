//! The outputs' columns, in order: the Parquet files (and the Glue table that
//! reads them) and the XGBoost channels. The engineered features' names are the
//! feature function's ([`super::features`]); the contract's are the contract's.

use crate::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, OCEAN_PROXIMITY_CATEGORIES, TARGET};
use crate::features::{model_features, one_hot_column, RATIO_FEATURES};
use polars::prelude::{DataType, Schema};

/// The row's line in the input file.
pub const SOURCE_LINE: &str = "source_line";
/// `train`, `validation` or `test`.
pub const SPLIT: &str = "split";
/// Whether `total_bedrooms` was imputed.
pub const BEDROOMS_IMPUTED: &str = "total_bedrooms_imputed";

/// The flag column of a capped numeric column, e.g. `median_house_value_capped`.
pub fn capped_flag(column: &str) -> String {
    format!("{column}_capped")
}

/// The columns of the Parquet outputs, in order.
pub fn parquet_columns() -> Vec<String> {
    let mut columns = vec![SOURCE_LINE.to_string(), SPLIT.to_string()];
    columns.extend(NUMERIC_COLUMNS.iter().map(|c| c.name.to_string()));
    columns.push(OCEAN_PROXIMITY.to_string());
    columns.extend(RATIO_FEATURES.iter().map(|s| s.to_string()));
    columns.extend(OCEAN_PROXIMITY_CATEGORIES.iter().map(|c| one_hot_column(c)));
    columns.push(BEDROOMS_IMPUTED.to_string());
    columns.extend(
        NUMERIC_COLUMNS
            .iter()
            .filter(|c| c.cap.is_some())
            .map(|c| capped_flag(c.name)),
    );
    columns
}

/// The XGBoost channel's columns: target first, then the model features (no header).
pub fn xgboost_columns() -> Vec<String> {
    std::iter::once(TARGET.to_string())
        .chain(model_features())
        .collect()
}

fn hive_type(dtype: &DataType) -> &'static str {
    match dtype {
        DataType::Float64 => "double",
        DataType::Float32 => "float",
        DataType::Int32 => "int",
        DataType::Int64 | DataType::UInt64 | DataType::UInt32 => "bigint",
        DataType::Boolean => "boolean",
        _ => "string",
    }
}

/// The Parquet columns as (name, Hive type), for the Glue table, from the
/// schema of the frames written.
pub fn table_columns(schema: &Schema) -> Vec<(String, String)> {
    parquet_columns()
        .into_iter()
        .map(|c| {
            let dtype = schema.get(c.as_str()).map_or("string", hive_type);
            (c, dtype.to_string())
        })
        .collect()
}
