//! The commands of `local-stack`, and what each takes.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "local-stack",
    about = "Sets up the local AWS stack (moto), feeds it, and checks what each function did"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// An endpoint URL the functions' SDK will accept (they refuse others at cold start).
fn endpoint_url(value: &str) -> Result<String, String> {
    match shared::aws::endpoint_url_problem(value) {
        None => Ok(value.to_string()),
        Some(problem) => Err(problem),
    }
}

/// Which stack, on which moto.
#[derive(Args)]
pub struct Target {
    /// moto's address (the READY line of scripts/moto_server.py).
    #[arg(long, value_name = "URL", value_parser = endpoint_url)]
    pub endpoint: String,
    /// The stack's name: every resource is named from it.
    #[arg(long)]
    pub name: String,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the stack (buckets, bus, Glue database, training pipeline, model
    /// package group, a queue for the suite's events) and write each function's
    /// environment to DIR/<function>.env, the operator role's credentials to DIR/operator.env.
    Up {
        #[command(flatten)]
        target: Target,
        /// Where to write etl.env, start-pipeline.env, promote-model.env and predict.env.
        #[arg(long, value_name = "DIR")]
        env_dir: PathBuf,
        /// The local endpoint server (local-stack/endpoint/server.py), which
        /// predict calls for InvokeEndpoint.
        #[arg(long, value_name = "URL", value_parser = endpoint_url)]
        runtime_endpoint: String,
    },
    /// Upload FILE to the raw bucket as KEY.
    Upload {
        #[command(flatten)]
        target: Target,
        file: PathBuf,
        key: String,
    },
    /// Print what the ETL invocations did, checked against the stack (objects,
    /// Glue partition, the one event published).
    Summary {
        #[command(flatten)]
        target: Target,
        /// Where to save the HousingDatasetReady event, for the trigger.
        #[arg(long, value_name = "FILE")]
        save_event: Option<PathBuf>,
        /// The ETL's responses, in invocation order.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Print what the training trigger did: the pipeline's executions and
    /// their parameters (exactly one expected).
    Training {
        #[command(flatten)]
        target: Target,
        /// The trigger's responses, in invocation order.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Run the pipeline execution the trigger started, as SageMaker would (moto
    /// runs no step): training with the real XGBoost, the evaluation script on
    /// the test split, the condition, the registration. Print what it trained
    /// and measured, then approve the package (what a reviewer does). Fails
    /// when the execution fails or the model is no better than the mean.
    Pipeline {
        #[command(flatten)]
        target: Target,
        /// Where the steps' local folders go.
        #[arg(long, value_name = "DIR")]
        work_dir: PathBuf,
        /// Where to save the run's report (JSON).
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// The trigger's response that started the execution.
        trigger_response: PathBuf,
    },
    /// Print what promote-model did: each stage's endpoint, config, variant,
    /// capture and lineage tags, and the events published.
    Promotion {
        #[command(flatten)]
        target: Target,
        /// promote-model's responses, in invocation order.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Print predict's answer to the sample event, then ask the local API over
    /// HTTP what it serves and for predictions of held-out rows of the served
    /// model's training dataset, printed with their true values. Fails unless
    /// every answer is a prediction of that model and the endpoint captured them.
    Predictions {
        #[command(flatten)]
        target: Target,
        /// The local API's base URL (cargo lambda watch's function URL for predict).
        #[arg(long, value_name = "URL")]
        api: String,
        /// How many held-out rows to ask for (one without total_bedrooms is added).
        #[arg(long, default_value_t = 5)]
        rows: usize,
        /// predict's response to events/predict/predictions.json.
        response: PathBuf,
    },
    /// Write the test split of the dataset STAGE's model was trained on (the
    /// raw rows, with their true values) and two rows made bad to OUT, and
    /// upload it to the raw bucket as KEY: a file to score.
    ScoreFile {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "pre-prod")]
        stage: String,
        #[arg(long, default_value = "score/held-out.csv")]
        key: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the transform job the score function started (moto runs none), as
    /// SageMaker's built-in XGBoost container would, and write its
    /// "SageMaker Transform Job State Change" event to EVENT.
    Transform {
        #[command(flatten)]
        target: Target,
        /// Where to write the job's state-change event.
        #[arg(long)]
        event: PathBuf,
        /// The score function's response that started the job.
        response: PathBuf,
    },
    /// Print what the score function did: a few rows with their predictions
    /// and the file's RMSE. Fails unless the file was started once, scored at
    /// the job's end with its bad rows quarantined, and announced once.
    Scoring {
        #[command(flatten)]
        target: Target,
        /// The score function's four responses: the file, again, the job's
        /// end, the check.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Print what the trigger's drift check made of the demo's shifted file
    /// and its resample (each dataset's drift.json, the DatasetDriftDetected
    /// events). Fails unless only the shifted file drifted, once.
    Drift {
        #[command(flatten)]
        target: Target,
        /// The trigger's responses to shifted.csv's HousingDatasetReady, in order.
        #[arg(long, required = true, num_args = 1..)]
        shifted: Vec<PathBuf>,
        /// The trigger's responses to half.csv's HousingDatasetReady, in order.
        #[arg(long, required = true, num_args = 1..)]
        resampled: Vec<PathBuf>,
    },
    /// Send the test split of a dataset to the local API, 100 records a
    /// request, as a client would: traffic for the endpoint to capture.
    Traffic {
        #[command(flatten)]
        target: Target,
        /// The local API's base URL.
        #[arg(long, value_name = "URL")]
        api: String,
        /// The dataset's HousingDatasetReady (as `summary --save-event` saved it).
        ready: PathBuf,
    },
    /// Print what the traffic monitor found; fails unless its first run
    /// compared pre-prod's captured traffic, found the incomes drifted and
    /// announced it once, and later runs compared nothing again.
    Monitor {
        #[command(flatten)]
        target: Target,
        /// The monitor's responses, in invocation order.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Print what each stage runs on and the autoscaling registered for it
    /// (fails unless it matches the stages file), the cost table, and a
    /// bounded burst of requests with the count target tracking would set.
    Scaling {
        #[command(flatten)]
        target: Target,
        /// The local API's base URL.
        #[arg(long, value_name = "URL")]
        api: String,
        /// The autoscaled stage the API serves.
        #[arg(long, default_value = "pre-prod")]
        stage: String,
    },
    /// Write a stages file (the bundled one, awake) in which `stage`'s window
    /// excludes now, for the sleeping step.
    SleepingStages {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "pre-prod")]
        stage: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print what the sleeping step did; fails unless the tick outside the
    /// window deleted the stage's endpoint, predict answered 503 with the same
    /// wake time, and the awake tick recreated the endpoint.
    Sleeping {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "pre-prod")]
        stage: String,
        /// The sleeping tick's, predict's and the awake tick's responses.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Write a stages file (the bundled one, awake) in which `stage` has a
    /// shadow test, for the shadow step.
    ShadowStages {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "pre-prod")]
        stage: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Train a model on the dataset READY announced with the pipeline's
    /// hyperparameters (and EXTRA_ROUNDS more boosting rounds), register and
    /// approve it, and write the registry's approval event to EVENT.
    Candidate {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 0)]
        extra_rounds: u32,
        #[arg(long, value_name = "DIR")]
        work_dir: PathBuf,
        #[arg(long)]
        event: PathBuf,
        /// The dataset's HousingDatasetReady (as `summary --save-event` saved it).
        ready: PathBuf,
    },
    /// Move the start of `stage`'s shadow test back by its duration (as if it
    /// had passed).
    ShadowClock {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "pre-prod")]
        stage: String,
        /// The stages file promote-model runs with.
        #[arg(long)]
        stages: PathBuf,
    },
    /// Print the shadow tests' verdicts; fails unless the first candidate
    /// passed and serves the stage alone and the second was rejected.
    Shadow {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "pre-prod")]
        stage: String,
        /// promote-model's responses to the ticks that judged them.
        #[arg(required = true)]
        responses: Vec<PathBuf>,
    },
    /// Print, per function, the calls moto's IAM engine allowed its role and
    /// the granted actions no call used (candidates to remove); fails if moto
    /// denied any call.
    Permissions {
        #[command(flatten)]
        target: Target,
        /// moto's decisions (scripts/moto_server.py --authorizations).
        authorizations: PathBuf,
    },
}

impl Command {
    pub fn target(&self) -> &Target {
        match self {
            Command::Up { target, .. }
            | Command::Upload { target, .. }
            | Command::Summary { target, .. }
            | Command::Training { target, .. }
            | Command::Pipeline { target, .. }
            | Command::Promotion { target, .. }
            | Command::Predictions { target, .. }
            | Command::ScoreFile { target, .. }
            | Command::Transform { target, .. }
            | Command::Scoring { target, .. }
            | Command::Drift { target, .. }
            | Command::Traffic { target, .. }
            | Command::Monitor { target, .. }
            | Command::Scaling { target, .. }
            | Command::SleepingStages { target, .. }
            | Command::Sleeping { target, .. }
            | Command::ShadowStages { target, .. }
            | Command::Candidate { target, .. }
            | Command::ShadowClock { target, .. }
            | Command::Shadow { target, .. }
            | Command::Permissions { target, .. } => target,
        }
    }
}
