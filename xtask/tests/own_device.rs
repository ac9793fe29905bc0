//! A user's own table and own device, through the command line: a latency
//! column is searched downwards (by its name, its table's side-car, or
//! `--minimize`), and a new device known by a few measured cells gets a plan
//! of cells to measure, every cell's predicted latency, clear errors for bad
//! measurements, and a search under its limit.

use metanas_data::shipped;
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch folder removed when the test ends, also when it fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("metanas-own-device-{}-{name}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn xtask(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(arguments)
        .output()
        .expect("runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn results(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// Every NB201 cell with its `pixel3` latency, as a user's table with one
/// column named `column`.
fn latency_table(path: &Path, column: &str) {
    let table = shipped::nb201_latency_table().expect("shipped latency table");
    let values = table.column("pixel3").expect("pixel3");
    let mut csv = format!("arch,{column}\n");
    for (arch, v) in table.archs().iter().zip(values) {
        csv.push_str(&format!("{},{v}\n", Nb201Space.format(arch)));
    }
    std::fs::write(path, csv).expect("write the table");
}

#[test]
fn a_latency_column_of_a_users_table_is_minimised_and_says_why() {
    let scratch = Scratch::new("direction");
    let table = scratch.path().join("my.csv");
    latency_table(&table, "phone_ms");
    let search = |out: &str, extra: &[&str]| -> serde_json::Value {
        let out = scratch.path().join(out);
        let mut arguments = vec![
            "search",
            "--task",
            "phone_ms",
            "--table",
            path_str(&table),
            "--strategy",
            "random",
            "--budget",
            "30",
            "--quiet",
            "--out",
            path_str(&out),
        ];
        arguments.extend_from_slice(extra);
        let output = xtask(&arguments);
        assert!(output.status.success(), "{}", text(&output));
        results(&out)
    };
    let curve = |r: &serde_json::Value| -> Vec<f64> {
        r["best_objective_curve"]
            .as_array()
            .expect("a curve")
            .iter()
            .map(|v| v.as_f64().expect("a number"))
            .collect()
    };
    // By its name: `*_ms` is a latency, minimised; the best so far only falls.
    let by_name = search("by-name", &[]);
    assert_eq!(by_name["objective"], "minimize");
    assert_eq!(by_name["objective_decided_by"], "by the column's name");
    assert!(curve(&by_name).windows(2).all(|w| w[1] <= w[0]));
    // Asked: --maximize wins over the name.
    let asked = search("asked", &["--maximize"]);
    assert_eq!(asked["objective"], "maximize");
    assert!(curve(&asked).windows(2).all(|w| w[1] >= w[0]));
    // The side-car beside the table wins over the name.
    std::fs::write(
        scratch.path().join("my.csv.tasks.json"),
        r#"{ "phone_ms": { "objective": "maximize" } }"#,
    )
    .expect("write the side-car");
    let side_car = search("side-car", &[]);
    assert_eq!(side_car["objective"], "maximize");
    assert!(
        side_car["objective_decided_by"]
            .as_str()
            .is_some_and(|s| s.contains("my.csv.tasks.json")),
        "{side_car}"
    );
    // --minimize on an image task is refused, naming why.
    let output = xtask(&["search", "--task", "fashion-mnist", "--minimize", "--quiet"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("image task"), "{}", text(&output));
}

#[test]
fn a_new_device_gets_a_plan_predictions_clear_errors_and_a_search_under_its_limit() {
    let scratch = Scratch::new("device");
    let model = scratch.path().join("latency-model");
    // A small latency meta-model without the `pixel3` family: the AEN only.
    let output = xtask(&[
        "meta-train",
        "--sources",
        "latency",
        "--exclude",
        "pixel3",
        "--ensemble",
        "1",
        "--aen-epochs",
        "2",
        "--quiet",
        "--out",
        path_str(&model),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("meta.json")).expect("meta.json"))
            .expect("JSON");
    assert_eq!(manifest["holds"], serde_json::json!(["aen"]), "{manifest}");
    assert!(!model.join("aon").exists());

    // The plan: 10 cells to fill in.
    let plan = scratch.path().join("to_measure.csv");
    let output = xtask(&[
        "latency",
        "plan",
        "--meta-model",
        path_str(&model),
        "--samples",
        "10",
        "--column",
        "pixel3",
        "--out",
        path_str(&plan),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let planned = std::fs::read_to_string(&plan).expect("the plan");
    assert_eq!(planned.lines().count(), 11, "{planned}");
    assert!(planned.starts_with("arch,pixel3\n"));
    // Filled in with the device's true latencies.
    let table = shipped::nb201_latency_table().expect("shipped latency table");
    let rows: Vec<String> = planned
        .lines()
        .skip(1)
        .map(|line| {
            let arch = line.trim_end_matches(',');
            let cell = Nb201Space.parse(arch).expect("a cell");
            format!("{arch},{}", table.value(&cell, "pixel3").expect("value"))
        })
        .collect();
    let measured = scratch.path().join("pixel3.csv");
    std::fs::write(&measured, format!("arch,pixel3\n{}\n", rows.join("\n"))).expect("write");

    // Every cell predicted.
    let all = scratch.path().join("pixel3_all.csv");
    let predict = |measured: &Path| {
        xtask(&[
            "latency",
            "predict",
            "--meta-model",
            path_str(&model),
            "--measured",
            path_str(measured),
            "--out",
            path_str(&all),
        ])
    };
    let output = predict(&measured);
    assert!(output.status.success(), "{}", text(&output));
    let predicted = std::fs::read_to_string(&all).expect("predictions");
    assert!(predicted.starts_with("arch,pixel3,pixel3_std\n"));
    assert_eq!(predicted.lines().count(), table.rows() + 1);

    // Bad measurements: one clear error each, naming the file.
    let bad = scratch.path().join("bad.csv");
    for (contents, expected) in [
        (
            format!("arch,pixel3\n{}\n{}\n", rows[0], rows[1]),
            "at least 3",
        ),
        (
            format!("arch,pixel3\n{}\n{}\n{}\n", rows[0], rows[1], rows[0]),
            "same cell",
        ),
        (
            format!(
                "arch,pixel3\n{}\n{}\n{},-1\n",
                rows[0],
                rows[1],
                rows[2].split(',').next().expect("arch")
            ),
            "not a positive latency",
        ),
        (
            format!(
                "arch,pixel3\n{}\n{}\n|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|,3\n",
                rows[0], rows[1]
            ),
            "not in the space",
        ),
    ] {
        std::fs::write(&bad, contents).expect("write");
        let output = predict(&bad);
        assert!(!output.status.success());
        let message = text(&output);
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(message.contains("bad.csv"), "{message}");
        assert!(!message.contains("panicked"), "{message}");
    }

    // A search under the device's limit, by prediction.
    let mut latencies = table.column("pixel3").expect("pixel3").to_vec();
    latencies.sort_by(f64::total_cmp);
    let limit = latencies[latencies.len() / 4];
    let out = scratch.path().join("search");
    let output = xtask(&[
        "search",
        "--task",
        "c100_valid",
        "--strategy",
        "random",
        "--budget",
        "20",
        "--latency-measured",
        path_str(&measured),
        "--latency-meta-model",
        path_str(&model),
        "--max-latency",
        &format!("pixel3={limit}"),
        "--quiet",
        "--out",
        path_str(&out),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let r = results(&out);
    let winner = &r["winner_predicted_latency"];
    assert_eq!(winner["device"], "pixel3", "{r}");
    assert!(
        winner["probability_within_limit"].as_f64().expect("p") >= 0.9 - 1e-9,
        "{r}"
    );
    // The same search resumed with other measurements is refused, not mixed.
    let first_cell = rows[0].split(',').next().expect("arch");
    let changed = format!("arch,pixel3\n{first_cell},99\n{}\n", rows[1..].join("\n"));
    std::fs::write(&measured, changed).expect("write");
    let output = xtask(&[
        "search",
        "--task",
        "c100_valid",
        "--strategy",
        "random",
        "--budget",
        "20",
        "--latency-measured",
        path_str(&measured),
        "--latency-meta-model",
        path_str(&model),
        "--max-latency",
        &format!("pixel3={limit}"),
        "--quiet",
        "--resume",
        "--out",
        path_str(&out),
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("belongs to another search"),
        "{}",
        text(&output)
    );
    // Another device name than the file's is refused, naming both.
    let output = xtask(&[
        "search",
        "--task",
        "c100_valid",
        "--latency-measured",
        path_str(&measured),
        "--latency-meta-model",
        path_str(&model),
        "--max-latency",
        "my_phone=5",
        "--quiet",
        "--out",
        path_str(&scratch.path().join("refused")),
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("measures `pixel3`"),
        "{}",
        text(&output)
    );
}
