//! The predictions API on loopback, as a client reaches it: predict's binary,
//! configured as Lambda configures it for a test stack, under
//! `cargo lambda watch`, whose function URL serves it over HTTP. For the tests
//! that drive it from outside the process (the browser, the inference clients).

use crate::{repo_root, shared_endpoint_server, TestEnv};
use local_stack::functions::RUNTIME_ENDPOINT_VARIABLE;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The running API; its processes are stopped when it is dropped, however the
/// test ends.
pub struct LocalApi {
    processes: Vec<Child>,
    /// `http://127.0.0.1:<port>/lambda-url/predict`: the routes are below it.
    pub url: String,
    /// The function's log (its standard error), for a test's failure message.
    pub log: PathBuf,
}

impl LocalApi {
    /// What the function logged so far.
    pub fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for LocalApi {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The project venv's `bin` (cargo-lambda's watch runs from it).
pub fn venv_bin() -> PathBuf {
    local_stack::python().parent().unwrap().to_path_buf()
}

impl LocalApi {
    /// Serves `binary` (predict's, `env!("CARGO_BIN_EXE_predict")`) with
    /// `env`'s configuration.
    pub fn start<S>(env: &TestEnv<S>, binary: &Path) -> LocalApi {
        let port = free_port();
        let path = format!(
            "{}:{}",
            venv_bin().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut api = LocalApi {
            processes: Vec::new(),
            url: format!("http://127.0.0.1:{port}/lambda-url/predict"),
            log: std::env::temp_dir().join(format!("predict-{port}.log")),
        };
        let log = std::fs::File::create(&api.log).unwrap();
        api.processes.push(
            Command::new("cargo")
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "--invoke-address",
                    "127.0.0.1",
                ])
                .args(["--invoke-port", &port.to_string()])
                .current_dir(repo_root())
                .env("PATH", &path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cargo lambda watch (scripts/setup installs cargo-lambda)"),
        );
        wait_for_port(port, "cargo lambda watch");
        api.processes.push(
            Command::new(binary)
                .env_clear()
                .envs(env.environment.iter().map(|(k, v)| (k, v)))
                .env(RUNTIME_ENDPOINT_VARIABLE, shared_endpoint_server())
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{port}/.rt/predict"),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", "predict")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("the predict binary"),
        );
        api
    }
}

/// A helper process's JSON answer on its standard output; its output, both
/// streams, is the failure message when it failed.
pub fn json_stdout(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(out.stdout.trim_ascii()).unwrap()
}
