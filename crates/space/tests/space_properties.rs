//! Properties every space must have: hashing, neighbours, mutation, sampling, bad input.

use metanas_space::nb101::{Nb101Cell, Nb101Space};
use metanas_space::nb201::{Nb201Cell, Nb201Operation, Nb201Space};
use metanas_space::{CanonicalForm, CellGraph, SearchSpace, SpaceError};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use std::collections::HashSet;

/// The same graph with its nodes stored in another order.
fn relabelled(graph: &CellGraph, rng: &mut StdRng) -> CellGraph {
    let g = graph.graph();
    let mut perm: Vec<usize> = (0..g.node_count()).collect();
    perm.shuffle(rng);
    let mut labels = vec![g[petgraph::graph::NodeIndex::new(0)]; g.node_count()];
    for n in g.node_indices() {
        labels[perm[n.index()]] = g[n];
    }
    let edges: Vec<(usize, usize)> = g
        .edge_indices()
        .filter_map(|e| g.edge_endpoints(e))
        .map(|(a, b)| (perm[a.index()], perm[b.index()]))
        .collect();
    CellGraph::new(&labels, &edges).expect("a relabelling of a valid graph is valid")
}

fn assert_hash_invariant_under_relabelling<S: SearchSpace>(space: &S, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..300 {
        let arch = space.sample(&mut rng);
        let graph = space.cell_graph(&arch);
        let expected = CanonicalForm::of(&graph);
        for _ in 0..3 {
            assert_eq!(
                CanonicalForm::of(&relabelled(&graph, &mut rng)),
                expected,
                "{arch:?}"
            );
        }
        assert_eq!(expected.hash(), space.canonical_hash(&arch));
    }
}

#[test]
fn hash_is_invariant_under_node_relabelling() {
    assert_hash_invariant_under_relabelling(&Nb201Space, 1);
    assert_hash_invariant_under_relabelling(&Nb101Space, 2);
}

#[test]
fn nb201_swapping_independent_nodes_keeps_the_hash() {
    // With no edge 1 -> 2, nodes 1 and 2 are interchangeable.
    let space = Nb201Space;
    let a = space
        .parse("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|")
        .expect("valid");
    let b = space
        .parse("|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
        .expect("valid");
    assert_ne!(a, b);
    assert_eq!(space.canonical_hash(&a), space.canonical_hash(&b));
    assert_eq!(space.encode(&a), space.encode(&b));
    // Swapping only the outgoing operations is a different cell.
    let c = space
        .parse("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
        .expect("valid");
    assert_ne!(space.canonical_hash(&a), space.canonical_hash(&c));
}

#[test]
fn nb201_dead_branches_do_not_change_the_hash() {
    // Node 1 feeds nothing (1->2 and 1->3 are none): edge 0->1 is dead.
    let space = Nb201Space;
    let base = Nb201Cell::new([
        Nb201Operation::Conv3x3,
        Nb201Operation::Conv1x1,
        Nb201Operation::None,
        Nb201Operation::SkipConnect,
        Nb201Operation::None,
        Nb201Operation::AvgPool3x3,
    ]);
    let hashes: HashSet<_> = Nb201Operation::ALL
        .into_iter()
        .map(|op| space.canonical_hash(&base.with_op(0, op)))
        .collect();
    assert_eq!(hashes.len(), 1);
    // Cut from the input instead: 0->2 none and 1->2 fed by a dead node 1.
    let cut_from_input = |op: Nb201Operation| {
        Nb201Cell::new([
            Nb201Operation::None,
            Nb201Operation::None,
            op,
            Nb201Operation::Conv3x3,
            Nb201Operation::None,
            Nb201Operation::Conv1x1,
        ])
    };
    let h: HashSet<_> = Nb201Operation::ALL
        .into_iter()
        .map(|op| space.canonical_hash(&cut_from_input(op)))
        .collect();
    assert_eq!(h.len(), 1);
    // Live edges do matter.
    assert_ne!(
        space.canonical_hash(&base),
        space.canonical_hash(&base.with_op(5, Nb201Operation::Conv3x3))
    );
}

#[test]
fn nb101_isomorphic_specs_share_a_hash() {
    // Permute intermediate nodes; keep the specs whose matrix stays upper triangular.
    let space = Nb101Space;
    let mut rng = StdRng::seed_from_u64(3);
    let mut checked = 0;
    while checked < 200 {
        let cell = space.sample(&mut rng);
        let n = cell.node_count();
        let mut middle: Vec<usize> = (1..n - 1).collect();
        middle.shuffle(&mut rng);
        let perm: Vec<usize> = std::iter::once(0)
            .chain(middle)
            .chain(std::iter::once(n - 1))
            .collect();
        // perm[old] = new position
        let mut rows = vec![0u8; n];
        let mut upper = true;
        for i in 0..n {
            for j in 0..n {
                if cell.has_edge(i, j) {
                    upper &= perm[i] < perm[j];
                    rows[perm[i]] |= 1 << perm[j];
                }
            }
        }
        if !upper || perm.iter().enumerate().all(|(i, &p)| i == p) {
            continue;
        }
        let mut ops = vec![cell.ops()[0]; n - 2];
        for (k, &op) in cell.ops().iter().enumerate() {
            ops[perm[k + 1] - 1] = op;
        }
        let twin = Nb101Cell::new(ops, rows).expect("a relabelled valid cell is valid");
        assert_eq!(
            space.canonical_hash(&twin),
            space.canonical_hash(&cell),
            "{cell} vs {twin}"
        );
        checked += 1;
    }
}

#[test]
fn nb101_extraneous_nodes_do_not_change_the_hash() {
    let space = Nb101Space;
    let small = space
        .parse("input,conv3x3-bn-relu,output:010/001/000")
        .expect("valid");
    // Node 2 (maxpool) has no way to the output: it is extraneous.
    let padded = space
        .parse("input,conv3x3-bn-relu,maxpool3x3,output:0110/0001/0000/0000")
        .expect("valid");
    assert_eq!(space.canonical_hash(&small), space.canonical_hash(&padded));
    assert_eq!(space.encode(&small), space.encode(&padded));
}

fn assert_moves_are_valid_and_different<S: SearchSpace>(space: &S, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..200 {
        let arch = space.sample(&mut rng);
        let neighbours = space.neighbours(&arch);
        let distinct: HashSet<&S::Arch> = neighbours.iter().collect();
        assert_eq!(
            distinct.len(),
            neighbours.len(),
            "neighbours are listed once"
        );
        for n in &neighbours {
            assert_ne!(n, &arch);
            // Valid: survives its own text form.
            assert_eq!(&space.parse(&space.format(n)).expect("valid neighbour"), n);
        }
        for _ in 0..5 {
            let m = space.mutate(&arch, &mut rng);
            assert_ne!(m, arch);
            assert_eq!(space.parse(&space.format(&m)).expect("valid mutation"), m);
        }
    }
}

#[test]
fn mutations_and_neighbours_are_valid_and_different() {
    assert_moves_are_valid_and_different(&Nb201Space, 4);
    assert_moves_are_valid_and_different(&Nb101Space, 5);
}

#[test]
fn nb201_every_cell_has_24_neighbours() {
    let space = Nb201Space;
    for cell in space.enumerate().expect("finite") {
        assert_eq!(space.neighbours(&cell).len(), 24);
    }
}

fn assert_sampling_is_seeded<S: SearchSpace>(space: &S) {
    let draw = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..50).map(|_| space.sample(&mut rng)).collect::<Vec<_>>()
    };
    assert_eq!(draw(11), draw(11));
    assert_ne!(draw(11), draw(12));
}

#[test]
fn seeded_sampling_is_reproducible() {
    assert_sampling_is_seeded(&Nb201Space);
    assert_sampling_is_seeded(&Nb101Space);
}

#[test]
fn nb201_sampling_covers_the_space_uniformly() {
    let space = Nb201Space;
    let mut rng = StdRng::seed_from_u64(9);
    let mut counts = [0usize; 5];
    for _ in 0..60_000 {
        let cell = space.sample(&mut rng);
        counts[cell.ops()[rng.random_range(0..6)].index()] += 1;
    }
    for c in counts {
        // Each op has probability 1/5: 12,000 ± a generous 5 sigma (~490).
        assert!((11_500..12_500).contains(&c), "{counts:?}");
    }
}

#[test]
fn nb101_encoding_respects_the_bound() {
    let space = Nb101Space;
    let mut rng = StdRng::seed_from_u64(6);
    for _ in 0..500 {
        let e = space.encode(&space.sample(&mut rng));
        assert_eq!(e.max_nodes, 7);
        assert!(e.num_nodes >= 2 && e.num_nodes <= 7);
        assert_eq!(e.mask.iter().filter(|&&m| m).count(), e.num_nodes);
        assert!(e.node_ops.iter().all(|&op| op < space.vocabulary_size()));
    }
}

#[test]
fn nb201_bad_strings_give_typed_errors() {
    let space = Nb201Space;
    let good = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
    assert!(space.parse(good).is_ok());
    type IsExpected = fn(&SpaceError) -> bool;
    let cases: Vec<(&str, IsExpected)> = vec![
        ("", |e| matches!(e, SpaceError::Empty)),
        ("   ", |e| matches!(e, SpaceError::Empty)),
        (
            "|conv_5x5~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| matches!(e, SpaceError::UnknownOperation { op, .. } if op == "conv_5x5"),
        ),
        (
            "|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| {
                matches!(
                    e,
                    SpaceError::WrongSourceNode {
                        node: 1,
                        position: 0,
                        ..
                    }
                )
            },
        ),
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~7|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| {
                matches!(
                    e,
                    SpaceError::WrongSourceNode {
                        node: 2,
                        position: 1,
                        ..
                    }
                )
            },
        ),
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| {
                matches!(
                    e,
                    SpaceError::WrongEdgeCount {
                        node: 2,
                        expected: 2,
                        found: 1
                    }
                )
            },
        ),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", |e| {
            matches!(e, SpaceError::WrongNodeCount { found: 3, .. })
        }),
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|+|none~0|",
            |e| matches!(e, SpaceError::WrongNodeCount { found: 5, .. }),
        ),
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|garbage",
            |e| matches!(e, SpaceError::Malformed { .. }),
        ),
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2",
            |e| matches!(e, SpaceError::Malformed { .. }),
        ),
        (
            "|nor_conv_3x3|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| matches!(e, SpaceError::Malformed { .. }),
        ),
        (
            "|nör_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| matches!(e, SpaceError::UnknownOperation { op, .. } if op == "nör_conv_3x3"),
        ),
        (
            "|nor_conv_3x3~０|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            |e| matches!(e, SpaceError::WrongSourceNode { .. }),
        ),
        ("🦀", |e| matches!(e, SpaceError::WrongNodeCount { .. })),
        ("+++", |e| matches!(e, SpaceError::WrongNodeCount { .. })),
        ("|~|+|~|~|+|~|~|~|", |e| {
            matches!(e, SpaceError::WrongSourceNode { .. })
        }),
    ];
    for (text, is_expected) in cases {
        let err = space.parse(text).expect_err(text);
        assert!(is_expected(&err), "`{text}` gave {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn bad_json_gives_typed_errors() {
    let nb201 = Nb201Space;
    for json in [
        "",
        "{",
        "{}",
        r#"{"ops":["none","none"]}"#,
        r#"{"ops":["none","none","none","none","none","conv_7x7"]}"#,
        r#"{"ops":["none","none","none","none","none","none"]} trailing"#,
        r#"[1,2,3]"#,
    ] {
        assert!(
            matches!(nb201.parse_json(json), Err(SpaceError::Json(_))),
            "{json}"
        );
    }
    let nb101 = Nb101Space;
    for json in [
        r#"{"matrix":[[0,1],[0,0]],"ops":["input","output"],"extra":1}"#,
        r#"{"matrix":[[0,2],[0,0]],"ops":["input","output"]}"#,
        r#"{"matrix":[[0,1],[1,0]],"ops":["input","output"]}"#,
        r#"{"matrix":[[0,1,0],[0,0,1]],"ops":["input","conv3x3-bn-relu","output"]}"#,
        r#"{"matrix":[[0,1],[0,0]],"ops":["output","input"]}"#,
        r#"{"matrix":[[0,0],[0,0]],"ops":["input","output"]}"#,
        r#"{"matrix":[[0,1,1],[0,0,1],[0,0,0]],"ops":["input","conv9x9","output"]}"#,
    ] {
        let err = nb101.parse_json(json).expect_err(json);
        assert!(matches!(err, SpaceError::Json(_)), "{json}: {err:?}");
    }
    assert!(
        nb101
            .parse_json(r#"{"matrix":[[0,1],[0,0]],"ops":["input","output"]}"#)
            .is_ok()
    );
}

#[test]
fn nb101_bad_strings_give_typed_errors() {
    let space = Nb101Space;
    for text in [
        "",
        "input,output",
        "input,output:01",
        "input,output:01/0",
        "input,output:0x/00",
        "input,conv5x5,output:011/001/000",
        "output,input:01/00",
        "input,conv3x3-bn-relu,output:011/001/000/000",
        "input,output:01/00:extra",
        "ínput,output:01/00",
    ] {
        let err = space.parse(text).expect_err(text);
        assert!(!err.to_string().is_empty(), "{text}");
    }
}
