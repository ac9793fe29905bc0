//! Search-space operations: sampling, mutation, canonical hashing and encoding.
//!
//! `cargo bench -p metanas-benches --bench space`. The goal:
//! hashing and encoding all 15,625 NAS-Bench-201 cells together takes well
//! under a second on one core (`nb201/hash+encode all 15625`).

use criterion::{Criterion, criterion_group, criterion_main};
use metanas_space::SearchSpace;
use metanas_space::nb101::Nb101Space;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;

fn space_ops<S: SearchSpace>(c: &mut Criterion, space: &S, label: &str) {
    let mut group = c.benchmark_group(label);
    let mut rng = StdRng::seed_from_u64(0);
    let cells: Vec<S::Arch> = (0..1000).map(|_| space.sample(&mut rng)).collect();
    group.bench_function("sample 1000", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                black_box(space.sample(&mut rng));
            }
        })
    });
    group.bench_function("mutate 1000", |b| {
        b.iter(|| {
            for cell in &cells {
                black_box(space.mutate(cell, &mut rng));
            }
        })
    });
    group.bench_function("canonical hash 1000", |b| {
        b.iter(|| {
            for cell in &cells {
                black_box(space.canonical_hash(cell));
            }
        })
    });
    group.bench_function("encode 1000", |b| {
        b.iter(|| {
            for cell in &cells {
                black_box(space.encode(cell));
            }
        })
    });
    group.finish();
}

fn nb201_all(c: &mut Criterion) {
    let space = Nb201Space;
    let all: Vec<Nb201Cell> = space.enumerate().map(Iterator::collect).unwrap_or_default();
    assert_eq!(all.len(), 15_625);
    c.bench_function("nb201/hash+encode all 15625", |b| {
        b.iter(|| {
            for cell in &all {
                black_box(space.canonical_hash(cell));
                black_box(space.encode(cell));
            }
        })
    });
}

fn benches(c: &mut Criterion) {
    space_ops(c, &Nb201Space, "nb201");
    space_ops(c, &Nb101Space, "nb101");
    nb201_all(c);
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
