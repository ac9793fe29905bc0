//! # metanas-space
//!
//! Cell search spaces for neural architecture search, with no deep-learning
//! dependency: what a search strategy moves in and what a predictor reads.
//!
//! * [`SearchSpace`]: sampling (seeded by the caller's RNG), mutation, all
//!   neighbours, enumeration and size where practical, canonical hashing,
//!   graph encodings for a graph network, text and JSON forms.
//! * [`CellGraph`]: every architecture as a petgraph DAG in
//!   operation-on-node form; pruning of dead branches; [`CanonicalForm`] and
//!   [`CanonicalHash`] (exact isomorphism of the live graph).
//! * [`GraphEncoding`]: node operations, adjacency and mask, padded to the
//!   space's maximum size.
//! * Spaces: [`nb201::Nb201Space`] (NAS-Bench-201, 15,625 cells, exact string
//!   format) and [`nb101::Nb101Space`] (NAS-Bench-101: up to 7 nodes, 9 edges).
//!
//! ```
//! use metanas_space::{SearchSpace, nb201::Nb201Space};
//! use rand::SeedableRng;
//!
//! let space = Nb201Space;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let cell = space.sample(&mut rng);
//! let text = space.format(&cell);
//! assert_eq!(space.parse(&text)?, cell);
//! assert_eq!(space.neighbours(&cell).len(), 24);
//! let encoding = space.encode(&cell);
//! assert_eq!(encoding.max_nodes, 8);
//! # Ok::<(), metanas_space::SpaceError>(())
//! ```

pub mod canonical_form;
mod canonical_hash;
mod cell_graph;
mod error;
mod graph_encoding;
pub mod nb101;
pub mod nb201;
mod search_space;

pub use canonical_form::CanonicalForm;
pub use canonical_hash::CanonicalHash;
pub use cell_graph::{CellGraph, NodeLabel};
pub use error::{Result, SpaceError};
pub use graph_encoding::GraphEncoding;
pub use search_space::SearchSpace;
