//! What the integration tests share: the repository's fixtures ([`fixtures`])
//! and one test environment for every function ([`env`]), on the local AWS
//! stack of the `local-stack` crate (moto), which the main job uses too.

pub mod env;
pub mod fixtures;
pub mod serving;

pub use env::{shared_endpoint_server, shared_moto, Setup, TestEnv};
pub use fixtures::{
    housing, housing_head, python_json, read_json, run_etl, sample_event, LocalOutput,
};
pub use local_stack::{repo_root, sdk_config, Clients, Function, Stack, ACCOUNT, REGION};
