#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eqlite_fuzz::checks::snapshot(data));
