//! What a new user meets first, run through the command line: a zero budget is
//! refused as a setting, a gzipped CSV of float signals of any length is
//! searched, a trial store follows its table's content, not its folder, and
//! a meta-model's search trains each candidate with the AON settings chosen
//! for it, an image search starts from the ResNet cell unless told otherwise,
//! `--final-choice` picks what the final stage trains (and is refused where
//! there is no final stage), and photos of many sizes, grey and colour, are
//! resized for the search and for prediction.

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
    let shipped = metanas_data::datasets_dir()
        .expect("the shipped datasets")
        .join("nb201.csv.gz");
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
fn an_image_search_starts_from_the_resnet_cell_unless_told_otherwise() {
    let resnet = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|";
    let scratch = scratch_folder();
    let (output, out) = search_signals(
        scratch.path(),
        &[
            "--budget",
            "2",
            "--final-channels",
            "2",
            "--final-epochs",
            "1",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("with random, first {resnet}")),
        "{}",
        stderr(&output)
    );
    let written = results(&out);
    assert_eq!(written["start_cells"], serde_json::json!([resnet]));
    let choice = &written["final_choice"];
    assert_eq!(choice["rule"].as_str(), Some("start-within-error"));
    // When the other cell beat the ResNet cell, a rematch decided.
    let rematch = &written["rematch"];
    if !rematch.is_null() {
        assert_eq!(rematch["kept_query"], choice["query"], "{written}");
        assert_eq!(rematch["start"].as_array().map(Vec::len), Some(3));
    }
    assert_eq!(
        written["final"]["architecture"], choice["architecture"],
        "the final stage trains the chosen candidate: {written}"
    );
    let plain = scratch.path().join("plain");
    std::fs::create_dir_all(&plain).expect("folder");
    let (output, _) = search_signals(
        &plain,
        &[
            "--budget",
            "1",
            "--final-epochs",
            "0",
            "--start-cells",
            "none",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains(", first |"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        results(&plain.join("out"))["start_cells"],
        serde_json::json!([])
    );
    // That store, resumed with the default (which starts from the ResNet
    // cell), is another search: refused with the flags that continue it, and
    // nothing stored is lost.
    let (output, out) = search_signals(&plain, &["--budget", "2", "--resume"]);
    assert!(!output.status.success(), "{}", stderr(&output));
    let hint = format!("--start-cells none --resume --out {}", out.display());
    assert!(stderr(&output).contains(&hint), "{}", stderr(&output));
    assert_eq!(results(&out)["queries"].as_u64(), Some(1));
    let (output, _) = search_signals(
        &plain,
        &[
            "--budget",
            "2",
            "--final-epochs",
            "0",
            "--start-cells",
            "none",
            "--resume",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&out)["queries"].as_u64(), Some(2));
    assert_eq!(results(&out)["replayed_from_store"].as_u64(), Some(1));
    let message = refused(
        &["--task", "mnist", "--start-cells", "resnt"],
        &scratch.path().join("refused"),
    );
    assert!(message.contains("resnet, largest"), "{message}");
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

/// A photo `width`×`height` of class `class` (bright on the left or on the
/// right half), grey or colour, saved as `path`.
fn save_photo(path: &Path, width: u32, height: u32, class: u32, colour: bool) {
    let value = |x: u32| {
        let bright = (x * 2 < width) == (class == 0);
        if bright { 220u8 } else { 30 }
    };
    let saved = if colour {
        image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([value(x), value(x) / 2, (y * 10) as u8])
        })
        .save(path)
    } else {
        image::GrayImage::from_fn(width, height, |x, _| image::Luma([value(x)])).save(path)
    };
    saved.expect("save the photo");
}

#[test]
fn photos_of_many_sizes_grey_and_colour_are_resized_for_search_and_prediction() {
    let scratch = scratch_folder();
    let photos = scratch.path().join("photos");
    for (class, name) in ["cat", "dog"].iter().enumerate() {
        std::fs::create_dir_all(photos.join(name)).expect("mkdir");
        for k in 0..12u32 {
            let file = photos
                .join(name)
                .join(format!("{k}.{}", ["png", "JPG"][k as usize % 2]));
            save_photo(&file, 10 + k % 7, 9 + k % 5, class as u32, k % 3 != 0);
        }
    }

    // As stored, the sizes differ: refused, with the flag that fixes it.
    let output = search(
        &["--task", "dataset", "--budget", "1"],
        &[
            ("--dataset", &photos),
            ("--out", &scratch.path().join("refused")),
        ],
    );
    assert!(!output.status.success(), "mixed sizes were not refused");
    let message = stderr(&output);
    assert!(
        message.contains("--image-size") && message.contains("height×width"),
        "{message}"
    );

    let out = scratch.path().join("out");
    let output = search(
        &[
            "--task",
            "dataset",
            "--image-size",
            "12,12",
            "--strategy",
            "random",
            "--budget",
            "1",
            "--steps",
            "2",
            "--channels",
            "2",
            "--final-channels",
            "2",
            "--final-epochs",
            "1",
        ],
        &[("--dataset", &photos), ("--out", &out)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&out)["image_size"], serde_json::json!([12, 12]));
    let model = out.join("model");
    let text = std::fs::read_to_string(model.join("model.json")).expect("model.json");
    let metadata: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(metadata["files_resized_to"], serde_json::json!([12, 12]));
    assert_eq!(
        metadata["class_names"],
        serde_json::json!(["cat", "dog"]),
        "{metadata}"
    );

    // New photos of other sizes, one grey: read as the training files were.
    let new = scratch.path().join("new");
    std::fs::create_dir(&new).expect("mkdir");
    save_photo(&new.join("a.png"), 30, 20, 0, false);
    save_photo(&new.join("b.jpg"), 9, 7, 1, true);
    save_photo(&new.join("c.png"), 12, 12, 1, true);
    let predictions = scratch.path().join("predictions.csv");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("predict")
        .arg("--model")
        .arg(&model)
        .arg(&new)
        .arg("--out")
        .arg(&predictions)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(&predictions).expect("predictions");
    let ids: Vec<&str> = written
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .collect();
    assert_eq!(ids, ["a.png", "b.jpg", "c.png"], "{written}");
    assert!(
        written.starts_with("input,class,probability,p_cat,p_dog"),
        "{written}"
    );
}
