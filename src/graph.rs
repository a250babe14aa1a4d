//! CUDA graphs: a training step captured once and replayed, so each later step costs one
//! launch instead of one per kernel (forward, loss, metrics, backward, optimizer update).
//!
//! This is what Keras's compiled `train_step` (`run_eagerly=False`) is to its eager mode. On a
//! GPU the recipe's small models are bound by the host's kernel launches, not by the GPU.
use std::ffi::{c_int, c_void};

use crate::shim::{check, ffi};
use crate::{Error, Result};

/// Whether this build has CUDA graph support (LibTorch with CUDA and the CUDA headers).
pub(crate) fn available() -> bool {
    // SAFETY: a plain query.
    unsafe { ffi::tk_cuda_graphs_available() != 0 }
}

/// A captured CUDA graph.
pub(crate) struct CudaGraph {
    ptr: *mut c_void,
}

impl std::fmt::Debug for CudaGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CudaGraph")
    }
}

impl CudaGraph {
    /// Captures the CUDA work `f` queues on `device` (on a side stream; nothing runs yet) and
    /// returns the graph and what `f` returned: tensors `f` creates live in the graph's memory
    /// pool and are rewritten by every replay.
    ///
    /// Every failure of the capture itself (LibTorch refusing an operation while capturing, or
    /// refusing to begin or end) is an [`Error::CudaGraph`], so callers can go on eagerly.
    pub(crate) fn capture<T>(device: usize, f: impl FnOnce() -> Result<T>) -> Result<(Self, T)> {
        Self::capture_inner(device, f).map_err(|e| match e {
            Error::CudaGraph { .. } => e,
            other => Error::CudaGraph { message: other.to_string() },
        })
    }

    fn capture_inner<T>(device: usize, f: impl FnOnce() -> Result<T>) -> Result<(Self, T)> {
        let mut ptr = std::ptr::null_mut();
        // SAFETY: `ptr` receives a new graph object, owned by the returned value.
        check("creating a CUDA graph", unsafe { ffi::tk_graph_new(&mut ptr) })?;
        let graph = Self { ptr };
        // SAFETY: `graph.ptr` is live; the guard ends the capture even if `f` panics.
        check("starting a CUDA graph capture", unsafe { ffi::tk_graph_capture_begin(graph.ptr, device as c_int) })?;
        let (out, end) = {
            let mut capturing = Capturing { graph: &graph, ended: false };
            let out = f();
            (out, capturing.end())
        };
        let out = out?;
        end?;
        Ok((graph, out))
    }

    /// Runs the captured work again on the current stream.
    pub(crate) fn replay(&self) -> Result<()> {
        // SAFETY: `self.ptr` is a captured graph.
        check("replaying a CUDA graph", unsafe { ffi::tk_graph_replay(self.ptr) })
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from tk_graph_new and is freed once.
        unsafe { ffi::tk_graph_free(self.ptr) }
    }
}

/// Ends a capture once, on `end` or when dropped (by a panic in the captured closure).
struct Capturing<'a> {
    graph: &'a CudaGraph,
    ended: bool,
}

impl Capturing<'_> {
    fn end(&mut self) -> Result<()> {
        self.ended = true;
        // SAFETY: a capture was begun on this live graph and has not ended.
        check("ending a CUDA graph capture", unsafe { ffi::tk_graph_capture_end(self.graph.ptr) })
    }
}

impl Drop for Capturing<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.end();
        }
    }
}
