//! The SAM template read as YAML, for the tests that hold it to the code
//! (`tests/tests/infra_*.rs`): its resources, functions, resolved values and
//! the grants of its roles. Reading and resolving it is the local stack's
//! (`local_stack::template`), which makes each function's role from it.

pub use local_stack::template::{functions, resolve, resources, template};
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

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
