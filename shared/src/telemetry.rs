//! Business metrics as CloudWatch Embedded Metric Format (EMF) log lines: one
//! JSON object per line on stdout, which CloudWatch Logs turns into metrics
//! without an API call (and without a CloudWatch client at cold start).

use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Namespace of every metric the suite emits.
pub const METRICS_NAMESPACE: &str = "HousingMlops";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    Bytes,
    /// A unitless score (drift measures).
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Bytes => "Bytes",
            Unit::None => "None",
        }
    }
}

/// A set of metrics sharing dimensions, emitted as one EMF line.
#[derive(Debug, Clone)]
pub struct Metrics {
    namespace: String,
    dimensions: Vec<(String, String)>,
    values: Vec<(String, f64, Unit)>,
}

impl Metrics {
    pub fn new(dimensions: &[(&str, &str)]) -> Self {
        Metrics {
            namespace: METRICS_NAMESPACE.to_string(),
            dimensions: dimensions
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            values: Vec::new(),
        }
    }

    pub fn put(mut self, name: &str, value: f64, unit: Unit) -> Self {
        self.values.push((name.to_string(), value, unit));
        self
    }

    /// The EMF document at `timestamp_ms`.
    pub fn to_emf(&self, timestamp_ms: u64) -> Value {
        let dimension_names: Vec<&str> = self.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        let definitions: Vec<Value> = self
            .values
            .iter()
            .map(|(n, _, u)| json!({"Name": n, "Unit": u.as_str()}))
            .collect();
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dimension_names],
                    "Metrics": definitions,
                }]
            }),
        );
        for (k, v) in &self.dimensions {
            doc.insert(k.clone(), Value::String(v.clone()));
        }
        for (n, v, _) in &self.values {
            doc.insert(n.clone(), json!(v));
        }
        Value::Object(doc)
    }

    /// Prints the EMF line to stdout.
    pub fn emit(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        println!("{}", self.to_emf(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_has_the_documented_shape() {
        let doc = Metrics::new(&[("Function", "etl")])
            .put("RowsIn", 20640.0, Unit::Count)
            .put("DurationMs", 12.5, Unit::Milliseconds)
            .to_emf(1_700_000_000_000);
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(cw["Namespace"], METRICS_NAMESPACE);
        assert_eq!(cw["Dimensions"], json!([["Function"]]));
        assert_eq!(cw["Metrics"][0], json!({"Name": "RowsIn", "Unit": "Count"}));
        assert_eq!(doc["Function"], "etl");
        assert_eq!(doc["RowsIn"], 20640.0);
        assert_eq!(doc["DurationMs"], 12.5);
    }
}
