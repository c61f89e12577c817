//! `housing-mlops status`, `promote` and `drift` as an operator runs them, against a local
//! stack on moto: the binary finds the stack by name through CloudFormation (the local stack
//! registers its outputs there as the template declares them), signs with the default
//! credential chain (here the keys of the stack's operator role, which carries the template's
//! `OperatorPolicy` and nothing more, moto enforcing it) and reads what the functions wrote.

use integration_tests::serving::deploy_unscored;
use integration_tests::{shared_moto, Setup, TestEnv, REGION};
use lambda_runtime::{Context, LambdaEvent};
use local_stack::roles::{assume_new_role, RoleCredentials};
use serde_json::{json, Value};
use shared::events::scoring::ScoringModel;
use shared::promotion::PromotionService;
use shared::scoring::layout::ScoreLayout;
use shared::scoring::prepare::Prepared;
use shared::scoring::run::{Ending, EvaluationRecord, ScoreReport};
use std::process::{Command, Output};

const SERVED: &str = "ds-0123456789abcdef0123456789abcdef";
const NEWER: &str = "ds-fedcba9876543210fedcba9876543210";

/// `housing-mlops <args>` on `env`'s stack, signed as its operator role: the template's
/// `OperatorPolicy` and nothing more, enforced by moto.
fn cli(env: &TestEnv<PromotionService>, role: &RoleCredentials, args: &[&str]) -> Output {
    operator(env, args)
        .envs(role.variables())
        .arg("--stack")
        .arg(&env.stack.name)
        .output()
        .expect("housing-mlops runs")
}

/// `housing-mlops <args>` on `env`'s moto with `env`'s stages, signed as the local
/// administrator (allowed everything) unless its caller sets other keys.
fn operator(env: &TestEnv<PromotionService>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_housing-mlops"));
    command
        .args(args)
        .arg("--endpoint-url")
        .arg(shared_moto())
        .arg("--stages")
        .arg(env.stages_file())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    command
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A drift report as the checks write it: median_income drifted on PSI.
fn report(baseline: &str, current: &str) -> Value {
    let column = |psi: f64, crossed: Value| {
        json!({"scores": {"psi": psi, "js": 0.01, "ks": 0.05},
               "thresholds": {"psi": 0.2, "js": 0.1, "ks": 0.1}, "crossed": crossed})
    };
    json!({
        "schema_version": 1, "baseline": baseline, "current": current, "rows": 500,
        "columns": {"median_income": column(0.3, json!(["psi"])), "housing_median_age": column(0.01, json!([]))},
        "drifted": ["median_income"],
    })
}

async fn put(env: &TestEnv<PromotionService>, key: &str, body: &Value) {
    let bytes = serde_json::to_vec_pretty(body).unwrap();
    env.put(&env.stack.processed_bucket, key, bytes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_each_stage_and_drift_shows_the_reports() {
    let env = Setup::new("cli-status").promotion().await;
    let role = env.stack.create_operator(&env.clients).await.unwrap();
    deploy_unscored(&env, SERVED).await;
    let layout = env.stack.layout();
    let dev = format!("{}-dev", env.stack.name);
    let traffic = layout.traffic_report(&dev, "window-1");
    put(&env, &traffic.key, &report(SERVED, "window-1")).await;
    let dataset = layout.drift_report(&NEWER.parse().unwrap());
    let mut dataset_report = report(SERVED, NEWER);
    dataset_report["drifted"] = json!([]);
    dataset_report["columns"]["median_income"]["crossed"] = json!([]);
    put(&env, &dataset.key, &dataset_report).await;
    // Two scoring runs: the newer one's report is shown.
    let run = |id: &str, rows_scored: u64, rmse: f64| {
        let layout = ScoreLayout {
            bucket: env.stack.processed_bucket.clone(),
            id: id.parse().unwrap(),
        };
        let report = ScoreReport {
            score_id: id.to_string(),
            source: format!("s3://{}/score/{id}.csv", env.stack.raw_bucket),
            model: Some(ScoringModel {
                stage: "prod".into(),
                model_name: "m".into(),
                model_package_arn: "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3"
                    .into(),
                model_package_group: "g".into(),
                model_package_version: 3,
                dataset_id: Some(SERVED.into()),
            }),
            transform_job: Some(format!("stack-{id}")),
            rows: Some(Prepared {
                rows_in: rows_scored + 2,
                rows_scored,
                rows_quarantined: 2,
                ..Prepared::default()
            }),
            quarantine: Some(layout.quarantine().uri()),
            ending: Ending::Scored {
                predictions_parquet: layout.predictions_parquet().uri(),
                predictions_csv: layout.predictions_csv().uri(),
                evaluation: Some(EvaluationRecord {
                    rows: rows_scored,
                    rmse,
                    mae: rmse / 2.0,
                }),
            },
        };
        (layout.report().key, serde_json::to_value(report).unwrap())
    };
    let (older, newer) = (
        run("sc-00000000000000000000000000000001", 10, 1.0),
        run("sc-00000000000000000000000000000002", 2023, 46312.5),
    );
    put(&env, &older.0, &older.1).await;
    // S3's LastModified has a second's resolution.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    put(&env, &newer.0, &newer.1).await;

    let status = ok(&cli(&env, &role, &["status"]));
    assert!(
        status.contains(
            "latest batch scoring        sc-00000000000000000000000000000002: scored 2023 of 2025 rows by g v3 (prod), 2 quarantined; RMSE 46312.5000, MAE 23156.2500 on 2023 targets ("
        ),
        "{status}"
    );

    let group = env.stack.model_package_group();
    let dev_block = status
        .split(&format!("\ndev (endpoint {dev})\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{status}"));
    for expected in [
        format!("desired   {group} v1: deployed: the endpoint serves {dev}-v1-"),
        "(approval, ".to_string(),
        format!("serves    {group} v1, trained on {SERVED}, validation RMSE 0.5000"),
        "fleet     serverless, 2048 MB, up to 5 at once".to_string(),
        "traffic   drift in median_income (20".to_string(),
        format!(
            "s3://{}/{}",
            env.stack.processed_bucket,
            traffic.key.replace(".json", ".html")
        ),
    ] {
        assert!(
            dev_block.contains(&expected),
            "{expected:?} not in\n{status}"
        );
    }
    let pre_prod = status.split("\npre-prod (endpoint ").nth(1).unwrap();
    assert!(
        pre_prod.contains("desired   none (nothing requested yet)"),
        "{status}"
    );
    assert!(
        pre_prod.contains("endpoint  none (not deployed, or asleep)"),
        "{status}"
    );
    assert!(pre_prod.contains("traffic   no report yet"), "{status}");
    assert!(
        status.contains(&format!("latest dataset drift check  {NEWER}: no drift (")),
        "{status}"
    );

    // A stage's latest traffic window, summed up: the crossed score starred, the page named.
    let drift = ok(&cli(&env, &role, &["drift", "dev"]));
    assert!(
        drift.starts_with(&format!("{}: drift in median_income\n", traffic.uri())),
        "{drift}"
    );
    let line = drift
        .lines()
        .find(|l| l.starts_with("median_income"))
        .unwrap();
    assert!(line.contains("*0.300 / 0.20"), "{line}");
    assert!(line.contains(" 0.010 / 0.10"), "{line}");
    assert!(
        drift.contains(&format!(
            "page: s3://{}/{}",
            env.stack.processed_bucket,
            traffic.key.replace(".json", ".html")
        )),
        "{drift}"
    );
    // A dataset's, as stored.
    let json = ok(&cli(&env, &role, &["drift", NEWER, "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap(),
        dataset_report
    );

    let missing = failed(&cli(&env, &role, &["drift", SERVED]));
    assert!(
        missing.contains(&format!("dataset {SERVED} has no drift report")),
        "{missing}"
    );
    let none = failed(&cli(&env, &role, &["drift", "prod"]));
    assert!(none.contains("has no traffic drift report yet"), "{none}");
    let neither = failed(&cli(&env, &role, &["drift", "staging"]));
    assert!(
        neither.contains("staging is neither a stage (dev, pre-prod, prod) nor a dataset id"),
        "{neither}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_record_is_shown_and_the_other_stages_still_are() {
    let env = Setup::new("cli-corrupt").promotion().await;
    let role = env.stack.create_operator(&env.clients).await.unwrap();
    put(
        &env,
        "promotion/stages/pre-prod.json",
        &json!({"stage": "pre-prod"}),
    )
    .await;

    let status = ok(&cli(&env, &role, &["status"]));

    let pre_prod = status.split("\npre-prod (endpoint ").nth(1).unwrap();
    assert!(pre_prod.contains("desired   unreadable: "), "{status}");
    assert!(pre_prod.contains("not a desired-state record"), "{status}");
    assert!(status.contains("\nprod (endpoint "), "{status}");
    assert!(
        status.contains("latest batch scoring        none yet"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn promote_sends_the_command_promote_model_deploys() {
    let env = Setup::new("cli-promote").promotion().await;
    let role = env.stack.create_operator(&env.clients).await.unwrap();
    let arn = deploy_unscored(&env, SERVED).await;
    // What the bus delivers from the operator's source, to look at.
    let queue = env
        .clients
        .sqs
        .create_queue()
        .queue_name(format!("{}-operator", env.stack.name))
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap().to_string();
    let queue_arn = format!(
        "arn:aws:sqs:{REGION}:123456789012:{}-operator",
        env.stack.name
    );
    env.clients
        .events
        .put_rule()
        .name("operator-commands")
        .event_bus_name(&env.stack.bus)
        .event_pattern(json!({"source": ["housing-mlops.operator"]}).to_string())
        .send()
        .await
        .unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("queue")
        .arn(queue_arn)
        .build()
        .unwrap();
    env.clients
        .events
        .put_targets()
        .rule("operator-commands")
        .event_bus_name(&env.stack.bus)
        .targets(target)
        .send()
        .await
        .unwrap();
    let group = env.stack.model_package_group();

    let said = ok(&cli(&env, &role, &["promote", &group, "1", "pre-prod"]));

    assert!(said.contains(&format!("{group} v1 to pre-prod")), "{said}");
    let received = env
        .clients
        .sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap();
    let event: Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    assert_eq!(event["detail-type"], "PromoteModel");
    assert_eq!(event["detail"]["model_package_group"], group);
    assert_eq!(event["detail"]["model_package_version"], 1);
    assert_eq!(event["detail"]["target_stage"], "pre-prod");
    let asker = event["detail"]["requested_by"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        asker.starts_with("arn:aws:"),
        "the caller's identity: {asker}"
    );

    // promote-model takes it as it arrives: the stage's record names the package and the asker.
    let out = promote_model::handle(&env.service, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(out["stage"], "pre-prod", "{out}");
    let status = ok(&cli(&env, &role, &["status"]));
    let pre_prod = status.split("\npre-prod (endpoint ").nth(1).unwrap();
    assert!(
        pre_prod.contains(&format!("desired   {group} v1: "))
            && pre_prod.contains(&format!("(PromoteModel by {asker}, ")),
        "{status}"
    );

    // Refused before anything is sent.
    let stage = failed(&cli(&env, &role, &["promote", &group, "1", "staging"]));
    assert!(
        stage.contains("no stage staging (the stages are dev, pre-prod, prod)"),
        "{stage}"
    );
    let version = failed(&cli(&env, &role, &["promote", &group, "7", "prod"]));
    assert!(
        version.contains(&format!("no version 7 in model package group {group}")),
        "{version}"
    );
    env.stack
        .register_model(
            &env.clients,
            0.4,
            SERVED,
            "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/2",
        )
        .await
        .unwrap();
    let pending = failed(&cli(&env, &role, &["promote", &group, "2", "prod"]));
    assert!(
        pending.contains("is PendingManualApproval, not Approved"),
        "{pending}"
    );
    assert!(arn.ends_with("/1"), "{arn}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_what_is_missing() {
    let env = Setup::new("cli-missing").promotion().await;
    let exe = env!("CARGO_BIN_EXE_housing-mlops");
    let nowhere = tempfile::tempdir().unwrap();
    let no_file = nowhere.path().join("none");
    // A shell with no AWS settings at all: no keys, no profile files, no region.
    let bare = |args: &[&str]| {
        let mut command = Command::new(exe);
        command
            .args(args)
            .args(["--stack", &env.stack.name, "--endpoint-url", &shared_moto()])
            .env("AWS_CONFIG_FILE", &no_file)
            .env("AWS_SHARED_CREDENTIALS_FILE", &no_file)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ] {
            command.env_remove(var);
        }
        command
    };

    let region = failed(&bare(&["status"]).output().unwrap());
    assert!(region.contains("no AWS region"), "{region}");
    let credentials = failed(&bare(&["status", "--region", REGION]).output().unwrap());
    assert!(credentials.contains("no AWS credentials"), "{credentials}");

    // A role without the operators' policy: the refusal says which policy is missing.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]});
    let nobody = assume_new_role(&env.clients, "cli-nobody", &policy, "nobody")
        .await
        .unwrap();
    let refused = failed(&cli(&env, &nobody, &["status"]));
    assert!(
        refused.contains(&format!("describing stack {}: ", env.stack.name))
            && refused.contains("OperatorPolicyArn"),
        "{refused}"
    );

    let stack = operator(&env, &["status", "--stack", "no-such-stack"])
        .output()
        .unwrap();
    let stack = failed(&stack);
    assert!(
        stack.contains(&format!("no stack named no-such-stack in {REGION}")),
        "{stack}"
    );
}
