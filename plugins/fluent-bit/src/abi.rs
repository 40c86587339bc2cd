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
    #[cfg(target_os = "wasi")]
    extra: UnsafeCell<Extra>,
    /// Whether the state file was looked for (once, on the first record).
    #[cfg(target_os = "wasi")]
    state_tried: UnsafeCell<bool>,
}

/// Where loading the rule files of [`crate::RULES_DIR`] stands. They are parsed at run time, which
/// needs far more wasm stack than Fluent Bit's default (see the README); the state is kept across
/// calls so that a call that traps while parsing them is not retried on every record.
#[cfg(target_os = "wasi")]
#[derive(Clone, Copy, PartialEq)]
enum Extra {
    NotTried,
    /// Set before parsing; still set on the next call only if that call trapped.
    Loading,
    Done,
}

// SAFETY: a wasm32 module instance runs one call at a time on one thread.
unsafe impl Sync for Instance {}

static INSTANCE: Instance = Instance {
    filter: UnsafeCell::new(None),
    stats: UnsafeCell::new(Vec::new()),
    #[cfg(target_os = "wasi")]
    extra: UnsafeCell::new(Extra::NotTried),
    #[cfg(target_os = "wasi")]
    state_tried: UnsafeCell::new(false),
};

/// The empty string: drops the record.
static EMPTY: u8 = 0;

// Why the exports below are split into small functions marked `inline(never)`: WAMR's interpreter
// gives the whole call chain `wasm_stack_size` bytes (8 KiB by default), and every function's
// frame holds all its locals. Compiling the rules on the first call must not run beneath the large
// frame of the per-record code, nor the per-record code beneath the compiler's.

/// The instance's filter, made on first use (rules compile once per instance).
///
/// # Safety
/// No other reference to it may be alive (true for the exports below, which do not nest).
#[inline(never)]
unsafe fn filter() -> &'static mut Filter {
    let slot = unsafe { &mut *INSTANCE.filter.get() };
    if slot.is_none() {
        *slot = Some(init());
    }
    #[cfg(target_os = "wasi")]
    if unsafe { *INSTANCE.extra.get() } != Extra::Done {
        unsafe { load_extra_rules(slot) };
    }
    slot.as_mut().expect("made above")
}

/// [`filter`], with its sequence state restored from [`crate::STATE_DIR`] on the first record
/// (after the rules are final): the state file is named after the filter function, so that two
/// filter instances of different functions do not share one.
///
/// # Safety
/// As [`filter`].
#[inline(never)]
unsafe fn filter_for(mode: Mode) -> &'static mut Filter {
    let f = unsafe { filter() };
    #[cfg(target_os = "wasi")]
    {
        let tried = unsafe { &mut *INSTANCE.state_tried.get() };
        if !*tried {
            // Set first: a call that traps while restoring is not retried on every record.
            *tried = true;
            start_state(f, mode);
        }
    }
    #[cfg(not(target_os = "wasi"))]
    let _ = mode;
    f
}

/// Restores the state file, if the host made its directory's parent (`/etc/eqlite`) reachable:
/// without `accessible_paths` state is simply not kept, and nothing is logged.
#[cfg(target_os = "wasi")]
#[cold]
#[inline(never)]
fn start_state(f: &mut Filter, mode: Mode) {
    let dir = std::path::Path::new(crate::STATE_DIR);
    if dir.parent().is_none_or(|p| std::fs::metadata(p).is_err()) {
        return;
    }
    let name = match mode {
        Mode::Tag => "eqlite_tag",
        Mode::MatchOnly => "eqlite_match_only",
    };
    f.keep_state(dir, name);
    log_messages(f);
}

/// Writes the state file when it is due, in its own frame (not beneath [`run`]'s).
#[cfg(target_os = "wasi")]
#[inline(never)]
fn save_state(f: &mut Filter) {
    if f.keeps_state() {
        f.save_state_if_due();
        log_messages(f);
    }
}

#[cfg(target_os = "wasi")]
#[cold]
#[inline(never)]
fn log_messages(f: &mut Filter) {
    for m in f.take_messages() {
        eprintln!("[eqlite] {m}");
    }
}

#[cold]
#[inline(never)]
fn init() -> Filter {
    Filter::embedded()
}

/// Adds the rule files of [`crate::RULES_DIR`], if any, to the filter (before its first record).
///
/// # Safety
/// As [`filter`].
#[cfg(target_os = "wasi")]
#[cold]
#[inline(never)]
unsafe fn load_extra_rules(slot: &mut Option<Filter>) {
    let extra = unsafe { &mut *INSTANCE.extra.get() };
    let dir = std::path::Path::new(crate::RULES_DIR);
    if *extra == Extra::Loading {
        // The previous call trapped while parsing them: keep the embedded rules only.
        *extra = Extra::Done;
        let n = crate::rule_files(dir).len();
        let msg = format!(
            "{n} rule files in {} not loaded: parsing them overflowed the wasm stack (the call trapped); \
             set wasm_stack_size to 65536 or more. Records are evaluated with the embedded rules only.",
            crate::RULES_DIR
        );
        eprintln!("[eqlite] {msg}");
        if let Some(f) = slot {
            f.add_rule_error(msg);
        }
        return;
    }
    if crate::rule_files(dir).is_empty() {
        *extra = Extra::Done;
        return;
    }
    *extra = Extra::Loading;
    let f = Filter::with_rules_dir(dir);
    for e in &f.rule_errors {
        eprintln!("[eqlite] rule not loaded: {e}");
    }
    *slot = Some(f);
    *extra = Extra::Done;
}

/// # Safety
/// `record` is null or points to `record_len` readable bytes (and, as Fluent Bit passes it, one
/// more NUL byte). `f` is [`filter`]'s, fetched by the caller so that compiling the rules on the
/// first call does not run beneath this function's frame.
#[inline(never)]
unsafe fn run(
    f: &mut Filter,
    record: *const u8,
    record_len: u32,
    mode: Mode,
    time_sec: u32,
    time_nsec: u32,
) -> *const u8 {
    let len = record_len as usize;
    let bytes: &[u8] =
        if record.is_null() || len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(record, len) } };
    // Fluent Bit's record time orders sequences for records without a timestamp field.
    f.set_record_time(time_sec, time_nsec);
    let verdict = f.process(bytes, mode);
    #[cfg(target_os = "wasi")]
    if let Some(notice) = f.take_notice() {
        eprintln!("[eqlite] {notice}");
    }
    match verdict {
        Verdict::Drop => &EMPTY,
        Verdict::Tagged | Verdict::Repaired => f.output().as_ptr(),
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

/// A WASI reactor's entry point, which WAMR calls once after instantiation: runs the C library's
/// constructors. Exporting it also stops WAMR's warning, on every start, that a module with WASI
/// imports "should be either a command or a reactor".
#[cfg(target_os = "wasi")]
#[export_name = "_initialize"]
pub extern "C" fn initialize() {
    extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: the host calls `_initialize` once, before any other export (the WASI reactor ABI).
    unsafe { __wasm_call_ctors() }
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
    let f = unsafe { filter_for(Mode::Tag) };
    let out = unsafe { run(f, record, record_len, Mode::Tag, time_sec, time_nsec) };
    #[cfg(target_os = "wasi")]
    save_state(f);
    out
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
    let f = unsafe { filter_for(Mode::MatchOnly) };
    let out = unsafe { run(f, record, record_len, Mode::MatchOnly, time_sec, time_nsec) };
    #[cfg(target_os = "wasi")]
    save_state(f);
    out
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
