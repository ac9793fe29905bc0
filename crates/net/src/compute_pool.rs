//! Where a training step's work runs: on a thread of rayon's pool.

/// Runs `work` on a thread of rayon's global pool (inline when the caller is
/// already one) and returns its result.
///
/// On the CPU backends every tensor operation of a step (each convolution,
/// batch norm, elementwise operation and optimizer update: thousands per
/// step) is a parallel loop over rayon's pool. Called from a thread outside
/// the pool, each one hands its work to the pool and puts the calling thread to
/// sleep until it is done, so every operation costs a sleep and a wake-up of
/// the caller and leaves it idle. Called from a pool thread, the operation's
/// first part runs at once on that thread, and the other threads take the
/// rest as they come. The training loops run their steps through this
/// function: 5 % off the NAS-Bench-201 step (`cargo xtask bench-train-step`,
/// eight paired runs; docs/decisions/0022-training-steps-on-the-pool.md).
pub fn on_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_thread_and_returns_its_result() {
        assert!(rayon::current_thread_index().is_none());
        let (on_pool, value) = on_compute_pool(|| (rayon::current_thread_index().is_some(), 42));
        assert!(on_pool);
        assert_eq!(value, 42);
        // Nested calls run inline on the same thread.
        let nested = on_compute_pool(|| {
            let outer = rayon::current_thread_index();
            on_compute_pool(|| rayon::current_thread_index() == outer)
        });
        assert!(nested);
    }
}
