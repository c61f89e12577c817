//! Batch scoring end to end on the local stack (issue 30): a file of the
//! real data's held-out rows lands under `score/`; the scoring prepares it
//! and starts a Batch Transform job on the model dev serves (really trained
//! here); the job runs as SageMaker would (local-stack's transform runner,
//! the real XGBoost); its end joins every prediction back to its row, and the
//! predictions are the model's own scores. Duplicate deliveries and job
//! events are no-ops, a file that cannot be scored and a job whose answers do
//! not match end in `BatchScoringFailed`, and the scheduled check finishes a
//! run whose job event was lost.
//!
//! The service runs as the score function's role (the template's policies,
//! moto enforcing IAM), and the file's and the job's events go through the
//! function's handler. moto differs from SageMaker twice: it calls a transform job Completed at
//! once and runs nothing (local-stack's runner does the work), and a second
//! `CreateTransformJob` of the same name overwrites the first where SageMaker
//! answers `ResourceInUse` (the service describes before it creates and takes
//! either answer as "there").

use integration_tests::serving::{deploy_on, model_scores};
use integration_tests::{read_json, shared_moto, Setup};
use lambda_runtime::{Context, LambdaEvent};
use polars::prelude::*;
use serde_json::{json, Value};
use shared::aws::S3Location;
use shared::contract::{NUMERIC_COLUMNS, OCEAN_PROXIMITY, TARGET};
use shared::events::s3::ObjectCreated;
use shared::events::scoring::{BatchScored, BATCH_SCORED, BATCH_SCORING_FAILED};
use shared::features::INPUTS;
use shared::scoring::config::ScoringConfig;
use shared::scoring::layout::{ScoreId, ScoreLayout};
use shared::scoring::outcome::Outcome;
use shared::scoring::run::{Ending, ScoreReport};
use shared::scoring::service::ScoringService;
use std::io::Cursor;

/// The score function's handler, as Lambda invokes it.
async fn invoke(
    service: &ScoringService,
    event: Value,
) -> Result<Value, lambda_runtime::Diagnostic> {
    // Boxed: the handler's future is large in a debug build.
    Box::pin(score::handle(
        service,
        LambdaEvent::new(event, Context::default()),
    ))
    .await
}

/// A file created at `at`, as an event announces it.
fn created_at(at: &S3Location) -> ObjectCreated {
    ObjectCreated::at(&at.bucket, &at.key)
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_held_out_file_is_scored_by_the_serving_model_once_and_joined_back() {
    let env = Setup::new("scoring")
        .var("SCORING_STAGE", "dev")
        .scoring()
        .await;
    let service = &env.service;
    let deployed = deploy_on(&env, &service.config.layout, 1500, 16).await;
    let moto = shared_moto();

    // The held-out rows as a provider sends them, with their true values.
    let columns: Vec<&str> = NUMERIC_COLUMNS[..INPUTS]
        .iter()
        .map(|c| c.name)
        .chain([OCEAN_PROXIMITY, TARGET])
        .collect();
    let mut file = columns.join(",") + "\n";
    for held in &deployed.held {
        let row: Vec<String> = columns[..columns.len() - 1]
            .iter()
            .map(|c| cell(held.record.get(*c).unwrap_or(&Value::Null)))
            .chain([held.target.to_string()])
            .collect();
        file.push_str(&row.join(","));
        file.push('\n');
    }
    let object = S3Location::new(&env.stack.raw_bucket, "score/2026-12/held out.csv");
    env.stack
        .upload(&env.clients, &object.key, file.clone().into_bytes())
        .await
        .unwrap();

    // Through the handler: the file's creation as S3 announces it on EventBridge
    // (the key form-URL-encoded).
    let mut created = read_json("events/score/file-created.eventbridge.json");
    created["detail"]["bucket"]["name"] = json!(object.bucket);
    created["detail"]["object"]["key"] = json!("score/2026-12/held+out.csv");
    let out = invoke(service, created).await.unwrap();
    let started = &out["outcomes"][0]["started"];
    let (id, job) = (
        started["id"].as_str().unwrap().to_string(),
        started["job"].as_str().unwrap().to_string(),
    );
    let id: ScoreId = id.parse().unwrap();
    // A duplicate delivery of the same bytes, under another key too.
    let copy = S3Location::new(&env.stack.raw_bucket, "score/again.csv");
    env.stack
        .upload(&env.clients, &copy.key, file.clone().into_bytes())
        .await
        .unwrap();
    for at in [&object, &copy] {
        assert_eq!(
            service.start(&created_at(at)).await.unwrap(),
            Outcome::AlreadyStarted {
                id: id.to_string(),
                job: job.clone()
            }
        );
    }
    let ran = local_stack::transform::run(&moto, &job).unwrap();
    assert_eq!((ran.objects, ran.lines), (1, deployed.held.len() as u64));

    // Through the handler: SageMaker's state change of the job; a job still
    // running is waited for.
    let mut ended = read_json("events/score/transform-job-completed.json");
    ended["detail"]["TransformJobName"] = json!(job);
    ended["detail"]["TransformJobStatus"] = json!("InProgress");
    let out = invoke(service, ended.clone()).await.unwrap();
    assert!(out["outcomes"][0]["waiting"].is_object(), "{out}");
    ended["detail"]["TransformJobStatus"] = json!("Completed");
    let out = invoke(service, ended).await.unwrap();
    let scored: BatchScored = serde_json::from_value(out["outcomes"][0]["scored"].clone()).unwrap();
    assert_eq!(scored.rows_scored, deployed.held.len() as u64);
    assert_eq!(scored.rows_quarantined, 0);
    assert_eq!(scored.model.stage, "dev");

    // The predictions are the model's own scores of the training features.
    let layout = ScoreLayout {
        bucket: env.stack.processed_bucket.clone(),
        id: id.clone(),
    };
    let at = layout.predictions_parquet();
    let parquet = env
        .stack
        .get(&env.clients, &at.bucket, &at.key)
        .await
        .unwrap();
    let frame = ParquetReader::new(Cursor::new(parquet)).finish().unwrap();
    let predicted: Vec<f64> = frame
        .column("prediction")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let expected = model_scores(&deployed.archive(), &deployed.test_rows());
    assert_eq!(predicted, expected);
    let n = expected.len() as f64;
    let rmse = (deployed
        .held
        .iter()
        .zip(&expected)
        .map(|(h, p)| (h.target - p).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!(
        (scored.rmse.unwrap() - rmse).abs() < 1e-6 * rmse,
        "{:?} vs {rmse}",
        scored.rmse
    );

    let report: ScoreReport = serde_json::from_slice(
        &env.stack
            .get(&env.clients, &layout.report().bucket, &layout.report().key)
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(matches!(report.ending, Ending::Scored { .. }), "{report:?}");
    let events = env.events().await;
    let published: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == BATCH_SCORED)
        .collect();
    assert_eq!(published.len(), 1, "{events:?}");
    assert_eq!(published[0]["detail"]["rows_scored"], scored.rows_scored);

    // Over: every later delivery and job event is a no-op.
    assert_eq!(
        service.finish(&job).await.unwrap(),
        Outcome::AlreadyDone { id: id.to_string() }
    );
    assert_eq!(
        service.start(&created_at(&object)).await.unwrap(),
        Outcome::AlreadyDone { id: id.to_string() }
    );
    assert!(matches!(
        service.finish("someone-elses-job").await.unwrap(),
        Outcome::Ignored(_)
    ));
    let outside = S3Location::new(&env.stack.raw_bucket, "data/housing.csv");
    assert!(matches!(
        service.start(&created_at(&outside)).await.unwrap(),
        Outcome::Ignored(_)
    ));

    // A file without an input column: refused, said, and over.
    let bad = S3Location::new(&env.stack.raw_bucket, "score/bad.csv");
    let header_only = b"longitude,latitude\n-122,37\n".to_vec();
    env.stack
        .upload(&env.clients, &bad.key, header_only)
        .await
        .unwrap();
    let Outcome::Failed(failed) = service.start(&created_at(&bad)).await.unwrap() else {
        panic!("not failed");
    };
    assert_eq!(failed.reason, "rejected");
    assert!(
        failed.message.contains("lacks housing_median_age"),
        "{}",
        failed.message
    );
    assert!(matches!(
        service.start(&created_at(&bad)).await.unwrap(),
        Outcome::AlreadyDone { .. }
    ));

    // The first `rows` rows of the file, under `key`: started, its job and layout.
    let start_rows = |key: &'static str, rows: usize| {
        let (env, file, layout) = (&env, &file, &layout);
        async move {
            let head: String = file
                .lines()
                .take(rows + 1)
                .map(|l| format!("{l}\n"))
                .collect();
            env.stack
                .upload(&env.clients, key, head.into_bytes())
                .await
                .unwrap();
            let at = S3Location::new(&env.stack.raw_bucket, key);
            let Outcome::Started { job, id } = service.start(&created_at(&at)).await.unwrap()
            else {
                panic!("{key} not started");
            };
            (
                job,
                ScoreLayout {
                    id: id.parse().unwrap(),
                    ..layout.clone()
                },
            )
        }
    };
    let count =
        |outcomes: &[Outcome], f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();

    // A job whose answers stop short: the run fails, saying so.
    let (short_job, short) = start_rows("score/short.csv", 2).await;
    let one_answer = b"{\"predictions\": [{\"score\": 1.0}]}\n".to_vec();
    let at = short.transform_output();
    env.stack
        .put(&env.clients, &at.bucket, &at.key, one_answer)
        .await
        .unwrap();
    let Outcome::Failed(failed) = service.finish(&short_job).await.unwrap() else {
        panic!("not failed");
    };
    assert_eq!(failed.reason, "output_mismatch");

    // A lost job event: the scheduled check finishes the run.
    let (later_job, _) = start_rows("score/later.csv", 3).await;
    local_stack::transform::run(&moto, &later_job).unwrap();
    let out = invoke(service, read_json("events/score/scheduled.json"))
        .await
        .unwrap();
    let outcomes = out["outcomes"].as_array().unwrap();
    let kinds = |kind: &str| outcomes.iter().filter(|o| o.get(kind).is_some()).count();
    assert_eq!((kinds("scored"), kinds("already_done")), (1, 3), "{out}");

    // A hand-edited run record halts that run loudly (not retried), and the
    // check goes on with the others.
    let (edited_job, edited) = start_rows("score/edited.csv", 5).await;
    let at = edited.run();
    env.stack
        .put(
            &env.clients,
            &at.bucket,
            &at.key,
            b"{\"score_id\": 7}".to_vec(),
        )
        .await
        .unwrap();
    let e = service.finish(&edited_job).await.unwrap_err();
    assert!(
        !e.retryable() && e.to_string().contains("is not a scoring record"),
        "{e}"
    );
    let outcomes = service.check().await.unwrap();
    assert_eq!(
        count(&outcomes, |o| matches!(o, Outcome::Errored { .. })),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        count(&outcomes, |o| matches!(o, Outcome::AlreadyDone { .. })),
        4,
        "{outcomes:?}"
    );
    // The tick's invocation fails after the others ran: not retryable (a
    // record fixed by hand is finished by the next tick), and it names the run.
    let e = invoke(service, read_json("events/score/scheduled.json"))
        .await
        .unwrap_err();
    assert!(e.error_type.starts_with("NonRetryable."), "{e:?}");
    assert!(e.error_message.contains(edited.id.as_str()), "{e:?}");
    // An event the function does not handle: ignored, or refused (never retried).
    let other = read_json("events/promote-model/scheduled-tick.json");
    let out = invoke(service, other).await.unwrap();
    assert!(out["outcomes"][0]["ignored"].is_string(), "{out}");
    let e = invoke(service, json!({"check": "traffic"}))
        .await
        .unwrap_err();
    assert!(e.error_type.starts_with("NonRetryable."), "{e:?}");

    // A file above MAX_OBJECT_BYTES: refused unread, said, and nothing staged.
    let small = ScoringService {
        config: ScoringConfig {
            max_object_bytes: 100,
            ..service.config.clone()
        },
        s3: service.s3.clone(),
        sagemaker: service.sagemaker.clone(),
        events: service.events.clone(),
    };
    let runs = env.processed_keys().await;
    let large = S3Location::new(&env.stack.raw_bucket, "score/large.csv");
    env.put(&large.bucket, &large.key, file.clone().into_bytes())
        .await;
    let Outcome::Failed(refused) = small.start(&created_at(&large)).await.unwrap() else {
        panic!("not refused");
    };
    assert_eq!(
        (refused.reason.as_str(), refused.score_id.as_deref()),
        ("too_large", None)
    );
    assert!(
        refused.message.contains("above MAX_OBJECT_BYTES (100)"),
        "{}",
        refused.message
    );
    assert_eq!(env.processed_keys().await, runs, "nothing staged");

    let failures = env.events().await;
    assert_eq!(
        failures
            .iter()
            .filter(|e| e["detail-type"] == BATCH_SCORING_FAILED)
            .count(),
        3,
        "{failures:?}"
    );
}
