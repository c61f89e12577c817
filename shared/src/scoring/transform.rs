//! The Batch Transform job of a run: created once (its name is the run's), and
//! read back when it may have ended.

use super::config::ScoringConfig;
use super::layout::ScoreLayout;
use super::run::RunRecord;
use crate::aws::sagemaker;
use crate::error::Error;
use crate::stages::{TAG_COMPONENT, TAG_STACK};
use aws_sdk_sagemaker::operation::describe_transform_job::DescribeTransformJobOutput;
use aws_sdk_sagemaker::types::{
    AssemblyType, BatchStrategy, S3DataType, SplitType, Tag, TransformDataSource, TransformInput,
    TransformInstanceType, TransformJobStatus, TransformOutput, TransformResources,
    TransformS3DataSource,
};
use aws_sdk_sagemaker::Client;

/// The cost-allocation component of a transform job.
pub const COMPONENT: &str = "scoring";
/// The tag that names a job's run.
pub const TAG_SCORE_ID: &str = "housing-mlops:score-id";

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// `InProgress` or `Stopping`.
    Running(String),
    Completed,
    /// `Failed` (with SageMaker's reason) or `Stopped`.
    Failed(String),
}

/// Creates the run's job unless it exists: a retry, a duplicate delivery or
/// a second function instance finds it there.
pub async fn ensure(
    client: &Client,
    config: &ScoringConfig,
    layout: &ScoreLayout,
    run: &RunRecord,
) -> Result<(), Error> {
    let job = &run.transform_job;
    if describe(client, job).await?.is_some() {
        return Ok(());
    }
    let source = TransformS3DataSource::builder()
        .s3_data_type(S3DataType::S3Prefix)
        .s3_uri(layout.transform_input().uri())
        .build();
    let input = TransformInput::builder()
        .data_source(
            TransformDataSource::builder()
                .s3_data_source(source)
                .build(),
        )
        .content_type("text/csv")
        .split_type(SplitType::Line)
        .build();
    let output = TransformOutput::builder()
        .s3_output_path(layout.transform_output_prefix().uri())
        .accept("application/json")
        .assemble_with(AssemblyType::Line)
        .build();
    let resources = TransformResources::builder()
        .instance_type(TransformInstanceType::from(config.instance_type.as_str()))
        .instance_count(config.instance_count as i32)
        .build();
    let tags = [
        (TAG_STACK, config.stack_name.as_str()),
        (TAG_COMPONENT, COMPONENT),
        (TAG_SCORE_ID, run.score_id.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build())
    .collect::<Vec<_>>();
    let created = client
        .create_transform_job()
        .transform_job_name(job)
        .model_name(&run.model.model_name)
        .batch_strategy(BatchStrategy::MultiRecord)
        .max_payload_in_mb(config.max_payload_mb as i32)
        .transform_input(input)
        .transform_output(output)
        .transform_resources(resources)
        .set_tags(Some(tags))
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sagemaker::error("CreateTransformJob", job, e);
            // Another delivery created it between our Describe and Create:
            // SageMaker answers ResourceInUse (moto overwrites the job instead).
            if e.code.as_deref() == Some("ResourceInUse") || sagemaker::is_already_existing(&e) {
                Ok(())
            } else {
                Err(e.into())
            }
        }
    }
}

/// The job's state; a job that does not exist is a loud error (its run
/// record says it was created).
pub async fn state(client: &Client, job: &str) -> Result<JobState, Error> {
    let Some(out) = describe(client, job).await? else {
        return Err(Error::NotFound(format!("transform job {job}")));
    };
    Ok(match out.transform_job_status() {
        Some(TransformJobStatus::Completed) => JobState::Completed,
        Some(TransformJobStatus::Failed) => JobState::Failed(
            out.failure_reason()
                .unwrap_or("the transform job failed without a reason")
                .to_string(),
        ),
        Some(TransformJobStatus::Stopped) => {
            JobState::Failed("the transform job was stopped".into())
        }
        other => JobState::Running(other.map_or("unknown", |s| s.as_str()).to_string()),
    })
}

/// The job as SageMaker describes it, or `None` when there is no such job.
async fn describe(client: &Client, job: &str) -> Result<Option<DescribeTransformJobOutput>, Error> {
    let described = client
        .describe_transform_job()
        .transform_job_name(job)
        .send()
        .await;
    Ok(sagemaker::found("DescribeTransformJob", job, described)?)
}
