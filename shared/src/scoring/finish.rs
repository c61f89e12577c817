//! A scoring run's end: its transform job's answers joined back to the rows
//! (SageMaker's state-change event, or the scheduled check for a run whose
//! event was lost), and what the check found.

use super::join::join;
use super::layout::{ScoreId, ScoreLayout, SCORES};
use super::outcome::Outcome;
use super::run::{Ending, EvaluationRecord, RunRecord, ScoreReport};
use super::service::{create, internal, open, ScoringService};
use super::transform::{self, JobState};
use super::ScoringError;
use crate::aws::s3;
use crate::error::Error;
use crate::events::scoring::{BatchScored, BATCH_SCORED};
use crate::telemetry::{Metrics, Unit};
use std::fs::File;
use std::io::{BufReader, BufWriter};

impl ScoringService {
    /// Transform job `job` may have ended: joins its answers back to the rows.
    pub async fn finish(&self, job: &str) -> Result<Outcome, Error> {
        let Some(id) = ScoreId::of_job(job)
            .filter(|id| *job == id.transform_job_name(&self.config.stack_name))
        else {
            return Ok(Outcome::Ignored(format!(
                "{job} is not a scoring job of this stack"
            )));
        };
        let layout = self.layout(&id);
        if s3::head(&self.s3, &layout.report(), None).await?.is_some() {
            return Ok(Outcome::AlreadyDone { id: id.to_string() });
        }
        let Some(run) = self.read::<RunRecord>(&layout.run()).await? else {
            return Ok(Outcome::Ignored(format!(
                "{job} has no run record at {}",
                layout.run().uri()
            )));
        };
        match transform::state(&self.sagemaker, job).await? {
            JobState::Running(status) => Ok(Outcome::Waiting {
                id: id.to_string(),
                status,
            }),
            JobState::Failed(message) => {
                let source = run.source.clone();
                self.fail(
                    &layout,
                    &source,
                    None,
                    Some(&run),
                    "transform_failed",
                    message,
                )
                .await
            }
            JobState::Completed => self.join(&layout, &run).await,
        }
    }

    async fn join(&self, layout: &ScoreLayout, run: &RunRecord) -> Result<Outcome, Error> {
        let work = tempfile::tempdir().map_err(|e| internal("a working directory", e))?;
        let (rows, output) = (work.path().join("rows.csv"), work.path().join("output"));
        let (csv, parquet) = (
            work.path().join("predictions.csv"),
            work.path().join("predictions.parquet"),
        );
        for (at, path) in [(layout.rows(), &rows), (layout.transform_output(), &output)] {
            let mut file =
                BufWriter::new(File::create(path).map_err(|e| internal("a working file", e))?);
            s3::download(&self.s3, &at, None, &mut file).await?;
        }
        let joined = join(
            BufReader::new(open(&rows)?),
            BufReader::new(open(&output)?),
            BufWriter::new(create(&csv)?),
            BufWriter::new(create(&parquet)?),
        );
        let joined = match joined {
            Ok(joined) => joined,
            Err(ScoringError::Io(message)) => return Err(Error::Internal(message)),
            Err(e) => {
                let message = e.to_string();
                return self
                    .fail(layout, &run.source, None, Some(run), e.code(), message)
                    .await;
            }
        };
        s3::put_file(
            &self.s3,
            &layout.predictions_parquet(),
            &parquet,
            "application/vnd.apache.parquet",
        )
        .await?;
        s3::put_file(&self.s3, &layout.predictions_csv(), &csv, "text/csv").await?;
        let evaluation = joined.evaluation.map(|e| EvaluationRecord {
            rows: e.rows,
            rmse: e.rmse,
            mae: e.mae,
        });
        let report = ScoreReport {
            score_id: run.score_id.clone(),
            source: run.source.clone(),
            model: Some(run.model.clone()),
            transform_job: Some(run.transform_job.clone()),
            rows: Some(run.rows.clone()),
            quarantine: (run.rows.rows_quarantined > 0).then(|| layout.quarantine().uri()),
            ending: Ending::Scored {
                predictions_parquet: layout.predictions_parquet().uri(),
                predictions_csv: layout.predictions_csv().uri(),
                evaluation,
            },
        };
        let scored = BatchScored {
            score_id: run.score_id.clone(),
            source: run.source.clone(),
            model: run.model.clone(),
            transform_job: run.transform_job.clone(),
            rows_in: run.rows.rows_in,
            rows_scored: joined.rows,
            rows_quarantined: run.rows.rows_quarantined,
            predictions_parquet: layout.predictions_parquet().uri(),
            predictions_csv: layout.predictions_csv().uri(),
            report: layout.report().uri(),
            rmse: evaluation.map(|e| e.rmse),
            mae: evaluation.map(|e| e.mae),
        };
        self.end(layout, &report, BATCH_SCORED, &scored).await?;
        Metrics::new(&[("Function", crate::functions::SCORE)])
            .put("FilesScored", 1.0, Unit::Count)
            .put("RowsScored", joined.rows as f64, Unit::Count)
            .put(
                "RowsQuarantined",
                run.rows.rows_quarantined as f64,
                Unit::Count,
            )
            .emit();
        tracing::info!(score_id = %run.score_id, rows = joined.rows, rmse = ?scored.rmse, "scored");
        Ok(Outcome::Scored(Box::new(scored)))
    }

    /// The safety net for a lost job event: every run without a report is
    /// finished if its job has ended.
    pub async fn check(&self) -> Result<Vec<Outcome>, Error> {
        let folders =
            s3::list_folders(&self.s3, &self.config.layout.processed_bucket, SCORES).await?;
        let mut outcomes = Vec::new();
        for folder in folders {
            let name = folder
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let Ok(id) = name.parse::<ScoreId>() else {
                continue;
            };
            match self
                .finish(&id.transform_job_name(&self.config.stack_name))
                .await
            {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    tracing::error!(score_id = %id, error = %e, "the check could not finish the run");
                    outcomes.push(Outcome::Errored {
                        id: id.to_string(),
                        error: e.to_string(),
                        retryable: e.retryable(),
                    });
                }
            }
        }
        Ok(outcomes)
    }
}
