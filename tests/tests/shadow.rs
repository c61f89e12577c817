//! Shadow tests' parts on the local stack (issue 30): an endpoint config with a
//! shadow variant (SageMaker's `ShadowProductionVariants`), the local endpoint
//! server copying a share of the requests to the shadow variant's model and
//! answering with the production variant's only, both variants' answers
//! captured, and the capture read back and paired by request into the
//! comparison a shadow test is judged by. Two real models, trained here on
//! different rows of the data.
//!
//! moto implements no shadow variants: it drops `ShadowProductionVariants`
//! (scripts/moto_server.py keeps them and describes them back as SageMaker
//! does), and it runs no endpoint (the local endpoint server does).

use aws_sdk_sagemaker::types::{
    ContainerDefinition, ProductionVariant, ProductionVariantInstanceType,
};
use aws_smithy_types::Blob;
use integration_tests::serving::{deploy, model_scores, train_on};
use integration_tests::{sdk_config, shared_endpoint_server, Setup};
use shared::drift::traffic::read_answers;
use shared::events::promotion::VariantTraffic;
use shared::promotion::config::DataCapture;
use shared::promotion::endpoints::data_capture_config;
use shared::promotion::shadow::{compare, pair};
use shared::stages::shadow::ShadowTest;

/// The Model dev's endpoint serves now.
async fn dev_model(env: &integration_tests::serving::Env) -> String {
    let sagemaker = &env.clients.sagemaker;
    let endpoint = &env.service.config.stage.endpoint;
    let described = sagemaker
        .describe_endpoint()
        .endpoint_name(endpoint)
        .send()
        .await
        .unwrap();
    let config = sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(described.endpoint_config_name().unwrap())
        .send()
        .await
        .unwrap();
    let model = config.production_variants()[0].model_name().unwrap();
    model.to_string()
}

fn variant(name: &str, model: &str, weight: f32) -> ProductionVariant {
    ProductionVariant::builder()
        .variant_name(name)
        .model_name(model)
        .initial_variant_weight(weight)
        .instance_type(ProductionVariantInstanceType::MlM5Large)
        .initial_instance_count(1)
        .build()
}

#[tokio::test]
async fn a_shadow_variant_gets_its_share_of_the_requests_answers_nobody_and_is_captured() {
    let env = Setup::new("shadow")
        .var("SERVING_STAGE", "dev")
        .predict()
        .await;
    // Two models of the same features: the one dev serves, and a candidate
    // trained on fewer rows, registered and approved (moto runs no
    // UpdateEndpoint: it is not deployed, its Model is made here).
    let serving = deploy(&env, 1500, 16).await;
    let serving_model = dev_model(&env).await;
    let (candidate, arn) = train_on(&env, &env.service.config.layout, 600, 16).await;
    let candidate_model = format!("{}-candidate", env.stack.name);
    env.clients
        .sagemaker
        .create_model()
        .model_name(&candidate_model)
        .execution_role_arn(local_stack::SAGEMAKER_ROLE)
        .containers(
            ContainerDefinition::builder()
                .model_package_name(&arn)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // An endpoint whose production variant is the serving model, with the
    // candidate in shadow on half the requests, capturing every request.
    let sagemaker = &env.clients.sagemaker;
    let (endpoint, config) = (
        format!("{}-shadowed", env.stack.name),
        format!("{}-shadowed-1", env.stack.name),
    );
    let capture = DataCapture {
        uri: env.stack.data_capture_uri(),
        kms_key_arn: None,
    };
    sagemaker
        .create_endpoint_config()
        .endpoint_config_name(&config)
        .production_variants(variant("AllTraffic", &serving_model, 1.0))
        .shadow_production_variants(variant("Shadow", &candidate_model, 0.5))
        .data_capture_config(data_capture_config(&capture, 100))
        .send()
        .await
        .unwrap();
    let described = sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.shadow_production_variants()[0].model_name(),
        Some(candidate_model.as_str()),
        "the harness's moto keeps the shadow variant"
    );
    sagemaker
        .create_endpoint()
        .endpoint_name(&endpoint)
        .endpoint_config_name(&config)
        .send()
        .await
        .unwrap();

    // Twenty requests of one row each: every answer is the serving model's.
    let rows: Vec<String> = serving.test_rows().into_iter().take(20).collect();
    let runtime =
        aws_sdk_sagemakerruntime::Client::new(&sdk_config(&shared_endpoint_server()).await);
    let serving_scores = model_scores(&serving.archive(), &rows);
    let candidate_scores = model_scores(&candidate.archive(), &rows);
    assert_ne!(serving_scores, candidate_scores, "two different models");
    for (row, expected) in rows.iter().zip(&serving_scores) {
        let answer = runtime
            .invoke_endpoint()
            .endpoint_name(&endpoint)
            .content_type("text/csv")
            .accept("application/json")
            .body(Blob::new(format!("{row}\n")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.invoked_production_variant(), Some("AllTraffic"));
        let body: serde_json::Value =
            serde_json::from_slice(answer.body().unwrap().as_ref()).unwrap();
        assert_eq!(body["predictions"][0]["score"].as_f64(), Some(*expected));
    }

    // Both variants' answers, read back from the capture.
    let answers = |variant: &'static str| {
        let (env, endpoint) = (&env, &endpoint);
        async move {
            let prefix = format!("data-capture/{endpoint}/{variant}/");
            let keys: Vec<String> = env
                .processed_keys()
                .await
                .into_iter()
                .filter(|k| k.starts_with(&prefix))
                .collect();
            let mut answers = Vec::new();
            for key in keys {
                let body = env
                    .stack
                    .get(&env.clients, &env.stack.processed_bucket, &key)
                    .await
                    .unwrap();
                for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    answers.extend(read_answers(line).unwrap());
                }
            }
            answers
        }
    };
    let (production, shadow) = (answers("AllTraffic").await, answers("Shadow").await);
    assert_eq!((production.len(), shadow.len()), (20, 10));
    for (row, score) in &shadow {
        let i = rows.iter().position(|r| r == row).unwrap();
        assert_eq!(
            *score, candidate_scores[i],
            "row {i}: the candidate's answer"
        );
    }

    // Paired by request: the comparison a shadow test is judged by.
    let pairs = pair(production, shadow);
    assert_eq!(pairs.len(), 10);
    for (s, c) in &pairs {
        let i = serving_scores.iter().position(|x| x == s).unwrap();
        assert_eq!(*c, candidate_scores[i]);
    }
    let limits = ShadowTest {
        sample_percent: 50,
        duration_seconds: 600,
        min_requests: 10,
        max_latency_ratio: 1.5,
        max_error_rate: 0.0,
        max_prediction_delta: 10.0,
    };
    let traffic = |invocations| VariantTraffic {
        invocations,
        errors: 0,
        latency_mean_ms: Some(5.0),
    };
    let comparison = compare(&pairs, traffic(20), traffic(10), &limits);
    assert_eq!(comparison.compared, 10);
    assert!(comparison.crossed.is_empty(), "{:?}", comparison.crossed);
    let mut deltas: Vec<f64> = pairs.iter().map(|(s, c)| ((c - s) / s).abs()).collect();
    deltas.sort_by(f64::total_cmp);
    let delta = comparison.prediction_delta.unwrap();
    assert_eq!((delta.p90, delta.max), (deltas[8], deltas[9]));
    // The same candidate against a tight limit on its predictions: rejected, said.
    let tight = ShadowTest {
        max_prediction_delta: deltas[8] / 2.0,
        ..limits
    };
    let rejected = compare(&pairs, traffic(20), traffic(10), &tight);
    assert_eq!(rejected.crossed.len(), 1, "{:?}", rejected.crossed);
    assert!(rejected.crossed[0].contains("p90 relative prediction difference"));
}
