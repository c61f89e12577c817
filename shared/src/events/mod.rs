//! Event types: what the functions consume and publish. The one place for event
//! sources and detail types.

pub mod dataset;
#[cfg(feature = "drift")]
pub mod drift;
pub mod endpoint;
pub mod pipeline;
pub mod promotion;
pub mod registry;
pub mod s3;
pub mod scoring;

use crate::error::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `source` of every event the ETL publishes.
pub const ETL_SOURCE: &str = "housing-mlops.etl";
/// `detail-type` of the event announcing a processed dataset.
pub const DATASET_READY: &str = "HousingDatasetReady";
/// `source` of every AWS SageMaker event.
pub const SAGEMAKER_SOURCE: &str = "aws.sagemaker";

/// The EventBridge envelope of an event: what routes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Envelope<'a> {
    pub source: &'a str,
    pub detail_type: &'a str,
    pub id: Option<&'a str>,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub detail: &'a Value,
}

impl<'a> Envelope<'a> {
    /// Reads the envelope. `source` may also be a one-element array: SageMaker's
    /// documented model-package example repeats the key with an array value, and
    /// JSON parsers (serde_json included) keep the last one.
    pub fn read(event: &'a Value) -> Result<Self, Error> {
        let text = |key: &str| event.get(key).and_then(Value::as_str);
        let source = match event.get("source") {
            Some(Value::Array(values)) if values.len() == 1 => values[0].as_str(),
            other => other.and_then(Value::as_str),
        };
        let (Some(source), Some(detail_type)) = (source, text("detail-type")) else {
            return Err(Error::Event(
                "not an EventBridge event (no source / detail-type)".into(),
            ));
        };
        static NULL: Value = Value::Null;
        Ok(Envelope {
            source,
            detail_type,
            id: text("id"),
            account: text("account"),
            region: text("region"),
            detail: event.get("detail").unwrap_or(&NULL),
        })
    }

    /// Where the event came from, owned: what a handler keeps of the envelope
    /// once the detail is parsed.
    pub fn origin(&self) -> Origin {
        Origin {
            id: self.id.map(str::to_string),
            account: self.account.map(str::to_string),
            region: self.region.map(str::to_string),
        }
    }

    /// The detail as `T`; a malformed detail names the event.
    pub fn detail<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        T::deserialize(self.detail)
            .map_err(|e| Error::Event(format!("malformed {}: {e}", self.detail_type)))
    }
}

/// Where an event came from, as its envelope says: its id (what published
/// events and records cite), and the account and region it was sent from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl Origin {
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// A point in time as SageMaker events write it, in milliseconds since the Unix
/// epoch. Accepts an ISO-8601 string (`"2021-02-24T17:00:14Z"`), epoch
/// milliseconds as a number (`1622695255225`, `1592411992203.0`) or as a string
/// (`"1583831889050"`): each appears in real events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct EpochMillis(pub i64);

impl std::str::FromStr for EpochMillis {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(ms) = s.parse::<f64>() {
            return Ok(EpochMillis(ms as i64));
        }
        aws_smithy_types::DateTime::from_str(s, aws_smithy_types::date_time::Format::DateTime)
            .map_err(|e| format!("{s:?} is neither ISO-8601 nor epoch milliseconds: {e}"))
            .and_then(|t| {
                t.to_millis()
                    .map(EpochMillis)
                    .map_err(|e| format!("{s:?}: {e}"))
            })
    }
}

impl<'de> Deserialize<'de> for EpochMillis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_f64()
                .map(|ms| EpochMillis(ms as i64))
                .ok_or_else(|| serde::de::Error::custom("time out of range")),
            Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected a time, found {other}"
            ))),
        }
    }
}

/// A whole number SageMaker writes as a number or as a string (`2` or `"7"`).
pub(crate) fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a version number"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a version number"))),
        other => Err(serde::de::Error::custom(format!(
            "expected a version number, found {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_in_every_form_sagemaker_writes() {
        let iso: EpochMillis = "2021-02-24T17:00:14Z".parse().unwrap();
        assert_eq!(iso, EpochMillis(1_614_186_014_000));
        for v in [
            json!(1592411992203.0),
            json!(1592411992203u64),
            json!("1592411992203"),
        ] {
            assert_eq!(
                serde_json::from_value::<EpochMillis>(v).unwrap(),
                EpochMillis(1_592_411_992_203)
            );
        }
        assert!(serde_json::from_value::<EpochMillis>(json!("yesterday")).is_err());
        assert!(serde_json::from_value::<EpochMillis>(json!(true)).is_err());
    }

    #[test]
    fn the_envelope_accepts_a_source_array_and_rejects_non_events() {
        let event = json!({"source": ["aws.sagemaker"], "detail-type": "X", "detail": {}});
        assert_eq!(Envelope::read(&event).unwrap().source, "aws.sagemaker");
        let two = json!({"source": ["a", "b"], "detail-type": "X"});
        assert!(Envelope::read(&two).is_err());
        assert!(Envelope::read(&json!({"Records": []})).is_err());
    }
}
