//! The exports Fluent Bit's `filter_wasm` calls (classic JSON ABI), over one [`Filter`] per module
//! instance.
//!
//! The instance state is a plain static, not a `RefCell`: with `panic = "abort"` a trap in the
//! middle of a call would leave a `RefCell` borrowed forever and fail every later record. A wasm
//! instance is single-threaded and the host never re-enters a call.

use crate::{Filter, Mode, Verdict};
use std::cell::UnsafeCell;

struct Instance {
    filter: UnsafeCell<Option<Filter>>,
    stats: UnsafeCell<Vec<u8>>,
}

// SAFETY: a wasm32 module instance runs one call at a time on one thread.
unsafe impl Sync for Instance {}

static INSTANCE: Instance = Instance { filter: UnsafeCell::new(None), stats: UnsafeCell::new(Vec::new()) };

/// The empty string: drops the record.
static EMPTY: u8 = 0;

/// The instance's filter, made on first use (rules compile once per instance).
///
/// # Safety
/// No other reference to it may be alive (true for the exports below, which do not nest).
unsafe fn filter() -> &'static mut Filter {
    let slot = unsafe { &mut *INSTANCE.filter.get() };
    slot.get_or_insert_with(init)
}

fn init() -> Filter {
    #[cfg(target_os = "wasi")]
    {
        let f = Filter::with_rules_dir(std::path::Path::new(crate::RULES_DIR));
        for e in &f.rule_errors {
            eprintln!("[eqlite] rule not loaded: {e}");
        }
        f
    }
    // No stderr here: the errors are only counted (`rule_errors` in `eqlite_stats`).
    #[cfg(not(target_os = "wasi"))]
    Filter::embedded()
}

/// # Safety
/// `record` is null or points to `record_len` readable bytes (and, as Fluent Bit passes it, one
/// more NUL byte).
unsafe fn run(record: *const u8, record_len: u32, mode: Mode, time_sec: u32, time_nsec: u32) -> *const u8 {
    let f = unsafe { filter() };
    let len = record_len as usize;
    let bytes: &[u8] =
        if record.is_null() || len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(record, len) } };
    // Fluent Bit's record time orders sequences for records without a timestamp field.
    f.set_record_time(time_sec, time_nsec);
    match f.process(bytes, mode) {
        Verdict::Drop => &EMPTY,
        Verdict::Tagged => f.output().as_ptr(),
        Verdict::Unchanged => {
            // Fluent Bit copies `len + 1` bytes, so its copy is NUL-terminated, and it copies the
            // result (strdup) before freeing its inputs: handing its own copy back saves copying a
            // record that did not change (up to MAX_RECORD_BYTES and beyond). Any other host gets
            // a copy in the output buffer.
            if unsafe { *record.add(len) } == 0 {
                record
            } else {
                f.copy_to_output(bytes).as_ptr()
            }
        }
    }
}

/// Tag mode: every record passes; matching records get the alert fields.
///
/// # Safety
/// The host passes a NUL-terminated record of `record_len` bytes (Fluent Bit's JSON event format).
#[no_mangle]
pub unsafe extern "C" fn eqlite_tag(
    _tag: *const u8,
    _tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    unsafe { run(record, record_len, Mode::Tag, time_sec, time_nsec) }
}

/// Match-only mode: records that match no rule (and bad records) are dropped.
///
/// # Safety
/// As [`eqlite_tag`].
#[no_mangle]
pub unsafe extern "C" fn eqlite_match_only(
    _tag: *const u8,
    _tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    unsafe { run(record, record_len, Mode::MatchOnly, time_sec, time_nsec) }
}

/// The instance's counters as NUL-terminated JSON (valid until the next `eqlite_stats` call).
///
/// # Safety
/// Not to be called while another export of this instance runs.
#[no_mangle]
pub unsafe extern "C" fn eqlite_stats() -> *const u8 {
    let json = unsafe { filter() }.stats_json();
    let buf = unsafe { &mut *INSTANCE.stats.get() };
    buf.clear();
    buf.extend_from_slice(json.as_bytes());
    buf.push(0);
    buf.as_ptr()
}

/// Forgets pending sequences and zeroes the counters, keeping the compiled rules. Fluent Bit never
/// calls it; the test harness does, to give each fixture case a fresh engine without recompiling.
///
/// # Safety
/// Not to be called while another export of this instance runs.
#[no_mangle]
pub unsafe extern "C" fn eqlite_reset() {
    unsafe { filter() }.reset();
}
