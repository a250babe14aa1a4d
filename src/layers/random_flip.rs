//! `RandomFlip`: flips each image horizontally and/or vertically with probability one half,
//! while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::augment::float_kind;
use super::padding::image;
use super::{config_error, LayerModule, LayerSpec};
use crate::{Error, Result};

/// Which flips `RandomFlip` draws (Keras's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlipMode {
    /// Left-right flips (the width axis).
    Horizontal,
    /// Top-bottom flips (the height axis).
    Vertical,
    /// Both, drawn independently (Keras's default).
    #[default]
    HorizontalAndVertical,
}

impl std::str::FromStr for FlipMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "horizontal" => Ok(FlipMode::Horizontal),
            "vertical" => Ok(FlipMode::Vertical),
            "horizontal_and_vertical" => Ok(FlipMode::HorizontalAndVertical),
            _ => Err(Error::Parse {
                what: "RandomFlip mode",
                value: s.into(),
                expected: "horizontal, vertical, horizontal_and_vertical".into(),
            }),
        }
    }
}

/// Keras's `RandomFlip` on channels-first images `(None, channels, height, width)`: while
/// training, each image is flipped left-right (and/or top-bottom, per `mode`) with probability
/// one half, each image drawing its own flips; the identity in evaluation and prediction. The
/// draws come from LibTorch's generator on the images' device, so the model's seed fixes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomFlip {
    /// Which flips are drawn.
    pub mode: FlipMode,
}

impl RandomFlip {
    /// Random flips of the given mode (`"horizontal"`, `"vertical"` and
    /// `"horizontal_and_vertical"` parse into it).
    pub fn new(mode: FlipMode) -> Self {
        Self { mode }
    }
}

impl Default for RandomFlip {
    fn default() -> Self {
        Self::new(FlipMode::HorizontalAndVertical)
    }
}

#[derive(Debug)]
struct RandomFlipModule {
    mode: FlipMode,
}

/// Flips along `axis` the images whose draw is below one half.
fn maybe_flip(xs: &Tensor, axis: i64) -> Result<Tensor> {
    let n = xs.size().first().copied().unwrap_or(0);
    let flip = Tensor::f_rand([n, 1, 1, 1], (float_kind(xs), xs.device()))?.f_lt(0.5)?;
    Ok(xs.f_flip([axis])?.f_where_self(&flip, xs)?)
}

impl LayerModule for RandomFlipModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return Ok(xs.shallow_clone());
        }
        match self.mode {
            FlipMode::Horizontal => maybe_flip(xs, 3),
            FlipMode::Vertical => maybe_flip(xs, 2),
            FlipMode::HorizontalAndVertical => maybe_flip(&maybe_flip(xs, 3)?, 2),
        }
    }
}

impl LayerSpec for RandomFlip {
    fn kind(&self) -> &'static str {
        "RandomFlip"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        image("RandomFlip", input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        image("RandomFlip", input).map_err(|m| config_error("RandomFlip", m))?;
        Ok(Box::new(RandomFlipModule { mode: self.mode }))
    }
}
