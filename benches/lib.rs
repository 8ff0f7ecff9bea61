//! Criterion benchmarks of agbcloud-rs; run them with `cargo xtask bench`.
