//! One test environment for every function: a fresh stack on this test
//! binary's moto, the function's service configured from the stack's
//! environment exactly as Lambda would configure it (the function's own
//! `from_lookup` over [`Stack::function_env`]), and clients to look at what
//! happened.

use aws_config::SdkConfig;
use local_stack::functions::{lookup, sdk_config_of, Environment};
use local_stack::{sdk_config, Clients, EndpointServer, Function, Moto, Stack};
use serde_json::Value;
use shared::config::Config;
use shared::etl::config::EtlConfig;
use shared::etl::service::EtlService;
use shared::monitoring::config::MonitorConfig;
use shared::monitoring::service::MonitorService;
use shared::promotion::config::PromoteConfig;
use shared::promotion::PromotionService;
use shared::scoring::config::ScoringConfig;
use shared::scoring::service::ScoringService;
use shared::serving::config::PredictConfig;
use shared::serving::service::PredictService;
use shared::training::config::TriggerConfig;
use shared::training::trigger::TriggerService;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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

/// One local endpoint server per test binary (SageMaker Runtime for the
/// endpoints on [`shared_moto`]), started on first use.
pub fn shared_endpoint_server() -> String {
    static SERVER: Mutex<Option<EndpointServer>> = Mutex::new(None);
    let moto = shared_moto();
    let mut guard = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        *guard = Some(EndpointServer::start(&moto).expect("the local endpoint server"));
    }
    guard
        .as_ref()
        .map(|s| s.endpoint.clone())
        .unwrap_or_default()
}

/// A test's stack, a service of one function on it, and clients to inspect it.
pub struct TestEnv<S> {
    pub stack: Stack,
    /// The operator's clients (allowed everything), to set up and inspect.
    pub clients: Clients,
    /// The function's SDK configuration: its role's credentials, as the
    /// template grants them (moto enforces them).
    pub sdk: SdkConfig,
    /// The function's environment the service was configured from.
    pub environment: Environment,
    pub service: S,
    /// The stages file of promote-model and predict: the bundled stages with
    /// endpoints of this stack's own.
    stages_file: PathBuf,
    _files: tempfile::TempDir,
}

/// How to set up a [`TestEnv`]: which resources, which variables to change.
pub struct Setup {
    name: String,
    glue_database: bool,
    pipeline: bool,
    vars: Vec<(String, String)>,
    /// A stages file to use instead of the bundled one (endpoints renamed).
    stages: Option<String>,
}

impl Setup {
    /// A stack named `<test>-<n>`: unique in this test binary.
    pub fn new(test: &str) -> Setup {
        static N: AtomicUsize = AtomicUsize::new(0);
        Setup {
            name: format!("{test}-{}", N.fetch_add(1, Ordering::SeqCst)),
            glue_database: true,
            pipeline: false,
            vars: Vec::new(),
            stages: None,
        }
    }

    /// Runs the functions with this stages file (YAML) instead of the bundled
    /// one, each endpoint named after the stack as usual.
    pub fn stages(mut self, yaml: impl Into<String>) -> Setup {
        self.stages = Some(yaml.into());
        self
    }

    /// Leaves the Glue database for the ETL to create.
    pub fn without_glue_database(mut self) -> Setup {
        self.glue_database = false;
        self
    }

    /// Creates the training pipeline from the generated definition.
    pub fn with_pipeline(mut self) -> Setup {
        self.pipeline = true;
        self
    }

    /// Sets (or overrides) one variable of the function's environment.
    pub fn var(mut self, name: &str, value: impl ToString) -> Setup {
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    async fn build<S>(
        self,
        function: Function,
        service: impl FnOnce(&SdkConfig, &Environment) -> S,
    ) -> TestEnv<S> {
        let endpoint = shared_moto();
        let clients = Clients::new(&sdk_config(&endpoint).await);
        let stack = Stack::named(&self.name)
            .create(&clients, self.glue_database)
            .await
            .expect("the stack");
        if self.pipeline {
            stack.create_pipeline(&clients).await.expect("the pipeline");
        }
        let files = tempfile::tempdir().expect("a temporary directory");
        // Stacks share one moto: each gets endpoints of its own.
        let stages_file = files.path().join("stages.yaml");
        let stages = match &self.stages {
            Some(yaml) => stack.stages_of(yaml),
            None => stack.stages(),
        };
        let yaml = serde_norway::to_string(&stages).expect("stages as YAML");
        std::fs::write(&stages_file, yaml).expect("writing the stages file");
        if matches!(
            function,
            Function::PromoteModel | Function::Predict | Function::Score
        ) {
            stack
                .create_model_package_group(&clients)
                .await
                .expect("the model package group");
        }
        let mut environment = environment_of(&stack, function, &endpoint, &stages_file);
        environment.extend(self.vars);
        let sdk = sdk_config_of(&environment).await;
        let service = service(&sdk, &environment);
        TestEnv {
            stack,
            clients,
            sdk,
            environment,
            service,
            stages_file,
            _files: files,
        }
    }

    /// The ETL's service on the stack.
    pub async fn etl(self) -> TestEnv<EtlService> {
        self.build(Function::Etl, |sdk, env| {
            let config = EtlConfig::from_lookup(lookup(env)).expect("the ETL's configuration");
            EtlService::new(sdk, config)
        })
        .await
    }

    /// The training trigger's service on the stack.
    pub async fn trigger(self) -> TestEnv<TriggerService> {
        self.build(Function::StartPipeline, |sdk, env| {
            let config =
                TriggerConfig::from_lookup(lookup(env)).expect("the trigger's configuration");
            TriggerService::new(sdk, config)
        })
        .await
    }

    /// promote-model's service on the stack (with a model package group).
    pub async fn promotion(self) -> TestEnv<PromotionService> {
        self.build(Function::PromoteModel, |sdk, env| {
            let config =
                PromoteConfig::from_lookup(lookup(env)).expect("promote-model's configuration");
            PromotionService::new(sdk, config)
        })
        .await
    }

    /// The traffic monitor's service on the stack.
    pub async fn monitor(self) -> TestEnv<MonitorService> {
        self.build(Function::Monitor, |sdk, env| {
            let config =
                MonitorConfig::from_lookup(lookup(env)).expect("the monitor's configuration");
            MonitorService::new(sdk, config)
        })
        .await
    }

    /// The batch scoring's service on the stack (with a model package group to
    /// deploy from).
    pub async fn scoring(self) -> TestEnv<ScoringService> {
        self.build(Function::Score, |sdk, env| {
            let config =
                ScoringConfig::from_lookup(lookup(env)).expect("the scoring's configuration");
            ScoringService::new(sdk, config)
        })
        .await
    }

    /// predict's service on the stack (with a model package group to deploy
    /// from), calling endpoints through this binary's local endpoint server.
    pub async fn predict(self) -> TestEnv<PredictService> {
        let server = shared_endpoint_server();
        let runtime = sdk_config(&server).await;
        self.build(Function::Predict, |sdk, env| {
            let config = PredictConfig::from_lookup(lookup(env)).expect("predict's configuration");
            PredictService::with_clients(
                aws_sdk_sagemaker::Client::new(sdk),
                aws_sdk_sagemakerruntime::Client::new(&runtime),
                shared::aws::s3_client(sdk, config.aws),
                config,
            )
        })
        .await
    }
}

/// `function`'s environment on `stack`, as the local stack gives it, with
/// the stack's stages file for the functions that read one.
fn environment_of(stack: &Stack, function: Function, moto: &str, stages: &Path) -> Environment {
    let mut environment = stack.function_env(function, moto);
    if matches!(
        function,
        Function::StartPipeline
            | Function::PromoteModel
            | Function::Predict
            | Function::Monitor
            | Function::Score
    ) {
        environment.push(("STAGES_FILE".into(), stages.display().to_string()));
    }
    environment
}

impl<S> TestEnv<S> {
    /// The stages file the functions run with (the endpoints this stack's own).
    pub fn stages_file(&self) -> &Path {
        &self.stages_file
    }

    /// Another function's environment on this test's stack (for a test that
    /// needs two functions' services on one stack).
    pub fn environment_of(&self, function: Function) -> Environment {
        environment_of(&self.stack, function, &shared_moto(), &self.stages_file)
    }

    /// The suite's events delivered so far (drains the queue).
    pub async fn events(&self) -> Vec<Value> {
        self.stack.received_events(&self.clients).await.unwrap()
    }

    /// Every key in the processed bucket.
    pub async fn processed_keys(&self) -> Vec<String> {
        let bucket = &self.stack.processed_bucket;
        self.stack.list(&self.clients, bucket, "").await.unwrap()
    }

    /// Writes `body` to `key` of `bucket` as the administrator (a fixture, or a hand).
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        self.stack
            .put(&self.clients, bucket, key, body)
            .await
            .unwrap_or_else(|e| panic!("put s3://{bucket}/{key}: {e:#}"));
    }

    /// The JSON object at `at`, or `None` when there is none.
    pub async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        at: &shared::aws::S3Location,
    ) -> Option<T> {
        let bytes = self
            .stack
            .get(&self.clients, &at.bucket, &at.key)
            .await
            .ok()?;
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    /// Uploads an object to the raw bucket.
    pub async fn upload(&self, key: &str, bytes: Vec<u8>) {
        self.stack.upload(&self.clients, key, bytes).await.unwrap();
    }
}
