//! The shared build directories' pruning (scripts/lib/prune-target, run by scripts/setup): when
//! the disk runs short it removes each crate's older builds and incremental caches and keeps the
//! newest; with room to spare, or while a build holds the profile's lock, it touches nothing.
//! (The CI run of 2026-12-05 died "No space left on device" with 72 GB of stale builds in the
//! shared target directory.)

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// Creates `path` with an mtime `age` seconds in the past.
fn touch(path: &Path, age: u64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = File::create(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(age))
        .unwrap();
}

/// A profile folder in which crate `predict` has six builds (the newest has the highest number),
/// `libc` one (its rlib named liblibc-, its dep-info libc-), and three incremental caches each.
fn profile(root: &Path) -> PathBuf {
    let deps = root.join("deps");
    for n in 1..=6u64 {
        let hash = format!("{n:016x}");
        let age = 1000 - n * 100;
        touch(&deps.join(format!("predict-{hash}")), age);
        touch(&deps.join(format!("predict-{hash}.d")), age);
        touch(&deps.join(format!("libpredict-{hash}.rlib")), age);
        touch(
            &root
                .join(".fingerprint")
                .join(format!("predict-{hash}"))
                .join("lib-predict"),
            age,
        );
    }
    touch(&deps.join("liblibc-00000000000000aa.rlib"), 5000);
    touch(&deps.join("libc-00000000000000aa.d"), 5000);
    for (n, cache) in ["0w18sr98knjh1", "1abcdefghijk2", "2zyxwvutsrqp3"]
        .iter()
        .enumerate()
    {
        let age = 1000 - n as u64 * 100;
        touch(
            &root
                .join("incremental")
                .join(format!("predict-{cache}"))
                .join("s-work")
                .join("query-cache.bin"),
            age,
        );
    }
    root.to_path_buf()
}

fn prune(target: &Path, below_gb: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/prune-target");
    let out = Command::new(script)
        .arg(target)
        .env("PRUNE_BELOW_GB", below_gb)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_short_disk_loses_each_crates_older_builds_and_keeps_the_newest() {
    let target = tempfile::tempdir().unwrap();
    let debug = profile(&target.path().join("debug"));
    let arm = profile(&target.path().join("aarch64-unknown-linux-gnu/release"));

    // Every disk is short of a million GB.
    let said = prune(target.path(), "1000000");

    assert!(said.contains("removed"), "{said}");
    for p in [&debug, &arm] {
        let deps = names(&p.join("deps"));
        let mut want: Vec<String> = (3..=6u64)
            .flat_map(|n| {
                let h = format!("{n:016x}");
                [
                    format!("predict-{h}"),
                    format!("predict-{h}.d"),
                    format!("libpredict-{h}.rlib"),
                ]
            })
            .chain([
                "liblibc-00000000000000aa.rlib".into(),
                "libc-00000000000000aa.d".into(),
            ])
            .collect();
        want.sort();
        assert_eq!(
            deps, want,
            "the four newest builds of predict and libc's only one"
        );
        assert_eq!(
            names(&p.join(".fingerprint")),
            (3..=6u64)
                .map(|n| format!("predict-{n:016x}"))
                .collect::<Vec<_>>()
        );
        assert_eq!(names(&p.join("incremental")), ["predict-2zyxwvutsrqp3"]);
    }
}

#[test]
fn a_disk_with_room_is_left_as_it_is() {
    let target = tempfile::tempdir().unwrap();
    let debug = profile(&target.path().join("debug"));

    let said = prune(target.path(), "0");

    assert_eq!(said, "");
    assert_eq!(names(&debug.join("deps")).len(), 6 * 3 + 2);
    assert_eq!(names(&debug.join("incremental")).len(), 3);
}

#[test]
fn a_profile_being_built_is_left_alone() {
    let target = tempfile::tempdir().unwrap();
    let debug = profile(&target.path().join("debug"));
    // cargo holds an exclusive lock on the profile's .cargo-lock while it builds.
    let lock = File::create(debug.join(".cargo-lock")).unwrap();
    lock.lock().unwrap();

    let said = prune(target.path(), "1000000");

    assert!(said.contains("is being built; left alone"), "{said}");
    assert_eq!(names(&debug.join("deps")).len(), 6 * 3 + 2);
    drop(lock);
}
