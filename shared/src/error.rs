//! Errors every function shares, each classified retryable or not on purpose:
//! a retryable failure makes the Lambda fail so EventBridge/Lambda try again;
//! a non-retryable one fails the same way every time, so it goes to the DLQ.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes that mean "try again later".
const RETRYABLE_CODES: [&str; 17] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
    "InternalFailure",
    "InternalServiceError",
    "InternalServiceException",
    "ServiceUnavailable",
    "ConcurrentModificationException",
];

/// A failed AWS call, with what the service said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} {operation} failed{}: {message}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub retryable: bool,
    pub message: String,
}

impl AwsError {
    pub fn from_sdk<E>(
        service: &'static str,
        operation: &'static str,
        err: SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        let retryable = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(_) => {
                code.as_deref()
                    .is_some_and(|c| RETRYABLE_CODES.contains(&c))
                    || status.is_some_and(|s| s >= 500 || s == 429)
            }
            _ => false,
        };
        let message = err
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
        AwsError {
            service,
            operation,
            code,
            status,
            retryable,
            message,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
            || matches!(
                self.code.as_deref(),
                Some(
                    "NoSuchKey"
                        | "NotFound"
                        | "NoSuchVersion"
                        | "EntityNotFoundException"
                        | "ResourceNotFoundException"
                )
            )
    }
}

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The event could not be understood; the same event will never succeed.
    #[error("unexpected event: {0}")]
    Event(String),
    /// The object an event names is gone.
    #[error("not found: {0}")]
    NotFound(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn retryable(&self) -> bool {
        match self {
            Error::Aws(e) => e.retryable,
            Error::Event(_) | Error::NotFound(_) | Error::Internal(_) => false,
        }
    }

    /// The Lambda error type: `Retryable.<Kind>` or `NonRetryable.<Kind>`, so a
    /// failure says on its face whether trying again can help.
    pub fn error_type(&self) -> String {
        let kind = match self {
            Error::Aws(e) => e
                .code
                .clone()
                .unwrap_or_else(|| format!("{}Error", e.service)),
            Error::Event(_) => "UnexpectedEvent".to_string(),
            Error::NotFound(_) => "NotFound".to_string(),
            Error::Internal(_) => "Internal".to_string(),
        };
        let class = if self.retryable() {
            "Retryable"
        } else {
            "NonRetryable"
        };
        format!("{class}.{kind}")
    }
}

/// What Lambda reports for a failed invocation: the classified type and the
/// message. Logged here, once, so every handler's `?` records the failure too.
impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        tracing::error!(error_type = %e.error_type(), "{e}");
        lambda_runtime::Diagnostic {
            error_type: e.error_type(),
            error_message: e.to_string(),
        }
    }
}
