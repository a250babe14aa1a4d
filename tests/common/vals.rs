//! The deterministic test values the Keras reference scripts (`tests/reference/`) compute the
//! same way: `vals` there and here give equal inputs and weights.
#![allow(dead_code)]
use tch::{Device, Kind, Tensor};

/// `sin(0.7 * i + offset) * scale` over the flattened `shape`, in float32 (computed in float64
/// as NumPy does, then rounded).
pub fn vals(shape: &[i64], offset: f64, scale: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset)
        .sin()
        .g_mul_scalar(scale)
        .to_kind(Kind::Float)
        .reshape(shape)
}
