//! `Cropping1D`: steps cut from both ends of a sequence.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Cuts `cropping[0]` steps from the start and `cropping[1]` from the end of the length of
/// `(None, channels, length)` inputs, or of `(None, steps, features)` sequences with
/// `.data_format(DataFormat::ChannelsLast)` (Keras's `Cropping1D`, which always crops axis 1).
/// Keras's default crops one step at each end. At least one step must remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cropping1D {
    /// Steps cut at the start and at the end.
    pub cropping: [i64; 2],
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl Cropping1D {
    /// Cuts `start` steps at the start and `end` at the end.
    pub fn new(start: i64, end: i64) -> Self {
        Self { cropping: [start, end], data_format: DataFormat::ChannelsFirst }
    }
    /// Sets which axis holds the channels.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
}

impl Default for Cropping1D {
    fn default() -> Self {
        Self::new(1, 1)
    }
}

/// Narrows one axis of a batch to `len` values from `start`.
#[derive(Debug)]
pub(crate) struct NarrowModule {
    /// `(axis, start, len)` for each axis narrowed.
    pub(crate) cuts: Vec<(i64, i64, i64)>,
}

impl LayerModule for NarrowModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let mut y = xs.shallow_clone();
        for &(axis, start, len) in &self.cuts {
            y = y.f_narrow(axis, start, len)?;
        }
        Ok(y)
    }
}

/// The length left after cutting `crop` from `length`, or an error naming `kind`.
pub(crate) fn cropped(kind: &str, length: i64, crop: [i64; 2]) -> std::result::Result<i64, String> {
    if crop.iter().any(|&c| c < 0) {
        return Err(format!("{kind}'s cropping must not be negative, got {crop:?}"));
    }
    match crop[0].checked_add(crop[1]).map(|c| length - c) {
        Some(left) if left > 0 => Ok(left),
        _ => Err(format!(
            "cropping {crop:?} leaves nothing of a length of {length}; crop fewer than {length} steps in all"
        )),
    }
}

impl LayerSpec for Cropping1D {
    fn kind(&self) -> &'static str {
        "Cropping1D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, l) = self.data_format.split("Cropping1D", input)?;
        Ok(self.data_format.join(c, cropped("Cropping1D", l, self.cropping)?))
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, l) = self.data_format.split("Cropping1D", input).map_err(|m| config_error("Cropping1D", m))?;
        let len = cropped("Cropping1D", l, self.cropping).map_err(|m| config_error("Cropping1D", m))?;
        Ok(Box::new(NarrowModule { cuts: vec![(self.data_format.length_axis(), self.cropping[0], len)] }))
    }
}
