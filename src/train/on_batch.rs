//! Keras's `train_on_batch`, `test_on_batch` and `predict_on_batch`: one batch, the caller's
//! own loop.
use tch::Tensor;

use crate::callbacks::BatchLogs;
use crate::train::source::Batch;
use crate::train::step::{EagerStep, StepRunner};
use crate::train::{check_pair, check_weights, SingleProcess};
use crate::{Logs, Loss, Result, Sequential};

impl Sequential {
    /// What `fit` and `train_on_batch` start with: checks that `x` and `y` pair up, builds an
    /// unbuilt model from `x`'s per-sample shape, and returns the sample count with `x` and
    /// `y` prepared for the model and `loss`, on its device.
    pub(super) fn training_pair(&mut self, loss: &Loss, x: &Tensor, y: &Tensor) -> Result<(i64, Tensor, Tensor)> {
        let n = check_pair(x, y, "training")?;
        if self.built.is_none() {
            let shape = self.input_shape.clone().unwrap_or_else(|| x.size()[1..].to_vec());
            self.build_for(&shape)?;
        }
        let output = self.output_shape()?;
        let x = self.prepare_inputs(x, "x")?;
        let y = loss.prepare_targets(y, &output)?.f_to_device(self.device)?;
        Ok((n, x, y))
    }

    /// One training step (forward, loss, backward, optimizer update) on `x` and `y` taken as a
    /// single batch, as Keras's `train_on_batch`; returns that batch's loss and metrics (the
    /// metrics start afresh at each call, as Keras 3 resets them). Builds an unbuilt model
    /// from `x`'s per-sample shape, as `fit` does. For a loop of your own: the optimizer's
    /// step count (and so a learning-rate schedule) advances at each call; the model's epoch
    /// count does not, and no callbacks run. The step runs op by op, in one process.
    pub fn train_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<Logs> {
        self.train_on_batch_weighted(x, y, None)
    }

    /// `train_on_batch` with one weight per sample (`[N]` or `[N, 1]`), or per timestep
    /// (`[N, T]` or `[N, T, 1]`, for outputs `[N, T, C]`), Keras's `sample_weight`; class weights become sample weights through
    /// [`class_weight_to_sample_weight`](crate::class_weight_to_sample_weight).
    pub fn train_on_batch_weighted(&mut self, x: &Tensor, y: &Tensor, sample_weight: Option<&Tensor>) -> Result<Logs> {
        let loss = self.train_state("train_on_batch")?.loss.clone();
        let (n, x, y) = self.training_pair(&loss, x, y)?;
        let output = self.output_shape()?;
        let w = match sample_weight {
            Some(w) => Some(check_weights(w, n, &output, "sample_weight")?.f_to_device(self.device)?),
            None => None,
        };
        let (y, step_loss) = self.step_targets(y)?;
        // Before the step: it checks the metrics against the loss.
        let layout = self.log_layout()?;
        self.prepare_training(&mut SingleProcess)?;
        let mut batch = Batch::new(x, y)?;
        if let Some(w) = w {
            batch = batch.with_sample_weight(w)?;
        }
        let sums = EagerStep { loss: step_loss }.step(self, &batch, &mut SingleProcess)?;
        BatchLogs { layout: &layout, sums: &sums, count: n }.logs()
    }

    /// The loss and metrics on `x` and `y` taken as a single batch, in evaluation mode, as
    /// Keras's `test_on_batch`: `evaluate` with the batch size of `x`.
    pub fn test_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<Logs> {
        self.test_on_batch_weighted(x, y, None)
    }

    /// `test_on_batch` with one weight per sample (`[N]` or `[N, 1]`), or per timestep
    /// (`[N, T]` or `[N, T, 1]`, for outputs `[N, T, C]`).
    pub fn test_on_batch_weighted(&mut self, x: &Tensor, y: &Tensor, sample_weight: Option<&Tensor>) -> Result<Logs> {
        let n = check_pair(x, y, "evaluation")?;
        self.evaluate_weighted(x, y, sample_weight, n as usize, Vec::new())
    }

    /// The model's outputs for `x` taken as a single batch, on the CPU, as Keras's
    /// `predict_on_batch`: `predict` with the batch size of `x`.
    pub fn predict_on_batch(&mut self, x: &Tensor) -> Result<Tensor> {
        let n = x.size().first().copied().unwrap_or(0).max(1);
        self.predict(x, n as usize)
    }
}
