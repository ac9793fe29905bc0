//! Graph encodings turned into tensors once, ready for many forward passes.

use crate::error::{AenError, Result};
use crate::propagation::Propagation;
use burn::tensor::{Device, Int, Tensor, TensorData};
use metanas_space::GraphEncoding;

/// A batch of cells as the GCN reads them, on one device.
///
/// Build it once per set of cells (all 15,625 NAS-Bench-201 cells fit easily)
/// and score it many times; [`EncodedBatch::select`] takes minibatches.
#[derive(Debug, Clone)]
pub struct EncodedBatch {
    /// Node vocabulary indices, padding nodes 0. `[batch, nodes]`
    pub ops: Tensor<2, Int>,
    /// Normalised propagation operators (one or two, see [`Propagation`]),
    /// `operator[b][v][u]` the weight of node `u`'s message to node `v`. `[batch, nodes, nodes]` each
    pub operators: Vec<Tensor<3>>,
    /// 1 for real nodes, 0 for padding. `[batch, nodes, 1]`
    pub mask: Tensor<3>,
    /// `1 / number of real nodes`. `[batch, 1]`
    pub inverse_count: Tensor<2>,
    /// How the operators were built.
    pub propagation: Propagation,
    len: usize,
    max_nodes: usize,
}

/// Checks `encodings` for a model of `vocabulary_size` node operations; returns the padded size.
///
/// # Errors
/// [`AenError::InvalidData`] when empty; [`AenError::Encoding`] naming the first
/// encoding that is malformed or differs in padded size from the first.
pub fn check_encodings(encodings: &[GraphEncoding], vocabulary_size: usize) -> Result<usize> {
    let first = encodings
        .first()
        .ok_or_else(|| AenError::InvalidData("no encodings given".into()))?;
    let n = first.max_nodes;
    for (index, e) in encodings.iter().enumerate() {
        let bad = |reason: String| Err(AenError::Encoding { index, reason });
        if e.max_nodes != n {
            return bad(format!("padded to {} nodes, the first to {n}", e.max_nodes));
        }
        if e.node_ops.len() != n || e.mask.len() != n || e.adjacency.len() != n * n {
            return bad("field lengths do not match max_nodes".into());
        }
        if e.num_nodes == 0
            || e.num_nodes > n
            || e.mask.iter().filter(|m| **m).count() != e.num_nodes
        {
            return bad(format!("num_nodes {} does not match the mask", e.num_nodes));
        }
        if let Some(op) = e.node_ops.iter().find(|&&op| op >= vocabulary_size) {
            return bad(format!(
                "operation index {op} outside the vocabulary of {vocabulary_size}"
            ));
        }
    }
    Ok(n)
}

/// `D_row^{-1/2} M D_col^{-1/2}` of a dense `n × n` matrix, in place.
fn normalise(m: &mut [f32], n: usize) {
    let row: Vec<f32> = (0..n).map(|i| m[i * n..(i + 1) * n].iter().sum()).collect();
    let col: Vec<f32> = (0..n).map(|j| (0..n).map(|i| m[i * n + j]).sum()).collect();
    for i in 0..n {
        for j in 0..n {
            let d = row[i] * col[j];
            m[i * n + j] = if d > 0.0 {
                m[i * n + j] / d.sqrt()
            } else {
                0.0
            };
        }
    }
}

impl EncodedBatch {
    /// Tensors of `encodings` for a model of `vocabulary_size` operations.
    ///
    /// # Errors
    /// As [`check_encodings`].
    pub fn new(
        encodings: &[GraphEncoding],
        vocabulary_size: usize,
        propagation: Propagation,
        device: &Device,
    ) -> Result<Self> {
        let n = check_encodings(encodings, vocabulary_size)?;
        let b = encodings.len();
        let mut ops = Vec::with_capacity(b * n);
        let mut mask = Vec::with_capacity(b * n);
        let mut inverse_count = Vec::with_capacity(b);
        let k = propagation.operators();
        let mut operators = vec![Vec::with_capacity(b * n * n); k];
        for e in encodings {
            ops.extend(e.node_ops.iter().map(|&o| o as i64));
            mask.extend(e.mask.iter().map(|&m| if m { 1.0f32 } else { 0.0 }));
            inverse_count.push(1.0 / e.num_nodes as f32);
            // a[u][v] = 1 when u feeds v; messages go to v from u: operator[v][u].
            let a = |u: usize, v: usize| f32::from(e.adjacency[u * n + v]);
            let self_loop = |v: usize, u: usize| if v == u && e.mask[v] { 1.0 } else { 0.0 };
            let mut forward = vec![0.0f32; n * n];
            let mut backward = vec![0.0f32; n * n];
            for v in 0..n {
                for u in 0..n {
                    forward[v * n + u] = a(u, v) + self_loop(v, u);
                    backward[v * n + u] = a(v, u) + self_loop(v, u);
                }
            }
            match propagation {
                Propagation::Symmetric => {
                    let mut sym: Vec<f32> = forward
                        .iter()
                        .zip(&backward)
                        .enumerate()
                        .map(|(i, (f, bw))| {
                            if i / n == i % n {
                                1.0f32.min(f + bw)
                            } else {
                                f + bw
                            }
                        })
                        .collect();
                    normalise(&mut sym, n);
                    operators[0].extend(sym);
                }
                Propagation::Directed => {
                    normalise(&mut forward, n);
                    normalise(&mut backward, n);
                    operators[0].extend(forward);
                    operators[1].extend(backward);
                }
            }
        }
        Ok(Self {
            ops: Tensor::from_data(TensorData::new(ops, [b, n]), device),
            operators: operators
                .into_iter()
                .map(|o| Tensor::from_data(TensorData::new(o, [b, n, n]), device))
                .collect(),
            mask: Tensor::from_data(TensorData::new(mask, [b, n, 1]), device),
            inverse_count: Tensor::from_data(TensorData::new(inverse_count, [b, 1]), device),
            propagation,
            len: b,
            max_nodes: n,
        })
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch holds no cell (never true for a built batch).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Padded number of nodes.
    pub fn max_nodes(&self) -> usize {
        self.max_nodes
    }

    /// The cells at `indices` (in that order), as a new batch.
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when `indices` is empty or an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        if indices.is_empty() {
            return Err(AenError::InvalidData("no cells selected".into()));
        }
        if let Some(i) = indices.iter().find(|&&i| i >= self.len) {
            return Err(AenError::InvalidData(format!(
                "cell {i} of a batch of {}",
                self.len
            )));
        }
        let device = self.ops.device();
        let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [indices.len()]), &device);
        Ok(Self {
            ops: self.ops.clone().select(0, idx.clone()),
            operators: self
                .operators
                .iter()
                .map(|o| o.clone().select(0, idx.clone()))
                .collect(),
            mask: self.mask.clone().select(0, idx.clone()),
            inverse_count: self.inverse_count.clone().select(0, idx),
            propagation: self.propagation,
            len: indices.len(),
            max_nodes: self.max_nodes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_space::SearchSpace;
    use metanas_space::nb201::Nb201Space;

    fn chain() -> GraphEncoding {
        // input → op → output, padded to 4 nodes.
        GraphEncoding {
            max_nodes: 4,
            num_nodes: 3,
            node_ops: vec![0, 2, 1, 0],
            adjacency: vec![0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            mask: vec![true, true, true, false],
        }
    }

    fn values(t: &Tensor<3>) -> Vec<f32> {
        t.to_data().try_to_vec().expect("f32")
    }

    #[test]
    fn symmetric_operator_is_normalised_and_padding_is_zero() {
        let device = metanas_device::test_device();
        let batch =
            EncodedBatch::new(&[chain()], 3, Propagation::Symmetric, &device).expect("valid");
        let m = values(&batch.operators[0]);
        // Degrees with self-loops: 2, 3, 2. Â[0][1] = 1/sqrt(2·3), Â[1][1] = 1/3.
        assert!((m[1] - 1.0 / 6f32.sqrt()).abs() < 1e-6);
        assert!((m[5] - 1.0 / 3.0).abs() < 1e-6);
        assert!((m[4] - m[1]).abs() < 1e-6, "symmetric");
        assert!(m[2].abs() < 1e-9 && m[12..].iter().all(|v| *v == 0.0) && m[15] == 0.0);
    }

    #[test]
    fn directed_operators_send_messages_along_and_against_edges() {
        let device = metanas_device::test_device();
        let batch =
            EncodedBatch::new(&[chain()], 3, Propagation::Directed, &device).expect("valid");
        let (f, b) = (values(&batch.operators[0]), values(&batch.operators[1]));
        // Forward: node 1 hears node 0 (f[1][0] > 0), not node 2.
        assert!(f[4] > 0.0 && f[6] == 0.0 && f[1] == 0.0);
        // Backward: node 1 hears node 2.
        assert!(b[6] > 0.0 && b[4] == 0.0);
    }

    #[test]
    fn bad_encodings_are_typed_errors() {
        let device = metanas_device::test_device();
        assert!(matches!(
            EncodedBatch::new(&[], 3, Propagation::Symmetric, &device),
            Err(AenError::InvalidData(_))
        ));
        let mut bad = chain();
        bad.node_ops[1] = 9;
        assert!(matches!(
            EncodedBatch::new(&[chain(), bad], 3, Propagation::Symmetric, &device),
            Err(AenError::Encoding { index: 1, .. })
        ));
        // Another padded size (the vocabulary is large enough for both).
        let space = Nb201Space;
        let nb = space.encode(&space.enumerate().expect("finite").next().expect("a cell"));
        assert!(matches!(
            EncodedBatch::new(
                &[chain(), nb],
                space.vocabulary_size(),
                Propagation::Symmetric,
                &device
            ),
            Err(AenError::Encoding { index: 1, .. })
        ));
        let batch =
            EncodedBatch::new(&[chain(), chain()], 3, Propagation::Symmetric, &device).expect("ok");
        assert_eq!(batch.select(&[1, 0, 1]).expect("in range").len(), 3);
        assert!(batch.select(&[2]).is_err());
    }
}
