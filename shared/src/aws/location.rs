//! Where an S3 object is: a bucket and a key, and its `s3://` URI.

use serde::{Deserialize, Serialize};

/// A bucket and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl S3Location {
    pub fn new(bucket: &str, key: &str) -> Self {
        S3Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
        }
    }

    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// `s3://bucket` or `s3://bucket/key`; `None` for anything else.
    pub fn parse(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_parse_into_bucket_and_key() {
        let loc = S3Location::parse("s3://b/promotion/x").unwrap();
        assert_eq!(
            (loc.bucket.as_str(), loc.key.as_str()),
            ("b", "promotion/x")
        );
        assert_eq!(S3Location::parse("s3://b").unwrap().key, "");
        for bad in ["s3://", "s3:///k", "https://b/k", "b/k"] {
            assert_eq!(S3Location::parse(bad), None, "{bad}");
        }
    }
}
