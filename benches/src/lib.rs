//! Criterion benchmarks of metanas; see `benches/`.
