//! S3 reads and writes, with classified errors.

use crate::dataset::S3Location;
use crate::error::AwsError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

/// What `HeadObject` says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
}

/// `None` when the object (or that version) does not exist.
pub async fn head(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
) -> Result<Option<ObjectInfo>, AwsError> {
    match client
        .head_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .set_version_id(version_id.map(str::to_string))
        .send()
        .await
    {
        Ok(out) => Ok(Some(ObjectInfo {
            size: out.content_length().unwrap_or_default().max(0) as u64,
            etag: out.e_tag().map(str::to_string),
            version_id: out.version_id().map(str::to_string),
        })),
        Err(e) => {
            let err = AwsError::from_sdk("S3", "HeadObject", e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// The `GetObject` request for an object (or one version of it). A builder, not
/// an `async fn`: one future less in every caller's (deeply nested) state machine.
fn get_object(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
) -> aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder {
    client
        .get_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .set_version_id(version_id.map(str::to_string))
}

/// A body cut off while it was read: worth another try.
fn body_error(loc: &S3Location, e: impl std::fmt::Display) -> AwsError {
    AwsError {
        service: "S3",
        operation: "GetObject",
        code: None,
        status: None,
        retryable: true,
        message: format!("reading the body of {}: {e}", loc.uri()),
    }
}

/// Streams an object's body into `out` (a file, a hasher, or both), chunk by
/// chunk: the object is never held in memory whole. Returns the bytes written.
pub async fn download<W: std::io::Write>(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
    out: &mut W,
) -> Result<u64, crate::error::Error> {
    let mut output = get_object(client, loc, version_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("S3", "GetObject", e))?;
    let mut written = 0u64;
    while let Some(chunk) = output
        .body
        .try_next()
        .await
        .map_err(|e| body_error(loc, e))?
    {
        out.write_all(&chunk).map_err(|e| {
            crate::error::Error::Internal(format!(
                "saving {} to local storage: {e} (is the function's ephemeral storage large enough?)",
                loc.uri()
            ))
        })?;
        written += chunk.len() as u64;
    }
    Ok(written)
}

/// Uploads a local file, streamed from disk (retries re-read it).
pub async fn put_file(
    client: &Client,
    loc: &S3Location,
    path: &std::path::Path,
    content_type: &str,
) -> Result<(), crate::error::Error> {
    let body = ByteStream::from_path(path)
        .await
        .map_err(|e| crate::error::Error::Internal(format!("reading {}: {e}", path.display())))?;
    client
        .put_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .content_type(content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("S3", "PutObject", e))?;
    Ok(())
}

pub async fn get(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
) -> Result<Vec<u8>, AwsError> {
    let out = get_object(client, loc, version_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("S3", "GetObject", e))?;
    let body = out.body.collect().await.map_err(|e| body_error(loc, e))?;
    Ok(body.into_bytes().to_vec())
}

pub async fn put(
    client: &Client,
    loc: &S3Location,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<(), AwsError> {
    client
        .put_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .content_type(content_type)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("S3", "PutObject", e))?;
    Ok(())
}

/// Writes only if no object exists at `loc` (`If-None-Match: *`). `false` when
/// another writer got there first.
pub async fn put_if_absent(
    client: &Client,
    loc: &S3Location,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<bool, AwsError> {
    let result = client
        .put_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .content_type(content_type)
        .if_none_match("*")
        .body(ByteStream::from(bytes))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("S3", "PutObject", e);
            // 412: the object exists; 409: a concurrent conditional write is in flight.
            if matches!(err.status, Some(412 | 409)) {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

pub async fn delete(client: &Client, loc: &S3Location) -> Result<(), AwsError> {
    client
        .delete_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("S3", "DeleteObject", e))?;
    Ok(())
}
