//! Promotion: approved registry models to real-time endpoints, stage by stage
//! (`infra/stages.yaml`), with blue/green traffic shifting and alarm rollback.
//!
//! - [`stages`]: the stages file and its validation;
//! - [`config`]: the function's environment;
//! - [`lineage`]: packages, lineage tags and deterministic resource names;
//! - [`gate`]: may a candidate replace what a stage serves (no downgrade, RMSE);
//! - [`registry`]: reads of the Model Registry (latest approved, one version);
//! - [`desired`]: what each stage should serve, one S3 record per stage;
//! - [`endpoints`]: what an endpoint serves, and the deployment's writes
//!   (Model, EndpointConfig, `CreateEndpoint`, blue/green `UpdateEndpoint`);
//! - [`service`]: the policy — what happens for each event; how a stage
//!   converges to its record is `converge.rs`, and the deployment step (may
//!   this package go to this stage now) is `deploy.rs`.

pub mod config;
mod converge;
mod deploy;
pub mod desired;
pub mod endpoints;
pub mod gate;
pub mod lineage;
pub mod registry;
pub mod service;
pub mod stages;
