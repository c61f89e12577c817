//! The scoring's AWS side: a file under the scoring prefix is prepared and
//! its Batch Transform job started (once per content); a job's end
//! (SageMaker's event, or the scheduled check) joins its answers back to the
//! rows and says so on the bus (`finish.rs`).
//!
//! Every step can run twice. A run is named by its file's content; `run.json`
//! is claimed before the job starts (a second delivery finds it and only makes
//! sure the job exists); `report.json` is written last (a run that has it is
//! over, and a later delivery or job event is a no-op).

use super::config::ScoringConfig;
use super::layout::{ScoreId, ScoreLayout};
use super::outcome::Outcome;
use super::prepare::prepare;
use super::run::{Ending, RunRecord, ScoreReport};
use super::transform;
use super::ScoringError;
use crate::aws::{bus, s3, S3Location};
use crate::dataset::{ContentHash, Tee};
use crate::error::Error;
use crate::events::s3::ObjectCreated;
use crate::events::scoring::{
    BatchScoringFailed, ScoringModel, BATCH_SCORING_FAILED, SCORING_SOURCE,
};
use crate::stages::baseline::bedroom_fills;
use crate::telemetry::{Metrics, Unit};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

pub struct ScoringService {
    pub s3: aws_sdk_s3::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub config: ScoringConfig,
}

pub(super) fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

/// A working file of a run, created (emptied) for writing.
pub(super) fn create(path: &Path) -> Result<File, Error> {
    File::create(path).map_err(|e| internal("a working file", e))
}

/// A working file of a run, opened for reading.
pub(super) fn open(path: &Path) -> Result<File, Error> {
    File::open(path).map_err(|e| internal("a working file", e))
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec_pretty(value).map_err(|e| internal("serialising a record", e))
}

impl ScoringService {
    /// The service with its clients (once per cold start, with call timeouts).
    pub fn new(sdk: &aws_config::SdkConfig, config: ScoringConfig) -> Self {
        let sdk = &crate::aws::with_call_timeouts(sdk);
        ScoringService {
            s3: crate::aws::s3_client(sdk, config.aws),
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            config,
        }
    }

    pub(super) fn layout(&self, id: &ScoreId) -> ScoreLayout {
        ScoreLayout {
            bucket: self.config.layout.processed_bucket.clone(),
            id: id.clone(),
        }
    }

    pub(super) async fn read<T: serde::de::DeserializeOwned>(
        &self,
        at: &S3Location,
    ) -> Result<Option<T>, Error> {
        let Some((bytes, _)) = s3::read(&self.s3, at).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            // A hand-edited or corrupt record: loud, and not retried.
            Error::Event(format!("{} is not a scoring record: {e}", at.uri()))
        })
    }

    /// A file was created: prepares it and starts its job.
    pub async fn start(&self, created: &ObjectCreated) -> Result<Outcome, Error> {
        let prefix = &self.config.prefix;
        if !created
            .keys()
            .iter()
            .any(|k| k.starts_with(prefix.as_str()))
        {
            return Ok(Outcome::Ignored(format!(
                "s3://{}/{} is not under the scoring prefix {prefix}",
                created.bucket, created.key
            )));
        }
        let version_id = created.version_id.as_deref();
        let found = s3::find(&self.s3, &created.bucket, &created.keys(), version_id).await?;
        let Some((object, info)) = found else {
            // As the ETL: not retried, dead-lettered with the event.
            return Err(Error::NotFound(format!(
                "s3://{}/{}{} does not exist (deleted before it was scored?)",
                created.bucket,
                created.key,
                version_id
                    .map(|v| format!(" version {v}"))
                    .unwrap_or_default()
            )));
        };
        let object = &object;
        if info.size > self.config.max_object_bytes {
            return self.refuse_unread(object, info.size).await;
        }
        let work = tempfile::tempdir().map_err(|e| internal("a working directory", e))?;
        let input = work.path().join("input.csv");
        let mut hash = ContentHash::default();
        {
            let mut file =
                BufWriter::new(File::create(&input).map_err(|e| internal("saving the file", e))?);
            let mut both = Tee(&mut file, &mut hash);
            s3::download(&self.s3, object, version_id, &mut both).await?;
        }
        let id = ScoreId::from_sha256(&hash.sha256_hex());
        let layout = self.layout(&id);
        let source = object.uri();
        if s3::head(&self.s3, &layout.report(), None).await?.is_some() {
            return Ok(Outcome::AlreadyDone { id: id.to_string() });
        }
        if let Some(run) = self.read::<RunRecord>(&layout.run()).await? {
            transform::ensure(&self.sagemaker, &self.config, &layout, &run).await?;
            return Ok(Outcome::AlreadyStarted {
                id: id.to_string(),
                job: run.transform_job,
            });
        }

        let model = match self.serving_model().await? {
            Ok(model) => model,
            Err(message) => {
                return self
                    .fail(&layout, &source, None, None, "not_serving", message)
                    .await;
            }
        };
        // None: rows without total_bedrooms are quarantined as unimputable.
        let fills = bedroom_fills(&self.s3, &self.config.layout, model.dataset_id.as_deref())
            .await?
            .unwrap_or_default();
        let (features, rows, quarantine) = (
            work.path().join("features.csv"),
            work.path().join("rows.csv"),
            work.path().join("quarantine.csv"),
        );
        let prepared = prepare(
            BufReader::new(File::open(&input).map_err(|e| internal("reading the file", e))?),
            &fills,
            create(&features)?,
            create(&rows)?,
            create(&quarantine)?,
        );
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(ScoringError::Io(message)) => return Err(Error::Internal(message)),
            Err(e) => {
                let message = e.to_string();
                return self
                    .fail(&layout, &source, Some(model), None, e.code(), message)
                    .await;
            }
        };
        s3::put_file(&self.s3, &layout.transform_input(), &features, "text/csv").await?;
        s3::put_file(&self.s3, &layout.rows(), &rows, "text/csv").await?;
        if prepared.rows_quarantined > 0 {
            s3::put_file(&self.s3, &layout.quarantine(), &quarantine, "text/csv").await?;
        }
        let run = RunRecord {
            score_id: id.to_string(),
            source,
            source_version_id: version_id.map(str::to_string),
            model,
            transform_job: id.transform_job_name(&self.config.stack_name),
            rows: prepared,
        };
        if !s3::put_if_absent(&self.s3, &layout.run(), json(&run)?, "application/json").await? {
            // Another delivery of the same bytes claimed the run first.
            let job = run.transform_job;
            return Ok(Outcome::AlreadyStarted {
                id: id.to_string(),
                job,
            });
        }
        transform::ensure(&self.sagemaker, &self.config, &layout, &run).await?;
        tracing::info!(score_id = %id, job = %run.transform_job, rows = run.rows.rows_scored, quarantined = run.rows.rows_quarantined, "transform job started");
        Ok(Outcome::Started {
            id: id.to_string(),
            job: run.transform_job,
        })
    }

    /// What the scoring stage serves, or why it serves nothing to score with.
    async fn serving_model(&self) -> Result<Result<ScoringModel, String>, Error> {
        let stage = &self.config.stage;
        let serving = crate::stages::serving(&self.sagemaker, &stage.endpoint).await?;
        let Some(serving) = serving else {
            return Ok(Err(format!(
                "stage {} has no endpoint {}",
                stage.name, stage.endpoint
            )));
        };
        let (Some(lineage), Some(model_name)) = (serving.lineage, serving.model_name) else {
            return Ok(Err(format!(
                "endpoint config {} of stage {} names no model of this suite",
                serving.endpoint_config, stage.name
            )));
        };
        Ok(Ok(ScoringModel {
            stage: stage.name.clone(),
            model_name,
            model_package_arn: lineage.model_package_arn,
            model_package_group: lineage.model_package_group,
            model_package_version: lineage.model_package_version,
            dataset_id: lineage.dataset_id,
        }))
    }

    /// A file too large to be staged is refused unread: `BatchScoringFailed`
    /// without a run (a run is named by content, which was not read), so no
    /// report; a second delivery says so again.
    async fn refuse_unread(&self, object: &S3Location, size: u64) -> Result<Outcome, Error> {
        let limit = self.config.max_object_bytes;
        let message = format!(
            "{} is {size} bytes, above MAX_OBJECT_BYTES ({limit}): the function stages the file and its rows in /tmp (up to 4 times the file); split it",
            object.uri()
        );
        tracing::warn!(source = %object.uri(), size, limit, "the file is too large to score");
        let failed = BatchScoringFailed {
            score_id: None,
            source: object.uri(),
            reason: "too_large".into(),
            message,
            transform_job: None,
        };
        let bus = &self.config.event_bus;
        bus::publish(
            &self.events,
            bus,
            SCORING_SOURCE,
            BATCH_SCORING_FAILED,
            &failed,
        )
        .await?;
        Metrics::new(&[("Function", crate::functions::SCORE)])
            .put("FilesFailed", 1.0, Unit::Count)
            .emit();
        Ok(Outcome::Failed(Box::new(failed)))
    }

    /// Ends a run that cannot be scored: its report, and `BatchScoringFailed`.
    pub(super) async fn fail(
        &self,
        layout: &ScoreLayout,
        source: &str,
        model: Option<ScoringModel>,
        run: Option<&RunRecord>,
        reason: &str,
        message: String,
    ) -> Result<Outcome, Error> {
        tracing::warn!(score_id = %layout.id, reason, %message, "the file cannot be scored");
        let report = ScoreReport {
            score_id: layout.id.to_string(),
            source: source.to_string(),
            model: model.or_else(|| run.map(|r| r.model.clone())),
            transform_job: run.map(|r| r.transform_job.clone()),
            rows: run.map(|r| r.rows.clone()),
            quarantine: run
                .filter(|r| r.rows.rows_quarantined > 0)
                .map(|_| layout.quarantine().uri()),
            ending: Ending::Failed {
                reason: reason.to_string(),
                message: message.clone(),
            },
        };
        let failed = BatchScoringFailed {
            score_id: Some(layout.id.to_string()),
            source: source.to_string(),
            reason: reason.to_string(),
            message,
            transform_job: report.transform_job.clone(),
        };
        self.end(layout, &report, BATCH_SCORING_FAILED, &failed)
            .await?;
        // What an operator alarms on (one dimension: an alarm names them all;
        // the reason is in the log line above and the event).
        Metrics::new(&[("Function", crate::functions::SCORE)])
            .put("FilesFailed", 1.0, Unit::Count)
            .emit();
        Ok(Outcome::Failed(Box::new(failed)))
    }

    /// Ends a run: its report (last of its objects), then the event.
    pub(super) async fn end<T: serde::Serialize>(
        &self,
        layout: &ScoreLayout,
        report: &ScoreReport,
        detail_type: &str,
        detail: &T,
    ) -> Result<(), Error> {
        let body = json(report)?;
        s3::put(&self.s3, &layout.report(), body, "application/json").await?;
        let bus = &self.config.event_bus;
        bus::publish(&self.events, bus, SCORING_SOURCE, detail_type, detail).await?;
        Ok(())
    }
}
