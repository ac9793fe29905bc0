//! One NAS-Bench-101 cell: up to 7 nodes with operations, up to 9 edges.

use super::operation::Nb101Operation;
use crate::cell_graph::{CellGraph, NodeLabel};
use crate::error::{Result, SpaceError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A NAS-Bench-101 cell (Ying et al., ICML 2019).
///
/// Node 0 is the input, node `n - 1` the output, and nodes in between carry an
/// operation; the adjacency matrix is strictly upper triangular. A cell is
/// valid when it has 2 to 7 nodes, at most 9 edges, and its output depends on
/// its input. Nodes off every input–output path are allowed (as in the
/// benchmark's raw specs) and are ignored by the canonical hash.
///
/// Text form: the node labels, a colon, then the matrix rows as bits:
/// `input,conv3x3-bn-relu,maxpool3x3,output:0110/0001/0001/0000`.
/// JSON form: the benchmark's `{"matrix": [[0,1,…],…], "ops": ["input", …, "output"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Nb101Spec", into = "Nb101Spec")]
pub struct Nb101Cell {
    /// Operations of nodes `1..n-1`.
    ops: Vec<Nb101Operation>,
    /// `rows[i]` has bit `j` set for an edge `i → j`.
    rows: Vec<u8>,
}

/// The benchmark's spec layout, used for JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nb101Spec {
    /// `n × n` adjacency matrix of 0s and 1s.
    pub matrix: Vec<Vec<u8>>,
    /// Node labels: `input`, operations, `output`.
    pub ops: Vec<String>,
}

impl Nb101Cell {
    /// Most nodes in a cell, input and output included.
    pub const MAX_NODES: usize = 7;
    /// Most edges in a cell.
    pub const MAX_EDGES: usize = 9;

    /// A validated cell from the operations of the intermediate nodes and the
    /// adjacency rows (`rows[i]` bit `j` ⇔ edge `i → j`).
    ///
    /// # Errors
    /// A [`SpaceError`] naming the broken rule.
    pub fn new(ops: Vec<Nb101Operation>, rows: Vec<u8>) -> Result<Self> {
        let n = ops.len() + 2;
        if !(2..=Self::MAX_NODES).contains(&n) || rows.len() != n {
            return Err(SpaceError::WrongNodeCount {
                expected: format!("2 to {} with one matrix row each", Self::MAX_NODES),
                found: rows.len().max(n),
            });
        }
        for (i, &row) in rows.iter().enumerate() {
            // Bits at or below the diagonal, or beyond the last node, are not allowed.
            let allowed = ((1u16 << n) - 1) as u8 & !((1u16 << (i + 1)) - 1) as u8;
            if row & !allowed != 0 {
                return Err(SpaceError::Invalid(format!(
                    "row {i} has an edge at or below the diagonal (the matrix must be strictly upper triangular)"
                )));
            }
        }
        let edges: u32 = rows.iter().map(|r| r.count_ones()).sum();
        if edges as usize > Self::MAX_EDGES {
            return Err(SpaceError::Invalid(format!(
                "{edges} edges, at most {} allowed",
                Self::MAX_EDGES
            )));
        }
        let cell = Self { ops, rows };
        if !cell.cell_graph().is_connected() {
            return Err(SpaceError::Invalid(
                "the output does not depend on the input".into(),
            ));
        }
        Ok(cell)
    }

    /// Number of nodes, input and output included.
    pub fn node_count(&self) -> usize {
        self.rows.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.rows.iter().map(|r| r.count_ones() as usize).sum()
    }

    /// Operations of the intermediate nodes.
    pub fn ops(&self) -> &[Nb101Operation] {
        &self.ops
    }

    /// Whether edge `from → to` is present.
    pub fn has_edge(&self, from: usize, to: usize) -> bool {
        from < self.rows.len() && to < 8 && self.rows[from] & (1 << to) != 0
    }

    /// The cell with edge `from → to` flipped, if the result is valid.
    pub fn with_edge_flipped(&self, from: usize, to: usize) -> Option<Self> {
        let mut rows = self.rows.clone();
        *rows.get_mut(from)? ^= 1u8.checked_shl(to as u32)?;
        Self::new(self.ops.clone(), rows).ok()
    }

    /// The cell with intermediate node `node` (1-based, as in the matrix) set to `op`.
    pub fn with_op(&self, node: usize, op: Nb101Operation) -> Option<Self> {
        let mut ops = self.ops.clone();
        *ops.get_mut(node.checked_sub(1)?)? = op;
        Some(Self {
            ops,
            rows: self.rows.clone(),
        })
    }

    /// The cell as a DAG (already in operation-on-node form).
    pub fn cell_graph(&self) -> CellGraph {
        let n = self.node_count();
        let labels: Vec<NodeLabel> = std::iter::once(NodeLabel::Input)
            .chain(self.ops.iter().map(|op| op.node_label()))
            .chain(std::iter::once(NodeLabel::Output))
            .collect();
        let edges: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| {
                (0..n)
                    .filter(move |&j| self.rows[i] & (1 << j) != 0)
                    .map(move |j| (i, j))
            })
            .collect();
        CellGraph::new(&labels, &edges).expect("upper-triangular adjacency is acyclic")
    }

    fn labels(&self) -> Vec<String> {
        std::iter::once("input".to_string())
            .chain(self.ops.iter().map(|op| op.to_string()))
            .chain(std::iter::once("output".to_string()))
            .collect()
    }
}

/// Reads node labels (`input`, operations…, `output`) into intermediate operations.
fn parse_labels<'a>(labels: impl ExactSizeIterator<Item = &'a str>) -> Result<Vec<Nb101Operation>> {
    let n = labels.len();
    if !(2..=Nb101Cell::MAX_NODES).contains(&n) {
        return Err(SpaceError::WrongNodeCount {
            expected: format!("2 to {}", Nb101Cell::MAX_NODES),
            found: n,
        });
    }
    let mut ops = Vec::with_capacity(n - 2);
    for (i, label) in labels.enumerate() {
        let required = if i == 0 {
            Some("input")
        } else if i == n - 1 {
            Some("output")
        } else {
            None
        };
        match required {
            Some(name) if label != name => {
                return Err(SpaceError::Invalid(format!(
                    "node {i} must be `{name}`, found `{}`",
                    label.chars().take(40).collect::<String>()
                )));
            }
            Some(_) => {}
            None => ops.push(label.parse()?),
        }
    }
    Ok(ops)
}

impl TryFrom<Nb101Spec> for Nb101Cell {
    type Error = SpaceError;

    fn try_from(spec: Nb101Spec) -> Result<Self> {
        let ops = parse_labels(spec.ops.iter().map(String::as_str))?;
        let n = ops.len() + 2;
        if spec.matrix.len() != n {
            return Err(SpaceError::WrongNodeCount {
                expected: format!("{n} matrix rows (one per label)"),
                found: spec.matrix.len(),
            });
        }
        let mut rows = Vec::with_capacity(n);
        for (i, row) in spec.matrix.iter().enumerate() {
            if row.len() != n {
                return Err(SpaceError::Invalid(format!(
                    "matrix row {i} has {} entries, expected {n}",
                    row.len()
                )));
            }
            let mut bits = 0u8;
            for (j, &v) in row.iter().enumerate() {
                match v {
                    0 => {}
                    1 => bits |= 1 << j,
                    other => {
                        return Err(SpaceError::Invalid(format!(
                            "matrix entry ({i}, {j}) is {other}, expected 0 or 1"
                        )));
                    }
                }
            }
            rows.push(bits);
        }
        Self::new(ops, rows)
    }
}

impl From<Nb101Cell> for Nb101Spec {
    fn from(cell: Nb101Cell) -> Self {
        let n = cell.node_count();
        let matrix = (0..n)
            .map(|i| (0..n).map(|j| u8::from(cell.has_edge(i, j))).collect())
            .collect();
        Self {
            matrix,
            ops: cell.labels(),
        }
    }
}

impl fmt::Display for Nb101Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.node_count();
        write!(f, "{}:", self.labels().join(","))?;
        for i in 0..n {
            if i > 0 {
                f.write_str("/")?;
            }
            for j in 0..n {
                f.write_str(if self.has_edge(i, j) { "1" } else { "0" })?;
            }
        }
        Ok(())
    }
}

impl FromStr for Nb101Cell {
    type Err = SpaceError;

    fn from_str(text: &str) -> Result<Self> {
        let s = text.trim();
        if s.is_empty() {
            return Err(SpaceError::Empty);
        }
        let (labels, matrix) = s.split_once(':').ok_or_else(|| {
            SpaceError::malformed(text, "expected `labels:matrix rows`, found no `:`")
        })?;
        let ops = parse_labels(labels.split(',').collect::<Vec<_>>().into_iter())?;
        let n = ops.len() + 2;
        let row_texts: Vec<&str> = matrix.split('/').collect();
        if row_texts.len() != n {
            return Err(SpaceError::WrongNodeCount {
                expected: format!("{n} matrix rows (one per label)"),
                found: row_texts.len(),
            });
        }
        let mut rows = Vec::with_capacity(n);
        for (i, row) in row_texts.iter().enumerate() {
            if row.chars().count() != n || !row.chars().all(|c| c == '0' || c == '1') {
                return Err(SpaceError::malformed(
                    text,
                    format!("matrix row {i} must be {n} characters of 0 and 1, found `{row}`"),
                ));
            }
            rows.push(
                row.bytes()
                    .enumerate()
                    .fold(0u8, |acc, (j, b)| acc | (u8::from(b == b'1') << j)),
            );
        }
        Self::new(ops, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_round_trip() {
        let text = "input,conv3x3-bn-relu,maxpool3x3,output:0110/0001/0001/0000";
        let cell: Nb101Cell = text.parse().expect("valid");
        assert_eq!(cell.to_string(), text);
        let json = serde_json::to_string(&cell).expect("serialises");
        assert_eq!(
            json,
            r#"{"matrix":[[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]],"ops":["input","conv3x3-bn-relu","maxpool3x3","output"]}"#
        );
        let back: Nb101Cell = serde_json::from_str(&json).expect("valid");
        assert_eq!(back, cell);
    }

    #[test]
    fn rejects_broken_rules() {
        // Lower-triangular entry.
        assert!("input,output:00/10".parse::<Nb101Cell>().is_err());
        // Output not reachable.
        assert!(
            "input,conv1x1-bn-relu,output:010/000/000"
                .parse::<Nb101Cell>()
                .is_err()
        );
        // Too many nodes.
        assert!(matches!(
            "input,maxpool3x3,maxpool3x3,maxpool3x3,maxpool3x3,maxpool3x3,maxpool3x3,output:"
                .parse::<Nb101Cell>(),
            Err(SpaceError::WrongNodeCount { .. })
        ));
        // Ten edges.
        let dense = "input,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,output:011111/001111/000111/000000/000000/000000";
        assert!(matches!(
            dense.parse::<Nb101Cell>(),
            Err(SpaceError::Invalid(_))
        ));
    }
}
