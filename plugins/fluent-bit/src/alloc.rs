//! `malloc` / `free` for wasm32-unknown-unknown, where there is no libc. WAMR uses a module's own
//! exported `malloc`/`free` to copy records in, instead of its 8 KiB default app heap.
//! (On wasm32-wasip1, wasi-libc's are exported instead: see build.rs.)

use std::alloc::{alloc, dealloc, Layout};

/// The block size is kept in a header in front of the block; 16 keeps the block 16-aligned.
const HEADER: usize = 16;

/// # Safety
/// The result is freed only with [`free`].
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    let Some(total) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let Ok(layout) = Layout::from_size_align(total, HEADER) else { return std::ptr::null_mut() };
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        return base;
    }
    unsafe {
        (base as *mut usize).write(total);
        base.add(HEADER)
    }
}

/// # Safety
/// `ptr` is null or came from [`malloc`] and was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    unsafe {
        let base = ptr.sub(HEADER);
        let total = (base as *const usize).read();
        dealloc(base, Layout::from_size_align_unchecked(total, HEADER));
    }
}
