//! Canonical form of a cell: equal for isomorphic live graphs.
//!
//! The rule, shared by every space: take the cell in operation-on-node form,
//! remove every node that is not on a path from the input to the output
//! ([`CellGraph::pruned`]), then put the remaining labelled DAG in a canonical
//! node order. Two cells get the same form exactly when their live graphs are
//! isomorphic as labelled DAGs: same operations, wired the same way, up to a
//! renaming of nodes.
//!
//! The order comes from colour refinement (each node's colour combines its label
//! with the multisets of its predecessors' and successors' colours, repeated until
//! the partition is stable); nodes that refinement cannot tell apart are tried in
//! every order and the lexicographically smallest adjacency matrix wins, which
//! makes the form exact rather than a heuristic hash.

use crate::canonical_hash::{CanonicalHash, mix_words};
use crate::cell_graph::{CellGraph, NodeLabel};
use petgraph::graph::NodeIndex;

/// A cell's canonical form: node labels and adjacency in canonical node order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CanonicalForm {
    /// Node labels in canonical order.
    pub labels: Vec<NodeLabel>,
    /// `adjacency[i]` has bit `j` set when canonical node `i` feeds node `j`.
    pub adjacency: Vec<u64>,
}

impl CanonicalForm {
    /// The canonical form of `graph` (which is pruned first).
    ///
    /// # Panics
    /// Never for cells of up to 64 nodes; larger graphs are outside every space here.
    pub fn of(graph: &CellGraph) -> Self {
        let live = graph.pruned();
        let order = canonical_order(&live);
        let adjacency = adjacency_in_order(&live, &order);
        let labels = order.iter().map(|&n| live.graph()[n]).collect();
        Self { labels, adjacency }
    }

    /// The node order of the live graph used by this form, as indices into
    /// `graph.pruned()`.
    pub fn order_of(graph: &CellGraph) -> (CellGraph, Vec<NodeIndex>) {
        let live = graph.pruned();
        let order = canonical_order(&live);
        (live, order)
    }

    /// A stable hash of the form.
    pub fn hash(&self) -> CanonicalHash {
        let words = std::iter::once(self.labels.len() as u64)
            .chain(self.labels.iter().map(|l| l.vocabulary_index() as u64))
            .chain(self.adjacency.iter().copied());
        CanonicalHash(mix_words(words))
    }
}

/// Colour refinement followed by an exhaustive search among ties.
fn canonical_order(g: &CellGraph) -> Vec<NodeIndex> {
    let colours = refined_colours(g);
    let mut nodes: Vec<NodeIndex> = g.graph().node_indices().collect();
    nodes.sort_by_key(|n| colours[n.index()]);
    // Groups of nodes that refinement left tied.
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    for i in 1..=nodes.len() {
        if i == nodes.len() || colours[nodes[i].index()] != colours[nodes[start].index()] {
            groups.push(start..i);
            start = i;
        }
    }
    if groups.iter().all(|r| r.len() == 1) {
        return nodes;
    }
    let mut best = nodes.clone();
    let mut best_adjacency = adjacency_in_order(g, &best);
    permute_groups(&mut nodes, &groups, 0, &mut |candidate| {
        let adjacency = adjacency_in_order(g, candidate);
        if adjacency < best_adjacency {
            best_adjacency = adjacency;
            best.copy_from_slice(candidate);
        }
    });
    best
}

/// Calls `visit` with every ordering obtained by permuting nodes within groups.
fn permute_groups(
    nodes: &mut [NodeIndex],
    groups: &[std::ops::Range<usize>],
    group: usize,
    visit: &mut dyn FnMut(&[NodeIndex]),
) {
    let Some(range) = groups.get(group) else {
        visit(nodes);
        return;
    };
    heap_permutations(
        &mut nodes[range.clone()].to_vec(),
        range.len(),
        &mut |perm| {
            let mut with = nodes.to_vec();
            with[range.clone()].copy_from_slice(perm);
            permute_groups(&mut with, groups, group + 1, visit);
        },
    );
}

/// Heap's algorithm.
fn heap_permutations(items: &mut Vec<NodeIndex>, k: usize, visit: &mut dyn FnMut(&[NodeIndex])) {
    if k <= 1 {
        visit(items);
        return;
    }
    for i in 0..k - 1 {
        heap_permutations(items, k - 1, visit);
        if k.is_multiple_of(2) {
            items.swap(i, k - 1);
        } else {
            items.swap(0, k - 1);
        }
    }
    heap_permutations(items, k - 1, visit);
}

/// Stable colours from iterated refinement over predecessors and successors.
fn refined_colours(g: &CellGraph) -> Vec<u64> {
    let graph = g.graph();
    let mut colours: Vec<u64> = graph
        .node_indices()
        .map(|n| graph[n].vocabulary_index() as u64 + 1)
        .collect();
    let mut classes = count_classes(&colours);
    loop {
        let next: Vec<u64> = graph
            .node_indices()
            .map(|n| {
                let mut preds: Vec<u64> = g.predecessors(n).map(|p| colours[p.index()]).collect();
                let mut succs: Vec<u64> = g.successors(n).map(|s| colours[s.index()]).collect();
                preds.sort_unstable();
                succs.sort_unstable();
                let words = std::iter::once(colours[n.index()])
                    .chain(std::iter::once(preds.len() as u64))
                    .chain(preds)
                    .chain(std::iter::once(u64::MAX))
                    .chain(succs);
                mix_words(words)
            })
            .collect();
        let next_classes = count_classes(&next);
        colours = next;
        if next_classes == classes {
            return colours;
        }
        classes = next_classes;
    }
}

fn count_classes(colours: &[u64]) -> usize {
    let mut sorted = colours.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.len()
}

/// Row bit masks of the adjacency matrix with nodes in `order`.
fn adjacency_in_order(g: &CellGraph, order: &[NodeIndex]) -> Vec<u64> {
    let mut position = vec![0usize; g.node_count()];
    for (i, n) in order.iter().enumerate() {
        position[n.index()] = i;
    }
    order
        .iter()
        .map(|&n| {
            g.successors(n)
                .fold(0u64, |row, s| row | (1u64 << position[s.index()]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use NodeLabel::{Input, Op, Output};

    #[test]
    fn isomorphic_graphs_share_a_form_and_others_do_not() {
        // in -> a(op0), in -> b(op1), a -> out, b -> out, in different node orders.
        let g1 = CellGraph::new(
            &[Input, Op(0), Op(1), Output],
            &[(0, 1), (0, 2), (1, 3), (2, 3)],
        )
        .expect("valid");
        let g2 = CellGraph::new(
            &[Output, Op(1), Input, Op(0)],
            &[(2, 3), (2, 1), (3, 0), (1, 0)],
        )
        .expect("valid");
        assert_eq!(CanonicalForm::of(&g1), CanonicalForm::of(&g2));
        // Chain in -> op0 -> op1 -> out is different.
        let g3 = CellGraph::new(&[Input, Op(0), Op(1), Output], &[(0, 1), (1, 2), (2, 3)])
            .expect("valid");
        assert_ne!(CanonicalForm::of(&g1).hash(), CanonicalForm::of(&g3).hash());
    }

    #[test]
    fn ties_are_broken_exactly() {
        // Two identical parallel branches of two ops each, crossed or not:
        // in -> a1 -> b1 -> out, in -> a2 -> b2 -> out  versus
        // in -> a1 -> b2, in -> a2 -> b1 (same up to renaming).
        let labels = [Input, Op(0), Op(0), Op(1), Op(1), Output];
        let straight = CellGraph::new(&labels, &[(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5)])
            .expect("valid");
        let crossed = CellGraph::new(&labels, &[(0, 1), (0, 2), (1, 4), (2, 3), (3, 5), (4, 5)])
            .expect("valid");
        assert_eq!(CanonicalForm::of(&straight), CanonicalForm::of(&crossed));
        // Sharing one op0 between both op1 nodes is a different network.
        let shared = CellGraph::new(
            &labels,
            &[(0, 1), (0, 2), (1, 3), (1, 4), (3, 5), (4, 5), (2, 5)],
        )
        .expect("valid");
        assert_ne!(CanonicalForm::of(&straight), CanonicalForm::of(&shared));
    }
}
