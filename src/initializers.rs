//! Keras's initializers: how a layer's kernel, bias or embeddings start.
//!
//! Layers with weights take them as builder options (`Dense::new(8).kernel_initializer(..)`)
//! and save them in their configuration. Draws come from the model's seed, as the default
//! glorot-uniform kernels always have.
//!
//! Fans follow Keras's `compute_fans` on Keras's kernel shape, whatever the layout the weight
//! has here: a dense kernel `(in, units)` has fans `in` and `units`; a convolution kernel
//! `(*kernel_size, in_channels, filters)` has fans `receptive field × in_channels` and
//! `receptive field × filters`.
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use crate::{Error, Result};

/// The standard deviation of a standard normal truncated to `(-2, 2)`: Keras divides by it so
/// a truncated draw keeps the asked variance.
const TRUNCATED_STDDEV: f64 = 0.879_625_661_034_239_8;

/// Which fan a [`Initializer::VarianceScaling`] divides its scale by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FanMode {
    /// Number of inputs.
    FanIn,
    /// Number of outputs.
    FanOut,
    /// Mean of the two.
    FanAvg,
}

/// What a [`Initializer::VarianceScaling`] draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// A normal truncated at two standard deviations, scaled up to keep the variance
    /// (Keras's `"truncated_normal"`, also spelled `"normal"`).
    #[serde(alias = "normal")]
    TruncatedNormal,
    /// A plain normal.
    UntruncatedNormal,
    /// `U(-limit, limit)`, `limit = sqrt(3 * scale / n)`.
    Uniform,
}

/// How a variable starts, as Keras's `keras.initializers` (names and formulas of Keras 3).
///
/// Saved as Keras writes it (`{"class_name": "HeNormal"}`,
/// `{"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05}}`); parsed from
/// Keras's strings (`"he_normal"`, `"zeros"`, ...) by [`FromStr`].
///
/// This is the initializer of the built-in layers' options; a custom layer's variables use
/// [`layers::Initializer`](crate::layers::Initializer), which takes its fans directly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
pub enum Initializer {
    /// `U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))`: Keras's default for kernels (and
    /// `Default`).
    #[default]
    GlorotUniform,
    /// Truncated normal, `stddev = sqrt(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// `U(-l, l)`, `l = sqrt(6 / fan_in)`.
    HeUniform,
    /// Truncated normal, `stddev = sqrt(2 / fan_in)`.
    HeNormal,
    /// `U(-l, l)`, `l = sqrt(3 / fan_in)`.
    LecunUniform,
    /// Truncated normal, `stddev = sqrt(1 / fan_in)`.
    LecunNormal,
    /// All zeros: Keras's default for biases.
    Zeros,
    /// All ones.
    Ones,
    /// Every value `value`.
    Constant {
        /// The value.
        value: f64,
    },
    /// `U(minval, maxval)` (Keras's defaults `-0.05`, `0.05`).
    RandomUniform {
        /// Lower bound.
        minval: f64,
        /// Upper bound.
        maxval: f64,
    },
    /// `N(mean, stddev²)` (Keras's defaults `0`, `0.05`).
    RandomNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// `N(mean, stddev²)` with values beyond two standard deviations redrawn (Keras's
    /// defaults `0`, `0.05`).
    TruncatedNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation before truncation.
        stddev: f64,
    },
    /// An orthogonal matrix (of Keras's kernel shape flattened to `(prod(shape[..-1]),
    /// shape[-1])`) times `gain`, from the QR decomposition of a normal draw.
    Orthogonal {
        /// Multiplicative factor.
        gain: f64,
    },
    /// Variance `scale / n`, `n` the fan `mode` names, drawn from `distribution`.
    VarianceScaling {
        /// Scaling factor (positive).
        scale: f64,
        /// Which fan `n` is.
        mode: FanMode,
        /// What is drawn.
        distribution: Distribution,
    },
}

impl Initializer {
    /// Keras's `Constant(value)`.
    pub fn constant(value: f64) -> Self {
        Initializer::Constant { value }
    }
    /// Keras's `RandomUniform(minval, maxval)`.
    pub fn random_uniform(minval: f64, maxval: f64) -> Self {
        Initializer::RandomUniform { minval, maxval }
    }
    /// Keras's `RandomNormal(mean, stddev)`.
    pub fn random_normal(mean: f64, stddev: f64) -> Self {
        Initializer::RandomNormal { mean, stddev }
    }
    /// Keras's `TruncatedNormal(mean, stddev)`.
    pub fn truncated_normal(mean: f64, stddev: f64) -> Self {
        Initializer::TruncatedNormal { mean, stddev }
    }
    /// Keras's `Orthogonal(gain)`.
    pub fn orthogonal(gain: f64) -> Self {
        Initializer::Orthogonal { gain }
    }
    /// Keras's `VarianceScaling(scale, mode, distribution)`.
    pub fn variance_scaling(scale: f64, mode: FanMode, distribution: Distribution) -> Self {
        Initializer::VarianceScaling { scale, mode, distribution }
    }

    /// Keras's name for it, in snake case (`"glorot_uniform"`).
    pub fn name(&self) -> &'static str {
        match self {
            Initializer::GlorotUniform => "glorot_uniform",
            Initializer::GlorotNormal => "glorot_normal",
            Initializer::HeUniform => "he_uniform",
            Initializer::HeNormal => "he_normal",
            Initializer::LecunUniform => "lecun_uniform",
            Initializer::LecunNormal => "lecun_normal",
            Initializer::Zeros => "zeros",
            Initializer::Ones => "ones",
            Initializer::Constant { .. } => "constant",
            Initializer::RandomUniform { .. } => "random_uniform",
            Initializer::RandomNormal { .. } => "random_normal",
            Initializer::TruncatedNormal { .. } => "truncated_normal",
            Initializer::Orthogonal { .. } => "orthogonal",
            Initializer::VarianceScaling { .. } => "variance_scaling",
        }
    }

    /// The variance-scaling form of the named Keras initializers, `None` for the others.
    fn scaling(&self) -> Option<(f64, FanMode, Distribution)> {
        use Distribution::{TruncatedNormal as Normal, Uniform};
        Some(match *self {
            Initializer::GlorotUniform => (1.0, FanMode::FanAvg, Uniform),
            Initializer::GlorotNormal => (1.0, FanMode::FanAvg, Normal),
            Initializer::HeUniform => (2.0, FanMode::FanIn, Uniform),
            Initializer::HeNormal => (2.0, FanMode::FanIn, Normal),
            Initializer::LecunUniform => (1.0, FanMode::FanIn, Uniform),
            Initializer::LecunNormal => (1.0, FanMode::FanIn, Normal),
            Initializer::VarianceScaling { scale, mode, distribution } => (scale, mode, distribution),
            _ => return None,
        })
    }

    /// Refuses values Keras refuses (a non-positive scale, a negative spread, a non-finite
    /// value) and values beyond float32's range: the message says which.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        // The weights are float32: LibTorch refuses (or tch panics on) a fill or a range beyond it.
        let f32_max = f64::from(f32::MAX);
        let fits = |v: f64| v.is_finite() && v.abs() <= f32_max;
        let bad = match *self {
            Initializer::Constant { value } => {
                (!fits(value)).then(|| format!("value {value} is not a finite float32 number (at most {f32_max:e})"))
            }
            Initializer::RandomUniform { minval, maxval } => {
                (!(fits(minval) && fits(maxval) && minval <= maxval && maxval - minval <= f32_max)).then(|| {
                    format!(
                        "minval {minval} and maxval {maxval} must be finite with minval <= maxval, at most \
                         {f32_max:e} (float32's largest) apart"
                    )
                })
            }
            Initializer::RandomNormal { mean, stddev } | Initializer::TruncatedNormal { mean, stddev } => {
                (!(fits(mean) && fits(stddev) && stddev >= 0.0))
                    .then(|| format!("mean {mean} and stddev {stddev} must be finite float32 numbers with stddev >= 0"))
            }
            Initializer::Orthogonal { gain } => {
                (!fits(gain)).then(|| format!("gain {gain} is not a finite float32 number (at most {f32_max:e})"))
            }
            Initializer::VarianceScaling { scale, .. } => (!(fits(scale) && scale > 0.0)).then(|| {
                format!("scale must be a positive number within float32's range (at most {f32_max:e}), got {scale}")
            }),
            _ => None,
        };
        match bad {
            Some(message) => Err(format!("initializer {}: {message}", self.name())),
            None => Ok(()),
        }
    }

    /// A float32 tensor for a variable whose Keras shape is `keras_shape`, laid out here as
    /// `keras_shape` permuted by `perm` (`ours[i] = keras_shape[perm[i]]`). Element-wise draws
    /// fill our layout directly (so glorot-uniform draws what it always has); an orthogonal
    /// matrix is made in Keras's layout and permuted.
    pub(crate) fn tensor(&self, keras_shape: &[i64], perm: &[i64], device: Device) -> Result<Tensor> {
        let ours: Vec<i64> = perm.iter().map(|&p| keras_shape[p as usize]).collect();
        let opts = (Kind::Float, device);
        if let Some((scale, mode, distribution)) = self.scaling() {
            let (fan_in, fan_out) = compute_fans(keras_shape);
            let n = match mode {
                FanMode::FanIn => fan_in,
                FanMode::FanOut => fan_out,
                FanMode::FanAvg => (fan_in + fan_out) / 2.0,
            };
            let scale = scale / n.max(1.0);
            return match distribution {
                Distribution::TruncatedNormal => truncated(&ours, 0.0, scale.sqrt() / TRUNCATED_STDDEV, device),
                Distribution::UntruncatedNormal => {
                    Ok(nn::f_init(nn::Init::Randn { mean: 0.0, stdev: scale.sqrt() }, &ours, device, Kind::Float)?)
                }
                Distribution::Uniform => {
                    let limit = (3.0 * scale).sqrt();
                    Ok(Tensor::f_zeros(ours.as_slice(), opts)?.f_uniform_(-limit, limit)?)
                }
            };
        }
        Ok(match *self {
            Initializer::Zeros => Tensor::f_zeros(ours.as_slice(), opts)?,
            Initializer::Ones => Tensor::f_ones(ours.as_slice(), opts)?,
            Initializer::Constant { value } => Tensor::f_full(ours.as_slice(), value, opts)?,
            Initializer::RandomUniform { minval, maxval } => {
                Tensor::f_zeros(ours.as_slice(), opts)?.f_uniform_(minval, maxval)?
            }
            Initializer::RandomNormal { mean, stddev } => {
                nn::f_init(nn::Init::Randn { mean, stdev: stddev }, &ours, device, Kind::Float)?
            }
            Initializer::TruncatedNormal { mean, stddev } => truncated(&ours, mean, stddev, device)?,
            Initializer::Orthogonal { gain } => {
                orthogonal(keras_shape, gain, device)?.f_permute(perm)?.f_contiguous()?
            }
            _ => unreachable!("variance-scaling initializers return above"),
        })
    }

    /// Creates the trainable variable `name` under `path` (see [`Self::tensor`]).
    pub(crate) fn var(&self, path: &nn::Path, name: &str, keras_shape: &[i64], perm: &[i64]) -> Result<Tensor> {
        // The same draws as `path.f_var` with the equivalent `nn::Init`.
        let t = self.tensor(keras_shape, perm, path.device())?;
        Ok(path.add(name, t, true))
    }
}

/// Keras's `compute_fans` for a kernel shape in Keras's layout.
pub(crate) fn compute_fans(shape: &[i64]) -> (f64, f64) {
    match shape {
        [] => (1.0, 1.0),
        [n] => (*n as f64, *n as f64),
        [i, o] => (*i as f64, *o as f64),
        [field @ .., i, o] => {
            let r: i64 = field.iter().product();
            ((r * i) as f64, (r * o) as f64)
        }
    }
}

/// `N(mean, stddev²)` truncated to two standard deviations, by the inverse normal CDF of a
/// uniform draw on `(Φ(-2), Φ(2))`: every value lies within the bound, as Keras's redraws
/// intend.
fn truncated(shape: &[i64], mean: f64, stddev: f64, device: Device) -> Result<Tensor> {
    // Φ(2) - 1/2, so 2u - 1 with u on (Φ(-2), Φ(2)) lies on (-erf(√2), erf(√2)).
    let bound = 0.954_499_736_103_641_6;
    let u = Tensor::f_zeros(shape, (Kind::Float, device))?.f_uniform_(-bound, bound)?;
    let z = u.f_erfinv()?.f_mul_scalar(std::f64::consts::SQRT_2)?.f_clamp(-2.0, 2.0)?;
    Ok(z.f_mul_scalar(stddev)?.f_add_scalar(mean)?)
}

/// Keras's `Orthogonal` in Keras's layout.
fn orthogonal(shape: &[i64], gain: f64, device: Device) -> Result<Tensor> {
    let Some((&cols, lead)) = shape.split_last().filter(|_| shape.len() >= 2) else {
        return Err(Error::invalid(
            "orthogonal initializer",
            format!("needs a variable of at least two dimensions, got shape {shape:?}: use it for kernels, not biases"),
        ));
    };
    let rows: i64 = lead.iter().product();
    let a = Tensor::f_randn([rows.max(cols), rows.min(cols)], (Kind::Float, device))?;
    let (q, r) = Tensor::f_linalg_qr(&a, "reduced")?;
    let mut q = q.f_mul(&r.f_diagonal(0, 0, 1)?.f_sign()?)?;
    if rows < cols {
        q = q.f_transpose(0, 1)?.f_contiguous()?;
    }
    Ok(q.f_reshape(shape)?.f_mul_scalar(gain)?)
}

impl FromStr for Initializer {
    type Err = Error;

    /// Keras's strings, with Keras's default arguments: `glorot_uniform`, `glorot_normal`,
    /// `he_uniform`, `he_normal`, `lecun_uniform`, `lecun_normal`, `zeros`, `ones`,
    /// `constant` (0), `random_uniform` (±0.05), `random_normal` and `truncated_normal`
    /// (0, 0.05), `orthogonal` (gain 1), `variance_scaling` (1, fan_in, truncated normal); the
    /// class names (`GlorotUniform`) and Keras's short aliases (`uniform`, `normal`, `zero`,
    /// `one`) too.
    fn from_str(s: &str) -> Result<Self> {
        let key: String = s.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
        Ok(match key.as_str() {
            "glorotuniform" => Initializer::GlorotUniform,
            "glorotnormal" => Initializer::GlorotNormal,
            "heuniform" => Initializer::HeUniform,
            "henormal" => Initializer::HeNormal,
            "lecununiform" => Initializer::LecunUniform,
            "lecunnormal" => Initializer::LecunNormal,
            "zeros" | "zero" => Initializer::Zeros,
            "ones" | "one" => Initializer::Ones,
            "constant" => Initializer::constant(0.0),
            "randomuniform" | "uniform" => Initializer::random_uniform(-0.05, 0.05),
            "randomnormal" | "normal" => Initializer::random_normal(0.0, 0.05),
            "truncatednormal" => Initializer::truncated_normal(0.0, 0.05),
            "orthogonal" => Initializer::orthogonal(1.0),
            "variancescaling" => Initializer::variance_scaling(1.0, FanMode::FanIn, Distribution::TruncatedNormal),
            _ => {
                return Err(Error::Parse {
                    what: "initializer",
                    value: s.to_string(),
                    expected: "glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, \
                               zeros, ones, constant, random_uniform, random_normal, truncated_normal, orthogonal, \
                               variance_scaling"
                        .into(),
                })
            }
        })
    }
}

/// Serde helpers: a layer's initializer options are written only when they differ from the
/// default, so files saved before the options existed, and the JSON of default layers, stay
/// as they were.
pub(crate) mod defaults {
    use super::Initializer;

    /// Glorot-uniform: the kernels' default.
    pub(crate) fn kernel() -> Initializer {
        Initializer::GlorotUniform
    }
    /// Zeros: the biases' default.
    pub(crate) fn bias() -> Initializer {
        Initializer::Zeros
    }
    /// `Orthogonal(1)`: the recurrent kernels' default.
    pub(crate) fn recurrent() -> Initializer {
        Initializer::orthogonal(1.0)
    }
    pub(crate) fn is_recurrent(i: &Initializer) -> bool {
        *i == recurrent()
    }
    /// `RandomUniform(-0.05, 0.05)`: the embeddings' default.
    pub(crate) fn embeddings() -> Initializer {
        Initializer::random_uniform(-0.05, 0.05)
    }
    pub(crate) fn is_kernel(i: &Initializer) -> bool {
        *i == kernel()
    }
    pub(crate) fn is_bias(i: &Initializer) -> bool {
        *i == bias()
    }
    pub(crate) fn is_embeddings(i: &Initializer) -> bool {
        *i == embeddings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fans_follow_keras_compute_fans() {
        assert_eq!(compute_fans(&[7]), (7.0, 7.0));
        assert_eq!(compute_fans(&[3, 5]), (3.0, 5.0));
        // Conv2D kernel (kh, kw, in, out): receptive field 2 * 3.
        assert_eq!(compute_fans(&[2, 3, 4, 8]), (24.0, 48.0));
    }

    #[test]
    fn variance_scaling_reads_keras_config() {
        let json =
            r#"{"class_name":"VarianceScaling","config":{"scale":2.0,"mode":"fan_out","distribution":"normal"}}"#;
        let init: Initializer = serde_json::from_str(json).unwrap();
        assert_eq!(init, Initializer::variance_scaling(2.0, FanMode::FanOut, Distribution::TruncatedNormal));
    }

    #[test]
    fn truncated_draws_stay_within_two_standard_deviations() {
        tch::manual_seed(3);
        let t = truncated(&[200_000], 1.0, 0.5, Device::Cpu).unwrap();
        let (lo, hi) = (t.min().double_value(&[]), t.max().double_value(&[]));
        assert!(lo >= 0.0 && hi <= 2.0, "{lo} {hi}");
        // The std of a normal truncated at ±2σ is 0.8796σ.
        let std = t.std(true).double_value(&[]);
        assert!((std - 0.5 * TRUNCATED_STDDEV).abs() < 0.005, "{std}");
    }
}
