//! Drift: how far a dataset (or the traffic an endpoint sees) has moved from
//! the data the serving model was trained on.
//!
//! - [`measures`]: PSI, Jensen–Shannon distance, two-sample KS (exact and
//!   from quantiles).
//! - [`profile`]: a column's profile (counts, moments, quantiles, a histogram
//!   on its own decile edges; category frequencies), a dataset's
//!   (`profile.json`, written by the ETL) and the comparison of two columns.
//! - [`policy`] (feature `drift`): `infra/drift.yaml`, the thresholds, the
//!   reference stage and the retraining policy.
//! - [`report`] (feature `drift`): a dataset against its baseline.
//! - [`traffic`] (feature `drift`): an endpoint's captured requests as a profile.
//! - [`quality`] (feature `drift`): the serving model's RMSE and MAE on a new
//!   dataset's test split.
//! - [`model_monitor`] (feature `drift`): a profile as SageMaker Model
//!   Monitor's `statistics.json` and `constraints.json`.
//!
//! What a stage serves and its training data's profile (the baseline) is
//! [`crate::stages::baseline`]; the trigger's check of a new dataset is
//! `training::trigger::drift_check`, the traffic monitor's is [`crate::monitoring`].

#[cfg(feature = "drift")]
pub mod html;
pub mod measures;
#[cfg(feature = "drift")]
pub mod model_monitor;
#[cfg(feature = "drift")]
pub mod policy;
pub mod profile;
#[cfg(feature = "drift")]
pub mod quality;
#[cfg(feature = "drift")]
pub mod report;
#[cfg(feature = "drift")]
pub mod traffic;
