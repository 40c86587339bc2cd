//! Fluent Bit's wasm host, made of the same WAMR calls as its `src/wasm/flb_wasm.c` (5.1.1) on WAMR
//! itself (2.4.3, fast interpreter, libc-wasi, bulk memory and reference types, no SIMD; built from
//! the sources vendored in the `wamrx-sys` crate).
//!
//! Like Fluent Bit it loads the module, sets the WASI arguments (`accessible_paths` as pre-opened
//! directories, no environment, no arguments), instantiates it with `wasm_stack_size` and
//! `wasm_heap_size` (Fluent Bit's defaults: 8 KiB each) and creates one execution environment of
//! `wasm_stack_size` bytes, which is the interpreter's operand stack for the whole call chain. Per
//! record it copies tag and record with `wasm_runtime_module_dup_data` (`len + 1` bytes, so they
//! are NUL-terminated; through the module's exported `malloc`), calls the function with six i32
//! arguments, validates the result as a C string, copies it and frees its copies. A trap (an
//! exception) is returned as an error, which Fluent Bit logs before skipping the record.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{Read, Seek};
use std::os::fd::AsRawFd;
use std::ptr::null_mut;
use std::sync::Once;
use wamrx_sys as sys;

/// Fluent Bit's `FLB_WASM_DEFAULT_STACK_SIZE` and `FLB_WASM_DEFAULT_HEAP_SIZE`; smaller settings are
/// raised to them.
pub const DEFAULT_STACK_SIZE: u32 = 8192;
pub const DEFAULT_HEAP_SIZE: u32 = 8192;

/// A filter instance's wasm settings (the `wasm` filter's configuration keys).
#[derive(Clone, Debug)]
pub struct Settings {
    pub wasm_stack_size: u32,
    pub wasm_heap_size: u32,
    pub accessible_paths: Vec<String>,
    /// Not a Fluent Bit setting: WAMR's `guest::host` directory mappings, so that a test can give
    /// the module `/etc/eqlite` from a temporary directory. The module sees a pre-opened
    /// directory either way.
    pub mapped_dirs: Vec<(String, std::path::PathBuf)>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            wasm_stack_size: DEFAULT_STACK_SIZE,
            wasm_heap_size: DEFAULT_HEAP_SIZE,
            accessible_paths: vec![],
            mapped_dirs: vec![],
        }
    }
}

/// What the host makes of one call.
#[derive(Debug, PartialEq)]
pub enum Call {
    /// The returned C string (empty: Fluent Bit drops the record).
    Str(Vec<u8>),
    /// NULL or not a valid string address: Fluent Bit skips the record.
    Invalid,
}

/// One module instance with its execution environment, as one `wasm` filter instance has.
pub struct Wamr {
    module: sys::wasm_module_t,
    inst: sys::wasm_module_inst_t,
    env: sys::wasm_exec_env_t,
    /// WAMR keeps pointers into the loaded bytes (and rewrites them).
    _bytes: Box<[u8]>,
    /// Kept alive for WASI's pre-opened directory lists.
    _dirs: Vec<CString>,
    _maps: Vec<CString>,
    stderr: File,
}

fn runtime() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Fluent Bit initialises WAMR with its own malloc/realloc/free; the system allocator is the
        // same thing here. The runtime stays up for the whole test process.
        let mut args = sys::RuntimeInitArgs { mem_alloc_type: sys::Alloc_With_System_Allocator, ..Default::default() };
        assert!(unsafe { sys::wasm_runtime_full_init(&mut args) }, "WAMR runtime init");
    });
    unsafe { sys::wasm_runtime_init_thread_env() };
}

fn error_text(buf: &[u8]) -> String {
    CStr::from_bytes_until_nul(buf).map_or_else(|_| "?".into(), |s| s.to_string_lossy().into_owned())
}

impl Wamr {
    /// `flb_wasm_instantiate`: load, WASI arguments, instantiate (which runs `_initialize`), exec env.
    pub fn new(bytes: &[u8], settings: &Settings) -> Result<Wamr, String> {
        runtime();
        let stack = settings.wasm_stack_size.max(DEFAULT_STACK_SIZE);
        let heap = settings.wasm_heap_size.max(DEFAULT_HEAP_SIZE);
        let mut owned: Box<[u8]> = bytes.into();
        let mut err = [0u8; 128];
        let module = unsafe {
            sys::wasm_runtime_load(owned.as_mut_ptr(), owned.len() as u32, err.as_mut_ptr().cast(), err.len() as u32)
        };
        if module.is_null() {
            return Err(format!("Load wasm module failed. error: {}", error_text(&err)));
        }
        let dirs: Vec<CString> = settings.accessible_paths.iter().map(|d| CString::new(d.as_str()).unwrap()).collect();
        let maps: Vec<CString> = settings
            .mapped_dirs
            .iter()
            .map(|(guest, host)| CString::new(format!("{guest}::{}", host.display())).unwrap())
            .collect();
        let mut dir_ptrs: Vec<*const std::ffi::c_char> = dirs.iter().map(|d| d.as_ptr()).collect();
        let mut map_ptrs: Vec<*const std::ffi::c_char> = maps.iter().map(|d| d.as_ptr()).collect();
        let stderr = tempfile();
        unsafe {
            sys::wasm_runtime_set_wasi_args_ex(
                module,
                dir_ptrs.as_mut_ptr(),
                dir_ptrs.len() as u32,
                map_ptrs.as_mut_ptr(),
                map_ptrs.len() as u32,
                null_mut(),
                0,
                null_mut(),
                0,
                0,
                1,
                stderr.as_raw_fd() as i64,
            )
        };
        let inst =
            unsafe { sys::wasm_runtime_instantiate(module, stack, heap, err.as_mut_ptr().cast(), err.len() as u32) };
        if inst.is_null() {
            unsafe { sys::wasm_runtime_unload(module) };
            return Err(format!("Instantiate wasm module failed. error: {}", error_text(&err)));
        }
        let env = unsafe { sys::wasm_runtime_create_exec_env(inst, stack) };
        if env.is_null() {
            unsafe {
                sys::wasm_runtime_deinstantiate(inst);
                sys::wasm_runtime_unload(module);
            }
            return Err("Create wasm execution environment failed.".into());
        }
        Ok(Wamr { module, inst, env, _bytes: owned, _dirs: dirs, _maps: maps, stderr })
    }

    fn func(&self, name: &str) -> Result<sys::wasm_function_inst_t, String> {
        let c = CString::new(name).unwrap();
        let f = unsafe { sys::wasm_runtime_lookup_function(self.inst, c.as_ptr()) };
        if f.is_null() {
            return Err(format!("The {name} wasm function is not found."));
        }
        Ok(f)
    }

    /// Calls `name` with i32 arguments; returns the first result cell (or the exception).
    pub fn call(&mut self, name: &str, args: &[u32]) -> Result<u32, String> {
        let f = self.func(name)?;
        let mut argv = [0u32; 8];
        argv[..args.len()].copy_from_slice(args);
        if !unsafe { sys::wasm_runtime_call_wasm(self.env, f, args.len() as u32, argv.as_mut_ptr()) } {
            let e =
                unsafe { CStr::from_ptr(sys::wasm_runtime_get_exception(self.inst)) }.to_string_lossy().into_owned();
            unsafe { sys::wasm_runtime_clear_exception(self.inst) };
            return Err(e);
        }
        Ok(argv[0])
    }

    /// `flb_wasm_call_function_format_json`: one record through `function`. `Err` is the exception
    /// Fluent Bit logs as `Got exception running wasm code: …` before skipping the record.
    pub fn call_json(&mut self, function: &str, tag: &str, time: (u32, u32), record: &[u8]) -> Result<Call, String> {
        let tag_c = [tag.as_bytes(), b"\0"].concat();
        let record_c = [record, b"\0"].concat();
        let tag_buf = self.dup(&tag_c);
        let record_buf = self.dup(&record_c);
        let args = [tag_buf, tag.len() as u32, time.0, time.1, record_buf, record.len() as u32];
        let result = self.call(function, &args).map(|p| self.c_str(p).map_or(Call::Invalid, Call::Str));
        for p in [tag_buf, record_buf] {
            if p != 0 {
                unsafe { sys::wasm_runtime_module_free(self.inst, p as u64) };
            }
        }
        result
    }

    /// `wasm_runtime_module_dup_data` (0 when the module's malloc fails).
    fn dup(&mut self, bytes: &[u8]) -> u32 {
        unsafe { sys::wasm_runtime_module_dup_data(self.inst, bytes.as_ptr().cast(), bytes.len() as u64) as u32 }
    }

    /// The NUL-terminated string at guest address `p`, if WAMR accepts it as one.
    pub fn c_str(&self, p: u32) -> Option<Vec<u8>> {
        if p == 0 || !unsafe { sys::wasm_runtime_validate_app_str_addr(self.inst, p as u64) } {
            return None;
        }
        let native = unsafe { sys::wasm_runtime_addr_app_to_native(self.inst, p as u64) };
        Some(unsafe { CStr::from_ptr(native.cast()) }.to_bytes().to_vec())
    }

    /// Replaces the execution environment with one of `stack_size` bytes (the instance, its memory
    /// and state stay): measures what later calls need after a first call on a bigger stack.
    pub fn set_exec_stack(&mut self, stack_size: u32) {
        let env = unsafe { sys::wasm_runtime_create_exec_env(self.inst, stack_size) };
        assert!(!env.is_null(), "exec env");
        unsafe { sys::wasm_runtime_destroy_exec_env(self.env) };
        self.env = env;
    }

    /// Whether the module exports a function of this name.
    pub fn has(&self, name: &str) -> bool {
        self.func(name).is_ok()
    }

    /// The size of linear memory, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        unsafe {
            let m = sys::wasm_runtime_get_default_memory(self.inst);
            sys::wasm_memory_get_cur_page_count(m) * sys::wasm_memory_get_bytes_per_page(m)
        }
    }

    /// What the module wrote to its stderr (fd 2) so far.
    pub fn stderr(&mut self) -> String {
        let mut s = String::new();
        self.stderr.rewind().unwrap();
        self.stderr.read_to_string(&mut s).unwrap();
        s
    }
}

impl Drop for Wamr {
    fn drop(&mut self) {
        unsafe {
            sys::wasm_runtime_destroy_exec_env(self.env);
            sys::wasm_runtime_deinstantiate(self.inst);
            sys::wasm_runtime_unload(self.module);
        }
    }
}

/// An anonymous file for the module's stderr.
fn tempfile() -> File {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("eqlite-fb-stderr-{}-{n}", std::process::id()));
    let f = File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    std::fs::remove_file(&path).ok();
    f
}
