//! The traffic monitor (`functions/monitor`, on a schedule): each serving
//! stage's captured requests since its last run, profiled and compared with
//! the training data of the model it serves.

pub mod capture;
pub mod config;
pub mod outcome;
pub mod service;
