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
    /// The work directory filled up: another run (after the cold start's sweep,
    /// or in another sandbox) can succeed.
    #[error("no space left in the work directory: {0}")]
    DiskFull(String),
    /// A bug or resource failure inside the data engine, not a property of the input.
    #[error("internal error in the ETL engine: {0}")]
    Internal(String),
}

impl EtlError {
    /// An I/O failure while `doing` something: disk-full or internal.
    pub fn io(doing: impl std::fmt::Display, e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            EtlError::DiskFull(format!("{doing}: {e}"))
        } else {
            EtlError::Internal(format!("{doing}: {e}"))
        }
    }
}

impl From<Rejection> for EtlError {
    fn from(r: Rejection) -> Self {
        EtlError::Rejected(r)
    }
}

impl From<polars::error::PolarsError> for EtlError {
    fn from(e: polars::error::PolarsError) -> Self {
        match &e {
            polars::error::PolarsError::IO { error, .. } => EtlError::io("writing", error),
            _ => EtlError::Internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error as IoError, ErrorKind};

    #[test]
    fn a_full_disk_is_told_apart_from_other_failures() {
        let full = IoError::from(ErrorKind::StorageFull);
        assert!(
            matches!(EtlError::io("writing train.parquet", &full), EtlError::DiskFull(m) if m.contains("train.parquet"))
        );
        let polars: EtlError =
            polars::error::PolarsError::from(IoError::from(ErrorKind::StorageFull)).into();
        assert!(matches!(polars, EtlError::DiskFull(_)), "{polars:?}");
        let denied = IoError::from(ErrorKind::PermissionDenied);
        assert!(matches!(
            EtlError::io("creating", &denied),
            EtlError::Internal(_)
        ));
    }
}
