//! Runs a command and reports its peak memory and CPU time: `peak_rss OUT.json CMD [ARGS…]`.
//!
//! `bench/run.py` runs every measured process through this. Measuring from the Python driver
//! directly would be wrong: on Linux a child's `ru_maxrss` starts from its parent's high-water
//! mark at fork (it survives `execve`), so every child would report at least the driver's RSS.
//! Forked from this small process instead, the command reports its own peak. stdin, stdout and
//! stderr are the command's; the exit status is passed on.
//!
//! OUT.json gets `{"rc", "maxrss_kb", "user_s", "sys_s"}` from `getrusage(RUSAGE_CHILDREN)`.

use std::ffi::c_long;
use std::process::Command;

/// `struct rusage` (Linux): two `struct timeval`s, then 14 longs starting with `ru_maxrss`.
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: [c_long; 2],
    stime: [c_long; 2],
    rest: [c_long; 14],
}

extern "C" {
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

const RUSAGE_CHILDREN: i32 = -1;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: peak_rss OUT.json CMD [ARGS...]");
        std::process::exit(2);
    }
    let status = match Command::new(&args[1]).args(&args[2..]).status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("peak_rss: {}: {e}", args[1]);
            std::process::exit(127);
        }
    };
    let mut ru = Rusage::default();
    // SAFETY: `ru` is a properly sized and aligned `struct rusage` that getrusage fills in.
    let ok = unsafe { getrusage(RUSAGE_CHILDREN, &mut ru) } == 0;
    let secs = |tv: [c_long; 2]| tv[0] as f64 + tv[1] as f64 / 1e6;
    let rc = status.code().unwrap_or(-1);
    let report = if ok {
        format!(
            "{{\"rc\":{rc},\"maxrss_kb\":{},\"user_s\":{:.6},\"sys_s\":{:.6}}}",
            ru.rest[0],
            secs(ru.utime),
            secs(ru.stime)
        )
    } else {
        format!("{{\"rc\":{rc}}}")
    };
    if let Err(e) = std::fs::write(&args[0], report) {
        eprintln!("peak_rss: {}: {e}", args[0]);
    }
    std::process::exit(if rc < 0 { 1 } else { rc });
}
