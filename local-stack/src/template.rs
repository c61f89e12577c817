//! The SAM template (`infra/template.yaml`) read as YAML: its resources, its
//! functions, and values resolved with a stack's names. The local stack makes
//! each function's role from it ([`crate::roles`]); the tests hold it to the
//! code (`tests/src/template.rs` builds on this).

use crate::repo_root;
use serde_json::{Map, Value};
use serde_norway::Value as Yaml;
use std::collections::BTreeMap;

/// The template, read and parsed once per process (every stack's roles are made from it).
pub fn template() -> &'static Yaml {
    static TEMPLATE: std::sync::OnceLock<Yaml> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = repo_root().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_norway::from_str(&text).expect("infra/template.yaml is YAML")
    })
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

/// A template value as JSON, with `!Ref`, `!GetAtt` and `!Sub` resolved from
/// `names` (`RawBucket`, `RawBucket.Arn`, `AWS::Region`, ...). Panics on a
/// name it lacks or a tag it does not know.
pub fn resolve<K: AsRef<str>, V: AsRef<str>>(value: &Yaml, names: &BTreeMap<K, V>) -> Value {
    let name = |text: &str| -> Value {
        names
            .iter()
            .find(|(k, _)| k.as_ref() == text)
            .map(|(_, v)| Value::from(v.as_ref()))
            .unwrap_or_else(|| panic!("no name for {text}"))
    };
    match value {
        Yaml::Tagged(tagged) => {
            let text = tagged
                .value
                .as_str()
                .unwrap_or_else(|| panic!("unsupported {tagged:?}"));
            if tagged.tag == "Ref" || tagged.tag == "GetAtt" {
                name(text)
            } else if tagged.tag == "Sub" {
                let mut out = text.to_string();
                for (k, v) in names {
                    out = out.replace(&format!("${{{}}}", k.as_ref()), v.as_ref());
                }
                assert!(!out.contains("${"), "unresolved placeholder in {text}");
                Value::from(out)
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
