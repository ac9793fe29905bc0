//! NAS-Bench-201 against the benchmark's own table (`datasets/nb201.csv.gz`).

use flate2::read::GzDecoder;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use metanas_space::{CanonicalHash, SearchSpace};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// This package's folder as cargo names it when it runs the test (the path
/// built in is only the fallback: a test binary reused from a clone elsewhere
/// still reads this clone's files).
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn table_archs() -> Vec<String> {
    let path = package_dir().join("../../datasets/nb201.csv.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = BufReader::new(GzDecoder::new(file)).lines();
    let header = lines.next().expect("header").expect("readable");
    let arch_col = header
        .split(',')
        .position(|c| c == "arch")
        .expect("arch column");
    lines
        .map(|l| {
            l.expect("readable")
                .split(',')
                .nth(arch_col)
                .expect("arch field")
                .to_string()
        })
        .collect()
}

#[test]
fn every_table_row_round_trips_and_enumeration_equals_the_table() {
    let space = Nb201Space;
    let archs = table_archs();
    assert_eq!(archs.len(), 15_625);
    let mut from_table = HashSet::new();
    for text in &archs {
        let cell = space.parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(&space.format(&cell), text);
        let json = space.to_json(&cell);
        assert_eq!(space.parse_json(&json).expect("json round trip"), cell);
        from_table.insert(cell);
    }
    assert_eq!(from_table.len(), 15_625, "the table has no duplicate cells");
    let enumerated: HashSet<Nb201Cell> = space.enumerate().expect("finite").collect();
    assert_eq!(space.size(), Some(15_625));
    assert_eq!(enumerated, from_table);
}

/// The number quoted in the docs of `Nb201Space`.
#[test]
fn nb201_canonical_class_count() {
    let space = Nb201Space;
    let hashes: HashSet<CanonicalHash> = space
        .enumerate()
        .expect("finite")
        .map(|c| space.canonical_hash(&c))
        .collect();
    assert_eq!(hashes.len(), 8_765);
}

/// The benchmark authors' own rule (`CellStructure.to_unique_str(consider_zero=True)`
/// in NAS-Bench-201's code), ported to check that the table and our parser agree with
/// their published count of 6,466: `none` makes a term zero (`#`), `skip_connect`
/// passes its input's expression through, and a node is the sorted `+`-join of its
/// terms. It merges more than our rule does (identity edges are contracted, and
/// separate operations with equal inputs are not told apart from shared ones).
#[test]
fn authors_unique_string_rule_gives_their_count() {
    use metanas_space::nb201::Nb201Operation;
    let space = Nb201Space;
    let unique: HashSet<String> = space
        .enumerate()
        .expect("finite")
        .map(|cell| {
            let mut nodes = vec!["0".to_string()];
            for to in 1..=3 {
                let mut terms: Vec<String> = (0..to)
                    .map(|from| {
                        let op = cell.op(from, to).expect("edge of the skeleton");
                        let input = &nodes[from];
                        match op {
                            Nb201Operation::None => "#".to_string(),
                            _ if input == "#" => "#".to_string(),
                            Nb201Operation::SkipConnect => input.clone(),
                            op => format!("({input})@{op}"),
                        }
                    })
                    .collect();
                terms.sort();
                nodes.push(terms.join("+"));
            }
            nodes.pop().expect("output node")
        })
        .collect();
    assert_eq!(unique.len(), 6_466);
}
