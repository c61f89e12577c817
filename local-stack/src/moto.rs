//! The moto server: a real AWS API emulator, started from the project's venv on
//! 127.0.0.1 (`scripts/moto_server.py`), and SDK configuration pointed at it.

use crate::{repo_root, REGION};
use anyhow::{bail, Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

/// The project's venv python (`HOUSING_MLOPS_VENV` overrides the location).
pub fn venv_python() -> PathBuf {
    let venv = std::env::var_os("HOUSING_MLOPS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    venv.join("bin").join("python")
}

/// A moto server owned by this process. It exits when this process does: it
/// watches the pipe we hold on its standard input.
pub struct Moto {
    pub endpoint: String,
    _child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    pub fn start() -> Result<Moto> {
        let python = venv_python();
        if !python.exists() {
            bail!(
                "{} not found: run `scripts/setup` first (it installs moto into .venv)",
                python.display()
            );
        }
        let mut child = Command::new(&python)
            .arg(repo_root().join("scripts/moto_server.py"))
            .arg("--until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting moto with {}", python.display()))?;
        let stdout = child.stdout.take().context("moto stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .context("moto did not report READY")?
            .to_string();
        let stdin = child.stdin.take().context("moto stdin")?;
        Ok(Moto {
            endpoint,
            _child: child,
            _stdin: stdin,
        })
    }
}

/// SDK configuration for an endpoint: fixed region and test credentials, so
/// nothing probes instance metadata.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}
