//! Metrics, logged under the name the user gave them (`"acc"` logs `acc`).
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::{Activation, Error, Loss, Result};

/// What a metric computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Fraction of correct predictions. Which accuracy follows from the loss, as in Keras:
    /// sparse labels compare with the arg-max, binary outputs threshold at 0.5, otherwise the
    /// arg-max of outputs and one-hot targets are compared.
    Accuracy,
    /// Mean absolute error.
    MeanAbsoluteError,
    /// Mean squared error.
    MeanSquaredError,
}

/// A metric and the name it is logged under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    /// What is computed.
    pub kind: MetricKind,
    /// The key in the logs and the History.
    pub name: String,
}

impl Metric {
    /// A metric logged under `name`.
    pub fn new(kind: MetricKind, name: impl Into<String>) -> Self {
        Self { kind, name: name.into() }
    }
    /// Accuracy, logged as `accuracy`.
    pub fn accuracy() -> Self {
        Self::new(MetricKind::Accuracy, "accuracy")
    }
    /// Mean absolute error, logged as `mae`.
    pub fn mae() -> Self {
        Self::new(MetricKind::MeanAbsoluteError, "mae")
    }
    /// Mean squared error, logged as `mse`.
    pub fn mse() -> Self {
        Self::new(MetricKind::MeanSquaredError, "mse")
    }

    /// How many numbers this metric accumulates over an epoch (its state): 1 for a mean over
    /// samples. Each batch adds [`Self::batch_state`] to the state, on the device; the logged
    /// value is [`Self::result`] of the summed state. Streaming metrics (precision, AUC, ...)
    /// keep several counts here, and a distributed run sums the states of every process.
    pub(crate) fn state_len(&self) -> usize {
        1
    }

    /// The batch's contribution to the state: a float32 tensor of [`Self::state_len`] sums on
    /// the batch's device (no host sync).
    pub(crate) fn batch_state(&self, raw: &Tensor, act: Activation, y: &Tensor, loss: Loss) -> Result<Tensor> {
        Ok(self.batch_sum(raw, act, y, loss)?.f_reshape([1])?)
    }

    /// The metric's value from its state summed over `count` samples.
    pub(crate) fn result(&self, state: &[f64], count: i64) -> f64 {
        state.first().copied().unwrap_or(f64::NAN) / count.max(1) as f64
    }

    /// The metric summed over a batch (a scalar on the batch's device; no host sync).
    ///
    /// `raw` is the last layer's output before its activation `act`; targets are prepared by
    /// [`Loss::prepare_targets`].
    fn batch_sum(&self, raw: &Tensor, act: Activation, y: &Tensor, loss: Loss) -> Result<Tensor> {
        let per_sample_mean = |d: Tensor| -> Result<Tensor> {
            let d = if d.dim() > 1 { d.f_flatten(1, -1)?.f_mean_dim(-1, false, Kind::Float)? } else { d };
            Ok(d.f_sum(Kind::Float)?)
        };
        match self.kind {
            MetricKind::Accuracy => {
                let binary = loss.is_binary_crossentropy() || (raw.size().last() == Some(&1) && !loss.is_sparse());
                let correct = if binary {
                    let out = act.apply(raw)?;
                    out.f_gt(0.5)?.f_eq_tensor(&y.f_gt(0.5)?)?
                } else {
                    let pred = raw.f_argmax(-1, false)?;
                    let truth = if loss.is_sparse() { y.shallow_clone() } else { y.f_argmax(-1, false)? };
                    pred.f_eq_tensor(&truth)?
                };
                per_sample_mean(correct.f_to_kind(Kind::Float)?)
            }
            MetricKind::MeanAbsoluteError => per_sample_mean(act.apply(raw)?.f_sub(y)?.f_abs()?),
            MetricKind::MeanSquaredError => per_sample_mean(act.apply(raw)?.f_sub(y)?.f_square()?),
        }
    }
}

impl FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let kind = match s.to_ascii_lowercase().as_str() {
            "acc" | "accuracy" => MetricKind::Accuracy,
            "mae" | "mean_absolute_error" => MetricKind::MeanAbsoluteError,
            "mse" | "mean_squared_error" => MetricKind::MeanSquaredError,
            _ => {
                return Err(Error::Parse {
                    what: "metric",
                    value: s.into(),
                    expected: "acc, accuracy, mae, mean_absolute_error, mse, mean_squared_error".into(),
                })
            }
        };
        Ok(Self::new(kind, s))
    }
}
