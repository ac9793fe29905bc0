//! The evaluator interface: turns an architecture into a measurement. An evaluator never chooses.

use crate::error::Result;
use crate::measurement::Measurement;
use metanas_data::Objective;
use metanas_space::SearchSpace;

/// Measures architectures of `S` on one task.
pub trait Evaluator<S: SearchSpace> {
    /// What the evaluator measures, in words that identify the task (recorded
    /// in the trial store so a store cannot be resumed on another task).
    fn describe(&self) -> String;

    /// Whether larger or smaller objectives are better.
    fn objective(&self) -> Objective;

    /// Evaluates `arch`; `seed` makes stochastic evaluations reproducible.
    ///
    /// # Errors
    /// A failed evaluation (e.g. training diverged); the searcher records it as
    /// a failed trial and goes on.
    fn evaluate(&mut self, arch: &S::Arch, seed: u64) -> Result<Measurement>;
}
