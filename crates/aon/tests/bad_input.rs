//! Bad settings and damaged files give typed errors, never panics.

use burn::config::Config;
use metanas_aon::{
    Aon, AonConfig, AonError, AonMetaTrainerConfig, Baseline, CandidateTraining, CellPool,
    FeedbackInputs, InnerProblemConfig, InnerProblemSampler, tune_learning_rate,
};
use metanas_device::test_device;
use metanas_net::TrainingFeedback;

#[test]
fn bad_settings_are_refused_before_work() {
    let device = test_device();
    assert!(matches!(
        AonConfig::new().with_hidden(0).init(&device),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        AonConfig::new().with_initial_step(-1.0).init(&device),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        AonConfig::new().with_initial_step(f64::NAN).check(),
        Err(AonError::InvalidConfig(_))
    ));
    let problems = InnerProblemConfig::new();
    assert!(matches!(
        problems.clone().with_min_channels(9).check(),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        problems.clone().with_ways(1).check(),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        problems.clone().with_horizon(0).check(),
        Err(AonError::InvalidConfig(_))
    ));
    let meta = AonMetaTrainerConfig::new(AonConfig::new(), problems.clone());
    assert!(meta.check().is_ok());
    assert!(matches!(
        meta.clone().with_unroll(0).check(),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        meta.clone().with_max_gradient_norm(0.0).check(),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        meta.clone().with_meta_learning_rate(f64::INFINITY).check(),
        Err(AonError::InvalidConfig(_))
    ));
    // More ways than the dataset has classes: the data crate's error.
    let mnist = metanas_data::shipped::mnist10k().expect("shipped MNIST");
    assert!(matches!(
        InnerProblemSampler::new(problems.clone().with_ways(11), mnist, CellPool::All),
        Err(AonError::Data(_))
    ));
    let training = CandidateTraining {
        steps: 1,
        batch_size: 4,
        eval_every: 0,
    };
    assert!(matches!(
        tune_learning_rate(Baseline::Adam, &[], &[], training, &device),
        Err(AonError::InvalidConfig(_))
    ));
}

#[test]
fn missing_or_damaged_files_are_named_in_the_error() {
    let device = test_device();
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(
        Aon::load(dir.path(), &device),
        Err(AonError::Io { .. })
    ));

    std::fs::write(dir.path().join("aon.json"), "{ not json").expect("writes");
    match Aon::load(dir.path(), &device) {
        Err(AonError::Json { path, .. }) => assert!(path.ends_with("aon.json")),
        other => panic!("expected a JSON error, got {other:?}"),
    }

    // A valid config but no weights.
    let aon = AonConfig::new()
        .with_hidden(8)
        .init(&device)
        .expect("valid");
    aon.save(dir.path()).expect("saves");
    std::fs::remove_file(dir.path().join("aon.bpk")).expect("removes");
    assert!(matches!(
        Aon::load(dir.path(), &device),
        Err(AonError::Io { .. })
    ));

    // Weights of another size than the config says.
    AonConfig::new()
        .with_hidden(4)
        .init(&device)
        .expect("valid")
        .save(dir.path())
        .expect("saves");
    aon.config()
        .save(dir.path().join("aon.json"))
        .expect("writes");
    assert!(matches!(
        Aon::load(dir.path(), &device),
        Err(AonError::Record { .. })
    ));

    // A garbage weights file.
    std::fs::write(dir.path().join("aon.bpk"), b"garbage").expect("writes");
    assert!(matches!(
        Aon::load(dir.path(), &device),
        Err(AonError::Record { .. })
    ));

    // A config with an impossible setting.
    AonConfig::new()
        .with_hidden(0)
        .save(dir.path().join("aon.json"))
        .expect("writes");
    assert!(matches!(
        Aon::load(dir.path(), &device),
        Err(AonError::InvalidConfig(_))
    ));
}

#[test]
fn odd_feedback_gives_finite_inputs() {
    for (loss, initial, smoothed) in [
        (f64::NAN, 1.0, 1.0),
        (1.0, 0.0, 1.0),
        (f64::INFINITY, 2.0, -1.0),
        (1e30, 1e-30, 1.0),
    ] {
        let feedback = TrainingFeedback {
            step: 3,
            total_steps: 0,
            loss,
            initial_loss: initial,
            smoothed_loss: smoothed,
        };
        let inputs = FeedbackInputs::from_feedback(&feedback).values();
        assert!(
            inputs.iter().all(|v| v.is_finite()),
            "{inputs:?} from {feedback:?}"
        );
    }
}
