//! One promote-model for the convergence tests (`promote_converge.rs`,
//! `promote_scaling.rs`, `promote_shadow.rs`): a stack on moto (EventBridge, SQS, S3, Application
//! Auto Scaling) whose SageMaker is the stateful fake ([`crate::sagemaker`]),
//! invoked as `main.rs` invokes it, with the events a test sends.

use crate::sagemaker::{self, SageMaker, SharedSageMaker};
use crate::{read_json, Function, Setup, TestEnv};
use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_sagemaker::types::EndpointStatus;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::aws::dead_letters::DeadLetters;
use shared::promotion::desired::Desired;
use shared::promotion::PromotionService;
use shared::promotion::{names, scaling};
use shared::stages::TAG_MODEL_PACKAGE_VERSION;

pub struct World {
    pub env: TestEnv<PromotionService>,
    pub fake: SharedSageMaker,
    pub service: PromotionService,
    pub dead_letters: DeadLetters,
    pub queue: String,
}

impl World {
    pub async fn new(test: &str) -> World {
        World::with(Setup::new(&format!("converge-{test}"))).await
    }

    /// A world set up as `setup` says (another stages file, say).
    pub async fn with(setup: Setup) -> World {
        let env = setup.promotion().await;
        let fake = SageMaker::shared(env.stack.model_package_group());
        let mut service = PromotionService::new(&env.sdk, env.service.config.clone());
        service.sagemaker = sagemaker::client(&fake);
        let queue = env.stack.dead_letter_urls[Function::PromoteModel.name()].clone();
        let dead_letters = DeadLetters::new(&env.sdk, &queue, "promote-model");
        World {
            env,
            fake,
            service,
            dead_letters,
            queue,
        }
    }

    pub fn endpoint(&self, stage: &str) -> String {
        format!("{}-{stage}", self.env.stack.name)
    }

    /// A new version in the registry (approved or not).
    pub fn register(&self, version: u32, approved: bool, rmse: f64) -> String {
        self.fake.lock().unwrap().register(version, approved, rmse)
    }

    /// The endpoint config promote-model makes for `version` on `stage`.
    pub fn config_of(&self, stage: &str, version: u32) -> String {
        let package = self.fake.lock().unwrap().package(version);
        let at = self.service.config.stages.get(stage).unwrap();
        names::endpoint_config_name(&package, at, self.service.config.data_capture.as_ref())
    }

    /// The stage's endpoint serves `version` (the config promote-model makes for
    /// it, with its lineage tags) in `status`.
    pub fn serving(&self, stage: &str, version: u32, status: EndpointStatus) {
        let config = self.config_of(stage, version);
        let mut fake = self.fake.lock().unwrap();
        let at = self.service.config.stages.get(stage).unwrap();
        let instance_type = at.instance_type.as_deref();
        fake.serve(&self.endpoint(stage), &config, version, stage, status);
        if let Some(t) = instance_type {
            fake.instance_types.insert(config, t.to_string());
        }
    }

    /// The endpoint's deployment ends: the pending config (if any) serves, InService.
    pub fn settle(&self, stage: &str) {
        let mut fake = self.fake.lock().unwrap();
        let e = fake.endpoint(&self.endpoint(stage));
        if let Some(config) = e.pending.take() {
            e.config = config;
        }
        e.status = EndpointStatus::InService;
    }

    /// SageMaker rolled the deployment back: the old config serves again.
    pub fn roll_back(&self, stage: &str) {
        let mut fake = self.fake.lock().unwrap();
        let e = fake.endpoint(&self.endpoint(stage));
        e.pending = None;
        e.status = EndpointStatus::InService;
    }

    /// The version the stage's endpoint serves, from its config's lineage tags.
    pub fn served_version(&self, stage: &str) -> Option<String> {
        let fake = self.fake.lock().unwrap();
        let e = fake.endpoints.get(&self.endpoint(stage))?;
        let tags = fake.configs.get(&e.config)?;
        tags.iter()
            .find(|t| t.key() == Some(TAG_MODEL_PACKAGE_VERSION))
            .and_then(|t| t.value())
            .map(str::to_string)
    }

    pub fn deployments(&self) -> usize {
        self.fake.lock().unwrap().deployments.len()
    }

    /// Invokes promote-model as `main.rs` does: the handler, then the
    /// dead-letter settlement. Panics on a failed invocation.
    pub async fn invoke(&self, event: Value) -> Value {
        let result = promote_model::handle(
            &self.service,
            LambdaEvent::new(event.clone(), Context::default()),
        )
        .await;
        let out = self.dead_letters.settle(&event, result).await;
        let out = out.unwrap_or_else(|e| panic!("invocation failed: {e:?}"));
        assert_ne!(out["status"], "dead_lettered", "{out}");
        out
    }

    pub fn approval(&self, version: u32) -> Value {
        let fake = self.fake.lock().unwrap();
        let mut event = read_json("events/promote-model/model-package-approved.json");
        event["id"] = format!("approval-{version}").into();
        let detail = &mut event["detail"];
        detail["ModelPackageGroupName"] = fake.group.clone().into();
        detail["ModelPackageVersion"] = version.into();
        detail["ModelPackageArn"] = fake.arn(version).into();
        event
    }

    pub fn endpoint_event(&self, stage: &str, status: &str) -> Value {
        let mut event = read_json("events/promote-model/endpoint-rolling-back.json");
        event["detail"]["EndpointName"] = self.endpoint(stage).into();
        event["detail"]["EndpointStatus"] = status.into();
        event
    }

    pub fn promote(&self, version: u32, stage: &str) -> Value {
        let mut event = read_json("events/promote-model/promote-to-pre-prod.json");
        event["detail"]["model_package_group"] = self.fake.lock().unwrap().group.clone().into();
        event["detail"]["model_package_version"] = version.into();
        event["detail"]["target_stage"] = stage.into();
        event
    }

    pub async fn desired(&self, stage: &str) -> Desired {
        let read = self.service.desired.read(stage).await.unwrap();
        read.unwrap_or_else(|| panic!("{stage} has no desired-state record"))
            .desired
    }

    pub async fn dead_lettered(&self) -> usize {
        let out = self
            .env
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        out.messages().len()
    }

    /// `ModelPromoted` events so far (drains the bus's queue): (stage, version).
    pub async fn promoted(&self) -> Vec<(String, u64)> {
        self.env
            .events()
            .await
            .iter()
            .filter(|e| e["detail-type"] == "ModelPromoted")
            .map(|e| {
                let d = &e["detail"];
                (
                    d["stage"].as_str().unwrap().to_string(),
                    d["model_package_version"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// The registry sets `version` to Rejected, and announces it.
    pub fn reject(&self, version: u32) -> Value {
        let mut fake = self.fake.lock().unwrap();
        let package = fake.packages.iter_mut().find(|p| p.version == version);
        package.unwrap().approved = false;
        drop(fake);
        let mut event = self.approval(version);
        event["id"] = format!("rejection-{version}").into();
        event["detail"]["ModelApprovalStatus"] = "Rejected".into();
        event
    }

    /// Deployments (CreateEndpoint, UpdateEndpoint) to the stage's endpoint.
    pub fn deployments_to(&self, stage: &str) -> usize {
        let endpoint = self.endpoint(stage);
        let fake = self.fake.lock().unwrap();
        fake.deployments
            .iter()
            .filter(|(e, _)| *e == endpoint)
            .count()
    }

    /// `ServingPackageWithdrawn` events so far (drains the bus's queue).
    pub async fn withdrawn(&self) -> Vec<Value> {
        self.env
            .events()
            .await
            .into_iter()
            .filter(|e| e["detail-type"] == "ServingPackageWithdrawn")
            .map(|e| e["detail"].clone())
            .collect()
    }

    /// What Application Auto Scaling (moto) holds for the stage's variant.
    pub async fn scaling(&self, stage: &str) -> Option<scaling::Registered> {
        let at = self.service.config.stages.get(stage).unwrap();
        scaling::registered(&self.env.clients.autoscaling, at)
            .await
            .unwrap()
    }

    /// The fake SageMaker refuses an instance-type change of a variant that
    /// moto holds as a scalable target, as SageMaker does.
    pub fn enforce_autoscaling(&self) {
        let moto = crate::shared_moto();
        let is_scalable: sagemaker::ScalableTarget = std::sync::Arc::new(move |endpoint: &str| {
            let (moto, prefix) = (moto.clone(), format!("endpoint/{endpoint}/"));
            // Asked from inside a SageMaker call: its own thread, runtime and
            // HTTP client, so nothing waits on the test's runtime.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let sdk = crate::sdk_config(&moto).await;
                    let out = aws_sdk_applicationautoscaling::Client::new(&sdk)
                        .describe_scalable_targets()
                        .service_namespace(ServiceNamespace::Sagemaker)
                        .send()
                        .await
                        .unwrap();
                    out.scalable_targets()
                        .iter()
                        .any(|t| t.resource_id().starts_with(&prefix))
                })
            })
            .join()
            .unwrap()
        });
        self.fake.lock().unwrap().scalable = Some(is_scalable);
    }

    /// The stage's shadow test started `seconds` earlier than it did (a hand
    /// on the record, as if that time had passed).
    pub async fn shadow_started_earlier(&self, stage: &str, seconds: i64) {
        let (stack, clients) = (&self.env.stack, &self.env.clients);
        stack
            .shadow_started_earlier(clients, stage, seconds)
            .await
            .unwrap();
    }

    /// What SageMaker would write while the stage's shadow test of v2 runs:
    /// `requests` captured requests of one row each, the serving model
    /// answering 100 + i and the candidate `candidate(100 + i)`, both captured
    /// (S3); each variant's invocations and mean model latency, the serving
    /// model's 1 ms (CloudWatch, as SageMaker, not as promote-model, whose role
    /// may only read metrics).
    pub async fn shadow_traffic(
        &self,
        stage: &str,
        requests: usize,
        candidate: impl Fn(f64) -> f64,
        latency_us: f64,
    ) {
        let endpoint = self.endpoint(stage);
        let hour = chrono::Utc::now().format("%Y/%m/%d/%H");
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let line = |row: &str, score: f64| {
            serde_json::json!({
                "captureData": {
                    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": format!("{row}\n"), "encoding": "CSV"},
                    "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": format!("{{\"predictions\": [{{\"score\": {score}}}]}}"), "encoding": "JSON"}
                },
                "eventMetadata": {"eventId": row, "inferenceTime": now},
                "eventVersion": "0"
            })
            .to_string()
        };
        let (mut serving, mut shadow) = (String::new(), String::new());
        for i in 0..requests {
            let row = format!("{i},8.3,41,6.9,1.0,322,2.5,37.88,-122.23");
            let served = 100.0 + i as f64;
            serving.push_str(&(line(&row, served) + "\n"));
            shadow.push_str(&(line(&row, candidate(served)) + "\n"));
        }
        let bucket = &self.env.stack.processed_bucket;
        for (variant, body) in [("AllTraffic", serving), ("Shadow-v2", shadow)] {
            let key = format!("data-capture/{endpoint}/{variant}/{hour}/capture-1.jsonl");
            self.env.put(bucket, &key, body.into_bytes()).await;
        }
        let admin = crate::sdk_config(&crate::shared_moto()).await;
        let cloudwatch = aws_sdk_cloudwatch::Client::new(&admin);
        let minute_ago = aws_smithy_types::DateTime::from_secs(chrono::Utc::now().timestamp() - 60);
        for (variant, latency) in [("AllTraffic", 1000.0), ("Shadow-v2", latency_us)] {
            let dimension =
                |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
            let datum = |name: &str, value: f64, unit: StandardUnit| {
                MetricDatum::builder()
                    .metric_name(name)
                    .dimensions(dimension("EndpointName", &endpoint))
                    .dimensions(dimension("VariantName", variant))
                    .timestamp(minute_ago)
                    .value(value)
                    .unit(unit)
                    .build()
            };
            let data = vec![
                datum("Invocations", requests as f64, StandardUnit::None),
                datum("Invocation4XXErrors", 0.0, StandardUnit::None),
                datum("Invocation5XXErrors", 0.0, StandardUnit::None),
                datum("ModelLatency", latency, StandardUnit::Microseconds),
                datum("ModelLatency", latency, StandardUnit::Microseconds),
            ];
            cloudwatch
                .put_metric_data()
                .namespace("AWS/SageMaker")
                .set_metric_data(Some(data))
                .send()
                .await
                .unwrap();
        }
    }

    /// The schedule's tick.
    pub async fn tick(&self) -> Value {
        self.invoke(read_json("events/promote-model/scheduled-tick.json"))
            .await
    }
}

/// The outcome a tick (or a withdrawal) reports for `stage`.
pub fn outcome<'a>(reconciled: &'a Value, stage: &str) -> &'a Value {
    reconciled["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("no {stage} in {reconciled}"))
}
