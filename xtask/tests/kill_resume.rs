//! A search killed with SIGKILL mid-run resumes from its trial store: no
//! finished trial is lost, none runs twice, and the answer equals an
//! uninterrupted run's with the same seed.
//!
//! The search trains real (tiny) networks on shipped MNIST, so each query takes
//! long enough to kill the process between queries.

use rusqlite::Connection;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn search_command(out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args([
            "search",
            "--task",
            "mnist",
            "--strategy",
            "evolution",
            "--budget",
            "14",
            "--seed",
            "5",
        ])
        .args([
            "--steps",
            "8",
            "--channels",
            "2",
            "--cells",
            "1",
            "--final-epochs",
            "0",
            "--quiet",
        ])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn stored_trials(out: &Path) -> Vec<(i64, String, Option<f64>)> {
    let Ok(connection) = Connection::open(out.join("trials.sqlite")) else {
        return Vec::new();
    };
    let Ok(mut statement) =
        connection.prepare("SELECT idx, architecture, objective FROM trials ORDER BY idx")
    else {
        return Vec::new();
    };
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

fn results(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// A search process that is killed if the test fails before it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
}

#[test]
fn killed_search_resumes_to_the_same_answer() {
    // Removed when the test ends, passed or failed.
    let scratch = tempfile::tempdir().expect("temp dir");
    let (straight, killed) = (
        scratch.path().join("straight"),
        scratch.path().join("killed"),
    );
    let status = search_command(&straight).status().expect("runs");
    assert!(status.success());
    let expected = stored_trials(&straight);
    assert_eq!(expected.len(), 14);

    let mut child = Running(search_command(&killed).spawn().expect("starts"));
    let start = Instant::now();
    while stored_trials(&killed).len() < 5 {
        assert!(start.elapsed() < Duration::from_secs(600), "no progress");
        assert!(
            child.0.try_wait().expect("waits").is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.0.kill().expect("SIGKILL");
    child.0.wait().expect("reaped");
    let before = stored_trials(&killed);
    assert!(
        before.len() >= 5 && before.len() < 14,
        "killed mid-run with {} trials",
        before.len()
    );

    // Without --resume the store is protected.
    assert!(!search_command(&killed).status().expect("runs").success());
    let status = search_command(&killed)
        .arg("--resume")
        .status()
        .expect("runs");
    assert!(status.success());
    let after = stored_trials(&killed);
    // Nothing lost, nothing run twice, same trials in the same order.
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(after, expected);
    let (a, b) = (results(&straight), results(&killed));
    assert_eq!(a["best"]["architecture"], b["best"]["architecture"]);
    assert_eq!(
        a["best"]["measurement"]["objective"],
        b["best"]["measurement"]["objective"]
    );
    assert!(a["best"]["architecture"].is_string());
    assert_eq!(b["replayed_from_store"].as_u64(), Some(before.len() as u64));
}
