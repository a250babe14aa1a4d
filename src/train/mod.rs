//! Training: `fit`, `evaluate` and `predict`, and the parts the training loop is made of.
//!
//! - [`source`]: a [`BatchSource`] turns data into batches, one epoch at a time
//!   ([`TensorSource`] keeps tensors on the device and batches them there).
//! - `step`: a step runner runs one training step (eager, or a CUDA graph replay).
//! - [`reducer`]: a [`GradientReducer`] combines gradients and log sums across processes
//!   between the backward pass and the update (none for a single process).
//! - `prepared`: a user's source seen through the checks `fit` on tensors makes (each batch
//!   checked, moved to the device, its targets converted for the loss). Before that,
//!   `fit_source` builds a model without an input shape from the source's first batch.
//! - `epochs`: the loop itself, which calls the callbacks and never prints.
//! - `on_batch`: Keras's `train_on_batch`, `test_on_batch`, `predict_on_batch` for a loop of
//!   your own.
//!
//! Loss and metric sums accumulate on the device and are read only at epoch end or when a
//! callback asks (the progress bar, ten times a second).
mod compute;
mod epochs;
mod on_batch;
mod prepared;
pub mod reducer;
pub(crate) mod seed;
pub mod source;
pub(crate) mod state;
mod step;

use tch::Tensor;

pub use reducer::GradientReducer;
pub use source::{Batch, BatchSource, Batches, ShardMode, TensorSource};
pub use state::FitSettings;

use crate::callbacks::{Callback, History, ProgbarLogger, Verbosity};
use crate::error::full_shape;
use crate::{Error, Logs, Result, Sequential};

/// Batch size used for validation inside `fit` unless set: evaluation has no gradients, so a
/// large batch is faster and gives the same means.
const EVAL_BATCH: usize = 1024;

/// `fit`'s settings, with Keras's defaults (batch 32, 1 epoch, shuffling, progress bar).
///
/// ```
/// # use tch_keras::tch::{Device, Kind, Tensor};
/// # use tch_keras::{callbacks::TerminateOnNaN, Dense, FitConfig, Loss, Optimizer, Sequential, Verbosity};
/// let (x, y) = (Tensor::rand([100, 4], (Kind::Float, Device::Cpu)), Tensor::rand([100, 1], (Kind::Float, Device::Cpu)));
/// let (x_test, y_test) = (x.narrow(0, 0, 10), y.narrow(0, 0, 10));
/// let mut model = Sequential::new().add(Dense::new(1));
/// model.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![])?;
/// let mut nan_guard = TerminateOnNaN::new();
/// let history = model.fit(&x, &y, FitConfig {
///     batch_size: 64,
///     epochs: 3,
///     validation_data: Some((&x_test, &y_test)),
///     callbacks: vec![&mut nan_guard],
///     verbose: Verbosity::Silent,
///     ..Default::default()
/// })?;
/// assert_eq!(history.keys(), ["loss", "val_loss"]);
/// # Ok::<(), tch_keras::Error>(())
/// ```
pub struct FitConfig<'a> {
    /// Samples per gradient update (per process in data-parallel training); the last, partial
    /// batch is trained too. Used by `fit` on tensors; a batch source batches itself.
    pub batch_size: usize,
    /// The epoch index to stop before (with `initial_epoch`, as in Keras).
    pub epochs: usize,
    /// The epoch to start at (for resuming).
    pub initial_epoch: usize,
    /// Reshuffle the training data at each epoch (seeded by the model's seed and the epoch).
    pub shuffle: bool,
    /// Data to evaluate at each epoch end; logged with the `val_` prefix.
    pub validation_data: Option<(&'a Tensor, &'a Tensor)>,
    /// A batch source to evaluate at each epoch end, instead of `validation_data`.
    pub validation_source: Option<&'a mut dyn BatchSource>,
    /// Fraction of the training data, taken from the end before shuffling, held out for
    /// validation when `validation_data` is not given: `n - floor(n * (1 - split))` samples,
    /// as Keras.
    pub validation_split: f64,
    /// Batch size for validation (default: the larger of `batch_size` and 1024).
    pub validation_batch_size: Option<usize>,
    /// The user's callbacks, called before the History and the progress bar.
    pub callbacks: Vec<&'a mut dyn Callback>,
    /// Progress display.
    pub verbose: Verbosity,
    /// Replaces the progress display made from `verbose` (e.g. to draw into a test terminal).
    pub progress: Option<ProgbarLogger>,
    /// Combines gradients across processes (data-parallel training); none by default.
    pub reducer: Option<&'a mut dyn GradientReducer>,
    /// One weight per training sample (`[N]` or `[N, 1]`), as Keras's `sample_weight`: each
    /// batch's loss is `sum(loss_i * w_i) / batch_size`; metrics compiled with
    /// [`Metric::weighted`] (Keras's `weighted_metrics`) weigh samples too, others ignore the
    /// weights. With `validation_split`, the held-out samples keep their weights for validation.
    /// For per-timestep outputs `[N, T, C]` (or `[N, T, D]`) the weights may be one per timestep,
    /// `[N, T]` or `[N, T, 1]` (0 leaves a padded timestep out): each batch's loss is then the
    /// mean of `loss * w` over its `batch_size * T` timesteps, and a weighted mean metric
    /// `sum(value * w) / sum(w)`, as Keras 3.
    ///
    /// [`Metric::weighted`]: crate::Metric::weighted
    pub sample_weight: Option<&'a Tensor>,
    /// Weights per class `(class, weight)`, as Keras's `class_weight`: each training sample
    /// weighs its class's weight (1 for classes not listed), its class being the arg-max of
    /// one-hot targets or the rounded label (see [`class_weight_to_sample_weight`]). Training
    /// data only; not together with `sample_weight`. Empty: none.
    ///
    /// [`class_weight_to_sample_weight`]: crate::class_weight_to_sample_weight
    pub class_weight: Vec<(i64, f64)>,
    /// Sample weights for `validation_data` (Keras's third element of `validation_data`).
    pub validation_sample_weight: Option<&'a Tensor>,
    /// Validate every `validation_freq` epochs (Keras's integer form): after epochs whose
    /// number counted from 1 is a multiple of it. Default 1.
    pub validation_freq: usize,
    /// At most this many batches per epoch. Epochs then take the next batches of a pass over
    /// the data, a new pass (reshuffled, the source's next epoch) starting when one runs out,
    /// as Keras's epoch iterator; the progress bar counts this many steps. Gives a source of
    /// unknown length a bounded epoch. `None`: one whole pass per epoch.
    pub steps_per_epoch: Option<usize>,
}

impl Default for FitConfig<'_> {
    fn default() -> Self {
        Self {
            batch_size: 32,
            epochs: 1,
            initial_epoch: 0,
            shuffle: true,
            validation_data: None,
            validation_source: None,
            validation_split: 0.0,
            validation_batch_size: None,
            callbacks: Vec::new(),
            verbose: Verbosity::ProgressBar,
            progress: None,
            reducer: None,
            sample_weight: None,
            class_weight: Vec::new(),
            validation_sample_weight: None,
            validation_freq: 1,
            steps_per_epoch: None,
        }
    }
}

/// `fit_source` settings that need the whole data set in memory are refused.
fn check_source_config(config: &FitConfig<'_>) -> Result<()> {
    if config.sample_weight.is_some() {
        return Err(Error::invalid(
            "sample_weight",
            "fit_source takes sample weights from the batches: give them with Batch::with_sample_weight \
             (or TensorSource::with_sample_weight), not in FitConfig",
        ));
    }
    if config.validation_split != 0.0 {
        return Err(Error::invalid(
            "validation_split",
            "fit_source cannot hold out part of a batch source: give validation_source or validation_data",
        ));
    }
    Ok(())
}

fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::invalid("batch_size", "must be at least 1"));
    }
    if i64::try_from(batch_size).is_err() {
        return Err(Error::invalid("batch_size", format!("{batch_size} is too large")));
    }
    Ok(())
}

fn check_pair(x: &Tensor, y: &Tensor, what: &str) -> Result<i64> {
    let (xs, ys) = (x.size(), y.size());
    let n = xs.first().copied().unwrap_or(0);
    if n == 0 {
        return Err(Error::invalid(
            "data",
            format!("{what} x is empty (shape {}): there is nothing to train or evaluate on", full_shape(&xs)),
        ));
    }
    if ys.first() != Some(&n) {
        return Err(Error::invalid(
            "data",
            format!("{what} x has {n} samples but y has shape {}: give one target per sample", full_shape(&ys)),
        ));
    }
    Ok(n)
}

/// Sample weights must be `[n]`, or `[n, 1]` as Keras also takes them (returned as float32
/// `[n]`), or, for per-timestep outputs (`output` is the model's per-sample output shape, such as
/// `[T, C]`), one weight per timestep: `[n, T]` or `[n, T, 1]` (returned as float32 `[n, T]`).
fn check_weights(w: &Tensor, n: i64, output: &[i64], what: &'static str) -> Result<Tensor> {
    let size = w.size();
    if crate::losses::is_complex(w.kind()) {
        return Err(Error::invalid(what, format!("has kind {:?}: give real (float) weights", w.kind())));
    }
    if size == [n] || size == [n, 1] {
        return Ok(w.f_reshape([n])?.f_to_kind(tch::Kind::Float)?);
    }
    let full: Vec<i64> = std::iter::once(n).chain(output.iter().copied()).collect();
    if output.len() > 1 {
        if let Ok(w) = crate::losses::step_weights(w, &full) {
            return Ok(w);
        }
    }
    Err(Error::invalid(what, crate::losses::weight_shapes(&size, &full)))
}

/// Samples Keras's `validation_split` holds out of `n`: `n - floor(n * (1 - fraction))`.
fn validation_count(n: i64, fraction: f64) -> i64 {
    n - ((n as f64) * (1.0 - fraction)).floor() as i64
}

/// Training or validation data: inputs, targets, optional sample weights.
type Data = (Tensor, Tensor, Option<Tensor>);

/// Holds out the last `fraction` of `(x, y, w)` for validation, as Keras's `validation_split`.
fn split_validation(data: Data, n: i64, fraction: f64) -> Result<(Data, Option<Data>)> {
    if fraction == 0.0 {
        return Ok((data, None));
    }
    let (x, y, w) = data;
    let n_val = validation_count(n, fraction);
    let n_train = n - n_val;
    if n_val == 0 || n_train == 0 {
        return Err(Error::invalid(
            "validation_split",
            format!("{fraction} of {n} samples leaves an empty training or validation set"),
        ));
    }
    let part = |t: &Tensor, start, len| t.f_narrow(0, start, len);
    let w_val = w.as_ref().map(|w| part(w, n_train, n_val)).transpose()?;
    let w_train = w.as_ref().map(|w| part(w, 0, n_train)).transpose()?;
    let val = (part(&x, n_train, n_val)?, part(&y, n_train, n_val)?, w_val);
    Ok(((part(&x, 0, n_train)?, part(&y, 0, n_train)?, w_train), Some(val)))
}

/// The reducer of a single process: nothing to combine.
pub(crate) struct SingleProcess;

impl GradientReducer for SingleProcess {
    fn reduce_step(&mut self, _grad: &mut Tensor, _sums: &mut Tensor) -> Result<()> {
        Ok(())
    }
    fn capturable(&self) -> bool {
        true
    }
}

impl Sequential {
    /// Trains the model on tensors. Builds it first if needed, from the data's per-sample
    /// shape. Returns the History of this call's epochs.
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, mut config: FitConfig<'_>) -> Result<History> {
        let loss = self.train_state("fit")?.loss.clone();
        check_batch_size(config.batch_size)?;
        let split = config.validation_split;
        if !(0.0..1.0).contains(&split) {
            return Err(Error::invalid("validation_split", format!("must be in [0, 1), got {split}")));
        }
        let (n_all, x, y) = self.training_pair(&loss, x, y)?;
        let w = self.sample_weights(&config, n_all)?;
        let data = (x, y, w);
        let ((x, y, w), split_off) = match config.validation_data {
            Some(_) => (data, None),
            None => split_validation(data, n_all, split)?,
        };
        let w = match (w, config.class_weight.is_empty()) {
            (w, true) => w,
            (_, false) => {
                crate::losses::check_class_weight_targets(&loss, &y)?;
                Some(crate::class_weight_to_sample_weight(&y, &config.class_weight)?)
            }
        };
        let (y, train_loss) = self.step_targets(y)?;
        let validates = config.validation_data.is_some() || split_off.is_some();
        self.train_state_mut("fit")?.fit_settings =
            Some(FitSettings { batch_size: config.batch_size, epochs: config.epochs, validation: validates });
        let mut train = TensorSource::new(x, Some(y), config.batch_size)?;
        if let Some(w) = w {
            train = train.with_sample_weight(w)?;
        }
        if config.shuffle {
            train = train.shuffled(self.seed);
        }
        let val_batch = config.validation_batch_size.unwrap_or(config.batch_size.max(EVAL_BATCH));
        check_batch_size(val_batch)?;
        let val_w = config.validation_sample_weight;
        let validation = match (config.validation_data.take(), split_off) {
            (Some((vx, vy)), _) => Some(self.tensor_source(vx, vy, val_w, val_batch, "validation")?),
            (None, Some((vx, vy, vw))) => {
                let (vy, vloss) = self.step_targets(vy)?;
                let mut source = TensorSource::new(vx, Some(vy), val_batch)?.shard_mode(ShardMode::Exact);
                if let Some(vw) = vw {
                    source = source.with_sample_weight(vw)?;
                }
                Some((source, vloss))
            }
            (None, None) => None,
        };
        let mut validation = validation;
        let val = validation.as_mut().map(|(s, l)| (s as &mut dyn BatchSource, l.clone()));
        self.run_fit(&mut train, train_loss, val, config)
    }

    /// `fit`'s per-sample weights on the device, checked against the `n` samples.
    fn sample_weights(&self, config: &FitConfig<'_>, n: i64) -> Result<Option<Tensor>> {
        let Some(w) = config.sample_weight else { return Ok(None) };
        if !config.class_weight.is_empty() {
            return Err(Error::invalid(
                "class_weight",
                "cannot be given together with sample_weight (as in Keras): fold the class weights into sample_weight",
            ));
        }
        let output = self.output_shape()?;
        Ok(Some(check_weights(w, n, &output, "sample_weight")?.f_to_device(self.device)?))
    }

    /// The settings of the last `fit` on tensors (also restored by
    /// [`load_model`](crate::load_model)), to resume a run with them.
    pub fn last_fit(&self) -> Option<FitSettings> {
        self.train.as_ref().and_then(|t| t.fit_settings)
    }

    /// Trains the model on batches from `source` (see [`BatchSource`]); `batch_size` and
    /// `shuffle` in `config` are the source's business and are ignored. A model without an
    /// input shape is built from the per-sample shape of the first batch of epoch 0, as Keras
    /// builds on a dataset's first batch: the source then starts epoch 0 a second time for
    /// training (give a source that cannot restart an epoch an input shape). Validation comes from `config.validation_source` or
    /// `config.validation_data`. `class_weight` weighs each batch's samples by their targets'
    /// classes; per-sample weights come with the batches (see [`Batch::with_sample_weight`]),
    /// so `sample_weight` and `validation_split`, which need the whole data, are refused, as
    /// Keras refuses them with a dataset.
    ///
    /// [`Batch::with_sample_weight`]: crate::Batch::with_sample_weight
    pub fn fit_source(&mut self, source: &mut dyn BatchSource, mut config: FitConfig<'_>) -> Result<History> {
        let loss = self.train_state("fit")?.loss.clone();
        check_source_config(&config)?;
        self.build_from_first_batch(source)?;
        let prep = self.batch_prep(loss.clone())?;
        let class_weight = std::mem::take(&mut config.class_weight);
        let mut source = prepared::Prepared::new(source, prep.clone()).with_class_weight(class_weight);
        let val_batch = config.validation_batch_size.unwrap_or(EVAL_BATCH);
        check_batch_size(val_batch)?;
        let mut tensors = match config.validation_data.take() {
            Some((vx, vy)) => {
                Some(self.tensor_source(vx, vy, config.validation_sample_weight, val_batch, "validation")?)
            }
            None => None,
        };
        let mut given = config.validation_source.take().map(|s| prepared::Prepared::new(s, prep));
        let val: Option<(&mut dyn BatchSource, crate::Loss)> = match (given.as_mut(), tensors.as_mut()) {
            (Some(s), _) => Some((s, loss.clone())),
            (None, Some((s, l))) => Some((s, l.clone())),
            (None, None) => None,
        };
        self.run_fit(&mut source, loss, val, config)
    }

    /// Builds an unbuilt model from the per-sample shape of the first batch of `source`'s
    /// epoch 0 (dropping the rest of that epoch), or from its input shape when it has one.
    fn build_from_first_batch(&mut self, source: &mut dyn BatchSource) -> Result<()> {
        if self.built.is_some() || self.input_shape.is_some() {
            return self.ensure_built("fit_source");
        }
        let first = source.epoch(0)?.next().ok_or_else(|| {
            Error::invalid("data", "the batch source yielded no batches: there is nothing to build the model from")
        })??;
        let shape = first.x()?.size();
        self.build_for(&shape[1..])
    }

    /// Checks and moves `(x, y)` to the device as an unshuffled source, with the loss it is
    /// evaluated with.
    fn tensor_source(
        &self,
        x: &Tensor,
        y: &Tensor,
        w: Option<&Tensor>,
        batch: usize,
        what: &str,
    ) -> Result<(TensorSource, crate::Loss)> {
        let loss = self.train_state("evaluate")?.loss.clone();
        let n = check_pair(x, y, what)?;
        let output = self.output_shape()?;
        let x = self.prepare_inputs(x, if what == "validation" { "validation x" } else { "x" })?;
        let y = loss.prepare_targets(y, &output)?.f_to_device(self.device)?;
        let (y, loss) = self.step_targets(y)?;
        let mut source = TensorSource::new(x, Some(y), batch)?.shard_mode(ShardMode::Exact);
        if let Some(w) = w {
            let w = check_weights(w, n, &output, "sample_weight")?;
            source = source.with_sample_weight(w.f_to_device(self.device)?)?;
        }
        Ok((source, loss))
    }

    /// The loss and metrics on `(x, y)`, in evaluation mode without gradients.
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<Logs> {
        self.evaluate_with(x, y, batch_size, Vec::new())
    }

    /// `evaluate`, calling `on_test_begin` and `on_test_end` on `callbacks`.
    pub fn evaluate_with(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        batch_size: usize,
        callbacks: Vec<&mut dyn Callback>,
    ) -> Result<Logs> {
        self.evaluate_weighted(x, y, None, batch_size, callbacks)
    }

    /// `evaluate_with` with one weight per sample (`[N]` or `[N, 1]`), as Keras's
    /// `evaluate(..., sample_weight=...)`: the loss is `sum(loss_i * w_i) / N` per batch,
    /// weighted metrics ([`Metric::weighted`](crate::Metric::weighted)) weigh samples, others
    /// ignore the weights. For per-timestep outputs `[N, T, C]` (or `[N, T, D]`) the weights may
    /// also be one per timestep, `[N, T]` or `[N, T, 1]`: the loss is then the mean over the
    /// `N * T` timesteps of `loss * w`, and a weighted mean metric `sum(value * w) / sum(w)`.
    pub fn evaluate_weighted(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        sample_weight: Option<&Tensor>,
        batch_size: usize,
        callbacks: Vec<&mut dyn Callback>,
    ) -> Result<Logs> {
        self.train_state("evaluate")?;
        check_batch_size(batch_size)?;
        self.ensure_built("evaluate")?;
        let (mut source, loss) = self.tensor_source(x, y, sample_weight, batch_size, "evaluation")?;
        self.evaluate_source_with(&mut source, loss, callbacks)
    }

    /// The loss and metrics on the batches of `source`, calling `on_test_begin` and
    /// `on_test_end` on `callbacks`.
    pub fn evaluate_source(&mut self, source: &mut dyn BatchSource, callbacks: Vec<&mut dyn Callback>) -> Result<Logs> {
        let loss = self.train_state("evaluate")?.loss.clone();
        self.ensure_built("evaluate")?;
        let mut source = prepared::Prepared::new(source, self.batch_prep(loss.clone())?);
        self.evaluate_source_with(&mut source, loss, callbacks)
    }

    fn evaluate_source_with(
        &mut self,
        source: &mut dyn BatchSource,
        loss: crate::Loss,
        mut callbacks: Vec<&mut dyn Callback>,
    ) -> Result<Logs> {
        let mut list = crate::callbacks::CallbackList { callbacks: callbacks.iter_mut().map(|c| &mut **c).collect() };
        self.stop_evaluating = false;
        list.on_test_begin(self)?;
        let logs = self.evaluate_batches(source, loss, &mut SingleProcess, &mut list)?;
        list.on_test_end(self, &logs)?;
        Ok(logs)
    }

    /// The model's outputs for `x` (probabilities for a softmax model), in evaluation mode
    /// without gradients, on the CPU.
    pub fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        self.predict_with(x, batch_size, Vec::new())
    }

    /// `predict`, calling `on_predict_begin` and `on_predict_end` on `callbacks`.
    pub fn predict_with(&mut self, x: &Tensor, batch_size: usize, callbacks: Vec<&mut dyn Callback>) -> Result<Tensor> {
        check_batch_size(batch_size)?;
        let n = x.size().first().copied().unwrap_or(0);
        if n == 0 {
            return Err(Error::invalid("data", "predict got an empty x: give at least one sample"));
        }
        self.ensure_built("predict")?;
        let x = self.prepare_inputs(x, "x")?;
        let mut source = TensorSource::new(x, None, batch_size)?;
        self.predict_source(&mut source, callbacks)
    }

    /// The model's outputs for every batch of `source` (targets, if any, are ignored),
    /// concatenated on the CPU, in the source's order: a source that shuffles
    /// ([`BatchSource::shuffles`], a `DataLoader` by default) gets a warning, since its outputs
    /// do not line up with the data set's samples.
    pub fn predict_source(
        &mut self,
        source: &mut dyn BatchSource,
        mut callbacks: Vec<&mut dyn Callback>,
    ) -> Result<Tensor> {
        self.ensure_built("predict")?;
        if source.shuffles() {
            crate::warn(
                "predict_source: the batch source shuffles its samples, so the predictions come in a shuffled order; \
                 turn shuffling off (DataLoader::shuffle(false)) to get them in the data set's order",
            );
        }
        let mut list = crate::callbacks::CallbackList { callbacks: callbacks.iter_mut().map(|c| &mut **c).collect() };
        self.stop_predicting = false;
        list.on_predict_begin(self)?;
        let out = {
            let _guard = tch::no_grad_guard();
            let mut parts = Vec::new();
            for (step, batch) in source.epoch(0)?.enumerate() {
                list.on_predict_batch_begin(self, step)?;
                let x = self.prepare_inputs(&batch?.x()?, "a batch's x")?;
                let out = self.forward_prepared(&x, false)?;
                list.on_predict_batch_end(self, step, &out)?;
                parts.push(out);
                if self.stop_predicting {
                    break;
                }
            }
            if parts.is_empty() {
                return Err(Error::invalid("data", "the batch source yielded no batches to predict"));
            }
            Tensor::f_cat(&parts, 0)?.f_to_device(tch::Device::Cpu)?
        };
        list.on_predict_end(self)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::validation_count;

    #[test]
    fn validation_split_holds_out_as_keras() {
        // Keras: n - floor(n * (1 - split)).
        assert_eq!(validation_count(10, 0.25), 3);
        assert_eq!(validation_count(10, 0.2), 2);
        assert_eq!(validation_count(60_000, 0.1), 6_000);
        assert_eq!(validation_count(7, 0.5), 4);
    }
}
