//! Numeric precision: bf16 mixed precision (autocast), TF32 and cuDNN's benchmark mode.
//!
//! With [`Precision::Bf16`] a model keeps its weights, optimizer state and gradients in float32
//! (the master weights) and runs its forward pass under LibTorch's autocast with bfloat16:
//! matmuls and convolutions compute in bf16, the outputs are cast back to float32 before the
//! loss and the metrics. This is Keras's `mixed_bfloat16` policy and PyTorch's
//! `torch.autocast(dtype=torch.bfloat16)`. bf16 needs no loss scaling.
//!
//! TF32 ([`set_tf32`]) and cuDNN's benchmark mode ([`set_cudnn_benchmark`]) are process-wide
//! LibTorch switches for CUDA, as in PyTorch.
use std::ffi::c_int;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::{Error, Result};

use crate::shim::{check, ffi};

/// The precision the forward pass computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Everything in float32 (the default).
    #[default]
    F32,
    /// Mixed precision: float32 master weights, forward pass under bf16 autocast, loss and
    /// metrics in float32.
    Bf16,
}

impl Precision {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" | "mixed_bfloat16" => Ok(Precision::Bf16),
            _ => Err(Error::Parse { what: "precision", value: s.into(), expected: "f32, bf16".into() }),
        }
    }
}

/// An autocast region for a device; left (and the previous state restored) on drop.
#[derive(Debug)]
pub struct Autocast {
    cuda: c_int,
    state: [c_int; 2],
}

impl Autocast {
    /// Enters bf16 autocast on `device` when `precision` asks for it; `None` for float32.
    pub fn enter(precision: Precision, device: Device) -> Result<Option<Self>> {
        if precision == Precision::F32 {
            return Ok(None);
        }
        let cuda = c_int::from(device.is_cuda());
        let mut state = [0; 2];
        // SAFETY: `state` has the two ints the shim writes.
        check("entering bf16 autocast", unsafe { ffi::tk_autocast_enter(cuda, 1, state.as_mut_ptr()) })?;
        Ok(Some(Self { cuda, state }))
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        // SAFETY: `state` is what `tk_autocast_enter` wrote. Restoring cannot fail for a state
        // LibTorch itself reported; an error here has nowhere to go but stderr.
        if let Err(e) = check("leaving autocast", unsafe { ffi::tk_autocast_exit(self.cuda, self.state.as_ptr()) }) {
            crate::warn(&e.to_string());
        }
    }
}

/// Autocast turned off on `device` for a region that must compute in float32 inside a bf16
/// forward pass; turned back on when dropped.
#[derive(Debug)]
pub(crate) struct AutocastPause {
    cuda: c_int,
    state: [c_int; 1],
}

impl AutocastPause {
    /// Pauses autocast on `device` when it is on there; `None` when it is off.
    pub(crate) fn new(device: Device) -> Result<Option<Self>> {
        if !autocast_enabled(device) {
            return Ok(None);
        }
        let cuda = c_int::from(device.is_cuda());
        let mut state = [0; 1];
        // SAFETY: `state` has the one int the shim writes.
        check("pausing autocast", unsafe { ffi::tk_autocast_pause(cuda, state.as_mut_ptr()) })?;
        Ok(Some(Self { cuda, state }))
    }
}

impl Drop for AutocastPause {
    fn drop(&mut self) {
        // SAFETY: `state` is what `tk_autocast_pause` wrote.
        if let Err(e) = check("resuming autocast", unsafe { ffi::tk_autocast_resume(self.cuda, self.state.as_ptr()) }) {
            crate::warn(&e.to_string());
        }
    }
}

/// Whether autocast is on for `device` (on this thread).
pub fn autocast_enabled(device: Device) -> bool {
    // SAFETY: a plain query.
    unsafe { ffi::tk_autocast_enabled(c_int::from(device.is_cuda())) != 0 }
}

/// TF32 for CUDA float32 work: matmuls (cuBLAS) and convolutions (cuDNN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tf32 {
    /// Float32 matmuls may use TF32 tensor cores (LibTorch's default: off).
    pub matmul: bool,
    /// Float32 convolutions may use TF32 (LibTorch's default: on).
    pub conv: bool,
}

impl Tf32 {
    /// LibTorch's defaults: TF32 for convolutions only.
    pub const DEFAULT: Tf32 = Tf32 { matmul: false, conv: true };
}

/// Sets the process-wide TF32 switches (PyTorch's `torch.backends.cuda.matmul.fp32_precision`
/// and `torch.backends.cudnn.conv.fp32_precision`). They only affect CUDA.
pub fn set_tf32(tf32: Tf32) -> Result<()> {
    // SAFETY: plain setters on LibTorch's global context.
    check("setting TF32", unsafe { ffi::tk_set_tf32(c_int::from(tf32.matmul), c_int::from(tf32.conv)) })
}

/// The current TF32 switches.
pub fn tf32() -> Result<Tf32> {
    let mut out = [0; 2];
    // SAFETY: `out` has the two ints the shim writes.
    check("reading TF32", unsafe { ffi::tk_get_tf32(out.as_mut_ptr()) })?;
    Ok(Tf32 { matmul: out[0] != 0, conv: out[1] != 0 })
}

/// cuDNN's benchmark mode: try the convolution algorithms for each new input shape and keep the
/// fastest (LibTorch's default: off).
pub fn set_cudnn_benchmark(on: bool) {
    tch::Cuda::cudnn_set_benchmark(on);
    CUDNN_BENCHMARK.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`set_cudnn_benchmark`] turned the benchmark mode on (LibTorch offers no getter).
pub fn cudnn_benchmark() -> bool {
    CUDNN_BENCHMARK.load(std::sync::atomic::Ordering::Relaxed)
}

static CUDNN_BENCHMARK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One Adam update in a single fused LibTorch kernel (PyTorch's rule, with its epsilon
/// outside the bias-corrected square root). `step` is a float32 scalar tensor holding the
/// update's 1-based count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fused_adam(
    param: &Tensor,
    grad: &Tensor,
    m: &Tensor,
    v: &Tensor,
    vhat: Option<&Tensor>,
    step: &Tensor,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) -> Result<()> {
    let ptr = |t: &Tensor| t.as_ptr() as *mut torch_sys::C_tensor;
    // SAFETY: every pointer is a live tensor handle borrowed for the call; the kernel updates
    // `param`, `m`, `v` and `vhat` in place, as their owners expect.
    check("fused Adam update", unsafe {
        ffi::tk_fused_adam(
            ptr(param),
            ptr(grad),
            ptr(m),
            ptr(v),
            vhat.map_or(std::ptr::null_mut(), ptr),
            ptr(step),
            lr,
            beta1,
            beta2,
            eps,
        )
    })
}
