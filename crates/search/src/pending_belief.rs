//! What Bayesian optimization assumes about trials that are proposed but not
//! yet scored (other workers of a distributed search are evaluating them).

/// How a [`crate::BayesianOptimization`] surrogate treats pending trials when
/// it is fitted. Whatever the belief, a pending trial is never proposed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PendingBelief {
    /// The surrogate ignores them: the next proposals are ranked as if they
    /// had not been proposed, so they tend to crowd around the same cells.
    Ignored,
    /// Kriging believer: each pending trial is fitted with the score the
    /// surrogate predicts for it (its mean, from a fit on the scored trials),
    /// which shrinks the uncertainty, hence the acquisition, around it. Costs
    /// one more fit per refit while trials are pending. The default: with 4
    /// workers on NAS-Bench-201 `c100_valid` its median matched the others'
    /// and its slow runs were the least slow (`docs/BENCHMARKS.md`, study section).
    #[default]
    KrigingBeliever,
    /// Constant liar: each pending trial is fitted with the worst score
    /// observed so far, pushing the next proposals away from it. Costs nothing more.
    ConstantLiar,
}

impl PendingBelief {
    /// Short name: `ignored`, `kriging-believer` or `constant-liar`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ignored => "ignored",
            Self::KrigingBeliever => "kriging-believer",
            Self::ConstantLiar => "constant-liar",
        }
    }
}
