//! The trainer: `fit`, `evaluate` and `predict` on a [`Sequential`].
//!
//! The data moves to the model's device once; batches are taken on the device (a permutation
//! per epoch and `index_select` per batch); loss and metric sums accumulate on the device and
//! are read only at epoch end or when a callback asks (the progress bar, ten times a second).
use tch::{Device, Kind, Tensor};

use crate::callbacks::{BatchLogs, Callback, CallbackList, History, ProgbarLogger, TrainParams, Verbosity};
use crate::error::full_shape;
use crate::graph::CudaGraph;
use crate::model::Compiled;
use crate::optimizers::OptimizerState;
use crate::{Activation, Error, LayerConfig, Logs, Loss, MetricKind, Result, Sequential};

/// Eager steps before a training step is captured in a CUDA graph: they initialise what the
/// capture must not (cuBLAS and cuDNN handles and workspaces, cuDNN's algorithm choice).
const GRAPH_WARMUP_STEPS: usize = 2;

/// The state of CUDA graph replay within one `fit`.
enum GraphSlot {
    /// Every step runs eagerly.
    Off,
    /// Full-size eager steps taken so far.
    Warmup(usize),
    /// A captured step.
    Ready(GraphStep),
}

/// A training step captured in a CUDA graph, with the tensors it reads and writes.
struct GraphStep {
    graph: CudaGraph,
    /// The batch inputs the graph reads: filled before each replay.
    x: Tensor,
    y: Tensor,
    /// The batch's `[loss * n, metric sums...]`, written by each replay.
    batch: Tensor,
    /// The learning rate fixed in the capture.
    lr: f64,
    /// Addresses of the parameter buffer and optimizer state the graph updates.
    addresses: Vec<usize>,
}

/// Batch size used for validation inside `fit` unless set: evaluation has no gradients, so a
/// large batch is faster and gives the same means.
const EVAL_BATCH: usize = 1024;

/// `fit`'s settings, with Keras's defaults (batch 32, 1 epoch, shuffling, progress bar).
///
/// ```
/// # use tch::{Device, Kind, Tensor};
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
    /// Samples per gradient update; the last, partial batch is trained too.
    pub batch_size: usize,
    /// The epoch index to stop before (with `initial_epoch`, as in Keras).
    pub epochs: usize,
    /// The epoch to start at (for resuming).
    pub initial_epoch: usize,
    /// Reshuffle the training data at each epoch (seeded by the model's seed and the epoch).
    pub shuffle: bool,
    /// Data to evaluate at each epoch end; logged with the `val_` prefix.
    pub validation_data: Option<(&'a Tensor, &'a Tensor)>,
    /// Fraction of the training data, taken from the end before shuffling, held out for
    /// validation when `validation_data` is not given.
    pub validation_split: f64,
    /// Batch size for validation (default: the larger of `batch_size` and 1024).
    pub validation_batch_size: Option<usize>,
    /// The user's callbacks, called before the History and the progress bar.
    pub callbacks: Vec<&'a mut dyn Callback>,
    /// Progress display.
    pub verbose: Verbosity,
    /// Replaces the progress display made from `verbose` (e.g. to draw into a test terminal).
    pub progress: Option<ProgbarLogger>,
}

impl Default for FitConfig<'_> {
    fn default() -> Self {
        Self {
            batch_size: 32,
            epochs: 1,
            initial_epoch: 0,
            shuffle: true,
            validation_data: None,
            validation_split: 0.0,
            validation_batch_size: None,
            callbacks: Vec::new(),
            verbose: Verbosity::ProgressBar,
            progress: None,
        }
    }
}

/// The order `fit` visits `n` samples in at `epoch` with `seed`: a permutation drawn on
/// `device` (no host copy), the same for the same seed and epoch, so a resumed run visits the
/// data as the uninterrupted run would. It also seeds LibTorch for the epoch's dropout masks.
///
/// LibTorch has one random generator per process: the seeding and the draw are one step for
/// other threads using this library, but dropout masks are only reproducible when one model
/// trains at a time in the process.
pub fn epoch_permutation(n: i64, seed: u64, epoch: usize, device: Device) -> Result<Tensor> {
    let _rng = crate::rng_lock();
    tch::manual_seed(epoch_seed(seed, epoch));
    Ok(Tensor::f_randperm(n, (Kind::Int64, device))?)
}

/// Holds out the last `fraction` of `(x, y)` for validation, as Keras's `validation_split`.
#[allow(clippy::type_complexity)]
fn split_validation(x: Tensor, y: Tensor, n: i64, fraction: f64) -> Result<(Tensor, Tensor, Option<(Tensor, Tensor)>)> {
    if fraction == 0.0 {
        return Ok((x, y, None));
    }
    let n_val = ((n as f64) * fraction).floor() as i64;
    let n_train = n - n_val;
    if n_val == 0 || n_train == 0 {
        return Err(Error::invalid(
            "validation_split",
            format!("{fraction} of {n} samples leaves an empty training or validation set"),
        ));
    }
    let val = (x.f_narrow(0, n_train, n_val)?, y.f_narrow(0, n_train, n_val)?);
    Ok((x.f_narrow(0, 0, n_train)?, y.f_narrow(0, 0, n_train)?, Some(val)))
}

/// Seeds LibTorch for an epoch that is not shuffled (dropout masks).
fn seed_epoch(seed: u64, epoch: usize) {
    let _rng = crate::rng_lock();
    tch::manual_seed(epoch_seed(seed, epoch));
}

/// Seed of an epoch's shuffle and dropout masks: a resumed run draws the same as an
/// uninterrupted one.
fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    let mut z = seed.wrapping_add((epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 1) as i64
}

fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::invalid("batch_size", "must be at least 1"));
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

impl Sequential {
    fn compiled_ref(&self, action: &'static str) -> Result<&Compiled> {
        self.compiled.as_ref().ok_or(Error::NotCompiled { action })
    }

    /// Where the logged values live in the step's sums.
    fn log_layout(&self) -> Result<crate::logs::LogLayout> {
        Ok(crate::logs::LogLayout::new(&self.compiled_ref("log_layout")?.metrics))
    }

    /// Per-batch `[loss * n, metric sums...]` on the device, and the loss for backward.
    /// `loss_kind` is the compiled loss, or its sparse equivalent (see [`Self::step_targets`]).
    fn batch_sums(&self, xb: &Tensor, yb: &Tensor, train: bool, loss_kind: Loss) -> Result<(Tensor, Tensor)> {
        let c = self.compiled_ref("fit")?;
        let (raw, act) = self.forward_raw(xb, train)?;
        let logits = loss_kind.uses_logits(act);
        let pred = if logits { raw.shallow_clone() } else { act.apply(&raw)? };
        let loss = loss_kind.compute(&pred, yb, logits)?;
        let n = xb.size()[0] as f64;
        let sums = tch::no_grad(|| -> Result<Tensor> {
            let mut parts = vec![loss.f_detach()?.f_mul_scalar(n)?.f_reshape([1])?];
            for m in &c.metrics {
                parts.push(m.batch_state(&raw.f_detach()?, act, yb, loss_kind)?);
            }
            Ok(Tensor::f_cat(&parts, 0)?)
        })?;
        Ok((loss, sums))
    }

    /// The targets and loss the training step computes with. Exactly one-hot targets for a
    /// softmax model trained with categorical cross-entropy and only accuracy metrics are
    /// turned into class indices once, and the sparse loss is used: the same values and
    /// gradients (`-log p[label]`) with fewer kernels per step.
    fn step_targets(&self, y: Tensor) -> Result<(Tensor, Loss)> {
        let c = self.compiled_ref("fit")?;
        let last = self.built("fit")?.activations.last().copied().unwrap_or_default();
        let eligible = c.loss == Loss::CategoricalCrossentropy
            && last == Activation::Softmax
            && c.metrics.iter().all(|m| m.kind == MetricKind::Accuracy)
            && y.dim() == 2;
        if eligible {
            let binary = y.f_eq(0.0)?.f_logical_or(&y.f_eq(1.0)?)?.f_all()?.int64_value(&[]) == 1;
            let one_per_row = y.f_sum_dim_intlist(1, false, Kind::Float)?.f_eq(1.0)?.f_all()?.int64_value(&[]) == 1;
            if binary && one_per_row {
                return Ok((y.f_argmax(1, false)?, Loss::SparseCategoricalCrossentropy));
            }
        }
        Ok((y, c.loss))
    }

    /// Trains the model. Builds it first if needed, from the data's per-sample shape.
    /// Returns the History of this call's epochs.
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, config: FitConfig<'_>) -> Result<History> {
        let FitConfig {
            batch_size,
            epochs,
            initial_epoch,
            shuffle,
            validation_data,
            validation_split,
            validation_batch_size,
            mut callbacks,
            verbose,
            progress,
        } = config;
        let loss_kind = self.compiled_ref("fit")?.loss;
        check_batch_size(batch_size)?;
        if !(0.0..1.0).contains(&validation_split) {
            return Err(Error::invalid("validation_split", format!("must be in [0, 1), got {validation_split}")));
        }
        let n_all = check_pair(x, y, "training")?;
        if self.built.is_none() {
            let shape = self.input_shape.clone().unwrap_or_else(|| x.size()[1..].to_vec());
            self.build_for(&shape)?;
        }
        let output = self.output_shape()?;
        let x = self.prepare_inputs(x, "x")?;
        let y = loss_kind.prepare_targets(y, &output)?.f_to_device(self.device)?;

        let (x, y, validation) = match validation_data {
            Some((vx, vy)) => {
                check_pair(vx, vy, "validation")?;
                let vx = self.prepare_inputs(vx, "validation x")?;
                let vy = loss_kind.prepare_targets(vy, &output)?.f_to_device(self.device)?;
                (x, y, Some((vx, vy)))
            }
            None => split_validation(x, y, n_all, validation_split)?,
        };
        let n = x.size()[0];
        let (y, step_loss) = self.step_targets(y)?;
        let validation = match validation {
            Some((vx, vy)) => Some((vx, self.step_targets(vy)?)),
            None => None,
        };
        let val_batch = validation_batch_size.unwrap_or(batch_size.max(EVAL_BATCH));
        check_batch_size(val_batch)?;

        self.ensure_optimizer_state()?;
        let layout = self.log_layout()?;
        let steps = (n as usize).div_ceil(batch_size);
        let mut history = History::new();
        let mut progbar = match (verbose, progress) {
            (_, Some(p)) => Some(p),
            (Verbosity::Silent, None) => None,
            (v, None) => Some(ProgbarLogger::new(v)),
        };
        let mut list = CallbackList { callbacks: Vec::new() };
        for cb in callbacks.iter_mut() {
            list.callbacks.push(&mut **cb);
        }
        list.callbacks.push(&mut history);
        if let Some(p) = progbar.as_mut() {
            list.callbacks.push(p);
        }
        list.set_params(&TrainParams { epochs, steps, verbose });

        let mut graph = if self.graphs_eligible() { GraphSlot::Warmup(0) } else { GraphSlot::Off };
        self.stop_training = false;
        list.on_train_begin(self)?;
        let mut last_logs = Logs::new();
        for epoch in initial_epoch..epochs {
            list.on_epoch_begin(self, epoch)?;
            let perm = if shuffle {
                Some(epoch_permutation(n, self.seed, epoch, self.device)?)
            } else {
                seed_epoch(self.seed, epoch);
                None
            };
            let mut logs =
                self.train_epoch((&x, &y), perm.as_ref(), batch_size, step_loss, &layout, &mut list, &mut graph)?;
            if let Some((vx, (vy, val_loss))) = &validation {
                list.on_test_begin(self)?;
                let val_logs = self.evaluate_prepared(vx, vy, val_batch, *val_loss)?;
                list.on_test_end(self, &val_logs)?;
                for (k, v) in val_logs.iter() {
                    logs.insert(format!("val_{k}"), v);
                }
            }
            self.epochs_done = epoch + 1;
            list.on_epoch_end(self, epoch, &logs)?;
            last_logs = logs;
            if self.stop_training {
                break;
            }
        }
        list.on_train_end(self, &last_logs)?;
        drop(list);
        Ok(history)
    }

    /// One pass over `(x, y)` in batches (in `perm` order when shuffling), calling the batch
    /// hooks; returns the epoch's running-mean logs. Stops early when a callback sets
    /// `stop_training`.
    #[allow(clippy::too_many_arguments)]
    fn train_epoch(
        &mut self,
        (x, y): (&Tensor, &Tensor),
        perm: Option<&Tensor>,
        batch_size: usize,
        loss: Loss,
        layout: &crate::logs::LogLayout,
        list: &mut CallbackList<'_, '_>,
        graph: &mut GraphSlot,
    ) -> Result<Logs> {
        let n = x.size()[0];
        let bs = batch_size as i64;
        let mut sums = Tensor::f_zeros([layout.len() as i64], (Kind::Float, self.device))?;
        let mut count = 0i64;
        for step in 0..(n as usize).div_ceil(batch_size) {
            let start = step as i64 * bs;
            let len = bs.min(n - start);
            let idx = perm.map(|p| p.f_narrow(0, start, len)).transpose()?;
            list.on_train_batch_begin(self, step)?;
            let replayed = len == bs && self.graph_step(graph, (x, y), idx.as_ref(), (start, len), &mut sums, loss)?;
            if !replayed {
                let (xb, yb) = match &idx {
                    Some(idx) => (x.f_index_select(0, idx)?, y.f_index_select(0, idx)?),
                    None => (x.f_narrow(0, start, len)?, y.f_narrow(0, start, len)?),
                };
                self.train_step_with(&xb, &yb, &mut sums, loss)?;
            }
            count += len;
            list.on_train_batch_end(self, step, &BatchLogs { layout, sums: &sums, count })?;
            if self.stop_training {
                break;
            }
        }
        BatchLogs { layout, sums: &sums, count }.logs()
    }

    /// Whether `fit` may replay its training step from a CUDA graph.
    fn graphs_eligible(&self) -> bool {
        !self.run_eagerly
            && self.device.is_cuda()
            && crate::graph::available()
            && !self.layers.iter().any(|l| matches!(l, LayerConfig::Dropout(_)))
    }

    /// Addresses of the tensors a captured step updates in place: a capture is valid while
    /// they are the same.
    fn graph_addresses(&self) -> Result<Vec<usize>> {
        let built = self.built("fit")?;
        let c = self.compiled_ref("fit")?;
        let mut out = vec![built.flat.data_ptr() as usize];
        if let Some(state) = &c.state {
            out.extend(state.slots.iter().map(|t| t.data_ptr() as usize));
        }
        Ok(out)
    }

    /// A full-size training step through the CUDA graph: warms up, (re)captures when the
    /// learning rate or the updated tensors changed, fills the graph's inputs and replays it.
    /// Returns false when the step must run eagerly instead.
    fn graph_step(
        &mut self,
        slot: &mut GraphSlot,
        (x, y): (&Tensor, &Tensor),
        idx: Option<&Tensor>,
        (start, len): (i64, i64),
        sums: &mut Tensor,
        loss: Loss,
    ) -> Result<bool> {
        match slot {
            GraphSlot::Off => return Ok(false),
            GraphSlot::Warmup(k) if *k < GRAPH_WARMUP_STEPS => {
                *k += 1;
                return Ok(false);
            }
            _ => {}
        }
        let lr = self.learning_rate()?;
        let addresses = self.graph_addresses()?;
        let valid = matches!(slot, GraphSlot::Ready(g) if g.lr == lr && g.addresses == addresses);
        if !valid {
            // Free the old graph's memory before capturing the new one.
            *slot = GraphSlot::Off;
            match self.capture_step((x, y), len, loss, lr) {
                Ok(g) => *slot = GraphSlot::Ready(g),
                Err(e) => {
                    eprintln!("warning: training without CUDA graphs: {e}");
                    return Ok(false);
                }
            }
        }
        let GraphSlot::Ready(g) = slot else { return Ok(false) };
        match idx {
            Some(idx) => {
                let _ = x.f_index_select_out(&g.x, 0, idx)?;
                let _ = y.f_index_select_out(&g.y, 0, idx)?;
            }
            None => {
                g.x.f_copy_(&x.f_narrow(0, start, len)?)?;
                g.y.f_copy_(&y.f_narrow(0, start, len)?)?;
            }
        }
        g.graph.replay()?;
        self.optimizer_state("fit")?.iterations += 1;
        self.graph_replays += 1;
        let _ = sums.f_add_(&g.batch)?;
        Ok(true)
    }

    /// Captures one training step on `batch`-sized inputs shaped like `x` and `y` in a CUDA
    /// graph (nothing runs until the graph is replayed).
    fn capture_step(&mut self, (x, y): (&Tensor, &Tensor), batch: i64, loss_kind: Loss, lr: f64) -> Result<GraphStep> {
        let Device::Cuda(index) = self.device else {
            return Err(Error::invalid("device", "CUDA graphs need a CUDA device"));
        };
        let flat = self.built("fit")?.flat.shallow_clone();
        self.optimizer_state("fit")?.prepare_capture(&flat)?;
        let addresses = self.graph_addresses()?;
        let static_input = |t: &Tensor| -> Result<Tensor> {
            let mut size = t.size();
            size[0] = batch;
            Ok(Tensor::f_zeros(size.as_slice(), (t.kind(), t.device()))?)
        };
        let (xs, ys) = (static_input(x)?, static_input(y)?);
        let (graph, out) = CudaGraph::capture(index, || -> Result<Tensor> {
            let (out, grad) = self.batch_gradient(&xs, &ys, loss_kind)?;
            self.optimizer_state("fit")?.step_captured(&flat, &grad)?;
            Ok(out)
        })?;
        Ok(GraphStep { graph, x: xs, y: ys, batch: out, lr, addresses })
    }

    pub(crate) fn ensure_optimizer_state(&mut self) -> Result<()> {
        let flat = self.built("fit")?.flat.shallow_clone();
        let c = self.compiled.as_mut().ok_or(Error::NotCompiled { action: "fit" })?;
        if c.state.is_none() {
            c.state = Some(OptimizerState::new(c.optimizer, &flat)?);
        }
        Ok(())
    }

    /// One gradient update on a batch; adds the batch's sums to `sums` on the device.
    pub fn train_step(&mut self, xb: &Tensor, yb: &Tensor, sums: &mut Tensor) -> Result<()> {
        let loss = self.compiled_ref("train_step")?.loss;
        self.ensure_optimizer_state()?;
        self.train_step_with(xb, yb, sums, loss)
    }

    fn train_step_with(&mut self, xb: &Tensor, yb: &Tensor, sums: &mut Tensor, loss_kind: Loss) -> Result<()> {
        let (batch, grad) = self.batch_gradient(xb, yb, loss_kind)?;
        let flat = self.built("train_step")?.flat.shallow_clone();
        self.optimizer_state("train_step")?.step(&flat, &grad)?;
        let _ = sums.f_add_(&batch)?;
        Ok(())
    }

    /// The batch's sums (see [`Self::batch_sums`]) and the loss's gradient, laid end to end like
    /// the flat parameter buffer. Gradients come back as new tensors (nothing accumulates in
    /// `.grad`, so nothing needs zeroing).
    fn batch_gradient(&self, xb: &Tensor, yb: &Tensor, loss_kind: Loss) -> Result<(Tensor, Tensor)> {
        let (loss, batch) = self.batch_sums(xb, yb, true, loss_kind)?;
        let built = self.built("train_step")?;
        let grads = Tensor::f_run_backward(&[&loss], &built.trainable, false, false)?;
        Ok((batch, crate::flat::flat_gradient(&grads, &built.orders)?))
    }

    /// The optimizer state, which `fit` and `train_step` create before the first step.
    fn optimizer_state(&mut self, action: &'static str) -> Result<&mut OptimizerState> {
        self.compiled.as_mut().and_then(|c| c.state.as_mut()).ok_or(Error::NotCompiled { action })
    }

    fn evaluate_prepared(&self, x: &Tensor, y: &Tensor, batch_size: usize, loss_kind: Loss) -> Result<Logs> {
        let layout = self.log_layout()?;
        let _guard = tch::no_grad_guard();
        let n = x.size()[0];
        let bs = batch_size as i64;
        let mut sums = Tensor::f_zeros([layout.len() as i64], (Kind::Float, self.device))?;
        let mut start = 0;
        while start < n {
            let len = bs.min(n - start);
            let (_, batch) =
                self.batch_sums(&x.f_narrow(0, start, len)?, &y.f_narrow(0, start, len)?, false, loss_kind)?;
            let _ = sums.f_add_(&batch)?;
            start += len;
        }
        BatchLogs { layout: &layout, sums: &sums, count: n }.logs()
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
        mut callbacks: Vec<&mut dyn Callback>,
    ) -> Result<Logs> {
        let loss = self.compiled_ref("evaluate")?.loss;
        check_batch_size(batch_size)?;
        check_pair(x, y, "evaluation")?;
        self.ensure_built("evaluate")?;
        let output = self.output_shape()?;
        let x = self.prepare_inputs(x, "x")?;
        let y = loss.prepare_targets(y, &output)?.f_to_device(self.device)?;
        let mut list = CallbackList { callbacks: callbacks.iter_mut().map(|c| &mut **c).collect() };
        list.on_test_begin(self)?;
        let logs = self.evaluate_prepared(&x, &y, batch_size, loss)?;
        list.on_test_end(self, &logs)?;
        Ok(logs)
    }

    /// The model's outputs for `x` (probabilities for a softmax model), in evaluation mode
    /// without gradients, on the CPU.
    pub fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        self.predict_with(x, batch_size, Vec::new())
    }

    /// `predict`, calling `on_predict_begin` and `on_predict_end` on `callbacks`.
    pub fn predict_with(
        &mut self,
        x: &Tensor,
        batch_size: usize,
        mut callbacks: Vec<&mut dyn Callback>,
    ) -> Result<Tensor> {
        check_batch_size(batch_size)?;
        let n = x.size().first().copied().unwrap_or(0);
        if n == 0 {
            return Err(Error::invalid("data", "predict got an empty x: give at least one sample"));
        }
        self.ensure_built("predict")?;
        let x = self.prepare_inputs(x, "x")?;
        let mut list = CallbackList { callbacks: callbacks.iter_mut().map(|c| &mut **c).collect() };
        list.on_predict_begin(self)?;
        let out = {
            let _guard = tch::no_grad_guard();
            let bs = batch_size as i64;
            let mut parts = Vec::new();
            let mut start = 0;
            while start < n {
                let len = bs.min(n - start);
                parts.push(self.forward_t(&x.f_narrow(0, start, len)?, false)?);
                start += len;
            }
            Tensor::f_cat(&parts, 0)?.f_to_device(Device::Cpu)?
        };
        list.on_predict_end(self)?;
        Ok(out)
    }
}
