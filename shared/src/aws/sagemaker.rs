//! SageMaker calls' errors, classified like every other AWS failure.

use crate::error::AwsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub fn error<E>(
    operation: &'static str,
    resource: &str,
    e: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    AwsError::from_sdk("SageMaker", operation, e).on(resource)
}

/// SageMaker reports a missing endpoint, endpoint config, model or package as a
/// `ValidationException` ("Could not find endpoint ...", "... does not exist"),
/// not as a 404.
pub fn is_missing(e: &AwsError) -> bool {
    let message = e.message.to_ascii_lowercase();
    e.is_not_found()
        || (e.code.as_deref() == Some("ValidationException")
            && (message.contains("could not find")
                || message.contains("does not exist")
                || message.contains("not found")))
}

/// A create that lost a race with an identical create ("Cannot create already
/// existing ...") : the resource is there, which is what was wanted.
pub fn is_already_existing(e: &AwsError) -> bool {
    e.code.as_deref() == Some("ValidationException")
        && e.message.to_ascii_lowercase().contains("already exist")
}

/// A `CreateEndpoint` or `UpdateEndpoint` that lost a race with another
/// change of the same endpoint: SageMaker answers `ValidationException`
/// "Cannot create already existing endpoint" or "Cannot update in-progress
/// endpoint". What the endpoint does now has to be read again.
pub fn is_concurrent_change(e: &AwsError) -> bool {
    let message = e.message.to_ascii_lowercase();
    e.code.as_deref() == Some("ValidationException")
        && (message.contains("already exist") || message.contains("in-progress"))
}

/// A Describe call's output, or `None` when SageMaker says the resource does not exist.
pub fn found<T, E>(
    operation: &'static str,
    resource: &str,
    result: Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<Option<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    super::unless("SageMaker", operation, resource, result, is_missing)
}

/// A Create call that succeeded, or lost a race with an identical create.
pub fn created<T, E>(
    operation: &'static str,
    resource: &str,
    result: Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<(), AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    super::unless(
        "SageMaker",
        operation,
        resource,
        result,
        is_already_existing,
    )
    .map(drop)
}
