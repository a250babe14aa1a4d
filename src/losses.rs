//! Losses, with Keras's names and reductions (mean over samples).
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Reduction, Tensor};

use crate::error::full_shape;
use crate::{Activation, Error, Result};

/// Clipping applied to probabilities before a logarithm, as Keras's `epsilon()`.
const EPSILON: f64 = 1e-7;

/// A training loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Cross-entropy with one-hot (or soft) targets of shape `[N, classes]`.
    CategoricalCrossentropy,
    /// Cross-entropy with integer class labels of shape `[N]`.
    SparseCategoricalCrossentropy,
    /// Binary cross-entropy with 0/1 targets of the output's shape.
    BinaryCrossentropy,
    /// Mean squared error.
    MeanSquaredError,
    /// Mean absolute error.
    MeanAbsoluteError,
    /// Huber loss with threshold `delta` (Keras's default 1.0).
    Huber {
        /// Where the loss changes from quadratic to linear.
        delta: f64,
    },
}

impl Loss {
    /// The Keras name of the loss.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber { .. } => "huber",
        }
    }

    /// Whether this loss is computed from the pre-activation outputs of a final layer with
    /// activation `last`: softmax for the categorical losses, sigmoid for binary cross-entropy.
    /// This is Keras's numerics without clipping: `log_softmax` of the logits.
    pub fn uses_logits(&self, last: Activation) -> bool {
        matches!(
            (self, last),
            (Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy, Activation::Softmax)
                | (Loss::BinaryCrossentropy, Activation::Sigmoid)
        )
    }

    /// Checks targets against the model's per-sample output shape and converts them to what
    /// the loss computes with (float targets, or int64 labels for the sparse loss).
    pub fn prepare_targets(&self, y: &Tensor, output: &[i64]) -> Result<Tensor> {
        let shape = y.size();
        let err = |message: String| Error::Targets { loss: self.name().into(), message };
        let is_int = !y.is_floating_point();
        match self {
            Loss::SparseCategoricalCrossentropy => {
                let labels = match shape.as_slice() {
                    [_] => y.shallow_clone(),
                    [n, 1] => y.f_reshape([*n])?,
                    _ => {
                        return Err(err(format!(
                            "expected integer labels of shape (N,), got {}; for one-hot targets use categorical_crossentropy",
                            full_shape(&shape)
                        )))
                    }
                };
                let classes = output.last().copied().unwrap_or(1);
                if labels.numel() > 0 {
                    let (lo, hi) = (labels.f_min()?.double_value(&[]), labels.f_max()?.double_value(&[]));
                    if lo < 0.0 || hi >= classes as f64 {
                        return Err(err(format!("labels range over [{lo}, {hi}] but the model has {classes} outputs")));
                    }
                }
                Ok(labels.f_to_kind(Kind::Int64)?)
            }
            Loss::CategoricalCrossentropy if shape.len() == 1 && is_int => Err(err(format!(
                "got integer labels of shape {}; use sparse_categorical_crossentropy, or one-hot \
                 encode them with to_categorical",
                full_shape(&shape)
            ))),
            _ => {
                let y = if shape.len() == 1 && output == [1] { y.f_reshape([shape[0], 1])? } else { y.shallow_clone() };
                let ys = y.size();
                if ys.get(1..) != Some(output) {
                    let hint = if matches!(self, Loss::CategoricalCrossentropy) {
                        " (one-hot targets need one column per class: to_categorical(labels, classes))"
                    } else {
                        ""
                    };
                    return Err(err(format!(
                        "targets have shape {} but the model outputs {}{hint}",
                        full_shape(&ys),
                        crate::error::batch_shape(output)
                    )));
                }
                Ok(y.f_to_kind(Kind::Float)?)
            }
        }
    }

    /// The mean loss over the batch. `pred` holds logits when [`Loss::uses_logits`] is true for
    /// the model's last activation (`logits == true`), and final outputs otherwise.
    pub fn compute(&self, pred: &Tensor, y: &Tensor, logits: bool) -> Result<Tensor> {
        Ok(match self {
            Loss::CategoricalCrossentropy => {
                let log_p = if logits {
                    pred.f_log_softmax(-1, Kind::Float)?
                } else {
                    let p = pred.f_div(&pred.f_sum_dim_intlist(-1, true, Kind::Float)?)?;
                    p.f_clamp(EPSILON, 1.0 - EPSILON)?.f_log()?
                };
                log_p.f_mul(y)?.f_sum_dim_intlist(-1, false, Kind::Float)?.f_mean(Kind::Float)?.f_neg()?
            }
            Loss::SparseCategoricalCrossentropy => {
                let log_p = if logits {
                    pred.f_log_softmax(-1, Kind::Float)?
                } else {
                    pred.f_clamp(EPSILON, 1.0 - EPSILON)?.f_log()?
                };
                log_p.f_nll_loss::<&Tensor>(y, None, Reduction::Mean, -100)?
            }
            Loss::BinaryCrossentropy => {
                if logits {
                    pred.f_binary_cross_entropy_with_logits::<&Tensor>(y, None, None, Reduction::Mean)?
                } else {
                    let p = pred.f_clamp(EPSILON, 1.0 - EPSILON)?;
                    p.f_binary_cross_entropy::<&Tensor>(y, None, Reduction::Mean)?
                }
            }
            Loss::MeanSquaredError => pred.f_mse_loss(y, Reduction::Mean)?,
            Loss::MeanAbsoluteError => pred.f_l1_loss(y, Reduction::Mean)?,
            Loss::Huber { delta } => pred.f_huber_loss(y, Reduction::Mean, *delta)?,
        })
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "categorical_crossentropy" | "categoricalcrossentropy" => Loss::CategoricalCrossentropy,
            "sparse_categorical_crossentropy" | "sparsecategoricalcrossentropy" => Loss::SparseCategoricalCrossentropy,
            "binary_crossentropy" | "binarycrossentropy" => Loss::BinaryCrossentropy,
            "mse" | "mean_squared_error" | "meansquarederror" => Loss::MeanSquaredError,
            "mae" | "mean_absolute_error" | "meanabsoluteerror" => Loss::MeanAbsoluteError,
            "huber" | "huber_loss" => Loss::Huber { delta: 1.0 },
            _ => {
                return Err(Error::Parse {
                    what: "loss",
                    value: s.into(),
                    expected: "categorical_crossentropy, sparse_categorical_crossentropy, \
                               binary_crossentropy, mse, mae, huber"
                        .into(),
                })
            }
        })
    }
}
