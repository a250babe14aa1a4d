//! `Normalization`: shifts and scales the input by a mean and variance computed from data
//! beforehand (`adapt`) or given directly.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `backend.epsilon()`: the smallest standard deviation the layer divides by.
const EPSILON: f64 = 1e-7;

/// Keras's `Normalization`: `(x - mean) / max(sqrt(variance), 1e-7)`, with one mean and
/// variance per index of `axis` (or one for everything with `axis: None`).
///
/// The statistics come from [`adapt`](Self::adapt) (the mean and biased variance of some data
/// over every axis but `axis`, as Keras computes them), or directly from
/// [`with_statistics`](Self::with_statistics). A model already built is adapted with
/// [`Sequential::adapt_layer`](crate::Sequential::adapt_layer).
///
/// `axis` counts as in Keras, the batch axis included; the default `-1` is the last axis (the
/// features of `(None, features)` or `(None, t, features)`). Images here are channels-first,
/// so Keras's per-channel `Normalization()` on channels-last images is `axis(1)` on `NCHW`.
///
/// Variables (adapted layers only, as in Keras): the non-trainable `mean` and `variance` (the
/// size of `axis`) and `count` (the number of values each statistic was computed from, one
/// value, stored as a float), so Keras's summary counts `2 * size + 1` non-trainable
/// parameters. They are saved with the model, so a program that loads it normalises its input
/// without keeping the statistics. Statistics given directly are part of the configuration and,
/// as in Keras, no variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// The axis with its own mean and variance, batch axis included (`-1`: the last);
    /// `None`: one mean and variance for every value.
    pub axis: Option<i64>,
    /// Statistics given directly (one value, or one per index of `axis`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Vec<f64>>,
    /// Variances given directly, as `mean`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance: Option<Vec<f64>>,
    /// Statistics from [`adapt`](Self::adapt), the initial values of the variables when the
    /// layer is built (afterwards the variables, saved with the model, hold them).
    #[serde(skip)]
    adapted: Option<Adapted>,
}

/// What `adapt` computed: the kept axis's size (`None` for `axis: None`), the statistics and
/// how many values each was computed from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Adapted {
    size: Option<i64>,
    mean: Vec<f64>,
    variance: Vec<f64>,
    count: f64,
}

impl Default for Normalization {
    fn default() -> Self {
        Self { axis: Some(-1), mean: None, variance: None, adapted: None }
    }
}

impl Normalization {
    /// A normalization over the last axis (Keras's default), to be adapted.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the axis with its own statistics (batch axis included; negative counts from the
    /// end).
    pub fn axis(mut self, axis: i64) -> Self {
        self.axis = Some(axis);
        self
    }
    /// One mean and variance for every value (Keras's `axis=None`).
    pub fn global(mut self) -> Self {
        self.axis = None;
        self
    }
    /// Uses the given statistics instead of adapting: one value each, or one per index of
    /// `axis`. Checked when the layer is built.
    pub fn with_statistics(mut self, mean: impl Into<Vec<f64>>, variance: impl Into<Vec<f64>>) -> Self {
        self.mean = Some(mean.into());
        self.variance = Some(variance.into());
        self
    }

    /// Computes the mean and biased variance of `data` (a batch: samples along the first axis)
    /// over every axis but `axis`, as Keras's `adapt` does; they become the layer's variables
    /// when it is built. Refuses empty data, data with a NaN or infinity, and data without the
    /// axis.
    pub fn adapt(mut self, data: &Tensor) -> Result<Self> {
        self.adapted = Some(self.statistics(data)?);
        Ok(self)
    }

    /// The layer with statistics already computed by [`statistics`](Self::statistics).
    pub(crate) fn with_adapted(mut self, adapted: Adapted) -> Self {
        self.adapted = Some(adapted);
        self
    }

    /// The statistics of `data`, checked as [`adapt`](Self::adapt) documents.
    pub(crate) fn statistics(&self, data: &Tensor) -> Result<Adapted> {
        let shape = data.size();
        let fail = |message: String| Err(config_error("Normalization", message));
        if shape.len() < 2 {
            return fail(format!(
                "adapt takes a batch of samples (at least 2-D: samples, features...), got shape {shape:?}: \
                 reshape 1-D data to [n, 1]"
            ));
        }
        if shape.contains(&0) {
            return fail(format!("adapt got no values (shape {shape:?}): pass at least one sample"));
        }
        if matches!(data.kind(), Kind::ComplexFloat | Kind::ComplexDouble | Kind::ComplexHalf | Kind::Bool) {
            return fail(format!("adapt takes real numbers, got {:?}: convert the data to float", data.kind()));
        }
        let x = data.f_to_kind(Kind::Double)?;
        if !bool::try_from(x.f_isfinite()?.f_all()?.f_to_device(tch::Device::Cpu)?)? {
            return fail("adapt got a NaN or infinite value: remove or replace those samples first".into());
        }
        let kept = match self.axis {
            Some(_) => Some(self.sample_axis(&shape[1..]).map_err(|m| config_error("Normalization", m))? + 1),
            None => None,
        };
        let reduce: Vec<i64> = (0..shape.len() as i64).filter(|&d| Some(d as usize) != kept).collect();
        let (var, mean) = x.f_var_mean_correction(reduce.as_slice(), 0i64, false)?;
        let to_vec = |t: &Tensor| -> Result<Vec<f64>> {
            Ok(Vec::<f64>::try_from(t.f_reshape([-1])?.f_to_device(tch::Device::Cpu)?)?)
        };
        let size = kept.map(|k| shape[k]);
        let count = (data.numel() as i64 / size.unwrap_or(1)) as f64;
        Ok(Adapted { size, mean: to_vec(&mean)?, variance: to_vec(&var)?, count })
    }

    /// The kept axis among the per-sample axes (0-based), for an `axis` that is `Some`.
    fn sample_axis(&self, input: &[i64]) -> std::result::Result<usize, String> {
        let axis = self.axis.unwrap_or(-1);
        let rank = input.len() as i64 + 1;
        let a = if axis < 0 { axis + rank } else { axis };
        if a < 1 || a >= rank {
            return Err(format!(
                "axis {axis} is not a per-sample axis of a {rank}-D batch; use -1 (the last) or 1..{}",
                rank - 1
            ));
        }
        Ok(a as usize - 1)
    }

    /// The size of the statistics for `input`: the kept axis's size, or `None` for one value.
    fn stat_size(&self, input: &[i64]) -> std::result::Result<Option<i64>, String> {
        match self.axis {
            Some(_) => Ok(Some(input[self.sample_axis(input)?])),
            None => Ok(None),
        }
    }

    /// The statistics given directly, broadcast to `n` values and checked.
    fn given(&self, n: i64) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
        let (mean, variance) = match (&self.mean, &self.variance) {
            (None, None) => return Ok(None),
            (Some(m), Some(v)) => (m, v),
            _ => return Err(config_error("Normalization", "give both mean and variance, or neither and adapt")),
        };
        let fits = |v: &Vec<f64>| v.len() == 1 || v.len() as i64 == n;
        if !(fits(mean) && fits(variance)) {
            return Err(config_error(
                "Normalization",
                format!(
                    "mean and variance need 1 or {n} values (the size of axis {:?}), got {} and {}",
                    self.axis,
                    mean.len(),
                    variance.len()
                ),
            ));
        }
        if mean.iter().chain(variance).any(|v| !v.is_finite()) || variance.iter().any(|&v| v < 0.0) {
            return Err(config_error("Normalization", "mean must be finite and variance finite and non-negative"));
        }
        let spread = |v: &Vec<f64>| if v.len() == 1 { vec![v[0]; n as usize] } else { v.clone() };
        Ok(Some((spread(mean), spread(variance))))
    }
}

#[derive(Debug)]
struct NormalizationModule {
    mean: Tensor,
    variance: Tensor,
    /// The statistics' shape for broadcasting against a batch.
    broadcast: Vec<i64>,
}

impl LayerModule for NormalizationModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let kind = if xs.is_floating_point() { xs.kind() } else { Kind::Float };
        let mean = self.mean.f_to_kind(kind)?.f_reshape(self.broadcast.as_slice())?;
        let std = self.variance.f_to_kind(kind)?.f_sqrt()?.f_clamp_min(EPSILON)?;
        let std = std.f_reshape(self.broadcast.as_slice())?;
        Ok(xs.f_to_kind(kind)?.f_sub(&mean)?.f_div(&std)?)
    }
}

impl LayerSpec for Normalization {
    fn kind(&self) -> &'static str {
        "Normalization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.stat_size(input)?;
        Ok(input.to_vec())
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        if self.mean.is_some() || self.variance.is_some() {
            return Vec::new();
        }
        let stat: Vec<i64> = self.stat_size(input).ok().flatten().into_iter().collect();
        vec![("count", Vec::new()), ("mean", stat.clone()), ("variance", stat)]
    }
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let size = self.stat_size(input).map_err(|m| config_error("Normalization", m))?;
        let stat: Vec<i64> = size.into_iter().collect();
        let mut broadcast = vec![1i64; input.len() + 1];
        if let (Some(_), Some(n)) = (self.axis, size) {
            broadcast[self.sample_axis(input).map_err(|m| config_error("Normalization", m))? + 1] = n;
        }
        let device = path.device();
        let tensor = |v: &[f64]| -> Result<Tensor> {
            Ok(Tensor::f_from_slice(v)?.f_reshape(stat.as_slice())?.f_to_kind(Kind::Float)?.f_to_device(device)?)
        };
        if let Some((mean, variance)) = self.given(size.unwrap_or(1))? {
            return Ok(Box::new(NormalizationModule { mean: tensor(&mean)?, variance: tensor(&variance)?, broadcast }));
        }
        let mean = path.f_zeros_no_train("mean", &stat)?;
        let variance = path.f_ones_no_train("variance", &stat)?;
        let count = path.f_zeros_no_train("count", &[])?;
        if let Some(adapted) = &self.adapted {
            write_statistics(adapted, size, &mean, &variance, &count)?;
        }
        Ok(Box::new(NormalizationModule { mean, variance, broadcast }))
    }
}

/// Copies adapted statistics into a built layer's variables, after checking that they were
/// computed for an axis of the same size.
pub(crate) fn write_statistics(
    adapted: &Adapted,
    size: Option<i64>,
    mean: &Tensor,
    variance: &Tensor,
    count: &Tensor,
) -> Result<()> {
    if adapted.size != size {
        return Err(config_error(
            "Normalization",
            format!(
                "adapt saw {} values along the axis but the layer's input has {}: adapt on data shaped like the \
                 layer's input",
                adapted.size.unwrap_or(1),
                size.unwrap_or(1)
            ),
        ));
    }
    tch::no_grad(|| -> Result<()> {
        let shape = mean.size();
        mean.shallow_clone().f_copy_(&Tensor::f_from_slice(&adapted.mean)?.f_reshape(shape.as_slice())?)?;
        variance.shallow_clone().f_copy_(&Tensor::f_from_slice(&adapted.variance)?.f_reshape(shape.as_slice())?)?;
        let _ = count.shallow_clone().f_fill_(adapted.count)?;
        Ok(())
    })
}
