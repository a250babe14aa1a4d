//! The training loop: epochs of batches from a source, each run by a step runner, with the
//! callbacks called around them. The loop never prints: the History and the progress bar are
//! callbacks `fit` adds itself.
use tch::{Kind, Tensor};

use crate::callbacks::{BatchLogs, CallbackList, History, ProgbarLogger, TrainParams, Verbosity};
use crate::layers::LayerConfig;
use crate::logs::LogLayout;
use crate::train::reducer::GradientReducer;
use crate::train::seed::{seed_epoch, seed_epoch_at};
use crate::train::source::{Batch, BatchSource};
use crate::train::step::{EagerStep, GraphStep, StepRunner};
use crate::train::{FitConfig, SingleProcess};
use crate::{Error, Logs, Loss, Result, Sequential};

impl Sequential {
    /// The loop behind `fit` and `fit_source`.
    // One sequence (set up, callbacks' start, epochs, end) whose steps share the run's borrows.
    pub(crate) fn run_fit(
        &mut self,
        train: &mut dyn BatchSource,
        train_loss: Loss,
        mut validation: Option<(&mut dyn BatchSource, Loss)>,
        config: FitConfig<'_>,
    ) -> Result<History> {
        let FitConfig {
            epochs,
            initial_epoch,
            mut callbacks,
            verbose,
            progress,
            reducer,
            validation_freq,
            steps_per_epoch,
            ..
        } = config;
        check_loop_settings(epochs, validation_freq, steps_per_epoch)?;
        let mut single = SingleProcess;
        let reducer: &mut dyn GradientReducer = reducer.unwrap_or(&mut single);
        shard_sources(train, validation.as_mut().map(|(source, _)| &mut **source), &*reducer)?;
        let layout = self.log_layout()?;
        let mut runner = self.step_runner(train_loss, reducer);
        let (mut history, mut progbar) = (History::new(), progress_display(verbose, progress));
        let mut list = CallbackList { callbacks: callbacks.iter_mut().map(|c| &mut **c).collect() };
        list.callbacks.push(&mut history);
        list.callbacks.extend(progbar.as_mut().map(|p| p as &mut dyn crate::Callback));
        let per_pass = train.num_batches();
        list.set_params(&TrainParams { epochs, steps: steps_per_epoch.or(per_pass), verbose });
        let mut run = Run { runner: runner.as_mut(), reducer, list, layout: &layout };
        self.stop_training = false;
        self.train_state_mut("fit")?.resume_epoch = None;
        run.list.on_train_begin(self)?;
        // A callback may have restored the weights, the optimizer state and the epoch to start
        // at (BackupAndRestore), before the slots are made and the processes synced.
        let initial_epoch = self.train_state_mut("fit")?.resume_epoch.take().unwrap_or(initial_epoch);
        self.prepare_training(run.reducer)?;
        let mut pass = first_pass(initial_epoch, steps_per_epoch, per_pass);
        let mut last_logs = Logs::new();
        for epoch in initial_epoch..epochs {
            run.list.on_epoch_begin(self, epoch)?;
            seed_epoch(self.seed, epoch);
            let mut logs = self.train_epoch(train, epoch, steps_per_epoch, &mut pass, &mut run)?;
            if (epoch + 1) % validation_freq == 0 {
                if let Some((source, loss)) = validation.as_mut() {
                    self.validate_epoch(&mut **source, loss.clone(), &mut run, &mut logs)?;
                }
            }
            self.train_state_mut("fit")?.epochs_done = epoch + 1;
            run.list.on_epoch_end(self, epoch, &mut logs)?;
            last_logs = logs;
            if run.reducer.agree_to_stop(self.stop_training)? {
                self.stop_training = true;
                break;
            }
        }
        run.list.on_train_end(self, &last_logs)?;
        drop(run);
        Ok(history)
    }

    /// One epoch's training batches (all of a pass, or the next `steps_per_epoch` of the
    /// passes); returns the epoch's logs, with buffers averaged across processes.
    fn train_epoch(
        &mut self,
        train: &mut dyn BatchSource,
        epoch: usize,
        steps_per_epoch: Option<usize>,
        pass: &mut Pass,
        run: &mut Run<'_, '_, '_, '_>,
    ) -> Result<Logs> {
        let mut sums = EpochSums::new(run.layout, self.device)?;
        match steps_per_epoch {
            None => {
                let batches = train.epoch(epoch)?;
                self.train_batches(batches, usize::MAX, &mut sums, run.runner, run.reducer, &mut run.list)?;
            }
            Some(steps) => loop {
                let batches = train.epoch_from(pass.index, pass.skip)?;
                seed_epoch_at(self.seed, epoch, sums.steps);
                let left = steps - sums.steps;
                let done = self.train_batches(batches, left, &mut sums, run.runner, run.reducer, &mut run.list)?;
                let fresh = pass.skip == 0;
                pass.skip += done;
                if sums.steps == steps || self.stop_training || (done == 0 && fresh) {
                    break;
                }
                if done < left {
                    // The pass ran out: the next one (the source's next epoch) continues.
                    (pass.index, pass.skip) = (pass.index + 1, 0);
                }
            },
        }
        if sums.count == 0 {
            return Err(Error::invalid("data", format!("the batch source yielded no batches in epoch {epoch}")));
        }
        let logs = BatchLogs { layout: run.layout, sums: &sums.sums, count: sums.count }.logs()?;
        if run.reducer.world_size() > 1 {
            tch::no_grad(|| run.reducer.average_buffers(&self.buffers()?))?;
        }
        Ok(logs)
    }

    /// Evaluates the validation source and adds its logs with the `val_` prefix.
    fn validate_epoch(
        &mut self,
        source: &mut dyn BatchSource,
        loss: Loss,
        run: &mut Run<'_, '_, '_, '_>,
        logs: &mut Logs,
    ) -> Result<()> {
        self.stop_evaluating = false;
        run.list.on_test_begin(self)?;
        let val_logs = self.evaluate_batches(source, loss, run.reducer, &mut run.list)?;
        run.list.on_test_end(self, &val_logs)?;
        for (k, v) in val_logs.iter() {
            logs.insert(format!("val_{k}"), v);
        }
        Ok(())
    }

    /// Optimizer slots exist, the optimizer knows each variable's size in the flat buffer (its
    /// per-variable gradient clipping needs them), and every process starts from the same
    /// parameters. Once per fit, not per step.
    pub(super) fn prepare_training(&mut self, reducer: &mut dyn GradientReducer) -> Result<()> {
        let mut flat = self.flat("fit")?;
        let sizes: Vec<i64> = self.built("fit")?.trainable.iter().map(|t| t.numel() as i64).collect();
        let optimizer = &mut self.train_state_mut("fit")?.optimizer;
        optimizer.set_segments(sizes.into_iter());
        optimizer.ensure_slots(&flat)?;
        tch::no_grad(|| reducer.sync_parameters(&mut flat))?;
        if reducer.world_size() > 1 {
            // Frozen layers and running statistics start as rank 0's too (as DDP broadcasts
            // buffers), so no process's own values leak into the averages.
            let untrained = self.untrained()?;
            tch::no_grad(|| crate::flat::through_one_buffer(&untrained, |all| reducer.sync_parameters(all)))?;
        }
        Ok(())
    }

    /// CUDA-graph steps on CUDA (unless run eagerly, or the model or the reducer cannot be
    /// captured), eager steps otherwise.
    fn step_runner(&self, loss: Loss, reducer: &dyn GradientReducer) -> Box<dyn StepRunner> {
        // Layers that draw random numbers each step cannot be replayed from a capture.
        let dropout = self.layers.iter().any(LayerConfig::draws_random);
        match self.device {
            tch::Device::Cuda(index)
                if !self.run_eagerly && !dropout && reducer.capturable() && crate::graph::available() =>
            {
                Box::new(GraphStep::new(loss, index))
            }
            _ => Box::new(EagerStep { loss }),
        }
    }

    /// Trains on at most `limit` of `batches`, calling the batch hooks (steps numbered from
    /// `sums.steps`); returns how many it trained on. Stops early when a callback sets
    /// `stop_training`.
    fn train_batches(
        &mut self,
        batches: impl Iterator<Item = Result<Batch>>,
        limit: usize,
        sums: &mut EpochSums<'_>,
        runner: &mut dyn StepRunner,
        reducer: &mut dyn GradientReducer,
        list: &mut CallbackList<'_, '_>,
    ) -> Result<usize> {
        let world = reducer.world_size() as i64;
        let mut done = 0;
        for batch in batches.take(limit) {
            let batch = batch?;
            let step = sums.steps;
            list.on_train_batch_begin(self, step)?;
            let _ = sums.sums.f_add_(&runner.step(self, &batch, reducer)?)?;
            sums.count += batch.len() * world;
            sums.steps += 1;
            done += 1;
            list.on_train_batch_end(
                self,
                step,
                &BatchLogs { layout: sums.layout, sums: &sums.sums, count: sums.count },
            )?;
            // In data-parallel training every process must run the same steps, and a callback
            // may decide on something of its own process (a clock, a signal): a stop asked within
            // an epoch takes effect at its end, where the processes agree on it.
            if self.stop_training && world == 1 {
                break;
            }
        }
        Ok(done)
    }

    /// The loss and metrics over every batch of `source` (summed across processes), in
    /// evaluation mode without gradients, calling the test-batch hooks. Stops after the batch
    /// in which a callback sets `stop_evaluating`.
    pub(crate) fn evaluate_batches(
        &mut self,
        source: &mut dyn BatchSource,
        loss: Loss,
        reducer: &mut dyn GradientReducer,
        list: &mut CallbackList<'_, '_>,
    ) -> Result<Logs> {
        let layout = self.log_layout()?;
        let _guard = tch::no_grad_guard();
        let mut sums = Tensor::f_zeros([layout.len() as i64 + 1], (Kind::Float, self.device))?;
        let n = layout.len() as i64;
        let mut local = 0i64;
        for (step, batch) in source.epoch(0)?.enumerate() {
            let batch = batch?;
            list.on_test_batch_begin(self, step)?;
            let y = batch.y()?.ok_or_else(|| Error::invalid("data", "evaluation batches need targets"))?;
            let w = batch.sample_weight()?;
            let (_, part) = self.batch_sums(&batch.x()?, &y, w.as_ref(), false, &loss)?;
            let _ = sums.f_narrow(0, 0, n)?.f_add_(&part)?;
            let _ = sums.f_narrow(0, n, 1)?.f_add_scalar_(batch.len() as f64)?;
            local += batch.len();
            list.on_test_batch_end(self, step, &BatchLogs { layout: &layout, sums: &sums, count: local })?;
            if self.stop_evaluating {
                break;
            }
        }
        // The sample count travels with the sums, so shards of unequal size add up exactly.
        reducer.reduce_sums(&mut sums)?;
        let values = Vec::<f64>::try_from(sums.f_to_kind(Kind::Double)?)?;
        let count = values[layout.len()] as i64;
        if count == 0 {
            return Err(Error::invalid("data", "there was nothing to evaluate: the data has no batches"));
        }
        Ok(layout.logs(&values[..layout.len()], count))
    }
}

/// What the loop hands from one epoch to the next.
struct Run<'r, 'g, 'a, 'b> {
    runner: &'r mut dyn StepRunner,
    reducer: &'g mut dyn GradientReducer,
    list: CallbackList<'a, 'b>,
    layout: &'r LogLayout,
}

/// Gives each process its share of the training and validation batches.
fn shard_sources(
    train: &mut (dyn BatchSource + '_),
    validation: Option<&mut (dyn BatchSource + '_)>,
    reducer: &dyn GradientReducer,
) -> Result<()> {
    let (rank, world) = (reducer.rank(), reducer.world_size());
    train.shard(rank, world)?;
    if let Some(source) = validation {
        source.shard(rank, world)?;
    }
    Ok(())
}

/// Checks the loop's own settings.
fn check_loop_settings(epochs: usize, validation_freq: usize, steps_per_epoch: Option<usize>) -> Result<()> {
    if validation_freq == 0 {
        return Err(Error::invalid("validation_freq", "must be at least 1 (validate every N epochs)"));
    }
    if steps_per_epoch == Some(0) {
        return Err(Error::invalid("steps_per_epoch", "must be at least 1, or None for whole passes"));
    }
    if epochs as u64 > crate::saving::MAX_COUNT {
        return Err(Error::invalid("epochs", format!("{epochs} is more than a model can record; use fewer")));
    }
    Ok(())
}

/// The progress display `fit` adds: the one given, or one made from `verbose`.
fn progress_display(verbose: Verbosity, progress: Option<ProgbarLogger>) -> Option<ProgbarLogger> {
    match (verbose, progress) {
        (_, Some(p)) => Some(p),
        (Verbosity::Silent, None) => None,
        (v, None) => Some(ProgbarLogger::new(v)),
    }
}

/// Where the first epoch starts in the passes over a source. With `steps_per_epoch`, epochs
/// take the next batches of a pass, a new pass (the source's next epoch: reshuffled) starting
/// when one runs out, as Keras's epoch iterator does. With a known length the position is
/// computed from the epoch, so a resumed run takes the batches an uninterrupted one would.
fn first_pass(initial_epoch: usize, steps_per_epoch: Option<usize>, per_pass: Option<usize>) -> Pass {
    let mut pass = Pass::default();
    if let (Some(steps), Some(n)) = (steps_per_epoch, per_pass) {
        let position = initial_epoch.saturating_mul(steps);
        if let (Some(index), Some(skip)) = (position.checked_div(n), position.checked_rem(n)) {
            (pass.index, pass.skip) = (index, skip);
        }
    } else if steps_per_epoch.is_some() {
        pass.index = initial_epoch;
    }
    pass
}

/// Where `steps_per_epoch` epochs are in the passes over a source.
#[derive(Debug, Default)]
struct Pass {
    /// The source epoch the current pass is.
    index: usize,
    /// Batches of the current pass already trained on.
    skip: usize,
}

/// An epoch's running sums on the device, samples and steps so far.
struct EpochSums<'l> {
    layout: &'l LogLayout,
    sums: Tensor,
    count: i64,
    steps: usize,
}

impl<'l> EpochSums<'l> {
    fn new(layout: &'l LogLayout, device: tch::Device) -> Result<Self> {
        Ok(Self { layout, sums: Tensor::f_zeros([layout.len() as i64], (Kind::Float, device))?, count: 0, steps: 0 })
    }
}
