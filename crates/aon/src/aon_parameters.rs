//! The AON's weights as one flat vector (for evolution strategies) and
//! whole-model operations on its gradients (global norm, clipping).

use crate::aon::Aon;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

/// Number of trainable values of `aon`.
pub fn parameter_count(aon: &Aon) -> usize {
    aon.num_params()
}

/// The weights of `aon`, flattened in visiting order.
pub fn flatten_parameters(aon: &Aon) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Ok(values) = param.val().into_data().convert::<f32>().try_to_vec::<f32>() {
                self.0.extend(values);
            }
        }
    }
    let mut collect = Collect(Vec::new());
    aon.visit(&mut collect);
    collect.0
}

/// `aon` with `scale · direction` added to its weights (`direction` in the
/// order of [`flatten_parameters`]; missing values count as zero).
pub fn perturbed(aon: &Aon, direction: &[f32], scale: f32) -> Aon {
    struct Add<'a> {
        direction: &'a [f32],
        offset: usize,
        scale: f32,
    }
    impl ModuleMapper for Add<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let shape = tensor.shape();
            let n = shape.num_elements();
            let end = (self.offset + n).min(self.direction.len());
            let mut delta: Vec<f32> = self
                .direction
                .get(self.offset..end)
                .unwrap_or_default()
                .to_vec();
            delta.resize(n, 0.0);
            self.offset += n;
            let device = tensor.device();
            let delta = Tensor::<1>::from_data(TensorData::new(delta, [n]), &device).reshape(shape)
                * self.scale;
            Param::from_mapped_value(id, tensor + delta, mapper)
        }
    }
    aon.clone().map(&mut Add {
        direction,
        offset: 0,
        scale,
    })
}

/// A gradient for `aon` from a flat vector (order of [`flatten_parameters`]),
/// on `device` (the AON's inner device).
pub fn gradients_from_flat(aon: &Aon, flat: &[f32], device: &Device) -> GradientsParams {
    struct Register<'a> {
        flat: &'a [f32],
        offset: usize,
        device: Device,
        grads: GradientsParams,
    }
    impl ModuleVisitor for Register<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let shape = param.val().shape();
            let n = shape.num_elements();
            let end = (self.offset + n).min(self.flat.len());
            let mut values: Vec<f32> = self.flat.get(self.offset..end).unwrap_or_default().to_vec();
            values.resize(n, 0.0);
            self.offset += n;
            let tensor =
                Tensor::<1>::from_data(TensorData::new(values, [n]), &self.device).reshape(shape);
            self.grads.register::<D>(param.id, tensor);
        }
    }
    let mut register = Register {
        flat,
        offset: 0,
        device: device.clone(),
        grads: GradientsParams::new(),
    };
    aon.visit(&mut register);
    register.grads
}

/// The global L2 norm of `grads` over the parameters of `aon`.
pub fn gradient_norm(aon: &Aon, grads: &GradientsParams) -> f64 {
    struct Norm<'a> {
        grads: &'a GradientsParams,
        squares: f64,
    }
    impl ModuleVisitor for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                self.squares += f64::from(g.square().sum().into_scalar::<f32>());
            }
        }
    }
    let mut norm = Norm {
        grads,
        squares: 0.0,
    };
    aon.visit(&mut norm);
    norm.squares.sqrt()
}

/// `grads` scaled by `factor` (every parameter of `aon`).
pub fn scale_gradients(aon: &Aon, grads: GradientsParams, factor: f64) -> GradientsParams {
    struct Scale {
        input: GradientsParams,
        output: GradientsParams,
        factor: f64,
    }
    impl ModuleVisitor for Scale {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.input.remove::<D>(param.id) {
                self.output.register::<D>(param.id, g * self.factor);
            }
        }
    }
    let mut scale = Scale {
        input: grads,
        output: GradientsParams::new(),
        factor,
    };
    aon.visit(&mut scale);
    scale.output
}
