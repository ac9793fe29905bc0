//! Helpers of the tests against a real PostgreSQL server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use metanas_study::test_server::test_server as server;

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{database}")
}

/// A fresh database named for the test (dropped and created again), its URL.
pub fn fresh_database(url: &str, name: &str) -> String {
    let database = format!("metanas_test_{name}");
    let mut admin =
        postgres::Client::connect(url, postgres::NoTls).expect("connects to the test server");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .expect("drops");
    admin
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .expect("creates");
    with_database(url, &database)
}

/// A worker process and the lines it printed.
pub struct Worker {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    /// Starts the test worker with `args`.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_study-test-worker"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts the worker");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        for (pipe, sink) in [
            (
                Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
                lines.clone(),
            ),
            (
                Box::new(child.stderr.take().expect("stderr")) as Box<dyn std::io::Read + Send>,
                stderr.clone(),
            ),
        ] {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    sink.lock().expect("lines").push(line);
                }
            });
        }
        Self {
            child,
            lines,
            stderr,
        }
    }

    /// The lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Waits until a printed line satisfies `matches` (at most `limit`).
    pub fn wait_for(&self, limit: Duration, matches: impl Fn(&str) -> bool) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(line) = self.lines().into_iter().find(|l| matches(l)) {
                return Some(line);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Waits for the process to end (at most `limit`), asserting success.
    pub fn finish(&mut self, limit: Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    status.success(),
                    "worker failed ({status}): {:?}",
                    self.stderr.lock().expect("stderr")
                );
                return;
            }
            if start.elapsed() > limit {
                self.child.kill().ok();
                panic!(
                    "worker did not finish in {limit:?}; printed {:?} {:?}",
                    self.lines(),
                    self.stderr.lock().expect("stderr")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`STOP`, `CONT`) with `kill`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("runs kill");
        assert!(status.success());
    }
}

/// Evaluations each worker stored: (trial, attempt, objective) from `evaluated … accepted` lines.
pub fn accepted(lines: &[String]) -> Vec<(usize, u32, f64)> {
    lines
        .iter()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            match parts[..] {
                ["evaluated", n, a, o, "accepted"] => {
                    Some((n.parse().ok()?, a.parse().ok()?, o.parse().ok()?))
                }
                _ => None,
            }
        })
        .collect()
}

/// The study's trials as stored: (number, architecture, state, attempts, worker, objective).
pub type Row = (i32, String, String, i32, Option<String>, Option<f64>);

/// Reads the trials of the only study in `url`.
pub fn stored_trials(url: &str) -> Vec<Row> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connects");
    client
        .query(
            "SELECT number, architecture, state, attempts, worker, objective FROM metanas_trials ORDER BY number",
            &[],
        )
        .expect("reads")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}
