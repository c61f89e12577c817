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

/// A failed AWS call: what the service (or the SDK's transport) said, and
/// nothing else. Conditions of our own, such as an endpoint that is busy, are
/// other [`Error`] variants.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    /// What the call was about: an S3 URI, a bus, a table, an endpoint.
    pub resource: Option<String>,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub retryable: bool,
    /// AWS's message, or what went wrong on the way (empty when AWS gave none).
    pub message: String,
}

/// One line for people: `S3 PutObject s3://b/k failed (HTTP 403 AccessDenied): Access Denied`.
impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.service, self.operation)?;
        if let Some(resource) = &self.resource {
            write!(f, " {resource}")?;
        }
        f.write_str(" failed")?;
        let status = self.status.map(|s| format!("HTTP {s}"));
        let said: Vec<&str> = [status.as_deref(), self.code.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !said.is_empty() {
            write!(f, " ({})", said.join(" "))?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// A message on one line, whatever the service sent.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
        // The SDK's own rendering is a multi-line Debug dump: kept for debugging only.
        tracing::debug!(service, operation, error = ?err, "AWS call failed");
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
        let message = match &err {
            SdkError::ServiceError(_) => err.message().map(one_line).unwrap_or_default(),
            SdkError::TimeoutError(_) => "the request timed out".to_string(),
            SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
                Some(connector) => format!(
                    "the request could not be sent: {}",
                    one_line(&DisplayErrorContext(connector).to_string())
                ),
                None => "the request could not be sent".to_string(),
            },
            SdkError::ResponseError(_) => "the response could not be read".to_string(),
            _ => one_line(&DisplayErrorContext(&err).to_string()),
        };
        AwsError {
            service,
            operation,
            resource: None,
            code,
            status,
            retryable,
            message,
        }
    }

    /// Names the resource the call was about.
    pub fn on(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
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
    /// AWS said no (retryable or not, as the service's answer says).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The event could not be understood; the same event will never succeed.
    #[error("unexpected event: {0}")]
    Event(String),
    /// The object an event names is gone.
    #[error("not found: {0}")]
    NotFound(String),
    /// Something of ours that clears with time (a claim another delivery holds,
    /// a full disk, a record lost to concurrent writers): retryable, error type
    /// `Retryable.<kind>`.
    #[error("{message}")]
    Busy { kind: &'static str, message: String },
    /// A bug or a local resource failure (a request our code could not build,
    /// a file it could not write), not a property of the event.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn retryable(&self) -> bool {
        match self {
            Error::Aws(e) => e.retryable,
            Error::Busy { .. } => true,
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
            Error::Busy { kind, .. } => kind.to_string(),
            Error::Internal(_) => "Internal".to_string(),
        };
        let class = if self.retryable() {
            RETRYABLE
        } else {
            NON_RETRYABLE
        };
        format!("{class}{kind}")
    }
}

/// The prefixes of [`Error::error_type`]: what a Diagnostic's type starts with.
pub const RETRYABLE: &str = "Retryable.";
pub const NON_RETRYABLE: &str = "NonRetryable.";

/// Whether a Lambda error type says trying again cannot help.
pub fn is_permanent(error_type: &str) -> bool {
    error_type.starts_with(NON_RETRYABLE)
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(
        status: u16,
        meta: ErrorMetadata,
    ) -> SdkError<ErrorMetadata, aws_smithy_runtime_api::http::Response> {
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(meta, raw)
    }

    #[test]
    fn a_service_error_is_one_line_with_operation_resource_status_and_code() {
        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("Access Denied\n  (request id 1)")
            .build();
        let err =
            AwsError::from_sdk("S3", "PutObject", service_error(403, meta)).on("s3://b/k.csv");
        assert_eq!(
            err.to_string(),
            "S3 PutObject s3://b/k.csv failed (HTTP 403 AccessDenied): Access Denied (request id 1)"
        );
        assert!(!err.retryable);
    }

    #[test]
    fn an_error_without_code_or_message_is_not_the_sdk_dump() {
        // S3 answers a HEAD with a bare status: no body, so no code and no message.
        let err = AwsError::from_sdk(
            "S3",
            "HeadObject",
            service_error(400, ErrorMetadata::builder().build()),
        )
        .on("s3://raw/in.csv");
        assert_eq!(
            err.to_string(),
            "S3 HeadObject s3://raw/in.csv failed (HTTP 400)"
        );
        let throttled = AwsError::from_sdk(
            "S3",
            "GetObject",
            service_error(503, ErrorMetadata::builder().code("SlowDown").build()),
        );
        assert!(throttled.retryable);
        assert_eq!(Error::from(throttled).error_type(), "Retryable.SlowDown");
    }

    #[test]
    fn a_timeout_says_so_and_is_retryable() {
        let err = AwsError::from_sdk::<ErrorMetadata>(
            "SageMaker",
            "DescribeEndpoint",
            SdkError::timeout_error("slow"),
        )
        .on("dev-endpoint");
        assert_eq!(
            err.to_string(),
            "SageMaker DescribeEndpoint dev-endpoint failed: the request timed out"
        );
        assert!(err.retryable);
    }

    #[test]
    fn our_own_conditions_are_not_aws_errors() {
        let busy = Error::Busy {
            kind: "DesiredStateConflict",
            message: "s3://b/promotion/stages/dev.json: lost to concurrent requests".into(),
        };
        assert!(busy.retryable());
        assert_eq!(busy.error_type(), "Retryable.DesiredStateConflict");
        assert_eq!(
            busy.to_string(),
            "s3://b/promotion/stages/dev.json: lost to concurrent requests"
        );
        let internal = Error::Internal("building the Glue table request: no name".into());
        assert!(!internal.retryable());
        assert_eq!(internal.error_type(), "NonRetryable.Internal");
    }
}
