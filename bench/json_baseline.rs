//! The cost of just reading the data: NDJSON read line by line exactly as `eqlite scan` reads it
//! (a 64 KiB `BufReader`, `read_until(b'\n')`, UTF-8 check, trim, skip blank lines), each line
//! parsed into a `serde_json::Value`. Single-threaded. The baseline of `bench/run.sh`.
//!
//! ```sh
//! cargo run --release --example json_baseline -- events.ndjson      # or stdin
//! cargo run --release --example json_baseline -- --floor events.ndjson
//! ```
//!
//! `--floor` is the I/O floor instead: the file read through the same 64 KiB buffer and its
//! newlines found with `memchr`, nothing parsed (what any line reader must at least do).
//!
//! Prints `{"events", "bytes", "seconds", "events_per_s", "mb_per_s"}` on stdout (time measured
//! inside, without process start-up).

use std::io::{BufRead, BufReader, Read};
use std::time::Instant;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let floor = args.first().is_some_and(|a| a == "--floor");
    if floor {
        args.remove(0);
    }
    let path = args.first().cloned();
    let input: Box<dyn Read> = match path.as_deref() {
        None | Some("-") => Box::new(std::io::stdin()),
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("json_baseline: {p}: {e}");
                std::process::exit(1);
            }
        },
    };
    let started = Instant::now();
    let mut r = BufReader::with_capacity(1 << 16, input);
    if floor {
        let (mut lines, mut total) = (0u64, 0u64);
        loop {
            let n = match r.fill_buf() {
                Ok([]) => break,
                Ok(buf) => {
                    lines += memchr::memchr_iter(b'\n', buf).count() as u64;
                    buf.len()
                }
                Err(e) => {
                    eprintln!("json_baseline: reading: {e}");
                    std::process::exit(1);
                }
            };
            total += n as u64;
            r.consume(n);
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{{\"lines\":{lines},\"bytes\":{total},\"seconds\":{secs:.6},\"mb_per_s\":{:.2}}}",
            total as f64 / secs / 1e6
        );
        return;
    }
    let mut bytes = Vec::new();
    let (mut events, mut total, mut keys, mut bad) = (0u64, 0u64, 0u64, 0u64);
    loop {
        bytes.clear();
        let n = match r.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                eprintln!("json_baseline: reading: {e}");
                std::process::exit(1);
            }
        };
        total += n as u64;
        let Ok(line) = std::str::from_utf8(&bytes) else {
            bad += 1;
            continue;
        };
        let json = line.trim();
        if json.is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(v) => {
                events += 1;
                // Touch the document so that the parse cannot be optimised away.
                keys += v.as_object().map_or(0, |o| o.len() as u64);
            }
            Err(_) => bad += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"events\":{events},\"bytes\":{total},\"invalid\":{bad},\"top_level_keys\":{keys},\"seconds\":{secs:.6},\"events_per_s\":{:.1},\"mb_per_s\":{:.2}}}",
        events as f64 / secs,
        total as f64 / secs / 1e6
    );
}
