//! Metrics, logged under the name the user gave them (`"acc"` logs `acc`).
//!
//! Each metric accumulates a state over an epoch: a vector of sums ([`Metric::state_len`]
//! numbers) to which every batch adds its contribution on the device, with no host
//! synchronisation; the logged value is computed from the summed state at the end (or when the
//! progress bar reads it). Means keep one sum; precision and recall keep confusion counts; AUC
//! keeps true/false positive/negative counts at each of its thresholds, as Keras's streaming
//! metrics do. Because states are sums, the states of several batches, or of several
//! processes, add up.
use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::custom_objects::{CustomMetric, MetricFn};
use crate::{Activation, Error, Loss, Result};

/// Which curve [`MetricKind::Auc`] integrates (Keras's `curve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AucCurve {
    /// Receiver operating characteristic: true-positive rate against false-positive rate.
    #[default]
    Roc,
    /// Precision against recall.
    Pr,
    /// Precision gain against recall gain (Flach & Kull).
    PrGain,
}

/// How [`MetricKind::Auc`] sums the areas between thresholds (Keras's `summation_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AucSummation {
    /// Trapezoids (ROC), or Davis & Goadrich's precision interpolation (PR): Keras's default.
    #[default]
    Interpolation,
    /// Rectangles under the lower of the two ends.
    Minoring,
    /// Rectangles under the higher of the two ends.
    Majoring,
}

/// The most output columns [`MetricKind::R2Score`] and the per-class F-scores keep sums for.
const MAX_COLUMNS: usize = 1 << 31;

/// How [`MetricKind::FBetaScore`] averages its per-class scores (Keras's `average`).
///
/// Keras's default `average=None` gives one score per class, which logs (one number per name)
/// cannot hold; `"f1_score"` parses to [`FAverage::Micro`], which for one output column is
/// Keras's single score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FAverage {
    /// One score from the true positives, false positives and false negatives of every class.
    Micro,
    /// The unweighted mean of the `classes` per-class scores.
    Macro {
        /// The model's number of outputs (columns).
        classes: usize,
    },
    /// The mean of the `classes` per-class scores weighted by each class's support (its sum of
    /// targets).
    Weighted {
        /// The model's number of outputs (columns).
        classes: usize,
    },
}

impl FAverage {
    /// How many classes keep counts of their own (1 for micro averaging).
    fn columns(self) -> usize {
        match self {
            FAverage::Micro => 1,
            FAverage::Macro { classes } | FAverage::Weighted { classes } => classes,
        }
    }
}

/// How [`MetricKind::R2Score`] combines its outputs' scores (Keras's `class_aggregation`;
/// Keras's `None`, one score per output, cannot be logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum R2Aggregation {
    /// The mean of the outputs' scores (Keras's default).
    #[default]
    UniformAverage,
    /// The outputs' scores weighted by their targets' variance.
    VarianceWeightedAverage,
}

/// What a metric computes.
///
/// Saved model files store the variant's snake-case name (`"accuracy"`), or a map for the
/// variants with options (`{"precision": {"threshold": 0.5}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Fraction of correct predictions. Which accuracy follows from the **loss**: sparse labels
    /// (sparse categorical cross-entropy) compare with the arg-max of the outputs; binary
    /// cross-entropy, or one output column, thresholds the outputs at 0.5 against targets
    /// thresholded at 0.5; otherwise the arg-max of outputs and one-hot targets are compared.
    ///
    /// Accepted difference from Keras 3, which picks binary, categorical or sparse accuracy from
    /// the shapes of the outputs and targets: a model with one output column trained with a
    /// sparse loss gets sparse accuracy here. Name the accuracy (`"binary_accuracy"`,
    /// `"categorical_accuracy"`, `"sparse_categorical_accuracy"`) to choose.
    Accuracy,
    /// Mean absolute error.
    MeanAbsoluteError,
    /// Mean squared error.
    MeanSquaredError,
    /// Whether the arg-max of the outputs is the arg-max of the one-hot (or soft) targets
    /// (Keras's `CategoricalAccuracy`), whatever the loss.
    CategoricalAccuracy,
    /// Whether the arg-max of the outputs is the integer label (Keras's
    /// `SparseCategoricalAccuracy`), whatever the loss.
    SparseCategoricalAccuracy,
    /// Fraction of outputs on the right side of `threshold`: `y == (p > threshold)`, element
    /// by element, averaged per sample (Keras's `BinaryAccuracy`; targets must be 0 or 1).
    BinaryAccuracy {
        /// Outputs above it count as 1 (Keras's default 0.5).
        threshold: f64,
    },
    /// Whether the one-hot target's class is among the `k` highest outputs (ties count as in,
    /// as Keras's `in_top_k`; a `k` of at least the number of classes counts every sample).
    TopKCategoricalAccuracy {
        /// How many top outputs count (Keras's default 5).
        k: i64,
    },
    /// [`MetricKind::TopKCategoricalAccuracy`] with integer labels.
    SparseTopKCategoricalAccuracy {
        /// How many top outputs count (Keras's default 5).
        k: i64,
    },
    /// `tp / (tp + fp)` over every output element, an output above `threshold` counting as a
    /// positive prediction and a non-zero target as a positive (Keras's `Precision`; 0 when
    /// nothing was predicted positive).
    Precision {
        /// In `[0, 1]` (Keras's default 0.5).
        threshold: f64,
    },
    /// `tp / (tp + fn)`, as [`MetricKind::Precision`] counts them (Keras's `Recall`).
    Recall {
        /// In `[0, 1]` (Keras's default 0.5).
        threshold: f64,
    },
    /// Area under the ROC or precision-recall curve, from confusion counts at
    /// `num_thresholds` thresholds evenly spaced over `[0, 1]` (plus `-1e-7` and `1 + 1e-7`)
    /// accumulated over the epoch, exactly as Keras's streaming `AUC` (outputs clipped to
    /// `[0, 1]`, every output element one prediction).
    Auc {
        /// More than 1 (Keras's default 200).
        num_thresholds: usize,
        /// The curve.
        curve: AucCurve,
        /// The Riemann sum.
        summation_method: AucSummation,
    },
    /// A user-written metric ([`Metric::custom`]), saved as
    /// `{"custom": {"name": ..., "config": ...}}`. It gets the final outputs (after the last
    /// activation) and the targets.
    Custom(CustomMetric),
    /// Keras's `RootMeanSquaredError`: the square root of the mean squared error over the
    /// epoch (not a mean of batch roots).
    RootMeanSquaredError,
    /// Keras's `R2Score` (coefficient of determination) from streamed sums per output:
    /// `1 - SSres / SStot` per output, combined by `class_aggregation`; adjusted for
    /// `num_regressors` when it is non-zero (with Keras's sample count: every target element).
    R2Score {
        /// How the outputs' scores are combined (Keras's default uniform average).
        class_aggregation: R2Aggregation,
        /// Independent variables for the adjusted score (Keras's default 0: not adjusted).
        num_regressors: usize,
        /// The model's number of outputs (columns); `"r2_score"` means 1.
        outputs: usize,
    },
    /// Keras's `FBetaScore` (`F1Score` when `beta` is 1): `(1 + b^2) * p * r / (b^2 * p + r)`
    /// from streamed true positives, false positives and false negatives, per class or over
    /// every class ([`FAverage`]). Targets are one-hot (or multi-label) of the outputs' shape
    /// `[N, classes]`.
    FBetaScore {
        /// How the per-class scores are averaged.
        average: FAverage,
        /// Weight of recall, above 0 (1 for F1).
        beta: f64,
        /// Outputs above it are positive predictions, in `(0, 1]`; `None` (Keras's default)
        /// takes the arg-max of each row (every maximal output of a non-zero value).
        threshold: Option<f64>,
    },
    /// Keras's `MeanAbsolutePercentageError`: the mean of [`Loss::MeanAbsolutePercentageError`].
    MeanAbsolutePercentageError,
    /// Keras's `MeanSquaredLogarithmicError`: the mean of [`Loss::MeanSquaredLogarithmicError`].
    MeanSquaredLogarithmicError,
    /// Keras's `CosineSimilarity` metric: the mean cosine similarity along the last axis (the
    /// loss's negation, higher is better).
    CosineSimilarity,
    /// Keras's `LogCoshError` (logged as `logcosh` by Keras): the mean of [`Loss::LogCosh`].
    LogCoshError,
    /// Keras's `KLDivergence` metric: the mean of [`Loss::KlDivergence`].
    KlDivergence,
    /// Keras's `Poisson` metric: the mean of [`Loss::Poisson`].
    Poisson,
    /// Keras's `Hinge` metric: the mean of [`Loss::Hinge`].
    Hinge,
    /// Keras's `SquaredHinge` metric: the mean of [`Loss::SquaredHinge`].
    SquaredHinge,
    /// Keras's `CategoricalHinge` metric: the mean of [`Loss::CategoricalHinge`].
    CategoricalHinge,
    /// Keras's `BinaryCrossentropy` metric: the mean binary cross-entropy of the final outputs
    /// (probabilities clipped as Keras clips them, or logits with `from_logits`).
    BinaryCrossentropy {
        /// The model outputs logits.
        from_logits: bool,
        /// In `[0, 1]`.
        label_smoothing: f64,
    },
    /// Keras's `CategoricalCrossentropy` metric, from the final outputs.
    CategoricalCrossentropy {
        /// The model outputs logits.
        from_logits: bool,
        /// In `[0, 1]`.
        label_smoothing: f64,
    },
    /// Keras's `SparseCategoricalCrossentropy` metric, from the final outputs (targets must be
    /// integer labels: compile with a sparse loss).
    SparseCategoricalCrossentropy {
        /// The model outputs logits.
        from_logits: bool,
    },
}

impl MetricKind {
    /// AUC with Keras's defaults: 200 thresholds, ROC curve, interpolation.
    pub fn auc() -> Self {
        MetricKind::Auc { num_thresholds: 200, curve: AucCurve::Roc, summation_method: AucSummation::Interpolation }
    }

    /// Whether a higher value is better (Keras's `_direction = "up"`): accuracies, precision,
    /// recall and AUC; the errors go down.
    pub fn higher_is_better(&self) -> bool {
        match self {
            MetricKind::MeanAbsoluteError | MetricKind::MeanSquaredError => false,
            MetricKind::Accuracy
            | MetricKind::CategoricalAccuracy
            | MetricKind::SparseCategoricalAccuracy
            | MetricKind::BinaryAccuracy { .. }
            | MetricKind::TopKCategoricalAccuracy { .. }
            | MetricKind::SparseTopKCategoricalAccuracy { .. }
            | MetricKind::Precision { .. }
            | MetricKind::Recall { .. }
            | MetricKind::Auc { .. } => true,
            MetricKind::Custom(c) => c.metric_fn().is_some_and(|m| m.higher_is_better()),
            MetricKind::R2Score { .. } | MetricKind::FBetaScore { .. } | MetricKind::CosineSimilarity => true,
            _ => false,
        }
    }

    /// Checks the options' ranges, as Keras checks them.
    pub fn validate(&self) -> Result<()> {
        match *self {
            MetricKind::Custom(ref c) => c.get().map(|_| ()),
            MetricKind::Precision { threshold } | MetricKind::Recall { threshold }
                if !(0.0..=1.0).contains(&threshold) =>
            {
                Err(Error::invalid("thresholds", format!("threshold values must be in [0, 1], got {threshold}")))
            }
            MetricKind::BinaryAccuracy { threshold } if !threshold.is_finite() => {
                Err(Error::invalid("threshold", format!("must be a finite number, got {threshold}")))
            }
            MetricKind::TopKCategoricalAccuracy { k } | MetricKind::SparseTopKCategoricalAccuracy { k } if k < 1 => {
                Err(Error::invalid("k", format!("the number of top outputs must be at least 1, got {k}")))
            }
            MetricKind::Auc { num_thresholds, .. } if !(2..=1_000_000).contains(&num_thresholds) => Err(
                Error::invalid("num_thresholds", format!("must be an integer in [2, 1000000], got {num_thresholds}")),
            ),
            _ => self.validate_more(),
        }
    }

    /// [`Self::validate`] for the score and loss metrics.
    fn validate_more(&self) -> Result<()> {
        match *self {
            MetricKind::R2Score { outputs: 0, .. } => {
                Err(Error::invalid("outputs", "R2Score needs the model's number of outputs, at least 1"))
            }
            // Four sums per column: a count beyond any model's outputs would overflow the state.
            MetricKind::R2Score { outputs, .. } if outputs > MAX_COLUMNS => Err(Error::invalid(
                "outputs",
                format!(
                    "R2Score's outputs must be the model's number of outputs, at most {MAX_COLUMNS}, got {outputs}"
                ),
            )),
            MetricKind::FBetaScore { average, .. } if average.columns() > MAX_COLUMNS => Err(Error::invalid(
                "classes",
                format!(
                    "macro and weighted averages need the model's number of outputs, at most {MAX_COLUMNS}, got {}",
                    average.columns()
                ),
            )),
            MetricKind::FBetaScore { beta, .. } if !(beta.is_finite() && beta > 0.0) => {
                Err(Error::invalid("beta", format!("must be a finite number > 0, got {beta}")))
            }
            MetricKind::FBetaScore { threshold: Some(t), .. } if !(t > 0.0 && t <= 1.0) => {
                Err(Error::invalid("threshold", format!("must verify 0 < threshold <= 1, got {t}")))
            }
            MetricKind::FBetaScore {
                average: FAverage::Macro { classes: 0 } | FAverage::Weighted { classes: 0 },
                ..
            } => Err(Error::invalid("classes", "macro and weighted averages need the number of classes, at least 1")),
            _ => match self.as_loss() {
                Some((loss, _)) => loss.validate(),
                None => Ok(()),
            },
        }
    }

    /// The loss a loss metric averages, and the sign it is logged with (cosine similarity is
    /// the loss's negation).
    fn as_loss(&self) -> Option<(Loss, f64)> {
        Some(match *self {
            MetricKind::MeanAbsolutePercentageError => (Loss::MeanAbsolutePercentageError, 1.0),
            MetricKind::MeanSquaredLogarithmicError => (Loss::MeanSquaredLogarithmicError, 1.0),
            MetricKind::CosineSimilarity => (Loss::CosineSimilarity, -1.0),
            MetricKind::LogCoshError => (Loss::LogCosh, 1.0),
            MetricKind::KlDivergence => (Loss::KlDivergence, 1.0),
            MetricKind::Poisson => (Loss::Poisson, 1.0),
            MetricKind::Hinge => (Loss::Hinge, 1.0),
            MetricKind::SquaredHinge => (Loss::SquaredHinge, 1.0),
            MetricKind::CategoricalHinge => (Loss::CategoricalHinge, 1.0),
            MetricKind::BinaryCrossentropy { from_logits, label_smoothing } => {
                (Loss::BinaryCrossentropyWith { from_logits, label_smoothing }, 1.0)
            }
            MetricKind::CategoricalCrossentropy { from_logits, label_smoothing } => {
                (Loss::CategoricalCrossentropyWith { from_logits, label_smoothing }, 1.0)
            }
            MetricKind::SparseCategoricalCrossentropy { from_logits } => {
                (Loss::SparseCategoricalCrossentropyWith { from_logits }, 1.0)
            }
            _ => return None,
        })
    }
}

/// A metric and the name it is logged under.
///
/// Accepted difference from Keras 3: `"accuracy"` ([`MetricKind::Accuracy`]) picks binary,
/// categorical or sparse accuracy from the compiled **loss** (binary cross-entropy, sparse
/// categorical cross-entropy, anything else), where Keras picks it from the width of the output
/// and the shape of the targets. Name the accuracy (`"binary_accuracy"`,
/// `"categorical_accuracy"`, `"sparse_categorical_accuracy"`) to choose it yourself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// What is computed.
    pub kind: MetricKind,
    /// The key in the logs and the History.
    pub name: String,
    /// Weighted by `fit`'s sample weights (Keras's `weighted_metrics`); metrics are unweighted
    /// otherwise, as Keras's `metrics` are.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weighted: bool,
}

impl Metric {
    /// A metric logged under `name`.
    pub fn new(kind: MetricKind, name: impl Into<String>) -> Self {
        Self { kind, name: name.into(), weighted: false }
    }
    /// The same metric weighted by sample weights (a Keras `weighted_metrics` entry): a mean
    /// becomes `sum(value * w) / sum(w)`, confusion counts become sums of weights.
    pub fn weighted(mut self) -> Self {
        self.weighted = true;
        self
    }
    /// A user-written metric (see [`MetricFn`]), logged under its [`MetricFn::name`] (set
    /// [`Metric::name`] to log it under another). A saved model stores its name and serde JSON
    /// configuration; loading it needs the type registered
    /// ([`register_metric`](crate::register_metric)). Fails when the configuration cannot be
    /// written as JSON.
    pub fn custom<M: MetricFn + Serialize>(metric: M) -> Result<Self> {
        let name = metric.name().to_string();
        Ok(Self::new(MetricKind::Custom(CustomMetric::new(metric)?), name))
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
    /// Binary accuracy at `threshold`, logged as `binary_accuracy`.
    pub fn binary_accuracy(threshold: f64) -> Self {
        Self::new(MetricKind::BinaryAccuracy { threshold }, "binary_accuracy")
    }
    /// Top-`k` accuracy with one-hot targets, logged as `top_k_categorical_accuracy`.
    pub fn top_k_categorical_accuracy(k: i64) -> Self {
        Self::new(MetricKind::TopKCategoricalAccuracy { k }, "top_k_categorical_accuracy")
    }
    /// Top-`k` accuracy with integer labels, logged as `sparse_top_k_categorical_accuracy`.
    pub fn sparse_top_k_categorical_accuracy(k: i64) -> Self {
        Self::new(MetricKind::SparseTopKCategoricalAccuracy { k }, "sparse_top_k_categorical_accuracy")
    }
    /// Precision at Keras's default threshold 0.5, logged as `precision`.
    pub fn precision() -> Self {
        Self::new(MetricKind::Precision { threshold: 0.5 }, "precision")
    }
    /// Recall at Keras's default threshold 0.5, logged as `recall`.
    pub fn recall() -> Self {
        Self::new(MetricKind::Recall { threshold: 0.5 }, "recall")
    }
    /// ROC AUC with Keras's defaults ([`MetricKind::auc`]), logged as `auc`.
    pub fn auc() -> Self {
        Self::new(MetricKind::auc(), "auc")
    }

    /// Keras's `RootMeanSquaredError`, logged as `root_mean_squared_error`.
    pub fn root_mean_squared_error() -> Self {
        Self::new(MetricKind::RootMeanSquaredError, "root_mean_squared_error")
    }
    /// Keras's `R2Score` for a model with `outputs` outputs, logged as `r2_score`.
    pub fn r2_score(class_aggregation: R2Aggregation, num_regressors: usize, outputs: usize) -> Self {
        Self::new(MetricKind::R2Score { class_aggregation, num_regressors, outputs }, "r2_score")
    }
    /// Keras's `F1Score`, logged as `f1_score`.
    pub fn f1_score(average: FAverage, threshold: Option<f64>) -> Self {
        Self::new(MetricKind::FBetaScore { average, beta: 1.0, threshold }, "f1_score")
    }
    /// Keras's `FBetaScore`, logged as `fbeta_score`.
    pub fn fbeta_score(average: FAverage, beta: f64, threshold: Option<f64>) -> Self {
        Self::new(MetricKind::FBetaScore { average, beta, threshold }, "fbeta_score")
    }

    /// Checks the metric's options ([`MetricKind::validate`]).
    pub fn validate(&self) -> Result<()> {
        self.kind.validate()
    }

    /// How many numbers this metric accumulates over an epoch (its state): 1 for a mean over
    /// samples. Each batch adds [`Self::batch_state`] to the state, on the device; the logged
    /// value is [`Self::result`] of the summed state. Streaming metrics (precision, AUC, ...)
    /// keep several counts here, and a distributed run sums the states of every process.
    pub(crate) fn state_len(&self) -> usize {
        match self.kind {
            MetricKind::Precision { .. } | MetricKind::Recall { .. } => 2,
            MetricKind::Auc { num_thresholds, .. } => 4 * num_thresholds,
            MetricKind::Custom(ref c) => c.metric_fn().map_or(1, |m| m.state_len()),
            // sum(y), sum(y^2), sum((y - p)^2), sum(w) per output; target elements
            MetricKind::R2Score { outputs, .. } => 4 * outputs + 1,
            // tp, fp, fn, support per class (or summed over classes)
            MetricKind::FBetaScore { average, .. } => 4 * average.columns(),
            _ if self.weighted => 2, // sum(value * w), sum(w)
            _ => 1,
        }
    }

    /// The batch's contribution to the state: a float32 tensor of [`Self::state_len`] sums on
    /// the batch's device (no host sync), with the batch's sample weights (`[N]`, or one per
    /// timestep `[N, T]` for outputs `[N, T, C]`), which only a [`weighted`](Self::weighted)
    /// metric uses (Keras ignores them for plain `metrics`). A weighted metric without sample
    /// weights weighs every sample 1. With per-timestep weights a mean metric adds, as Keras's
    /// `Mean`, each sample's mean over its timesteps of `value * w` and of `w`.
    pub(crate) fn batch_state_weighted(
        &self,
        raw: &Tensor,
        act: Activation,
        y: &Tensor,
        loss: &Loss,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.validate()?;
        let weights = self.checked_weights(raw, sample_weight)?;
        match self.kind {
            MetricKind::R2Score { outputs, .. } => r2_state(&act.apply(raw)?, y, weights.as_ref(), outputs),
            MetricKind::FBetaScore { average, threshold, .. } => {
                self.fbeta_state(&act.apply(raw)?, y, weights.as_ref(), average, threshold)
            }
            MetricKind::Custom(ref c) => c.batch_state(&act.apply(raw)?, y, weights.as_ref()),
            MetricKind::Precision { threshold } | MetricKind::Recall { threshold } => {
                let (pred, truth, w) = self.flat_pairs(raw, act, y, weights.as_ref())?;
                let predicted = pred.f_gt(threshold)?;
                let other = if matches!(self.kind, MetricKind::Precision { .. }) {
                    predicted.f_logical_and(&truth.f_logical_not()?)? // false positives
                } else {
                    predicted.f_logical_not()?.f_logical_and(&truth)? // false negatives
                };
                let count = |mask: Tensor| -> Result<Tensor> {
                    let mask = mask.f_to_kind(Kind::Float)?;
                    let mask = match &w {
                        Some(w) => mask.f_mul(w)?,
                        None => mask,
                    };
                    Ok(mask.f_sum(Kind::Float)?)
                };
                Ok(Tensor::f_stack(&[count(predicted.f_logical_and(&truth)?)?, count(other)?], 0)?)
            }
            MetricKind::Auc { num_thresholds, .. } => {
                let (pred, truth, w) = self.flat_pairs(raw, act, y, weights.as_ref())?;
                auc_counts(&pred, &truth, w.as_ref(), num_thresholds as i64)
            }
            _ => self.mean_state(raw, act, y, loss, weights),
        }
    }

    /// A mean metric's state: the sum of its values (unweighted), or `[sum(value * w), sum(w)]`
    /// (weighted; with per-timestep weights both divided by the timesteps, as Keras's `Mean`
    /// adds each sample's mean over its timesteps).
    fn mean_state(
        &self,
        raw: &Tensor,
        act: Activation,
        y: &Tensor,
        loss: &Loss,
        weights: Option<Tensor>,
    ) -> Result<Tensor> {
        let rank = weights.as_ref().map_or(1, Tensor::dim);
        let values = self.samplewise(raw, act, y, loss, rank)?;
        if !self.weighted {
            return Ok(values.f_sum(Kind::Float)?.f_reshape([1])?);
        }
        let w = match weights {
            Some(w) if w.size() != values.size() => {
                return Err(Error::invalid(
                    "sample_weight",
                    format!(
                        "metric '{}' has values of shape {:?}, which the weights {:?} do not match: \
                         give one weight per sample, shape [N]",
                        self.name,
                        values.size(),
                        w.size()
                    ),
                ))
            }
            Some(w) => w,
            None => values.f_ones_like()?,
        };
        let (total, count) = (values.f_mul(&w)?.f_sum(Kind::Float)?, w.f_sum(Kind::Float)?);
        let n = values.size().first().copied().unwrap_or(0);
        let steps = values.numel() as f64 / n.max(1) as f64;
        let (total, count) =
            if rank > 1 { (total.f_div_scalar(steps)?, count.f_div_scalar(steps)?) } else { (total, count) };
        Ok(Tensor::f_stack(&[total, count], 0)?)
    }

    /// A weighted metric's sample weights as floats `[N]` (or per timestep, `[N, T]` for
    /// outputs `[N, T, C]`), checked against the batch; `None` for an unweighted metric or a
    /// batch without weights.
    fn checked_weights(&self, raw: &Tensor, sample_weight: Option<&Tensor>) -> Result<Option<Tensor>> {
        let n = raw.size().first().copied().unwrap_or(0);
        match (self.weighted, sample_weight) {
            (true, Some(w)) if w.dim() > 1 => {
                let whole = matches!(
                    self.kind,
                    MetricKind::R2Score { .. } | MetricKind::FBetaScore { .. } | MetricKind::Custom(_)
                );
                if whole {
                    return Err(Error::invalid(
                        "sample_weight",
                        format!(
                            "metric '{}' weighs whole samples, and the weights {:?} give one per timestep: \
                             give one weight per sample, shape [{n}], or leave the metric out of the weighted ones",
                            self.name,
                            w.size()
                        ),
                    ));
                }
                Ok(Some(crate::losses::step_weights(w, &raw.size())?))
            }
            (true, Some(w)) => {
                if w.size() != [n] {
                    return Err(Error::invalid(
                        "sample_weight",
                        format!("expected one weight per sample, shape [{n}], got {:?}", w.size()),
                    ));
                }
                Ok(Some(w.f_to_kind(Kind::Float)?))
            }
            _ => Ok(None),
        }
    }

    /// The metric's value from its state summed over `count` samples.
    pub(crate) fn result(&self, state: &[f64], count: i64) -> f64 {
        match self.kind {
            MetricKind::Custom(ref c) => c.metric_fn().map_or(f64::NAN, |m| m.result(state, count)),
            MetricKind::Precision { .. } | MetricKind::Recall { .. } => match state {
                [tp, other] => divide_no_nan(*tp, tp + other),
                _ => f64::NAN,
            },
            MetricKind::Auc { num_thresholds, curve, summation_method } => {
                if state.len() != 4 * num_thresholds {
                    return f64::NAN;
                }
                let (tp, rest) = state.split_at(num_thresholds);
                let (fp, rest) = rest.split_at(num_thresholds);
                let (tn, fn_) = rest.split_at(num_thresholds);
                auc_result(Counts { tp, fp, tn, fn_ }, curve, summation_method)
            }
            MetricKind::R2Score { class_aggregation, num_regressors, outputs } => {
                r2_result(state, class_aggregation, num_regressors, outputs)
            }
            MetricKind::FBetaScore { average, beta, .. } => fbeta_result(state, average, beta),
            MetricKind::RootMeanSquaredError => self.mean_result(state, count).sqrt(),
            _ => self.mean_result(state, count),
        }
    }

    /// A mean metric's value: `sum(value * w) / sum(w)` when weighted, else the sum over
    /// `count` samples.
    fn mean_result(&self, state: &[f64], count: i64) -> f64 {
        match state {
            [total, weight] if self.weighted => divide_no_nan(*total, *weight),
            [total] if !self.weighted => total / count.max(1) as f64,
            _ => f64::NAN,
        }
    }

    /// F-beta's `[tp, fp, fn, support]` sums, each per class (or over every class, micro).
    fn fbeta_state(
        &self,
        out: &Tensor,
        y: &Tensor,
        weights: Option<&Tensor>,
        average: FAverage,
        threshold: Option<f64>,
    ) -> Result<Tensor> {
        let size = out.size();
        let fits = matches!(average, FAverage::Micro) || size.get(1) == Some(&(average.columns() as i64));
        if size.len() != 2 || out.size() != y.size() || !fits {
            let wants = match average {
                FAverage::Micro => "2-D targets [N, classes] of the outputs' shape".to_string(),
                _ => format!("outputs and targets [N, {}] (the classes it was made for)", average.columns()),
            };
            return Err(self.shape_error(out, y, &wants));
        }
        let predicted = match threshold {
            Some(t) => out.f_gt(t)?,
            None => {
                let (max, _) = out.f_max_dim(-1, true)?;
                out.f_ge_tensor(&max)?.f_logical_and(&out.f_abs()?.f_gt(1e-9)?)?
            }
        }
        .f_to_kind(Kind::Float)?;
        let truth = y.f_to_kind(Kind::Float)?;
        let not = |t: &Tensor| -> Result<Tensor> { Ok(t.f_neg()?.f_add_scalar(1.0)?) };
        let sum = |t: Tensor| -> Result<Tensor> {
            let t = match weights {
                Some(w) => t.f_mul(&w.f_unsqueeze(1)?)?,
                None => t,
            };
            Ok(match average {
                FAverage::Micro => t.f_sum(Kind::Float)?.f_reshape([1])?,
                _ => t.f_sum_dim_intlist(0, false, Kind::Float)?,
            })
        };
        let parts = [
            sum(predicted.f_mul(&truth)?)?,
            sum(predicted.f_mul(&not(&truth)?)?)?,
            sum(not(&predicted)?.f_mul(&truth)?)?,
            sum(truth)?,
        ];
        Ok(Tensor::f_cat(&parts, 0)?)
    }

    /// The outputs (after the activation) and boolean targets, flattened to one prediction
    /// per element, as Keras's confusion-matrix metrics see them.
    /// With sample weights `[N]` (or `[N, T]`), also each element's weight (its sample's, or
    /// its timestep's: Keras broadcasts `[N, T, 1]` over the outputs `[N, T, C]`).
    fn flat_pairs(
        &self,
        raw: &Tensor,
        act: Activation,
        y: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor, Option<Tensor>)> {
        let pred = act.apply(raw)?;
        if pred.size() != y.size() {
            return Err(Error::invalid(
                "metrics",
                format!(
                    "metric '{}' compares outputs with targets element by element, but the outputs \
                     have shape {:?} and the targets {:?}; with integer labels and several \
                     outputs, one-hot encode the targets (to_categorical) and use \
                     categorical_crossentropy",
                    self.name,
                    pred.size(),
                    y.size()
                ),
            ));
        }
        let weights = match sample_weight {
            Some(w) => {
                let shape: Vec<i64> =
                    w.size().into_iter().chain(std::iter::repeat_n(1, pred.dim().saturating_sub(w.dim()))).collect();
                Some(w.f_reshape(shape)?.f_expand_as(&pred)?.f_flatten(0, -1)?)
            }
            None => None,
        };
        Ok((pred.f_flatten(0, -1)?.f_to_kind(Kind::Float)?, y.f_flatten(0, -1)?.f_ne(0.0)?, weights))
    }

    /// A mean metric's value for each sample of the batch (`[N]`, on the batch's device), or
    /// with `rank` > 1 (per-timestep weights) for each element of the first `rank` axes
    /// (`[N, T]`): Keras's values averaged down to the weights' rank.
    // One match with an arm per mean metric, each a formula from Keras: they are read side by side.
    fn samplewise(&self, raw: &Tensor, act: Activation, y: &Tensor, loss: &Loss, rank: usize) -> Result<Tensor> {
        let n = raw.size().first().copied().unwrap_or(0);
        let per_sample_mean = |d: Tensor| -> Result<Tensor> {
            let rank = rank.max(1) as i64;
            Ok(if d.dim() as i64 > rank { d.f_flatten(rank, -1)?.f_mean_dim(-1, false, Kind::Float)? } else { d })
        };
        match self.kind {
            MetricKind::Accuracy => {
                let binary = loss.is_binary_crossentropy() || (raw.size().last() == Some(&1) && !loss.is_sparse());
                let correct = if binary {
                    let out = act.apply(raw)?;
                    out.f_gt(0.5)?.f_eq_tensor(&y.f_gt(0.5)?)?
                } else {
                    let pred = argmax_outputs(raw, act)?;
                    let truth = if loss.is_sparse() { y.shallow_clone() } else { y.f_argmax(-1, false)? };
                    pred.f_eq_tensor(&truth)?
                };
                per_sample_mean(correct.f_to_kind(Kind::Float)?)
            }
            MetricKind::CategoricalAccuracy => {
                if raw.size() != y.size() {
                    return Err(self.shape_error(raw, y, "one-hot targets of the outputs' shape"));
                }
                per_sample_mean(argmax_outputs(raw, act)?.f_eq_tensor(&y.f_argmax(-1, false)?)?.f_to_kind(Kind::Float)?)
            }
            MetricKind::SparseCategoricalAccuracy => {
                if y.is_floating_point() || !labels_fit(raw, y) {
                    return Err(self.shape_error(
                        raw,
                        y,
                        "integer labels, one per output row (sparse_categorical_crossentropy)",
                    ));
                }
                per_sample_mean(argmax_outputs(raw, act)?.f_eq_tensor(y)?.f_to_kind(Kind::Float)?)
            }
            MetricKind::BinaryAccuracy { threshold } => {
                let out = act.apply(raw)?;
                if out.size() != y.size() {
                    return Err(self.shape_error(&out, y, "targets of the outputs' shape (0 or 1)"));
                }
                per_sample_mean(out.f_gt(threshold)?.f_to_kind(Kind::Float)?.f_eq_tensor(y)?.f_to_kind(Kind::Float)?)
            }
            MetricKind::TopKCategoricalAccuracy { k } | MetricKind::SparseTopKCategoricalAccuracy { k } => {
                let out = act.apply(raw)?;
                let in_top = self.top_k_hits(&out, y, k)?;
                let rows: Vec<i64> = match out.size().split_last() {
                    Some((_, rows)) if rank > 1 => rows.to_vec(),
                    _ => vec![n, -1],
                };
                per_sample_mean(in_top.f_reshape(rows.as_slice())?.f_to_kind(Kind::Float)?)
            }
            _ if self.kind.as_loss().is_some() => per_sample_mean(self.loss_values(&act.apply(raw)?, y, rank)?),
            MetricKind::MeanAbsoluteError | MetricKind::MeanSquaredError | MetricKind::RootMeanSquaredError => {
                // Checked before the difference, which would broadcast sparse labels [N] against
                // outputs [N, classes] (a LibTorch error, or a silent wrong value when N == classes).
                let out = act.apply(raw)?;
                if out.size() != y.size() {
                    return Err(self.shape_error(&out, y, "targets of the outputs' shape"));
                }
                let diff = out.f_sub(y)?;
                per_sample_mean(match self.kind {
                    MetricKind::MeanAbsoluteError => diff.f_abs()?,
                    _ => diff.f_square()?,
                })
            }
            _ => Err(Error::invalid(
                "metrics",
                format!("metric '{}' keeps sums of its own, not a value per sample", self.name),
            )),
        }
    }

    /// A loss metric's value per sample (per timestep with `rank` > 1): the loss of the final
    /// outputs `out` (logits with `from_logits`), with the metric's sign.
    fn loss_values(&self, out: &Tensor, y: &Tensor, rank: usize) -> Result<Tensor> {
        let Some((loss, sign)) = self.kind.as_loss() else {
            return Err(Error::invalid("metrics", format!("metric '{}' is not the mean of a loss", self.name)));
        };
        let values = if rank > 1 { loss.per_step(out, y, false) } else { loss.per_sample(out, y, false) };
        let values = values.map_err(|e| match e {
            Error::Targets { message, .. } => Error::invalid("metrics", format!("metric '{}' {message}", self.name)),
            other => other,
        })?;
        Ok(values.f_mul_scalar(sign)?)
    }

    /// Whether each sample's true class is among its `k` highest outputs (top-k accuracy).
    fn top_k_hits(&self, out: &Tensor, y: &Tensor, k: i64) -> Result<Tensor> {
        let sparse = matches!(self.kind, MetricKind::SparseTopKCategoricalAccuracy { .. });
        let truth = if sparse {
            if y.is_floating_point() || !labels_fit(out, y) {
                return Err(self.shape_error(
                    out,
                    y,
                    "integer labels, one per output row (sparse_categorical_crossentropy)",
                ));
            }
            y.shallow_clone()
        } else {
            if out.size() != y.size() {
                return Err(self.shape_error(out, y, "one-hot targets of the outputs' shape"));
            }
            y.f_argmax(-1, false)?
        };
        in_top_k(out, &truth, k)
    }

    fn shape_error(&self, out: &Tensor, y: &Tensor, wants: &str) -> Error {
        Error::invalid(
            "metrics",
            format!(
                "metric '{}' needs {wants}; the outputs have shape {:?} and the targets {:?}",
                self.name,
                out.size(),
                y.size()
            ),
        )
    }
}

/// Renames repeated metric names as Keras's compiled metrics do: a repeated plain metric is
/// logged as `name_1`, `name_2`, ... and a weighted metric whose name a plain one already has as
/// `weighted_name` (then `weighted_name_1`, ...). Plain metrics are named first, then weighted
/// ones, each in the given order.
pub(crate) fn keras_metric_names(metrics: &mut [Metric]) {
    let mut counters = HashMap::<String, usize>::new();
    for m in metrics.iter_mut().filter(|m| !m.weighted) {
        m.name = numbered(std::mem::take(&mut m.name), &mut counters);
    }
    for m in metrics.iter_mut().filter(|m| m.weighted) {
        if counters.contains_key(&m.name) {
            m.name = numbered(format!("weighted_{}", m.name), &mut counters);
        } else {
            counters.insert(m.name.clone(), 1);
        }
    }
}

/// `name` the first time, then `name_1`, `name_2`, ... (Keras's `unique_name_counters`).
fn numbered(name: String, counters: &mut HashMap<String, usize>) -> String {
    match counters.get_mut(&name) {
        None => {
            counters.insert(name.clone(), 1);
            name
        }
        Some(count) => {
            *count += 1;
            format!("{name}_{}", *count - 1)
        }
    }
}

/// Whether sparse labels `y` fit outputs `out`: `[N, ...]` labels for `[N, ..., classes]`
/// outputs (one label per row of the last axis, as Keras's per-timestep labels `[N, T]`).
fn labels_fit(out: &Tensor, y: &Tensor) -> bool {
    let size = out.size();
    size.len() >= 2 && y.size().as_slice() == &size[..size.len() - 1]
}

fn argmax_outputs(raw: &Tensor, act: Activation) -> Result<Tensor> {
    Ok(match act {
        // Softmax and log-softmax keep each row's order: the largest logit is the argmax.
        Activation::Linear | Activation::Softmax | Activation::LogSoftmax => raw.f_argmax(-1, false)?,
        _ => act.apply(raw)?.f_argmax(-1, false)?,
    })
}

/// Keras's `in_top_k`: the target's output is at least the `k`-th highest (ties count as in).
fn in_top_k(out: &Tensor, truth: &Tensor, k: i64) -> Result<Tensor> {
    let classes = out.size().last().copied().unwrap_or(1);
    let out = out.f_reshape([-1, classes])?;
    let truth = truth.f_reshape([-1, 1])?;
    let (top, _) = out.f_topk(k.min(classes), -1, true, true)?;
    let kth = top.f_narrow(1, k.min(classes) - 1, 1)?;
    Ok(out.f_gather(1, &truth, false)?.f_ge_tensor(&kth)?.f_reshape([-1])?)
}

/// The batch's `[tp; fp; tn; fn]` counts at Keras's evenly spaced thresholds, by Keras's
/// bucket method (`_update_confusion_matrix_variables_optimized`): a prediction `p` (clipped
/// to `[0, 1]`) falls in bucket `max(ceil(p * (T - 1)) - 1, 0)` and counts as positive at every
/// threshold up to its bucket. A NaN prediction is positive at no threshold (as `p > t` is
/// false), as precision and recall count it; it is not bucketed (its bucket index would be
/// out of range).
fn auc_counts(pred: &Tensor, truth: &Tensor, weights: Option<&Tensor>, thresholds: i64) -> Result<Tensor> {
    let numbers = pred.f_isnan()?.f_logical_not()?;
    let pred = pred.f_nan_to_num(0.0, None, None)?.f_clamp(0.0, 1.0)?;
    let buckets =
        pred.f_mul_scalar((thresholds - 1) as f64)?.f_ceil()?.f_sub_scalar(1.0)?.f_relu()?.f_to_kind(Kind::Int64)?;
    let positives = truth.f_to_kind(Kind::Float)?;
    let negatives = positives.f_neg()?.f_add_scalar(1.0)?;
    let (positives, negatives) = match weights {
        Some(w) => (positives.f_mul(w)?, negatives.f_mul(w)?),
        None => (positives, negatives),
    };
    let options = (Kind::Float, pred.device());
    let at_or_above = |labels: &Tensor| -> Result<Tensor> {
        let counted = labels.f_mul(&numbers)?;
        let per_bucket = Tensor::f_zeros([thresholds], options)?.f_index_add(0, &buckets, &counted)?;
        Ok(per_bucket.f_flip([0])?.f_cumsum(0, Kind::Float)?.f_flip([0])?)
    };
    let tp = at_or_above(&positives)?;
    let fp = at_or_above(&negatives)?;
    let tn = fp.f_neg()?.f_add(&negatives.f_sum(Kind::Float)?)?;
    let fn_ = tp.f_neg()?.f_add(&positives.f_sum(Kind::Float)?)?;
    Ok(Tensor::f_cat(&[tp, fp, tn, fn_], 0)?)
}

/// R2's per-output `[sum(y w), sum(y^2 w), sum((y - p)^2 w), sum(w)]` and the number of
/// target elements (Keras's `num_samples`).
fn r2_state(out: &Tensor, y: &Tensor, weights: Option<&Tensor>, outputs: usize) -> Result<Tensor> {
    let size = out.size();
    if size.len() != 2 || size[1] != outputs as i64 || y.size() != size {
        return Err(Error::invalid(
            "metrics",
            format!(
                "R2Score made for {outputs} outputs needs outputs and targets [N, {outputs}]; the outputs have \
                 shape {:?} and the targets {:?} (give Metric::r2_score the model's number of outputs)",
                size,
                y.size()
            ),
        ));
    }
    let y = y.f_to_kind(Kind::Float)?;
    let w = match weights {
        Some(w) => w.f_unsqueeze(1)?.f_expand_as(&y)?,
        None => y.f_ones_like()?,
    };
    let wy = y.f_mul(&w)?;
    let col = |t: &Tensor| -> Result<Tensor> { Ok(t.f_sum_dim_intlist(0, false, Kind::Float)?) };
    let residual = y.f_sub(out)?.f_square()?.f_mul(&w)?;
    let elements = Tensor::f_scalar_tensor(y.numel() as f64, (Kind::Float, y.device()))?.f_reshape([1])?;
    Ok(Tensor::f_cat(&[col(&wy)?, col(&y.f_mul(&wy)?)?, col(&residual)?, col(&w)?, elements], 0)?)
}

/// Keras's `R2Score.result()` from the summed state.
fn r2_result(state: &[f64], aggregation: R2Aggregation, regressors: usize, outputs: usize) -> f64 {
    if state.len() != 4 * outputs + 1 {
        return f64::NAN;
    }
    let part = |i: usize| &state[i * outputs..(i + 1) * outputs];
    let (sum, squared, residual, count) = (part(0), part(1), part(2), part(3));
    let totals: Vec<f64> = (0..outputs).map(|i| squared[i] - sum[i] * (sum[i] / count[i])).collect();
    let raw: Vec<f64> = (0..outputs)
        .map(|i| {
            let r = 1.0 - residual[i] / totals[i];
            if r.is_infinite() {
                0.0
            } else {
                r
            }
        })
        .collect();
    let r2 = match aggregation {
        R2Aggregation::UniformAverage => raw.iter().sum::<f64>() / outputs as f64,
        R2Aggregation::VarianceWeightedAverage => {
            totals.iter().zip(&raw).map(|(t, r)| t * r).sum::<f64>() / totals.iter().sum::<f64>()
        }
    };
    let (n, p) = (state[4 * outputs], regressors as f64);
    if regressors == 0 || p >= n - 1.0 {
        return r2;
    }
    1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
}

/// Keras's `FBetaScore.result()` from the summed `[tp, fp, fn, support]` (each per class).
fn fbeta_result(state: &[f64], average: FAverage, beta: f64) -> f64 {
    const EPS: f64 = 1e-7;
    let c = average.columns();
    if state.len() != 4 * c {
        return f64::NAN;
    }
    let b2 = beta * beta;
    let scores: Vec<f64> = (0..c)
        .map(|i| {
            let (tp, fp, fn_) = (state[i], state[c + i], state[2 * c + i]);
            let (p, r) = (tp / (tp + fp + EPS), tp / (tp + fn_ + EPS));
            p * r / (b2 * p + r + EPS) * (1.0 + b2)
        })
        .collect();
    match average {
        FAverage::Weighted { .. } => {
            let support = &state[3 * c..];
            let total: f64 = support.iter().sum::<f64>() + EPS;
            scores.iter().zip(support).map(|(f, s)| f * s / total).sum()
        }
        _ => scores.iter().sum::<f64>() / c as f64,
    }
}

fn divide_no_nan(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Confusion counts per threshold, summed over an epoch.
struct Counts<'a> {
    tp: &'a [f64],
    fp: &'a [f64],
    tn: &'a [f64],
    fn_: &'a [f64],
}

/// Keras's `AUC.result()` from the counts.
fn auc_result(c: Counts<'_>, curve: AucCurve, summation: AucSummation) -> f64 {
    let t = c.tp.len();
    if curve == AucCurve::Pr && summation == AucSummation::Interpolation {
        return interpolate_pr_auc(&c);
    }
    let recall: Vec<f64> = (0..t).map(|i| divide_no_nan(c.tp[i], c.tp[i] + c.fn_[i])).collect();
    let (x, y): (Vec<f64>, Vec<f64>) = match curve {
        AucCurve::Roc => ((0..t).map(|i| divide_no_nan(c.fp[i], c.fp[i] + c.tn[i])).collect(), recall),
        AucCurve::Pr => (recall, (0..t).map(|i| divide_no_nan(c.tp[i], c.tp[i] + c.fp[i])).collect()),
        AucCurve::PrGain => (0..t)
            .map(|i| {
                let scale = divide_no_nan(c.tp[i] + c.fn_[i], c.tn[i] + c.fp[i]);
                if c.tp[i] == 0.0 {
                    (0.0, 1.0)
                } else {
                    let recall_gain = 1.0 - scale * divide_no_nan(c.fn_[i], c.tp[i]);
                    let precision_gain = 1.0 - scale * divide_no_nan(c.fp[i], c.tp[i]);
                    (recall_gain.max(0.0), precision_gain)
                }
            })
            .unzip(),
    };
    (0..t.saturating_sub(1))
        .map(|i| {
            let height = match summation {
                AucSummation::Interpolation => (y[i] + y[i + 1]) / 2.0,
                AucSummation::Minoring => y[i].min(y[i + 1]),
                AucSummation::Majoring => y[i].max(y[i + 1]),
            };
            (x[i] - x[i + 1]) * height
        })
        .sum()
}

/// Keras's `AUC.interpolate_pr_auc()` (Davis & Goadrich 2006).
fn interpolate_pr_auc(c: &Counts<'_>) -> f64 {
    let t = c.tp.len();
    let p: Vec<f64> = (0..t).map(|i| c.tp[i] + c.fp[i]).collect();
    (0..t.saturating_sub(1))
        .map(|i| {
            let dtp = c.tp[i] - c.tp[i + 1];
            let dp = p[i] - p[i + 1];
            let slope = divide_no_nan(dtp, dp.max(0.0));
            let intercept = c.tp[i + 1] - slope * p[i + 1];
            let ratio = if p[i] > 0.0 && p[i + 1] > 0.0 { divide_no_nan(p[i], p[i + 1].max(0.0)) } else { 1.0 };
            divide_no_nan(slope * (dtp + intercept * ratio.ln()), (c.tp[i + 1] + c.fn_[i + 1]).max(0.0))
        })
        .sum()
}

impl FromStr for Metric {
    type Err = Error;
    /// Keras's names, with Keras's defaults (any case; class names such as `"AUC"` too); the
    /// metric is logged under the string given.
    fn from_str(s: &str) -> Result<Self> {
        let kind = match s.to_ascii_lowercase().as_str() {
            "acc" | "accuracy" => MetricKind::Accuracy,
            "mae" | "mean_absolute_error" | "meanabsoluteerror" => MetricKind::MeanAbsoluteError,
            "mse" | "mean_squared_error" | "meansquarederror" => MetricKind::MeanSquaredError,
            "categorical_accuracy" | "categoricalaccuracy" => MetricKind::CategoricalAccuracy,
            "sparse_categorical_accuracy" | "sparsecategoricalaccuracy" => MetricKind::SparseCategoricalAccuracy,
            "binary_accuracy" | "binaryaccuracy" => MetricKind::BinaryAccuracy { threshold: 0.5 },
            "top_k_categorical_accuracy" | "topkcategoricalaccuracy" => MetricKind::TopKCategoricalAccuracy { k: 5 },
            "sparse_top_k_categorical_accuracy" | "sparsetopkcategoricalaccuracy" => {
                MetricKind::SparseTopKCategoricalAccuracy { k: 5 }
            }
            "precision" => MetricKind::Precision { threshold: 0.5 },
            "recall" => MetricKind::Recall { threshold: 0.5 },
            "auc" => MetricKind::auc(),
            _ => return Self::from_more_names(s),
        };
        Ok(Self::new(kind, s))
    }
}

impl Metric {
    /// [`Metric::from_str`] for the regression scores, F-scores and loss metrics.
    fn from_more_names(s: &str) -> Result<Self> {
        let kind = match s.to_ascii_lowercase().as_str() {
            "root_mean_squared_error" | "rootmeansquarederror" => MetricKind::RootMeanSquaredError,
            "r2_score" | "r2score" => {
                MetricKind::R2Score { class_aggregation: R2Aggregation::UniformAverage, num_regressors: 0, outputs: 1 }
            }
            "f1_score" | "f1score" | "fbeta_score" | "fbetascore" => {
                MetricKind::FBetaScore { average: FAverage::Micro, beta: 1.0, threshold: None }
            }
            "mape" | "mean_absolute_percentage_error" | "meanabsolutepercentageerror" => {
                MetricKind::MeanAbsolutePercentageError
            }
            "msle" | "mean_squared_logarithmic_error" | "meansquaredlogarithmicerror" => {
                MetricKind::MeanSquaredLogarithmicError
            }
            "cosine_similarity" | "cosinesimilarity" => MetricKind::CosineSimilarity,
            "logcosh" | "log_cosh_error" | "logcosherror" => MetricKind::LogCoshError,
            "kld" | "kl_divergence" | "kldivergence" => MetricKind::KlDivergence,
            "poisson" => MetricKind::Poisson,
            "hinge" => MetricKind::Hinge,
            "squared_hinge" | "squaredhinge" => MetricKind::SquaredHinge,
            "categorical_hinge" | "categoricalhinge" => MetricKind::CategoricalHinge,
            "bce" | "binary_crossentropy" | "binarycrossentropy" => {
                MetricKind::BinaryCrossentropy { from_logits: false, label_smoothing: 0.0 }
            }
            "categorical_crossentropy" | "categoricalcrossentropy" => {
                MetricKind::CategoricalCrossentropy { from_logits: false, label_smoothing: 0.0 }
            }
            "sparse_categorical_crossentropy" | "sparsecategoricalcrossentropy" => {
                MetricKind::SparseCategoricalCrossentropy { from_logits: false }
            }
            _ => {
                return Err(Error::Parse {
                    what: "metric",
                    value: s.into(),
                    expected: "acc, accuracy, mae, mean_absolute_error, mse, mean_squared_error, \
                               categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, \
                               top_k_categorical_accuracy, \
                               sparse_top_k_categorical_accuracy, precision, recall, auc, \
                               root_mean_squared_error, r2_score, f1_score, mape, msle, \
                               cosine_similarity, logcosh, kl_divergence (kld), poisson, hinge, \
                               squared_hinge, categorical_hinge, binary_crossentropy, \
                               categorical_crossentropy, sparse_categorical_crossentropy"
                        .into(),
                })
            }
        };
        Ok(Self::new(kind, s))
    }
}

/// What [`Sequential::compile`](crate::Sequential::compile) accepts as its metrics: Keras's
/// list of names as an array (`["accuracy"]`, `&["acc", "mae"]`), or [`Metric`]s
/// (`vec![Metric::accuracy()]`, `vec!["acc".parse()?]`, `vec![]` for none).
///
/// A name that is not a metric makes `compile` return an error. `vec!["accuracy"]` (a `Vec` of
/// names) is not accepted: a second `Vec` form would leave `vec![]` and
/// `vec!["acc".parse()?]` without a type, so names go in an array.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of metrics",
    note = "write names as an array, `[\"accuracy\"]`, or metrics as `vec![Metric::accuracy()]`"
)]
pub trait IntoMetrics {
    /// The metrics, parsing names with [`Metric::from_str`].
    fn into_metrics(self) -> Result<Vec<Metric>>;
}

impl IntoMetrics for Vec<Metric> {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        Ok(self)
    }
}

impl<const N: usize> IntoMetrics for [Metric; N] {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        Ok(self.into())
    }
}

impl IntoMetrics for &[Metric] {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        Ok(self.to_vec())
    }
}

impl<const N: usize> IntoMetrics for [&str; N] {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        self.iter().map(|s| s.parse()).collect()
    }
}

impl<const N: usize> IntoMetrics for &[&str; N] {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        self.iter().map(|s| s.parse()).collect()
    }
}

impl IntoMetrics for &[&str] {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        self.iter().map(|s| s.parse()).collect()
    }
}

impl IntoMetrics for &[String] {
    fn into_metrics(self) -> Result<Vec<Metric>> {
        self.iter().map(|s| s.parse()).collect()
    }
}

#[cfg(test)]
mod tests {
    //! Weighted metrics against Keras 3's `update_state(..., sample_weight=w)`, batch by batch;
    //! numbers from `tests/reference/keras_metrics.py` (Keras 3.15.1, torch backend).
    use super::*;

    const Y: [f32; 23] = [0., 1., 1., 0., 1., 0., 0., 1., 1., 1., 0., 0., 1., 0., 1., 1., 0., 0., 0., 1., 1., 0., 1.];
    const P: [f32; 23] = [
        0.1, 0.8, 0.35, 0.4, 0.9, 0.65, 0.05, 0.5, 0.72, 0.3, 0.2, 0.55, 0.97, 0.0, 0.61, 0.45, 0.81, 0.12, 0.5, 0.99,
        0.25, 0.33, 1.0,
    ];
    const W: [f32; 23] = [
        1.0, 0.5, 2.0, 0.0, 1.0, 3.0, 1.0, 0.25, 1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 0.0, 2.0, 1.5, 1.0, 1.0, 0.5, 1.0, 2.5,
        1.0,
    ];
    const Y3: [f32; 24] =
        [1., 0., 1., 0., 0., 1., 1., 1., 0., 0., 1., 0., 1., 0., 0., 0., 0., 0., 1., 1., 1., 0., 1., 1.];
    const P3: [f32; 24] = [
        0.9, 0.2, 0.4, 0.6, 0.1, 0.8, 0.7, 0.45, 0.3, 0.2, 0.9, 0.55, 0.35, 0.6, 0.1, 0.51, 0.49, 0.05, 0.8, 0.3, 0.95,
        0.1, 0.75, 0.25,
    ];
    const W3: [f32; 8] = [1.0, 2.0, 0.5, 0.0, 1.0, 3.0, 1.0, 0.25];

    /// The metric's result after batches of `batch` samples, as the training loop sums states.
    fn streamed(metric: &Metric, (y, p, w): (&[f32], &[f32], &[f32]), width: i64, batch: i64) -> f64 {
        let n = w.len() as i64;
        let (y, p, w) = (
            Tensor::from_slice(y).reshape([n, width]),
            Tensor::from_slice(p).reshape([n, width]),
            Tensor::from_slice(w),
        );
        let mut state = Tensor::zeros([metric.state_len() as i64], (Kind::Float, tch::Device::Cpu));
        let mut start = 0;
        while start < n {
            let len = batch.min(n - start);
            let part = |t: &Tensor| t.narrow(0, start, len);
            let s = metric
                .batch_state_weighted(
                    &part(&p),
                    Activation::Linear,
                    &part(&y),
                    &Loss::BinaryCrossentropy,
                    Some(&part(&w)),
                )
                .unwrap();
            state += s;
            start += len;
        }
        metric.result(&Vec::<f64>::try_from(state.to_kind(Kind::Double)).unwrap(), n)
    }

    #[test]
    fn weighted_metrics_equal_keras_weighted_updates() {
        let auc_pr = Metric::new(
            MetricKind::Auc { num_thresholds: 200, curve: AucCurve::Pr, summation_method: AucSummation::Interpolation },
            "auc_pr",
        );
        let cases = [
            (Metric::auc(), 0.678760409),
            (auc_pr, 0.699958324),
            (Metric::precision(), 0.5),
            (Metric::recall(), 0.408163279),
            (Metric::binary_accuracy(0.5), 0.524271846),
            (Metric::mae(), 0.404854387),
        ];
        for (metric, keras) in cases {
            let got = streamed(&metric.clone().weighted(), (&Y, &P, &W), 1, 5);
            assert!((got - keras).abs() < 2e-6, "{}: got {got}, Keras {keras}", metric.name);
            // Unweighted metrics ignore sample weights, as Keras's plain `metrics`.
            let plain = streamed(&metric, (&Y, &P, &W), 1, 5);
            let ones = streamed(&metric.clone().weighted(), (&Y, &P, &[1.0; 23]), 1, 5);
            assert!((plain - ones).abs() < 1e-9, "{}: {plain} vs {ones}", metric.name);
        }
        for (metric, keras) in [
            (Metric::precision(), 0.489361703),
            (Metric::auc(), 0.785545945),
            (Metric::binary_accuracy(0.5), 0.628571451),
        ] {
            let got = streamed(&metric.clone().weighted(), (&Y3, &P3, &W3), 3, 3);
            assert!((got - keras).abs() < 2e-6, "{} (3 outputs): got {got}, Keras {keras}", metric.name);
        }
        // A weight vector of the wrong length is an error naming sample_weight.
        let m = Metric::mae().weighted();
        let (y, p) = (Tensor::from_slice(&Y).reshape([23, 1]), Tensor::from_slice(&P).reshape([23, 1]));
        let err = m
            .batch_state_weighted(
                &p,
                Activation::Linear,
                &y,
                &Loss::MeanSquaredError,
                Some(&Tensor::ones([3], (Kind::Float, tch::Device::Cpu))),
            )
            .unwrap_err();
        assert!(err.to_string().contains("sample_weight"), "{err}");
    }
}
