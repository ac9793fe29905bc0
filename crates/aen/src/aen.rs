//! The graph convolutional network: cell → feature vector → one output per task.

use crate::encoded_batch::EncodedBatch;
use crate::error::AenError;
use crate::propagation::Propagation;
use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Settings of an [`Aen`].
#[derive(Config, Debug)]
pub struct AenConfig {
    /// Size of the node-operation vocabulary (`SearchSpace::vocabulary_size`).
    pub vocabulary_size: usize,
    /// Number of outputs: one per task (a linear head each on the shared features).
    #[config(default = 1)]
    pub outputs: usize,
    /// Width of node states.
    #[config(default = 64)]
    pub hidden: usize,
    /// Graph-convolution layers.
    #[config(default = 3)]
    pub layers: usize,
    /// Width of the graph feature vector the heads read.
    #[config(default = 64)]
    pub features: usize,
    /// Edge direction and self-loops.
    #[config(default = "Propagation::Symmetric")]
    pub propagation: Propagation,
}

impl AenConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`AenError::InvalidConfig`] naming the setting that is zero.
    pub fn check(&self) -> crate::error::Result<()> {
        for (name, value) in [
            ("vocabulary_size", self.vocabulary_size),
            ("outputs", self.outputs),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("features", self.features),
        ] {
            if value == 0 {
                return Err(AenError::InvalidConfig(format!(
                    "{name} must be at least 1"
                )));
            }
        }
        Ok(())
    }

    /// A fresh network on `device` (build it with `metanas_seeding::seeded_module`
    /// for reproducible weights: its parameters are drawn lazily, at their first
    /// use, otherwise).
    ///
    /// # Errors
    /// As [`AenConfig::check`].
    pub fn init(&self, device: &Device) -> crate::error::Result<Aen> {
        self.check()?;
        let layers = (0..self.layers)
            .map(|_| GcnLayer {
                linears: (0..self.propagation.operators())
                    .map(|_| LinearConfig::new(self.hidden, self.hidden).init(device))
                    .collect(),
            })
            .collect();
        Ok(Aen {
            embedding: EmbeddingConfig::new(self.vocabulary_size, self.hidden).init(device),
            layers,
            feature: LinearConfig::new(self.hidden, self.features).init(device),
            head: LinearConfig::new(self.features, self.outputs).init(device),
        })
    }
}

/// One graph convolution: `h' = relu(Σ_o Â_o h W_o)`, padding rows zeroed.
#[derive(Module, Debug)]
pub struct GcnLayer {
    linears: Vec<Linear>,
}

impl GcnLayer {
    /// # Shapes
    /// `[batch, nodes, hidden]` → `[batch, nodes, hidden]`
    fn forward(&self, x: Tensor<3>, batch: &EncodedBatch) -> Tensor<3> {
        let mut sum: Option<Tensor<3>> = None;
        for (linear, operator) in self.linears.iter().zip(&batch.operators) {
            // [batch, nodes, nodes] × [batch, nodes, hidden] → [batch, nodes, hidden]
            let message = operator.clone().matmul(linear.forward(x.clone()));
            sum = Some(match sum {
                Some(s) => s + message,
                None => message,
            });
        }
        let h = sum.unwrap_or(x);
        relu(h) * batch.mask.clone()
    }
}

/// The architecture evaluation network: operation embedding → K graph
/// convolutions → masked mean pooling → a fully connected feature layer →
/// a linear head per task (`outputs` of them).
#[derive(Module, Debug)]
pub struct Aen {
    embedding: Embedding,
    layers: Vec<GcnLayer>,
    feature: Linear,
    head: Linear,
}

impl Aen {
    /// The graph feature vectors (what the task heads read).
    ///
    /// # Shapes
    /// `batch` of `B` cells → `[B, features]`
    pub fn forward_features(&self, batch: &EncodedBatch) -> Tensor<2> {
        let mut x = self.embedding.forward(batch.ops.clone()) * batch.mask.clone(); // [B, N, hidden]
        for layer in &self.layers {
            x = layer.forward(x, batch); // [B, N, hidden]
        }
        let [b, _, hidden] = x.dims();
        let pooled = x.sum_dim(1).reshape([b, hidden]) * batch.inverse_count.clone(); // [B, hidden]
        relu(self.feature.forward(pooled)) // [B, features]
    }

    /// Predicted (standardised) metric of every task.
    ///
    /// # Shapes
    /// `batch` of `B` cells → `[B, outputs]`
    pub fn forward(&self, batch: &EncodedBatch) -> Tensor<2> {
        self.head.forward(self.forward_features(batch))
    }

    /// The task heads as `(weights [features][outputs] row-major, biases [outputs])`.
    pub fn head_parameters(&self) -> (Vec<f64>, Vec<f64>) {
        let w: Vec<f32> = self
            .head
            .weight
            .val()
            .to_data()
            .try_to_vec()
            .unwrap_or_default();
        let b: Vec<f32> = self
            .head
            .bias
            .as_ref()
            .map(|b| b.val().to_data().try_to_vec().unwrap_or_default())
            .unwrap_or_default();
        (
            w.into_iter().map(f64::from).collect(),
            b.into_iter().map(f64::from).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_space::SearchSpace;
    use metanas_space::nb201::Nb201Space;

    #[test]
    fn forward_shapes_and_padding_invariance() {
        let device = metanas_device::test_device();
        let space = Nb201Space;
        let cells: Vec<_> = space
            .enumerate()
            .expect("finite")
            .take(5)
            .map(|a| space.encode(&a))
            .collect();
        for propagation in [Propagation::Symmetric, Propagation::Directed] {
            let config = AenConfig::new(space.vocabulary_size())
                .with_outputs(3)
                .with_hidden(16)
                .with_features(8)
                .with_propagation(propagation);
            let model = config.init(&device).expect("valid");
            let batch = EncodedBatch::new(&cells, config.vocabulary_size, propagation, &device)
                .expect("valid");
            assert_eq!(model.forward(&batch).dims(), [5, 3]);
            assert_eq!(model.forward_features(&batch).dims(), [5, 8]);
            // A cell scores the same alone and in a batch.
            let alone =
                EncodedBatch::new(&cells[2..3], config.vocabulary_size, propagation, &device)
                    .expect("ok");
            let a: Vec<f32> = model.forward(&alone).to_data().try_to_vec().expect("f32");
            let all: Vec<f32> = model.forward(&batch).to_data().try_to_vec().expect("f32");
            for (x, y) in a.iter().zip(&all[6..9]) {
                assert!((x - y).abs() < 1e-5);
            }
        }
        assert!(AenConfig::new(6).with_layers(0).init(&device).is_err());
    }
}
