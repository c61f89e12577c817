//! Each function's environment in a local stack, as Lambda would set it: the
//! variables the template gives it, with this stack's names, the AWS settings
//! that point it at moto, and its role's credentials. The one source of a
//! function's configuration locally: the main job writes it to `<function>.env`, and the tests build the
//! services' configurations from it with the functions' own `from_lookup`.

use crate::stack::Stack;
use crate::{ACCOUNT, REGION, SAGEMAKER_ROLE};
use shared::functions;

/// The suite's functions, by their crate (and Lambda) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Etl,
    StartPipeline,
    PromoteModel,
    Predict,
    Monitor,
    Score,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::Etl,
        Function::StartPipeline,
        Function::PromoteModel,
        Function::Predict,
        Function::Monitor,
        Function::Score,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Etl => functions::ETL,
            Function::StartPipeline => functions::START_PIPELINE,
            Function::PromoteModel => functions::PROMOTE_MODEL,
            Function::Predict => functions::PREDICT,
            Function::Monitor => functions::MONITOR,
            Function::Score => functions::SCORE,
        }
    }

    /// Its logical id in `infra/template.yaml`.
    pub fn logical_id(self) -> &'static str {
        match self {
            Function::Etl => "EtlFunction",
            Function::StartPipeline => "StartPipelineFunction",
            Function::PromoteModel => "PromoteModelFunction",
            Function::Predict => "PredictFunction",
            Function::Monitor => "MonitorFunction",
            Function::Score => "ScoreFunction",
        }
    }
}

/// The variable that sends SageMaker Runtime calls (and only those) to the
/// local endpoint server: the SDK's service-specific endpoint override.
pub const RUNTIME_ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME";

/// An environment, as `(name, value)` pairs.
pub type Environment = Vec<(String, String)>;

/// A lookup over an environment, for the configurations' `from_lookup`.
pub fn lookup(env: &[(String, String)]) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// The SDK configuration a function's environment gives it (its endpoint and
/// its role's credentials), for a test that runs the function's service in
/// its own process.
pub async fn sdk_config_of(env: &[(String, String)]) -> aws_config::SdkConfig {
    let var = |name: &str| lookup(env)(name).unwrap_or_else(|| panic!("{name} is not set"));
    let role = aws_sdk_s3::config::Credentials::new(
        var("AWS_ACCESS_KEY_ID"),
        var("AWS_SECRET_ACCESS_KEY"),
        Some(var("AWS_SESSION_TOKEN")),
        None,
        "the function's role",
    );
    crate::moto::signed_config(&var("AWS_ENDPOINT_URL"), &var("AWS_REGION"), role).await
}

impl Stack {
    /// `function`'s environment in this stack, with moto at `endpoint`.
    pub fn function_env(&self, function: Function, endpoint: &str) -> Environment {
        let mut env: Vec<(&str, String)> = match function {
            Function::Etl => vec![
                ("RAW_BUCKET", self.raw_bucket.clone()),
                ("PROCESSED_BUCKET", self.processed_bucket.clone()),
                ("QUARANTINE_BUCKET", self.quarantine_bucket.clone()),
                ("EVENT_BUS_NAME", self.bus.clone()),
                ("GLUE_DATABASE", self.glue_database.clone()),
                // `TRAINING_FORMAT=parquet scripts/run-local` trains from Parquet channels.
                (
                    "TRAINING_FORMAT",
                    std::env::var("TRAINING_FORMAT").unwrap_or_else(|_| "csv".into()),
                ),
            ],
            Function::StartPipeline => vec![
                ("PIPELINE_NAME", self.pipeline_name()),
                ("EVENT_BUS_NAME", self.bus.clone()),
                ("PROCESSED_BUCKET", self.processed_bucket.clone()),
            ],
            // The bundled stages file (STAGES_FILE unset).
            Function::PromoteModel => vec![
                ("MODEL_PACKAGE_GROUPS", self.model_package_group()),
                ("EXPECTED_ACCOUNT_ID", ACCOUNT.to_string()),
                ("EVENT_BUS_NAME", self.bus.clone()),
                ("SAGEMAKER_ROLE_ARN", SAGEMAKER_ROLE.to_string()),
                ("DATA_CAPTURE_S3_URI", self.data_capture_uri()),
                ("PROMOTION_STATE_S3_URI", self.promotion_state_uri()),
                ("STACK_NAME", self.name.clone()),
            ],
            // The bundled stages file; locally the API serves pre-prod, the last
            // stage the main job promotes to. InvokeEndpoint goes to the local
            // endpoint server (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, added by
            // whoever starts it: moto serves no model).
            Function::Predict => vec![
                ("PROCESSED_BUCKET", self.processed_bucket.clone()),
                ("SERVING_STAGE", "pre-prod".to_string()),
            ],
            // The bundled stages file and drift policy.
            Function::Monitor => vec![
                ("PROCESSED_BUCKET", self.processed_bucket.clone()),
                ("DATA_CAPTURE_S3_URI", self.data_capture_uri()),
                ("EVENT_BUS_NAME", self.bus.clone()),
            ],
            // The bundled stages file; locally the files are scored by pre-prod's
            // model (the last stage the main job promotes to), on one instance.
            Function::Score => vec![
                ("PROCESSED_BUCKET", self.processed_bucket.clone()),
                ("EVENT_BUS_NAME", self.bus.clone()),
                ("STACK_NAME", self.name.clone()),
                ("SCORING_STAGE", "pre-prod".to_string()),
            ],
        };
        // Invoked synchronously: its errors go to the caller, not to a queue.
        if function != Function::Predict {
            let dead_letters = self.dead_letter_urls.get(function.name()).cloned();
            env.push(("DEAD_LETTER_QUEUE_URL", dead_letters.unwrap_or_default()));
        }
        env.extend([
            ("S3_FORCE_PATH_STYLE", "true".to_string()),
            ("AWS_ENDPOINT_URL", endpoint.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]);
        // The function's own role session, as Lambda gives it (crate::roles).
        let role = self.roles.get(function.name()).unwrap_or_else(|| {
            panic!(
                "the stack has no role for {}: create it first",
                function.name()
            )
        });
        env.extend(role.variables());
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}
