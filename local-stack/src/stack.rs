//! The suite's resources on a moto server, named from a stack name so stacks
//! on one emulator do not collide, and the reads the tests and the main job
//! check the chain with.

use crate::{REGION, SAGEMAKER_ROLE};
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;
use shared::aws::S3Location;
use shared::config::AwsSettings;
use shared::dataset::{DatasetLayout, DEFAULT_PROCESSED_PREFIX};
use shared::events::drift::{DRIFT_SOURCE, MONITOR_SOURCE};
use shared::events::pipeline::TRIGGER_SOURCE;
use shared::events::promotion::PROMOTION_SOURCE;
use shared::events::scoring::SCORING_SOURCE;
use shared::events::ETL_SOURCE;
use shared::promotion::desired::{DesiredStates, Status};
use shared::stages::{
    Stages, BUNDLED, METADATA_DATASET_ID, METADATA_EXECUTION_ARN, METADATA_VALIDATION_RMSE,
};
use shared::training::definition::{
    build, evaluation_code_uri, xgboost_image, DefinitionConfig, EVALUATION_SCRIPT,
    EVALUATION_SCRIPT_NAME,
};

mod outputs;
mod registry;

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
    /// Each function's dead-letter queue (by function name), once created.
    pub dead_letter_urls: std::collections::BTreeMap<&'static str, String>,
    /// Each function's role session (by function name), once created.
    pub roles: std::collections::BTreeMap<&'static str, crate::roles::RoleCredentials>,
}

pub struct Clients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub glue: aws_sdk_glue::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        Clients {
            cloudformation: aws_sdk_cloudformation::Client::new(sdk),
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
            autoscaling: aws_sdk_applicationautoscaling::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
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
            dead_letter_urls: Default::default(),
            roles: Default::default(),
        }
    }

    /// Creates buckets, bus, each function's dead-letter queue and role (made
    /// from the template and assumed: [`crate::roles`]), and a rule sending every
    /// event the suite publishes to an SQS queue. With `glue_database`, creates
    /// the Glue database too.
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
        // predict is invoked synchronously: no dead-letter queue.
        for function in crate::Function::ALL
            .into_iter()
            .filter(|f| *f != crate::Function::Predict)
        {
            let queue = clients
                .sqs
                .create_queue()
                .queue_name(self.dead_letter_queue(function))
                .send()
                .await
                .context("create dead-letter queue")?;
            let url = queue.queue_url().unwrap_or_default().to_string();
            self.dead_letter_urls.insert(function.name(), url);
        }
        for function in crate::Function::ALL {
            let credentials = self.create_role(clients, function).await?;
            self.roles.insert(function.name(), credentials);
        }
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
        let pattern = serde_json::json!({"source": [ETL_SOURCE, TRIGGER_SOURCE, PROMOTION_SOURCE, DRIFT_SOURCE, MONITOR_SOURCE, SCORING_SOURCE]});
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
        self.publish_outputs(clients).await?;
        Ok(self)
    }

    /// The name of `function`'s dead-letter queue in this stack.
    pub fn dead_letter_queue(&self, function: crate::Function) -> String {
        format!("{}-{}-dlq", self.name, function.name())
    }

    /// Where the pipeline's code (the evaluation script) is uploaded.
    pub fn pipeline_code_uri(&self) -> String {
        format!("s3://{}/pipeline-code", self.processed_bucket)
    }

    /// The training pipeline's name in this stack.
    pub fn pipeline_name(&self) -> String {
        format!("{}-training", self.bus.trim_end_matches("-bus"))
    }

    /// Creates the training pipeline from the generated definition, with its
    /// code (`pipeline/evaluate.py`) uploaded where the definition reads it, as
    /// the deploy path does.
    pub async fn create_pipeline(&self, clients: &Clients) -> Result<String> {
        let code = format!(
            "{}{EVALUATION_SCRIPT_NAME}",
            evaluation_code_uri(&self.pipeline_code_uri())
        );
        let at = S3Location::parse(&code).context("the code URI")?;
        clients
            .s3
            .put_object()
            .bucket(at.bucket)
            .key(at.key)
            .body(EVALUATION_SCRIPT.as_bytes().to_vec().into())
            .send()
            .await
            .context("upload the evaluation script")?;
        let definition = build(&DefinitionConfig {
            role_arn: SAGEMAKER_ROLE.into(),
            model_package_group: self.model_package_group(),
            model_output_uri: format!("s3://{}/models", self.processed_bucket),
            training_image: xgboost_image(REGION).context("XGBoost image")?,
            // moto keeps objects unencrypted: the bucket default.
            kms_key_arn: None,
            code_uri: self.pipeline_code_uri(),
            stack_name: Some(self.name.clone()),
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

    /// The bundled stages awake around the clock (the chain runs at any hour;
    /// sleeping has its own tests and step), endpoints named after this stack.
    pub fn stages(&self) -> Stages {
        self.stages_of(BUNDLED).always_awake()
    }

    /// The stages of `yaml` (a valid stages file), with endpoints named after
    /// this stack.
    pub fn stages_of(&self, yaml: &str) -> Stages {
        Stages::parse(yaml)
            .and_then(|stages| {
                stages.with_endpoints(|stage| format!("{}-{}", self.name, stage.name))
            })
            .expect("a valid stages file")
    }

    pub fn data_capture_uri(&self) -> String {
        format!("s3://{}/data-capture", self.processed_bucket)
    }

    /// Where promote-model keeps each stage's desired-state record.
    pub fn promotion_state_uri(&self) -> String {
        format!("s3://{}/promotion", self.processed_bucket)
    }

    /// promote-model's desired-state records of this stack.
    pub fn desired_states(&self, clients: &Clients) -> Result<DesiredStates> {
        let root = S3Location::parse(&self.promotion_state_uri()).context("the state URI")?;
        Ok(DesiredStates {
            s3: clients.s3.clone(),
            root,
        })
    }

    /// The stage's shadow test started `seconds` earlier than it did: a hand
    /// on its record, as if that time had passed.
    pub async fn shadow_started_earlier(
        &self,
        clients: &Clients,
        stage: &str,
        seconds: i64,
    ) -> Result<()> {
        let records = self.desired_states(clients)?;
        let read = records.read(stage).await?.context("no record")?;
        let mut moved = read.desired.clone();
        let Status::Shadowing { started_at_ms, .. } = &mut moved.status else {
            anyhow::bail!("{stage} runs no shadow test: {:?}", moved.status);
        };
        *started_at_ms -= seconds * 1000;
        anyhow::ensure!(
            records.write(&moved, Some(&read)).await?,
            "the record changed meanwhile"
        );
        Ok(())
    }

    pub fn layout(&self) -> DatasetLayout {
        DatasetLayout {
            processed_bucket: self.processed_bucket.clone(),
            processed_prefix: DEFAULT_PROCESSED_PREFIX.into(),
            quarantine_bucket: self.quarantine_bucket.clone(),
            quarantine_prefix: String::new(),
        }
    }

    pub async fn upload(&self, clients: &Clients, key: &str, body: Vec<u8>) -> Result<()> {
        self.put(clients, &self.raw_bucket, key, body).await
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

    /// Writes `body` to `key` of `bucket` (as an operator, or a hand, would).
    pub async fn put(
        &self,
        clients: &Clients,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<()> {
        clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await?;
        Ok(())
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

/// The bundled stages, awake at any hour, with `edit` applied to `stage` (as
/// JSON), as a valid stages file's text: the variations the tests and the
/// sleeping step run with, none of them tied to the hour they run at.
pub fn bundled_stages_with(
    stage: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> anyhow::Result<String> {
    use anyhow::Context;
    let awake = serde_norway::to_string(&Stages::parse(BUNDLED)?.always_awake())?;
    let mut stages: serde_json::Value = serde_norway::from_str(&awake)?;
    let target = stages["stages"]
        .as_array_mut()
        .context("no stages")?
        .iter_mut()
        .find(|s| s["name"] == stage)
        .and_then(serde_json::Value::as_object_mut)
        .with_context(|| format!("no stage {stage}"))?;
    edit(target);
    let text = serde_norway::to_string(&stages)?;
    Stages::parse(&text).with_context(|| format!("the stages with {stage} changed"))?;
    Ok(text)
}

/// The bundled stages, awake, except `stage`: its `active` window excludes
/// now (one hour every day, twelve hours from now, UTC). The file's text, and
/// when the stage wakes.
pub fn stages_asleep(stage: &str) -> anyhow::Result<(String, chrono::DateTime<chrono::Utc>)> {
    use anyhow::Context;
    use chrono::{Duration, Timelike, Utc};
    let opens = Utc::now() + Duration::hours(12);
    let start = opens.hour();
    let end = if start == 23 {
        "23:59".to_string()
    } else {
        format!("{:02}:00", start + 1)
    };
    let text = bundled_stages_with(stage, |s| {
        s.insert(
            "active".into(),
            serde_json::json!({
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "hours": format!("{start:02}:00-{end}"),
                "timezone": "UTC",
            }),
        );
    })?;
    let wakes = opens
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .context("the hour it wakes")?;
    Ok((text, wakes))
}
