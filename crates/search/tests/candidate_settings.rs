//! The architecture-conditioned AON in a search: the training evaluator
//! trains each candidate with the settings a `CandidateSettings` chooses for
//! that candidate, records them, and reports a failed choice clearly.

use metanas_aon::UpdateSettings;
use metanas_search::{CandidateSettings, Evaluator, SearchError, TrainingEvaluator};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Operation, Nb201Space};
use std::cell::RefCell;
use std::rc::Rc;

mod common;

fn evaluator() -> TrainingEvaluator<Nb201Space> {
    common::toy_evaluator(48, [1, 8, 8], 2, 6, 8)
}

const SMALL: UpdateSettings = UpdateSettings {
    adam_step: 1e-3,
    sgd_nesterov_step: None,
    warmup_steps: 0,
};
const LARGE: UpdateSettings = UpdateSettings {
    adam_step: 3e-2,
    sgd_nesterov_step: Some(0.1),
    warmup_steps: 0,
};

/// Chooses by the candidate: LARGE for cells with a 3×3 convolution on the
/// first edge, SMALL otherwise; remembers what it was asked.
struct ByFirstEdge {
    asked: Rc<RefCell<Vec<Nb201Cell>>>,
}

impl CandidateSettings<Nb201Cell> for ByFirstEdge {
    fn settings_for(&self, arch: &Nb201Cell) -> metanas_search::Result<UpdateSettings> {
        self.asked.borrow_mut().push(*arch);
        Ok(if arch.ops()[0] == Nb201Operation::Conv3x3 {
            LARGE
        } else {
            SMALL
        })
    }

    fn describe(&self) -> String {
        "a test rule".into()
    }
}

struct Fixed(UpdateSettings);

impl CandidateSettings<Nb201Cell> for Fixed {
    fn settings_for(&self, _: &Nb201Cell) -> metanas_search::Result<UpdateSettings> {
        Ok(self.0)
    }

    fn describe(&self) -> String {
        "a fixed setting".into()
    }
}

struct Failing;

impl CandidateSettings<Nb201Cell> for Failing {
    fn settings_for(&self, _: &Nb201Cell) -> metanas_search::Result<UpdateSettings> {
        Err(SearchError::SettingsChoice("the chooser is broken".into()))
    }

    fn describe(&self) -> String {
        "a broken chooser".into()
    }
}

fn cell(text: &str) -> Nb201Cell {
    Nb201Space.parse(text).expect("a cell")
}

#[test]
fn each_candidate_is_trained_with_the_settings_chosen_for_it() {
    let conv = cell(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    );
    let pool = cell(
        "|avg_pool_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    );
    let asked = Rc::new(RefCell::new(Vec::new()));
    let mut chosen = evaluator().with_candidate_settings(Box::new(ByFirstEdge {
        asked: Rc::clone(&asked),
    }));
    assert!(
        Evaluator::<Nb201Space>::describe(&chosen).contains("a test rule"),
        "the choice is part of the search key"
    );
    let on_conv = chosen.evaluate(&conv, 3).expect("trains");
    let on_pool = chosen.evaluate(&pool, 3).expect("trains");
    assert_eq!(*asked.borrow(), vec![conv, pool]);
    assert_eq!(on_conv.details["adam_step"], LARGE.adam_step);
    assert_eq!(on_conv.details["sgd_nesterov_step"], 0.1);
    assert_eq!(on_pool.details["adam_step"], SMALL.adam_step);
    assert_eq!(on_pool.details["sgd_nesterov_step"], 0.0);

    // The chosen settings are exactly what trains the candidate: the same as
    // a search that trains every candidate with that one setting, and not
    // the same as one that trains it with the other.
    let mut large = evaluator().with_candidate_settings(Box::new(Fixed(LARGE)));
    let mut small = evaluator().with_candidate_settings(Box::new(Fixed(SMALL)));
    let conv_large = large.evaluate(&conv, 3).expect("trains");
    let conv_small = small.evaluate(&conv, 3).expect("trains");
    assert_eq!(
        on_conv.details["validation_loss"],
        conv_large.details["validation_loss"]
    );
    assert_ne!(
        conv_large.details["validation_loss"], conv_small.details["validation_loss"],
        "the settings change the training"
    );
    assert_eq!(
        on_pool.details["validation_loss"],
        small.evaluate(&pool, 3).expect("trains").details["validation_loss"]
    );
}

#[test]
fn a_chosen_setting_equals_the_fresh_aon_it_names() {
    let arch = cell(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    );
    let device = metanas_device::test_device();
    let aon = metanas_seeding::seeded_module(&device, 0, || LARGE.aon_config().init(&device))
        .expect("a fresh AON");
    let by_aon = evaluator()
        .with_aon(aon, "fresh")
        .evaluate(&arch, 5)
        .expect("trains");
    let by_choice = evaluator()
        .with_candidate_settings(Box::new(Fixed(LARGE)))
        .evaluate(&arch, 5)
        .expect("trains");
    assert_eq!(
        by_aon.details["validation_loss"],
        by_choice.details["validation_loss"]
    );
    assert_eq!(by_aon.objective, by_choice.objective);
}

#[test]
fn a_failed_or_invalid_choice_is_a_clear_error() {
    let arch = cell(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    );
    match evaluator()
        .with_candidate_settings(Box::new(Failing))
        .evaluate(&arch, 1)
    {
        Err(e @ SearchError::SettingsChoice(_)) => {
            assert!(e.to_string().contains("the chooser is broken"), "{e}");
        }
        other => panic!("expected a settings-choice error, got {other:?}"),
    }
    let negative = UpdateSettings {
        adam_step: -1.0,
        ..SMALL
    };
    match evaluator()
        .with_candidate_settings(Box::new(Fixed(negative)))
        .evaluate(&arch, 1)
    {
        Err(e @ SearchError::Aon(_)) => {
            assert!(e.to_string().contains("Adam step"), "{e}");
        }
        other => panic!("expected an invalid-settings error, got {other:?}"),
    }
}
