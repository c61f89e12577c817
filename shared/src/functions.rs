//! The functions' names: the one place for the name a function goes by in
//! its metrics (`Function` dimension), its dead letters, its logs and the local
//! stack. Where a function's other names differ (crate, module, feature, event
//! source), the table in the crate docs (`lib.rs`) maps them.

/// `functions/etl`: a raw CSV to a processed dataset.
pub const ETL: &str = "etl";
/// `functions/start-pipeline`: the training trigger.
pub const START_PIPELINE: &str = "start-pipeline";
/// `functions/promote-model`: approved packages to the stages' endpoints.
pub const PROMOTE_MODEL: &str = "promote-model";
/// `functions/predict`: the predictions API and page.
pub const PREDICT: &str = "predict";
/// `functions/monitor`: the hourly traffic check.
pub const MONITOR: &str = "monitor";
/// `functions/score`: batch scoring of files with a stage's model.
pub const SCORE: &str = "score";

/// Every function, in the order the chain runs them.
pub const ALL: [&str; 6] = [ETL, START_PIPELINE, PROMOTE_MODEL, PREDICT, MONITOR, SCORE];
