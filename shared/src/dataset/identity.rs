//! Dataset identity: a dataset is named by the content of the file it came from,
//! so the same bytes always give the same id, the same object keys and the same
//! outputs, whichever event, key or retry brought them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::Path;

/// `ds-` followed by the first 128 bits of the input's SHA-256, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatasetId(String);

impl DatasetId {
    pub fn from_sha256(sha256_hex: &str) -> Self {
        DatasetId(content_name("ds-", sha256_hex))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses an id as this suite names datasets: `ds-` and 32 lower-case hex digits.
impl std::str::FromStr for DatasetId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_content_name(s, "ds-") {
            Ok(DatasetId(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a dataset id (`ds-` and 32 lower-case hex digits)"
            ))
        }
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the suite names by content (a dataset, a scoring run): `prefix` and
/// the first 128 bits of the content's SHA-256 (`sha256_hex`), in hex.
pub fn content_name(prefix: &str, sha256_hex: &str) -> String {
    format!("{prefix}{}", &sha256_hex[..32])
}

/// Whether `name` is a [`content_name`] with `prefix`: it and 32 lower-case
/// hex digits.
pub fn is_content_name(name: &str, prefix: &str) -> bool {
    let hex = name.strip_prefix(prefix).unwrap_or_default();
    hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the input came from. Recorded in the report and the events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIdentity {
    /// `s3://bucket/key`, or the local path for the CLI.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub etag: Option<String>,
    pub bytes: u64,
    /// Hex SHA-256 of the content; absent when the file was refused unread.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<String>,
}

/// Where the bytes came from, before they were read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub source: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
}

impl Source {
    fn identity(&self, bytes: u64, sha256: Option<String>) -> InputIdentity {
        InputIdentity {
            source: self.source.clone(),
            version_id: self.version_id.clone(),
            etag: self.etag.clone(),
            bytes,
            sha256,
        }
    }

    /// For an object refused before it was read (too large): named from its S3
    /// identity (location, version, ETag) instead of its bytes.
    pub fn unread(&self, bytes: u64) -> (DatasetId, InputIdentity) {
        let name = format!(
            "{}#{}#{}",
            self.source,
            self.version_id.as_deref().unwrap_or(""),
            self.etag.as_deref().unwrap_or("")
        );
        let id = DatasetId::from_sha256(&sha256_hex(name.as_bytes()));
        (id, self.identity(bytes, None))
    }
}

/// SHA-256 and length of a stream, computed as it is written through (the Lambda
/// hashes the object while it downloads it).
#[derive(Default)]
pub struct ContentHash {
    hasher: Sha256,
    bytes: u64,
}

impl ContentHash {
    /// The dataset id and identity of the content seen so far.
    pub fn identify(self, source: &Source) -> (DatasetId, InputIdentity) {
        let sha = hex::encode(self.hasher.finalize());
        let id = DatasetId::from_sha256(&sha);
        (id, source.identity(self.bytes, Some(sha)))
    }
}

impl ContentHash {
    /// The SHA-256 of the content seen so far, in hex.
    pub fn sha256_hex(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

/// Writes to two writers at once (the downloaded object: to disk and to its hash).
pub struct Tee<'a, A, B>(pub &'a mut A, pub &'a mut B);

impl<A: std::io::Write, B: std::io::Write> std::io::Write for Tee<'_, A, B> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(buf)?;
        self.1.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

impl Write for ContentHash {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The dataset id and identity of a local file's content.
pub fn identify(path: &Path, source: &Source) -> std::io::Result<(DatasetId, InputIdentity)> {
    let mut hash = ContentHash::default();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hash)?;
    Ok(hash.identify(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_derived_from_content() {
        let a = DatasetId::from_sha256(&sha256_hex(b"a,b\n1,2\n"));
        let b = DatasetId::from_sha256(&sha256_hex(b"a,b\n1,2\n"));
        let c = DatasetId::from_sha256(&sha256_hex(b"a,b\n1,3\n"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str().len(), 35);
        assert!(a.as_str().starts_with("ds-"));
        assert_eq!(a.as_str().parse::<DatasetId>(), Ok(a.clone()));
        for bad in [
            "",
            "ds-",
            "ds-8A3727F4CF54AC1A327F69B1D5B4DB54",
            "x-8a3727f4cf54ac1a327f69b1d5b4db54",
            "ds-../../other",
        ] {
            assert!(bad.parse::<DatasetId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_file_hashed_while_streamed_and_read_from_disk_is_one_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, b"a,b\n1,2\n").unwrap();
        let source = Source {
            source: "s3://raw/in.csv".into(),
            etag: Some("\"e\"".into()),
            ..Source::default()
        };
        let mut streamed = ContentHash::default();
        streamed.write_all(b"a,b\n").unwrap();
        streamed.write_all(b"1,2\n").unwrap();
        let (id, identity) = streamed.identify(&source);
        assert_eq!(
            (id.clone(), identity.clone()),
            identify(&path, &source).unwrap()
        );
        assert_eq!(id, DatasetId::from_sha256(&sha256_hex(b"a,b\n1,2\n")));
        assert_eq!(identity.bytes, 8);

        // Refused unread: named from where it is, never from (unread) bytes.
        let (unread, unread_identity) = source.unread(8);
        assert_ne!(unread, id);
        assert_eq!(unread_identity.sha256, None);
        assert_eq!(source.unread(8).0, unread, "the same object, the same id");
    }
}
