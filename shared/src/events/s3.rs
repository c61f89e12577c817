//! "An object was created": the two shapes S3 delivers it in.
//!
//! - Through EventBridge: `detail-type: "Object Created"`, `source: "aws.s3"`.
//! - As a classic notification: `{"Records": [{"eventName": "ObjectCreated:Put", ...}]}`.
//!
//! Keys arrive form-URL-encoded (a space as `+`, a `+` as `%2B`); both shapes are
//! decoded here, and the raw key is kept for the EventBridge case, which AWS does
//! not document (see [`ObjectCreated::raw_key`]).

use crate::error::Error;
use aws_lambda_events::event::s3::S3Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One created object, whichever shape announced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectCreated {
    pub bucket: String,
    /// The decoded key.
    pub key: String,
    /// The key as the event carried it; tried when the decoded key is not found.
    pub raw_key: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub size: Option<u64>,
}

impl ObjectCreated {
    /// The keys the object may be at: the decoded key, then the key as the
    /// event carried it when that differs (a key that was not encoded).
    pub fn keys(&self) -> Vec<&str> {
        let mut keys = vec![self.key.as_str()];
        if self.raw_key != self.key {
            keys.push(self.raw_key.as_str());
        }
        keys
    }

    /// Where the object was created, as its event names it (no encoded key).
    pub fn at(bucket: &str, key: &str) -> ObjectCreated {
        ObjectCreated {
            bucket: bucket.to_string(),
            key: key.to_string(),
            raw_key: key.to_string(),
            version_id: None,
            etag: None,
            size: None,
        }
    }
}

/// What an S3 event asked for: objects to process, and records that are not
/// object creations (ignored, and logged by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Notification {
    pub objects: Vec<ObjectCreated>,
    pub ignored: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Detail {
    bucket: DetailBucket,
    object: DetailObject,
}

#[derive(Debug, Deserialize)]
struct DetailBucket {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct DetailObject {
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    version_id: Option<String>,
}

/// Decodes an S3 event key: `+` is a space, `%XX` a byte; the result must be UTF-8.
pub fn decode_key(raw: &str) -> Result<String, Error> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| Error::Event(format!("object key {raw:?} does not decode to UTF-8")))
}

fn version(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.is_empty() && v != "null")
}

fn object(
    bucket: String,
    raw_key: String,
    version_id: Option<String>,
    etag: Option<String>,
    size: Option<u64>,
) -> Result<ObjectCreated, Error> {
    if bucket.is_empty() || raw_key.is_empty() {
        return Err(Error::Event(
            "S3 event without a bucket name or object key".into(),
        ));
    }
    Ok(ObjectCreated {
        bucket,
        key: decode_key(&raw_key)?,
        raw_key,
        version_id: version(version_id),
        etag,
        size,
    })
}

/// Parses either S3 shape. An event that is neither, or is missing the fields
/// that identify the object, is an [`Error::Event`] (never retried).
pub fn parse(event: &Value) -> Result<S3Notification, Error> {
    let mut out = S3Notification::default();
    if event.get("Records").is_some() {
        let parsed: S3Event = serde_json::from_value(event.clone())
            .map_err(|e| Error::Event(format!("malformed S3 notification: {e}")))?;
        for record in parsed.records {
            let name = record.event_name.clone().unwrap_or_default();
            let from_s3 = record.event_source.as_deref() == Some("aws:s3");
            if !from_s3 || !name.starts_with("ObjectCreated:") {
                out.ignored.push(format!(
                    "{} {name}",
                    record.event_source.unwrap_or_default()
                ));
                continue;
            }
            let o = record.s3.object;
            out.objects.push(object(
                record.s3.bucket.name.unwrap_or_default(),
                o.key.unwrap_or_default(),
                o.version_id,
                o.e_tag,
                o.size.and_then(|s| u64::try_from(s).ok()),
            )?);
        }
        return Ok(out);
    }
    if let Some(detail_type) = event.get("detail-type") {
        // Only the two routing fields are read before deciding: other services'
        // envelopes differ (epoch-ms `time`, a duplicated `source`), and are not ours.
        let source = event
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let detail_type = detail_type.as_str().unwrap_or_default();
        if source != "aws.s3" || detail_type != "Object Created" {
            out.ignored.push(format!("{source} {detail_type}"));
            return Ok(out);
        }
        let detail: Detail = serde_json::from_value(
            event.get("detail").cloned().unwrap_or_default(),
        )
        .map_err(|e| Error::Event(format!("malformed S3 \"Object Created\" detail: {e}")))?;
        let o = detail.object;
        out.objects.push(object(
            detail.bucket.name,
            o.key,
            o.version_id,
            o.etag,
            o.size,
        )?);
        return Ok(out);
    }
    Err(Error::Event(
        "neither an S3 notification (Records[]) nor an EventBridge event (detail-type)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(decode_key("red+flower.jpg").unwrap(), "red flower.jpg");
        assert_eq!(decode_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
        assert_eq!(decode_key("a%2Bb.csv").unwrap(), "a+b.csv");
        assert_eq!(
            decode_key("incoming/2024%2F01%2Fh%C3%A9.csv").unwrap(),
            "incoming/2024/01/hé.csv"
        );
        assert!(decode_key("%FF.csv").is_err());
    }

    #[test]
    fn other_records_are_ignored_not_errors() {
        let event = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2024-01-01T00:00:00.000Z", "eventName": "ObjectRemoved:Delete",
            "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "1.2.3.4"},
            "responseElements": {}, "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
              "bucket": {"name": "b", "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::b"},
              "object": {"key": "k", "sequencer": "0"}}}]});
        let parsed = parse(&event).unwrap();
        assert!(parsed.objects.is_empty());
        assert_eq!(parsed.ignored.len(), 1);
    }

    #[test]
    fn unknown_shapes_are_event_errors() {
        for event in [
            json!({}),
            json!({"Records": "nope"}),
            json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
        ] {
            let err = parse(&event).unwrap_err();
            assert!(matches!(err, Error::Event(_)), "{err}");
            assert!(!err.retryable());
        }
    }
}
