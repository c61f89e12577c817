//! `housing-mlops`: the operators' command line ([`housing_mlops`] has a module a subcommand).
//!
//! Exit 0: done. Exit 1: the command failed (the reason on stderr: a missing credential,
//! stack, stage, package or report, a file that is not valid). Exit 2: a usage error; `etl`
//! also exits 2 for a file rejected whole.

use clap::{Parser, Subcommand};
use housing_mlops::{cost, definition, drift, etl, promote, status};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "housing-mlops", version, about = "Operate housing-mlops")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Per stage: its desired-state record, endpoint, model, fleet and traffic drift; the
    /// latest dataset's drift.
    Status(status::Args),
    /// Deploy an approved registry version to a stage (puts PromoteModel on the stack's bus).
    Promote(promote::Args),
    /// A drift check's report and its page: a dataset's, or a stage's latest traffic window.
    Drift(drift::Args),
    /// Each stage's monthly cost idle, at min and at max scale, and a training run's.
    Cost(cost::Args),
    /// The SageMaker pipeline definition (JSON).
    Definition(definition::Args),
    /// Validate, clean, feature and split a California-housing CSV on this machine.
    Etl(etl::Args),
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    let result = match command {
        Command::Etl(args) => return etl::run(args, "housing-mlops etl"),
        Command::Cost(args) => cost::run(args),
        Command::Definition(args) => definition::run(args),
        Command::Status(args) => block_on(status::run(args)),
        Command::Promote(args) => block_on(promote::run(args)),
        Command::Drift(args) => block_on(drift::run(args)),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("housing-mlops: {e}");
            ExitCode::FAILURE
        }
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(future)
}
