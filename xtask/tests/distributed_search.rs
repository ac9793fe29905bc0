//! `cargo xtask search --storage postgres://… --study NAME --workers N` and
//! `cargo xtask study` against a real PostgreSQL server (METANAS_TEST_POSTGRES;
//! `.ci/run` starts one): one search on several worker processes, the final
//! stage run once, and the status command's report.

use std::process::{Command, Output};

use metanas_study::test_server::test_server as server;

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("runs xtask")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn three_workers_run_one_search_and_its_final_stage_once() {
    let Some(url) = server() else { return };
    let study = format!(
        "xtask-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let out = tempfile::tempdir().expect("temp dir");
    let out_text = out.path().display().to_string();
    let search = xtask(&[
        "search",
        "--task",
        "c100_valid",
        "--strategy",
        "evolution",
        "--budget",
        "15",
        "--storage",
        &url,
        "--study",
        &study,
        "--workers",
        "3",
        "--out",
        &out_text,
        "--quiet",
    ]);
    let stdout = text(&search.stdout);
    assert!(
        search.status.success(),
        "{stdout}\n{}",
        text(&search.stderr)
    );
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("results.json")).expect("results.json"),
    )
    .expect("json");
    assert_eq!(results["queries"], 15);
    assert!(results["best"]["architecture"].is_string());
    assert_eq!(
        stdout.matches("the budget is spent; worker").count(),
        2,
        "the two other workers say where the results are: {stdout}"
    );

    let status = xtask(&["study", "--storage", &url, "--study", &study]);
    let report = text(&status.stdout);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(
        report.contains("15 of 15 finished (15 complete, 0 failed)"),
        "{report}"
    );
    assert!(report.contains("of 3 that joined"), "{report}");
    assert!(report.contains("final stage: done by"), "{report}");
    assert!(report.contains(&out_text), "{report}");
    let best = results["best"]["architecture"].as_str().expect("best");
    assert!(report.contains(best), "the same best: {report}");

    let unknown = xtask(&["study", "--storage", &url, "--study", "no-such-study"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no study `no-such-study`"));
}

#[test]
fn several_workers_without_postgres_are_refused_clearly() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = xtask(&[
        "search",
        "--task",
        "c100_valid",
        "--workers",
        "2",
        "--out",
        &out.path().display().to_string(),
    ]);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("--workers 2 needs --storage postgres://"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(out.path())
            .expect("reads")
            .next()
            .is_none(),
        "nothing written"
    );
}
