//! The AON as Burn's per-parameter optimizer interface.

use crate::aon::Aon;
use crate::coordinate_features::{AonState, prepare_step};
use crate::run_feedback::{FeedbackHandle, FeedbackInputs};
use burn::module::Module;
use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};
use std::sync::{Arc, Mutex};

/// The AON's update of one parameter tensor, as a Burn [`Optimizer`]: wrap it in
/// a `burn::optim::ModuleOptimizer` (`ModuleOptimizer::from(rule)`, or
/// [`Aon::module_optimizer`]) to train any Burn module with it.
///
/// The learning rate Burn passes is the schedule's rate: the AON's own step
/// size is learned, so use a base rate of 1. Feedback reaches the rule through
/// its [`FeedbackHandle`]; without feedback it reads zeros.
#[derive(Clone, Debug)]
pub struct AonUpdateRule {
    /// The weights, on the device of the last parameter they updated
    /// (moved on first use elsewhere). Behind a mutex because Burn's
    /// optimizers must be `Sync`.
    aon: Arc<Mutex<Aon>>,
    feedback: FeedbackHandle,
}

impl AonUpdateRule {
    /// A rule applying `aon` (copied, without autodiff) with feedback from `feedback`.
    pub fn new(aon: &Aon, feedback: FeedbackHandle) -> Self {
        Self {
            aon: Arc::new(Mutex::new(aon.clone().valid())),
            feedback,
        }
    }

    /// The handle feedback is read from.
    pub fn feedback_handle(&self) -> &FeedbackHandle {
        &self.feedback
    }

    fn aon_on(&self, device: &Device) -> Aon {
        let mut guard = self
            .aon
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.devices().first() != Some(device) {
            *guard = guard.clone().to_device(device);
        }
        guard.clone()
    }
}

impl Optimizer for AonUpdateRule {
    type State<const D: usize> = AonState;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let shape = tensor.shape();
        let n = shape.num_elements();
        let device = tensor.device();
        let aon = self.aon_on(&device);
        let feedback = if aon.uses_feedback() {
            self.feedback.inputs()
        } else {
            FeedbackInputs::NONE
        };
        let param = tensor.reshape([n]); // [n]
        let (inputs, state) = prepare_step(
            param.clone(),
            grad.reshape([n]),
            state,
            feedback,
            aon.hypergradient_rate(),
        );
        let update = aon.update(inputs, lr); // [n]
        ((param + update).reshape(shape), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
