//! The training loop: epochs of batches from a source, each run by a step runner, with the
//! callbacks called around them. The loop never prints: the History and the progress bar are
//! callbacks `fit` adds itself.
use tch::{Kind, Tensor};

use crate::callbacks::{BatchLogs, CallbackList, History, ProgbarLogger, TrainParams, Verbosity};
use crate::layers::LayerConfig;
use crate::logs::LogLayout;
use crate::train::reducer::GradientReducer;
use crate::train::seed::seed_epoch;
use crate::train::source::BatchSource;
use crate::train::step::{EagerStep, GraphStep, StepRunner};
use crate::train::{FitConfig, SingleProcess};
use crate::{Error, Logs, Loss, Result, Sequential};

impl Sequential {
    /// The loop behind `fit` and `fit_source`.
    pub(crate) fn run_fit(
        &mut self,
        train: &mut dyn BatchSource,
        train_loss: Loss,
        mut validation: Option<(&mut dyn BatchSource, Loss)>,
        config: FitConfig<'_>,
    ) -> Result<History> {
        let FitConfig { epochs, initial_epoch, mut callbacks, verbose, progress, reducer, .. } = config;
        let mut single = SingleProcess;
        let reducer: &mut dyn GradientReducer = match reducer {
            Some(r) => r,
            None => &mut single,
        };
        if epochs as u64 > crate::saving::MAX_COUNT {
            return Err(Error::invalid("epochs", format!("{epochs} is more than a model can record; use fewer")));
        }
        let (rank, world) = (reducer.rank(), reducer.world_size());
        train.shard(rank, world)?;
        if let Some((source, _)) = validation.as_mut() {
            source.shard(rank, world)?;
        }
        self.prepare_training(reducer)?;
        let layout = self.log_layout()?;
        let mut runner = self.step_runner(train_loss, reducer);
        let mut history = History::new();
        let mut progbar = match (verbose, progress) {
            (_, Some(p)) => Some(p),
            (Verbosity::Silent, None) => None,
            (v, None) => Some(ProgbarLogger::new(v)),
        };
        let mut list = CallbackList { callbacks: callbacks.iter_mut().map(|c| &mut **c).collect() };
        list.callbacks.push(&mut history);
        if let Some(p) = progbar.as_mut() {
            list.callbacks.push(p);
        }
        list.set_params(&TrainParams { epochs, steps: train.num_batches(), verbose });
        self.stop_training = false;
        list.on_train_begin(self)?;
        let mut last_logs = Logs::new();
        for epoch in initial_epoch..epochs {
            list.on_epoch_begin(self, epoch)?;
            seed_epoch(self.seed, epoch);
            let mut logs = self.train_epoch(train, epoch, runner.as_mut(), reducer, &layout, &mut list)?;
            if world > 1 {
                tch::no_grad(|| reducer.average_buffers(&self.buffers()?))?;
            }
            if let Some((source, loss)) = validation.as_mut() {
                list.on_test_begin(self)?;
                let val_logs = self.evaluate_batches(&mut **source, *loss, reducer)?;
                list.on_test_end(self, &val_logs)?;
                for (k, v) in val_logs.iter() {
                    logs.insert(format!("val_{k}"), v);
                }
            }
            self.train_state_mut("fit")?.epochs_done = epoch + 1;
            list.on_epoch_end(self, epoch, &mut logs)?;
            last_logs = logs;
            if reducer.agree_to_stop(self.stop_training)? {
                self.stop_training = true;
                break;
            }
        }
        list.on_train_end(self, &last_logs)?;
        drop(list);
        Ok(history)
    }

    /// Optimizer slots exist, and every process starts from the same parameters.
    fn prepare_training(&mut self, reducer: &mut dyn GradientReducer) -> Result<()> {
        let mut flat = self.flat("fit")?;
        self.train_state_mut("fit")?.optimizer.ensure_slots(&flat)?;
        tch::no_grad(|| reducer.sync_parameters(&mut flat))
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

    /// One pass over the source's batches, calling the batch hooks; returns the epoch's logs.
    /// Stops early when a callback sets `stop_training`.
    fn train_epoch(
        &mut self,
        source: &mut dyn BatchSource,
        epoch: usize,
        runner: &mut dyn StepRunner,
        reducer: &mut dyn GradientReducer,
        layout: &LogLayout,
        list: &mut CallbackList<'_, '_>,
    ) -> Result<Logs> {
        let mut sums = Tensor::f_zeros([layout.len() as i64], (Kind::Float, self.device))?;
        let mut count = 0i64;
        let world = reducer.world_size() as i64;
        for (step, batch) in source.epoch(epoch)?.enumerate() {
            let batch = batch?;
            list.on_train_batch_begin(self, step)?;
            let _ = sums.f_add_(&runner.step(self, &batch, reducer)?)?;
            count += batch.len() * world;
            list.on_train_batch_end(self, step, &BatchLogs { layout, sums: &sums, count })?;
            // Within an epoch a stop is taken locally: in data-parallel training the logs are
            // the same on every process, so callbacks that decide from them decide alike; the
            // processes agree at the epoch's end.
            if self.stop_training {
                break;
            }
        }
        if count == 0 {
            return Err(Error::invalid("data", format!("the batch source yielded no batches in epoch {epoch}")));
        }
        BatchLogs { layout, sums: &sums, count }.logs()
    }

    /// The loss and metrics over every batch of `source` (summed across processes), in
    /// evaluation mode without gradients.
    pub(crate) fn evaluate_batches(
        &self,
        source: &mut dyn BatchSource,
        loss: Loss,
        reducer: &mut dyn GradientReducer,
    ) -> Result<Logs> {
        let layout = self.log_layout()?;
        let _guard = tch::no_grad_guard();
        let mut sums = Tensor::f_zeros([layout.len() as i64 + 1], (Kind::Float, self.device))?;
        let n = layout.len() as i64;
        for batch in source.epoch(0)? {
            let batch = batch?;
            let y = batch.y()?.ok_or_else(|| Error::invalid("data", "evaluation batches need targets"))?;
            let (_, part) = self.batch_sums(&batch.x()?, &y, false, loss)?;
            let _ = sums.f_narrow(0, 0, n)?.f_add_(&part)?;
            let _ = sums.f_narrow(0, n, 1)?.f_add_scalar_(batch.len() as f64)?;
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
