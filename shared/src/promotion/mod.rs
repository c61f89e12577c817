//! Promotion: approved registry models to real-time endpoints, stage by stage
//! (`infra/stages.yaml`), with blue/green traffic shifting and alarm rollback.
//!
//! The stages file, packages, lineage tags and what an endpoint serves are
//! read-side facts in [`crate::stages`]; this room writes.
//!
//! - [`config`]: the function's environment;
//! - [`names`]: the deterministic names of the Models and EndpointConfigs created;
//! - [`gate`]: may a candidate replace what a stage serves (no downgrade, RMSE);
//! - [`registry`]: reads of the Model Registry (latest approved, one version);
//! - [`desired`]: what each stage should serve, one S3 record per stage;
//! - [`endpoints`]: the deployment's writes (Model, EndpointConfig,
//!   `CreateEndpoint`, blue/green `UpdateEndpoint`);
//! - [`scaling`]: each stage's autoscaling (Application Auto Scaling), kept
//!   through deployments and converged after them;
//! - `sleep.rs`: a non-prod stage outside its `active` window has no endpoint;
//! - [`shadow`]: a shadow test's verdict, the candidate against the serving
//!   model on the same requests; `evidence.rs`: what it is judged on (the
//!   variants' captured answers and their metrics);
//! - [`outcome`]: what a step did, why it was asked, whether a package moves on;
//! - [`PromotionService`] (`promoter.rs`): the clients, records and config the
//!   steps share, and their metrics.
//!
//! The steps, each calling only the ones below it:
//! 1. [`service`]: the event handlers — what happens for each event;
//! 2. `converge.rs`: how a stage converges to its desired-state record;
//! 3. `shadowing.rs`: on a stage with a shadow test, the candidate first runs
//!    beside the serving model and is judged ([`shadow`]);
//! 4. `deploy.rs`: may this package go to this stage now, and the deployment;
//!    before it, `verify.rs` checks the record itself again (S3 is not trusted),
//!    and `withdraw.rs` holds what the stage serves to the registry (a package
//!    rejected after it was deployed is rolled back, or halts loudly).

pub mod config;
mod converge;
mod deploy;
pub mod desired;
pub mod endpoints;
mod evidence;
pub mod gate;
pub mod names;
pub mod outcome;
mod promoter;
pub mod registry;
pub mod scaling;
pub mod service;
pub mod shadow;
mod shadowing;
mod sleep;
mod verify;
pub mod withdraw;

pub use outcome::PromotionOutcome;
pub use promoter::PromotionService;
