//! The README's configuration references match what the code reads.

use integration_tests::repo_root;
use shared::config::Config;
use shared::config::Variable;

/// Checks the table that follows `heading` against `(variable, default)` pairs.
fn check_table(heading: &str, variables: &[Variable]) {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading:?} in README"));
    let table: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| variable"))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| `"))
        .collect();
    assert_eq!(
        table.len(),
        variables.len(),
        "{heading}: the table and the code disagree on the set of variables"
    );
    for (name, default) in variables {
        let row = table
            .iter()
            .find(|r| r.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("{heading}: {name} is not documented"));
        let cell = row.split('|').nth(2).unwrap().trim();
        match default.as_deref() {
            None => assert_eq!(cell, "required", "{name}"),
            Some("") => assert!(cell.starts_with('('), "{name}: {cell}"),
            Some(d) => assert_eq!(cell, format!("`{d}`"), "{name}"),
        }
    }
}

#[test]
fn the_etl_configuration_table_matches_the_code() {
    check_table(
        "### Configuration",
        &shared::etl::config::EtlConfig::variables(),
    );
}

#[test]
fn the_trigger_configuration_table_matches_the_code() {
    check_table(
        "## The training trigger",
        &shared::training::config::TriggerConfig::variables(),
    );
}

#[test]
fn the_promotion_configuration_table_matches_the_code() {
    check_table(
        "## Promotion",
        &shared::promotion::config::PromoteConfig::variables(),
    );
}

#[test]
fn the_predict_configuration_table_matches_the_code() {
    check_table(
        "## Predictions",
        &shared::serving::config::PredictConfig::variables(),
    );
}

#[test]
fn the_monitor_configuration_table_matches_the_code() {
    check_table(
        "### The traffic monitor",
        &shared::monitoring::config::MonitorConfig::variables(),
    );
}
