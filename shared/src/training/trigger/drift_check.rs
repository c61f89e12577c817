//! The data-drift check on a new dataset (run by the training trigger on
//! `HousingDatasetReady`, before it decides whether to train).
//!
//! - **Baseline**: the training dataset of the model the policy's
//!   `reference_stage` serves, read from its endpoint config's lineage tags.
//!   When that stage serves nothing, the stages after it and then before it,
//!   nearest first (with `prod` as reference: `pre-prod`, then `dev`): the most
//!   advanced model that serves.
//! - **Comparison**: the two `profile.json`s the ETL wrote
//!   ([`super::report::compare`]); and the model's quality on the new data:
//!   the first `QUALITY_MAX_ROWS` rows of its test split scored by the stage's
//!   endpoint ([`super::quality`]).
//! - **Outcome**: the `DriftReport` at `datasets/<id>/drift.json`, EMF scores
//!   per column (`FeatureDriftPSI`, `FeatureDriftJS`, `FeatureDriftKS`;
//!   dimension `Feature`) and, when a column crossed a threshold,
//!   `DatasetDriftDetected`.
//! - **Once per dataset**: a report already there is the answer (no second
//!   event, no new scores). The event is published before the report is
//!   written, so a crash between the two repeats the event, never loses it.

use crate::aws::runtime;
use crate::aws::{bus, s3};
use crate::dataset::{DatasetId, DatasetLayout, OutputKind};
use crate::drift::html;
use crate::drift::policy::{DriftPolicy, RetrainOn};
use crate::drift::quality::{
    labelled_rows, ModelQuality, BATCH_ROWS, MAX_ROW_BYTES, QUALITY_INFERENCE_PREFIX,
};
use crate::drift::report::{compare, DriftReport};
use crate::error::Error;
use crate::events::drift::{DatasetDriftDetected, DATASET_DRIFT_DETECTED, DRIFT_SOURCE};
use crate::stages::baseline::{self, baseline_order, Baseline, Found};
use crate::stages::Stages;
use crate::telemetry::{Metrics, Unit};
use serde::Serialize;

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "drift", rename_all = "snake_case")]
pub enum DriftCheck {
    /// Nothing to compare with (no stage serves a model with a profiled
    /// training dataset), or the dataset has no profile.
    NotChecked { reason: String },
    /// Compared now, or earlier (`repeated`: the report was already there).
    Checked {
        report: String,
        baseline: DatasetId,
        drifted: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        quality: Option<ModelQuality>,
        repeated: bool,
    },
}

impl DriftCheck {
    /// Whether `retrain_on` lets this dataset start training; `Err` names why not.
    pub fn allows_training(&self, retrain_on: RetrainOn) -> Result<(), String> {
        match (retrain_on, self) {
            (RetrainOn::EveryDataset, _) => Ok(()),
            (RetrainOn::Never, _) => Err("retrain_on is never: training starts only by hand".into()),
            // With nothing to compare with, a model is what is missing.
            (RetrainOn::Drift, DriftCheck::NotChecked { .. }) => Ok(()),
            (RetrainOn::Drift, DriftCheck::Checked { drifted, .. }) if !drifted.is_empty() => Ok(()),
            (RetrainOn::Drift, DriftCheck::Checked { baseline, .. }) => Err(format!(
                "retrain_on is drift, and no column drifted from {baseline}, the serving model's training dataset"
            )),
        }
    }
}

/// What the check reads and writes with.
pub struct DatasetDrift<'a> {
    pub s3: &'a aws_sdk_s3::Client,
    pub sagemaker: &'a aws_sdk_sagemaker::Client,
    pub runtime: &'a aws_sdk_sagemakerruntime::Client,
    pub events: &'a aws_sdk_eventbridge::Client,
    pub event_bus: &'a str,
    pub layout: &'a DatasetLayout,
    pub policy: &'a DriftPolicy,
    pub stages: &'a Stages,
    /// Rows of the test split the model scores (0: no quality check).
    pub quality_max_rows: usize,
    /// The quality check's whole time.
    pub quality_deadline: std::time::Duration,
}

impl DatasetDrift<'_> {
    /// The dataset `id` against the serving model's training data, once.
    #[tracing::instrument(skip_all, fields(dataset_id = %id))]
    pub async fn check(&self, id: &DatasetId) -> Result<DriftCheck, Error> {
        let at = self.layout.drift_report(id);
        if let Some((bytes, _)) = s3::read(self.s3, &at).await? {
            let report: DriftReport = serde_json::from_slice(&bytes).map_err(|e| {
                Error::Internal(format!("unreadable drift report {}: {e}", at.uri()))
            })?;
            tracing::info!(report = %at.uri(), "drift already checked: nothing to publish again");
            return Ok(DriftCheck::Checked {
                report: at.uri(),
                baseline: report.baseline,
                drifted: report.drifted,
                quality: report.quality,
                repeated: true,
            });
        }
        let not_checked = |reason: String| {
            tracing::info!("no drift check: {reason}");
            Ok(DriftCheck::NotChecked { reason })
        };
        let current = match baseline::profile(self.s3, self.layout, id).await? {
            Found::Usable(profile) => profile,
            Found::Missing(reason) => return not_checked(reason),
        };
        let order = baseline_order(self.stages, &self.policy.reference_stage);
        let found =
            baseline::first_serving(self.s3, self.sagemaker, self.layout, self.stages, &order)
                .await?;
        let (baseline, baseline_profile) = match found {
            Found::Usable(found) => found,
            Found::Missing(reason) => return not_checked(reason),
        };
        let mut report = compare(&baseline_profile, &current, id.as_str(), self.policy);
        report.model = Some(baseline.model.clone());
        // Before anything is published: a retryable failure retries the whole check.
        match self.quality(id, &baseline).await? {
            Ok(quality) => {
                tracing::info!(rows = quality.rows, rmse = quality.rmse, mae = quality.mae, registered_test_rmse = ?quality.registered_test_rmse, "the serving model on the new data");
                let metrics = Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
                    .put("ModelRMSE", quality.rmse, Unit::None)
                    .put("ModelMAE", quality.mae, Unit::None);
                match quality.rmse_ratio {
                    Some(ratio) => metrics.put("ModelRMSERatio", ratio, Unit::None),
                    None => metrics,
                }
                .emit();
                report.quality = Some(quality);
            }
            Err(reason) => {
                tracing::warn!(%reason, "the model's quality was not measured");
                report.quality_error = Some(reason);
            }
        }
        report.emit_metrics();
        Metrics::new(&[("Function", crate::functions::START_PIPELINE)])
            .put("DatasetsChecked", 1.0, Unit::Count)
            .put("DriftedFeatures", report.drifted.len() as f64, Unit::Count)
            .emit();
        if !report.drifted.is_empty() {
            let detail = DatasetDriftDetected {
                dataset_id: id.clone(),
                baseline: baseline.dataset.clone(),
                stage: baseline.model.stage.clone(),
                model_package_arn: baseline.model.model_package_arn.clone(),
                features: report.drifted_columns(),
                report: at.uri(),
                report_html: html::beside(&at).uri(),
            };
            bus::publish(
                self.events,
                self.event_bus,
                DRIFT_SOURCE,
                DATASET_DRIFT_DETECTED,
                &detail,
            )
            .await?;
            tracing::warn!(drifted = ?report.drifted, baseline = %baseline.dataset, stage = %baseline.model.stage, "dataset drifted from the serving model's training data");
        } else {
            tracing::info!(baseline = %baseline.dataset, stage = %baseline.model.stage, "no column drifted");
        }
        // The page first: the JSON, written last, says the check is done.
        let page = html::render(&report, &baseline_profile, &current).into_bytes();
        s3::put(
            self.s3,
            &html::beside(&at),
            page,
            "text/html; charset=utf-8",
        )
        .await?;
        let body =
            serde_json::to_vec_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?;
        s3::put(self.s3, &at, body, "application/json").await?;
        Ok(DriftCheck::Checked {
            report: at.uri(),
            baseline: baseline.dataset,
            drifted: report.drifted,
            quality: report.quality,
            repeated: false,
        })
    }

    /// The baseline's model on the first rows of `id`'s test split, within the
    /// deadline. `Err` only for a retryable failure to read the dataset (nothing
    /// published yet: the event is retried); `Ok(Err(reason))` when it cannot be
    /// measured, recorded in the report as `quality_error`. The old model's health
    /// never blocks training on new data: an endpoint answering 5xx, throttling,
    /// or too slow for the deadline is a reason, not a retry.
    async fn quality(
        &self,
        id: &DatasetId,
        baseline: &Baseline,
    ) -> Result<Result<ModelQuality, String>, Error> {
        let deadline = self.quality_deadline;
        match tokio::time::timeout(deadline, self.measure(id, baseline)).await {
            Ok(measured) => measured,
            Err(_) => Ok(Err(format!(
                "{} did not answer the quality check within {} s",
                baseline.model.endpoint,
                deadline.as_secs_f64()
            ))),
        }
    }

    async fn measure(
        &self,
        id: &DatasetId,
        baseline: &Baseline,
    ) -> Result<Result<ModelQuality, String>, Error> {
        let max_rows = self.quality_max_rows;
        if max_rows == 0 {
            return Ok(Err("QUALITY_MAX_ROWS is 0: not measured".into()));
        }
        let at = self.layout.output(id, OutputKind::TestXgboost);
        let Some(bytes) = s3::read_start(self.s3, &at, max_rows as u64 * MAX_ROW_BYTES).await?
        else {
            return Ok(Err(format!("{} does not exist", at.uri())));
        };
        let text = String::from_utf8_lossy(&bytes);
        let (labels, rows) = match labelled_rows(&text, max_rows) {
            Ok(parsed) if !parsed.0.is_empty() => parsed,
            Ok(_) => return Ok(Err(format!("{} has no rows", at.uri()))),
            Err(e) => return Ok(Err(format!("{}: {e}", at.uri()))),
        };
        let mut predictions = Vec::with_capacity(rows.len());
        for (i, batch) in rows.chunks(BATCH_ROWS).enumerate() {
            let body = batch.join("\n") + "\n";
            // Marked, so the traffic monitor does not count it as live traffic.
            let inference = Some(format!("{QUALITY_INFERENCE_PREFIX}{id}-{i}"));
            match runtime::scores(self.runtime, &baseline.model.endpoint, body, inference).await {
                Ok(scores) => predictions.extend(scores),
                Err(e) => return Ok(Err(format!("{}: {e}", baseline.model.endpoint))),
            }
        }
        Ok(Ok(ModelQuality::of(
            &labels,
            &predictions,
            baseline.test_rmse,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::BUNDLED;

    #[test]
    fn the_reference_stage_first_then_the_nearest_later_then_earlier() {
        let stages = Stages::parse(BUNDLED).unwrap();
        assert_eq!(baseline_order(&stages, "prod"), ["prod", "pre-prod", "dev"]);
        assert_eq!(
            baseline_order(&stages, "pre-prod"),
            ["pre-prod", "prod", "dev"]
        );
        assert_eq!(baseline_order(&stages, "dev"), ["dev", "pre-prod", "prod"]);
    }

    #[test]
    fn retrain_on_decides_from_the_check() {
        let id: DatasetId = "ds-0123456789abcdef0123456789abcdef".parse().unwrap();
        let checked = |drifted: &[&str]| DriftCheck::Checked {
            report: "s3://b/k".into(),
            baseline: id.clone(),
            drifted: drifted.iter().map(|s| s.to_string()).collect(),
            quality: None,
            repeated: false,
        };
        let none = DriftCheck::NotChecked {
            reason: "no model".into(),
        };
        for check in [&checked(&[]), &checked(&["median_income"]), &none] {
            assert_eq!(check.allows_training(RetrainOn::EveryDataset), Ok(()));
            assert!(check.allows_training(RetrainOn::Never).is_err());
        }
        assert_eq!(
            checked(&["median_income"]).allows_training(RetrainOn::Drift),
            Ok(())
        );
        assert_eq!(none.allows_training(RetrainOn::Drift), Ok(()));
        let refused = checked(&[]).allows_training(RetrainOn::Drift).unwrap_err();
        assert!(refused.contains(id.as_str()), "{refused}");
    }
}
