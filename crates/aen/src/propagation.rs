//! How messages travel along a cell's edges.

use serde::{Deserialize, Serialize};

/// Edge direction and self-loops of the graph convolution.
///
/// With `A[u][v] = 1` when `u` feeds `v` and `I` the self-loops (real nodes only):
/// * [`Propagation::Symmetric`]: one operator `Â = D^{-1/2} (A + Aᵀ + I) D^{-1/2}`,
///   the undirected GCN of Kipf & Welling (and NASLib's GCN predictor);
/// * [`Propagation::Directed`]: two operators, forward `D^{-1/2} (Aᵀ + I) D^{-1/2}`
///   (a node hears its inputs) and backward `D^{-1/2} (A + I) D^{-1/2}` (it hears
///   its consumers), each with its own weights, summed (BRP-NAS).
///
/// `D` is the degree of the matrix it normalises (row degree on the left,
/// column degree on the right); padding rows and columns are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    /// Undirected: edges both ways plus self-loops, one weight matrix per layer.
    #[default]
    Symmetric,
    /// Forward and backward operators with separate weights per layer.
    Directed,
}

impl Propagation {
    /// Number of graph operators (and weight matrices per layer).
    pub fn operators(self) -> usize {
        match self {
            Self::Symmetric => 1,
            Self::Directed => 2,
        }
    }
}
