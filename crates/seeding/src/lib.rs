//! # metanas-seeding
//!
//! Reproducible random initialisation on a Burn [`Device`] shared between threads.
//!
//! Burn's CPU backends keep one random generator per process: `device.seed(s)`
//! followed by `Module::init` gives the same weights every time only if no other
//! thread draws from that generator in between. Two searches, two meta-training
//! runs or two tests in one process would otherwise interleave their draws and
//! lose reproducibility. [`seeded`] makes "seed, then draw" one step: every
//! metanas crate initialises its networks through it (and builds the networks
//! it loads records into through [`unseeded`]), and so can a user who runs
//! several of them side by side. The guarantee holds as long as every random
//! draw of the process goes through one of the two (a bare `Tensor::random` in
//! another thread can still land between a seed and its draws).
//!
//! Burn 0.22 initialises a module's parameters lazily, at their first use: a
//! module built inside [`seeded`] would draw its weights later, at its first
//! forward pass, outside the lock (and in the order the forward pass touches
//! them). Build modules with [`seeded_module`], which draws every parameter
//! inside the lock, in the module's field order.
//!
//! ```
//! use burn::tensor::{Distribution, Tensor};
//! let device = metanas_device::test_device();
//! let draw = || Tensor::<1>::random([4], Distribution::Default, &device).into_data();
//! let a = metanas_seeding::seeded(&device, 7, draw);
//! let b = metanas_seeding::seeded(&device, 7, draw);
//! assert_eq!(a, b);
//! ```

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Bool, Device, Int, Tensor};
use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

/// Held while a thread seeds the device and draws from it.
static DRAWING: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread already holds [`DRAWING`] (a `seeded` inside a `seeded`).
    static HOLDS_DRAWING: Cell<bool> = const { Cell::new(false) };
}

/// Seeds `device` with `seed` and runs `draw` (e.g. a module's `init`) while no
/// other thread can draw from the device's generator, so its random values
/// depend on `seed` alone.
///
/// A `seeded` call inside `draw` reseeds and runs in place (no deadlock). Only
/// the random draws made by `draw` itself are protected: keep it to the
/// initialisation, not a whole training run, or other threads wait for it.
/// Do not call it from rayon tasks: a worker waiting for the lock can block
/// the pool that the lock holder's `init` runs on, and a worker holding it
/// may pick up another task whose `seeded` then reseeds mid-draw.
pub fn seeded<T>(device: &Device, seed: u64, draw: impl FnOnce() -> T) -> T {
    drawing(|| {
        device.seed(seed);
        draw()
    })
}

/// Builds a module with `init` (e.g. `|| config.init(device)`) as [`seeded`]
/// does, and draws every parameter before releasing the lock: the weights
/// depend on `seed` alone, whatever other threads draw before the module's
/// first use. Errors of `init` are passed through.
pub fn seeded_module<M: Module, E>(
    device: &Device,
    seed: u64,
    init: impl FnOnce() -> Result<M, E>,
) -> Result<M, E> {
    seeded(device, seed, || {
        let module = init()?;
        module.visit(&mut Materialise);
        Ok(module)
    })
}

/// Initialises every lazily initialised parameter it visits.
struct Materialise;

impl ModuleVisitor for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }

    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
        let _ = param.val();
    }

    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
        let _ = param.val();
    }
}

/// Runs `draw` while no [`seeded`] draw of another thread runs, without
/// seeding: for initialisations whose random values are replaced at once (a
/// module built only to load a record into). Burn 0.22 initialises parameters
/// lazily, so the build itself may draw nothing; whatever `draw` does draw
/// cannot land between another thread's seed and its draws, where it would
/// change that thread's weights.
pub fn unseeded<T>(draw: impl FnOnce() -> T) -> T {
    drawing(draw)
}

/// Runs `draw` holding [`DRAWING`] (in place when this thread already holds it).
fn drawing<T>(draw: impl FnOnce() -> T) -> T {
    if HOLDS_DRAWING.get() {
        return draw();
    }
    // A panic inside another thread's `draw` leaves no state to repair.
    let _lock = DRAWING.lock().unwrap_or_else(PoisonError::into_inner);
    let _held = HeldFlag::set();
    draw()
}

/// Marks this thread as the holder of [`DRAWING`] until dropped (also on panic).
struct HeldFlag;

impl HeldFlag {
    fn set() -> Self {
        HOLDS_DRAWING.set(true);
        Self
    }
}

impl Drop for HeldFlag {
    fn drop(&mut self) {
        HOLDS_DRAWING.set(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tensor};

    fn draw(device: &Device) -> Vec<f32> {
        Tensor::<1>::random([64], Distribution::Default, device)
            .into_data()
            .try_to_vec()
            .expect("f32 tensor")
    }

    #[test]
    fn draws_depend_on_the_seed_alone_while_other_threads_draw() {
        let device = metanas_device::test_device();
        let reference = seeded(&device, 11, || draw(&device));
        let other = seeded(&device, 12, || draw(&device));
        assert_ne!(reference, other);
        std::thread::scope(|scope| {
            let noise = scope.spawn(|| {
                for s in 0..200 {
                    seeded(&device, s, || draw(&device));
                    unseeded(|| draw(&device));
                }
            });
            for _ in 0..200 {
                assert_eq!(seeded(&device, 11, || draw(&device)), reference);
            }
            noise.join().expect("no panic");
        });
    }

    #[test]
    fn a_seeded_module_keeps_its_weights_when_other_draws_come_before_its_first_use() {
        use burn::nn::LinearConfig;
        let device = metanas_device::test_device();
        let weights = |linear: &burn::nn::Linear| linear.weight.val().into_data();
        let init = || Ok::<_, std::convert::Infallible>(LinearConfig::new(4, 3).init(&device));
        let reference = weights(&seeded_module(&device, 7, init).expect("infallible"));
        let module = seeded_module(&device, 7, init).expect("infallible");
        // Another draw (another thread's, say) between the build and the first use.
        seeded(&device, 99, || draw(&device));
        assert_eq!(weights(&module), reference);
        // A plain `seeded` build draws lazily, at first use: the draw in between changes it.
        // That first use draws, so it holds the lock too (other tests of this binary draw in
        // parallel and expect their seeded streams untouched).
        let lazy = seeded(&device, 7, || LinearConfig::new(4, 3).init(&device));
        seeded(&device, 99, || draw(&device));
        assert_ne!(
            unseeded(|| weights(&lazy)),
            reference,
            "Burn no longer initialises lazily: seeded_module may be unnecessary"
        );
    }

    #[test]
    fn a_nested_call_reseeds_without_deadlock() {
        let device = metanas_device::test_device();
        let inner_alone = seeded(&device, 5, || draw(&device));
        let (outer, inner) = seeded(&device, 4, || {
            (draw(&device), seeded(&device, 5, || draw(&device)))
        });
        assert_eq!(inner, inner_alone);
        assert_eq!(outer, seeded(&device, 4, || draw(&device)));
    }
}
