//! How a run ends without outputs: the whole file refused (a [`Rejection`], a
//! property of the bytes), or a failure inside the engine.

use crate::contract::CONTRACT_ID;
use crate::dataset::{DatasetId, InputIdentity};
use crate::report::{RejectionReport, REPORT_SCHEMA_VERSION};

/// Why a whole file was refused. Never retryable: the same bytes fail the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionCode {
    Empty,
    NotText,
    NotUtf8,
    WrongDelimiter,
    MissingColumns,
    DuplicateColumns,
    NoDataRows,
    Unimputable,
    TooLarge,
    RunawayQuote,
    LineTooLong,
    TooManyColumns,
}

impl RejectionCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Empty => "empty_file",
            RejectionCode::NotText => "not_text",
            RejectionCode::NotUtf8 => "not_utf8",
            RejectionCode::WrongDelimiter => "wrong_delimiter",
            RejectionCode::MissingColumns => "missing_columns",
            RejectionCode::DuplicateColumns => "duplicate_columns",
            RejectionCode::NoDataRows => "no_data_rows",
            RejectionCode::Unimputable => "unimputable",
            RejectionCode::TooLarge => "too_large",
            RejectionCode::RunawayQuote => "runaway_quote",
            RejectionCode::LineTooLong => "line_too_long",
            RejectionCode::TooManyColumns => "too_many_columns",
        }
    }
}

/// A whole-file rejection: a code and a one-line message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file rejected ({}): {message}", code.as_str())]
pub struct Rejection {
    pub code: RejectionCode,
    pub message: String,
}

impl Rejection {
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }

    /// The report an operator finds next to quarantined data.
    pub fn report(&self, dataset_id: DatasetId, input: InputIdentity) -> RejectionReport {
        RejectionReport {
            schema_version: REPORT_SCHEMA_VERSION,
            contract: CONTRACT_ID.to_string(),
            dataset_id,
            input,
            code: self.code.as_str().to_string(),
            message: self.to_string(),
        }
    }
}

/// An ETL run that did not produce outputs.
#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    #[error("{0}")]
    Rejected(Rejection),
    /// A bug or resource failure inside the data engine, not a property of the input.
    #[error("internal error in the ETL engine: {0}")]
    Internal(String),
}

impl From<Rejection> for EtlError {
    fn from(r: Rejection) -> Self {
        EtlError::Rejected(r)
    }
}

impl From<polars::error::PolarsError> for EtlError {
    fn from(e: polars::error::PolarsError) -> Self {
        EtlError::Internal(e.to_string())
    }
}
