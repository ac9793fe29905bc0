//! The AON trains networks: a cell network through metanas-net's training
//! loop, and a plain Burn module through Burn's optimizer interface.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use metanas_aon::{
    AonConfig, AonOptimizer, CandidateTraining, CellPool, InnerProblemConfig, InnerProblemSampler,
    train_with_aon,
};
use metanas_device::test_device;
use metanas_net::TrainingFeedback;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len() as f32
}

#[test]
fn a_fresh_aon_trains_a_cell_network_through_the_training_loop() {
    let device = test_device();
    let aon = metanas_seeding::seeded_module(&device, 3, || {
        AonConfig::new().with_initial_step(1e-2).init(&device)
    })
    .expect("valid config");
    let problems = InnerProblemConfig::new()
        .with_min_channels(4)
        .with_max_channels(4)
        .with_shots(40)
        .with_validation_shots(20);
    let mnist = metanas_data::shipped::mnist10k().expect("shipped MNIST");
    let sampler =
        InnerProblemSampler::new(problems, mnist, CellPool::MetaTraining).expect("valid sampler");
    let problem = sampler.sample(&mut StdRng::seed_from_u64(11));
    let training = CandidateTraining {
        steps: 60,
        batch_size: 16,
        eval_every: 0,
    };
    let outcome = train_with_aon(&problem, &aon, training, &device).expect("trains");
    let report = outcome.report.expect("no divergence");
    let losses = &report.train_losses;
    assert_eq!(losses.len(), 60);
    let (first, last) = (mean(&losses[..5]), mean(&losses[55..]));
    assert!(
        last < 0.7 * first,
        "training loss should fall: first five {first:.3}, last five {last:.3}"
    );
    let validation = report.final_validation().expect("validation set");
    // 5-way task: chance is 20 % and ln 5 ≈ 1.61.
    assert!(
        validation.accuracy > 0.5,
        "validation accuracy {:.3}",
        validation.accuracy
    );
    assert!(
        validation.loss < 1.4,
        "validation loss {:.3}",
        validation.loss
    );
}

/// A least-squares problem `y = x·W*` fitted by a Burn `Linear`.
fn regression(device: &Device) -> (Tensor<2>, Tensor<2>) {
    let x = Tensor::<2>::random([64, 8], Distribution::Normal(0.0, 1.0), device);
    let w = Tensor::<2>::random([8, 2], Distribution::Normal(0.0, 1.0), device);
    (x.clone(), x.matmul(w))
}

fn mse(model: &Linear, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    (model.forward(x) - y).square().mean()
}

#[test]
fn the_aon_is_a_burn_optimizer_with_feedback_through_a_handle() {
    let device = test_device().autodiff();
    // Burn draws a `Linear`'s weights lazily: `seeded_module` draws them inside the seeding lock.
    let linear = |seed| {
        metanas_seeding::seeded_module(&device, seed, || {
            Ok::<_, std::convert::Infallible>(LinearConfig::new(8, 2).init(&device))
        })
        .expect("infallible")
    };
    let aon = metanas_seeding::seeded_module(&device, 5, || {
        AonConfig::new()
            .with_initial_step(0.05)
            .with_use_feedback(true)
            .init(&device)
    })
    .expect("valid config");
    let mut model = linear(6);
    let (x, y) = metanas_seeding::seeded(&device, 7, || regression(&device));
    let (mut optimizer, feedback) = aon.module_optimizer();
    let first = f64::from(mse(&model, x.clone(), y.clone()).into_scalar::<f32>());
    let mut smoothed = first;
    let mut last = first;
    for step in 0..60 {
        let loss = mse(&model, x.clone(), y.clone());
        last = f64::from(loss.clone().into_scalar::<f32>());
        smoothed = 0.9 * smoothed + 0.1 * last;
        feedback.set(TrainingFeedback {
            step,
            total_steps: 60,
            loss: last,
            initial_loss: first,
            smoothed_loss: smoothed,
        });
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1.0, model, grads);
    }
    assert!(last < 0.1 * first, "loss {first:.4} → {last:.4}");

    // The same through AonOptimizer, without any feedback: still trains.
    let mut model = linear(8);
    let mut optimizer = AonOptimizer::new(&aon);
    for _ in 0..60 {
        let loss = mse(&model, x.clone(), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step_module(1.0, model, grads);
    }
    let after = f64::from(mse(&model.valid(), x.inner(), y.inner()).into_scalar::<f32>());
    assert!(
        after < 0.1 * first,
        "loss {first:.4} → {after:.4} without feedback"
    );
}
