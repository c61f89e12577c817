//! What the integration tests share: the repository's fixtures ([`fixtures`]),
//! one test environment for every function ([`env`]), on the local AWS stack of
//! the `local-stack` crate (moto), which the main job uses too; the one
//! SageMaker fake for what moto cannot do ([`sagemaker`]); the template as
//! YAML ([`template`]).

pub mod api;
pub mod drift_check;
pub mod env;
pub mod etl;
pub mod fixtures;
pub mod monitor;
pub mod policy;
pub mod promotion;
pub mod sagemaker;
pub mod serving;
pub mod template;
pub mod trigger;

pub use env::{shared_endpoint_server, shared_moto, Setup, TestEnv};
pub use fixtures::{
    housing, housing_head, python_json, read_json, run_etl, sample_event, LocalOutput,
};
pub use local_stack::{repo_root, sdk_config, Clients, Function, Stack, ACCOUNT, REGION};
