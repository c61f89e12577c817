//! The command line as an operator runs it, one module per command or interface, in one test
//! binary (one module: `cargo test -p housing-mlops -- operate::`): each file would link the
//! workspace and the AWS SDK again (integration-tests' `tests/main.rs` says what that costs).

mod cost;
mod etl;
mod etl_lambda;
mod help;
mod operate;
