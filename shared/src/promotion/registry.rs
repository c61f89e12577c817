//! Reads of the SageMaker Model Registry: a group's latest approved version, one
//! version of a group, and what the training pipeline recorded about a package.

use crate::aws::sagemaker;
use crate::error::Error;
use crate::stages::{
    Package, METADATA_DATASET_ID, METADATA_EXECUTION_ARN, METADATA_TEST_RMSE,
    METADATA_VALIDATION_RMSE,
};
use aws_sdk_sagemaker::types::{ModelApprovalStatus, ModelPackageSortBy, SortOrder};
use aws_sdk_sagemaker::Client;

/// The highest approved version of a group, with its metadata.
pub async fn latest_approved(client: &Client, group: &str) -> Result<Option<Package>, Error> {
    latest_approved_below(client, group, None).await
}

/// The highest approved version of a group below version `below` (all of
/// them when `None`), with its metadata.
pub async fn latest_approved_below(
    client: &Client,
    group: &str,
    below: Option<u32>,
) -> Result<Option<Package>, Error> {
    let mut pages = client
        .list_model_packages()
        .model_package_group_name(group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .sort_by(ModelPackageSortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .into_paginator()
        .send();
    let mut latest: Option<(i32, String)> = None;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sagemaker::error("ListModelPackages", group, e))?;
        for summary in page.model_package_summary_list() {
            if let (Some(version), Some(arn)) =
                (summary.model_package_version(), summary.model_package_arn())
            {
                let eligible = below.is_none_or(|b| (version as i64) < b as i64);
                if eligible && latest.as_ref().is_none_or(|(v, _)| version > *v) {
                    latest = Some((version, arn.to_string()));
                }
            }
        }
    }
    match latest {
        None => Ok(None),
        Some((_, arn)) => describe(client, &arn).await,
    }
}

/// Version `version` of `group`, if it exists.
pub async fn find(client: &Client, group: &str, version: u32) -> Result<Option<Package>, Error> {
    let mut pages = client
        .list_model_packages()
        .model_package_group_name(group)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sagemaker::error("ListModelPackages", group, e))?;
        let found = page
            .model_package_summary_list()
            .iter()
            .find(|s| s.model_package_version() == Some(version as i32))
            .and_then(|s| s.model_package_arn());
        if let Some(arn) = found {
            return describe(client, arn).await;
        }
    }
    Ok(None)
}

/// A package and the metadata the pipeline's RegisterModel step recorded.
pub async fn describe(client: &Client, arn: &str) -> Result<Option<Package>, Error> {
    let described = client
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await;
    let Some(out) = sagemaker::found("DescribeModelPackage", arn, described)? else {
        return Ok(None);
    };
    let metadata = out
        .customer_metadata_properties()
        .cloned()
        .unwrap_or_default();
    let rmse = |key: &str| {
        metadata
            .get(key)
            .and_then(|r| r.trim().parse::<f64>().ok())
            .filter(|r| r.is_finite())
    };
    Ok(Some(Package {
        arn: out.model_package_arn().unwrap_or(arn).to_string(),
        group: out
            .model_package_group_name()
            .unwrap_or_default()
            .to_string(),
        version: out.model_package_version().unwrap_or_default().max(0) as u32,
        approval: out
            .model_approval_status()
            .map_or("(none)", |s| s.as_str())
            .to_string(),
        dataset_id: metadata.get(METADATA_DATASET_ID).cloned(),
        validation_rmse: rmse(METADATA_VALIDATION_RMSE),
        test_rmse: rmse(METADATA_TEST_RMSE),
        pipeline_execution_arn: metadata.get(METADATA_EXECUTION_ARN).cloned(),
    }))
}
