//! docs/reference/cli.md shows each command's `--help` as the binary prints it.

use std::path::Path;
use std::process::Command;

/// The commands the page documents, in its order.
const COMMANDS: [&str; 7] = [
    "",
    "status",
    "promote",
    "drift",
    "cost",
    "definition",
    "etl",
];

fn help(command: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_housing-mlops"))
        .args(command.split_whitespace())
        .arg("--help")
        .output()
        .expect("housing-mlops runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The page as the binary would write it.
fn page() -> String {
    let mut page = String::from(PREAMBLE);
    for command in COMMANDS {
        let shown = format!("housing-mlops {command} --help").replace("  ", " ");
        let title = if command.is_empty() {
            "housing-mlops".to_string()
        } else {
            format!("`{command}`")
        };
        page.push_str(&format!(
            "\n## {title}\n\n```text\n$ {shown}\n{}```\n",
            help(command)
        ));
    }
    page
}

const PREAMBLE: &str = "# The operators' command — `housing-mlops`

Each command's help, as `housing-mlops <command> --help` prints it (`cli/tests/help.rs` holds this
page to the binary: `CLI_HELP_WRITE=1 cargo test -p housing-mlops -- help::` rewrites it). How
to use them on a stack: [operate it](../guide/operate.md). `status`, `promote` and `drift` find
the stack by name through CloudFormation (its outputs name the buckets and the bus) and sign with
the default credential chain (environment, profile, SSO, web identity, instance role); on a local
stack, `--endpoint-url` sends every call to its moto. `housing-etl` and `pipeline-definition` are
`etl` and `definition` under their older names.
";

#[test]
fn the_reference_page_shows_each_commands_help() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reference/cli.md");
    let want = page();
    if std::env::var_os("CLI_HELP_WRITE").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/reference/cli.md is stale: CLI_HELP_WRITE=1 cargo test -p housing-mlops -- help::"
    );
}

#[test]
fn the_older_names_run_the_same_commands() {
    let etl = |exe: &str, sub: &[&str]| {
        let out = Command::new(exe).args(sub).arg("--help").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        // The options, whatever the usage line's name (the older names print a version too).
        let options = text.split_once("Options:").unwrap().1;
        options
            .lines()
            .filter(|l| !l.contains("-V, --version") && l.trim() != "Print version")
            .collect::<Vec<_>>()
            .join("\n")
    };
    let main = env!("CARGO_BIN_EXE_housing-mlops");
    assert_eq!(
        etl(env!("CARGO_BIN_EXE_housing-etl"), &[]),
        etl(main, &["etl"])
    );
    assert_eq!(
        etl(env!("CARGO_BIN_EXE_pipeline-definition"), &[]),
        etl(main, &["definition"])
    );
}
