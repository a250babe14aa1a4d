//! Bindings to `csrc/tch_keras.cpp`, the LibTorch features tch does not expose.
use std::ffi::{c_char, CStr};

use crate::{Error, Result};

pub(crate) mod ffi {
    use std::ffi::{c_char, c_int, c_void};
    use torch_sys::C_tensor;

    extern "C" {
        pub fn tk_free_error(e: *mut c_char);
        pub fn tk_autocast_enter(cuda: c_int, bf16: c_int, state: *mut c_int) -> *mut c_char;
        pub fn tk_autocast_exit(cuda: c_int, state: *const c_int) -> *mut c_char;
        pub fn tk_autocast_enabled(cuda: c_int) -> c_int;
        pub fn tk_autocast_pause(cuda: c_int, state: *mut c_int) -> *mut c_char;
        pub fn tk_autocast_resume(cuda: c_int, state: *const c_int) -> *mut c_char;
        pub fn tk_set_tf32(matmul: c_int, conv: c_int) -> *mut c_char;
        pub fn tk_get_tf32(out: *mut c_int) -> *mut c_char;
        #[allow(clippy::too_many_arguments)]
        pub fn tk_fused_adam(
            param: *mut C_tensor,
            grad: *mut C_tensor,
            m: *mut C_tensor,
            v: *mut C_tensor,
            vhat: *mut C_tensor,
            step: *mut C_tensor,
            lr: f64,
            beta1: f64,
            beta2: f64,
            eps: f64,
        ) -> *mut c_char;
        pub fn tk_cuda_graphs_available() -> c_int;
        pub fn tk_graph_new(out: *mut *mut c_void) -> *mut c_char;
        pub fn tk_graph_free(g: *mut c_void);
        pub fn tk_graph_capture_begin(g: *mut c_void, device: c_int) -> *mut c_char;
        pub fn tk_graph_capture_end(g: *mut c_void) -> *mut c_char;
        pub fn tk_graph_replay(g: *mut c_void) -> *mut c_char;
        pub fn tk_cuda_memory(device: c_int, reset: c_int, out: *mut i64) -> *mut c_char;
    }
}

/// Turns the shim's error string into an [`Error`].
pub(crate) fn check(what: &'static str, e: *mut c_char) -> Result<()> {
    if e.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null return is a NUL-terminated string malloc'd by the shim; freed once here.
    let message = unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned();
    unsafe { ffi::tk_free_error(e) };
    Err(Error::Torch(tch::TchError::Torch(format!("{what}: {message}"))))
}
