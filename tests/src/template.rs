//! The SAM template read as YAML, for the tests that hold it to the code
//! (`tests/tests/infra_*.rs`): its resources, functions, resolved values and
//! the grants of its roles.

use crate::repo_root;
use serde_json::{Map, Value};
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

pub fn template() -> Yaml {
    let text = std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap();
    serde_norway::from_str(&text).expect("infra/template.yaml is YAML")
}

pub fn resources(template: &Yaml) -> Vec<(String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

/// The template's Lambda functions: logical id → resource.
pub fn functions(template: &Yaml) -> BTreeMap<String, Yaml> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .collect()
}

/// A template value as JSON, with `!Ref`, `!GetAtt` and `!Sub` resolved from `names`.
pub fn resolve(value: &Yaml, names: &BTreeMap<&str, &str>) -> Value {
    match value {
        Yaml::Tagged(tagged) => {
            let text = tagged
                .value
                .as_str()
                .unwrap_or_else(|| panic!("unsupported {tagged:?}"));
            if tagged.tag == "Ref" {
                Value::from(
                    *names
                        .get(text)
                        .unwrap_or_else(|| panic!("no name for !Ref {text}")),
                )
            } else if tagged.tag == "Sub" {
                let mut out = text.to_string();
                for (k, v) in names {
                    out = out.replace(&format!("${{{k}}}"), v);
                }
                assert!(!out.contains("${"), "unresolved placeholder in {text}");
                Value::from(out)
            } else if tagged.tag == "GetAtt" {
                Value::from(
                    *names
                        .get(text)
                        .unwrap_or_else(|| panic!("no name for !GetAtt {text}")),
                )
            } else {
                panic!("unsupported tag {tagged:?}")
            }
        }
        Yaml::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), resolve(v, names)))
                .collect::<Map<_, _>>(),
        ),
        Yaml::Sequence(items) => Value::Array(items.iter().map(|v| resolve(v, names)).collect()),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::Bool(b) => Value::from(*b),
        Yaml::Null => Value::Null,
    }
}

/// A resource reference or ARN as text: `!GetAtt X.Arn` → `X.Arn`, `!Sub "…"` → `…`.
pub fn reference(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Tagged(tagged) => match &tagged.value {
            Yaml::Sequence(items) => reference(&items[0]),
            inner => reference(inner),
        },
        other => format!("{other:?}"),
    }
}

/// Every (action, resource) an IAM role's inline policies allow.
pub fn grants(template: &Yaml, role: &str) -> BTreeSet<(String, String)> {
    let resources: BTreeMap<String, Yaml> = resources(template).into_iter().collect();
    let one_or_many = |v: &Yaml| -> Vec<Yaml> {
        match v {
            Yaml::Sequence(items) => items.clone(),
            one => vec![one.clone()],
        }
    };
    let mut out = BTreeSet::new();
    let policies = resources[role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    for statement in policies.iter().flat_map(|p| {
        p["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap()
            .clone()
    }) {
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{role}");
        for action in one_or_many(&statement["Action"]) {
            for resource in one_or_many(&statement["Resource"]) {
                out.insert((action.as_str().unwrap().to_string(), reference(&resource)));
            }
        }
    }
    out
}

/// Every Allow statement under `value`, wherever the template nests it (a
/// function's `Policies`, a role's `PolicyDocument`, a boundary).
pub fn allow_statements(value: &Yaml) -> Vec<Yaml> {
    fn collect(value: &Yaml, out: &mut Vec<Yaml>) {
        match value {
            Yaml::Mapping(m) => {
                if value["Effect"].as_str() == Some("Allow") {
                    out.push(value.clone());
                } else {
                    m.values().for_each(|v| collect(v, out));
                }
            }
            Yaml::Sequence(items) => items.iter().for_each(|v| collect(v, out)),
            Yaml::Tagged(t) => collect(&t.value, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    collect(value, &mut out);
    out
}

/// Every action the statements under `value` allow.
pub fn allowed_actions(value: &Yaml, out: &mut BTreeSet<String>) {
    for statement in allow_statements(value) {
        match &statement["Action"] {
            Yaml::String(a) => {
                out.insert(a.clone());
            }
            Yaml::Sequence(items) => {
                out.extend(items.iter().filter_map(|a| a.as_str().map(str::to_string)))
            }
            _ => {}
        }
    }
}
