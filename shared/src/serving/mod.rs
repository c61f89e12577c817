//! Predictions (feature `serving`): what a stage's endpoint serves, requests
//! checked against the data contract, the training features sent to the endpoint.
//!
//! - [`request`]: the request shape, the contract checks, imputation, the CSV body.
//! - [`protocol`]: KServe v1 and the Open Inference Protocol (v2): their shapes.
//! - [`service`]: the stage's model (from its endpoint's lineage tags) and `InvokeEndpoint`.
//! - [`config`]: `SERVING_STAGE` and the rest.

pub mod config;
pub mod protocol;
pub mod request;
pub mod service;
