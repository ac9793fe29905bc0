//! Meta-training: exclusions, resume after an interruption, refusal of
//! another run's folder, loading.

use metanas_aen::{AenConfig, MetaAenConfig, TrainingConfig};
use metanas_aon::aon_parameters::flatten_parameters;
use metanas_aon::{Aon, AonConfig, AonMetaTrainerConfig, InnerProblemConfig};
use metanas_data::{BenchmarkTable, MetricKind, TaskCatalog, shipped};
use metanas_meta::{
    AonSelection, MetaError, MetaModel, MetaProgress, MetaTrainConfig, MetaTrainer, SourceTasks,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use metanas_space::nb201::vocabulary::{AVG_POOL_3X3, NOR_CONV_1X1, NOR_CONV_3X3};
use std::path::Path;

/// A small table: 300 NB201 cells, three families of synthetic accuracies.
fn table(dir: &Path) -> BenchmarkTable<Nb201Space> {
    let space = Nb201Space;
    let mut csv = String::from("index,arch,aa_valid,aa_test,bb_valid,cc_valid\n");
    for (i, cell) in space
        .enumerate()
        .expect("finite")
        .step_by(52)
        .take(300)
        .enumerate()
    {
        let e = space.encode(&cell);
        let count = |op: usize| e.count_nodes(op) as f64;
        let (conv, pool) = (count(NOR_CONV_3X3), count(AVG_POOL_3X3));
        csv.push_str(&format!(
            "{i},{},{},{},{},{}\n",
            space.format(&cell),
            50.0 + 5.0 * conv - pool,
            51.0 + 5.0 * conv - pool,
            40.0 + 4.0 * conv + count(NOR_CONV_1X1),
            30.0 + 3.0 * conv - 2.0 * pool
        ));
    }
    let path = dir.join("table.csv");
    std::fs::write(&path, csv).expect("writes");
    BenchmarkTable::from_csv(space, &path).expect("reads")
}

fn config(seed: u64) -> MetaTrainConfig {
    let aen = MetaAenConfig::new(
        AenConfig::new(Nb201Space.vocabulary_size())
            .with_hidden(8)
            .with_features(8),
    )
    .with_ensemble(1)
    .with_training(TrainingConfig::new().with_batch_size(64).with_max_epochs(3));
    let problems = InnerProblemConfig::new()
        .with_min_channels(4)
        .with_max_channels(4)
        .with_shots(20)
        .with_validation_shots(10)
        .with_horizon(20);
    let aon = AonMetaTrainerConfig::new(AonConfig::new(), problems)
        .with_unroll(5)
        .with_validation_examples(50);
    MetaTrainConfig::new(aen)
        .with_aon(Some(aon))
        .with_aon_meta_steps(3)
        .with_checkpoint_every(1)
        .with_aon_selection(Some(AonSelection::new().with_problems(2).with_every(2)))
        .with_image_cells(2)
        .with_image_steps(5)
        .with_image_channels(4)
        .with_seed(seed)
}

#[test]
fn exclusions_drop_the_whole_family() {
    let dir = tempfile::tempdir().expect("temp dir");
    let table = table(dir.path());
    let catalog = TaskCatalog::generic(table.column_names());
    let sources =
        SourceTasks::from_table(&table, &catalog, &[MetricKind::Accuracy], &["aa".into()])
            .expect("sources");
    assert!(
        sources
            .selection
            .tasks
            .iter()
            .all(|t| !t.starts_with("aa_")),
        "{:?}",
        sources.selection
    );
    assert!(
        sources
            .selection
            .excluded_columns
            .contains(&"aa_test".to_string())
    );
    assert_eq!(sources.tasks.len(), sources.selection.tasks.len());
    assert!(matches!(
        SourceTasks::from_table(&table, &catalog, &[MetricKind::Accuracy], &["zz".into()]),
        Err(MetaError::Data(_))
    ));
}

#[test]
fn report_columns_as_sources_add_the_kept_families_test_columns_only() {
    let table = shipped::nb201_table().expect("shipped NB201 table");
    let catalog = TaskCatalog::nb201_accuracy(table.column_names()).with_report_columns_as_tasks();
    let sources =
        SourceTasks::from_table(&table, &catalog, &[MetricKind::Accuracy], &["c100".into()])
            .expect("sources");
    let mut tasks = sources.selection.tasks.clone();
    tasks.sort();
    let mut expected: Vec<String> = [
        "c10v_valid",
        "c10v_valid_hp12",
        "c10_test",
        "c10_test_hp12",
        "c10_test_nats",
    ]
    .iter()
    .chain(&[
        "in16_valid",
        "in16_valid_hp12",
        "in16_test",
        "in16_test_hp12",
        "in16_test_nats",
    ])
    .map(|c| c.to_string())
    .collect();
    expected.sort();
    assert_eq!(tasks, expected);
    assert!(
        sources
            .selection
            .excluded_columns
            .contains(&"c100_test_nats".to_string())
    );
}

#[test]
fn an_interrupted_meta_training_resumes_from_its_checkpoint() {
    let device = metanas_device::test_device();
    let dir = tempfile::tempdir().expect("temp dir");
    let table = table(dir.path());
    let catalog = TaskCatalog::generic(table.column_names());
    let sources =
        SourceTasks::from_table(&table, &catalog, &[MetricKind::Accuracy], &["aa".into()])
            .expect("sources");
    let images = shipped::mnist10k().expect("shipped MNIST");

    // Uninterrupted.
    let whole = dir.path().join("whole");
    let model = MetaTrainer::new(config(1), &whole, &device)
        .expect("valid")
        .run(&sources, Some(&images), &mut |_| {})
        .expect("trains")
        .expect("complete");
    assert!(model.aon.is_some());
    let measured = model.image_observations().expect("stored cells parse");
    assert_eq!(measured.len(), 2);
    assert!(
        measured
            .iter()
            .all(|(_, accuracy)| (0.0..=100.0).contains(accuracy))
    );
    assert_eq!(model.manifest.aon_curve.len(), 3);
    assert!(model.saw("aa_valid").is_none(), "aa was excluded");
    // The start, every 2nd meta-step and the last are scored; the best is kept.
    let scored: Vec<usize> = model
        .manifest
        .aon_validation
        .iter()
        .map(|v| v.step)
        .collect();
    assert_eq!(scored, vec![0, 2, 3]);
    let best = model.manifest.best_aon_validation().expect("scored");
    assert!(
        model
            .manifest
            .aon_validation
            .iter()
            .all(|v| v.loss >= best.loss)
    );
    assert_eq!(model.manifest.aon_best_step, Some(best.step));
    let kept =
        Aon::load(&metanas_meta::aon_best_dir(&whole, best.step), &device).expect("best AON saved");
    let best_folders = std::fs::read_dir(&whole)
        .expect("folder")
        .filter(|e| {
            e.as_ref().is_ok_and(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(metanas_meta::AON_BEST_PREFIX)
            })
        })
        .count();
    assert_eq!(best_folders, 1, "replaced bests are removed");
    assert_eq!(
        flatten_parameters(model.aon.as_ref().expect("AON")),
        flatten_parameters(&kept)
    );
    assert!(model.saw("bb_valid").is_some());

    // Interrupted after 2 meta-steps, then resumed.
    let parts = dir.path().join("parts");
    let first = MetaTrainer::new(config(1), &parts, &device)
        .expect("valid")
        .with_aon_step_limit(Some(2))
        .run(&sources, Some(&images), &mut |_| {})
        .expect("runs");
    assert!(first.is_none(), "paused");
    assert!(matches!(
        MetaModel::load(&parts, &device),
        Err(MetaError::NotAMetaModel { .. })
    ));
    let mut events = Vec::new();
    let resumed = MetaTrainer::new(config(1), &parts, &device)
        .expect("valid")
        .run(&sources, Some(&images), &mut |p| events.push(p))
        .expect("resumes")
        .expect("complete");
    assert!(
        events.contains(&MetaProgress::AenDone { resumed: true }),
        "{events:?}"
    );
    assert!(
        events.contains(&MetaProgress::AonResumed { steps_done: 2 }),
        "{events:?}"
    );
    let losses = |m: &MetaModel| {
        m.manifest
            .aon_curve
            .iter()
            .map(|p| p.meta_loss)
            .collect::<Vec<_>>()
    };
    let (a, b) = (losses(&model), losses(&resumed));
    assert_eq!(a.len(), b.len());
    // The steps before the checkpoint are kept as they were (same seeds, same
    // numbers); after it the AON and its meta-optimizer continue from the
    // checkpoint, but inner training runs in flight restart (the AON
    // trainer does not checkpoint them), so later steps may differ.
    for (x, y) in a[..2].iter().zip(&b[..2]) {
        assert!(
            (x - y).abs() < 1e-5 * x.abs().max(1.0),
            "uninterrupted {a:?} vs resumed {b:?}"
        );
    }
    assert!(b[2].is_finite());
    // The scores before the pause are kept, and the resumed run scores the rest.
    let scored = |m: &MetaModel| {
        m.manifest
            .aon_validation
            .iter()
            .map(|v| (v.step, v.loss))
            .collect::<Vec<_>>()
    };
    let (a, b) = (scored(&model), scored(&resumed));
    assert_eq!(
        a.iter().map(|v| v.0).collect::<Vec<_>>(),
        b.iter().map(|v| v.0).collect::<Vec<_>>()
    );
    for (x, y) in a[..2].iter().zip(&b[..2]) {
        assert!(
            (x.1 - y.1).abs() < 1e-5 * x.1.abs().max(1.0),
            "uninterrupted {a:?} vs resumed {b:?}"
        );
    }

    // A folder of other settings is refused, and nothing in it is touched.
    let before =
        std::fs::read_to_string(parts.join(metanas_meta::MANIFEST_FILE)).expect("manifest");
    let other = MetaTrainer::new(config(2), &parts, &device)
        .expect("valid")
        .run(&sources, Some(&images), &mut |_| {});
    assert!(matches!(other, Err(MetaError::Mismatch { .. })));
    assert_eq!(
        before,
        std::fs::read_to_string(parts.join(metanas_meta::MANIFEST_FILE)).expect("manifest")
    );
    let loaded = MetaModel::load(&parts, &device).expect("loads");
    assert_eq!(loaded.aen.task_names(), resumed.aen.task_names());
}

#[test]
fn meta_training_fits_the_aon_settings_chooser_that_a_search_applies() {
    use metanas_aon::{ChooserExample, SettingsChooser, SettingsTableRow, UpdateSettings};
    use metanas_meta::{
        CandidateDescription, ConditionedSettings, MetaModelPart, PLAIN_FEATURES, SearchedNetworks,
        candidate_features,
    };
    use metanas_search::CandidateSettings;
    use metanas_space::nb201::{Nb201Cell, Nb201Operation};

    let device = metanas_device::test_device();
    let dir = tempfile::tempdir().expect("temp dir");
    let table = table(dir.path());
    let catalog = TaskCatalog::generic(table.column_names());
    let sources =
        SourceTasks::from_table(&table, &catalog, &[MetricKind::Accuracy], &[]).expect("sources");
    let small = UpdateSettings {
        adam_step: 1e-3,
        sgd_nesterov_step: None,
        warmup_steps: 0,
    };
    let large = UpdateSettings {
        adam_step: 3e-2,
        sgd_nesterov_step: Some(0.1),
        warmup_steps: 0,
    };
    // Measured pairs where convolution-heavy cells train best with the small
    // steps and the others with the large ones.
    let best_for = |cell: &Nb201Cell| {
        let convs = cell
            .ops()
            .iter()
            .filter(|o| **o == Nb201Operation::Conv3x3)
            .count();
        if convs >= 2 { small } else { large }
    };
    let cells: Vec<Nb201Cell> = Nb201Space
        .enumerate()
        .expect("finite")
        .step_by(391)
        .take(40)
        .collect();
    let mut rows = Vec::new();
    for (pair, cell) in cells.iter().enumerate() {
        for settings in [small, large] {
            let loss = if settings == best_for(cell) { 0.3 } else { 0.6 };
            rows.push(SettingsTableRow {
                pair,
                table_seed: 0,
                cell: Nb201Space.format(cell),
                channels: 4,
                cells_per_stage: 1,
                classes: "0 1 2".into(),
                train_images: 500,
                image_shape: "1x28x28".into(),
                steps: 100,
                batch_size: 16,
                adam_step: settings.adam_step,
                sgd_nesterov_step: settings.sgd_nesterov_step,
                warmup_steps: 0,
                validation_loss: Some(loss),
                validation_accuracy: Some(0.9),
                seconds: 1.0,
            });
        }
    }
    let config = config(2).with_aon(None).with_image_cells(0);
    let out = dir.path().join("model");
    let mut events = Vec::new();
    let model = MetaTrainer::new(config.clone(), &out, &device)
        .expect("valid")
        .with_aon_settings_table(rows.clone(), "synthetic")
        .run(&sources, None, &mut |p| events.push(p))
        .expect("trains")
        .expect("complete");
    let record = model
        .manifest
        .aon_settings_chooser
        .clone()
        .expect("recorded");
    assert_eq!((record.pairs, record.settings), (40, 2));
    // Cross-validation chose between the plain features and the AEN's.
    assert!(record.validation.other_features_regret.is_some());
    assert_eq!(
        record.features > PLAIN_FEATURES,
        record.reads_aen,
        "{record:?}"
    );
    let reported = events
        .iter()
        .find_map(|p| match p {
            MetaProgress::AonSettingsChooserFitted { record } => Some(record),
            _ => None,
        })
        .expect("the fit is reported");
    assert_eq!(
        (reported.pairs, reported.features, reported.validation.l2),
        (record.pairs, record.features, record.validation.l2)
    );
    // The choice reads the candidate: on pairs it was not fitted on, it
    // loses less than one setting for all (which loses 0.3 on every pair it
    // does not suit).
    let validation = &record.validation;
    assert!(
        validation.regret() < 0.5 * validation.single_setting_regret,
        "{validation:?}"
    );
    assert!(!validation.prefers_single_setting);
    assert!(
        model
            .manifest
            .holds
            .contains(&MetaModelPart::AonSettingsChooser)
    );
    let chooser = model.aon_settings.clone().expect("loaded with the model");

    // A search over networks like the table's applies it to each candidate.
    let networks = SearchedNetworks {
        channels: 4,
        cells_per_stage: 1,
        classes: 3,
        train_images: 500,
        image_shape: [1, 28, 28],
    };
    let applied =
        ConditionedSettings::new(chooser.clone(), Some(model.aen.clone()), networks, "model")
            .expect("the AEN gives the features the chooser reads");
    let right = cells
        .iter()
        .filter(|c| applied.settings_for(c).expect("chooses") == best_for(c))
        .count();
    assert!(right >= 36, "{right}/40 pairs get their best setting");
    assert!(applied.describe().contains("model"));
    // A chooser that reads the AEN's embedding, applied without the AEN.
    let description = |cell: &Nb201Cell| CandidateDescription {
        cell: *cell,
        channels: 4,
        cells_per_stage: 1,
        classes: 3,
        train_images: 500,
        image_shape: [1, 28, 28],
    };
    let descriptions: Vec<CandidateDescription> = cells.iter().map(description).collect();
    let examples: Vec<ChooserExample> = candidate_features(Some(&model.aen), &descriptions)
        .expect("features")
        .into_iter()
        .zip(&cells)
        .map(|(features, cell)| ChooserExample {
            features,
            losses: [small, large]
                .iter()
                .map(|s| if *s == best_for(cell) { 0.3 } else { 0.6 })
                .collect(),
        })
        .collect();
    let reads_aen =
        SettingsChooser::fit(&[small, large], &examples, Default::default()).expect("fits");
    assert!(reads_aen.feature_count() > PLAIN_FEATURES);
    match ConditionedSettings::new(reads_aen, None, networks, "model") {
        Err(MetaError::InvalidConfig(message)) => {
            assert!(message.contains("features"), "{message}");
        }
        other => panic!("expected a feature-count error, got {:?}", other.err()),
    }

    // Running again keeps the fitted chooser.
    let file = out.join(metanas_meta::AON_SETTINGS_CHOOSER_FILE);
    let before = std::fs::read(&file).expect("saved");
    let mut again = Vec::new();
    let reloaded = MetaTrainer::new(config, &out, &device)
        .expect("valid")
        .with_aon_settings_table(rows, "synthetic")
        .run(&sources, None, &mut |p| again.push(p))
        .expect("runs")
        .expect("complete");
    assert!(
        !again
            .iter()
            .any(|p| matches!(p, MetaProgress::AonSettingsChooserFitted { .. })),
        "{again:?}"
    );
    assert_eq!(std::fs::read(&file).expect("kept"), before);
    assert_eq!(reloaded.aon_settings, Some(chooser));
}
