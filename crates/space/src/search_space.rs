//! The interface every search space offers.

use crate::canonical_form::CanonicalForm;
use crate::canonical_hash::CanonicalHash;
use crate::cell_graph::CellGraph;
use crate::error::{Result, SpaceError};
use crate::graph_encoding::GraphEncoding;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::hash::Hash;

/// A family of cell architectures: what a strategy samples from and moves in.
///
/// Architectures are plain values (`Self::Arch`); the space gives them meaning:
/// their petgraph form, canonical hash, encoding for a graph network and text
/// forms. Nothing here is specific to one space.
pub trait SearchSpace: Send + Sync + 'static {
    /// One architecture of the space, always valid once constructed.
    type Arch: Clone + Eq + Hash + Debug + Send + Sync + Serialize + DeserializeOwned + 'static;

    /// Short name, e.g. `nas-bench-201`.
    fn name(&self) -> &'static str;

    /// The operation names; [`crate::NodeLabel::Op`] indexes this list.
    fn operations(&self) -> &'static [&'static str];

    /// Upper bound on the live nodes of any cell in operation-on-node form,
    /// input and output included: the padded size of [`GraphEncoding`].
    fn max_nodes(&self) -> usize;

    /// Draws an architecture (uniformly where the space says so).
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Self::Arch;

    /// Every valid architecture one edit away from `arch`, each different from it.
    fn neighbours(&self, arch: &Self::Arch) -> Vec<Self::Arch>;

    /// A random neighbour of `arch`: valid and different from it. When `arch`
    /// has no neighbour at all, a fresh sample that differs from it.
    fn mutate<R: Rng + ?Sized>(&self, arch: &Self::Arch, rng: &mut R) -> Self::Arch {
        match self.neighbours(arch).choose(rng) {
            Some(next) => next.clone(),
            None => loop {
                let fresh = self.sample(rng);
                if &fresh != arch {
                    return fresh;
                }
            },
        }
    }

    /// Number of architectures, when the space can be enumerated in practice.
    fn size(&self) -> Option<u64>;

    /// Every architecture once, when the space can be enumerated in practice.
    fn enumerate(&self) -> Option<Box<dyn Iterator<Item = Self::Arch> + '_>>;

    /// The architecture as a DAG in operation-on-node form.
    fn cell_graph(&self, arch: &Self::Arch) -> CellGraph;

    /// Equal for architectures whose live graphs are isomorphic
    /// (see [`crate::canonical_form`] for the rule).
    fn canonical_hash(&self, arch: &Self::Arch) -> CanonicalHash {
        CanonicalForm::of(&self.cell_graph(arch)).hash()
    }

    /// The architecture as a graph network reads it.
    fn encode(&self, arch: &Self::Arch) -> GraphEncoding {
        GraphEncoding::of(&self.cell_graph(arch), self.max_nodes())
    }

    /// Size of the node vocabulary of [`GraphEncoding::node_ops`].
    fn vocabulary_size(&self) -> usize {
        2 + self.operations().len()
    }

    /// The space's text form.
    fn format(&self, arch: &Self::Arch) -> String;

    /// Reads the space's text form.
    ///
    /// # Errors
    /// A [`SpaceError`] naming what is wrong; never panics.
    fn parse(&self, text: &str) -> Result<Self::Arch>;

    /// The JSON form.
    fn to_json(&self, arch: &Self::Arch) -> String {
        serde_json::to_string(arch).expect("architectures are plain data and always serialise")
    }

    /// Reads the JSON form, validating it like [`SearchSpace::parse`].
    ///
    /// # Errors
    /// [`SpaceError::Json`] with serde's message (which includes the position).
    fn parse_json(&self, json: &str) -> Result<Self::Arch> {
        serde_json::from_str(json).map_err(|e| SpaceError::Json(e.to_string()))
    }
}
