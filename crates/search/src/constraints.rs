//! Hardware-aware constraints: upper bounds on parameters, FLOPs, latency.

use metanas_data::BenchmarkTable;
use metanas_space::SearchSpace;
use std::sync::Arc;

/// What a constraint measures of an architecture (`None`: unknown, infeasible).
type Measure<A> = Box<dyn Fn(&A) -> Option<f64> + Send + Sync>;

/// A per-architecture quantity with an upper bound.
pub struct Constraint<S: SearchSpace> {
    name: String,
    limit: f64,
    measure: Measure<S::Arch>,
}

impl<S: SearchSpace> Constraint<S> {
    /// `measure(arch) <= limit`; an architecture `measure` knows nothing about is infeasible.
    pub fn new(
        name: impl Into<String>,
        limit: f64,
        measure: impl Fn(&S::Arch) -> Option<f64> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            limit,
            measure: Box::new(measure),
        }
    }

    /// `table[column] <= limit` (e.g. latency on `pixel3` from the latency table,
    /// or `params_mb_c100` from the NB201 table).
    pub fn from_table(table: Arc<BenchmarkTable<S>>, column: &str, limit: f64) -> Self {
        let col = column.to_string();
        Self::new(format!("{column} <= {limit}"), limit, move |arch| {
            table.value(arch, &col).ok()
        })
    }

    /// What the constraint bounds, e.g. `pixel3 <= 10`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bound.
    pub fn limit(&self) -> f64 {
        self.limit
    }

    /// The constrained quantity of `arch`, when known.
    pub fn value(&self, arch: &S::Arch) -> Option<f64> {
        (self.measure)(arch)
    }

    /// Whether `arch` satisfies the bound.
    pub fn allows(&self, arch: &S::Arch) -> bool {
        self.value(arch).is_some_and(|v| v <= self.limit)
    }
}

/// All constraints of a search; empty means everything is feasible.
pub struct Constraints<S: SearchSpace> {
    items: Vec<Constraint<S>>,
}

impl<S: SearchSpace> Default for Constraints<S> {
    fn default() -> Self {
        Self { items: Vec::new() }
    }
}

impl<S: SearchSpace> Constraints<S> {
    /// Adds a constraint.
    pub fn with(mut self, constraint: Constraint<S>) -> Self {
        self.items.push(constraint);
        self
    }

    /// Whether `arch` satisfies every constraint.
    pub fn allows(&self, arch: &S::Arch) -> bool {
        self.items.iter().all(|c| c.allows(arch))
    }

    /// The constraints.
    pub fn iter(&self) -> impl Iterator<Item = &Constraint<S>> {
        self.items.iter()
    }

    /// Text that identifies the constraints (for the trial store).
    pub fn describe(&self) -> String {
        if self.items.is_empty() {
            return "none".into();
        }
        self.items
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
