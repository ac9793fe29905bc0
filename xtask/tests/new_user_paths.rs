//! What a new user meets first, run through the command line: a zero budget is
//! refused as a setting, a gzipped CSV of float signals of any length is
//! searched, a trial store follows its table's content, not its folder, and
//! a meta-model's search trains each candidate with the AON settings chosen
//! for it, and `--final-choice` picks what the final stage trains (and is
//! refused where there is no final stage).

use std::path::Path;
use std::process::{Command, Output};

/// A scratch folder, removed when the test ends, also when it fails.
fn scratch_folder() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("metanas-new-user-")
        .tempdir()
        .expect("scratch folder")
}

fn search(arguments: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("search").args(arguments).arg("--quiet");
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    command.output().expect("runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a search that must be refused before anything runs; its message.
fn refused(arguments: &[&str], out: &Path) -> String {
    let output = search(arguments, &[("--out", out)]);
    assert!(!output.status.success(), "{arguments:?} was not refused");
    assert!(!out.exists(), "nothing is written for a refused setting");
    stderr(&output)
}

fn results(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn a_zero_budget_is_refused_before_anything_runs() {
    let scratch = scratch_folder();
    let message = refused(
        &[
            "--task",
            "c100_valid",
            "--strategy",
            "random",
            "--budget",
            "0",
        ],
        &scratch.path().join("out"),
    );
    assert!(message.contains("--budget"), "{message}");
    assert!(!message.contains("plot"), "{message}");
}

/// 60 signals of 40 already normalised floats, two classes (sine or cosine),
/// as a gzipped CSV in `dir`.
fn signals_csv_gz(dir: &Path) -> std::path::PathBuf {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut text = String::new();
    for row in 0..60 {
        let class = row % 2;
        text.push_str(&class.to_string());
        for t in 0..40 {
            let phase = 0.3 * t as f32 + 0.01 * row as f32;
            let value = if class == 0 { phase.sin() } else { phase.cos() };
            text.push_str(&format!(",{value:.4}"));
        }
        text.push('\n');
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text.as_bytes()).expect("in memory");
    let data = dir.join("signals.csv.gz");
    std::fs::write(&data, encoder.finish().expect("in memory")).expect("write");
    data
}

/// A random search of the signals in `dir` (tiny networks, 2 steps per
/// candidate) with `extra` arguments; its output and its folder.
fn search_signals(dir: &Path, extra: &[&str]) -> (Output, std::path::PathBuf) {
    let data = signals_csv_gz(dir);
    let out = dir.join("out");
    let common = [
        "--task",
        "dataset",
        "--shape",
        "1,1,40",
        "--strategy",
        "random",
        "--steps",
        "2",
        "--channels",
        "2",
    ];
    let output = search(
        &[&common[..], extra].concat(),
        &[("--dataset", &data), ("--out", &out)],
    );
    (output, out)
}

#[test]
fn a_gzipped_csv_of_float_signals_one_row_high_is_searched() {
    let scratch = scratch_folder();
    let (output, out) = search_signals(scratch.path(), &["--budget", "2", "--final-epochs", "0"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let results = results(&out);
    assert_eq!(results["queries"].as_u64(), Some(2));
    assert!(
        results["best"]["measurement"]["objective"].is_number(),
        "every trial failed: {results}"
    );
}

#[test]
fn a_store_follows_its_table_when_the_folder_moves() {
    let scratch = scratch_folder();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/nb201.csv.gz");
    let (before, after) = (scratch.path().join("a"), scratch.path().join("b"));
    std::fs::create_dir_all(&before).expect("folder");
    std::fs::copy(&shipped, before.join("nb201.csv.gz")).expect("copy");
    let out = scratch.path().join("out");
    let arguments = |budget: &'static str| {
        [
            "--task",
            "c100_valid",
            "--strategy",
            "random",
            "--seed",
            "2",
            "--budget",
            budget,
        ]
    };
    let first = search(
        &arguments("3"),
        &[("--table", &before.join("nb201.csv.gz")), ("--out", &out)],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    // The project folder moves: the same table now lies elsewhere.
    std::fs::rename(&before, &after).expect("move");
    let mut resumed_arguments = arguments("5").to_vec();
    resumed_arguments.push("--resume");
    let resumed = search(
        &resumed_arguments,
        &[("--table", &after.join("nb201.csv.gz")), ("--out", &out)],
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let results = results(&out);
    assert_eq!(results["queries"].as_u64(), Some(5));
    assert_eq!(results["replayed_from_store"].as_u64(), Some(3));
}

#[test]
fn a_meta_model_search_trains_each_candidate_with_the_settings_chosen_for_it() {
    let scratch = scratch_folder();
    let model = scratch.path().join("model");
    // A quick meta-model: a one-epoch AEN and the chooser fitted on the
    // shipped AON settings table (no meta-trained AON, no MNIST cells).
    let trained = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "meta-train",
            "--aon-steps",
            "0",
            "--image-cells",
            "0",
            "--ensemble",
            "1",
            "--aen-epochs",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&model)
        .output()
        .expect("runs");
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(
        stderr(&trained).contains("AON settings chooser: fitted on"),
        "{}",
        stderr(&trained)
    );
    let out = scratch.path().join("out");
    let quick = [
        "--task",
        "mnist",
        "--strategy",
        "bo",
        "--budget",
        "2",
        "--steps",
        "5",
        "--final-epochs",
        "1",
        "--final-channels",
        "4",
    ];
    let output = search(&quick, &[("--meta-model", &model), ("--out", &out)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("settings the meta-model's chooser picks"),
        "{}",
        stderr(&output)
    );
    let details = &results(&out)["best"]["measurement"]["details"];
    let adam_step = details["adam_step"].as_f64().expect("the chosen Adam step");
    assert!(
        [3e-4, 1e-3, 3e-3, 1e-2, 3e-2].contains(&adam_step),
        "{adam_step} is a step of the table's grid"
    );
    assert!(details["sgd_nesterov_step"].as_f64().is_some());

    // This meta-model has no meta-trained AON to ask for.
    let output = search(
        &[&quick[..], &["--candidate-optimizer", "aon"]].concat(),
        &[
            ("--meta-model", &model),
            ("--out", &scratch.path().join("other")),
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("has no AON"),
        "{}",
        stderr(&output)
    );

    // Without a meta-model there is no AON or chooser to pick: refused, not ignored.
    let output = search(
        &[&quick[..], &["--candidate-optimizer", "conditioned"]].concat(),
        &[("--out", &scratch.path().join("none"))],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--meta-model"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_final_stage_trains_the_candidate_its_rule_chose() {
    let scratch = scratch_folder();
    let (output, out) = search_signals(
        scratch.path(),
        &[
            "--budget",
            "3",
            "--final-channels",
            "2",
            "--final-epochs",
            "1",
            "--final-choice",
            "cheapest-within-error",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let results = results(&out);
    let choice = &results["final_choice"];
    assert_eq!(
        choice["rule"].as_str(),
        Some("cheapest-within-error"),
        "{results}"
    );
    let query = choice["query"].as_u64().expect("a chosen query");
    assert!((1..=3).contains(&query), "{choice}");
    assert!(choice["objective"].is_number(), "{choice}");
    assert_eq!(
        results["final"]["architecture"], choice["architecture"],
        "the final stage trains the chosen candidate: {results}"
    );
}

#[test]
fn a_final_choice_on_a_table_task_is_refused() {
    let scratch = scratch_folder();
    let out = scratch.path().join("out");
    let message = refused(
        &[
            "--task",
            "c100_valid",
            "--final-choice",
            "cheapest-within-error",
        ],
        &out,
    );
    assert!(message.contains("--final-choice"), "{message}");
    assert!(message.contains("table lookup"), "{message}");
    let message = refused(
        &["--task", "c100_valid", "--final-choice", "cheapest"],
        &out,
    );
    assert!(message.contains("cheapest-within-error"), "{message}");
}
