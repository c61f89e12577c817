//! The condition part of IAM policy evaluation, for the resource policies moto
//! does not evaluate (bucket policies above all): does a statement's
//! `Condition` hold for a request context? Written from the IAM User Guide
//! ("IAM JSON policy elements: Condition operators", "...IfExists condition
//! operators", "Condition operator to check existence of condition keys"):
//!
//! - operators in one `Condition` are ANDed, and so are the keys under one
//!   operator; the values of one key are ORed (a negated operator holds when the
//!   request's value matches none of them);
//! - a key absent from the request: a positive operator does not hold, a negated
//!   one (`StringNotEquals`, `ArnNotLike`, ...) does, and any `...IfExists`
//!   operator does;
//! - `Null` with `"true"` holds when the key is absent, with `"false"` when present.
//!
//! Wildcards (`*`, `?`) for the `Like` operators; case-insensitive `StringEqualsIgnoreCase`.
//! Operators this suite's policies do not use are refused, not guessed.

use serde_json::Value;
use std::collections::BTreeMap;

/// A request's condition keys and their values (absent keys are not in the map).
pub type Context = BTreeMap<String, String>;

/// Whether `condition` (a statement's `Condition`, values already resolved to
/// strings) holds for `context`. Panics on an operator it does not know.
pub fn holds(condition: &Value, context: &Context) -> bool {
    let Some(operators) = condition.as_object() else {
        return true; // no Condition: the statement applies
    };
    operators.iter().all(|(operator, keys)| {
        keys.as_object()
            .expect("keys under an operator")
            .iter()
            .all(|(key, values)| {
                let values: Vec<String> = match values {
                    Value::Array(items) => items.iter().map(scalar).collect(),
                    one => vec![scalar(one)],
                };
                key_holds(operator, context.get(key).map(String::as_str), &values)
            })
    })
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => panic!("condition values must be resolved to strings first: {other:?}"),
    }
}

fn key_holds(operator: &str, value: Option<&str>, wanted: &[String]) -> bool {
    if operator == "Null" {
        let absent = value.is_none();
        return wanted.iter().any(|w| (w == "true") == absent);
    }
    let (base, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let negated = base.contains("Not");
    let Some(value) = value else {
        return if_exists || negated;
    };
    let matches = |w: &String| match base {
        "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => value == w,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => value.eq_ignore_ascii_case(w),
        "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" => like(w, value),
        "Bool" => value.eq_ignore_ascii_case(w),
        other => panic!("condition operator {other} is not implemented here"),
    };
    if negated {
        !wanted.iter().any(matches)
    } else {
        wanted.iter().any(matches)
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` one character.
pub fn like(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && go(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && go(rest, &v[1..]),
        }
    }
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    go(&p, &v)
}

/// Whether a statement's `Resource` (one or a list, with wildcards) covers `arn`.
pub fn covers_resource(statement: &Value, arn: &str) -> bool {
    let resources: Vec<String> = match &statement["Resource"] {
        Value::Array(items) => items.iter().map(scalar).collect(),
        one => vec![scalar(one)],
    };
    resources.iter().any(|r| like(r, arn))
}

/// Whether a statement's `Action` (one or a list, with wildcards) covers `action`.
pub fn covers_action(statement: &Value, action: &str) -> bool {
    let actions: Vec<String> = match &statement["Action"] {
        Value::Array(items) => items.iter().map(scalar).collect(),
        one => vec![scalar(one)],
    };
    actions
        .iter()
        .any(|a| like(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    fn context(pairs: &[(&str, &str)]) -> Context {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_semantics_the_iam_guide_gives() {
        let empty = Context::new();
        let key = "s3:x-amz-server-side-encryption";
        // A negated operator and any IfExists hold when the key is absent.
        assert!(holds(
            &yaml(&format!("StringNotEquals: {{ '{key}': aws:kms }}")),
            &empty
        ));
        assert!(holds(
            &yaml(&format!("StringNotEqualsIfExists: {{ '{key}': aws:kms }}")),
            &empty
        ));
        assert!(holds(
            &yaml(&format!("StringEqualsIfExists: {{ '{key}': aws:kms }}")),
            &empty
        ));
        assert!(!holds(
            &yaml(&format!("StringEquals: {{ '{key}': aws:kms }}")),
            &empty
        ));
        // Null: "false" holds only when the key is there.
        let present = context(&[(key, "AES256")]);
        assert!(!holds(
            &yaml(&format!("'Null': {{ '{key}': 'false' }}")),
            &empty
        ));
        assert!(holds(
            &yaml(&format!("'Null': {{ '{key}': 'false' }}")),
            &present
        ));
        // Operators AND; values OR (none matched, for a negated operator).
        let both = yaml(&format!(
            "{{ 'Null': {{ '{key}': 'false' }}, StringNotEquals: {{ '{key}': [aws:kms, aws:kms:dsse] }} }}"
        ));
        assert!(holds(&both, &present));
        assert!(!holds(&both, &context(&[(key, "aws:kms:dsse")])));
        assert!(!holds(&both, &empty));
        assert!(like("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y") && !like("a?c", "ac"));
    }
}
