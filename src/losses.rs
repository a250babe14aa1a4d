//! Losses, with Keras's names, formulas and reduction (each sample's loss is the mean over its
//! last axis, then the mean over the batch: Keras's `sum_over_batch_size`).
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Reduction, Tensor};

use crate::custom_objects::{check_loss_value, ClosureLoss, CustomLoss, LossFn};
use crate::error::full_shape;
use crate::{Activation, Error, Result};

/// Clipping applied to probabilities before a logarithm, as Keras's `epsilon()`.
const EPSILON: f64 = 1e-7;

/// A training loss.
///
/// The three cross-entropies come as plain variants (Keras's defaults: probabilities in, no
/// label smoothing) and as `*With` variants carrying Keras's `from_logits` and
/// `label_smoothing` options; [`Loss::categorical_crossentropy`],
/// [`Loss::sparse_categorical_crossentropy`] and [`Loss::binary_crossentropy`] build them and
/// give back the plain variant when the options are Keras's defaults. Saved model files store
/// the variant's snake-case name (`"categorical_crossentropy"`, or
/// `{"categorical_crossentropy_with": {"from_logits": true, "label_smoothing": 0.1}}`).
///
/// Accepted difference from Keras: when the model's last layer is a softmax (categorical
/// losses) or a sigmoid (binary cross-entropy) and `from_logits` is false, the loss is
/// computed from that layer's pre-activation outputs (`log_softmax`, or PyTorch's
/// `binary_cross_entropy_with_logits`), not from clipped probabilities. The values agree
/// wherever Keras's clip to `[1e-7, 1 - 1e-7]` does not bite; a confidently wrong prediction
/// costs more than Keras's `-log(1e-7) = 16.1` cap here, and its gradient does not vanish.
/// Other last layers (linear, ReLU, ...) get Keras's rule exactly: outputs rescaled to sum to 1
/// along the last axis (categorical losses) and clipped to `[1e-7, 1 - 1e-7]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Cross-entropy with one-hot (or soft) targets of shape `[N, classes]`.
    CategoricalCrossentropy,
    /// Cross-entropy with integer class labels of shape `[N]` for outputs `[N, classes]`, or
    /// `[N, ...]` for outputs `[N, ..., classes]` (a label per timestep of `[N, T, C]`).
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
    /// [`Loss::CategoricalCrossentropy`] with Keras's options.
    CategoricalCrossentropyWith {
        /// The model outputs logits: a softmax is applied inside the loss.
        from_logits: bool,
        /// In `[0, 1]`: targets become `y * (1 - s) + s / classes`.
        label_smoothing: f64,
    },
    /// [`Loss::SparseCategoricalCrossentropy`] with Keras's option (Keras's sparse loss has no
    /// label smoothing).
    SparseCategoricalCrossentropyWith {
        /// The model outputs logits: a softmax is applied inside the loss.
        from_logits: bool,
    },
    /// [`Loss::BinaryCrossentropy`] with Keras's options.
    BinaryCrossentropyWith {
        /// The model outputs logits: a sigmoid is applied inside the loss.
        from_logits: bool,
        /// In `[0, 1]`: targets become `y * (1 - s) + s / 2`.
        label_smoothing: f64,
    },
    /// Kullback-Leibler divergence `sum(y * log(y / p))` over the last axis, `y` and `p`
    /// clipped to `[1e-7, 1]`.
    KlDivergence,
    /// Poisson loss `mean(p - y * log(p + 1e-7))`.
    Poisson,
    /// `mean(log(cosh(p - y)))`, computed as `x + softplus(-2x) - log 2`.
    LogCosh,
    /// `mean(max(1 - y * p, 0))`; 0/1 targets are turned into -1/1 first (when every target
    /// in the batch is 0 or 1, as Keras decides).
    Hinge,
    /// `mean(max(1 - y * p, 0)^2)`, with [`Loss::Hinge`]'s target conversion.
    SquaredHinge,
    /// Minus the cosine similarity along the last axis: `-sum(l2_normalize(y) *
    /// l2_normalize(p))`, in `[-1, 1]` (a zero vector gives 0).
    CosineSimilarity,
    /// `mean((log(max(p, 1e-7) + 1) - log(max(y, 1e-7) + 1))^2)`.
    MeanSquaredLogarithmicError,
    /// `100 * mean(|y - p| / max(|y|, 1e-7))`.
    MeanAbsolutePercentageError,
    /// A user-written loss ([`Loss::custom`], [`Loss::from_fn`]), saved as
    /// `{"custom": {"name": ..., "config": ...}}`. It gets the final outputs (after the last
    /// activation) and float targets of the outputs' shape.
    Custom(CustomLoss),
    /// Keras's `categorical_hinge`: `max(max((1 - y) * p) - sum(y * p) + 1, 0)` along the last
    /// axis, with one-hot targets.
    CategoricalHinge,
    /// Keras's `CategoricalFocalCrossentropy` (defaults: alpha 0.25, gamma 2): with `p` the
    /// outputs rescaled to sum to 1 and clipped to `[1e-7, 1 - 1e-7]`, the sum over the last
    /// axis of `-alpha * (1 - p)^gamma * y * log(p)`. Computed from the final outputs (no
    /// logits shortcut), as Keras does.
    CategoricalFocalCrossentropy {
        /// Weighting factor (Keras's default 0.25).
        alpha: f64,
        /// Focusing parameter, at least 0 (Keras's default 2).
        gamma: f64,
        /// The model outputs logits: a softmax is applied inside the loss.
        from_logits: bool,
        /// In `[0, 1]`: targets become `y * (1 - s) + s / classes`.
        label_smoothing: f64,
    },
    /// Keras's `BinaryFocalCrossentropy` (defaults: no class balancing, alpha 0.25, gamma 2):
    /// `(1 - p_t)^gamma * bce` per element, `p_t = y * p + (1 - y) * (1 - p)`, times
    /// `y * alpha + (1 - y) * (1 - alpha)` with `apply_class_balancing`; the mean over the
    /// last axis. Computed from the final outputs (no logits shortcut), as Keras does.
    BinaryFocalCrossentropy {
        /// Weigh the classes by `alpha` and `1 - alpha` (Keras's default false).
        apply_class_balancing: bool,
        /// Weight of the positive class with class balancing (Keras's default 0.25).
        alpha: f64,
        /// Focusing parameter, at least 0 (Keras's default 2).
        gamma: f64,
        /// The model outputs logits: a sigmoid is applied inside the loss.
        from_logits: bool,
        /// In `[0, 1]`: targets become `y * (1 - s) + s / 2`.
        label_smoothing: f64,
    },
    /// [`Loss::SparseCategoricalCrossentropy`] with Keras's `ignore_class`: labels equal to
    /// `ignore_class` (samples, or timesteps of `[N, T]` labels) lose 0, and the batch loss is
    /// the sum over the other labels divided by their number (0 when every label is ignored),
    /// as Keras's masked `sum_over_batch_size` reduction. The label may lie outside
    /// `[0, classes)` (-1, 255, ...); the metrics do not leave those labels out (as in Keras),
    /// so the metrics that read each label as a class index (sparse top-k accuracy, the sparse
    /// cross-entropy metric) then refuse to run.
    SparseCategoricalCrossentropyMasked {
        /// The model outputs logits: a softmax is applied inside the loss.
        from_logits: bool,
        /// The label whose samples are left out of the loss.
        ignore_class: i64,
    },
    /// Keras's `Dice` with its default `axis=None`: `1 - 2 * sum(y * p) / (sum(y) + sum(p) +
    /// 1e-7)` over the whole batch, one value per batch (each sample's loss is that value, so
    /// sample weights scale it by their mean, as in Keras).
    Dice,
    /// Keras's `Tversky` (defaults alpha 0.5, beta 0.5; `axis=None` as [`Loss::Dice`]):
    /// `1 - tp / (tp + alpha * sum((1 - p) * y) + beta * sum(p * (1 - y)) + 1e-7)` with
    /// `tp = sum(y * p)` over the whole batch.
    Tversky {
        /// Weight of the missed targets, `sum((1 - p) * y)` (Keras's default 0.5).
        alpha: f64,
        /// Weight of the false alarms, `sum(p * (1 - y))` (Keras's default 0.5).
        beta: f64,
    },
}

/// Which cross-entropy a loss is, with its options.
#[derive(Debug, Clone, Copy, PartialEq)]
enum CrossEntropy {
    Categorical,
    Sparse,
    Binary,
}

impl Loss {
    /// Categorical cross-entropy with Keras's `from_logits` and `label_smoothing` (in `[0, 1]`).
    /// With `(false, 0.0)` this is [`Loss::CategoricalCrossentropy`].
    pub fn categorical_crossentropy(from_logits: bool, label_smoothing: f64) -> Result<Loss> {
        check_smoothing(label_smoothing)?;
        Ok(if !from_logits && label_smoothing == 0.0 {
            Loss::CategoricalCrossentropy
        } else {
            Loss::CategoricalCrossentropyWith { from_logits, label_smoothing }
        })
    }

    /// Sparse categorical cross-entropy with Keras's `from_logits`. With `false` this is
    /// [`Loss::SparseCategoricalCrossentropy`].
    pub fn sparse_categorical_crossentropy(from_logits: bool) -> Loss {
        if from_logits {
            Loss::SparseCategoricalCrossentropyWith { from_logits }
        } else {
            Loss::SparseCategoricalCrossentropy
        }
    }

    /// Binary cross-entropy with Keras's `from_logits` and `label_smoothing` (in `[0, 1]`).
    /// With `(false, 0.0)` this is [`Loss::BinaryCrossentropy`].
    pub fn binary_crossentropy(from_logits: bool, label_smoothing: f64) -> Result<Loss> {
        check_smoothing(label_smoothing)?;
        Ok(if !from_logits && label_smoothing == 0.0 {
            Loss::BinaryCrossentropy
        } else {
            Loss::BinaryCrossentropyWith { from_logits, label_smoothing }
        })
    }

    /// Sparse categorical cross-entropy with Keras's `ignore_class`
    /// ([`Loss::SparseCategoricalCrossentropyMasked`]).
    pub fn sparse_categorical_crossentropy_ignoring(from_logits: bool, ignore_class: i64) -> Loss {
        Loss::SparseCategoricalCrossentropyMasked { from_logits, ignore_class }
    }

    /// Keras's `CategoricalFocalCrossentropy()` with its defaults (alpha 0.25, gamma 2,
    /// probabilities, no label smoothing).
    pub fn categorical_focal_crossentropy() -> Loss {
        Loss::CategoricalFocalCrossentropy { alpha: 0.25, gamma: 2.0, from_logits: false, label_smoothing: 0.0 }
    }

    /// Keras's `BinaryFocalCrossentropy()` with its defaults (no class balancing, alpha 0.25,
    /// gamma 2, probabilities, no label smoothing).
    pub fn binary_focal_crossentropy() -> Loss {
        Loss::BinaryFocalCrossentropy {
            apply_class_balancing: false,
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
        }
    }

    /// A user-written loss: `loss` gives each sample's loss (see [`LossFn`]); a saved model
    /// stores its name and serde JSON configuration, and loading it needs the type registered
    /// ([`register_loss`](crate::register_loss)). Fails when the configuration cannot be
    /// written as JSON.
    pub fn custom<L: LossFn + Serialize>(loss: L) -> Result<Loss> {
        Ok(Loss::Custom(CustomLoss::new(loss)?))
    }

    /// A loss from a closure `f(y_pred, y_true)` returning each sample's loss (`[N]`, see
    /// [`LossFn::loss`]), saved under `name`. A saved model holds only the name: loading it
    /// needs the closure registered again with [`register_loss_fn`](crate::register_loss_fn).
    pub fn from_fn<F>(name: impl Into<String>, f: F) -> Loss
    where
        F: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    {
        Loss::Custom(CustomLoss::closure(ClosureLoss { name: name.into(), f: Box::new(f) }))
    }

    /// The Keras name of the loss (a custom loss's own name).
    pub fn name(&self) -> &str {
        match self {
            Loss::CategoricalCrossentropy | Loss::CategoricalCrossentropyWith { .. } => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy | Loss::SparseCategoricalCrossentropyWith { .. } => {
                "sparse_categorical_crossentropy"
            }
            Loss::BinaryCrossentropy | Loss::BinaryCrossentropyWith { .. } => "binary_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber { .. } => "huber",
            Loss::KlDivergence => "kl_divergence",
            Loss::Poisson => "poisson",
            Loss::LogCosh => "log_cosh",
            Loss::Hinge => "hinge",
            Loss::SquaredHinge => "squared_hinge",
            Loss::CosineSimilarity => "cosine_similarity",
            Loss::MeanSquaredLogarithmicError => "mean_squared_logarithmic_error",
            Loss::MeanAbsolutePercentageError => "mean_absolute_percentage_error",
            Loss::Custom(c) => c.name(),
            Loss::CategoricalHinge => "categorical_hinge",
            Loss::CategoricalFocalCrossentropy { .. } => "categorical_focal_crossentropy",
            Loss::BinaryFocalCrossentropy { .. } => "binary_focal_crossentropy",
            Loss::SparseCategoricalCrossentropyMasked { .. } => "sparse_categorical_crossentropy",
            Loss::Dice => "dice",
            Loss::Tversky { .. } => "tversky",
        }
    }

    /// The cross-entropy this loss is, with `(from_logits, label_smoothing)`.
    fn cross_entropy(&self) -> Option<(CrossEntropy, bool, f64)> {
        Some(match *self {
            Loss::CategoricalCrossentropy => (CrossEntropy::Categorical, false, 0.0),
            Loss::CategoricalCrossentropyWith { from_logits, label_smoothing } => {
                (CrossEntropy::Categorical, from_logits, label_smoothing)
            }
            Loss::SparseCategoricalCrossentropy => (CrossEntropy::Sparse, false, 0.0),
            Loss::SparseCategoricalCrossentropyWith { from_logits }
            | Loss::SparseCategoricalCrossentropyMasked { from_logits, .. } => (CrossEntropy::Sparse, from_logits, 0.0),
            Loss::BinaryCrossentropy => (CrossEntropy::Binary, false, 0.0),
            Loss::BinaryCrossentropyWith { from_logits, label_smoothing } => {
                (CrossEntropy::Binary, from_logits, label_smoothing)
            }
            _ => return None,
        })
    }

    /// Whether targets are integer class labels (the sparse cross-entropy).
    pub fn is_sparse(&self) -> bool {
        matches!(self.cross_entropy(), Some((CrossEntropy::Sparse, ..)))
    }

    /// Whether this is a binary cross-entropy (with or without options).
    pub fn is_binary_crossentropy(&self) -> bool {
        matches!(self.cross_entropy(), Some((CrossEntropy::Binary, ..)))
    }

    /// Whether the model's outputs are logits by the user's say-so (`from_logits`).
    pub fn from_logits(&self) -> bool {
        match *self {
            Loss::CategoricalFocalCrossentropy { from_logits, .. }
            | Loss::BinaryFocalCrossentropy { from_logits, .. } => from_logits,
            _ => self.cross_entropy().is_some_and(|(_, logits, _)| logits),
        }
    }

    /// Whether this loss is computed from the pre-activation outputs of a final layer with
    /// activation `last`: softmax for the categorical losses, sigmoid for binary cross-entropy,
    /// when `from_logits` is false. This is Keras's numerics without clipping: `log_softmax` of
    /// the logits (see the accepted difference in [`Loss`]'s docs). With `from_logits` the
    /// final outputs themselves are the logits, as in Keras.
    pub fn uses_logits(&self, last: Activation) -> bool {
        match self.cross_entropy() {
            Some((_, true, _)) | None => false,
            Some((CrossEntropy::Binary, false, _)) => last == Activation::Sigmoid,
            Some((_, false, _)) => last == Activation::Softmax,
        }
    }

    /// Checks the options' ranges (`label_smoothing` in `[0, 1]`, Huber's `delta` > 0, focal
    /// losses' finite `alpha` and `gamma` >= 0).
    pub fn validate(&self) -> Result<()> {
        if let Some((_, _, s)) = self.cross_entropy() {
            check_smoothing(s)?;
        }
        if let Loss::CategoricalFocalCrossentropy { alpha, gamma, label_smoothing, .. }
        | Loss::BinaryFocalCrossentropy { alpha, gamma, label_smoothing, .. } = *self
        {
            check_smoothing(label_smoothing)?;
            check_focal(alpha, gamma)?;
        }
        if let Loss::Tversky { alpha, beta } = *self {
            if !(alpha.is_finite() && beta.is_finite()) {
                return Err(Error::invalid(
                    "alpha",
                    format!("Tversky's alpha and beta must be finite, got {alpha}, {beta}"),
                ));
            }
        }
        if let Loss::Huber { delta } = self {
            if !(delta.is_finite() && *delta > 0.0) {
                return Err(Error::invalid("delta", format!("Huber's delta must be a positive number, got {delta}")));
            }
        }
        Ok(())
    }

    /// Checks targets against the model's per-sample output shape and converts them to what
    /// the loss computes with (float targets, or int64 labels for the sparse loss).
    pub fn prepare_targets(&self, y: &Tensor, output: &[i64]) -> Result<Tensor> {
        self.validate()?;
        let shape = y.size();
        let err = |message: String| Error::Targets { loss: self.name().into(), message };
        if is_complex(y.kind()) {
            return Err(err(format!("targets are complex ({:?}): give real (float or integer) targets", y.kind())));
        }
        let is_int = !y.is_floating_point();
        let categorical = matches!(self.cross_entropy(), Some((CrossEntropy::Categorical, ..)))
            || matches!(self, Loss::CategoricalFocalCrossentropy { .. } | Loss::CategoricalHinge);
        if self.is_sparse() {
            let labels = self.sparse_labels(y, output)?;
            self.check_labels(&labels, output.last().copied().unwrap_or(1))?;
            return Ok(labels.f_to_kind(Kind::Int64)?);
        }
        let one_per_row = output.split_last().is_some_and(|(_, rows)| shape.get(1..) == Some(rows));
        if categorical && is_int && (shape.len() == 1 || one_per_row) {
            return Err(err(format!(
                "got integer labels of shape {} for outputs {}; use sparse_categorical_crossentropy, or \
                 one-hot encode them with to_categorical",
                full_shape(&shape),
                crate::error::batch_shape(output)
            )));
        }
        let y = if shape.len() == 1 && output == [1] { y.f_reshape([shape[0], 1])? } else { y.shallow_clone() };
        let ys = y.size();
        if ys.get(1..) != Some(output) {
            let hint = if output.len() > 1 && ys.len() == 2 {
                // Dense acts on the last axis, so a Dense after a convolution keeps the others.
                " (for one value per sample, put Flatten or a global pooling before the last Dense)"
            } else if categorical {
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

    /// The sparse losses' labels for outputs `(None, ..., classes)`: one class id per output
    /// row, shape `(N, ...)` (Keras's `(N, T)` labels for per-timestep outputs `(N, T, C)`);
    /// a trailing axis of 1 (`(N, 1)`, `(N, T, 1)`) is dropped, as Keras squeezes it.
    fn sparse_labels(&self, y: &Tensor, output: &[i64]) -> Result<Tensor> {
        let shape = y.size();
        let err = |message: String| Error::Targets { loss: self.name().into(), message };
        let Some((_, rows)) = output.split_last() else {
            return Err(err("the model outputs one number per sample: it needs outputs (None, classes)".into()));
        };
        let n = shape.first().copied().unwrap_or(0);
        let want: Vec<i64> = std::iter::once(n).chain(rows.iter().copied()).collect();
        if shape == want {
            return Ok(y.shallow_clone());
        }
        if shape.split_last() == Some((&1, want.as_slice())) {
            return Ok(y.f_reshape(want.as_slice())?);
        }
        let hint = if shape.len() == want.len() + 1 && shape.get(1..) == Some(output) {
            "; for one-hot targets use categorical_crossentropy"
        } else if !rows.is_empty() && shape.len() == 1 {
            "; the model labels each of its output rows (a Dense after a sequence or image keeps those axes): \
             give one label per row, or put Flatten or a global pooling before the last Dense"
        } else {
            ""
        };
        Err(err(format!(
            "the model outputs {} so it expects integer labels of shape {}, got {}{hint}",
            crate::error::batch_shape(output),
            crate::error::batch_shape(rows),
            full_shape(&shape)
        )))
    }

    /// Checks that sparse `labels` are class ids in `[0, classes)` (one host sync); NaN and
    /// infinite labels are refused too. Labels equal to `ignore_class` are left out.
    pub(crate) fn check_labels(&self, labels: &Tensor, classes: i64) -> Result<()> {
        if labels.numel() == 0 {
            return Ok(());
        }
        if let Loss::SparseCategoricalCrossentropyMasked { ignore_class, .. } = *self {
            let kept = labels.f_masked_fill(&labels.f_eq(ignore_class)?, 0i64)?;
            return Loss::SparseCategoricalCrossentropy.check_labels(&kept, classes).map_err(|e| match e {
                Error::Targets { message, .. } => Error::Targets {
                    loss: self.name().into(),
                    message: format!("{message} (or the ignored class {ignore_class})"),
                },
                other => other,
            });
        }
        let (lo, hi) = (labels.f_min()?.double_value(&[]), labels.f_max()?.double_value(&[]));
        if lo.is_nan() || hi.is_nan() {
            return Err(Error::Targets {
                loss: self.name().into(),
                message: format!("labels contain NaN: give class ids in [0, {classes}), one per sample"),
            });
        }
        if lo < 0.0 || hi >= classes as f64 {
            return Err(Error::Targets {
                loss: self.name().into(),
                message: format!(
                    "labels range over [{lo}, {hi}] but the model has {classes} outputs: give class ids in \
                     [0, {classes}), or give the last Dense as many units as there are classes"
                ),
            });
        }
        Ok(())
    }

    /// Checks `y` against `pred` before LibTorch sees them: int64 labels `[N]` for outputs
    /// `[N, classes]` for the sparse loss, targets of the outputs' shape for the others.
    fn check_shapes(&self, pred: &Tensor, y: &Tensor) -> Result<()> {
        let (p, t) = (pred.size(), y.size());
        let message = if self.is_sparse() {
            if p.len() < 2 || t.as_slice() != &p[..p.len() - 1] {
                format!(
                    "takes outputs [N, ..., classes] and labels [N, ...], got outputs {} and labels {} \
                     (prepare_targets checks and converts labels)",
                    full_shape(&p),
                    full_shape(&t)
                )
            } else if y.kind() != Kind::Int64 {
                format!("takes int64 labels, got {:?}: convert them with prepare_targets", y.kind())
            } else {
                return Ok(());
            }
        } else if p != t {
            format!(
                "outputs have shape {} but targets {}: give targets of the outputs' shape (prepare_targets \
                 checks and converts them)",
                full_shape(&p),
                full_shape(&t)
            )
        } else {
            return Ok(());
        };
        Err(Error::Targets { loss: self.name().into(), message })
    }

    /// The mean loss over the batch. `pred` holds logits when [`Loss::uses_logits`] is true for
    /// the model's last activation (`logits == true`), and final outputs otherwise.
    pub fn compute(&self, pred: &Tensor, y: &Tensor, logits: bool) -> Result<Tensor> {
        if let Some(scale) = self.ignored_scale(y)? {
            return Ok(self.reduce(pred, y, logits, true)?.f_mean(Kind::Float)?.f_mul(&scale)?);
        }
        self.reduce(pred, y, logits, false)
    }

    /// With `ignore_class`, Keras's mask weight `labels / valid` (0 when no label is valid): the
    /// batch mean of the masked per-sample losses times it is the mean over the valid labels.
    fn ignored_scale(&self, y: &Tensor) -> Result<Option<Tensor>> {
        let Loss::SparseCategoricalCrossentropyMasked { ignore_class, .. } = *self else {
            return Ok(None);
        };
        let n = y.numel() as f64;
        let valid = y.f_ne(ignore_class)?.f_sum(Kind::Float)?;
        let scale = valid.f_reciprocal()?.f_mul_scalar(n)?;
        Ok(Some(scale.f_where_scalarother(&valid.f_gt(0.0)?, 0.0)?))
    }

    /// Each sample's loss, shape `[N]` (Keras's `reduction=None`, with any axes between the
    /// batch and the last averaged). Arguments as [`Loss::compute`], whose value is their mean.
    pub fn per_sample(&self, pred: &Tensor, y: &Tensor, logits: bool) -> Result<Tensor> {
        self.reduce(pred, y, logits, true)
    }

    /// Each element's loss before Keras's final mean (its unreduced loss, `reduction=None`):
    /// shape `[N, ...]`, the outputs' shape without the last axis, so `[N, T]` for per-timestep
    /// outputs `[N, T, C]` (and `[N]` for outputs `[N, C]`). Arguments as [`Loss::compute`]. The
    /// overlap losses (dice, tversky), which score the whole batch, and custom losses, which
    /// give one value per sample, have none: an error.
    pub fn per_step(&self, pred: &Tensor, y: &Tensor, logits: bool) -> Result<Tensor> {
        if matches!(self, Loss::Dice | Loss::Tversky { .. } | Loss::Custom(_)) {
            return Err(Error::invalid(
                "sample_weight",
                format!(
                    "{} gives one loss per sample (or per batch), not one per timestep: give one weight per \
                     sample, shape [N]",
                    self.name()
                ),
            ));
        }
        self.check_shapes(pred, y)?;
        let size = pred.size();
        let (classes, steps) = match size.split_last() {
            Some((&classes, steps)) if !steps.is_empty() => (classes, steps),
            _ => {
                return Err(Error::invalid(
                    "sample_weight",
                    format!("outputs {} have one loss per sample: give one weight per sample", full_shape(&size)),
                ))
            }
        };
        // Every loss here reduces only the last axis: each row of the outputs is one sample of
        // a batch of rows, and the per-row losses are the per-element ones.
        let count: i64 = steps.iter().product();
        let rows = pred.f_reshape([count, classes])?;
        let labels = if y.dim() == pred.dim() { y.f_reshape([count, classes])? } else { y.f_reshape([count])? };
        Ok(self.per_sample(&rows, &labels, logits)?.f_reshape(steps)?)
    }

    /// Keras's weighted loss: `sum(loss * sample_weight) / size` (its default
    /// `sum_over_batch_size` reduction: a zero weight still counts in the size). With one weight
    /// per sample (`sample_weight` `[N]` or `[N, 1]`) the losses are [`Loss::per_sample`] and the
    /// size `N`; with one weight per timestep (`[N, T]`, or `[N, T, 1]`, for outputs
    /// `[N, T, C]`: the shape of [`Loss::per_step`]) they are the per-timestep losses and the
    /// size `N * T`. [`class_weight_to_sample_weight`] turns class weights into sample weights.
    pub fn compute_weighted(&self, pred: &Tensor, y: &Tensor, logits: bool, sample_weight: &Tensor) -> Result<Tensor> {
        let n = pred.size().first().copied().unwrap_or(0);
        let weighted = if sample_weight.size() == [n] || sample_weight.size() == [n, 1] {
            let losses = self.per_sample(pred, y, logits)?;
            if losses.size() != [n] {
                return Err(Error::invalid(
                    "sample_weight",
                    format!(
                        "expected one weight per sample, shape {:?}, got {:?}",
                        losses.size(),
                        sample_weight.size()
                    ),
                ));
            }
            losses.f_mul(&sample_weight.f_reshape([n])?)?
        } else {
            let w = step_weights(sample_weight, &pred.size())?;
            self.per_step(pred, y, logits)?.f_mul(&w)?
        };
        let mean = weighted.f_mean(Kind::Float)?;
        Ok(match self.ignored_scale(y)? {
            Some(scale) => mean.f_mul(&scale)?,
            None => mean,
        })
    }

    /// The batch mean (`per_sample == false`; fused LibTorch reductions for the losses that
    /// have them) or each sample's loss.
    fn reduce(&self, pred: &Tensor, y: &Tensor, logits: bool, per_sample: bool) -> Result<Tensor> {
        self.check_shapes(pred, y)?;
        let reduction = if per_sample { Reduction::None } else { Reduction::Mean };
        // Per-sample values of an element-wise loss, or their batch mean.
        let elementwise = |t: Tensor| per_sample_or(t, per_sample, true);
        // A fused reduction's result: already the mean unless `per_sample`.
        let fused = |t: Tensor| per_sample_or(t, per_sample, false);
        let ce = |kind, from_logits: bool, smoothing| {
            cross_entropy(kind, pred, y, logits || from_logits, smoothing, per_sample)
        };
        match *self {
            Loss::Custom(ref c) => custom_loss(c, pred, y, per_sample),
            Loss::CategoricalCrossentropy => ce(CrossEntropy::Categorical, false, 0.0),
            Loss::CategoricalCrossentropyWith { from_logits, label_smoothing } => {
                ce(CrossEntropy::Categorical, from_logits, label_smoothing)
            }
            Loss::SparseCategoricalCrossentropy => ce(CrossEntropy::Sparse, false, 0.0),
            Loss::SparseCategoricalCrossentropyWith { from_logits } => ce(CrossEntropy::Sparse, from_logits, 0.0),
            Loss::BinaryCrossentropy => ce(CrossEntropy::Binary, false, 0.0),
            Loss::BinaryCrossentropyWith { from_logits, label_smoothing } => {
                ce(CrossEntropy::Binary, from_logits, label_smoothing)
            }
            Loss::MeanSquaredError => fused(pred.f_mse_loss(y, reduction)?),
            Loss::MeanAbsoluteError => fused(pred.f_l1_loss(y, reduction)?),
            Loss::Huber { delta } => fused(pred.f_huber_loss(y, reduction, delta)?),
            Loss::KlDivergence => {
                let t = y.f_clamp(EPSILON, 1.0)?;
                let p = pred.f_clamp(EPSILON, 1.0)?;
                elementwise(t.f_mul(&t.f_div(&p)?.f_log()?)?.f_sum_dim_intlist(-1, false, Kind::Float)?)
            }
            Loss::Poisson => elementwise(pred.f_sub(&y.f_mul(&pred.f_add_scalar(EPSILON)?.f_log()?)?)?),
            Loss::LogCosh => {
                let x = pred.f_sub(y)?;
                elementwise(x.f_add(&x.f_mul_scalar(-2.0)?.f_softplus()?)?.f_sub_scalar(std::f64::consts::LN_2)?)
            }
            Loss::Hinge => elementwise(hinge_margin(pred, y)?),
            Loss::SquaredHinge => elementwise(hinge_margin(pred, y)?.f_square()?),
            Loss::CosineSimilarity => {
                let dot = l2_normalize(y)?.f_mul(&l2_normalize(pred)?)?.f_sum_dim_intlist(-1, false, Kind::Float)?;
                elementwise(dot.f_neg()?)
            }
            Loss::MeanSquaredLogarithmicError => {
                let log1 = |t: &Tensor| -> Result<Tensor> { Ok(t.f_clamp_min(EPSILON)?.f_add_scalar(1.0)?.f_log()?) };
                elementwise(log1(pred)?.f_sub(&log1(y)?)?.f_square()?)
            }
            Loss::MeanAbsolutePercentageError => {
                let diff = y.f_sub(pred)?.f_div(&y.f_abs()?.f_clamp_min(EPSILON)?)?.f_abs()?;
                elementwise(diff.f_mul_scalar(100.0)?)
            }
            Loss::CategoricalHinge
            | Loss::CategoricalFocalCrossentropy { .. }
            | Loss::BinaryFocalCrossentropy { .. }
            | Loss::SparseCategoricalCrossentropyMasked { .. }
            | Loss::Dice
            | Loss::Tversky { .. } => self.reduce_more(pred, y, logits, per_sample),
        }
    }

    /// [`Self::reduce`] for the focal, categorical hinge and masked sparse losses.
    fn reduce_more(&self, pred: &Tensor, y: &Tensor, logits: bool, per_sample: bool) -> Result<Tensor> {
        let elementwise = |t: Tensor| per_sample_or(t, per_sample, true);
        match *self {
            Loss::CategoricalHinge => {
                let pos = y.f_mul(pred)?.f_sum_dim_intlist(-1, false, Kind::Float)?;
                let (neg, _) = y.f_neg()?.f_add_scalar(1.0)?.f_mul(pred)?.f_max_dim(-1, false)?;
                elementwise(neg.f_sub(&pos)?.f_add_scalar(1.0)?.f_clamp_min(0.0)?)
            }
            Loss::CategoricalFocalCrossentropy { alpha, gamma, from_logits, label_smoothing } => {
                let focal = categorical_focal(pred, y, (alpha, gamma), from_logits || logits, label_smoothing)?;
                elementwise(focal)
            }
            Loss::BinaryFocalCrossentropy { apply_class_balancing, alpha, gamma, from_logits, label_smoothing } => {
                let balance = apply_class_balancing.then_some(alpha);
                let focal = binary_focal(pred, y, (balance, gamma), from_logits || logits, label_smoothing)?;
                elementwise(focal.f_mean_dim(-1, false, Kind::Float)?)
            }
            Loss::SparseCategoricalCrossentropyMasked { from_logits, ignore_class } => {
                let valid = y.f_ne(ignore_class)?;
                let labels = y.f_where_scalarother(&valid, 0i64)?;
                let each = sparse_losses(pred, &labels, logits || from_logits, Reduction::None)?;
                let each = each.f_reshape(y.size().as_slice())?.f_where_scalarother(&valid, 0.0)?;
                per_sample_or(each, per_sample, true)
            }
            Loss::Dice => batch_overlap(pred, y, None, per_sample),
            Loss::Tversky { alpha, beta } => batch_overlap(pred, y, Some((alpha, beta)), per_sample),
            _ => Err(Error::invalid("loss", format!("{} is reduced by Loss::reduce", self.name()))),
        }
    }
}

/// Each sample's mean of element-wise losses `t` (`per_sample`), else `t`'s mean (`mean`) or
/// `t` itself (already reduced by LibTorch).
fn per_sample_or(t: Tensor, per_sample: bool, mean: bool) -> Result<Tensor> {
    if per_sample {
        sample_means(t)
    } else if mean {
        Ok(t.f_mean(Kind::Float)?)
    } else {
        Ok(t)
    }
}

/// A custom loss's per-sample values (`per_sample`) or their mean, its return checked.
fn custom_loss(c: &CustomLoss, pred: &Tensor, y: &Tensor, per_sample: bool) -> Result<Tensor> {
    let n = pred.size().first().copied().unwrap_or(0);
    let out = c.get()?.loss(pred, y)?;
    check_loss_value(c.name(), &out, n, !per_sample, pred.device())?;
    Ok(if per_sample { out.f_to_kind(Kind::Float)? } else { out.f_mean(Kind::Float)? })
}

/// Keras's `class_weight`: each sample's weight is its class's weight (1 for a class not
/// listed). The class is the arg-max of one-hot targets `[N, C]`, or the rounded value of
/// labels `[N]` / `[N, 1]` (binary 0/1 targets included), as Keras's
/// `class_weight_to_sample_weights`. Returns float weights `[N]` on `y`'s device.
pub fn class_weight_to_sample_weight(y: &Tensor, class_weight: &[(i64, f64)]) -> Result<Tensor> {
    if is_complex(y.kind()) {
        return Err(Error::invalid("class_weight", format!("needs real targets, got {:?} ones", y.kind())));
    }
    let size = y.size();
    let round = |t: Tensor| -> Result<Tensor> { Ok(if t.is_floating_point() { t.f_round()? } else { t }) };
    let classes = match size.as_slice() {
        [_] => round(y.shallow_clone())?,
        [n, 1] => round(y.f_reshape([*n])?)?,
        [_, c] if *c > 0 => y.f_argmax(-1, false)?,
        _ => {
            return Err(Error::invalid(
                "class_weight",
                format!("needs targets of shape (N,), (N, 1) or (N, classes), got {}", full_shape(&size)),
            ))
        }
    }
    .f_to_kind(Kind::Int64)?;
    let mut weights = classes.f_ones_like()?.f_to_kind(Kind::Float)?;
    for &(class, w) in class_weight {
        if !w.is_finite() {
            return Err(Error::invalid("class_weight", format!("class {class} has weight {w}: give finite weights")));
        }
        weights = weights.f_masked_fill(&classes.f_eq(class)?, w)?;
    }
    Ok(weights)
}

/// Refuses `class_weight` with sparse labels that give a class per timestep (`[N, T]`, after
/// [`Loss::prepare_targets`]): a class weight weighs a whole sample, and such a sample has many
/// classes (Keras 3 would take the arg-max over the timesteps as the class).
pub(crate) fn check_class_weight_targets(loss: &Loss, y: &Tensor) -> Result<()> {
    if loss.is_sparse() && y.dim() > 1 {
        return Err(Error::invalid(
            "class_weight",
            format!(
                "weighs each sample by its class, but the labels {} give a class per timestep: \
                 leave class_weight out, or give sample weights of shape (N,) per sequence",
                full_shape(&y.size())
            ),
        ));
    }
    Ok(())
}

/// Per-timestep weights for outputs of shape `output` (`[N, ..., C]`): `w` must have the
/// outputs' shape without the last axis (`[N, T]` for `[N, T, C]`), or that with a trailing 1
/// (Keras squeezes it); returned as float32 of the former shape.
pub(crate) fn step_weights(w: &Tensor, output: &[i64]) -> Result<Tensor> {
    let steps = output.split_last().map_or(&[][..], |(_, s)| s);
    let size = w.size();
    if !steps.is_empty() && (size == steps || size.split_last() == Some((&1, steps))) {
        if is_complex(w.kind()) {
            return Err(Error::invalid("sample_weight", format!("has kind {:?}: give real (float) weights", w.kind())));
        }
        return Ok(w.f_reshape(steps)?.f_to_kind(Kind::Float)?);
    }
    Err(Error::invalid("sample_weight", weight_shapes(&size, output)))
}

/// What sample weights of shape `size` should have been for outputs `output` (`[N, ...]`).
pub(crate) fn weight_shapes(size: &[i64], output: &[i64]) -> String {
    let n = output.first().copied().unwrap_or(0);
    let steps = output.split_last().map_or(&[][..], |(_, s)| s);
    let per_step = if steps.len() > 1 {
        let with_one: Vec<i64> = steps.iter().copied().chain(std::iter::once(1)).collect();
        format!(", or one per timestep of the outputs {}, shape {steps:?} (or {with_one:?})", full_shape(output))
    } else {
        String::new()
    };
    format!("expected one weight per sample, shape [{n}] (or [{n}, 1]){per_step}, got {size:?}")
}

/// Whether `kind` holds complex numbers, which no loss or layer here computes with.
pub(crate) fn is_complex(kind: Kind) -> bool {
    matches!(kind, Kind::ComplexHalf | Kind::ComplexFloat | Kind::ComplexDouble)
}

/// The mean over every axis but the batch axis: `[N, ...]` to `[N]`.
fn sample_means(t: Tensor) -> Result<Tensor> {
    Ok(if t.dim() > 1 { t.f_flatten(1, -1)?.f_mean_dim(-1, false, Kind::Float)? } else { t })
}

/// Keras's `categorical_focal_crossentropy` per element (summed over the last axis).
fn categorical_focal(pred: &Tensor, y: &Tensor, (alpha, gamma): (f64, f64), logits: bool, s: f64) -> Result<Tensor> {
    let y = if s > 0.0 {
        let classes = pred.size().last().copied().unwrap_or(1) as f64;
        y.f_mul_scalar(1.0 - s)?.f_add_scalar(s / classes)?
    } else {
        y.shallow_clone()
    };
    let p = if logits { pred.f_softmax(-1, Kind::Float)? } else { pred.shallow_clone() };
    let p = p.f_div(&p.f_sum_dim_intlist(-1, true, Kind::Float)?)?.f_clamp(EPSILON, 1.0 - EPSILON)?;
    let cce = y.f_neg()?.f_mul(&p.f_log()?)?;
    let factor = p.f_neg()?.f_add_scalar(1.0)?.f_pow_tensor_scalar(gamma)?.f_mul_scalar(alpha)?;
    Ok(factor.f_mul(&cce)?.f_sum_dim_intlist(-1, false, Kind::Float)?)
}

/// Keras's `binary_focal_crossentropy` per element (before the mean over the last axis);
/// `alpha` is `Some` with class balancing.
fn binary_focal(pred: &Tensor, y: &Tensor, (alpha, gamma): (Option<f64>, f64), logits: bool, s: f64) -> Result<Tensor> {
    let y = if s > 0.0 { y.f_mul_scalar(1.0 - s)?.f_add_scalar(0.5 * s)? } else { y.shallow_clone() };
    let p = if logits { pred.f_sigmoid()? } else { pred.shallow_clone() };
    let bce = binary_crossentropy_of_probabilities(&p, &y)?;
    let not_y = y.f_neg()?.f_add_scalar(1.0)?;
    let p_t = y.f_mul(&p)?.f_add(&not_y.f_mul(&p.f_neg()?.f_add_scalar(1.0)?)?)?;
    let focal = p_t.f_neg()?.f_add_scalar(1.0)?.f_pow_tensor_scalar(gamma)?.f_mul(&bce)?;
    Ok(match alpha {
        Some(a) => y.f_mul_scalar(a)?.f_add(&not_y.f_mul_scalar(1.0 - a)?)?.f_mul(&focal)?,
        None => focal,
    })
}

/// Keras's `dice` (`tversky: None`) or `tversky(alpha, beta)` with `axis=None`: one value for
/// the batch, repeated for each sample with `per_sample`.
fn batch_overlap(pred: &Tensor, y: &Tensor, tversky: Option<(f64, f64)>, per_sample: bool) -> Result<Tensor> {
    let sum = |t: &Tensor| -> Result<Tensor> { Ok(t.f_sum(Kind::Float)?) };
    let tp = sum(&y.f_mul(pred)?)?;
    let score = match tversky {
        None => tp.f_mul_scalar(2.0)?.f_div(&sum(y)?.f_add(&sum(pred)?)?.f_add_scalar(EPSILON)?)?,
        Some((alpha, beta)) => {
            let missed = sum(&pred.f_neg()?.f_add_scalar(1.0)?.f_mul(y)?)?;
            let false_alarms = sum(&y.f_neg()?.f_add_scalar(1.0)?.f_mul(pred)?)?;
            let den = tp.f_add(&missed.f_mul_scalar(alpha)?)?.f_add(&false_alarms.f_mul_scalar(beta)?)?;
            tp.f_div(&den.f_add_scalar(EPSILON)?)?
        }
    };
    let value = score.f_neg()?.f_add_scalar(1.0)?;
    if per_sample {
        let n = pred.size().first().copied().unwrap_or(0);
        return Ok(value.f_expand([n], false)?);
    }
    Ok(value)
}

fn check_focal(alpha: f64, gamma: f64) -> Result<()> {
    if !alpha.is_finite() {
        return Err(Error::invalid("alpha", format!("must be a finite number, got {alpha}")));
    }
    if !(gamma.is_finite() && gamma >= 0.0) {
        return Err(Error::invalid("gamma", format!("must be a finite number >= 0, got {gamma}")));
    }
    Ok(())
}

fn check_smoothing(s: f64) -> Result<()> {
    if (0.0..=1.0).contains(&s) {
        Ok(())
    } else {
        Err(Error::invalid("label_smoothing", format!("must be in [0, 1], got {s}")))
    }
}

/// Keras's cross-entropies. From logits: `log_softmax` (or PyTorch's binary cross-entropy with
/// logits); from probabilities: the categorical losses rescale each row to sum to 1, and every
/// probability is clipped to `[1e-7, 1 - 1e-7]` before the logarithm.
/// With `per_sample`, each sample's loss (`[N]`) instead of the batch mean.
// One match over Keras's cross-entropy kinds, each arm a formula: splitting it would scatter
// formulas that are read side by side.
fn cross_entropy(
    kind: CrossEntropy,
    pred: &Tensor,
    y: &Tensor,
    logits: bool,
    smoothing: f64,
    per_sample: bool,
) -> Result<Tensor> {
    let reduction = if per_sample { Reduction::None } else { Reduction::Mean };
    let log_probs = |pred: &Tensor| -> Result<Tensor> {
        Ok(if logits {
            pred.f_log_softmax(-1, Kind::Float)?
        } else {
            let p = pred.f_div(&pred.f_sum_dim_intlist(-1, true, Kind::Float)?)?;
            p.f_clamp(EPSILON, 1.0 - EPSILON)?.f_log()?
        })
    };
    Ok(match kind {
        CrossEntropy::Categorical => {
            let y = if smoothing > 0.0 {
                let classes = pred.size().last().copied().unwrap_or(1) as f64;
                y.f_mul_scalar(1.0 - smoothing)?.f_add_scalar(smoothing / classes)?
            } else {
                y.shallow_clone()
            };
            let losses = log_probs(pred)?.f_mul(&y)?.f_sum_dim_intlist(-1, false, Kind::Float)?.f_neg()?;
            if per_sample {
                sample_means(losses)?
            } else {
                losses.f_mean(Kind::Float)?
            }
        }
        CrossEntropy::Sparse => {
            let losses = sparse_losses(pred, y, logits, reduction)?;
            if per_sample {
                sample_means(losses.f_reshape(y.size().as_slice())?)?
            } else {
                losses
            }
        }
        CrossEntropy::Binary => {
            let y = if smoothing > 0.0 {
                y.f_mul_scalar(1.0 - smoothing)?.f_add_scalar(0.5 * smoothing)?
            } else {
                y.shallow_clone()
            };
            let losses = if logits {
                pred.f_binary_cross_entropy_with_logits::<&Tensor>(&y, None, None, reduction)?
            } else {
                let each = binary_crossentropy_of_probabilities(pred, &y)?;
                if per_sample {
                    each
                } else {
                    each.f_mean(Kind::Float)?
                }
            };
            if per_sample {
                sample_means(losses)?
            } else {
                losses
            }
        }
    })
}

/// The sparse cross-entropy of outputs `[N, ..., C]` and labels `[N, ...]`, one row per label:
/// each label's loss, flattened (`Reduction::None`), or their mean.
fn sparse_losses(pred: &Tensor, y: &Tensor, logits: bool, reduction: Reduction) -> Result<Tensor> {
    let classes = pred.size().last().copied().unwrap_or(1);
    let rows = pred.f_reshape([-1, classes])?;
    let log_probs = if logits {
        rows.f_log_softmax(-1, Kind::Float)?
    } else {
        let p = rows.f_div(&rows.f_sum_dim_intlist(-1, true, Kind::Float)?)?;
        p.f_clamp(EPSILON, 1.0 - EPSILON)?.f_log()?
    };
    Ok(log_probs.f_nll_loss::<&Tensor>(&y.f_reshape([-1])?, None, reduction, -100)?)
}

/// Element-wise binary cross-entropy of probabilities clipped to `[1e-7, 1 - 1e-7]`, by Keras's
/// formula rather than LibTorch's `binary_cross_entropy`, which refuses (on a GPU, asserts on)
/// a NaN probability where the loss should just become NaN.
fn binary_crossentropy_of_probabilities(pred: &Tensor, y: &Tensor) -> Result<Tensor> {
    let p = pred.f_clamp(EPSILON, 1.0 - EPSILON)?;
    let q = p.f_neg()?.f_add_scalar(1.0)?;
    let not_y = y.f_neg()?.f_add_scalar(1.0)?;
    Ok(y.f_mul(&p.f_log()?)?.f_add(&not_y.f_mul(&q.f_log()?)?)?.f_neg()?)
}

/// `max(1 - y * p, 0)`, with 0/1 targets turned into -1/1 when every target is 0 or 1 (decided
/// on the device, as Keras's `convert_binary_labels_to_hinge`).
fn hinge_margin(pred: &Tensor, y: &Tensor) -> Result<Tensor> {
    let is_binary = y.f_eq(0.0)?.f_logical_or(&y.f_eq(1.0)?)?.f_all()?;
    let y = y.f_mul_scalar(2.0)?.f_sub_scalar(1.0)?.f_where_self(&is_binary, y)?;
    Ok(y.f_mul(pred)?.f_neg()?.f_add_scalar(1.0)?.f_clamp_min(0.0)?)
}

/// Keras's `normalize(x, axis=-1)`: `x * min(rsqrt(sum(x^2)), 1 / 1e-7)`.
fn l2_normalize(x: &Tensor) -> Result<Tensor> {
    let inv = x.f_square()?.f_sum_dim_intlist(-1, true, Kind::Float)?.f_rsqrt()?.f_clamp_max(1.0 / EPSILON)?;
    Ok(x.f_mul(&inv)?)
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loss {
    type Err = Error;
    /// Keras's names for the losses (function and class names, any case): `"mse"`,
    /// `"categorical_crossentropy"`, `"CategoricalCrossentropy"`, `"kld"`, ...
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "categorical_crossentropy" | "categoricalcrossentropy" => Loss::CategoricalCrossentropy,
            "sparse_categorical_crossentropy" | "sparsecategoricalcrossentropy" => Loss::SparseCategoricalCrossentropy,
            "binary_crossentropy" | "binarycrossentropy" => Loss::BinaryCrossentropy,
            "mse" | "mean_squared_error" | "meansquarederror" => Loss::MeanSquaredError,
            "mae" | "mean_absolute_error" | "meanabsoluteerror" => Loss::MeanAbsoluteError,
            "huber" | "huber_loss" => Loss::Huber { delta: 1.0 },
            "kld" | "kl_divergence" | "kldivergence" | "kullback_leibler_divergence" => Loss::KlDivergence,
            "poisson" => Loss::Poisson,
            "log_cosh" | "logcosh" => Loss::LogCosh,
            "hinge" => Loss::Hinge,
            "squared_hinge" | "squaredhinge" => Loss::SquaredHinge,
            "cosine_similarity" | "cosinesimilarity" => Loss::CosineSimilarity,
            "msle" | "mean_squared_logarithmic_error" | "meansquaredlogarithmicerror" => {
                Loss::MeanSquaredLogarithmicError
            }
            "mape" | "mean_absolute_percentage_error" | "meanabsolutepercentageerror" => {
                Loss::MeanAbsolutePercentageError
            }
            "categorical_hinge" | "categoricalhinge" => Loss::CategoricalHinge,
            "categorical_focal_crossentropy" | "categoricalfocalcrossentropy" => Loss::categorical_focal_crossentropy(),
            "binary_focal_crossentropy" | "binaryfocalcrossentropy" => Loss::binary_focal_crossentropy(),
            "dice" => Loss::Dice,
            "tversky" => Loss::Tversky { alpha: 0.5, beta: 0.5 },
            _ => {
                return Err(Error::Parse {
                    what: "loss",
                    value: s.into(),
                    expected: "categorical_crossentropy, sparse_categorical_crossentropy, \
                               binary_crossentropy, mse, mae, huber, kl_divergence (kld), poisson, \
                               log_cosh, hinge, squared_hinge, cosine_similarity, msle, mape, \
                               categorical_hinge, categorical_focal_crossentropy, \
                               binary_focal_crossentropy, dice, tversky"
                        .into(),
                })
            }
        })
    }
}
