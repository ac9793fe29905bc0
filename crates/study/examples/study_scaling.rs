//! Scaling of one study over worker processes: the wall time of a study of
//! `--trials` NAS-Bench-201 lookups that each take `--delay-ms` (so the
//! workers, not the CPU cores, are the limit), with 1, 2, 4 and 8 workers,
//! and the claims per second the schema sustains with no delay.
//!
//! ```text
//! cargo build --release -p metanas-study --bins --examples
//! $CARGO_TARGET_DIR/release/examples/study_scaling --storage postgres://USER@HOST:PORT/DB
//! ```
//!
//! It starts the `study-test-worker` program built beside it, once per
//! worker, each on a new study in `--storage` (default: METANAS_TEST_POSTGRES).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut options: HashMap<String, String> = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        options.insert(flag.trim_start_matches("--").to_string(), value);
    }
    let storage = options
        .get("storage")
        .cloned()
        .or_else(|| std::env::var("METANAS_TEST_POSTGRES").ok())
        .ok_or("give --storage postgres://USER@HOST:PORT/DB (or set METANAS_TEST_POSTGRES)")?;
    let trials: usize = options.get("trials").map_or(Ok(64), |t| t.parse())?;
    let delay_ms: u64 = options.get("delay-ms").map_or(Ok(1000), |t| t.parse())?;
    let claims: usize = options.get("claims").map_or(Ok(2000), |t| t.parse())?;
    let counts: Vec<usize> = options
        .get("workers")
        .map_or("1,2,4,8", String::as_str)
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let worker = worker_program()?;
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();

    println!(
        "study of {trials} trials, each a table lookup made to take {delay_ms} ms, random strategy"
    );
    println!("| workers | wall (s) | speed-up | speed-up / workers |");
    println!("|--------:|---------:|---------:|-------------------:|");
    let mut one = None;
    for &n in &counts {
        let study = format!("scaling-{tag}-{n}");
        let wall = run_study(&worker, &storage, &study, n, trials, delay_ms)?;
        let base = *one.get_or_insert(wall * n as f64 / counts[0] as f64);
        let speedup = base / wall;
        println!(
            "| {n:>7} | {wall:>8.2} | {speedup:>8.2} | {:>18.2} |",
            speedup / n as f64
        );
    }
    let study = format!("throughput-{tag}");
    let n = *counts.iter().max().unwrap_or(&8);
    let wall = run_study(&worker, &storage, &study, n, claims, 0)?;
    println!();
    println!(
        "claims with no evaluation time: {claims} trials by {n} workers in {wall:.2} s = {:.0} trials/s (each: propose, claim, finish, under the proposer lock and lease)",
        claims as f64 / wall
    );
    Ok(())
}

/// The worker program, built beside this example.
fn worker_program() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let here = std::env::current_exe()?;
    let release = here
        .parent()
        .and_then(|examples| examples.parent())
        .ok_or("no folder above the example")?;
    let worker = release.join("study-test-worker");
    if !worker.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release -p metanas-study --bins --examples`",
            worker.display()
        )
        .into());
    }
    Ok(worker)
}

/// Runs one study with `workers` processes; its wall time in seconds.
fn run_study(
    worker: &PathBuf,
    storage: &str,
    study: &str,
    workers: usize,
    trials: usize,
    delay_ms: u64,
) -> Result<f64, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let children = (0..workers)
        .map(|_| {
            Command::new(worker)
                .args(["--storage", storage, "--study", study])
                .args(["--budget", &trials.to_string()])
                .args(["--delay-ms", &delay_ms.to_string(), "--lease-s", "30"])
                .stdout(Stdio::null())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    for mut child in children {
        let status = child.wait()?;
        if !status.success() {
            return Err(format!("a worker of {study} failed ({status})").into());
        }
    }
    Ok(start.elapsed().as_secs_f64())
}
