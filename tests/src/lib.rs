//! The local AWS stack: moto's server, started on 127.0.0.1, and the resources
//! the suite needs on it (buckets, bus, Glue database, an SQS queue that
//! receives the suite's events through a rule). Used by the integration tests
//! and by the main job's `local-stack` command, so both run the same setup.

use anyhow::{bail, Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;
use shared::config::AwsSettings;
use shared::dataset::DatasetLayout;
use shared::etl::config::EtlConfig;
use shared::etl::EtlOptions;
use shared::events::pipeline::TRIGGER_SOURCE;
use shared::events::promotion::PROMOTION_SOURCE;
use shared::events::ETL_SOURCE;
use shared::promotion::config::PromoteConfig;
use shared::promotion::stages::{Stages, BUNDLED};
use shared::training::definition::{
    build, xgboost_image, DefinitionConfig, METADATA_DATASET_ID, METADATA_EXECUTION_ARN,
    METADATA_VALIDATION_RMSE,
};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

pub const REGION: &str = "us-east-1";
/// moto's default account.
pub const ACCOUNT: &str = "123456789012";
/// The execution role named in the local stack (moto does not check it).
pub const SAGEMAKER_ROLE: &str = "arn:aws:iam::123456789012:role/housing-mlops-sagemaker";

/// The repository root.
/// The ETL core's outputs in a temporary directory, removed on drop.
pub struct LocalOutput {
    pub output: shared::etl::EtlOutput,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for LocalOutput {
    type Target = shared::etl::EtlOutput;
    fn deref(&self) -> &Self::Target {
        &self.output
    }
}

/// Runs the ETL core on `bytes` as the CLI and the Lambda do: from a file, into a
/// directory (both temporary).
pub fn run_etl(
    bytes: &[u8],
    source: &shared::etl::Source,
    options: &EtlOptions,
) -> Result<LocalOutput, shared::etl::EtlError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("input.csv");
    std::fs::write(&input, bytes).expect("writing the input");
    let (id, identity) = shared::etl::identify(&input, source).expect("reading the input");
    let output = shared::etl::run(&input, id, identity, options, &dir.path().join("out"))?;
    Ok(LocalOutput { output, _dir: dir })
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A JSON file of the repository (a sample event, a fixture).
pub fn read_json(relative: &str) -> Value {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The project's venv python (`HOUSING_MLOPS_VENV` overrides the location).
pub fn venv_python() -> PathBuf {
    let venv = std::env::var_os("HOUSING_MLOPS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    venv.join("bin").join("python")
}

/// A moto server owned by this process. It exits when this process does: it
/// watches the pipe we hold on its standard input.
pub struct Moto {
    pub endpoint: String,
    _child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    pub fn start() -> Result<Moto> {
        let python = venv_python();
        if !python.exists() {
            bail!(
                "{} not found: run `scripts/setup` first (it installs moto into .venv)",
                python.display()
            );
        }
        let mut child = Command::new(&python)
            .arg(repo_root().join("scripts/moto_server.py"))
            .arg("--until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting moto with {}", python.display()))?;
        let stdout = child.stdout.take().context("moto stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .context("moto did not report READY")?
            .to_string();
        let stdin = child.stdin.take().context("moto stdin")?;
        Ok(Moto {
            endpoint,
            _child: child,
            _stdin: stdin,
        })
    }
}

/// One moto per test binary, started on first use.
pub fn shared_moto() -> String {
    static MOTO: Mutex<Option<Moto>> = Mutex::new(None);
    let mut guard = MOTO.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        *guard = Some(Moto::start().expect("moto server"));
    }
    guard
        .as_ref()
        .map(|m| m.endpoint.clone())
        .unwrap_or_default()
}

/// SDK configuration for an endpoint: fixed region and test credentials, so
/// nothing probes instance metadata.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// The resources of one stack, named from a prefix so tests do not collide.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub raw_bucket: String,
    pub processed_bucket: String,
    pub quarantine_bucket: String,
    pub bus: String,
    pub glue_database: String,
    pub queue_url: String,
}

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub glue: aws_sdk_glue::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        Clients {
            s3: shared::aws::s3_client(
                sdk,
                AwsSettings {
                    s3_force_path_style: true,
                },
            ),
            glue: aws_sdk_glue::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
        }
    }
}

impl Stack {
    /// Names for a stack called `name` (lower case, digits and '-').
    pub fn named(name: &str) -> Stack {
        Stack {
            name: name.to_string(),
            raw_bucket: format!("{name}-raw"),
            processed_bucket: format!("{name}-processed"),
            quarantine_bucket: format!("{name}-quarantine"),
            bus: format!("{name}-bus"),
            glue_database: name.replace('-', "_"),
            queue_url: String::new(),
        }
    }

    /// Creates buckets, bus, and a rule sending every event the suite publishes to
    /// an SQS queue. With `glue_database`, creates the Glue database too.
    pub async fn create(mut self, clients: &Clients, glue_database: bool) -> Result<Stack> {
        for bucket in [
            &self.raw_bucket,
            &self.processed_bucket,
            &self.quarantine_bucket,
        ] {
            clients
                .s3
                .create_bucket()
                .bucket(bucket)
                .send()
                .await
                .with_context(|| format!("create bucket {bucket}"))?;
        }
        clients
            .events
            .create_event_bus()
            .name(&self.bus)
            .send()
            .await
            .context("create event bus")?;
        let queue_name = format!("{}-events", self.bus);
        let queue = clients
            .sqs
            .create_queue()
            .queue_name(&queue_name)
            .send()
            .await
            .context("create queue")?;
        self.queue_url = queue.queue_url().unwrap_or_default().to_string();
        let attrs = clients
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await?;
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .context("queue ARN")?;
        let pattern = serde_json::json!({"source": [ETL_SOURCE, TRIGGER_SOURCE, PROMOTION_SOURCE]});
        clients
            .events
            .put_rule()
            .name("dataset-ready-to-queue")
            .event_bus_name(&self.bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .context("put rule")?;
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("queue")
            .arn(queue_arn)
            .build()?;
        clients
            .events
            .put_targets()
            .rule("dataset-ready-to-queue")
            .event_bus_name(&self.bus)
            .targets(target)
            .send()
            .await
            .context("put targets")?;
        if glue_database {
            let input = aws_sdk_glue::types::DatabaseInput::builder()
                .name(&self.glue_database)
                .build()?;
            clients
                .glue
                .create_database()
                .database_input(input)
                .send()
                .await
                .context("create Glue database")?;
        }
        Ok(self)
    }

    /// The training pipeline's name in this stack.
    pub fn pipeline_name(&self) -> String {
        format!("{}-training", self.bus.trim_end_matches("-bus"))
    }

    /// Creates the training pipeline from the generated definition.
    pub async fn create_pipeline(&self, clients: &Clients) -> Result<String> {
        let definition = build(&DefinitionConfig {
            role_arn: SAGEMAKER_ROLE.into(),
            model_package_group: self.model_package_group(),
            model_output_uri: format!("s3://{}/models", self.processed_bucket),
            training_image: xgboost_image(REGION).context("XGBoost image")?,
        });
        let out = clients
            .sagemaker
            .create_pipeline()
            .pipeline_name(self.pipeline_name())
            .pipeline_definition(definition.to_json())
            .role_arn(SAGEMAKER_ROLE)
            .client_request_token(format!("create-{}", self.pipeline_name()))
            .send()
            .await
            .context("create pipeline")?;
        Ok(out.pipeline_arn().unwrap_or_default().to_string())
    }

    /// The model package group the pipeline registers models in.
    pub fn model_package_group(&self) -> String {
        format!("{}-models", self.pipeline_name())
    }

    pub async fn create_model_package_group(&self, clients: &Clients) -> Result<()> {
        clients
            .sagemaker
            .create_model_package_group()
            .model_package_group_name(self.model_package_group())
            .model_package_group_description("housing-mlops models (local stack)")
            .send()
            .await
            .context("create model package group")?;
        Ok(())
    }

    /// Registers a model package as the pipeline's RegisterModel step does
    /// (PendingManualApproval, with the metadata promotion reads); returns its ARN.
    pub async fn register_model(
        &self,
        clients: &Clients,
        validation_rmse: f64,
        dataset_id: &str,
        execution_arn: &str,
    ) -> Result<String> {
        use aws_sdk_sagemaker::types::{
            InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
        };
        let container = ModelPackageContainerDefinition::builder()
            .image(xgboost_image(REGION).context("XGBoost image")?)
            .model_data_url(format!(
                "s3://{}/models/{dataset_id}/model.tar.gz",
                self.processed_bucket
            ))
            .build();
        let inference = InferenceSpecification::builder()
            .containers(container)
            .supported_content_types("text/csv")
            .supported_response_mime_types("text/csv")
            .build();
        let out = clients
            .sagemaker
            .create_model_package()
            .model_package_group_name(self.model_package_group())
            .inference_specification(inference)
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .customer_metadata_properties(METADATA_DATASET_ID, dataset_id)
            .customer_metadata_properties(METADATA_VALIDATION_RMSE, validation_rmse.to_string())
            .customer_metadata_properties(METADATA_EXECUTION_ARN, execution_arn)
            .send()
            .await
            .context("create model package")?;
        Ok(out.model_package_arn().unwrap_or_default().to_string())
    }

    /// Approves a model package in the registry (what a reviewer does).
    pub async fn approve(&self, clients: &Clients, arn: &str) -> Result<()> {
        // moto's UpdateModelPackage drops the metadata unless it is sent again
        // (SageMaker keeps it); sending it unchanged is harmless on both.
        let described = clients
            .sagemaker
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .context("describe model package")?;
        clients
            .sagemaker
            .update_model_package()
            .model_package_arn(arn)
            .model_approval_status(aws_sdk_sagemaker::types::ModelApprovalStatus::Approved)
            .approval_description("approved by the local stack")
            .set_customer_metadata_properties(described.customer_metadata_properties().cloned())
            .send()
            .await
            .context("approve model package")?;
        Ok(())
    }

    /// The bundled stages, with endpoints named after this stack so stacks on
    /// one emulator do not share endpoints.
    pub fn stages(&self) -> Stages {
        let mut stages = Stages::parse(BUNDLED).expect("bundled stages");
        for stage in &mut stages.stages {
            stage.endpoint = format!("{}-{}", self.name, stage.name);
        }
        stages
    }

    pub fn data_capture_uri(&self) -> String {
        format!("s3://{}/data-capture", self.processed_bucket)
    }

    /// promote-model's configuration for this stack (its own endpoints).
    pub fn promote_config(&self) -> PromoteConfig {
        PromoteConfig {
            stages: self.stages(),
            model_package_groups: vec![self.model_package_group()],
            account_id: ACCOUNT.into(),
            region: REGION.into(),
            event_bus: self.bus.clone(),
            model_role_arn: SAGEMAKER_ROLE.into(),
            data_capture_uri: Some(self.data_capture_uri()),
        }
    }

    /// promote-model's environment, as Lambda would set it (the bundled stages file).
    pub fn promote_env(&self, endpoint: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("MODEL_PACKAGE_GROUPS", self.model_package_group()),
            ("EXPECTED_ACCOUNT_ID", ACCOUNT.to_string()),
            ("EVENT_BUS_NAME", self.bus.clone()),
            ("SAGEMAKER_ROLE_ARN", SAGEMAKER_ROLE.to_string()),
            ("DATA_CAPTURE_S3_URI", self.data_capture_uri()),
        ];
        env.extend(Self::local_aws_env(endpoint));
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The trigger's configuration for this stack.
    pub fn trigger_config(&self) -> shared::training::config::TriggerConfig {
        shared::training::config::TriggerConfig {
            pipeline_name: self.pipeline_name(),
            event_bus: self.bus.clone(),
            layout: self.layout(),
            thresholds: Default::default(),
            claim_timeout_seconds: 300,
            aws: AwsSettings {
                s3_force_path_style: true,
            },
        }
    }

    pub fn layout(&self) -> DatasetLayout {
        DatasetLayout {
            processed_bucket: self.processed_bucket.clone(),
            processed_prefix: "datasets/".into(),
            quarantine_bucket: self.quarantine_bucket.clone(),
            quarantine_prefix: String::new(),
        }
    }

    /// The ETL configuration for this stack, as the Lambda would read it.
    pub fn etl_config(&self) -> EtlConfig {
        EtlConfig {
            raw_bucket: self.raw_bucket.clone(),
            raw_prefix: String::new(),
            layout: self.layout(),
            event_bus: self.bus.clone(),
            glue_database: self.glue_database.clone(),
            glue_table: "housing_features".into(),
            max_object_bytes: shared::etl::config::DEFAULT_MAX_OBJECT_BYTES,
            work_dir: std::env::temp_dir(),
            options: EtlOptions::default(),
            aws: AwsSettings {
                s3_force_path_style: true,
            },
        }
    }

    /// The ETL's configuration as environment variables, as Lambda would set them.
    pub fn etl_env(&self, endpoint: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("RAW_BUCKET", self.raw_bucket.clone()),
            ("PROCESSED_BUCKET", self.processed_bucket.clone()),
            ("QUARANTINE_BUCKET", self.quarantine_bucket.clone()),
            ("EVENT_BUS_NAME", self.bus.clone()),
            ("GLUE_DATABASE", self.glue_database.clone()),
        ];
        env.extend(Self::local_aws_env(endpoint));
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The training trigger's configuration as environment variables.
    pub fn trigger_env(&self, endpoint: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("PIPELINE_NAME", self.pipeline_name()),
            ("EVENT_BUS_NAME", self.bus.clone()),
            ("PROCESSED_BUCKET", self.processed_bucket.clone()),
        ];
        env.extend(Self::local_aws_env(endpoint));
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    fn local_aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
        [
            ("S3_FORCE_PATH_STYLE", "true"),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect()
    }

    pub async fn upload(&self, clients: &Clients, key: &str, body: Vec<u8>) -> Result<()> {
        clients
            .s3
            .put_object()
            .bucket(&self.raw_bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await?;
        Ok(())
    }

    /// Every event delivered to the queue so far (drains it).
    pub async fn received_events(&self, clients: &Clients) -> Result<Vec<Value>> {
        let mut events = Vec::new();
        loop {
            let out = clients
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await?;
            let messages = out.messages();
            if messages.is_empty() {
                return Ok(events);
            }
            for m in messages {
                events.push(serde_json::from_str(m.body().unwrap_or("null"))?);
                if let Some(handle) = m.receipt_handle() {
                    clients
                        .sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await?;
                }
            }
        }
    }

    /// Keys under `prefix` in `bucket`, sorted.
    pub async fn list(&self, clients: &Clients, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let out = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await?;
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        keys.sort();
        Ok(keys)
    }

    pub async fn get(&self, clients: &Clients, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let out = clients
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await?;
        Ok(out.body.collect().await?.into_bytes().to_vec())
    }
}

/// A sample event from `events/`, pointed at a bucket and (encoded) key.
pub fn sample_event(file: &str, bucket: &str, encoded_key: &str) -> Result<Value> {
    let path = repo_root().join("events").join(file);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut event: Value = serde_json::from_str(&text)?;
    if let Some(records) = event.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            r["s3"]["bucket"]["name"] = bucket.into();
            r["s3"]["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
            r["s3"]["object"]["key"] = encoded_key.into();
        }
    } else {
        event["detail"]["bucket"]["name"] = bucket.into();
        event["detail"]["object"]["key"] = encoded_key.into();
        event["resources"] = serde_json::json!([format!("arn:aws:s3:::{bucket}")]);
    }
    Ok(event)
}
