//! Each function runs under its own role, made from the template
//! (`local_stack::roles`), on a moto that enforces identity policies
//! (`scripts/moto_server.py`): what the template does not grant fails here as
//! it would on AWS. moto checks actions for every service and resources for S3
//! and SQS only; conditions, boundaries and resource policies are evaluated per
//! statement in `infra_iam.rs` (moto evaluates none of them).

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use integration_tests::template::{functions, template};
use integration_tests::{sdk_config, shared_moto, Function, Setup};
use local_stack::functions::sdk_config_of;
use serde_json::Value;
use shared::config::AwsSettings;

const PATH_STYLE: AwsSettings = AwsSettings {
    s3_force_path_style: true,
};

/// The error code of a failed call ("HTTP <status>" when the body names
/// none), or "allowed".
fn outcome<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> String
where
    SdkError<E, HttpResponse>: ProvideErrorMetadata,
{
    match result {
        Ok(_) => "allowed".into(),
        Err(e) => match e.code() {
            Some(code) => code.to_string(),
            None => format!(
                "HTTP {}",
                e.raw_response().map_or(0, |r| r.status().as_u16())
            ),
        },
    }
}

#[tokio::test]
async fn a_function_may_do_what_its_template_grants_and_nothing_else() {
    let env = Setup::new("roles-grants").etl().await;
    let etl = shared::aws::s3_client(&env.sdk, PATH_STYLE);
    let bucket = &env.stack.processed_bucket;
    let put = |key: &'static str| {
        etl.put_object()
            .bucket(bucket)
            .key(key)
            .body(b"{}".to_vec().into())
            .send()
    };
    assert_eq!(outcome(put("datasets/ds-1/report.json").await), "allowed");
    // Only promote-model writes desired-state records (and the monitor its state).
    assert_eq!(
        outcome(put("promotion/stages/prod.json").await),
        "AccessDenied"
    );
    assert_eq!(
        outcome(put("monitoring/housing-mlops-dev/state.json").await),
        "AccessDenied"
    );

    let promote_env = env.environment_of(Function::PromoteModel);
    let promote = shared::aws::s3_client(&sdk_config_of(&promote_env).await, PATH_STYLE);
    let record = promote
        .put_object()
        .bucket(bucket)
        .key("promotion/stages/prod.json")
        .body(b"{}".to_vec().into())
        .send()
        .await;
    assert_eq!(outcome(record), "allowed");

    // An action the role lacks, on a service whose resources moto does not check
    // (moto answers SageMaker's 403 in XML, which the JSON client reads no code from).
    let predict = sdk_config_of(&env.environment_of(Function::Predict)).await;
    let create = aws_sdk_sagemaker::Client::new(&predict)
        .create_endpoint()
        .endpoint_name("housing-mlops-dev")
        .endpoint_config_name("housing-mlops-dev-v1")
        .send()
        .await;
    assert_eq!(outcome(create), "HTTP 403");
}

#[tokio::test]
async fn credentials_moto_does_not_know_are_refused() {
    let moto = shared_moto();
    let known = sdk_config(&moto).await;
    let stranger = known
        .to_builder()
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("AKIASTRANGER", "secret", None, None, "test"),
        ))
        .build();
    let listed = shared::aws::s3_client(&stranger, PATH_STYLE)
        .list_buckets()
        .send()
        .await;
    assert_eq!(outcome(listed), "InvalidAccessKeyId");
    let listed = shared::aws::s3_client(&known, PATH_STYLE)
        .list_buckets()
        .send()
        .await;
    assert_eq!(outcome(listed), "allowed");
}

/// The role carries every statement and action of the template's, with the
/// template's resources where moto checks them (S3, SQS) and `*` elsewhere,
/// and no conditions (moto would deny on a condition it cannot evaluate).
#[tokio::test]
async fn each_role_is_the_templates_policy_in_the_form_moto_evaluates() {
    let env = Setup::new("roles-shape").etl().await;
    let template = template();
    let functions = functions(template);
    for function in Function::ALL {
        let policy = env.stack.role_policy(function);
        let statements = policy["Statement"].as_array().unwrap();
        let original = functions[function.logical_id()]["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap();
        assert_eq!(statements.len(), original.len(), "{}", function.name());
        for (ours, theirs) in statements.iter().zip(original) {
            assert_eq!(ours["Sid"].as_str(), theirs["Sid"].as_str());
            let actions: Vec<&str> = ours["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let theirs_actions: Vec<String> = match &theirs["Action"] {
                serde_norway::Value::String(one) => vec![one.clone()],
                many => serde_norway::from_value(many.clone()).unwrap(),
            };
            assert_eq!(actions, theirs_actions);
            assert!(ours.get("Condition").is_none());
            let checked = actions
                .iter()
                .all(|a| a.starts_with("s3:") || a.starts_with("sqs:"));
            let resources: Vec<&str> = match &ours["Resource"] {
                Value::String(one) => vec![one.as_str()],
                many => many
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect(),
            };
            for resource in resources {
                if checked {
                    let stack = &env.stack;
                    let ours = [
                        &stack.raw_bucket,
                        &stack.processed_bucket,
                        &stack.quarantine_bucket,
                    ]
                    .iter()
                    .any(|b| resource.starts_with(&format!("arn:aws:s3:::{b}")))
                        || resource.starts_with("arn:aws:sqs:us-east-1:123456789012:");
                    assert!(ours, "{}: {resource}", function.name());
                } else {
                    assert_eq!(resource, "*", "{}", function.name());
                }
            }
        }
    }
}
