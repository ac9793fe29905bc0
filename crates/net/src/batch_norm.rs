//! Batch norm's training pass as one op with its own backward
//! ([`metanas_norm::batch_norm_training`]: fused kernels on flex), instead of
//! Burn's default, which transposes the activation (a full copy) for every
//! statistic and again in the backward pass.

use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use metanas_norm::BatchNormTraining;

/// `norm`'s forward pass on `x` (`[batch, channels, h, w]`): in training
/// (an autodiff device and a trainable layer) from the batch statistics,
/// updating the running mean and variance as Burn's layer does (the biased
/// batch variance; PyTorch keeps the unbiased one); otherwise Burn's
/// inference pass. Values and gradients equal Burn's to float rounding.
pub fn batch_norm(norm: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let [out] =
        <[Tensor<4>; 1]>::try_from(batch_norm_stacked(&[norm], x)).expect("one output per layer");
    out
}

/// [`batch_norm`] of several layers at once: `x`'s channels are those of
/// `norms[0]`, then those of `norms[1]`, and so on (as when convolutions that
/// share an input are computed as one). Batch norm works channel by channel,
/// so this equals normalising each slice with its own layer; every layer's
/// running statistics are updated from its own channels. The layers must
/// share ε and momentum. Returns one output per layer (its channels).
///
/// # Panics
/// If the layers' channels do not add up to `x`'s, ε or momentum differ, ε is
/// not positive, or (in training) a channel has no values (an empty batch).
pub fn batch_norm_stacked(norms: &[&BatchNorm], x: Tensor<4>) -> Vec<Tensor<4>> {
    let channels: Vec<usize> = norms
        .iter()
        .map(|norm| norm.gamma.val().dims()[0])
        .collect();
    let c = x.dims()[1];
    assert_eq!(
        channels.iter().sum::<usize>(),
        c,
        "batch norm layers of {channels:?} channels on {c} channels"
    );
    let (epsilon, momentum) = (norms[0].epsilon, norms[0].momentum);
    assert!(
        norms
            .iter()
            .all(|norm| norm.epsilon == epsilon && norm.momentum == momentum),
        "stacked batch norm layers must share epsilon and momentum"
    );
    let training = x.device().is_autodiff() && norms.iter().all(|norm| norm.training.is_enabled());
    if !training {
        if let [norm] = norms {
            return vec![norm.forward(x)];
        }
        return x
            .split_with_sizes(channels, 1)
            .into_iter()
            .zip(norms)
            .map(|(slice, norm)| norm.forward(slice))
            .collect();
    }
    let stacked = |part: fn(&BatchNorm) -> Tensor<1>| match norms {
        [norm] => part(norm),
        _ => Tensor::cat(norms.iter().map(|norm| part(norm)).collect(), 0),
    };
    let gamma = stacked(|norm| norm.gamma.val());
    let beta = stacked(|norm| norm.beta.val());
    let BatchNormTraining {
        output: out,
        mean,
        variance,
    } = metanas_norm::batch_norm_training(x, gamma, beta, epsilon)
        .unwrap_or_else(|e| panic!("batch norm: {e}"));
    let device = out.device();
    let mut offset = 0;
    for (norm, &channels) in norms.iter().zip(&channels) {
        let batch_mean = mean.clone().narrow(0, offset, channels);
        let batch_variance = variance.clone().narrow(0, offset, channels);
        offset += channels;
        let running_mean = norm.running_mean.value_sync().to_device(&device);
        let running_var = norm.running_var.value_sync().to_device(&device);
        norm.running_mean
            .update((running_mean * (1.0 - momentum) + batch_mean * momentum).detach());
        norm.running_var
            .update((running_var * (1.0 - momentum) + batch_variance * momentum).detach());
    }
    match norms {
        [_] => vec![out],
        _ => out.split_with_sizes(channels, 1),
    }
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
