//! The documents hold to the code: each function's configuration table in
//! `docs/reference/configuration.md` lists exactly the variables its
//! `Config::variables()` reads, with their defaults; and every relative link in
//! the README, the top-level documents and `docs/` leads to a file (and, with a
//! `#fragment`, to a heading) that exists.

use integration_tests::repo_root;
use shared::config::{Config, Variable};
use std::path::{Path, PathBuf};

const CONFIGURATION: &str = "docs/reference/configuration.md";

/// The table under `## <heading>` of `page`: its `| \`NAME\` | default | ... |` rows.
fn table<'a>(page: &'a str, heading: &str) -> Vec<&'a str> {
    let start = format!("## {heading}\n");
    let section = page
        .split_once(&start)
        .unwrap_or_else(|| panic!("no {start:?} in {CONFIGURATION}"))
        .1;
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .skip_while(|l| !l.starts_with("| variable"))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| `"))
        .collect()
}

fn check_table(heading: &str, variables: &[Variable]) {
    let page = std::fs::read_to_string(repo_root().join(CONFIGURATION)).unwrap();
    let table = table(&page, heading);
    assert_eq!(
        table.len(),
        variables.len(),
        "{CONFIGURATION} ## {heading}: the table and the code disagree on the set of variables"
    );
    for (name, default) in variables {
        let row = table
            .iter()
            .find(|r| r.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("{CONFIGURATION} ## {heading}: {name} is not documented"));
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
    check_table("etl", &shared::etl::config::EtlConfig::variables());
}

#[test]
fn the_trigger_configuration_table_matches_the_code() {
    check_table(
        "start-pipeline",
        &shared::training::config::TriggerConfig::variables(),
    );
}

#[test]
fn the_promotion_configuration_table_matches_the_code() {
    check_table(
        "promote-model",
        &shared::promotion::config::PromoteConfig::variables(),
    );
}

#[test]
fn the_predict_configuration_table_matches_the_code() {
    check_table(
        "predict",
        &shared::serving::config::PredictConfig::variables(),
    );
}

#[test]
fn the_scoring_configuration_table_matches_the_code() {
    check_table(
        "scoring",
        &shared::scoring::config::ScoringConfig::variables(),
    );
}

#[test]
fn the_monitor_configuration_table_matches_the_code() {
    check_table(
        "monitor",
        &shared::monitoring::config::MonitorConfig::variables(),
    );
}

/// A heading's anchor as GitHub makes it: lower case, spaces to hyphens,
/// punctuation other than hyphens and underscores dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap()),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// Every `](target)` outside code blocks and inline code.
fn links(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code is not a link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                found.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    found
}

fn documents() -> Vec<PathBuf> {
    let root = repo_root();
    let mut found: Vec<PathBuf> = [
        "README.md",
        "ARCHITECTURE.md",
        "CONTRIBUTING.md",
        "BENCHMARKS.md",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    walk(&root.join("docs"), &mut found);
    found
}

#[test]
fn every_relative_link_in_the_documents_resolves() {
    let docs = documents();
    assert!(docs.len() >= 14, "{docs:?}");
    let mut broken = Vec::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for link in links(&text) {
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("mailto:")
            {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", doc.display()));
                continue;
            }
            if !fragment.is_empty() && target.extension().is_some_and(|e| e == "md") {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                if !headings.iter().any(|h| h == fragment) {
                    broken.push(format!("{}: {link} (no such heading)", doc.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_what_is_broken() {
    assert_eq!(
        anchor(" Drift — `shared/src/drift/`, `infra/drift.yaml`"),
        "drift--sharedsrcdrift-infradriftyaml"
    );
    assert_eq!(
        links("see [a](x.md#b) and `[not](a link)`\n```\n[no](code)\n```\n[c](y.md)"),
        ["x.md#b", "y.md"]
    );
}
