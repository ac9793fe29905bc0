//! Batch norm's training pass as one op with its own backward
//! ([`metanas_norm::batch_norm_training`]: fused kernels on flex), instead of
//! Burn's default, which transposes the activation (a full copy) for every
//! statistic and again in the backward pass.

use burn::module::RunningState;
use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use metanas_norm::BatchNormTraining;

/// `norm`'s forward pass on `x` (`[batch, channels, h, w]`): in training
/// (an autodiff device and a trainable layer) from the batch statistics,
/// updating the running mean and variance as Burn's layer does (the biased
/// batch variance; PyTorch keeps the unbiased one); otherwise Burn's
/// inference pass. Values and gradients equal Burn's to float rounding.
///
/// The running statistics are committed at once, so that they do not depend
/// on the thread a pass runs on: Burn keeps a [`RunningState`]'s updates per
/// thread and averages them at the next read from a thread that has one, so
/// consecutive steps on different threads (a training loop on rayon's pool)
/// would read stale statistics and average them in an order set by timing.
///
/// # Panics
/// If the layer's channels are not `x`'s, ε is not positive, or (in
/// training) a channel has no values (an empty batch).
pub fn batch_norm(norm: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let training = x.device().is_autodiff() && norm.training.is_enabled();
    if !training {
        return norm.forward(x);
    }
    let BatchNormTraining {
        output,
        mean,
        variance,
    } = metanas_norm::batch_norm_training(x, norm.gamma.val(), norm.beta.val(), norm.epsilon)
        .unwrap_or_else(|e| panic!("batch norm: {e}"));
    let device = output.device();
    let momentum = norm.momentum;
    let running_mean = norm.running_mean.value_sync().to_device(&device);
    let running_var = norm.running_var.value_sync().to_device(&device);
    commit(
        &norm.running_mean,
        running_mean * (1.0 - momentum) + mean * momentum,
    );
    commit(
        &norm.running_var,
        running_var * (1.0 - momentum) + variance * momentum,
    );
    output
}

/// Makes `value` the state's value on every thread: the update, then the
/// synchronisation that folds it in. It is the only pending update as long as
/// one layer (or its plain clones, which share the state) is not run by two
/// threads at once; nothing in metanas does that.
fn commit(state: &RunningState<Tensor<1>>, value: Tensor<1>) {
    state.update(value.detach());
    state.value_sync();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::largest_difference;
    use burn::nn::BatchNormConfig;
    use burn::tensor::Distribution;

    #[test]
    fn training_pass_equals_burns_batch_norm_in_values_gradients_and_running_statistics() {
        let device = metanas_device::test_device().autodiff();
        for shape in [[4, 3, 5, 6], [2, 8, 1, 1], [1, 2, 4, 4]] {
            let c = shape[1];
            // Two separate layers (running statistics are shared between
            // clones) with the same non-trivial affine parameters.
            let layer = || {
                metanas_seeding::seeded(&device, 7, || {
                    let mut norm = BatchNormConfig::new(c).init(&device);
                    norm.gamma = norm.gamma.map(|_| {
                        Tensor::random([c], Distribution::Normal(1.0, 0.5), &device).require_grad()
                    });
                    norm.beta = norm.beta.map(|_| {
                        Tensor::random([c], Distribution::Normal(0.0, 0.5), &device).require_grad()
                    });
                    norm
                })
            };
            let (ours, theirs) = (layer(), layer());
            let (x, weights) = metanas_seeding::seeded(&device, 8, || {
                let x = Tensor::<4>::random(shape, Distribution::Normal(0.5, 2.0), &device);
                (
                    x,
                    Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device),
                )
            });
            let x_ours = x.clone().detach().require_grad();
            let x_theirs = x.detach().require_grad();
            let y_ours = batch_norm(&ours, x_ours.clone());
            let y_theirs = theirs.forward(x_theirs.clone());
            let output_difference =
                largest_difference(y_ours.clone().detach(), y_theirs.clone().detach());
            assert!(
                output_difference < 1e-4,
                "output differs by {output_difference}, {shape:?}"
            );
            let g_ours = (y_ours * weights.clone()).sum().backward();
            let g_theirs = (y_theirs * weights).sum().backward();
            let input_gradients = (
                x_ours.grad(&g_ours).expect("x"),
                x_theirs.grad(&g_theirs).expect("x"),
            );
            let input_difference = largest_difference(input_gradients.0, input_gradients.1);
            assert!(
                input_difference < 1e-4,
                "input gradient differs by {input_difference}, {shape:?}"
            );
            for (what, a, b) in [
                (
                    "gamma gradient",
                    ours.gamma.grad(&g_ours).expect("gamma"),
                    theirs.gamma.grad(&g_theirs).expect("gamma"),
                ),
                (
                    "beta gradient",
                    ours.beta.grad(&g_ours).expect("beta"),
                    theirs.beta.grad(&g_theirs).expect("beta"),
                ),
                (
                    "running mean",
                    ours.running_mean.value_sync(),
                    theirs.running_mean.value_sync(),
                ),
                (
                    "running variance",
                    ours.running_var.value_sync(),
                    theirs.running_var.value_sync(),
                ),
            ] {
                let difference = largest_difference(a, b);
                assert!(
                    difference < 1e-4,
                    "{what} differs by {difference}, {shape:?}"
                );
            }
            // The running statistics moved (not the initial zeros and ones).
            let moved: f32 = ours.running_mean.value_sync().abs().sum().into_scalar();
            assert!(moved > 1e-3, "running mean did not move");
        }
    }

    #[test]
    fn running_statistics_do_not_depend_on_the_thread_of_each_pass() {
        let device = metanas_device::test_device().autodiff();
        let layer =
            || metanas_seeding::seeded(&device, 3, || BatchNormConfig::new(4).init(&device));
        let batches: Vec<Tensor<4>> = (0..4)
            .map(|i| {
                metanas_seeding::seeded(&device, 10 + i, || {
                    Tensor::random([3, 4, 5, 5], Distribution::Normal(i as f64, 1.0), &device)
                })
            })
            .collect();
        let (same_thread, alternating) = (layer(), layer());
        for (i, x) in batches.iter().enumerate() {
            let _ = batch_norm(&same_thread, x.clone());
            if i % 2 == 1 {
                std::thread::scope(|s| {
                    s.spawn(|| batch_norm(&alternating, x.clone()));
                });
            } else {
                let _ = batch_norm(&alternating, x.clone());
            }
        }
        for (what, a, b) in [
            (
                "running mean",
                same_thread.running_mean.value_sync(),
                alternating.running_mean.value_sync(),
            ),
            (
                "running variance",
                same_thread.running_var.value_sync(),
                alternating.running_var.value_sync(),
            ),
        ] {
            assert_eq!(a.into_data(), b.into_data(), "{what}");
        }
    }

    #[test]
    fn inference_pass_is_burns() {
        let device = metanas_device::test_device();
        let norm = metanas_seeding::seeded(&device, 1, || BatchNormConfig::new(3).init(&device));
        let x = metanas_seeding::seeded(&device, 2, || {
            Tensor::<4>::random([2, 3, 4, 4], Distribution::Normal(0.0, 1.0), &device)
        });
        assert_eq!(
            largest_difference(batch_norm(&norm, x.clone()), norm.forward(x)),
            0.0
        );
    }
}
