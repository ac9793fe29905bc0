//! The op on `Autodiff<B>`: the forward on `B`, a hand-written backward that
//! calls `B`'s backward op (so flex's comes from this crate's kernel).

use crate::ops::AveragePoolOps;
use burn::backend::Backend;
use burn::backend::autodiff::{
    Autodiff, NodeId,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;

/// The backward of [`AveragePoolOps::metanas_average_pool_3x3`]: one parent,
/// `x`, kept (checkpointed) for the default backward, which reads its shape.
#[derive(Debug)]
struct AveragePoolBackward;

impl<B: Backend + AveragePoolOps> Backward<B, 1> for AveragePoolBackward {
    type State = NodeId;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(ops.state);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::metanas_average_pool_3x3_backward(x, grad));
        }
    }
}

impl<B: Backend + AveragePoolOps, C: CheckpointStrategy> AveragePoolOps for Autodiff<B, C> {
    fn metanas_average_pool_3x3(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match AveragePoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish(x_state, B::metanas_average_pool_3x3(x.into_primitive()))
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::metanas_average_pool_3x3(x.into_primitive()))
            }
        }
    }
    // The backward op keeps the trait's default body, Burn's
    // `avg_pool2d_backward`, which panics on `Autodiff<B>` (a backward is not
    // differentiated again): the backward above calls `B`'s, never this one.
}
