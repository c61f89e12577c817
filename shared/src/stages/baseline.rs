//! The baseline of a drift check: the model a stage serves (its endpoint
//! config's lineage tags) and the profile of the dataset it was trained on.

use super::file::Stages;

use crate::aws::s3;
use crate::dataset::{DatasetId, DatasetLayout, OutputKind};
use crate::drift::profile::DatasetProfile;
use crate::drift::report::ComparedModel;
use crate::error::Error;

/// A model serving a stage, and the dataset it was trained on.
pub struct Baseline {
    pub model: ComparedModel,
    pub dataset: DatasetId,
    /// The RMSE on its own test split it was registered with.
    pub test_rmse: Option<f64>,
}

/// The stages in the order their models are tried as the baseline: the
/// reference stage, then the later stages nearest first, then the earlier ones.
pub fn baseline_order<'s>(stages: &'s Stages, reference: &str) -> Vec<&'s str> {
    let names = stages.names();
    let at = names.iter().position(|n| *n == reference).unwrap_or(0);
    let later = names[at + 1..].iter();
    let earlier = names[..at].iter().rev();
    std::iter::once(names[at])
        .chain(later.copied())
        .chain(earlier.copied())
        .collect()
}

/// A dataset's `profile.json`, or `None` when it has none.
pub async fn profile(
    client: &aws_sdk_s3::Client,
    layout: &DatasetLayout,
    id: &DatasetId,
) -> Result<Option<DatasetProfile>, Error> {
    let at = layout.output(id, OutputKind::Profile);
    let Some((bytes, _)) = s3::read(client, &at).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Internal(format!("unreadable profile {}: {e}", at.uri())))
}

/// The model stage `name` serves and its training dataset's profile; `None`
/// when it serves nothing answering, untagged, or without a profiled dataset.
pub async fn serving(
    s3_client: &aws_sdk_s3::Client,
    sagemaker: &aws_sdk_sagemaker::Client,
    layout: &DatasetLayout,
    stages: &Stages,
    name: &str,
) -> Result<Option<(Baseline, DatasetProfile)>, Error> {
    let Some(stage) = stages.get(name) else {
        return Ok(None);
    };
    let serving = super::serving(sagemaker, &stage.endpoint).await?;
    let Some(serving) = serving.filter(|s| s.state.answers()) else {
        tracing::debug!(stage = name, "serves nothing");
        return Ok(None);
    };
    let Some(lineage) = serving.lineage else {
        tracing::warn!(stage = name, config = %serving.endpoint_config, "the endpoint config carries no lineage tags");
        return Ok(None);
    };
    let Some(dataset) = lineage.dataset_id.as_deref().and_then(|d| d.parse().ok()) else {
        tracing::warn!(stage = name, package = %lineage.model_package_arn, "the lineage names no training dataset");
        return Ok(None);
    };
    let Some(profile) = profile(s3_client, layout, &dataset).await? else {
        tracing::warn!(stage = name, %dataset, "the training dataset has no profile.json");
        return Ok(None);
    };
    let model = ComparedModel {
        stage: name.to_string(),
        endpoint: stage.endpoint.clone(),
        model_package_arn: lineage.model_package_arn,
    };
    let baseline = Baseline {
        model,
        dataset,
        test_rmse: lineage.test_rmse,
    };
    Ok(Some((baseline, profile)))
}

/// The first of `order`'s stages that [`serving`] finds.
pub async fn first_serving(
    s3_client: &aws_sdk_s3::Client,
    sagemaker: &aws_sdk_sagemaker::Client,
    layout: &DatasetLayout,
    stages: &Stages,
    order: &[&str],
) -> Result<Option<(Baseline, DatasetProfile)>, Error> {
    for name in order {
        if let Some(found) = serving(s3_client, sagemaker, layout, stages, name).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}
