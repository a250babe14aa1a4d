//! GPU memory as LibTorch's CUDA caching allocator counts it: the bytes held by tensors now and
//! at their peak, what PyTorch's `torch.cuda.memory_allocated` and
//! `torch.cuda.max_memory_allocated` report (the allocator's reserved but unused blocks are not
//! counted).
use std::ffi::c_int;

use tch::Device;

use crate::shim::{check, ffi};
use crate::{Error, Result};

/// Bytes allocated on one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CudaMemory {
    /// Held by tensors now.
    pub allocated_bytes: u64,
    /// The most held at once since the process started or the last
    /// [`reset_peak_cuda_memory`].
    pub peak_allocated_bytes: u64,
}

/// The CUDA device index of `device`, checked against the GPUs LibTorch sees; `None` for the
/// CPU or a build without CUDA support.
fn cuda_index(device: Device) -> Result<Option<c_int>> {
    let Device::Cuda(index) = device else { return Ok(None) };
    if !crate::graph::available() {
        return Ok(None);
    }
    let count = tch::Cuda::device_count();
    if count == 0 {
        return Err(Error::invalid("device", format!("cuda:{index}: LibTorch sees no GPU; use the CPU")));
    }
    if index as i64 >= count {
        return Err(Error::invalid(
            "device",
            format!("cuda:{index} does not exist: LibTorch sees {count} GPU(s); use cuda:0 to cuda:{}", count - 1),
        ));
    }
    Ok(Some(index as c_int))
}

fn query(device: Device, reset: bool) -> Result<Option<CudaMemory>> {
    let Some(index) = cuda_index(device)? else { return Ok(None) };
    let mut out = [0i64; 2];
    // SAFETY: `out` holds the two values the function writes.
    check("reading the CUDA allocator's statistics", unsafe {
        ffi::tk_cuda_memory(index, c_int::from(reset), out.as_mut_ptr())
    })?;
    let bytes = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Some(CudaMemory { allocated_bytes: bytes(out[0]), peak_allocated_bytes: bytes(out[1]) }))
}

/// The allocator's counts for `device`: `None` on the CPU, or when this build of tch-keras has
/// no CUDA support.
pub fn cuda_memory(device: Device) -> Result<Option<CudaMemory>> {
    query(device, false)
}

/// Starts a new peak for `device` (PyTorch's `torch.cuda.reset_peak_memory_stats`); returns
/// the counts just before. Nothing happens on the CPU.
pub fn reset_peak_cuda_memory(device: Device) -> Result<Option<CudaMemory>> {
    query(device, true)
}

/// The peak allocated on `device` in MiB, for reports: `None` where there is nothing to count.
pub fn peak_cuda_mib(device: Device) -> Option<f64> {
    cuda_memory(device).ok().flatten().map(|m| m.peak_allocated_bytes as f64 / (1u64 << 20) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_has_no_gpu_memory_to_count() {
        assert_eq!(cuda_memory(Device::Cpu).unwrap(), None);
        assert_eq!(reset_peak_cuda_memory(Device::Cpu).unwrap(), None);
        assert_eq!(peak_cuda_mib(Device::Cpu), None);
    }
}
