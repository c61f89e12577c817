//! The steps that run jobs: `Training` (the real XGBoost), `Processing` (the
//! step's entry point in a local stand-in for the container) and
//! `RegisterModel` (`CreateModelPackage` on moto).

use super::*;
use crate::xgboost::Training;

impl Runner<'_> {
    /// A job step's resolved arguments, its job name and its working folder,
    /// emptied (a rerun of the execution starts clean).
    fn fresh_job(
        &self,
        name: &str,
        step: &Value,
        context: &Scope,
    ) -> Result<(Value, String, PathBuf)> {
        let args = context.resolve(&step["Arguments"])?;
        let job = self.job_name(&context.execution_arn, name);
        let dir = self.work_dir.join(&job);
        let _ = std::fs::remove_dir_all(&dir);
        Ok((args, job, dir))
    }

    pub(super) async fn training(
        &self,
        name: &str,
        step: &Value,
        context: &mut Scope,
    ) -> Result<Value> {
        let (args, job, dir) = self.fresh_job(name, step, context)?;
        let instances: usize = text(&args["ResourceConfig"]["InstanceCount"])
            .parse()
            .context("ResourceConfig.InstanceCount is not a whole number")?;
        ensure!(
            instances >= 1,
            "ResourceConfig.InstanceCount must be at least 1"
        );
        // The channels' settings, as SageMaker writes them for the container.
        let mut input_config = serde_json::Map::new();
        let mut sharded = Map::new();
        for input in args["InputDataConfig"].as_array().into_iter().flatten() {
            let channel = input["ChannelName"]
                .as_str()
                .context("a channel without a name")?;
            let source = &input["DataSource"]["S3DataSource"];
            let uri = source["S3Uri"]
                .as_str()
                .context("a channel without an S3Uri")?;
            let objects = self
                .download(uri, &dir.join("input/data").join(channel))
                .await?;
            if source["S3DataDistributionType"] == "ShardedByS3Key" {
                let plan = shards(&objects, instances);
                if let Some(idle) = plan.iter().position(Vec::is_empty) {
                    bail!(
                        "step {name}: channel {channel} has {} object(s) for {instances} instances: instance {} would get none (SageMaker's ShardedByS3Key shares objects, not rows)",
                        objects.len(),
                        idle + 1
                    );
                }
                sharded.insert(channel.to_string(), json!(plan));
            }
            input_config.insert(
                channel.to_string(),
                json!({ "ContentType": input["ContentType"] }),
            );
        }
        // Checkpoints: what an earlier attempt of this job left is restored first,
        // as SageMaker does for a restarted spot job.
        let checkpoint_uri = args["CheckpointConfig"]["S3Uri"]
            .as_str()
            .map(str::to_string);
        let checkpoints = dir.join("checkpoints");
        let restored = match &checkpoint_uri {
            Some(uri) => self.download_any(uri, &checkpoints).await?,
            None => Vec::new(),
        };
        let hyperparameters = dir.join("input/config/hyperparameters.json");
        std::fs::create_dir_all(hyperparameters.parent().unwrap())?;
        std::fs::write(
            &hyperparameters,
            serde_json::to_vec_pretty(&args["HyperParameters"])?,
        )?;
        let input_config_file = dir.join("input/config/inputdataconfig.json");
        std::fs::write(
            &input_config_file,
            serde_json::to_vec_pretty(&input_config)?,
        )?;
        let training = Training {
            hyperparameters,
            input_config: Some(input_config_file),
            train: dir.join("input/data/train"),
            validation: dir.join("input/data/validation"),
            model_dir: dir.join("model"),
            archive: dir.join("output/model.tar.gz"),
            checkpoint_dir: checkpoint_uri.as_ref().map(|_| checkpoints.clone()),
        };
        std::fs::create_dir_all(training.archive.parent().unwrap())?;
        let report = training.run(&self.python)?;
        let mut saved = 0;
        if let Some(uri) = &checkpoint_uri {
            for entry in std::fs::read_dir(&checkpoints)? {
                let path = entry?.path();
                let file = path.file_name().unwrap().to_string_lossy().to_string();
                self.upload(&path, &format!("{}/{file}", uri.trim_end_matches('/')))
                    .await?;
                saved += 1;
            }
        }
        let output_path = args["OutputDataConfig"]["S3OutputPath"]
            .as_str()
            .context("no S3OutputPath")?
            .trim_end_matches('/');
        let artifact = format!("{output_path}/{job}/output/model.tar.gz");
        self.upload(&training.archive, &artifact).await?;
        let size = std::fs::metadata(&training.archive)?.len();
        context.properties.insert(
            format!("Steps.{name}.ModelArtifacts.S3ModelArtifacts"),
            json!(artifact),
        );
        for (metric, value) in report.as_object().into_iter().flatten() {
            if metric.contains(':') {
                context.properties.insert(
                    format!("Steps.{name}.FinalMetricDataList['{metric}'].Value"),
                    value.clone(),
                );
            }
        }
        let mut report = report;
        report["artifact"] = json!(artifact);
        report["artifact_bytes"] = json!(size);
        report["training_job"] = json!(job);
        let spot = args["EnableManagedSpotTraining"] == json!(true);
        report["capacity"] = json!({
            "spot": spot,
            "honoured": !spot,
            "max_wait_seconds": args["StoppingCondition"]["MaxWaitTimeInSeconds"],
            "note": if spot {
                "no spot market here: the job ran at once, on this machine"
            } else {
                "on demand"
            },
        });
        report["instances"] = json!({
            "requested": instances,
            "honoured": instances == 1,
            "shards": sharded,
            "note": if instances == 1 {
                "one instance reads every part"
            } else {
                "trained as one process on every part; on SageMaker each instance reads its shard"
            },
        });
        report["checkpoints"] = json!({
            "uri": checkpoint_uri,
            "restored": restored.len(),
            "saved": saved,
        });
        report["tags"] = args["Tags"].clone();
        Ok(report)
    }

    pub(super) async fn processing(
        &self,
        name: &str,
        step: &Value,
        context: &mut Scope,
    ) -> Result<Value> {
        let (args, job, root) = self.fresh_job(name, step, context)?;
        let local = |path: &str| -> Result<PathBuf> {
            let relative = path
                .strip_prefix(PROCESSING_ROOT)
                .with_context(|| format!("{path} is outside {PROCESSING_ROOT}"))?;
            Ok(root.join(relative.trim_start_matches('/')))
        };
        for input in args["ProcessingInputs"].as_array().into_iter().flatten() {
            let s3 = &input["S3Input"];
            let uri = s3["S3Uri"].as_str().context("an input without an S3Uri")?;
            self.download(uri, &local(s3["LocalPath"].as_str().unwrap_or_default())?)
                .await?;
        }
        let outputs = args["ProcessingOutputConfig"]["Outputs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for output in &outputs {
            std::fs::create_dir_all(local(
                output["S3Output"]["LocalPath"].as_str().unwrap_or_default(),
            )?)?;
        }
        // The container's command line, with its paths under the local root and
        // the project's Python for `python3`.
        let app = &args["AppSpecification"];
        let mut command: Vec<String> = app["ContainerEntrypoint"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(app["ContainerArguments"].as_array().into_iter().flatten())
            .map(text)
            .collect();
        ensure!(
            command.first().map(String::as_str) == Some("python3"),
            "step {name}: the local runner runs Python entry points only"
        );
        command.remove(0);
        let command = command
            .iter()
            .map(|a| {
                if a.starts_with(PROCESSING_ROOT) {
                    local(a).map(|p| p.display().to_string())
                } else {
                    Ok(a.clone())
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let printed = crate::python_report(&self.python, &command)?;
        let mut files = Map::new();
        for output in &outputs {
            let output_name = output["OutputName"].as_str().unwrap_or_default();
            let dir = local(output["S3Output"]["LocalPath"].as_str().unwrap_or_default())?;
            let uri = output["S3Output"]["S3Uri"]
                .as_str()
                .context("an output without an S3Uri")?;
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let file = path.file_name().unwrap().to_string_lossy().to_string();
                self.upload(&path, &format!("{}/{file}", uri.trim_end_matches('/')))
                    .await?;
            }
            context.properties.insert(
                format!(
                    "Steps.{name}.ProcessingOutputConfig.Outputs['{output_name}'].S3Output.S3Uri"
                ),
                json!(uri),
            );
            for property in step["PropertyFiles"].as_array().into_iter().flatten() {
                if property["OutputName"] != output_name {
                    continue;
                }
                let file = property["FilePath"].as_str().unwrap_or_default();
                let doc: Value = serde_json::from_slice(&std::fs::read(dir.join(file))?)
                    .with_context(|| format!("property file {file} of {name}"))?;
                let key = property["PropertyFileName"].as_str().unwrap_or_default();
                context
                    .property_files
                    .insert(format!("Steps.{name}.PropertyFiles.{key}"), doc.clone());
                files.insert(key.to_string(), doc);
            }
        }
        Ok(json!({ "printed": printed, "property_files": files, "job": job }))
    }

    pub(super) async fn register(&self, step: &Value, context: &Scope) -> Result<String> {
        let args = context.resolve(&step["Arguments"])?;
        let spec = &args["InferenceSpecification"];
        let mut inference = InferenceSpecification::builder();
        for c in spec["Containers"].as_array().into_iter().flatten() {
            inference = inference.containers(
                ModelPackageContainerDefinition::builder()
                    .image(text(&c["Image"]))
                    .model_data_url(text(&c["ModelDataUrl"]))
                    .build(),
            );
        }
        for t in spec["SupportedContentTypes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            inference = inference.supported_content_types(text(t));
        }
        for t in spec["SupportedResponseMIMETypes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            inference = inference.supported_response_mime_types(text(t));
        }
        let statistics = &args["ModelMetrics"]["ModelQuality"]["Statistics"];
        let metrics = ModelMetrics::builder()
            .model_quality(
                ModelQuality::builder()
                    .statistics(
                        MetricsSource::builder()
                            .content_type(text(&statistics["ContentType"]))
                            .s3_uri(text(&statistics["S3Uri"]))
                            .build(),
                    )
                    .build(),
            )
            .build();
        let mut request = self
            .clients
            .sagemaker
            .create_model_package()
            .model_package_group_name(text(&args["ModelPackageGroupName"]))
            .model_package_description(text(&args["ModelPackageDescription"]))
            .model_approval_status(ModelApprovalStatus::from(
                args["ModelApprovalStatus"]
                    .as_str()
                    .unwrap_or("PendingManualApproval"),
            ))
            .inference_specification(inference.build())
            .model_metrics(metrics);
        for tag in args["Tags"].as_array().into_iter().flatten() {
            request = request.tags(
                aws_sdk_sagemaker::types::Tag::builder()
                    .key(text(&tag["Key"]))
                    .value(text(&tag["Value"]))
                    .build(),
            );
        }
        for (k, v) in args["CustomerMetadataProperties"]
            .as_object()
            .into_iter()
            .flatten()
        {
            request = request.customer_metadata_properties(k, text(v));
        }
        let out = request.send().await.context("CreateModelPackage")?;
        Ok(out.model_package_arn().unwrap_or_default().to_string())
    }
}
