//! The baseline of a drift check: the model a stage serves (its endpoint
//! config's lineage tags) and the profile of the dataset it was trained on.

use super::file::Stages;

use crate::aws::s3;
use crate::contract::TOTAL_BEDROOMS;
use crate::dataset::{DatasetId, DatasetLayout, OutputKind};
use crate::drift::profile::DatasetProfile;
use crate::drift::report::ComparedModel;
use crate::error::Error;
use crate::features::BedroomFills;
use crate::report::Report;

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

/// What a lookup found: the thing, or why there is none usable (absent,
/// unreadable, inconsistent; the stage serves nothing, ...). Either way the
/// drift check goes on without it, saying why.
#[derive(Debug)]
pub enum Found<T> {
    Usable(T),
    Missing(String),
}

/// The training medians for `total_bedrooms` of a model trained on `dataset`
/// (its lineage's dataset id): its `report.json`'s imputation values. `None`,
/// logged, when the lineage names no dataset or the report is gone: records
/// without the value cannot be imputed then. A report that does not read is
/// `Error::Event` (a hand-edited or corrupt object: retrying cannot help).
/// Predict and the batch scoring impute with these.
pub async fn bedroom_fills(
    client: &aws_sdk_s3::Client,
    layout: &DatasetLayout,
    dataset: Option<&str>,
) -> Result<Option<BedroomFills>, Error> {
    let Some(id) = dataset.and_then(|id| id.parse::<DatasetId>().ok()) else {
        tracing::warn!(
            dataset,
            "no training dataset in the lineage: missing bedrooms cannot be imputed"
        );
        return Ok(None);
    };
    let at = layout.output(&id, OutputKind::Report);
    let Some((bytes, _)) = s3::read(client, &at).await? else {
        tracing::warn!(report = %at.uri(), "the training dataset's report is gone: missing bedrooms cannot be imputed");
        return Ok(None);
    };
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Event(format!("{} cannot be read: {e}", at.uri())))?;
    Ok(report
        .imputations
        .get(TOTAL_BEDROOMS)
        .map(|i| BedroomFills {
            values: i.values.clone(),
        }))
}

/// A dataset's `profile.json`, checked ([`DatasetProfile::from_json`]).
pub async fn profile(
    client: &aws_sdk_s3::Client,
    layout: &DatasetLayout,
    id: &DatasetId,
) -> Result<Found<DatasetProfile>, Error> {
    let at = layout.output(id, OutputKind::Profile);
    let Some((bytes, _)) = s3::read(client, &at).await? else {
        return Ok(Found::Missing(format!("dataset {id} has no profile.json")));
    };
    Ok(match DatasetProfile::from_json(&bytes) {
        Ok(profile) => Found::Usable(profile),
        Err(problem) => {
            tracing::warn!(profile = %at.uri(), %problem, "unusable profile");
            Found::Missing(format!("{} is unusable: {problem}", at.uri()))
        }
    })
}

/// The model stage `name` serves and its training dataset's profile, or why
/// there is none: it serves nothing answering, untagged, or without a usable
/// profile.
pub async fn serving(
    s3_client: &aws_sdk_s3::Client,
    sagemaker: &aws_sdk_sagemaker::Client,
    layout: &DatasetLayout,
    stages: &Stages,
    name: &str,
) -> Result<Found<(Baseline, DatasetProfile)>, Error> {
    let missing = |reason: String| Ok(Found::Missing(format!("{name}: {reason}")));
    let Some(stage) = stages.get(name) else {
        return missing("not a stage".into());
    };
    let serving = super::serving(sagemaker, &stage.endpoint).await?;
    let Some(serving) = serving.filter(|s| s.state.answers()) else {
        return missing("serves nothing".into());
    };
    let Some(lineage) = serving.lineage else {
        tracing::warn!(stage = name, config = %serving.endpoint_config, "the endpoint config carries no lineage tags");
        return missing(format!(
            "{} carries no lineage tags",
            serving.endpoint_config
        ));
    };
    let Some(dataset) = lineage.dataset_id.as_deref().and_then(|d| d.parse().ok()) else {
        tracing::warn!(stage = name, package = %lineage.model_package_arn, "the lineage names no training dataset");
        return missing(format!(
            "{} names no training dataset",
            lineage.model_package_arn
        ));
    };
    let profile = match profile(s3_client, layout, &dataset).await? {
        Found::Usable(profile) => profile,
        Found::Missing(reason) => return missing(reason),
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
    Ok(Found::Usable((baseline, profile)))
}

/// The first of `order`'s stages that [`serving`] finds, or every stage's reason.
pub async fn first_serving(
    s3_client: &aws_sdk_s3::Client,
    sagemaker: &aws_sdk_sagemaker::Client,
    layout: &DatasetLayout,
    stages: &Stages,
    order: &[&str],
) -> Result<Found<(Baseline, DatasetProfile)>, Error> {
    let mut reasons = Vec::new();
    for name in order {
        match serving(s3_client, sagemaker, layout, stages, name).await? {
            Found::Usable(found) => return Ok(Found::Usable(found)),
            Found::Missing(reason) => reasons.push(reason),
        }
    }
    Ok(Found::Missing(format!(
        "no stage serves a model whose training dataset has a usable profile ({})",
        reasons.join("; ")
    )))
}
