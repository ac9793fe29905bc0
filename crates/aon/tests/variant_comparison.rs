//! The AON variants side by side at an equal wall-clock budget of
//! meta-training: with and without the run-feedback inputs, first-order
//! meta-gradients or evolution strategies, window length. Not part of the
//! normal test run (minutes per variant); run it with
//!
//! ```sh
//! ADAM_RATE=0.01 META_LR=1e-3 VARIANTS=fo_fb,fo_nofb,es_fb BUDGET_S=200 \
//!   cargo test --release -p metanas-aon --test variant_comparison -- --ignored --nocapture
//! ```
//!
//! Variants: `fo` (first-order) or `es` (evolution strategies), suffix `_fb`
//! (feedback inputs) or anything else (none). Other settings: `UNROLL` (window
//! `T`, default 20), `TRAIN_W` (weight of the mean training loss), `EVAL_PAIRS`
//! (held-out Fashion-MNIST pairs, default 6), `SAVE_DIR` (save each AON).
//! Without `ADAM_RATE`, Adam's rate is first tuned on 3 MNIST problems.
//!
//! After printing every variant it checks what must hold whatever the
//! budget: each variant took a meta-step and not every one was skipped,
//! meta-training changed the AON, and the meta-trained AON trains every
//! held-out pair without diverging, to a mean loss within
//! `MAX_LOSS_RATIO` (default 1.25) of Adam's at the rate it started from (a fresh
//! AON is that Adam: meta-training that makes it much worse is broken).
use metanas_aon::aon_parameters::flatten_parameters;
use metanas_aon::*;
use metanas_device::BackendChoice;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Instant;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "a harness: minutes per variant, run by hand (see the module doc)"]
fn variants_at_an_equal_meta_training_budget() {
    let device = BackendChoice::Flex.device();
    let mnist = metanas_data::shipped::mnist10k().expect("mnist");
    let fashion = metanas_data::shipped::fashion_mnist_test().expect("fashion");
    let problems = InnerProblemConfig::new();
    let training = CandidateTraining {
        steps: 100,
        batch_size: problems.batch_size,
        eval_every: 0,
    };
    let adam_rate: f64 = env("ADAM_RATE", 0.0);
    let adam_rate = if adam_rate > 0.0 {
        adam_rate
    } else {
        let sampler =
            InnerProblemSampler::new(problems.clone(), mnist.clone(), CellPool::MetaTraining)
                .expect("s");
        let mut rng = StdRng::seed_from_u64(1000);
        let tune: Vec<InnerProblem> = (0..3).map(|_| sampler.sample(&mut rng)).collect();
        let t = Instant::now();
        let tuning = tune_learning_rate(
            Baseline::Adam,
            &[1e-3, 3e-3, 1e-2, 3e-2],
            &tune,
            training,
            &device,
        )
        .expect("tune");
        eprintln!(
            "adam tuning {:?} in {:.0}s",
            tuning.mean_losses,
            t.elapsed().as_secs_f64()
        );
        tuning.best_rate
    };
    let eval_sampler =
        InnerProblemSampler::new(problems.clone(), fashion, CellPool::HeldOut).expect("s");
    let mut rng = StdRng::seed_from_u64(7);
    let eval: Vec<InnerProblem> = (0..env("EVAL_PAIRS", 6))
        .map(|_| eval_sampler.sample(&mut rng))
        .collect();
    let adam: Vec<f64> = eval
        .iter()
        .map(|p| {
            train_with_optimizer(p, Baseline::Adam.optimizer(adam_rate), training, &device)
                .expect("adam")
                .final_loss()
        })
        .collect();
    let adam_mean = adam.iter().sum::<f64>() / adam.len() as f64;
    eprintln!("adam({adam_rate}) held-out mean {adam_mean:.4}: {adam:.3?}");
    assert!(
        adam_mean.is_finite(),
        "Adam diverged on a held-out pair: {adam:?}"
    );
    let max_ratio: f64 = env("MAX_LOSS_RATIO", 1.25);
    let mut failures = Vec::new();
    for variant in std::env::var("VARIANTS")
        .unwrap_or("fo_fb".into())
        .split(',')
    {
        let method = if variant.starts_with("es") {
            MetaGradientMethod::Evolution
        } else {
            MetaGradientMethod::FirstOrder
        };
        let feedback = variant.ends_with("_fb");
        let config = AonMetaTrainerConfig::new(
            AonConfig::new()
                .with_initial_step(adam_rate)
                .with_use_feedback(feedback),
            problems.clone(),
        )
        .with_method(method)
        .with_train_loss_weight(env("TRAIN_W", 0.0))
        .with_meta_learning_rate(env("META_LR", 3e-3))
        .with_unroll(env("UNROLL", 20));
        let mut trainer = AonMetaTrainer::new(config, mnist.clone(), &device).expect("trainer");
        let start = flatten_parameters(&trainer.aon());
        let mut skipped = 0;
        let mut rng = StdRng::seed_from_u64(1);
        let budget: f64 = env("BUDGET_S", 120.0);
        let t = Instant::now();
        let mut recent = Vec::new();
        while t.elapsed().as_secs_f64() < budget {
            let r = trainer.meta_step(&mut rng).expect("step");
            skipped += usize::from(r.skipped);
            recent.push(r.meta_loss);
            if r.step % 10 == 9 {
                let n = recent.len() as f64;
                eprintln!(
                    "  {variant} step {} mean meta-loss {:.4} |g| {:.3} {:.1}s/step",
                    r.step,
                    recent.iter().sum::<f64>() / n,
                    r.gradient_norm,
                    r.seconds
                );
                recent.clear();
            }
        }
        let aon = trainer.aon();
        let losses: Vec<f64> = eval
            .iter()
            .map(|p| {
                train_with_aon(p, &aon, training, &device)
                    .expect("aon")
                    .final_loss()
            })
            .collect();
        let wins = losses.iter().zip(&adam).filter(|(a, b)| a < b).count();
        let mean = losses.iter().sum::<f64>() / losses.len() as f64;
        eprintln!(
            "{variant}: {} meta-steps, step {:.5}, held-out mean {mean:.4} (wins {wins}/{}): {losses:.3?}",
            trainer.meta_steps(),
            aon.base_step(),
            losses.len()
        );
        let steps = trainer.meta_steps();
        if steps == 0 || skipped == steps {
            failures.push(format!("{variant}: {steps} meta-steps, {skipped} skipped"));
        }
        if flatten_parameters(&aon) == start {
            failures.push(format!(
                "{variant}: meta-training left the AON as it started"
            ));
        }
        if !(mean.is_finite() && mean <= max_ratio * adam_mean) {
            failures.push(format!(
                "{variant}: held-out mean {mean:.4} against Adam's {adam_mean:.4} (at most {max_ratio}×)"
            ));
        }
        if let Ok(dir) = std::env::var("SAVE_DIR") {
            aon.save(&std::path::Path::new(&dir).join(variant))
                .expect("save");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
