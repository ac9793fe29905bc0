//! A database restart in the middle of a study: the workers reconnect with
//! backoff and finish. The test runs its own PostgreSQL cluster (the programs
//! of METANAS_TEST_POSTGRES_BIN, or /usr/lib/postgresql/*/bin), so restarting
//! it disturbs no other test.

use super::common::{Worker, server, stored_trials};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The PostgreSQL programs' folder.
fn postgres_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("METANAS_TEST_POSTGRES_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

/// Runs a PostgreSQL program as the `postgres` user when this is root.
fn as_owner(program: &Path) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if is_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start(bin: PathBuf) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Command::new("chmod")
            .arg("777")
            .arg(dir.path())
            .status()
            .expect("chmod");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let data = dir.path().join("data");
        let status = as_owner(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("initdb");
        assert!(status.success(), "initdb");
        let cluster = Self { bin, dir, port };
        cluster.pg_ctl("start");
        cluster
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let status = as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-w", "-m", "fast", "-o", &options, action])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl");
        assert!(status.success(), "pg_ctl {action}");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok();
    }
}

#[test]
fn workers_ride_out_a_database_restart() {
    // Needs the server's programs: present wherever the test server is.
    if server().is_none() {
        return;
    }
    let bin = postgres_bin().expect("PostgreSQL programs (METANAS_TEST_POSTGRES_BIN)");
    let cluster = Cluster::start(bin);
    let url = cluster.url();
    let args = [
        "--storage",
        &url,
        "--study",
        "s",
        "--budget",
        "16",
        "--delay-ms",
        "300",
        "--lease-s",
        "10",
    ];
    let mut workers: Vec<Worker> = (0..4).map(|_| Worker::start(&args)).collect();
    workers[0]
        .wait_for(Duration::from_secs(20), |l| l.starts_with("evaluated "))
        .expect("the study runs");
    cluster.pg_ctl("restart");
    for w in &mut workers {
        w.finish(Duration::from_secs(90));
    }
    let rows = stored_trials(&url);
    assert_eq!(rows.len(), 16);
    assert!(rows.iter().all(|r| r.2 == "complete"), "{rows:?}");
    let reconnects: usize = workers
        .iter()
        .flat_map(|w| w.lines())
        .filter_map(|l| {
            l.strip_prefix("reconnects ")
                .and_then(|n| n.parse::<usize>().ok())
        })
        .sum();
    assert!(reconnects >= 1, "the workers reconnected");
}
