//! What a shadow test is judged on: both variants' captured answers (S3, as
//! SageMaker's data capture writes them) and their invocation metrics
//! (CloudWatch, `AWS/SageMaker`).

use super::config::DataCapture;
use super::shadow::Answer;
use crate::aws::{s3, S3Location};
use crate::drift::traffic::read_answers_since;
use crate::error::{AwsError, Error};
use crate::events::promotion::VariantTraffic;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

/// Capture files read per variant at most for a verdict.
const MAX_CAPTURE_FILES: usize = 5000;
/// Bytes read of one capture file at most.
const MAX_CAPTURE_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Answers kept per variant at most (each a CSV row and a score).
const MAX_ANSWERS: usize = 500_000;
/// CloudWatch's period for the variants' metrics: 5-minute data is kept 63
/// days, longer than the longest test (1-minute data only 15).
const METRIC_PERIOD_SECONDS: i32 = 300;

/// Each captured request `variant` answered since `from_ms` (files of
/// that hour on, requests made since), with its answer.
pub(super) async fn captured(
    s3: &aws_sdk_s3::Client,
    capture: &DataCapture,
    endpoint: &str,
    variant: &str,
    from_ms: i64,
) -> Result<Vec<Answer>, Error> {
    let root = S3Location::parse(&capture.uri)
        .ok_or_else(|| Error::Internal(format!("{} is not an s3:// URI", capture.uri)))?;
    let prefix = root.key.trim_end_matches('/');
    let folder = if prefix.is_empty() {
        format!("{endpoint}/{variant}/")
    } else {
        format!("{prefix}/{endpoint}/{variant}/")
    };
    let hour = chrono::DateTime::from_timestamp_millis(from_ms)
        .unwrap_or_default()
        .format("%Y/%m/%d/%H")
        .to_string();
    let start = format!("{folder}{hour}");
    let keys = s3::list_after(s3, &root.bucket, &folder, Some(&start), MAX_CAPTURE_FILES).await?;
    let mut answers = Vec::new();
    for key in keys {
        let at = S3Location::new(&root.bucket, &key);
        s3::read_lines(s3, &at, MAX_CAPTURE_FILE_BYTES, |line| {
            if answers.len() < MAX_ANSWERS {
                answers.extend(read_answers_since(line, from_ms / 1000).unwrap_or_default());
            }
        })
        .await?;
    }
    Ok(answers)
}

/// What `variant` of `endpoint` did between the two times: SageMaker's
/// `Invocations`, `Invocation4XXErrors` and `Invocation5XXErrors` (sums)
/// and `ModelLatency` (its sum over its sample count: the mean, in
/// microseconds), from CloudWatch.
pub(super) async fn variant_traffic(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    endpoint: &str,
    variant: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<VariantTraffic, Error> {
    let query = |id: &str, metric: &str, stat: &str| {
        let dimension =
            |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
        let metric = Metric::builder()
            .namespace("AWS/SageMaker")
            .metric_name(metric)
            .dimensions(dimension("EndpointName", endpoint))
            .dimensions(dimension("VariantName", variant))
            .build();
        let stat = MetricStat::builder()
            .metric(metric)
            .period(METRIC_PERIOD_SECONDS)
            .stat(stat)
            .build();
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(stat)
            .return_data(true)
            .build()
    };
    let queries = vec![
        query("invocations", "Invocations", "Sum"),
        query("errors4xx", "Invocation4XXErrors", "Sum"),
        query("errors5xx", "Invocation5XXErrors", "Sum"),
        query("latencysum", "ModelLatency", "Sum"),
        query("latencycount", "ModelLatency", "SampleCount"),
    ];
    let mut pages = cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(aws_smithy_types::DateTime::from_millis(from_ms))
        // A minute ahead: the latest datapoints count, however the end is rounded.
        .end_time(aws_smithy_types::DateTime::from_millis(to_ms + 60_000))
        .into_paginator()
        .send();
    let (mut invocations, mut errors, mut latency_sum, mut latency_count) = (0.0, 0.0, 0.0, 0.0);
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::Aws(
                AwsError::from_sdk("CloudWatch", "GetMetricData", e)
                    .on(format!("{endpoint}/{variant}")),
            )
        })?;
        for result in page.metric_data_results() {
            let sum: f64 = result.values().iter().sum();
            match result.id().unwrap_or_default() {
                "invocations" => invocations += sum,
                "errors4xx" | "errors5xx" => errors += sum,
                "latencysum" => latency_sum += sum,
                "latencycount" => latency_count += sum,
                _ => {}
            }
        }
    }
    Ok(VariantTraffic {
        invocations: invocations as u64,
        errors: errors as u64,
        latency_mean_ms: (latency_count > 0.0).then(|| latency_sum / latency_count / 1000.0),
    })
}
