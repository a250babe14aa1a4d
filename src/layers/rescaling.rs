//! `Rescaling`: `x * scale + offset`, such as Keras's `Rescaling(1./255)` for pixel values.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Multiplies every input value by `scale` and adds `offset` (Keras's `Rescaling`): `Rescaling::new(1.0 / 255.0)`
/// maps pixels in `[0, 255]` to `[0, 1]`, `Rescaling::new(1.0 / 127.5).offset(-1.0)` to `[-1, 1]`.
/// Any input shape; the output has the same shape. No weights. Keras's per-channel list of
/// scales is not taken: give one number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rescaling {
    /// The factor every value is multiplied by.
    pub scale: f64,
    /// Added after scaling (Keras's default: 0).
    #[serde(default)]
    pub offset: f64,
}

impl Rescaling {
    /// `x * scale`, no offset.
    pub fn new(scale: f64) -> Self {
        Self { scale, offset: 0.0 }
    }
    /// Sets the offset added after scaling.
    pub fn offset(mut self, offset: f64) -> Self {
        self.offset = offset;
        self
    }

    fn check(&self) -> std::result::Result<(), String> {
        if super::fits_f32(self.scale) && super::fits_f32(self.offset) {
            Ok(())
        } else {
            Err(format!(
                "scale and offset must be finite float32 numbers (at most {:e} in size), got {} and {}",
                f32::MAX,
                self.scale,
                self.offset
            ))
        }
    }
}

#[derive(Debug)]
struct RescalingModule {
    scale: f64,
    offset: f64,
}

impl LayerModule for RescalingModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        // Integer inputs (raw pixels) become floats, as Keras casts them.
        let xs = if xs.is_floating_point() { xs.shallow_clone() } else { xs.f_to_kind(tch::Kind::Float)? };
        let scaled = xs.f_mul_scalar(self.scale)?;
        Ok(if self.offset == 0.0 { scaled } else { scaled.f_add_scalar(self.offset)? })
    }
}

impl LayerSpec for Rescaling {
    fn kind(&self) -> &'static str {
        "Rescaling"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check()?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.check().map_err(|m| config_error("Rescaling", m))?;
        Ok(Box::new(RescalingModule { scale: self.scale, offset: self.offset }))
    }
}
