//! Drift: how far a dataset (or the traffic an endpoint sees) has moved from
//! the data the serving model was trained on.
//!
//! - [`measures`]: PSI, Jensen–Shannon distance, two-sample KS (exact and
//!   from quantiles).
//! - [`profile`]: a column's profile (counts, moments, quantiles, a histogram
//!   on its own decile edges; category frequencies) and the comparison of two.

pub mod measures;
pub mod profile;
