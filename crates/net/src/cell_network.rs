//! The whole network: NAS-Bench-201's macro skeleton around a searched cell.

use crate::batch_norm::batch_norm;
use crate::cell::Cell;
use crate::cell_operation::CellOperation;
use crate::cell_plan::CellPlan;
use crate::conv_bn::ConvBn;
use crate::error::NetError;
use crate::image_classifier::ImageClassifier;
use crate::resnet_block::ResNetBlock;
use burn::config::Config;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Settings of a [`CellNetwork`]: the cell, the skeleton's size and the data's shape.
///
/// The skeleton is NAS-Bench-201's: a 3×3 convolution stem with batch norm;
/// three stages of `cells_per_stage` cells with `channels`, `2·channels` and
/// `4·channels` channels, joined by stride-2 ResNet basic blocks; batch norm,
/// ReLU, global average pooling and a linear classifier. With `channels = 16`,
/// `cells_per_stage = 5`, input `[3, 32, 32]` and 10 classes it is the
/// benchmark's CIFAR-10 network, parameter for parameter.
///
/// Inputs of any height and width are taken: before each reduction an odd
/// height or width is padded with one row or column of zeros (bottom, right),
/// so a `h×w` input ends at `⌈⌈h/2⌉/2⌉×⌈⌈w/2⌉/2⌉`. For sizes that are multiples
/// of 4 (28×28, 32×32) nothing is padded and the network is NAS-Bench-201's.
#[derive(Config, Debug)]
pub struct CellNetworkConfig {
    /// How the cell computes (from [`crate::ToCellPlan::cell_plan`]).
    pub plan: CellPlan,
    /// `[channels, height, width]` of the input images (any size; see the type's docs).
    pub input_shape: [usize; 3],
    /// Number of classes.
    pub num_classes: usize,
    /// Channels of the first stage (`C`).
    #[config(default = 16)]
    pub channels: usize,
    /// Cells per stage (`N`).
    #[config(default = 5)]
    pub cells_per_stage: usize,
    /// Computes every convolution with [`metanas_conv::conv2d`] (on flex, its
    /// own parallel im2col + GEMM kernels, forward and backward; on the other
    /// backends, Burn's convolution) rather than Burn's `conv2d`. The values
    /// and gradients are Burn's to float rounding, not bit for bit. On unless
    /// `Some(false)`: the default `None` (also what a configuration saved
    /// before the setting existed reads as) means on.
    pub own_convolution: Option<bool>,
}

/// Parameter and FLOP counts of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkComplexity {
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-accumulates of one forward pass of one image, counted by
    /// NAS-Bench-201's rules: convolutions (without bias) and the linear layer
    /// (with bias); pooling, batch norm and activations are free.
    pub flops: u64,
    /// Batch-norm running statistics (mean and variance): not trainable and not
    /// in `params`, but Burn's `Module::num_params` counts them too.
    pub batch_norm_statistics: usize,
}

/// One block of the network body.
// A network holds a handful of blocks: the size difference between a cell and
// a reduction block costs nothing measurable, and a `Box` would only add a
// pointer chase to every forward pass.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum NetworkBlock {
    /// A searched cell.
    Cell(Cell),
    /// A stride-2 reduction between stages.
    Reduction(ResNetBlock),
}

/// A Burn network built around one cell (see [`CellNetworkConfig`]).
#[derive(Module, Debug)]
pub struct CellNetwork {
    pub(crate) stem: ConvBn,
    pub(crate) blocks: Vec<NetworkBlock>,
    pub(crate) last_bn: BatchNorm,
    pub(crate) classifier: Linear,
}

impl CellNetworkConfig {
    /// Validates the settings before anything is built.
    ///
    /// # Errors
    /// [`NetError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        Self::check_skeleton(self.input_shape, self.num_classes, self.channels)?;
        self.plan.check().map_err(NetError::InvalidConfig)
    }

    /// Validates the settings that do not depend on the cell: the input shape
    /// (no zero dimension; any height and width otherwise), the number of
    /// classes and the channels. A search checks them once before its first
    /// candidate, so bad data is refused up front instead of failing every trial.
    ///
    /// # Errors
    /// [`NetError::InvalidConfig`] naming the bad setting.
    pub fn check_skeleton(
        input_shape: [usize; 3],
        num_classes: usize,
        channels: usize,
    ) -> crate::error::Result<()> {
        let [c, h, w] = input_shape;
        let bad = |m: String| Err(NetError::InvalidConfig(m));
        if c == 0 || h == 0 || w == 0 {
            return bad(format!("input shape {input_shape:?} has a zero dimension"));
        }
        if num_classes < 2 {
            return bad(format!("need at least 2 classes, got {num_classes}"));
        }
        if channels == 0 {
            return bad("channels must be at least 1".into());
        }
        Ok(())
    }

    /// Builds the network on `device` (build it with
    /// `metanas_seeding::seeded_module` for reproducible weights: its parameters
    /// are drawn lazily, at their first use, otherwise).
    ///
    /// # Errors
    /// [`NetError::InvalidConfig`] when [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> crate::error::Result<CellNetwork> {
        self.check()?;
        let widths = self.stage_widths();
        let own = self.own_convolution.unwrap_or(true);
        let stem =
            ConvBn::new(self.input_shape[0], widths[0], 3, 1, device).with_own_convolution(own);
        let mut blocks = Vec::new();
        for (stage, &width) in widths.iter().enumerate() {
            if stage > 0 {
                blocks.push(NetworkBlock::Reduction(
                    ResNetBlock::new(widths[stage - 1], width, device).with_own_convolution(own),
                ));
            }
            for _ in 0..self.cells_per_stage {
                blocks.push(NetworkBlock::Cell(
                    Cell::new(&self.plan, width, device).with_own_convolution(own),
                ));
            }
        }
        Ok(CellNetwork {
            stem,
            blocks,
            last_bn: BatchNormConfig::new(widths[2]).init(device),
            classifier: LinearConfig::new(widths[2], self.num_classes).init(device),
        })
    }

    fn stage_widths(&self) -> [usize; 3] {
        [self.channels, 2 * self.channels, 4 * self.channels]
    }

    /// Parameters and FLOPs of the network, computed from the settings alone.
    pub fn complexity(&self) -> NetworkComplexity {
        let [c_in, mut h, mut w] = self.input_shape;
        let widths = self.stage_widths();
        let conv = |ci: usize, co: usize, k: usize| ci * co * k * k;
        let mut params = conv(c_in, widths[0], 3) + 2 * widths[0];
        // Channels of every batch norm: stem, the two of each reduction, the last.
        let mut bn_channels = widths[0] + 2 * (widths[1] + widths[2]) + widths[2];
        let mut flops = (conv(c_in, widths[0], 3) * h * w) as u64;
        for (stage, &width) in widths.iter().enumerate() {
            if stage > 0 {
                let prev = widths[stage - 1];
                // Odd sizes are padded by one before halving (see the type's docs).
                h = h.div_ceil(2);
                w = w.div_ceil(2);
                let block = conv(prev, width, 3) + conv(width, width, 3) + conv(prev, width, 1);
                params += block + 4 * width;
                flops += (block * h * w) as u64;
            }
            let cell_params: usize = self.plan.operations().map(|op| op.params(width)).sum();
            let cell_flops: u64 = self.plan.operations().map(|op| op.flops(width, h, w)).sum();
            params += self.cells_per_stage * cell_params;
            let convs = self
                .plan
                .operations()
                .filter(|op| {
                    matches!(
                        op,
                        CellOperation::ReluConvBn { .. } | CellOperation::ConvBnRelu { .. }
                    )
                })
                .count();
            bn_channels += self.cells_per_stage * convs * width;
            flops += self.cells_per_stage as u64 * cell_flops;
        }
        params += 2 * widths[2] + (widths[2] + 1) * self.num_classes;
        flops += ((widths[2] + 1) * self.num_classes) as u64;
        NetworkComplexity {
            params,
            flops,
            batch_norm_statistics: 2 * bn_channels,
        }
    }
}

impl CellNetwork {
    /// Class scores.
    ///
    /// # Shapes
    /// `[batch, c, h, w]` → `[batch, num_classes]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = self.stem.forward_plain(images); // [batch, C, h, w]
        for block in &self.blocks {
            x = match block {
                NetworkBlock::Cell(cell) => cell.forward(x),
                NetworkBlock::Reduction(reduction) => reduction.forward(x),
            };
        }
        let x = relu(batch_norm(&self.last_bn, x)); // [batch, 4C, ⌈⌈h/2⌉/2⌉, ⌈⌈w/2⌉/2⌉]
        let [b, c, _, _] = x.dims();
        let pooled = x.mean_dim(3).mean_dim(2).reshape([b, c]); // [batch, 4C]
        self.classifier.forward(pooled)
    }
}

impl ImageClassifier for CellNetwork {
    fn forward_classes(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward(images)
    }
}
