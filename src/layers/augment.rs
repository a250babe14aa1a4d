//! What the image augmentation layers share: the channels-first image check, factor ranges,
//! per-image uniform draws on the device and the affine warp (`affine_grid` + `grid_sample`).
//!
//! Every draw comes from LibTorch's generator on the images' device (as `Dropout`'s), so the
//! model's seed fixes it, and nothing is read back to the host: a training step with these
//! layers has no data-dependent shapes or host reads.
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::Interpolation;
use crate::{Error, Result};

/// How a geometric augmentation fills the pixels it moves in from outside the image (Keras's
/// `fill_mode`), as far as LibTorch's `grid_sample` padding modes go. Keras's `wrap` and
/// `mirror` have no padding mode there and are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillMode {
    /// The image reflected about its edge, `d c b a | a b c d | d c b a` (Keras's default;
    /// `grid_sample`'s `reflection`).
    #[default]
    Reflect,
    /// The nearest edge pixel repeated, `a a a a | a b c d | d d d d` (`grid_sample`'s `border`).
    Nearest,
    /// `fill_value` everywhere outside (`grid_sample`'s `zeros`, shifted by `fill_value`).
    Constant,
}

impl std::str::FromStr for FillMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "reflect" => Ok(FillMode::Reflect),
            "nearest" => Ok(FillMode::Nearest),
            "constant" => Ok(FillMode::Constant),
            _ => Err(Error::Parse {
                what: "fill_mode",
                value: s.into(),
                expected: "reflect, nearest, constant (Keras's wrap and mirror have no grid_sample padding mode)"
                    .into(),
            }),
        }
    }
}

/// Checks a `[lower, upper]` factor range: finite, `lower <= upper`, within `[min, max]`.
pub(super) fn check_range(what: &str, range: [f64; 2], min: f64, max: f64) -> std::result::Result<(), String> {
    let [lo, hi] = range;
    if lo.is_finite() && hi.is_finite() && lo <= hi && lo >= min && hi <= max {
        return Ok(());
    }
    Err(format!(
        "{what} must be a range [lower, upper] with lower <= upper, both within [{min}, {max}], got [{lo}, {hi}]; \
         a single number f means [-f, f]"
    ))
}

/// `n` draws from `U(lo, hi)` on `like`'s device, in its float kind, shape `[n]`.
pub(super) fn uniform(like: &Tensor, n: i64, [lo, hi]: [f64; 2]) -> Result<Tensor> {
    Ok(Tensor::f_rand([n], (float_kind(like), like.device()))?.f_mul_scalar(hi - lo)?.f_add_scalar(lo)?)
}

/// The float kind the draws and the warp use for `xs`.
pub(super) fn float_kind(xs: &Tensor) -> Kind {
    match xs.kind() {
        k @ (Kind::Half | Kind::BFloat16 | Kind::Float | Kind::Double) => k,
        _ => Kind::Float,
    }
}

/// The fill settings and interpolation of a geometric augmentation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Warp {
    pub(super) fill_mode: FillMode,
    pub(super) fill_value: f64,
    pub(super) interpolation: Interpolation,
}

impl Warp {
    /// Samples `xs` `[N, C, H, W]` at `theta` `[N, 2, 3]` applied to each output pixel's
    /// normalised coordinates (`x`, `y` in `[-1, 1]`, half-pixel centres).
    pub(super) fn apply(&self, xs: &Tensor, theta: &Tensor) -> Result<Tensor> {
        let size = xs.size();
        let xs = xs.f_to_kind(float_kind(xs))?;
        let grid = Tensor::f_affine_grid_generator(theta, size.as_slice(), false)?;
        let mode = match self.interpolation {
            Interpolation::Bilinear => 0,
            Interpolation::Nearest => 1,
        };
        Ok(match self.fill_mode {
            FillMode::Reflect => xs.f_grid_sampler_2d(&grid, mode, 2, false)?,
            FillMode::Nearest => xs.f_grid_sampler_2d(&grid, mode, 1, false)?,
            // Zeros padding on the image less fill_value, fill_value added back.
            FillMode::Constant => xs
                .f_sub_scalar(self.fill_value)?
                .f_grid_sampler_2d(&grid, mode, 0, false)?
                .f_add_scalar(self.fill_value)?,
        })
    }
}

/// `theta` `[N, 2, 3]` from its six entries, each `[N]`: rows `(a, b, c)` and `(d, e, f)`.
pub(super) fn theta(entries: [&Tensor; 6]) -> Result<Tensor> {
    let n = entries[0].size().first().copied().unwrap_or(0);
    Ok(Tensor::f_stack(&entries, 1)?.f_view([n, 2, 3])?)
}

/// Checks `fill_value` is a finite float32 number.
pub(super) fn check_fill(fill_value: f64) -> std::result::Result<(), String> {
    if super::fits_f32(fill_value) {
        Ok(())
    } else {
        Err(format!("fill_value must be a finite float32 number (at most {:e} in size), got {fill_value}", f32::MAX))
    }
}

/// Checks a `value_range` `[low, high]`: finite float32 numbers (the bounds of a clamp),
/// `low < high`.
pub(super) fn check_value_range([low, high]: [f64; 2]) -> std::result::Result<(), String> {
    if super::fits_f32(low) && super::fits_f32(high) && low < high {
        return Ok(());
    }
    Err(format!(
        "value_range must be finite float32 numbers (at most {:e} in size) with low < high, got [{low}, {high}]",
        f32::MAX
    ))
}

/// The `LayerSpec` impl of an image augmentation `$t` (Keras's `$kind`): `output_shape` and
/// `build` refuse an input other than an image and what the layer's own
/// `factor_problem(&self) -> Result<(), String>` refuses; `build` then takes its
/// `module(&self) -> Box<dyn LayerModule>`.
macro_rules! augmentation_spec {
    ($t:ident, $kind:literal) => {
        impl $t {
            /// Refuses an input other than an image, and factors or values Keras refuses.
            fn check(&self, input: &[i64]) -> std::result::Result<(), String> {
                super::padding::image($kind, input)?;
                self.factor_problem()
            }
        }

        impl super::LayerSpec for $t {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
                self.check(input)?;
                Ok(input.to_vec())
            }
            fn build(&self, _path: &tch::nn::Path, input: &[i64]) -> crate::Result<Box<dyn super::LayerModule>> {
                self.check(input).map_err(|m| super::config_error($kind, m))?;
                Ok(self.module())
            }
        }
    };
}
pub(super) use augmentation_spec;

/// The builder methods of a geometric augmentation's warp options (`fill_mode`, `fill_value`,
/// `interpolation`), and the [`Warp`] they ask for.
macro_rules! warp_options {
    ($t:ident) => {
        impl $t {
            /// Sets how pixels from outside the image are filled.
            pub fn fill_mode(mut self, fill_mode: super::augment::FillMode) -> Self {
                self.fill_mode = fill_mode;
                self
            }
            /// Sets the value `FillMode::Constant` fills with.
            pub fn fill_value(mut self, fill_value: f64) -> Self {
                self.fill_value = fill_value;
                self
            }
            /// Sets how pixels are sampled (`Bilinear`, Keras's default, or `Nearest`).
            pub fn interpolation(mut self, interpolation: super::Interpolation) -> Self {
                self.interpolation = interpolation;
                self
            }
            /// The warp these options ask for.
            fn warp(&self) -> super::augment::Warp {
                super::augment::Warp {
                    fill_mode: self.fill_mode,
                    fill_value: self.fill_value,
                    interpolation: self.interpolation,
                }
            }
        }
    };
}
pub(super) use warp_options;

/// The builder method of a value augmentation's `value_range`.
macro_rules! value_range_option {
    ($t:ident) => {
        impl $t {
            /// Sets the range the images' values lie in (`[0.0, 1.0]` for images scaled to one).
            pub fn value_range(mut self, low: f64, high: f64) -> Self {
                self.value_range = [low, high];
                self
            }
        }
    };
}
pub(super) use value_range_option;

/// The affine transform a geometric augmentation draws per image.
#[derive(Debug, Clone, Copy)]
pub(super) enum Transform {
    /// Rotation by `2π · U(factor)` radians, counter-clockwise for positive angles.
    Rotation { factor: [f64; 2] },
    /// Shift by `U(height) · H` pixels down and `U(width) · W` pixels right.
    Translation { height: [f64; 2], width: [f64; 2] },
    /// Sampling region scaled by `1 + U(height)` and `1 + U(width)` (the height draw when
    /// `width` is `None`): above one zooms out.
    Zoom { height: [f64; 2], width: Option<[f64; 2]> },
}

impl Transform {
    /// Whether every draw is zero, so the transform is the identity.
    fn is_identity(&self) -> bool {
        match *self {
            Transform::Rotation { factor } => factor == [0.0; 2],
            Transform::Translation { height, width } => height == [0.0; 2] && width == [0.0; 2],
            Transform::Zoom { height, width } => height == [0.0; 2] && width.is_none_or(|w| w == [0.0; 2]),
        }
    }

    /// Draws one `theta` `[N, 2, 3]` per image of `xs` `[N, C, H, W]`.
    fn theta(&self, xs: &Tensor) -> Result<Tensor> {
        let size = xs.size();
        let (n, h, w) = (size[0], size[2] as f64, size[3] as f64);
        let zeros = Tensor::f_zeros([n], (float_kind(xs), xs.device()))?;
        let ones = zeros.f_ones_like()?;
        match *self {
            Transform::Rotation { factor } => {
                let angle = uniform(xs, n, factor)?.f_mul_scalar(2.0 * std::f64::consts::PI)?;
                let (cos, sin) = (angle.f_cos()?, angle.f_sin()?);
                let b = sin.f_mul_scalar(-h / w)?;
                let d = sin.f_mul_scalar(w / h)?;
                theta([&cos, &b, &zeros, &d, &cos, &zeros])
            }
            Transform::Translation { height, width } => {
                let tx = uniform(xs, n, width)?.f_mul_scalar(-2.0)?;
                let ty = uniform(xs, n, height)?.f_mul_scalar(-2.0)?;
                theta([&ones, &zeros, &tx, &zeros, &ones, &ty])
            }
            Transform::Zoom { height, width } => {
                let zy = uniform(xs, n, height)?.f_add_scalar(1.0)?;
                let zx = match width {
                    Some(width) => uniform(xs, n, width)?.f_add_scalar(1.0)?,
                    None => zy.shallow_clone(),
                };
                theta([&zx, &zeros, &zeros, &zeros, &zy, &zeros])
            }
        }
    }
}

/// A built geometric augmentation: one drawn transform per image while training, the
/// identity otherwise.
#[derive(Debug)]
pub(super) struct AffineModule {
    pub(super) transform: Transform,
    pub(super) warp: Warp,
}

impl super::LayerModule for AffineModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.transform.is_identity() {
            return Ok(xs.shallow_clone());
        }
        check_batch(xs)?;
        let theta = self.transform.theta(xs)?;
        self.warp.apply(xs, &theta)
    }
}

/// Checks a batch is `[N, C, H, W]` before its sizes are read.
pub(super) fn check_batch(xs: &Tensor) -> Result<()> {
    if xs.dim() == 4 {
        return Ok(());
    }
    Err(Error::invalid(
        "x",
        format!("image augmentation takes batches of channels-first images [N, C, H, W], got shape {:?}", xs.size()),
    ))
}
