//! What the training loop needs from a model.

use burn::module::Module;
use burn::tensor::Tensor;

/// A Burn module that maps a batch of images to class scores. The training and
/// evaluation loops of this crate (and the AON's meta-training) take any of these.
pub trait ImageClassifier: Module {
    /// Class scores (logits).
    ///
    /// # Shapes
    /// `[batch, channels, height, width]` → `[batch, classes]`
    fn forward_classes(&self, images: Tensor<4>) -> Tensor<2>;
}
