//! What a step computes from a batch: outputs, loss, the loss and metric sums, the gradient.
use tch::{Kind, Tensor};

use crate::logs::LogLayout;
use crate::train::state::TrainState;
use crate::{Activation, Error, Loss, MetricKind, Result, Sequential};

impl Sequential {
    pub(crate) fn train_state(&self, action: &'static str) -> Result<&TrainState> {
        self.train.as_ref().ok_or(Error::NotCompiled { action })
    }

    pub(crate) fn train_state_mut(&mut self, action: &'static str) -> Result<&mut TrainState> {
        self.train.as_mut().ok_or(Error::NotCompiled { action })
    }

    /// The flat buffer of trainable parameters (a handle to the same storage).
    pub(crate) fn flat(&self, action: &'static str) -> Result<Tensor> {
        Ok(self.built(action)?.flat.shallow_clone())
    }

    /// Where the logged values live in the step's sums.
    /// Checked once per fit, evaluation or `train_on_batch`, before the first batch: see
    /// [`Self::check_ignored_labels`].
    pub(crate) fn log_layout(&self) -> Result<LogLayout> {
        let state = self.train_state("fit")?;
        self.check_ignored_labels(state)?;
        Ok(LogLayout::new(&state.metrics))
    }

    /// Refuses a loss's `ignore_class` outside `[0, classes)` with a metric that reads each
    /// label as a class index (sparse top-k accuracy, the sparse cross-entropy metric): the
    /// metrics do not leave the ignored labels out (as Keras's do not), and LibTorch would index
    /// out of bounds with them (an error in its own words, a device-side assert on CUDA).
    /// Decided from the model's output shape, with no read of the labels.
    fn check_ignored_labels(&self, state: &TrainState) -> Result<()> {
        let Loss::SparseCategoricalCrossentropyMasked { ignore_class, .. } = state.loss else {
            return Ok(());
        };
        let classes = self.output_shape()?.last().copied().unwrap_or(1);
        if (0..classes).contains(&ignore_class) {
            return Ok(());
        }
        let indexing = |m: &&crate::Metric| {
            matches!(
                m.kind,
                MetricKind::SparseTopKCategoricalAccuracy { .. } | MetricKind::SparseCategoricalCrossentropy { .. }
            )
        };
        match state.metrics.iter().find(indexing) {
            Some(m) => Err(Error::invalid(
                "metrics",
                format!(
                    "metric '{}' reads every label as a class id in [0, {classes}), and the loss's ignore_class \
                     {ignore_class} is not one: the metric would see the ignored labels too; drop the metric, \
                     or relabel the ignored samples with an id in range",
                    m.name
                ),
            )),
            None => Ok(()),
        }
    }

    /// Per-batch `[loss * n, metric states...]` on the device, and the loss for backward.
    /// `loss_kind` is the compiled loss, or its sparse equivalent (see [`Self::step_targets`]).
    /// With sample weights `wb` (`[n]`) the loss is Keras's `sum(loss_i * w_i) / n` and
    /// weighted metrics weigh each sample; other metrics ignore the weights, as in Keras. With
    /// per-timestep weights (`[n, T]`) the loss is the mean of `loss * w` over the `n * T`
    /// timesteps. Either way the first sum is the batch's loss times its `n` samples (Keras's
    /// loss tracker weighs each batch's loss by its size), so sums of batches and of processes
    /// divided by their sample count give the logged loss.
    /// The layers' regularization penalty (on their variables, and the activity penalty on
    /// their outputs collected by [`Self::forward_collecting`]) is added after that mean, in
    /// training and in evaluation, as Keras's `compute_loss` adds `model.losses`.
    /// A mask of padded steps that reaches a sequence output (`[N, T]` for outputs
    /// `[N, T, C]`) weighs the loss as Keras's `apply_mask` does (see [`output_mask_weights`]);
    /// the metrics do not read it.
    pub(crate) fn batch_sums(
        &self,
        xb: &Tensor,
        yb: &Tensor,
        wb: Option<&Tensor>,
        train: bool,
        loss_kind: &Loss,
    ) -> Result<(Tensor, Tensor)> {
        let state = self.train_state("fit")?;
        let forward = self.forward_collecting(xb, train, true)?;
        let (raw, act, activity, mask) = (forward.raw, forward.activation, forward.penalty, forward.mask);
        let logits = loss_kind.uses_logits(act);
        let pred = if logits { raw.shallow_clone() } else { act.apply(&raw)? };
        let masked = match mask {
            Some(m) if pred.dim() == m.dim() + 1 && m.dim() == 2 => Some(output_mask_weights(&m, wb)?),
            _ => None,
        };
        let loss = match (masked.as_ref(), wb) {
            (Some(w), _) | (None, Some(w)) => loss_kind.compute_weighted(&pred, yb, logits, w)?,
            (None, None) => loss_kind.compute(&pred, yb, logits)?,
        };
        let loss = match self.regularization_penalty()? {
            Some(penalty) => loss.f_add(&penalty)?,
            None => loss,
        };
        // The layers' activity penalties, collected during this forward pass.
        let loss = match activity {
            Some(penalty) => loss.f_add(&penalty)?,
            None => loss,
        };
        let n = xb.size()[0] as f64;
        let sums = tch::no_grad(|| -> Result<Tensor> {
            let mut parts = vec![loss.f_detach()?.f_mul_scalar(n)?.f_reshape([1])?];
            for m in &state.metrics {
                parts.push(m.batch_state_weighted(&raw.f_detach()?, act, yb, loss_kind, wb)?);
            }
            Ok(Tensor::f_cat(&parts, 0)?)
        })?;
        Ok((loss, sums))
    }

    /// The sum of the penalties of the trainable layers' regularized variables (Keras's
    /// `model.losses`: a frozen layer's variables are not among its trainable weights, so they
    /// add nothing), as a device scalar differentiable in the parameters; `None` when no
    /// trainable layer has a regularizer. Computed from metadata and device ops only, so a
    /// captured step computes it on each replay.
    pub(crate) fn regularization_penalty(&self) -> Result<Option<Tensor>> {
        let built = self.built("fit")?;
        let mut total: Option<Tensor> = None;
        for (index, layer) in self.layers.iter().enumerate() {
            if self.frozen.contains(&index) {
                continue;
            }
            for (name, regularizer) in layer.spec().variable_regularizers() {
                let full = format!("layers.{index}.{name}");
                let Some((_, w)) = built.variables.iter().find(|(n, _)| *n == full) else { continue };
                let penalty = regularizer.penalty(w)?;
                total = Some(match total {
                    Some(t) => t.f_add(&penalty)?,
                    None => penalty,
                });
            }
        }
        Ok(total)
    }

    /// The batch's sums (see [`Self::batch_sums`]) and the loss's gradient, laid end to end like
    /// the flat parameter buffer. Gradients come back as new tensors (nothing accumulates in
    /// `.grad`, so nothing needs zeroing).
    pub(crate) fn batch_gradient(
        &self,
        xb: &Tensor,
        yb: &Tensor,
        wb: Option<&Tensor>,
        loss_kind: &Loss,
    ) -> Result<(Tensor, Tensor)> {
        if self.built("fit")?.trainable.is_empty() {
            return Err(Error::invalid(
                "model",
                "has no trainable weights to fit (its layers have none, or all are frozen with set_trainable): \
                 unfreeze a layer with set_trainable(index, true), or use evaluate for the loss and metrics",
            ));
        }
        let (loss, sums) = self.batch_sums(xb, yb, wb, true, loss_kind)?;
        let built = self.built("fit")?;
        let grads = Tensor::f_run_backward(&[&loss], &built.trainable, false, false)?;
        Ok((sums, crate::flat::flat_gradient(&grads, &built.orders)?))
    }

    /// The targets and loss the training step computes with. Exactly one-hot targets (along
    /// the last axis, per timestep for `[N, T, C]`) for a
    /// softmax model trained with categorical cross-entropy and only accuracy metrics are
    /// turned into class indices once, and the sparse loss is used: the same values and
    /// gradients (`-log p[label]`) with fewer kernels per step.
    pub(crate) fn step_targets(&self, y: Tensor) -> Result<(Tensor, Loss)> {
        let state = self.train_state("fit")?;
        let last = self.built("fit")?.activations.last().copied().unwrap_or_default();
        let eligible = state.loss == Loss::CategoricalCrossentropy
            && last == Activation::Softmax
            && state.metrics.iter().all(|m| m.kind == MetricKind::Accuracy)
            && y.dim() >= 2;
        if eligible {
            // One-hot along the last axis: `[N, C]`, or `[N, T, C]` (a class per timestep).
            let binary = y.f_eq(0.0)?.f_logical_or(&y.f_eq(1.0)?)?.f_all()?.int64_value(&[]) == 1;
            let one_per_row = y.f_sum_dim_intlist(-1, false, Kind::Float)?.f_eq(1.0)?.f_all()?.int64_value(&[]) == 1;
            if binary && one_per_row {
                return Ok((y.f_argmax(-1, false)?, Loss::SparseCategoricalCrossentropy));
            }
        }
        Ok((y, state.loss.clone()))
    }
}

/// Keras's `apply_mask` for the `sum_over_batch_size` reduction: the `[N, T]` output mask as
/// per-timestep weights `total / valid` on real steps and 0 on masked ones (so the weighted
/// mean over the `N * T` steps is the mean over the real ones), times the sample weights if
/// any (`[N]` weights spread over each sample's steps, where Keras 3.15.1 fails to broadcast
/// them). Device ops only (no host read).
pub(crate) fn output_mask_weights(mask: &Tensor, wb: Option<&Tensor>) -> Result<Tensor> {
    let size = mask.size();
    let total = (size[0] * size[1]) as f64;
    let float = mask.f_to_kind(Kind::Float)?;
    let valid = float.f_sum(Kind::Float)?.f_clamp_min(1.0)?;
    let weights = float.f_mul(&valid.f_reciprocal()?.f_mul_scalar(total)?)?;
    let Some(w) = wb else { return Ok(weights) };
    let w = w.f_to_kind(Kind::Float)?;
    let w = if w.size() == [size[0]] || w.size() == [size[0], 1] {
        w.f_reshape([size[0], 1])?
    } else if w.size() == [size[0], size[1], 1] {
        w.f_reshape([size[0], size[1]])?
    } else {
        w
    };
    Ok(weights.f_mul(&w)?)
}
