//! The main job's servers (scripts/lib/processes.sh): a second run in the same
//! clone must take the URL the new server announces, never the READY line the
//! previous run left in the same output file (before the fix, `scripts/run-local`
//! read `.local/moto.out` while the new server's background redirection had not
//! yet emptied it, and went on with the old run's dead endpoint); explore mode
//! keeps them up until Ctrl-C and then stops them all.

use std::path::Path;
use std::process::Command;

fn start_server(dir: &Path, server: &str) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = format!(
        ". scripts/lib/processes.sh\ntrap stop_all EXIT\n\
         start_server 'a test server' '{out}' '{log}' sh -c '{server}'\n\
         echo \"URL=$server_url\"\n",
        out = dir.join("server.out").display(),
        log = dir.join("server.log").display(),
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(root)
        .output()
        .unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_previous_runs_ready_line_is_not_taken_for_the_new_servers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.out"), "READY http://127.0.0.1:1\n").unwrap();
    // The new server announces itself late, as moto does after its imports.
    let out = start_server(
        dir.path(),
        "sleep 1; echo READY http://127.0.0.1:2; sleep 30",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out).trim(), "URL=http://127.0.0.1:2");
}

#[test]
fn a_server_that_announces_no_url_stops_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = start_server(dir.path(), "echo READY; echo READY http://; sleep 2");
    // Neither line is a URL: no empty or host-less URL reaches the functions'
    // environment, and the job stops when the server ends, naming its log.
    assert!(!stdout(&out).contains("URL="), "{out:?}");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a test server ended before it was ready; see"),
        "{stderr}"
    );
}

/// Explore mode (`scripts/run-local --serve`) keeps the job and its servers up
/// until Ctrl-C, then stops every server it started and ends successfully.
#[test]
fn explore_mode_stops_everything_it_started_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pid_file = dir.path().join("server.pid");
    let script = format!(
        ". scripts/lib/processes.sh\ntrap stop_all EXIT\n\
         start_server 'a test server' '{out}' '{log}' sh -c 'echo $$ > {pid}; echo READY http://127.0.0.1:3; exec sleep 60'\n\
         serve_until_interrupted\n",
        out = dir.path().join("server.out").display(),
        log = dir.path().join("server.log").display(),
        pid = pid_file.display(),
    );
    // SIGINT at its default disposition, as in a terminal: a shell started in the background of
    // another (`.ci/run &`) inherits it ignored, and a non-interactive bash cannot trap a signal
    // ignored on entry (so Ctrl-C would never reach the trap, and the job would outlive the test).
    let mut job = Command::new("env")
        .args(["--default-signal=INT", "bash", "-c"])
        .arg(script)
        .current_dir(root)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(job.stdout.take().unwrap()).lines();
    // The line it prints once Ctrl-C is trapped (before it, bash would die of the signal,
    // as it did in a CI run when this test waited on a line echoed before the trap).
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "run-local: serving until Ctrl-C"
    );
    let server = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    let alive = |pid: &str| {
        Command::new("kill")
            .args(["-0", pid])
            .status()
            .unwrap()
            .success()
    };
    assert!(alive(&server), "the server runs while the job serves");

    let interrupted = Command::new("kill")
        .args(["-INT", &job.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            // Nothing of it may outlive the test (it holds the test run's output open).
            let _ = job.kill();
            let _ = Command::new("kill").arg(&server).status();
            panic!("the job did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(&server) {
        assert!(Instant::now() < deadline, "the server outlived the job");
        std::thread::sleep(Duration::from_millis(100));
    }
}
