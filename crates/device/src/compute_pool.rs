//! Where a training step's work runs: on a thread of rayon's pool.

use crate::runs_on_cpu;
use burn::tensor::Device;

/// Runs `work`, which computes on `device`, and returns its result: on a
/// thread of rayon's global pool (inline when the caller is already a thread
/// of a rayon pool) when `device` is a CPU device ([`runs_on_cpu`]), on the
/// calling thread otherwise.
///
/// On the CPU backends every tensor operation of a step (each convolution,
/// batch norm, elementwise operation and optimizer update: thousands per
/// step) is a parallel loop over rayon's pool. Called from a thread outside
/// the pool, each one hands its work to the pool and puts the calling thread to
/// sleep until it is done, so every operation costs a sleep and a wake-up of
/// the caller and leaves it idle. Called from a pool thread, the operation's
/// first part runs at once on that thread, and the other threads take the
/// rest as they come. The training and evaluation loops of metanas-net,
/// the final stage, the AEN's and the AON's training run their steps through
/// this function: 5 % off the NAS-Bench-201 step (`cargo xtask
/// bench-train-step`, eight paired runs;
/// docs/decisions/0022-training-steps-on-the-pool.md). A GPU backend queues
/// its operations from the calling thread and is left there.
///
/// `work` runs on a pool thread's stack (rayon's default, 2 MiB), and when
/// several threads train at once, a pool thread that waits inside one step may
/// take another's whole step meanwhile, so one step's measured time can
/// include another's. `work` must not draw from a seeded generator
/// (`metanas_seeding::seeded` warns against calls from rayon tasks): build
/// modules before, with `metanas_seeding::seeded_module`.
pub fn on_compute_pool<R: Send>(device: &Device, work: impl FnOnce() -> R + Send) -> R {
    if runs_on_cpu(device) {
        rayon::scope(|_| work())
    } else {
        work()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendChoice;

    #[test]
    fn work_runs_on_a_pool_thread_on_the_cpu_and_returns_its_result() {
        let device = BackendChoice::Flex.autodiff_device();
        assert!(rayon::current_thread_index().is_none());
        let (on_pool, value) =
            on_compute_pool(&device, || (rayon::current_thread_index().is_some(), 42));
        assert!(on_pool);
        assert_eq!(value, 42);
        // Nested calls run inline on the same thread.
        let nested = on_compute_pool(&device, || {
            let outer = rayon::current_thread_index();
            on_compute_pool(&device, || rayon::current_thread_index() == outer)
        });
        assert!(nested);
        // A GPU device's work stays on the calling thread.
        let gpu = BackendChoice::Wgpu.device();
        assert!(on_compute_pool(&gpu, || rayon::current_thread_index().is_none()));
    }
}
