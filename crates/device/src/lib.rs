//! # metanas-device
//!
//! The library crates of metanas take a Burn [`Device`] and never name a
//! backend. Binaries, benchmarks and tests choose one here, by name:
//!
//! | name | backend |
//! |---|---|
//! | `flex` | Burn's pure-Rust CPU backend (the default: fastest on our networks on the CPU) |
//! | `ndarray` | Burn's ndarray CPU backend (deprecated upstream in Burn 0.22, kept and tested) |
//! | `wgpu` | WebGPU: a real GPU, or a software Vulkan driver such as Mesa's lavapipe |
//!
//! Tests call [`test_device`], which reads `METANAS_DEVICE` so the same
//! tests run on every backend. [`on_compute_pool`] runs a training step where
//! a CPU backend's operations run best: on a thread of rayon's pool.

mod compute_pool;

pub use compute_pool::on_compute_pool;

use burn::tensor::{Device, DeviceKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Environment variable that selects the device of tests and benchmarks.
pub const DEVICE_ENV: &str = "METANAS_DEVICE";

/// A Burn backend selectable by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// Burn's flex CPU backend.
    #[default]
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
    /// The wgpu backend (GPU or software Vulkan).
    Wgpu,
}

/// An unknown backend name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device `{0}`; expected one of: flex, ndarray, wgpu")]
pub struct UnknownBackend(pub String);

impl BackendChoice {
    /// Every backend, in the order of the table above.
    pub const ALL: [Self; 3] = [Self::Flex, Self::Ndarray, Self::Wgpu];

    /// The backend's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
        }
    }

    /// The inference device of this backend.
    pub fn device(self) -> Device {
        match self {
            Self::Flex => Device::flex(),
            #[allow(deprecated)] // ndarray is deprecated upstream; the user asked for it.
            Self::Ndarray => Device::ndarray(),
            Self::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
        }
    }

    /// The training (autodiff) device of this backend.
    pub fn autodiff_device(self) -> Device {
        self.device().autodiff()
    }

    /// The backend named by `METANAS_DEVICE`, or `flex` when it is unset.
    ///
    /// # Errors
    /// [`UnknownBackend`] when the variable holds another name.
    pub fn from_env() -> Result<Self, UnknownBackend> {
        match std::env::var(DEVICE_ENV) {
            Ok(name) if !name.trim().is_empty() => name.parse(),
            _ => Ok(Self::default()),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendChoice {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownBackend(s.to_string()))
    }
}

/// The device tests run on: `METANAS_DEVICE` (flex when unset).
///
/// # Panics
/// When `METANAS_DEVICE` names no backend: a test run misconfigured on purpose
/// should stop loudly rather than silently test another backend.
pub fn test_device() -> Device {
    match BackendChoice::from_env() {
        Ok(choice) => choice.device(),
        Err(e) => panic!("{e} (from {DEVICE_ENV})"),
    }
}

/// Whether `device` (or the device an autodiff device wraps) belongs to one of
/// the CPU backends above, whose operations run as parallel loops on rayon's
/// global thread pool.
pub fn runs_on_cpu(device: &Device) -> bool {
    let inner = device.clone().without_autodiff();
    BackendChoice::ALL
        .into_iter()
        .filter(|choice| *choice != BackendChoice::Wgpu)
        .any(|choice| choice.device() == inner)
}

/// Whether a wgpu adapter can be created on this machine (a GPU or a software
/// Vulkan driver). Tests that compare wgpu against a CPU backend skip when not.
pub fn wgpu_available() -> bool {
    // Creating the device is lazy; allocating a tensor forces adapter selection.
    std::panic::catch_unwind(|| {
        let device = BackendChoice::Wgpu.device();
        let t = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], &device);
        t.into_data()
            .try_to_vec::<f32>()
            .map(|v| v == vec![1.0, 2.0])
            .unwrap_or(false)
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_backends_are_told_apart_from_the_gpu_one() {
        assert!(runs_on_cpu(&BackendChoice::Flex.device()));
        assert!(runs_on_cpu(&BackendChoice::Flex.autodiff_device()));
        assert!(runs_on_cpu(&BackendChoice::Ndarray.device()));
        assert!(!runs_on_cpu(&BackendChoice::Wgpu.device()));
        assert!(!runs_on_cpu(&BackendChoice::Wgpu.autodiff_device()));
    }

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for b in BackendChoice::ALL {
            assert_eq!(b.name().parse::<BackendChoice>(), Ok(b));
        }
        assert_eq!("FLEX".parse::<BackendChoice>(), Ok(BackendChoice::Flex));
        assert!("cuda".parse::<BackendChoice>().is_err());
    }

    #[test]
    fn cpu_backends_compute() {
        for b in [BackendChoice::Flex, BackendChoice::Ndarray] {
            let t = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &b.device());
            let sum: f32 = t.sum().into_scalar();
            assert!((sum - 6.0).abs() < 1e-6, "{b}: {sum}");
        }
    }
}
