//! The op on `Autodiff<B>`: the forward on `B`, a hand-written backward that calls
//! `B`'s gradient ops (so flex's come from this crate's kernels).

use crate::ops::ConvOps;
use burn::backend::Backend;
use burn::backend::autodiff::{
    Autodiff, NodeId,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::tensor::ops::ConvOptions;

/// The backward of [`ConvOps::metanas_conv2d`], as Burn's own `Conv2DNoBias` is written.
#[derive(Debug)]
struct Conv2dBackward;

impl<B: Backend + ConvOps> Backward<B, 2> for Conv2dBackward {
    type State = (NodeId, NodeId, ConvOptions<2>, bool);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, options, relu_input) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        if let Some(node) = node_x {
            let grad_x = B::metanas_conv2d_x_grad(
                x.clone(),
                weight.clone(),
                grad.clone(),
                options.clone(),
                relu_input,
            );
            grads.register::<B>(node.id, grad_x);
        }
        if let Some(node) = node_weight {
            let grad_weight = B::metanas_conv2d_weight_grad(x, weight, grad, options, relu_input);
            grads.register::<B>(node.id, grad_weight);
        }
    }
}

impl<B: Backend + ConvOps, C: CheckpointStrategy> ConvOps for Autodiff<B, C> {
    fn metanas_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FloatTensor<Self> {
        match Conv2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                prep.finish(
                    (x_state, weight_state, options.clone(), relu_input),
                    B::metanas_conv2d(
                        x.into_primitive(),
                        weight.into_primitive(),
                        options,
                        relu_input,
                    ),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::metanas_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                options,
                relu_input,
            )),
        }
    }
    // The gradient ops keep the trait's default bodies (Burn's own, on
    // `Autodiff<B>`): the backward above calls `B`'s, never these.
}
