//! predict from outside, one module per concern, in one test binary (one module:
//! `scripts/test -- openapi::`): each file would link the workspace and the AWS SDK again
//! (integration-tests' `tests/main.rs` says what that costs).

mod clients;
mod cold_start;
mod openapi;
mod page;
