//! Fuzz targets of eqlite (see `fuzz_targets/`) and the checks they run. The checks live in
//! `checks.rs` and the naive evaluator in `naive.rs` so that `tests/hostile.rs` can replay
//! `fuzz/regressions/**` with the very same code.

pub mod checks;
pub mod naive;
