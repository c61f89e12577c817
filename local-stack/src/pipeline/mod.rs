//! The local pipeline runner: executes a pipeline execution that moto started
//! (moto runs no step), from the definition and parameters read back from
//! SageMaker, as SageMaker would.
//!
//! - `Training`: the channels are downloaded from S3, `local-stack/xgboost/train.py`
//!   trains with the real XGBoost (the release the built-in 1.7-1 container
//!   runs), and `model.tar.gz` goes to `<S3OutputPath>/<job>/output/`. What it
//!   can honour it does: checkpoints go to `CheckpointConfig.S3Uri` (and a
//!   restarted job resumes from them); what it cannot it reports in the step's
//!   output: there is no spot market here (the job runs at once, its max wait
//!   recorded), and several instances train as one process on every part of
//!   the sharded channel (the report lists the parts each instance would get);
//! - `Processing`: every input is downloaded to its `LocalPath` (under a local
//!   folder standing in for the container's `/opt/ml/processing`), the step's
//!   entry point runs — for the evaluation step, the very `pipeline/evaluate.py`
//!   the deploy uploads, fetched from the step's code input — and the outputs
//!   are uploaded; property files are read from them;
//! - `Condition`, `Fail` and `RegisterModel` (`CreateModelPackage` on moto)
//!   as SageMaker evaluates them; a `Fail` step ends the run failed with its message.
//!
//! Expressions: `Get` (parameters, the execution ARN, the step properties the
//! definition reads), `Std:Join` and `Std:JsonGet` (`expressions.rs`).

mod expressions;
mod jobs;

use crate::Clients;
use anyhow::{bail, ensure, Context, Result};
use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetricsSource, ModelApprovalStatus, ModelMetrics,
    ModelPackageContainerDefinition, ModelQuality,
};
use expressions::{condition, text, Scope};
use serde::Serialize;
use serde_json::{json, Map, Value};
use shared::aws::S3Location;
use shared::training::definition::Capacity;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the Processing container's paths start.
const PROCESSING_ROOT: &str = "/opt/ml/processing";

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub execution_arn: String,
    /// `Succeeded` or `Failed` (a Fail step).
    pub status: String,
    pub failure_reason: Option<String>,
    /// Each step executed, in order, with what it produced.
    pub steps: Vec<StepRun>,
    pub model_package_arn: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRun {
    pub name: String,
    pub kind: String,
    pub seconds: f64,
    /// The step's own report: the training metrics, the evaluation file, the
    /// condition's outcome, the registered package.
    pub output: Value,
}

impl Run {
    pub fn step(&self, name: &str) -> Option<&StepRun> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The step of the branch that ran (`TrainModel` → `TrainModelSpot` or
    /// `TrainModelOnDemand`).
    pub fn branch_step(&self, base: &str) -> Option<&StepRun> {
        Capacity::ALL
            .into_iter()
            .find_map(|capacity| self.step(&capacity.step(base)))
    }
}

/// How SageMaker shares a `ShardedByS3Key` channel's objects (in key order)
/// among `instances`: instance `i` gets every `instances`-th one from `i`.
pub fn shards(objects: &[String], instances: usize) -> Vec<Vec<String>> {
    let mut shards = vec![Vec::new(); instances.max(1)];
    for (i, object) in objects.iter().enumerate() {
        shards[i % instances.max(1)].push(object.clone());
    }
    shards
}

/// Runs the steps of an execution moto started.
pub struct Runner<'a> {
    pub clients: &'a Clients,
    /// The Python with xgboost (the project's venv).
    pub python: PathBuf,
    /// Where step folders go (channels, model, processing paths).
    pub work_dir: PathBuf,
}

fn location(uri: &str) -> Result<S3Location> {
    S3Location::parse(uri).with_context(|| format!("{uri} is not an s3:// URI"))
}

impl Runner<'_> {
    pub async fn run(&self, execution_arn: &str) -> Result<Run> {
        let sm = &self.clients.sagemaker;
        let definition = sm
            .describe_pipeline_definition_for_execution()
            .pipeline_execution_arn(execution_arn)
            .send()
            .await
            .context("DescribePipelineDefinitionForExecution")?;
        let definition: Value = serde_json::from_str(
            definition
                .pipeline_definition()
                .context("the execution has no definition")?,
        )?;
        let mut parameters = BTreeMap::new();
        for p in definition["Parameters"].as_array().into_iter().flatten() {
            let name = p["Name"].as_str().unwrap_or_default().to_string();
            parameters.insert(name, p["DefaultValue"].clone());
        }
        let given = sm
            .list_pipeline_parameters_for_execution()
            .pipeline_execution_arn(execution_arn)
            .send()
            .await
            .context("ListPipelineParametersForExecution")?;
        for p in given.pipeline_parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                parameters.insert(name.to_string(), json!(value));
            }
        }
        let mut context = Scope {
            execution_arn: execution_arn.to_string(),
            parameters,
            properties: BTreeMap::new(),
            property_files: BTreeMap::new(),
        };
        let mut run = Run {
            execution_arn: execution_arn.to_string(),
            status: "Succeeded".into(),
            failure_reason: None,
            steps: Vec::new(),
            model_package_arn: None,
        };
        let steps = definition["Steps"].as_array().cloned().unwrap_or_default();
        self.steps(&steps, &mut context, &mut run).await?;
        Ok(run)
    }

    /// Runs `steps` in order (they depend on each other in that order here);
    /// stops at a Fail step.
    async fn steps(&self, steps: &[Value], context: &mut Scope, run: &mut Run) -> Result<()> {
        for step in steps {
            if run.status == "Failed" {
                break;
            }
            let name = step["Name"].as_str().context("a step without a name")?;
            let kind = step["Type"].as_str().unwrap_or_default();
            let started = Instant::now();
            let output = match kind {
                "Training" => self.training(name, step, context).await?,
                "Processing" => self.processing(name, step, context).await?,
                "RegisterModel" => {
                    let arn = self.register(step, context).await?;
                    run.model_package_arn = Some(arn.clone());
                    json!({ "model_package_arn": arn })
                }
                "Fail" => {
                    let message = context.resolve(&step["Arguments"]["ErrorMessage"])?;
                    run.status = "Failed".into();
                    run.failure_reason = Some(text(&message));
                    json!({ "error_message": message })
                }
                "Condition" => {
                    let holds = condition(step, context)?;
                    run.steps.push(StepRun {
                        name: name.into(),
                        kind: kind.into(),
                        seconds: started.elapsed().as_secs_f64(),
                        output: json!({ "outcome": holds }),
                    });
                    let branch = if holds { "IfSteps" } else { "ElseSteps" };
                    let next = step["Arguments"][branch]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    Box::pin(self.steps(&next, context, run)).await?;
                    continue;
                }
                other => bail!("step {name}: the local runner does not run {other} steps"),
            };
            run.steps.push(StepRun {
                name: name.into(),
                kind: kind.into(),
                seconds: started.elapsed().as_secs_f64(),
                output,
            });
        }
        Ok(())
    }

    fn job_name(&self, execution_arn: &str, step: &str) -> String {
        let id = execution_arn.rsplit('/').next().unwrap_or("execution");
        let mut name = format!("pipelines-{id}-{step}");
        name.truncate(63);
        name
    }

    /// Downloads every object under `uri` (an object or a prefix) into `dir`,
    /// keeping the names below the prefix's last `/`; returns them in key order.
    async fn download(&self, uri: &str, dir: &Path) -> Result<Vec<String>> {
        let S3Location {
            bucket,
            key: prefix,
        } = location(uri)?;
        let base = match prefix.rfind('/') {
            Some(i) => &prefix[..=i],
            None => "",
        };
        std::fs::create_dir_all(dir)?;
        let mut pages = self
            .clients
            .s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            for object in page.with_context(|| format!("listing {uri}"))?.contents() {
                let key = object.key().unwrap_or_default();
                let relative = key.strip_prefix(base).unwrap_or(key);
                if relative.is_empty() || relative.ends_with('/') {
                    continue;
                }
                let body = self
                    .clients
                    .s3
                    .get_object()
                    .bucket(&bucket)
                    .key(key)
                    .send()
                    .await
                    .with_context(|| format!("downloading s3://{bucket}/{key}"))?
                    .body
                    .collect()
                    .await?
                    .into_bytes();
                let path = dir.join(relative);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, &body)?;
                names.push(relative.to_string());
            }
        }
        ensure!(!names.is_empty(), "nothing at {uri}");
        Ok(names)
    }

    /// Every object under `uri` downloaded into `dir`; none is fine (a
    /// checkpoint folder before the first checkpoint).
    async fn download_any(&self, uri: &str, dir: &Path) -> Result<Vec<String>> {
        std::fs::create_dir_all(dir)?;
        match self
            .download(&format!("{}/", uri.trim_end_matches('/')), dir)
            .await
        {
            Ok(names) => Ok(names),
            Err(e) if e.to_string().starts_with("nothing at") => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn upload(&self, path: &Path, uri: &str) -> Result<()> {
        let S3Location { bucket, key } = location(uri)?;
        let body = aws_sdk_s3::primitives::ByteStream::from_path(path).await?;
        self.clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .with_context(|| format!("uploading {uri}"))?;
        Ok(())
    }
}
