//! Each function's IAM role in a local stack, made from the template, so that a
//! function runs under the permissions AWS would give it, enforced by moto
//! (`scripts/moto_server.py` turns moto's IAM access control on): a call the
//! template does not allow fails locally instead of on AWS.
//!
//! The role carries the function's inline policies from `infra/template.yaml`
//! (its `Policies`), resolved with this stack's names, in the form moto can
//! evaluate. moto's engine is narrower than IAM's, so three things differ, each
//! in the direction of allowing more, never less, and each checked elsewhere:
//!
//! - **Resources**: moto matches a statement's `Resource` against the request's
//!   resource only for S3 (bucket and object ARNs) and SQS (queue ARNs); for
//!   every other service it matches against `*`, so a statement naming an ARN
//!   would deny everything. Statements of other services get `Resource: "*"`;
//!   their ARNs are held to the code by `tests/tests/infra_iam.rs`.
//! - **Conditions**: moto evaluates few condition keys, and an unmet condition
//!   makes it deny even under an Allow. Conditions are left out here; the
//!   statements' conditions are evaluated per request kind in
//!   `tests/tests/infra_iam.rs` (`tests/src/policy.rs`).
//! - **Permissions boundaries and resource policies** (bucket, key, queue, bus):
//!   moto evaluates none of them; the same tests evaluate them per statement.
//!
//! The role trusts `lambda.amazonaws.com`, as in the template, and the local
//! operator (`scripts/moto_server.py`), who assumes it here as Lambda does on AWS.

use crate::stack::{Clients, Stack};
use crate::template::{functions, resolve, template};
use crate::{Function, ACCOUNT, REGION};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The IAM user the harness signs as (`scripts/moto_server.py` makes it).
pub const OPERATOR_ARN: &str = "arn:aws:iam::123456789012:user/local-operator";

/// The services whose resources moto checks against a statement's `Resource`.
const RESOURCE_CHECKED: [&str; 2] = ["s3", "sqs"];

/// A role session's credentials.
#[derive(Debug, Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl RoleCredentials {
    /// As the variables Lambda sets for a function's role.
    pub fn variables(&self) -> [(&'static str, String); 3] {
        [
            ("AWS_ACCESS_KEY_ID", self.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_access_key.clone()),
            ("AWS_SESSION_TOKEN", self.session_token.clone()),
        ]
    }
}

impl Stack {
    /// `function`'s role in this stack.
    pub fn role_name(&self, function: Function) -> String {
        format!("{}-{}", self.name, function.name())
    }

    /// The names the template's policies refer to, for this stack.
    fn template_names(&self) -> BTreeMap<String, String> {
        let mut names = BTreeMap::from([
            ("AWS::Partition".to_string(), "aws".to_string()),
            ("AWS::Region".to_string(), REGION.to_string()),
            ("AWS::AccountId".to_string(), ACCOUNT.to_string()),
        ]);
        for (logical, bucket) in [
            ("RawBucket", &self.raw_bucket),
            ("ProcessedBucket", &self.processed_bucket),
            ("QuarantineBucket", &self.quarantine_bucket),
        ] {
            names.insert(logical.into(), bucket.clone());
            names.insert(format!("{logical}.Arn"), format!("arn:aws:s3:::{bucket}"));
        }
        for function in Function::ALL {
            let queue = function.logical_id().replace("Function", "DeadLetterQueue");
            let arn = format!(
                "arn:aws:sqs:{REGION}:{ACCOUNT}:{}",
                self.dead_letter_queue(function)
            );
            names.insert(format!("{queue}.Arn"), arn);
        }
        names
    }

    /// `function`'s identity policy as moto will evaluate it (see the module's
    /// documentation for how it differs from the template's).
    pub fn role_policy(&self, function: Function) -> Value {
        let properties = &functions(template())[function.logical_id()]["Properties"];
        let documents = properties["Policies"].as_sequence().expect("Policies");
        self.moto_policy(documents)
    }

    /// The operators' policy (the template's `OperatorPolicy`, what `housing-mlops status`,
    /// `drift` and `promote` need) as moto will evaluate it.
    pub fn operator_policy(&self) -> Value {
        let document = &template()["Resources"]["OperatorPolicy"]["Properties"]["PolicyDocument"];
        self.moto_policy(std::slice::from_ref(document))
    }

    /// The statements of the template's policy `documents`, resolved with this stack's names,
    /// in the form moto evaluates (the module's documentation says how it differs).
    fn moto_policy(&self, documents: &[serde_norway::Value]) -> Value {
        let names = self.template_names();
        let mut statements = Vec::new();
        for document in documents {
            for statement in document["Statement"].as_sequence().expect("Statement") {
                assert_eq!(statement["Effect"].as_str(), Some("Allow"));
                let actions: Vec<String> = match &statement["Action"] {
                    serde_norway::Value::String(one) => vec![one.clone()],
                    many => serde_norway::from_value(many.clone()).expect("actions"),
                };
                let resource_checked = actions
                    .iter()
                    .all(|a| RESOURCE_CHECKED.contains(&a.split(':').next().unwrap_or_default()));
                let resource = if resource_checked {
                    resolve(&statement["Resource"], &names)
                } else {
                    json!("*")
                };
                statements.push(json!({
                    "Sid": statement["Sid"].as_str(),
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": resource,
                }));
            }
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    /// Creates `function`'s role (its policy from [`Stack::role_policy`]) and
    /// assumes it, as Lambda does before an invocation.
    pub async fn create_role(
        &self,
        clients: &Clients,
        function: Function,
    ) -> Result<RoleCredentials> {
        let name = self.role_name(function);
        let policy = self.role_policy(function);
        assume_new_role(clients, &name, &policy, function.name()).await
    }

    /// Creates the stack's operator role (`<stack>-operator`, with [`Stack::operator_policy`])
    /// and assumes it, as a person named in `OperatorPrincipalArns` would: the operators'
    /// command run with these credentials has the template's grant and no more.
    pub async fn create_operator(&self, clients: &Clients) -> Result<RoleCredentials> {
        let name = format!("{}-operator", self.name);
        assume_new_role(clients, &name, &self.operator_policy(), "operator").await
    }
}

/// Creates role `name` with the inline `policy`, trusted by Lambda and the local operator,
/// and assumes it as session `session`.
pub async fn assume_new_role(
    clients: &Clients,
    name: &str,
    policy: &Value,
    session: &str,
) -> Result<RoleCredentials> {
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com", "AWS": OPERATOR_ARN},
            "Action": "sts:AssumeRole",
        }],
    });
    let role = clients
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .with_context(|| format!("create role {name}"))?;
    let arn = role
        .role()
        .map(|r| r.arn().to_string())
        .context("role ARN")?;
    clients
        .iam
        .put_role_policy()
        .role_name(name)
        .policy_name("template")
        .policy_document(policy.to_string())
        .send()
        .await
        .with_context(|| format!("put the policy of role {name}"))?;
    let session = clients
        .sts
        .assume_role()
        .role_arn(arn)
        .role_session_name(session)
        .send()
        .await
        .with_context(|| format!("assume role {name}"))?;
    let credentials = session.credentials().context("the session's credentials")?;
    Ok(RoleCredentials {
        access_key_id: credentials.access_key_id().to_string(),
        secret_access_key: credentials.secret_access_key().to_string(),
        session_token: credentials.session_token().to_string(),
    })
}
