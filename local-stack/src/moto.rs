//! The moto server: a real AWS API emulator, started from the project's venv on
//! 127.0.0.1 (`scripts/moto_server.py`), and SDK configuration pointed at it.

use crate::{repo_root, REGION};
use anyhow::{bail, Context, Result};
use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

/// A server of the project's (a Python script run with the venv) owned by this
/// process: it prints `READY <endpoint>` once it serves, and exits when this
/// process does (it watches the pipe we hold on its standard input).
struct Owned {
    endpoint: String,
    _child: Child,
    _stdin: ChildStdin,
}

impl Owned {
    fn start(what: &str, script: &str, args: &[&str]) -> Result<Owned> {
        let python = crate::python();
        if !python.exists() {
            bail!(
                "{} not found: run `scripts/setup` first (it installs {what} into .venv)",
                python.display()
            );
        }
        let mut child = Command::new(&python)
            .arg(repo_root().join(script))
            .args(args)
            .arg("--until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {what} with {}", python.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .with_context(|| format!("{what} did not report READY"))?
            .to_string();
        let stdin = child.stdin.take().context("stdin")?;
        Ok(Owned {
            endpoint,
            _child: child,
            _stdin: stdin,
        })
    }
}

/// A moto server owned by this process.
pub struct Moto {
    pub endpoint: String,
    _server: Owned,
}

impl Moto {
    pub fn start() -> Result<Moto> {
        let server = Owned::start("moto", "scripts/moto_server.py", &[])?;
        Ok(Moto {
            endpoint: server.endpoint.clone(),
            _server: server,
        })
    }
}

/// The local endpoint server (`local-stack/endpoint/server.py`): SageMaker
/// Runtime's `InvokeEndpoint` for the endpoints on the moto at `moto`, with the
/// real XGBoost and data capture. Owned by this process.
pub struct EndpointServer {
    pub endpoint: String,
    _server: Owned,
}

impl EndpointServer {
    pub fn start(moto: &str) -> Result<EndpointServer> {
        let server = Owned::start(
            "the endpoint server's xgboost",
            "local-stack/endpoint/server.py",
            &["--moto", moto],
        )?;
        Ok(EndpointServer {
            endpoint: server.endpoint.clone(),
            _server: server,
        })
    }
}

/// SDK configuration for an endpoint, signed as the local operator (allowed
/// everything: `scripts/moto_server.py`), with a fixed region so nothing
/// probes instance metadata. Functions sign as their roles instead
/// ([`crate::functions::sdk_config_of`]).
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let operator = Credentials::new("testing", "testing", None, None, "moto");
    signed_config(endpoint, REGION, operator).await
}

/// SDK configuration for `endpoint` in `region`, signed with `credentials`.
pub async fn signed_config(endpoint: &str, region: &str, credentials: Credentials) -> SdkConfig {
    shared::aws::loader()
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .load()
        .await
}
