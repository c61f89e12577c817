//! The ETL on S3: stream the raw object to ephemeral storage, run the core there,
//! upload the outputs from disk, register the dataset in Glue, announce it on
//! EventBridge, mark it complete. The work directory is removed when the
//! invocation ends, whatever the outcome.
//!
//! Idempotency: the dataset id comes from the object's content, so every
//! delivery of the same bytes names the same outputs. The completion marker
//! `_SUCCESS` (the CLI's: the dataset id and every output's SHA-256, see
//! [`crate::dataset::CompletionMarker`]) is written last, with
//! `If-None-Match: *`; a delivery that finds it
//! is a no-op that publishes nothing. Two deliveries racing past the check both
//! write identical bytes; only one creates the marker, but both may publish, so
//! consumers deduplicate on `dataset_id` (at-least-once, never lost: an event is
//! published before the marker that would silence a retry).

use super::config::EtlConfig;
use super::error::{EtlError, Rejection, RejectionCode};
use super::run;
use crate::aws::catalog::{self, Registration};
use crate::aws::S3Location;
use crate::aws::{bus, s3};
use crate::contract::CONTRACT_ID;
use crate::dataset::{ContentHash, DatasetId, InputIdentity, Source, Tee, COMPLETION_MARKER};
use crate::error::Error;
use crate::events::dataset::{CatalogEntry, DatasetReady};
use crate::events::s3::ObjectCreated;
use crate::events::{DATASET_READY, ETL_SOURCE};
use crate::telemetry::{Metrics, Unit};
use serde::Serialize;
use std::time::Instant;

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Processed now; the event was published.
    Processed {
        dataset: Box<DatasetReady>,
        event_id: String,
    },
    /// Already processed: nothing written, nothing published.
    Duplicate {
        dataset_id: DatasetId,
        marker: String,
    },
    /// Refused whole; the rejection report says why. Never retried.
    Rejected {
        dataset_id: DatasetId,
        code: String,
        message: String,
        report: String,
    },
    /// Not an object this function is configured for.
    Skipped { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectResult {
    pub bucket: String,
    pub key: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The prefix of every run's work directory in `WORK_DIR`.
pub const WORK_DIR_PREFIX: &str = "housing-etl-";

/// Removes the work directories runs left in `work_dir` (a run killed by the
/// timeout or out of memory never removes its own), returning how many and
/// their bytes. Call it at cold start, before any run: Lambda restarts the
/// runtime after such a kill, and `/tmp` outlives it.
pub fn sweep_work_dir(work_dir: &std::path::Path) -> std::io::Result<(usize, u64)> {
    fn size(path: &std::path::Path) -> u64 {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|entries| entries.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    let (mut count, mut bytes) = (0, 0);
    for entry in std::fs::read_dir(work_dir)? {
        let entry = entry?;
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with(WORK_DIR_PREFIX)
            && entry.file_type()?.is_dir();
        if stale {
            bytes += size(&entry.path());
            std::fs::remove_dir_all(entry.path())?;
            count += 1;
        }
    }
    Ok((count, bytes))
}

/// No space left: retryable. The cold start's sweep has freed what killed runs
/// left, so the space is this object's own need; a retry can land in a sandbox
/// with room, and the DLQ keeps the event if none has.
fn disk_full(e: EtlError) -> Error {
    Error::Busy {
        kind: "DiskFull",
        message: format!("{e} (the function's EphemeralStorage may be too small for this object)"),
    }
}

pub struct EtlService {
    pub s3: aws_sdk_s3::Client,
    pub glue: aws_sdk_glue::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub config: EtlConfig,
}

impl EtlService {
    /// Builds the clients once (per cold start) from a shared SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig, config: EtlConfig) -> Self {
        EtlService {
            s3: crate::aws::s3_client(sdk, config.aws),
            glue: aws_sdk_glue::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            config,
        }
    }

    #[tracing::instrument(skip_all, fields(bucket = %object.bucket, key = %object.key))]
    pub async fn process(&self, object: &ObjectCreated) -> Result<ObjectResult, Error> {
        let started = Instant::now();
        let outcome = self.outcome(object).await?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let metrics = Metrics::new(&[("Function", crate::functions::ETL)]).put(
            "DurationMs",
            elapsed_ms,
            Unit::Milliseconds,
        );
        match &outcome {
            Outcome::Processed { dataset, event_id } => {
                let s = &dataset.summary;
                tracing::info!(dataset_id = %dataset.dataset_id, rows_in = s.rows_in, rows_out = s.rows_out,
                    rows_quarantined = s.rows_quarantined, rows_duplicate = s.rows_duplicate, event_id, "dataset processed");
                metrics
                    .put("RowsIn", s.rows_in as f64, Unit::Count)
                    .put("RowsOut", s.rows_out as f64, Unit::Count)
                    .put("RowsQuarantined", s.rows_quarantined as f64, Unit::Count)
                    .put("RowsDuplicate", s.rows_duplicate as f64, Unit::Count)
                    .put("InputBytes", dataset.input.bytes as f64, Unit::Bytes)
                    .emit();
            }
            Outcome::Duplicate { dataset_id, .. } => {
                tracing::info!(%dataset_id, "already processed: duplicate delivery, nothing to do");
                metrics.put("DuplicateDeliveries", 1.0, Unit::Count).emit();
            }
            Outcome::Rejected {
                dataset_id,
                code,
                message,
                report,
            } => {
                tracing::error!(%dataset_id, code, report, "{message}");
                metrics.put("FilesRejected", 1.0, Unit::Count).emit();
            }
            Outcome::Skipped { reason } => tracing::warn!("skipped: {reason}"),
        }
        Ok(ObjectResult {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            outcome,
        })
    }

    async fn outcome(&self, object: &ObjectCreated) -> Result<Outcome, Error> {
        let config = &self.config;
        if object.bucket != config.raw_bucket {
            return Ok(Outcome::Skipped {
                reason: format!(
                    "bucket {} is not the raw bucket {}",
                    object.bucket, config.raw_bucket
                ),
            });
        }
        if !object.key.starts_with(&config.raw_prefix) {
            return Ok(Outcome::Skipped {
                reason: format!(
                    "key {} is outside the raw prefix {:?}",
                    object.key, config.raw_prefix
                ),
            });
        }

        let version = object.version_id.as_deref();
        let (location, info) = self.locate(object).await?;
        let source = Source {
            source: location.uri(),
            version_id: object.version_id.clone().or(info.version_id.clone()),
            etag: info.etag.clone().or(object.etag.clone()),
        };
        if info.size > config.max_object_bytes {
            let (dataset_id, input) = source.unread(info.size);
            let rejection = Rejection::new(
                RejectionCode::TooLarge,
                format!(
                    "object is {} bytes, over the limit of {} bytes (MAX_OBJECT_BYTES)",
                    info.size, config.max_object_bytes
                ),
            );
            return self.reject(dataset_id, input, rejection).await;
        }

        // The object goes to ephemeral storage, hashed on the way: memory holds
        // one chunk of it at a time, whatever its size.
        let work = tempfile::Builder::new()
            .prefix(WORK_DIR_PREFIX)
            .tempdir_in(&config.work_dir)
            .map_err(|e| {
                Error::Internal(format!(
                    "creating a work directory in {}: {e}",
                    config.work_dir.display()
                ))
            })?;
        let input_path = work.path().join("input.csv");
        let mut file = std::fs::File::create(&input_path).map_err(|e| {
            disk_full(EtlError::io(
                format_args!("creating {}", input_path.display()),
                &e,
            ))
        })?;
        let mut hash = ContentHash::default();
        s3::download(&self.s3, &location, version, &mut Tee(&mut file, &mut hash)).await?;
        drop(file);
        let (dataset_id, input) = hash.identify(&source);
        let marker = config.layout.marker(&dataset_id);
        if s3::head(&self.s3, &marker, None).await?.is_some() {
            return Ok(Outcome::Duplicate {
                dataset_id,
                marker: marker.uri(),
            });
        }

        let options = config.options.clone();
        let out_dir = work.path().join("out");
        let (task_id, task_input) = (dataset_id.clone(), input.clone());
        let result = tokio::task::spawn_blocking(move || {
            let result = run(&input_path, task_id, task_input, &options, &out_dir);
            // Free the ephemeral storage the input used before the uploads.
            let _ = std::fs::remove_file(&input_path);
            let output = result?;
            let marker = output.completion_marker().map_err(|e| {
                EtlError::io(
                    format_args!("hashing the outputs for {COMPLETION_MARKER}"),
                    &e,
                )
            })?;
            Ok((output, marker))
        })
        .await
        .map_err(|e| Error::Internal(format!("ETL task failed: {e}")))?;
        let (output, completion) = match result {
            Ok(done) => done,
            Err(EtlError::Rejected(rejection)) => {
                return self.reject(dataset_id, input, rejection).await
            }
            Err(e @ EtlError::DiskFull(_)) => return Err(disk_full(e)),
            Err(EtlError::Internal(message)) => return Err(Error::Internal(message)),
        };

        let layout = &config.layout;
        let parts = output.report.options.train_parts;
        for kind in output.kinds() {
            for (name, location) in layout.files(&dataset_id, kind, parts) {
                s3::put_file(
                    &self.s3,
                    &location,
                    &output.dir.join(name),
                    kind.content_type(),
                )
                .await?;
            }
        }
        let partition_location = layout.parquet_folder(&dataset_id).uri();
        catalog::register(
            &self.glue,
            &Registration {
                database: &config.glue_database,
                table: &config.glue_table,
                table_location: &layout.table_root().uri(),
                dataset_id: dataset_id.as_str(),
                partition_location: &partition_location,
                columns: &output.table_columns,
            },
        )
        .await?;
        let catalog = CatalogEntry {
            database: config.glue_database.clone(),
            table: config.glue_table.clone(),
            partition: vec![dataset_id.to_string()],
            location: partition_location,
        };
        let dataset = DatasetReady {
            dataset_id: dataset_id.clone(),
            contract: CONTRACT_ID.to_string(),
            input: output.report.input.clone(),
            outputs: layout.output_uris(&dataset_id, output.report.options.training_format, parts),
            summary: output.report.summary(),
            catalog,
        };
        let event_id = bus::publish(
            &self.events,
            &config.event_bus,
            ETL_SOURCE,
            DATASET_READY,
            &dataset,
        )
        .await?;
        if !s3::put_if_absent(&self.s3, &marker, completion.to_bytes(), "application/json").await? {
            tracing::warn!(%dataset_id, "a concurrent delivery completed this dataset first; consumers deduplicate on dataset_id");
        }
        Ok(Outcome::Processed {
            dataset: Box::new(dataset),
            event_id,
        })
    }

    /// Finds the object: the decoded key first, then the key as the event carried
    /// it (for keys that were not encoded).
    async fn locate(&self, object: &ObjectCreated) -> Result<(S3Location, s3::ObjectInfo), Error> {
        let version = object.version_id.as_deref();
        if let Some(found) = s3::find(&self.s3, &object.bucket, &object.keys(), version).await? {
            return Ok(found);
        }
        Err(Error::NotFound(format!(
            "s3://{}/{}{} does not exist (deleted before it was processed?)",
            object.bucket,
            object.key,
            version.map(|v| format!(" version {v}")).unwrap_or_default()
        )))
    }

    async fn reject(
        &self,
        dataset_id: DatasetId,
        input: InputIdentity,
        rejection: Rejection,
    ) -> Result<Outcome, Error> {
        let location = self.config.layout.rejection(&dataset_id);
        let report = rejection.report(dataset_id.clone(), input);
        let body =
            serde_json::to_vec_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?;
        s3::put(&self.s3, &location, body, "application/json").await?;
        Ok(Outcome::Rejected {
            dataset_id,
            code: rejection.code.as_str().to_string(),
            message: rejection.to_string(),
            report: location.uri(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_removes_only_what_runs_left() {
        let work = tempfile::tempdir().unwrap();
        let left = work.path().join(format!("{WORK_DIR_PREFIX}a1b2"));
        std::fs::create_dir_all(left.join("out")).unwrap();
        std::fs::write(left.join("input.csv"), vec![b'x'; 1000]).unwrap();
        std::fs::write(left.join("out/train.csv"), vec![b'y'; 24]).unwrap();
        let someone_elses = work.path().join("other-dir");
        std::fs::create_dir(&someone_elses).unwrap();
        let a_file = work.path().join(format!("{WORK_DIR_PREFIX}not-a-dir"));
        std::fs::write(&a_file, b"z").unwrap();

        assert_eq!(sweep_work_dir(work.path()).unwrap(), (1, 1024));
        assert!(!left.exists());
        assert!(someone_elses.exists() && a_file.exists());
        assert_eq!(sweep_work_dir(work.path()).unwrap(), (0, 0));
    }

    #[test]
    fn a_full_disk_is_retryable() {
        let e = disk_full(EtlError::io(
            "writing train.parquet",
            &std::io::Error::from(std::io::ErrorKind::StorageFull),
        ));
        assert!(e.retryable());
        assert_eq!(e.error_type(), "Retryable.DiskFull");
    }
}
