//! The integration tests, one module per job, in one test binary (`cargo test -p
//! integration-tests`; one module: `scripts/test -- promote_shadow::`).
//!
//! One binary, not one per file: every file links the whole workspace, the AWS SDK and
//! Polars, so 37 binaries spent about 3 minutes of CPU compiling and linking the same
//! things 37 times (BENCHMARKS.md). The modules share one moto and one endpoint server
//! ([`integration_tests::shared_moto`]); each test still makes a stack of its own.

/// predict's handler as `predict` and `predict_routes` call it.
mod handler;

mod bench_reference;
mod budget;
mod dead_letters;
mod docs;
mod drift;
mod drift_check;
mod drift_measures;
mod etl_core;
mod etl_deliveries;
mod etl_faults;
mod etl_lambda;
mod events;
mod infra_data;
mod infra_iam;
mod infra_rules;
mod infra_template;
mod main_job_servers;
mod monitor;
mod pipeline_runner;
mod predict;
mod predict_parity;
mod predict_routes;
mod promote_converge;
mod promote_faults;
mod promote_model;
mod promote_records;
mod promote_scaling;
mod promote_shadow;
mod promote_sleep;
mod prune_target;
mod roles;
mod scoring;
mod scoring_service;
mod shadow;
mod start_pipeline;
mod start_pipeline_claims;
