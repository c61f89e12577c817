//! One test environment for every function: a fresh stack on this test
//! binary's moto, the function's service configured from the stack's
//! environment exactly as Lambda would configure it (the function's own
//! `from_lookup` over [`Stack::function_env`]), and clients to look at what
//! happened.

use aws_config::SdkConfig;
use local_stack::functions::{lookup, Environment};
use local_stack::{sdk_config, Clients, Function, Moto, Stack};
use serde_json::Value;
use shared::etl::config::EtlConfig;
use shared::etl::service::EtlService;
use shared::promotion::config::PromoteConfig;
use shared::promotion::service::PromotionService;
use shared::training::config::TriggerConfig;
use shared::training::trigger::TriggerService;
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

/// A test's stack, a service of one function on it, and clients to inspect it.
pub struct TestEnv<S> {
    pub stack: Stack,
    pub clients: Clients,
    pub sdk: SdkConfig,
    /// The function's environment the service was configured from.
    pub environment: Environment,
    pub service: S,
    /// Files the environment names (promote-model's stages file).
    _files: tempfile::TempDir,
}

/// How to set up a [`TestEnv`]: which resources, which variables to change.
pub struct Setup {
    name: String,
    glue_database: bool,
    pipeline: bool,
    vars: Vec<(String, String)>,
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
        }
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
        let sdk = sdk_config(&endpoint).await;
        let clients = Clients::new(&sdk);
        let stack = Stack::named(&self.name)
            .create(&clients, self.glue_database)
            .await
            .expect("the stack");
        if self.pipeline {
            stack.create_pipeline(&clients).await.expect("the pipeline");
        }
        let files = tempfile::tempdir().expect("a temporary directory");
        let mut environment = stack.function_env(function, &endpoint);
        if function == Function::PromoteModel {
            stack
                .create_model_package_group(&clients)
                .await
                .expect("the model package group");
            // Stacks share one moto: each gets endpoints of its own.
            let stages = files.path().join("stages.yaml");
            let yaml = serde_norway::to_string(&stack.stages()).expect("stages as YAML");
            std::fs::write(&stages, yaml).expect("writing the stages file");
            environment.push(("STAGES_FILE".into(), stages.display().to_string()));
        }
        environment.extend(self.vars);
        let service = service(&sdk, &environment);
        TestEnv {
            stack,
            clients,
            sdk,
            environment,
            service,
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
}

impl<S> TestEnv<S> {
    /// The suite's events delivered so far (drains the queue).
    pub async fn events(&self) -> Vec<Value> {
        self.stack.received_events(&self.clients).await.unwrap()
    }

    /// Every key in the processed bucket.
    pub async fn processed_keys(&self) -> Vec<String> {
        let bucket = &self.stack.processed_bucket;
        self.stack.list(&self.clients, bucket, "").await.unwrap()
    }

    /// Uploads an object to the raw bucket.
    pub async fn upload(&self, key: &str, bytes: Vec<u8>) {
        self.stack.upload(&self.clients, key, bytes).await.unwrap();
    }
}
