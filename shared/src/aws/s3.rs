//! S3 reads and writes, with classified errors that name the object.

use crate::aws::S3Location;
use crate::error::{AwsError, Error};
use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

/// What `HeadObject` says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
}

fn failed<E>(
    operation: &'static str,
    loc: &S3Location,
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    AwsError::from_sdk("S3", operation, e).on(loc.uri())
}

/// The first of `keys` in `bucket` that exists (that version, when given),
/// with its metadata; `None` when none does.
pub async fn find(
    client: &Client,
    bucket: &str,
    keys: &[&str],
    version_id: Option<&str>,
) -> Result<Option<(S3Location, ObjectInfo)>, AwsError> {
    for key in keys {
        let location = S3Location::new(bucket, key);
        if let Some(info) = head(client, &location, version_id).await? {
            return Ok(Some((location, info)));
        }
    }
    Ok(None)
}

/// `None` when the object (or that version) does not exist.
pub async fn head(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
) -> Result<Option<ObjectInfo>, AwsError> {
    let result = client
        .head_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .set_version_id(version_id.map(str::to_string))
        .send()
        .await;
    let head = super::unless(
        "S3",
        "HeadObject",
        &loc.uri(),
        result,
        AwsError::is_not_found,
    )?;
    Ok(head.map(|out| ObjectInfo {
        size: out.content_length().unwrap_or_default().max(0) as u64,
        etag: out.e_tag().map(str::to_string),
        version_id: out.version_id().map(str::to_string),
    }))
}

/// The `GetObject` request for an object (or one version of it). Builders, not
/// `async fn`s: one future less in every caller's (deeply nested) state machine.
fn get_object(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
) -> GetObjectFluentBuilder {
    client
        .get_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .set_version_id(version_id.map(str::to_string))
}

/// The one `PutObject` request every write starts from.
fn put_object(client: &Client, loc: &S3Location, content_type: &str) -> PutObjectFluentBuilder {
    client
        .put_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .content_type(content_type)
}

/// A body cut off while it was read: the GetObject call failed on the way, and
/// another try can succeed.
fn body_error(loc: &S3Location, e: impl std::fmt::Display) -> AwsError {
    AwsError {
        service: "S3",
        operation: "GetObject",
        resource: Some(loc.uri()),
        code: None,
        status: None,
        retryable: true,
        message: format!("the body was cut off: {e}"),
    }
}

/// Streams an object's body into `out` (a file, a hasher, or both), chunk by
/// chunk: the object is never held in memory whole. Returns the bytes written.
pub async fn download<W: std::io::Write>(
    client: &Client,
    loc: &S3Location,
    version_id: Option<&str>,
    out: &mut W,
) -> Result<u64, Error> {
    let mut output = get_object(client, loc, version_id)
        .send()
        .await
        .map_err(|e| failed("GetObject", loc, e))?;
    let mut written = 0u64;
    while let Some(chunk) = output
        .body
        .try_next()
        .await
        .map_err(|e| body_error(loc, e))?
    {
        out.write_all(&chunk).map_err(|e| {
            let message = format!("saving {} to local storage: {e}", loc.uri());
            if e.kind() == std::io::ErrorKind::StorageFull {
                // Retryable: a retry can land where there is room.
                Error::Busy {
                    kind: "DiskFull",
                    message: format!(
                        "{message} (the function's EphemeralStorage may be too small for this object)"
                    ),
                }
            } else {
                Error::Internal(message)
            }
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
) -> Result<(), Error> {
    let body = ByteStream::from_path(path)
        .await
        .map_err(|e| Error::Internal(format!("reading {}: {e}", path.display())))?;
    put_object(client, loc, content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| failed("PutObject", loc, e))?;
    Ok(())
}

pub async fn put(
    client: &Client,
    loc: &S3Location,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<(), AwsError> {
    put_object(client, loc, content_type)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| failed("PutObject", loc, e))?;
    Ok(())
}

/// What a conditional write requires of the object it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition<'a> {
    /// No object exists (`If-None-Match: *`).
    Absent,
    /// The object is the one read with this ETag (`If-Match`).
    Matches(&'a str),
}

/// Writes only if `precondition` holds. `false` when another writer got there
/// first (the caller reads again and decides anew).
pub async fn put_if(
    client: &Client,
    loc: &S3Location,
    bytes: Vec<u8>,
    content_type: &str,
    precondition: Precondition<'_>,
) -> Result<bool, AwsError> {
    let request = put_object(client, loc, content_type).body(ByteStream::from(bytes));
    let request = match precondition {
        Precondition::Absent => request.if_none_match("*"),
        Precondition::Matches(etag) => request.if_match(etag),
    };
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = failed("PutObject", loc, e);
            // 412: the precondition failed; 409: a concurrent conditional write is
            // in flight; 404: the object matched on was deleted.
            if matches!(err.status, Some(412 | 409))
                || (err.status == Some(404) && precondition != Precondition::Absent)
            {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

/// Writes only if no object exists at `loc`. `false` when another writer got
/// there first.
pub async fn put_if_absent(
    client: &Client,
    loc: &S3Location,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<bool, AwsError> {
    put_if(client, loc, bytes, content_type, Precondition::Absent).await
}

type GetObjectResult = Result<
    aws_sdk_s3::operation::get_object::GetObjectOutput,
    aws_smithy_runtime_api::client::result::SdkError<
        aws_sdk_s3::operation::get_object::GetObjectError,
        aws_smithy_runtime_api::http::Response,
    >,
>;

/// A GetObject's output, or `None` when the object (or that version) does not exist.
fn existing(
    loc: &S3Location,
    result: GetObjectResult,
) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, AwsError> {
    super::unless(
        "S3",
        "GetObject",
        &loc.uri(),
        result,
        AwsError::is_not_found,
    )
}

/// An object's bytes and ETag (for a later [`Precondition::Matches`]), or
/// `None` when it does not exist.
pub async fn read(
    client: &Client,
    loc: &S3Location,
) -> Result<Option<(Vec<u8>, String)>, AwsError> {
    let Some(out) = existing(loc, get_object(client, loc, None).send().await)? else {
        return Ok(None);
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let body = out.body.collect().await.map_err(|e| body_error(loc, e))?;
    Ok(Some((body.into_bytes().to_vec(), etag)))
}

/// At most the first `max_bytes` of an object (a ranged GET), or `None` when
/// it does not exist.
pub async fn read_start(
    client: &Client,
    loc: &S3Location,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, AwsError> {
    let range = format!("bytes=0-{}", max_bytes.saturating_sub(1));
    let Some(out) = existing(loc, get_object(client, loc, None).range(range).send().await)? else {
        return Ok(None);
    };
    let body = out.body.collect().await.map_err(|e| body_error(loc, e))?;
    Ok(Some(body.into_bytes().to_vec()))
}

/// How much of an object [`read_lines`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinesRead {
    pub bytes: u64,
    /// The object was longer than the cap: the rest was not read.
    pub truncated: bool,
}

/// Streams an object's lines to `line` (without their `\n`), reading at most
/// `max_bytes` (a line cut by the cap is dropped), so memory holds one chunk
/// and one line, never the object. `None` when the object does not exist.
pub async fn read_lines(
    client: &Client,
    loc: &S3Location,
    max_bytes: u64,
    mut line: impl FnMut(&[u8]),
) -> Result<Option<LinesRead>, AwsError> {
    let Some(mut out) = existing(loc, get_object(client, loc, None).send().await)? else {
        return Ok(None);
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut bytes = 0u64;
    while let Some(chunk) = out.body.try_next().await.map_err(|e| body_error(loc, e))? {
        let room = max_bytes.saturating_sub(bytes) as usize;
        let take = &chunk[..chunk.len().min(room)];
        bytes += take.len() as u64;
        let mut rest = take;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            if pending.is_empty() {
                line(&rest[..end]);
            } else {
                pending.extend_from_slice(&rest[..end]);
                line(&pending);
                pending.clear();
            }
            rest = &rest[end + 1..];
        }
        pending.extend_from_slice(rest);
        if take.len() < chunk.len() {
            return Ok(Some(LinesRead {
                bytes,
                truncated: true,
            }));
        }
    }
    if !pending.is_empty() {
        line(&pending);
    }
    Ok(Some(LinesRead {
        bytes,
        truncated: false,
    }))
}

/// The "folders" directly under `prefix` (ListObjectsV2's common prefixes
/// with delimiter `/`), each ending in `/`.
pub async fn list_folders(
    client: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, AwsError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    let at = S3Location::new(bucket, prefix);
    let mut folders = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("ListObjectsV2", &at, e))?;
        folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
    }
    Ok(folders)
}

/// Up to `max` keys under `prefix` in `bucket` after `start_after`, in S3's
/// (lexicographic) order.
pub async fn list_after(
    client: &Client,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    max: usize,
) -> Result<Vec<String>, AwsError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .set_start_after(start_after.map(str::to_string))
        .max_keys(max.min(1000) as i32)
        .into_paginator()
        .send();
    let at = S3Location::new(bucket, prefix);
    let mut keys = Vec::new();
    while keys.len() < max {
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| failed("ListObjectsV2", &at, e))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    keys.truncate(max);
    Ok(keys)
}

pub async fn delete(client: &Client, loc: &S3Location) -> Result<(), AwsError> {
    client
        .delete_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .send()
        .await
        .map_err(|e| failed("DeleteObject", loc, e))?;
    Ok(())
}
