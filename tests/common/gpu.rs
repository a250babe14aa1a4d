//! Helpers shared by the GPU test binaries (`tests/cuda.rs`, `tests/cuda_fallback.rs`).
use tch::{Device, Kind, Tensor};
use tch_keras::to_categorical;

/// The first CUDA device; fails the test when LibTorch sees none.
pub fn gpu() -> Device {
    assert!(tch::Cuda::is_available(), "cuda-tests is on but LibTorch sees no CUDA device");
    Device::Cuda(0)
}

/// `n` random samples of per-sample `shape` with random one-hot labels of 10 classes, on the CPU.
pub fn synthetic(n: i64, shape: &[i64]) -> (Tensor, Tensor) {
    tch::manual_seed(1);
    let mut size = vec![n];
    size.extend_from_slice(shape);
    let x = Tensor::rand(size.as_slice(), (Kind::Float, Device::Cpu));
    let y = to_categorical(&Tensor::randint(10, [n], (Kind::Int64, Device::Cpu)), 10).unwrap();
    (x, y)
}
