//! Modules import downward only: every `crate::<module>` a file of `src/`
//! names in code (not in comments) is on a lower floor than the file's own
//! module, as the floors table in `src/lib.rs` lists them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The floors table of `lib.rs`: module → floor.
fn floors() -> BTreeMap<String, u32> {
    floors_in(&std::fs::read_to_string(src().join("lib.rs")).unwrap())
}

/// The floors table in a document: its `| <floor> | modules |` rows.
fn floors_in(text: &str) -> BTreeMap<String, u32> {
    let mut floors = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.trim_start_matches("//!").split('|').collect();
        let Some(floor) = cells.get(1).and_then(|c| c.trim().parse::<u32>().ok()) else {
            continue;
        };
        for module in cells[2].split(',') {
            floors.insert(module.trim().trim_matches('`').to_string(), floor);
        }
    }
    floors
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None`: `lib.rs`).
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib").then(|| name.to_string())
}

/// Every `crate::<module>` named in code, with its line number.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let module: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !module.is_empty() && module.chars().next().unwrap().is_ascii_lowercase() {
                found.push((n + 1, module));
            }
        }
    }
    found
}

/// The rows of the functions' name table (`| \`etl\` | ... |`), links and
/// brackets taken out, cells trimmed.
fn function_names(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.trim_start_matches("//!").trim())
        .filter(|l| l.starts_with("| `") && l.matches('|').count() == 6)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.replace(['[', ']'], "").trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn architecture_md_maps_the_functions_names_as_lib_rs_does() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md");
    let lib = function_names(&std::fs::read_to_string(src().join("lib.rs")).unwrap());
    assert_eq!(lib.len(), shared::functions::ALL.len());
    for (row, name) in lib.iter().zip(shared::functions::ALL) {
        assert_eq!(row[0], format!("`{name}`"));
    }
    assert_eq!(function_names(&std::fs::read_to_string(doc).unwrap()), lib);
}

#[test]
fn architecture_md_shows_the_same_floors() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md");
    assert_eq!(floors_in(&std::fs::read_to_string(doc).unwrap()), floors());
}

#[test]
fn the_floors_table_names_every_module_once() {
    let floors = floors();
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: Vec<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    assert!(declared.len() >= 15, "{declared:?}");
    for module in &declared {
        assert!(
            floors.contains_key(module),
            "{module} has no floor in lib.rs"
        );
    }
    assert_eq!(floors.len(), declared.len(), "{floors:?} vs {declared:?}");
}

#[test]
fn modules_import_only_from_lower_floors() {
    let floors = floors();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let own = floors[&module];
        let text = std::fs::read_to_string(file).unwrap();
        for (line, imported) in imports(&text) {
            if imported == module {
                continue;
            }
            let Some(&floor) = floors.get(&imported) else {
                upward.push(format!(
                    "{}:{line}: crate::{imported} has no floor",
                    file.display()
                ));
                continue;
            };
            if floor >= own {
                upward.push(format!(
                    "{}:{line}: {module} (floor {own}) imports {imported} (floor {floor})",
                    file.display()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not go down:\n{}",
        upward.join("\n")
    );
}

#[test]
fn an_upward_import_is_found() {
    // The check itself: a wing naming another wing, and a comment that does not count.
    let text = "use crate::promotion::PromotionService;\n// crate::serving is only mentioned\n";
    assert_eq!(imports(text), [(1, "promotion".to_string())]);
}
