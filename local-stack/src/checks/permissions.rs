//! Step 8: what moto's IAM engine made of the functions' calls. Each function
//! ran under its own role, made from the template (`local_stack::roles`);
//! `scripts/moto_server.py --authorizations` recorded every decision. A denied
//! call fails the main job; a granted action no call used is reported as a
//! candidate to remove.

use anyhow::{ensure, Context, Result};
use local_stack::{Function, Stack};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One decision of moto's, as the server recorded it.
#[derive(Deserialize)]
struct Decision {
    principal: String,
    action: String,
    resource: String,
    allowed: bool,
}

/// Granted actions moto never authorises on the caller's behalf, so no run
/// here can show them used: S3 calls KMS itself (the caller's kms:* is not
/// checked), CreateModel does not check iam:PassRole, and InvokeEndpoint goes
/// to the local endpoint server, not moto.
const NOT_CHECKED_LOCALLY: [&str; 4] = [
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "iam:PassRole",
    "sagemaker:InvokeEndpoint",
];

pub fn permissions(stack: &Stack, authorizations: &Path) -> Result<()> {
    let text = std::fs::read_to_string(authorizations)
        .with_context(|| format!("reading {}", authorizations.display()))?;
    let decisions: Vec<Decision> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not moto's decisions", authorizations.display()))?;
    let mut denied = Vec::new();
    for function in Function::ALL {
        let role = format!("assumed-role/{}/", stack.role_name(function));
        let mine: Vec<&Decision> = decisions
            .iter()
            .filter(|d| d.principal.contains(&role))
            .collect();
        let mut used: BTreeMap<&str, usize> = BTreeMap::new();
        for d in mine.iter().filter(|d| d.allowed) {
            *used.entry(d.action.as_str()).or_default() += 1;
        }
        let granted = granted_actions(stack, function);
        let (blind, unused): (Vec<&str>, Vec<&str>) = granted
            .iter()
            .map(String::as_str)
            .filter(|a| !used.contains_key(a))
            .partition(|a| NOT_CHECKED_LOCALLY.contains(a));
        let calls: Vec<String> = used.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
        println!(
            "  {}: {} calls allowed ({})",
            function.name(),
            used.values().sum::<usize>(),
            calls.join(", ")
        );
        if !unused.is_empty() {
            println!("    granted, used by no call: {}", unused.join(", "));
        }
        if !blind.is_empty() {
            println!("    granted, not checked by moto: {}", blind.join(", "));
        }
        for d in mine.iter().filter(|d| !d.allowed) {
            println!("    DENIED {} on {}", d.action, d.resource);
            denied.push(format!(
                "{}: {} on {}",
                function.name(),
                d.action,
                d.resource
            ));
        }
    }
    println!("  (\"used by no call\": candidates to remove, unless a path the main job does not take needs them)");
    ensure!(
        denied.is_empty(),
        "moto denied calls the functions made under their template roles: {}",
        denied.join("; ")
    );
    Ok(())
}

/// Every action the template grants `function`'s role.
fn granted_actions(stack: &Stack, function: Function) -> BTreeSet<String> {
    let policy = stack.role_policy(function);
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}
