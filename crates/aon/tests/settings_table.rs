//! The table of measured runs grows pair by pair, keeps what it holds, refuses
//! to mix two tables and names a damaged file.

mod common;

use metanas_aon::{
    AonError, CandidateTraining, SettingsGrid, SettingsTableConfig, TableProgress,
    extend_settings_table, pair_problem, read_settings_table, sweep_settings, table_pairs,
};
use metanas_device::test_device;

#[test]
fn a_table_grows_resumably_and_its_rows_are_the_runs_they_name() {
    let device = test_device();
    let (problems, sampler) = common::toy_sampler();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = SettingsTableConfig {
        path: dir.path().join("table.csv"),
        pairs: 1,
        seed: 7,
        grid: SettingsGrid {
            adam_steps: vec![1e-2],
            sgd_nesterov_steps: vec![None, Some(0.1)],
            warmup_steps: vec![0],
        },
        training: CandidateTraining {
            steps: 12,
            batch_size: problems.batch_size,
            eval_every: 0,
        },
    };

    let mut heard = Vec::new();
    let first = extend_settings_table(&config, &sampler, &device, |_, pair, _, outcomes| {
        heard.push((pair, outcomes.len()));
    })
    .expect("measures");
    assert_eq!(
        first,
        TableProgress {
            kept: 0,
            measured: 1
        }
    );
    assert_eq!(heard, vec![(0, 2)]);

    // Asking for more pairs keeps the first and measures only the new one.
    let more = SettingsTableConfig {
        pairs: 2,
        ..config.clone()
    };
    let second =
        extend_settings_table(&more, &sampler, &device, |_, _, _, _| {}).expect("measures");
    assert_eq!(
        second,
        TableProgress {
            kept: 1,
            measured: 1
        }
    );
    let done =
        extend_settings_table(&more, &sampler, &device, |_, _, _, _| {}).expect("nothing to do");
    assert_eq!(
        done,
        TableProgress {
            kept: 2,
            measured: 0
        }
    );

    let rows = read_settings_table(&config.path).expect("reads");
    assert_eq!(rows.len(), 4, "two pairs × two settings");
    // A row is the run it names: rebuild pair 1 and train its settings again.
    let problem = pair_problem(&sampler, 7, 1);
    let pair_rows: Vec<_> = rows.iter().filter(|r| r.pair == 1).collect();
    let settings: Vec<_> = pair_rows.iter().map(|r| r.settings()).collect();
    let again = sweep_settings(&problem, &settings, config.training, &device).expect("trains");
    for (row, outcome) in pair_rows.iter().zip(&again) {
        assert_eq!(row.channels, problem.channels);
        assert_eq!(row.train_images, problem.task.train.len());
        assert_eq!(row.image_shape, "1x28x28");
        let loss = row.validation_loss.expect("finite");
        assert!(
            (loss - outcome.loss).abs() < 1e-9,
            "{}: table {loss}, again {}",
            row.settings(),
            outcome.loss
        );
    }

    // Grouped by pair in the grid's order; a pair missing a setting is left out.
    let grid = more.grid.settings().expect("valid grid");
    let pairs = table_pairs(&rows, &grid);
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[1].row.pair, 1);
    assert_eq!(pairs[1].losses[1], pair_rows[1].loss());
    assert!(
        table_pairs(&rows[..3], &grid).len() == 1,
        "pair 1 lacks a setting"
    );

    // Another seed, run length or grid would mix two tables: refused, file untouched.
    let before = std::fs::read(&config.path).expect("reads");
    for other in [
        SettingsTableConfig {
            seed: 8,
            ..more.clone()
        },
        SettingsTableConfig {
            training: CandidateTraining {
                steps: 13,
                ..config.training
            },
            ..more.clone()
        },
        SettingsTableConfig {
            grid: SettingsGrid {
                adam_steps: vec![3e-3],
                ..more.grid.clone()
            },
            ..more.clone()
        },
    ] {
        let err = extend_settings_table(&other, &sampler, &device, |_, _, _, _| {})
            .expect_err("another table");
        assert!(
            matches!(err, AonError::InvalidConfig(ref m) if m.contains("another table")),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&config.path).expect("reads"), before);

    // A last line cut short names the file.
    let text = String::from_utf8(before).expect("UTF-8");
    let cut = &text[..text.trim_end().rfind(',').expect("a comma")];
    std::fs::write(&config.path, cut).expect("writes");
    let err = read_settings_table(&config.path).expect_err("damaged");
    assert!(
        matches!(err, AonError::Table { .. }) && err.to_string().contains("table.csv"),
        "{err}"
    );
}
