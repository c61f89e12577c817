//! The fake's rules: one aws-smithy-mocks rule per SageMaker call promote-model makes, each
//! answering from (and changing) the [`SageMaker`] state.

use super::*;

/// SageMaker's answer to a request it refuses: HTTP 400 with the error code.
pub(super) fn error<O, E>(code: &str, message: &str) -> MockResponse<O, E> {
    let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
    MockResponse::Http(Response::new(
        StatusCode::try_from(400).unwrap(),
        SdkBody::from(body),
    ))
}

fn not_found<O, E>(message: &str) -> MockResponse<O, E> {
    error("ValidationException", message)
}

/// The rules: every SageMaker call promote-model makes.
pub(super) fn rules(fake: &SharedSageMaker) -> Vec<Rule> {
    let f = fake.clone();
    let list =
        mock!(aws_sdk_sagemaker::Client::list_model_packages).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("ListModelPackages") {
                return failed;
            }
            let only_approved = r.model_approval_status() == Some(&ModelApprovalStatus::Approved);
            let summaries = fake
                .packages
                .iter()
                .rev()
                .filter(|p| p.approved || !only_approved)
                .map(|p| {
                    ModelPackageSummary::builder()
                        .model_package_group_name(&fake.group)
                        .model_package_version(p.version as i32)
                        .model_package_arn(fake.arn(p.version))
                        .model_approval_status(approval(p.approved))
                        .creation_time(DateTime::from_secs(1_795_000_000 + p.version as i64))
                        .build()
                })
                .collect();
            MockResponse::Output(
                ListModelPackagesOutput::builder()
                    .set_model_package_summary_list(Some(summaries))
                    .build(),
            )
        });
    let f = fake.clone();
    let package =
        mock!(aws_sdk_sagemaker::Client::describe_model_package).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DescribeModelPackage") {
                return failed;
            }
            let name = r.model_package_name().unwrap_or_default();
            let Some(p) = fake.packages.iter().find(|p| fake.arn(p.version) == name) else {
                return not_found("Model package does not exist.");
            };
            MockResponse::Output(
                DescribeModelPackageOutput::builder()
                    .model_package_group_name(&fake.group)
                    .model_package_version(p.version as i32)
                    .model_package_arn(fake.arn(p.version))
                    .model_approval_status(approval(p.approved))
                    .customer_metadata_properties("dataset_id", format!("ds-v{}", p.version))
                    .customer_metadata_properties("validation_rmse", p.rmse.to_string())
                    .customer_metadata_properties(
                        "pipeline_execution_arn",
                        fake.execution_arn(p.version),
                    )
                    .build(),
            )
        });
    let f = fake.clone();
    let endpoint =
        mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_compute_response(move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DescribeEndpoint") {
                return failed;
            }
            let name = r.endpoint_name().unwrap_or_default();
            let Some(e) = fake.endpoints.get(name) else {
                return not_found("Could not find endpoint.");
            };
            MockResponse::Output(
                DescribeEndpointOutput::builder()
                    .endpoint_name(name)
                    .endpoint_config_name(&e.config)
                    .endpoint_status(e.status.clone())
                    .set_pending_deployment_summary(e.pending.as_ref().map(|c| {
                        PendingDeploymentSummary::builder()
                            .endpoint_config_name(c)
                            .build()
                    }))
                    .build(),
            )
        });
    let f = fake.clone();
    let config = mock!(aws_sdk_sagemaker::Client::describe_endpoint_config).then_compute_response(
        move |r| {
            let fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DescribeEndpointConfig") {
                return failed;
            }
            let name = r.endpoint_config_name().unwrap_or_default();
            if !fake.configs.contains_key(name) {
                return not_found("Could not find endpoint configuration.");
            }
            // A config promote-model created is described as it was created;
            // one a test set up, with one variant of the model "served".
            let created = fake
                .created_configs
                .iter()
                .rev()
                .find(|c| c.endpoint_config_name() == Some(name));
            let (variants, shadows) = match created {
                Some(c) => (
                    c.production_variants().to_vec(),
                    c.shadow_production_variants().to_vec(),
                ),
                None => {
                    let variant = ProductionVariant::builder()
                        .variant_name("AllTraffic")
                        .model_name("served")
                        .set_instance_type(
                            fake.instance_types
                                .get(name)
                                .map(|t| ProductionVariantInstanceType::from(t.as_str())),
                        )
                        .build();
                    (vec![variant], Vec::new())
                }
            };
            MockResponse::Output(
                DescribeEndpointConfigOutput::builder()
                    .endpoint_config_name(name)
                    .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                    .set_production_variants(Some(variants))
                    .set_shadow_production_variants((!shadows.is_empty()).then_some(shadows))
                    .build(),
            )
        },
    );
    let f = fake.clone();
    let tags = mock!(aws_sdk_sagemaker::Client::list_tags).then_compute_response(move |r| {
        let fake = f.lock().unwrap();
        if let Some(failed) = fake.failure("ListTags") {
            return failed;
        }
        let arn = r.resource_arn().unwrap_or_default();
        let name = arn.rsplit('/').next().unwrap_or_default();
        let tags = fake.configs.get(name).cloned();
        MockResponse::Output(ListTagsOutput::builder().set_tags(tags).build())
    });
    let f = fake.clone();
    let model = mock!(aws_sdk_sagemaker::Client::describe_model).then_compute_response(move |r| {
        let fake = f.lock().unwrap();
        if let Some(failed) = fake.failure("DescribeModel") {
            return failed;
        }
        let name = r.model_name().unwrap_or_default();
        if !fake.models.iter().any(|m| m == name) {
            return not_found("Could not find model.");
        }
        MockResponse::Output(DescribeModelOutput::builder().model_name(name).build())
    });
    let f = fake.clone();
    let create_model =
        mock!(aws_sdk_sagemaker::Client::create_model).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("CreateModel") {
                return failed;
            }
            let name = r.model_name().unwrap_or_default().to_string();
            fake.models.push(name.clone());
            fake.created_models.push(r.clone());
            MockResponse::Output(
                CreateModelOutput::builder()
                    .model_arn(format!("{ACCOUNT_ARN}:model/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    let create_config = mock!(aws_sdk_sagemaker::Client::create_endpoint_config)
        .then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("CreateEndpointConfig") {
                return failed;
            }
            let name = r.endpoint_config_name().unwrap_or_default().to_string();
            fake.configs.insert(name.clone(), r.tags().to_vec());
            let instance_type = r
                .production_variants()
                .first()
                .and_then(|v| v.instance_type());
            if let Some(t) = instance_type {
                fake.instance_types
                    .insert(name.clone(), t.as_str().to_string());
            }
            fake.created_configs.push(r.clone());
            MockResponse::Output(
                CreateEndpointConfigOutput::builder()
                    .endpoint_config_arn(format!("{ACCOUNT_ARN}:endpoint-config/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    let create =
        mock!(aws_sdk_sagemaker::Client::create_endpoint).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("CreateEndpoint") {
                return failed;
            }
            let (name, config) = (
                r.endpoint_name().unwrap_or_default().to_string(),
                r.endpoint_config_name().unwrap_or_default().to_string(),
            );
            // As SageMaker answers a create of an endpoint that exists.
            let exists = format!(
                "Cannot create already existing endpoint \\\"{ACCOUNT_ARN}:endpoint/{name}\\\"."
            );
            if fake.endpoints.contains_key(&name) {
                return error("ValidationException", &exists);
            }
            fake.deployments.push((name.clone(), config.clone()));
            fake.endpoints.insert(
                name.clone(),
                FakeEndpoint {
                    status: EndpointStatus::Creating,
                    config,
                    pending: None,
                },
            );
            if fake.lost_race("CreateEndpoint") {
                return error("ValidationException", &exists);
            }
            MockResponse::Output(
                CreateEndpointOutput::builder()
                    .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    let update =
        mock!(aws_sdk_sagemaker::Client::update_endpoint).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("UpdateEndpoint") {
                return failed;
            }
            let (name, config) = (
                r.endpoint_name().unwrap_or_default().to_string(),
                r.endpoint_config_name().unwrap_or_default().to_string(),
            );
            let Some(e) = fake.endpoints.get_mut(&name) else {
                return not_found("Could not find endpoint.");
            };
            if e.status != EndpointStatus::InService {
                // As SageMaker answers an update of an endpoint mid-deployment.
                return error("ValidationException", "Cannot update in-progress endpoint");
            }
            let serving = e.config.clone();
            let scalable = fake.scalable.as_ref().is_some_and(|is| is(&name));
            if scalable && fake.instance_types.get(&serving) != fake.instance_types.get(&config) {
                // Modelled on SageMaker's refusal; the exact wording is not documented.
                return error(
                    "ValidationException",
                    "The variant's instance type cannot change while it is registered for autoscaling: deregister it first",
                );
            }
            let Some(e) = fake.endpoints.get_mut(&name) else {
                return not_found("Could not find endpoint.");
            };
            e.status = EndpointStatus::Updating;
            e.pending = Some(config.clone());
            fake.deployments.push((name.clone(), config));
            fake.updates.push(r.clone());
            if fake.lost_race("UpdateEndpoint") {
                return error("ValidationException", "Cannot update in-progress endpoint");
            }
            MockResponse::Output(
                UpdateEndpointOutput::builder()
                    .endpoint_arn(format!("{ACCOUNT_ARN}:endpoint/{name}"))
                    .build(),
            )
        });
    let f = fake.clone();
    // Deleted at once (SageMaker goes through Deleting); the config stays.
    let delete =
        mock!(aws_sdk_sagemaker::Client::delete_endpoint).then_compute_response(move |r| {
            let mut fake = f.lock().unwrap();
            if let Some(failed) = fake.failure("DeleteEndpoint") {
                return failed;
            }
            let name = r.endpoint_name().unwrap_or_default();
            if fake.endpoints.remove(name).is_none() {
                return not_found("Could not find endpoint.");
            }
            MockResponse::Output(DeleteEndpointOutput::builder().build())
        });
    vec![
        list,
        package,
        endpoint,
        config,
        tags,
        model,
        create_model,
        create_config,
        create,
        delete,
        update,
    ]
}

fn approval(approved: bool) -> ModelApprovalStatus {
    if approved {
        ModelApprovalStatus::Approved
    } else {
        ModelApprovalStatus::Rejected
    }
}
