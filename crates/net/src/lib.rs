//! # metanas-net
//!
//! Burn networks built from any cell of a metanas search space, and the loops
//! that train and evaluate them. Every real evaluation of an architecture, the
//! AON's meta-training and the final training run through this crate.
//!
//! * [`ToCellPlan`] turns an architecture (NAS-Bench-201 or NAS-Bench-101) into a
//!   [`CellPlan`]; [`CellNetworkConfig`] builds NAS-Bench-201's skeleton around it
//!   ([`CellNetwork`]), with exact parameter and FLOP counts
//!   ([`CellNetworkConfig::complexity`]).
//! * [`train`] trains any [`ImageClassifier`] with any [`ModelOptimizer`]
//!   (Burn's SGD and Adam via [`OptimizerConfig`], or a learned optimizer), by
//!   steps or epochs, with a learning-rate schedule, validation, a progress bar,
//!   and a typed error on divergence; [`evaluate`] reports loss and accuracy.
//!   Loops of their own (the final stage, the AON's meta-training) share its
//!   step ([`classification_step`]) and loss bookkeeping ([`LossTracker`]).
//! * [`SavedModel`] saves and loads a trained network and predicts classes
//!   ([`Prediction`]); it also writes the network as safetensors (through
//!   `burn::store`) and as an ONNX graph written from the network's own
//!   structure ([`onnx_model`]: pixels in `[0, 1]` in, normalisation inside).
//! * Blocks that Burn's CPU backends run slowly are written from cheaper tensor
//!   operations, with tests that they equal Burn's own (values and gradients):
//!   [`AveragePool3x3`]/[`AveragePool2x2`] and the training pass of
//!   [`batch_norm`] (`cargo xtask bench-train-step --layers` times both versions).
//!   Every convolution is [`metanas_conv::conv2d`], whose kernels
//!   on flex (forward and backward) are its own; `Some(false)` in
//!   [`CellNetworkConfig::own_convolution`] takes Burn's `conv2d` instead (same
//!   values to float rounding, not bit for bit).
//!
//! The crate takes a Burn `Device` and never names a backend.
//!
//! ```no_run
//! use metanas_net::{CellNetworkConfig, ToCellPlan};
//! use metanas_space::nb201::Nb201Cell;
//! # fn run(device: &burn::tensor::Device) -> metanas_net::Result<()> {
//! let cell: Nb201Cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
//!     .parse().expect("a valid cell");
//! let config = CellNetworkConfig::new(cell.cell_plan(), [3, 32, 32], 10);
//! println!("{} parameters", config.complexity().params);
//! let network = config.init(device)?;
//! # Ok(()) }
//! ```

mod average_pool;
mod batch_norm;
mod cell;
mod cell_layer;
mod cell_network;
mod cell_operation;
mod cell_plan;
mod classification_step;
mod conv_bn;
mod error;
mod evaluation;
mod image_classifier;
mod learning_rate_schedule;
mod loss_tracker;
mod model_optimizer;
mod onnx_export;
mod onnx_protobuf;
mod optimizer_config;
mod prediction;
mod resnet_block;
mod saved_model;
#[cfg(test)]
mod test_support;
mod trainer;
mod training_config;

pub use average_pool::{AveragePool2x2, AveragePool3x3};
pub use batch_norm::batch_norm;
pub use cell::Cell;
pub use cell_layer::CellLayer;
pub use cell_network::{CellNetwork, CellNetworkConfig, NetworkBlock, NetworkComplexity};
pub use cell_operation::CellOperation;
pub use cell_plan::{CellPlan, PlanEdge, ToCellPlan};
pub use classification_step::{StepSchedule, classification_step};
pub use conv_bn::ConvBn;
pub use error::{NetError, Result};
pub use evaluation::{Evaluation, evaluate};
pub use image_classifier::ImageClassifier;
pub use learning_rate_schedule::LearningRateSchedule;
pub use loss_tracker::LossTracker;
pub use metanas_device::on_compute_pool;
pub use model_optimizer::{ModelOptimizer, TrainingFeedback};
pub use onnx_export::{
    ONNX_INPUT, ONNX_IR_VERSION, ONNX_LOGITS, ONNX_OPSET, ONNX_PROBABILITIES, onnx_model,
};
pub use optimizer_config::OptimizerConfig;
pub use prediction::Prediction;
pub use resnet_block::ResNetBlock;
pub use saved_model::{
    METADATA_FILE, ModelMetadata, NETWORK_FILE, ONNX_FILE, SAFETENSORS_FILE, SavedModel,
    WEIGHTS_FILE,
};
pub use trainer::{TrainingData, TrainingReport, train};
pub use training_config::{TrainingConfig, TrainingLength};
