//! `local-stack`: the main job's helper for the local AWS stack (moto). Each
//! command talks to the moto at `--endpoint` and the stack called `--name`;
//! `local-stack help` lists them, `local-stack help <command>` tells one.
//! The checking commands (`summary`, `training`, `pipeline`, `promotion`,
//! `predictions`, `scoring`, `drift`, `traffic`, `monitor`, `permissions`) exit 1 when the
//! chain did not behave.

use anyhow::{ensure, Context, Result};
use checks::{
    drift, monitor, permissions, predictions, promotion, scaling, score_file, scoring, sleeping,
    sleeping_stages, summary, traffic, training, transform,
};
use clap::{Args, Parser, Subcommand};
use local_stack::functions::RUNTIME_ENDPOINT_VARIABLE;
use local_stack::{sdk_config, Clients, Function, Stack};
use serde_json::Value;
use std::path::PathBuf;

mod checks;

#[derive(Parser)]
#[command(
    name = "local-stack",
    about = "Sets up the local AWS stack (moto), feeds it, and checks what each function did"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
struct Target {
    /// moto's address (the READY line of scripts/moto_server.py).
    #[arg(long, value_name = "URL", value_parser = endpoint_url)]
    endpoint: String,
    /// The stack's name: every resource is named from it.
    #[arg(long)]
    name: String,
}

#[derive(Subcommand)]
enum Command {
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
    fn target(&self) -> &Target {
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
            | Command::Permissions { target, .. } => target,
        }
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli.command).await {
        eprintln!("local-stack: {e:#}");
        std::process::exit(1);
    }
}

async fn run(command: Command) -> Result<()> {
    let target = command.target();
    let endpoint = target.endpoint.clone();
    let clients = Clients::new(&sdk_config(&endpoint).await);
    let mut stack = Stack::named(&target.name);
    match &command {
        Command::Up {
            env_dir,
            runtime_endpoint,
            ..
        } => {
            stack = stack.create(&clients, true).await?;
            let pipeline = stack.create_pipeline(&clients).await?;
            stack.create_model_package_group(&clients).await?;
            // The bundled stages, awake at any hour: the main job's steps must
            // not depend on when it runs (the sleeping step has its own window).
            let stages_file = env_dir.join("stages.yaml");
            let awake = shared::stages::Stages::parse(shared::stages::BUNDLED)?.always_awake();
            std::fs::write(&stages_file, serde_norway::to_string(&awake)?)?;
            for function in Function::ALL {
                let mut env = stack.function_env(function, &endpoint);
                if function != Function::Etl {
                    env.push(("STAGES_FILE".into(), stages_file.display().to_string()));
                }
                // predict and the trigger's model-quality check call endpoints.
                if matches!(function, Function::Predict | Function::StartPipeline) {
                    env.push((RUNTIME_ENDPOINT_VARIABLE.into(), runtime_endpoint.clone()));
                }
                let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
                std::fs::write(env_dir.join(format!("{}.env", function.name())), text)?;
            }
            // The operators' role (the template's OperatorPolicy), for `housing-mlops`.
            let operator = stack.create_operator(&clients).await?;
            let text: String = operator
                .variables()
                .iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect();
            std::fs::write(env_dir.join("operator.env"), text)?;
            println!(
                "  stack up: buckets {}, {}, {}; bus {}; Glue database {}; queue for the suite's events",
                stack.raw_bucket, stack.processed_bucket, stack.quarantine_bucket, stack.bus, stack.glue_database
            );
            println!("  SageMaker pipeline {pipeline} (definition generated by shared::training::definition)");
            println!("  model package group {}", stack.model_package_group());
            // The queue URL is found again by name in `summary` and `training`.
            Ok(())
        }
        Command::Upload { file, key, .. } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let size = bytes.len();
            stack.upload(&clients, key, bytes).await?;
            println!(
                "  uploaded {} ({size} bytes) to s3://{}/{key}",
                file.display(),
                stack.raw_bucket
            );
            Ok(())
        }
        Command::Pipeline {
            work_dir,
            report,
            trigger_response,
            ..
        } => {
            let run = checks::pipeline(&clients, work_dir, trigger_response).await?;
            if let Some(path) = report {
                std::fs::write(path, serde_json::to_vec_pretty(&run)?)?;
            }
            let arn = run.model_package_arn.as_deref().context("no package")?;
            approve(&stack, &clients, arn).await
        }
        Command::Summary {
            save_event,
            responses,
            ..
        } => {
            stack.queue_url = queue_url(&stack, &clients).await?;
            summary(&stack, &clients, responses, save_event.as_deref()).await
        }
        Command::Training { responses, .. } => {
            stack.queue_url = queue_url(&stack, &clients).await?;
            training(&stack, &clients, responses).await
        }
        Command::Promotion { responses, .. } => {
            stack.queue_url = queue_url(&stack, &clients).await?;
            promotion(&stack, &clients, responses).await
        }
        Command::Predictions {
            api,
            rows,
            response,
            ..
        } => predictions(&stack, &clients, api, response, *rows).await,
        Command::ScoreFile {
            stage, key, out, ..
        } => score_file(&stack, &clients, stage, key, out).await,
        Command::Transform {
            event, response, ..
        } => transform(&endpoint, response, event),
        Command::Scoring { responses, .. } => {
            stack.queue_url = queue_url(&stack, &clients).await?;
            scoring(&stack, &clients, responses).await
        }
        Command::Drift {
            shifted, resampled, ..
        } => {
            stack.queue_url = queue_url(&stack, &clients).await?;
            drift(&stack, &clients, shifted, resampled).await
        }
        Command::Traffic { api, ready, .. } => traffic(&stack, &clients, api, ready).await,
        Command::Monitor { responses, .. } => {
            stack.queue_url = queue_url(&stack, &clients).await?;
            monitor(&stack, &clients, responses).await
        }
        Command::Scaling { api, stage, .. } => scaling(&clients, api, stage).await,
        Command::SleepingStages { stage, out, .. } => sleeping_stages(stage, out),
        Command::Sleeping {
            stage, responses, ..
        } => sleeping(&clients, stage, responses).await,
        Command::Permissions { authorizations, .. } => permissions(&stack, authorizations),
    }
}

/// The stack's event queue, found by name (`up` created it).
async fn queue_url(stack: &Stack, clients: &Clients) -> Result<String> {
    let queue = clients
        .sqs
        .get_queue_url()
        .queue_name(format!("{}-events", stack.bus))
        .send()
        .await?;
    Ok(queue.queue_url().unwrap_or_default().to_string())
}

/// Approves the package the pipeline registered, and checks the sample
/// approval event names it.
async fn approve(stack: &Stack, clients: &Clients, arn: &str) -> Result<()> {
    stack.approve(clients, arn).await?;
    println!("  approved {arn}");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(
        local_stack::repo_root().join("events/promote-model/model-package-approved.json"),
    )?)?;
    ensure!(
        sample["detail"]["ModelPackageArn"] == arn,
        "events/promote-model/model-package-approved.json names {}, but the registry made {arn}",
        sample["detail"]["ModelPackageArn"]
    );
    Ok(())
}
