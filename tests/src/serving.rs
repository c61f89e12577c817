//! A model really deployed on the local stack, for predict's tests: the real
//! data through the ETL, an XGBoost model trained on its channels by the local
//! training script, registered, approved and deployed by promote-model.

use crate::{housing_head, python_json, read_json, run_etl, Function, LocalOutput, TestEnv};
use lambda_runtime::{Context, LambdaEvent};
use local_stack::functions::{lookup, sdk_config_of};
use local_stack::predictions::{held_out, Held};
use local_stack::xgboost::Training;
use serde_json::json;
use shared::config::Config;
use shared::dataset::{DatasetLayout, OutputKind, Source};
use shared::promotion::config::PromoteConfig;
use shared::promotion::PromotionService;
use shared::serving::service::PredictService;
use std::path::{Path, PathBuf};

/// predict's test environment, which the serving fixtures deploy to.
pub type Env = TestEnv<PredictService>;

/// What a test deployed: the dataset the model was trained on, its test rows
/// as records, and the model's archive.
pub struct Deployed {
    pub output: LocalOutput,
    /// The test split's rows as prediction records, with their true values.
    pub held: Vec<Held>,
    model: tempfile::TempDir,
}

impl Deployed {
    /// The model's archive (`model.tar.gz`, `xgboost-model` in it).
    pub fn archive(&self) -> PathBuf {
        self.model.path().join("model.tar.gz")
    }

    /// The ETL's XGBoost CSV rows of the test split, label removed.
    pub fn test_rows(&self) -> Vec<String> {
        let channel =
            String::from_utf8(self.output.read(OutputKind::TestXgboost).unwrap()).unwrap();
        channel
            .lines()
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    }
}

/// The first `rows` rows of the real data through the ETL (its outputs where
/// the ETL puts them), an XGBoost model trained on the training channel with
/// its first `features` features (16: all of them) by the local training
/// script, registered as version 1 of the stack's group, approved and deployed
/// to dev by promote-model.
pub async fn deploy(env: &Env, rows: usize, features: usize) -> Deployed {
    deploy_on(env, &env.service.config.layout, rows, features).await
}

/// [`deploy`] on any function's test stack, the dataset's outputs put where
/// `layout` says.
pub async fn deploy_on<S>(
    env: &TestEnv<S>,
    layout: &DatasetLayout,
    rows: usize,
    features: usize,
) -> Deployed {
    let (deployed, arn) = train_on(env, layout, rows, features).await;
    promote_to_dev(env, &arn).await;
    deployed
}

/// [`deploy_on`] up to the approval: the model trained, registered and
/// approved, not deployed. Returns it with its package's ARN.
pub async fn train_on<S>(
    env: &TestEnv<S>,
    layout: &DatasetLayout,
    rows: usize,
    features: usize,
) -> (Deployed, String) {
    let small = housing_head(rows);
    let output = run_etl(small.as_bytes(), &Source::default(), &Default::default()).unwrap();
    let id = output.report.dataset_id.clone();
    for kind in output.kinds() {
        if kind == OutputKind::Quarantine {
            continue;
        }
        let at = layout.output(&id, kind);
        env.put(&at.bucket, &at.key, output.read(kind).unwrap())
            .await;
    }
    let held = held_out(
        small.as_bytes(),
        &output.read(OutputKind::TestParquet).unwrap(),
    )
    .unwrap();

    let model = tempfile::tempdir().unwrap();
    let dir = model.path();
    for (channel, kind) in [
        ("train", OutputKind::TrainXgboost),
        ("validation", OutputKind::ValidationXgboost),
    ] {
        let csv = String::from_utf8(output.read(kind).unwrap()).unwrap();
        let kept: String = csv
            .lines()
            .map(|l| {
                l.split(',')
                    .take(1 + features)
                    .collect::<Vec<_>>()
                    .join(",")
                    + "\n"
            })
            .collect();
        std::fs::create_dir_all(dir.join(channel)).unwrap();
        std::fs::write(dir.join(channel).join("data.csv"), kept).unwrap();
    }
    let training = Training::in_folder(dir);
    let params =
        json!({"num_round": "30", "max_depth": "5", "eta": "0.3", "objective": "reg:squarederror"});
    std::fs::write(&training.hyperparameters, params.to_string()).unwrap();
    training.run(&local_stack::python()).unwrap();

    // Where the stack's registration points the package's ModelDataUrl.
    let stack = &env.stack;
    let key = format!("models/{id}/model.tar.gz");
    env.put(
        &stack.processed_bucket,
        &key,
        std::fs::read(&training.archive).unwrap(),
    )
    .await;
    let execution = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/predict";
    let arn = stack
        .register_model(&env.clients, 0.5, &id.to_string(), execution)
        .await
        .unwrap();
    stack.approve(&env.clients, &arn).await.unwrap();
    let deployed = Deployed {
        output,
        held,
        model,
    };
    (deployed, arn)
}

/// The model's own scores of CSV feature rows (the booster loaded here, not
/// through the endpoint server).
pub fn model_scores(archive: &Path, rows: &[String]) -> Vec<f64> {
    let script = r#"
import json, sys, tarfile, tempfile, os
import numpy as np, xgboost as xgb
with tempfile.TemporaryDirectory() as d:
    tarfile.open(sys.argv[1]).extractall(d)
    booster = xgb.Booster(); booster.load_model(os.path.join(d, "xgboost-model"))
rows = [[float(v) for v in line.split(",")] for line in sys.stdin.read().splitlines()]
print(json.dumps(booster.predict(xgb.DMatrix(np.array(rows, dtype=np.float32, ndmin=2))).tolist()))
"#;
    let scores = python_json(script, &[archive.as_os_str()], rows.join("\n").as_bytes());
    serde_json::from_value(scores).unwrap()
}

/// A package of the stack's group whose lineage names `dataset_id` (its
/// archive is not uploaded: the endpoint cannot score), approved and deployed
/// to dev by promote-model. Returns the package's ARN.
pub async fn deploy_unscored<S>(env: &TestEnv<S>, dataset_id: &str) -> String {
    let stack = &env.stack;
    stack
        .create_model_package_group(&env.clients)
        .await
        .unwrap();
    let execution = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/unscored";
    let arn = stack
        .register_model(&env.clients, 0.5, dataset_id, execution)
        .await
        .unwrap();
    stack.approve(&env.clients, &arn).await.unwrap();
    promote_to_dev(env, &arn).await;
    arn
}

/// promote-model's answer to the approval of `arn`: deploying to dev.
async fn promote_to_dev<S>(env: &TestEnv<S>, arn: &str) {
    let stack = &env.stack;
    let environment = env.environment_of(Function::PromoteModel);
    let promotion = PromotionService::new(
        &sdk_config_of(&environment).await,
        PromoteConfig::from_lookup(lookup(&environment)).unwrap(),
    );
    let mut event = read_json("events/promote-model/model-package-approved.json");
    event["resources"] = json!([arn]);
    event["detail"]["ModelPackageGroupName"] = stack.model_package_group().into();
    event["detail"]["ModelPackageArn"] = arn.into();
    let out = promote_model::handle(&promotion, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(out["status"], "deploying", "{out}");
    assert_eq!(out["stage"], "dev", "{out}");
}
