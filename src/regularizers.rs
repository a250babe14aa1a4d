//! Keras's weight regularizers: penalties on a layer's kernel or bias added to the loss.
//!
//! Layers with weights take them as builder options (`Dense::new(8).kernel_regularizer(..)`)
//! and save them in their configuration. As in Keras 3, the sum of the penalties of the
//! trainable layers' variables (a frozen layer adds none) is added to the loss after the
//! sample-weighted mean, in training and in evaluation, so the logged `loss` and `val_loss`
//! include it. The penalty is computed on the device inside the training step, from the
//! parameters themselves, so it is differentiated with the loss and captured with the step in
//! a CUDA graph; in data-parallel training every process adds the same penalty to its batch
//! mean, so the averaged gradient and the logged loss carry it once.
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::{Error, Result};

/// A penalty on a variable, as Keras's `keras.regularizers` (no `1/2` factor).
///
/// Saved as Keras writes it (`{"class_name": "L2", "config": {"l2": 0.01}}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
pub enum Regularizer {
    /// `l1 * sum(|w|)`.
    L1 {
        /// Factor.
        l1: f64,
    },
    /// `l2 * sum(w²)`.
    L2 {
        /// Factor.
        l2: f64,
    },
    /// `l1 * sum(|w|) + l2 * sum(w²)`.
    L1L2 {
        /// Factor of the absolute values.
        l1: f64,
        /// Factor of the squares.
        l2: f64,
    },
}

impl Regularizer {
    /// Keras's `L1(l1)` (Keras's default factor is `0.01`, the string `"l1"`).
    pub fn l1(l1: f64) -> Self {
        Regularizer::L1 { l1 }
    }
    /// Keras's `L2(l2)` (Keras's default factor is `0.01`, the string `"l2"`).
    pub fn l2(l2: f64) -> Self {
        Regularizer::L2 { l2 }
    }
    /// Keras's `L1L2(l1, l2)`.
    pub fn l1_l2(l1: f64, l2: f64) -> Self {
        Regularizer::L1L2 { l1, l2 }
    }

    fn factors(&self) -> (f64, f64) {
        match *self {
            Regularizer::L1 { l1 } => (l1, 0.0),
            Regularizer::L2 { l2 } => (0.0, l2),
            Regularizer::L1L2 { l1, l2 } => (l1, l2),
        }
    }

    /// Refuses factors Keras refuses (negative or not finite): the message says which.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let (l1, l2) = self.factors();
        if [l1, l2].iter().all(|f| f.is_finite() && *f >= 0.0) {
            return Ok(());
        }
        Err(format!("regularizer factors must be finite and >= 0, got {self:?}"))
    }

    /// The penalty of `w`, a float32 scalar on `w`'s device, differentiable in `w`.
    pub(crate) fn penalty(&self, w: &Tensor) -> Result<Tensor> {
        let (l1, l2) = self.factors();
        let mut total = Tensor::f_zeros([], (Kind::Float, w.device()))?;
        // As Keras's L1L2: a zero factor adds nothing (not even its kernels).
        if l1 != 0.0 {
            total = total.f_add(&w.f_abs()?.f_sum(Kind::Float)?.f_mul_scalar(l1)?)?;
        }
        if l2 != 0.0 {
            total = total.f_add(&w.f_square()?.f_sum(Kind::Float)?.f_mul_scalar(l2)?)?;
        }
        Ok(total)
    }

    /// The penalty of a layer's output `y` (`[N, ...]`) as Keras 3's activity regularizer adds
    /// it: [`penalty`](Self::penalty) divided by the batch size `N` (zero for an empty batch,
    /// Keras's `divide_no_nan`). The batch size is read from the shape, not the data.
    pub(crate) fn activity_penalty(&self, y: &Tensor) -> Result<Tensor> {
        let total = self.penalty(y)?;
        match y.size().first() {
            Some(&n) if n > 0 => Ok(total.f_div_scalar(n as f64)?),
            _ => Ok(total.f_mul_scalar(0.0)?),
        }
    }
}

impl FromStr for Regularizer {
    type Err = Error;

    /// Keras's strings: `l1` and `l2` (factor 0.01), and `l1_l2` (0.01 each, the defaults
    /// Keras's `L1L2` documentation gives; Keras 3's own `"l1l2"` string builds
    /// `L1L2(0, 0)`, which adds nothing, so it is not taken); the class names `L1`, `L2`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "l1" => Regularizer::l1(0.01),
            "l2" => Regularizer::l2(0.01),
            "l1_l2" => Regularizer::l1_l2(0.01, 0.01),
            _ => {
                return Err(Error::Parse {
                    what: "regularizer",
                    value: s.to_string(),
                    expected: "l1, l2, l1_l2 (or Regularizer::l1(f), l2(f), l1_l2(f1, f2))".into(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_follow_keras_formulas() {
        let w = Tensor::from_slice(&[1.0f32, -2.0, 3.0]);
        let value = |r: Regularizer| r.penalty(&w).unwrap().double_value(&[]);
        assert!((value(Regularizer::l1(0.5)) - 3.0).abs() < 1e-6);
        assert!((value(Regularizer::l2(0.1)) - 1.4).abs() < 1e-6);
        assert!((value(Regularizer::l1_l2(0.5, 0.1)) - 4.4).abs() < 1e-6);
        assert_eq!("L2".parse::<Regularizer>().unwrap(), Regularizer::l2(0.01));
        assert_eq!("l1_l2".parse::<Regularizer>().unwrap(), Regularizer::l1_l2(0.01, 0.01));
        assert!("l3".parse::<Regularizer>().is_err());
        assert!(Regularizer::l2(-1.0).check().is_err());
    }
}
