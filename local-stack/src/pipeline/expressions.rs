//! The expressions of a pipeline definition, as SageMaker evaluates them:
//! `Get` (parameters, the execution ARN, the step properties the definition
//! reads), `Std:Join`, `Std:JsonGet`, and the conditions of a Condition step.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The runner's state: what expressions can read.
pub(super) struct Scope {
    pub(super) execution_arn: String,
    pub(super) parameters: BTreeMap<String, Value>,
    /// `Steps.<name>.<property>` → value, for the properties steps produce.
    pub(super) properties: BTreeMap<String, Value>,
    /// `Steps.<name>.PropertyFiles.<file>` → the file's JSON.
    pub(super) property_files: BTreeMap<String, Value>,
}

/// A value as text: strings as they are, anything else as JSON.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number(value: &Value) -> Result<f64> {
    match value {
        Value::Number(n) => n.as_f64().context("not a finite number"),
        Value::String(s) => s
            .trim()
            .parse()
            .with_context(|| format!("{s:?} is not a number")),
        other => bail!("{other} is not a number"),
    }
}

/// `a.b[0].c` in a JSON document, as `Std:JsonGet` reads it.
fn json_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut at = doc;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !key.is_empty() {
            at = at.get(key)?;
        }
        if let Some(i) = index {
            at = at.get(i)?;
        }
    }
    Some(at)
}

impl Scope {
    fn get(&self, name: &str) -> Result<Value> {
        if let Some(p) = name.strip_prefix("Parameters.") {
            return self
                .parameters
                .get(p)
                .cloned()
                .with_context(|| format!("undeclared parameter {p}"));
        }
        if name == "Execution.PipelineExecutionArn" {
            return Ok(json!(self.execution_arn));
        }
        if name == "Execution.PipelineExecutionId" {
            let id = self.execution_arn.rsplit('/').next().unwrap_or_default();
            return Ok(json!(id));
        }
        if let Some(file) = self.property_files.get(name) {
            return Ok(file.clone());
        }
        self.properties
            .get(name)
            .cloned()
            .with_context(|| format!("{name}: no step produced it (yet)"))
    }

    /// `value` with every expression in it evaluated.
    pub(super) fn resolve(&self, value: &Value) -> Result<Value> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, inner) = map.iter().next().expect("one entry");
                match key.as_str() {
                    "Get" => self.get(inner.as_str().context("Get of a non-string")?),
                    "Std:Join" => {
                        let on = inner["On"].as_str().unwrap_or_default();
                        let values = inner["Values"]
                            .as_array()
                            .context("Std:Join without Values")?;
                        let parts = values
                            .iter()
                            .map(|v| self.resolve(v).map(|v| text(&v)))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(json!(parts.join(on)))
                    }
                    "Std:JsonGet" => {
                        let file = self.resolve(&inner["PropertyFile"])?;
                        let path = inner["Path"].as_str().context("Std:JsonGet without Path")?;
                        json_path(&file, path)
                            .cloned()
                            .with_context(|| format!("Std:JsonGet: no {path} in the property file"))
                    }
                    _ => Ok(json!({ key.clone(): self.resolve(inner)? })),
                }
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.resolve(v)?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v))
                    .collect::<Result<_>>()?,
            )),
            other => Ok(other.clone()),
        }
    }
}

/// A boolean as a parameter carries it: JSON `true`/`false`, or the strings
/// `StartPipelineExecution` passes (`"true"`, `"False"`).
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().to_ascii_lowercase().parse().ok(),
        _ => None,
    }
}

/// Whether every condition of a Condition step holds.
pub(super) fn condition(step: &Value, context: &Scope) -> Result<bool> {
    let mut holds = true;
    for c in step["Arguments"]["Conditions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let kind = c["Type"].as_str().unwrap_or_default();
        let (left, right) = (
            context.resolve(&c["LeftValue"])?,
            context.resolve(&c["RightValue"])?,
        );
        if kind == "Equals" && (left.is_boolean() || right.is_boolean()) {
            let (Some(l), Some(r)) = (boolean(&left), boolean(&right)) else {
                bail!("Equals of {left} and {right}: a boolean compared with a non-boolean");
            };
            holds &= l == r;
            continue;
        }
        let (left, right) = (number(&left)?, number(&right)?);
        holds &= match kind {
            "LessThanOrEqualTo" => left <= right,
            "LessThan" => left < right,
            "GreaterThanOrEqualTo" => left >= right,
            "GreaterThan" => left > right,
            "Equals" => left == right,
            other => bail!("the local runner does not evaluate {other} conditions"),
        };
    }
    Ok(holds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Scope {
        Scope {
            execution_arn: "arn:x/execution/abc".into(),
            parameters: BTreeMap::from([
                ("DatasetId".to_string(), json!("ds-1")),
                ("RmseThreshold".to_string(), json!(60000.0)),
            ]),
            properties: BTreeMap::from([(
                "Steps.T.FinalMetricDataList['validation:rmse'].Value".to_string(),
                json!(0.25),
            )]),
            property_files: BTreeMap::from([(
                "Steps.E.PropertyFiles.R".to_string(),
                json!({"test": {"rmse": 41000.5, "list": [1, {"x": 2}]}}),
            )]),
        }
    }

    #[test]
    fn expressions_resolve_as_sagemaker_evaluates_them() {
        let c = context();
        let doc = json!({
            "a": {"Get": "Parameters.DatasetId"},
            "b": {"Std:Join": {"On": "/", "Values": ["s3://m", {"Get": "Parameters.DatasetId"}, "x"]}},
            "c": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.E.PropertyFiles.R"}, "Path": "test.rmse"}},
            "d": [{"Get": "Execution.PipelineExecutionArn"}, 3],
            "e": {"Std:Join": {"On": "", "Values": [{"Get": "Steps.T.FinalMetricDataList['validation:rmse'].Value"}]}},
            "f": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.E.PropertyFiles.R"}, "Path": "test.list[1].x"}},
        });
        let r = c.resolve(&doc).unwrap();
        assert_eq!(r["a"], "ds-1");
        assert_eq!(r["b"], "s3://m/ds-1/x");
        assert_eq!(r["c"], 41000.5);
        assert_eq!(r["d"], json!(["arn:x/execution/abc", 3]));
        assert_eq!(r["e"], "0.25");
        assert_eq!(r["f"], 2);
        let missing = c.resolve(&json!({"Get": "Steps.Later.Thing"})).unwrap_err();
        assert!(
            missing.to_string().contains("no step produced it"),
            "{missing}"
        );
        assert!(c.resolve(&json!({"Get": "Parameters.Nope"})).is_err());
    }

    #[test]
    fn conditions_compare_numbers_and_numeric_strings() {
        let c = context();
        let step = |left: Value, kind: &str| {
            json!({"Arguments": {"Conditions": [{
                "Type": kind, "LeftValue": left, "RightValue": {"Get": "Parameters.RmseThreshold"}
            }]}})
        };
        let jsonget = json!({"Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.E.PropertyFiles.R"}, "Path": "test.rmse"
        }});
        assert!(condition(&step(jsonget.clone(), "LessThanOrEqualTo"), &c).unwrap());
        assert!(!condition(&step(jsonget, "GreaterThan"), &c).unwrap());
        assert!(!condition(&step(json!("70000"), "LessThanOrEqualTo"), &c).unwrap());
        assert!(condition(&step(json!("x"), "Equals"), &c).is_err());
    }

    #[test]
    fn a_boolean_parameter_chooses_a_branch_given_as_json_or_as_text() {
        let mut c = context();
        let equals = json!({"Arguments": {"Conditions": [{
            "Type": "Equals", "LeftValue": {"Get": "Parameters.UseSpot"}, "RightValue": true
        }]}});
        for (value, holds) in [
            (json!(true), true),
            (json!(false), false),
            (json!("true"), true),
            (json!("False"), false),
        ] {
            c.parameters.insert("UseSpot".into(), value.clone());
            assert_eq!(condition(&equals, &c).unwrap(), holds, "{value}");
        }
        c.parameters.insert("UseSpot".into(), json!("maybe"));
        assert!(condition(&equals, &c).is_err());
        assert_eq!(
            c.resolve(&json!({"Get": "Execution.PipelineExecutionId"}))
                .unwrap(),
            "abc"
        );
    }
}
