//! The callbacks the command line's flags ask for, as one callback whose state is saved in each
//! checkpoint, so `--resume` continues exactly: the best value `best.safetensors` was saved at,
//! early stopping's counters, and whether the run had already stopped.
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tch_keras::callbacks::{CsvLogger, EarlyStopping, EarlyStoppingState, ModelCheckpoint};
use tch_keras::{BatchLogs, Callback, Logs, Sequential, TrainParams};

/// Metadata key of the run state in a checkpoint.
const STATE_KEY: &str = "tch_keras.cli.run";

/// What a resumed run needs from the interrupted one.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RunState {
    /// The best monitored value `best.safetensors` holds.
    best: Option<f64>,
    early_stopping: Option<EarlyStoppingState>,
    /// Early stopping's patience (a resumed run keeps it unless --early-stopping is given).
    #[serde(default)]
    patience: Option<usize>,
    /// The run had stopped (early stopping or a non-finite loss).
    stopped: bool,
}

/// Checkpoints, the CSV log, early stopping and the non-finite-loss check, in that order of
/// decision; the last checkpoint is written after the others have updated their state.
#[derive(Default)]
pub struct RunCallbacks {
    early: Option<EarlyStopping>,
    patience: Option<usize>,
    best: Option<ModelCheckpoint>,
    csv: Option<CsvLogger>,
    last: Option<ModelCheckpoint>,
    /// The epoch whose loss was not finite, if any.
    pub non_finite: Option<(usize, String)>,
}

/// The flags that shape the callbacks.
pub struct Flags<'a> {
    pub checkpoint_dir: Option<&'a Path>,
    pub csv: Option<&'a Path>,
    pub early_stopping: Option<usize>,
    pub resume: bool,
    pub monitor: &'static str,
}

impl RunCallbacks {
    /// The callbacks for `flags`, continuing the state saved in `model` when resuming.
    pub fn new(flags: &Flags<'_>, model: &Sequential) -> Result<Self> {
        let state: RunState = match (flags.resume, model.metadata().get(STATE_KEY)) {
            (true, Some(json)) => serde_json::from_str(json).context("the checkpoint's run state is unreadable")?,
            _ => RunState::default(),
        };
        if state.stopped {
            bail!("this run had already stopped (early stopping or a non-finite loss): there is nothing to resume");
        }
        let mut out = RunCallbacks::default();
        if let Some(dir) = flags.checkpoint_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create the checkpoint folder {}", dir.display()))?;
            out.last = Some(ModelCheckpoint::literal(dir.join("last.safetensors")));
            let mut best =
                ModelCheckpoint::literal(dir.join("best.safetensors")).monitor(flags.monitor).save_best_only(true);
            if let Some(b) = state.best {
                best = best.initial_value_threshold(b);
            }
            out.best = Some(best);
        }
        if let Some(path) = flags.csv {
            // A resumed run appends after the rows of the epochs its checkpoint holds (rows
            // written after that checkpoint, before an interruption, are dropped).
            let csv = CsvLogger::new(path);
            out.csv = Some(if flags.resume { csv.resume_at(model.epochs_done()) } else { csv });
        }
        if let Some(patience) = flags.early_stopping.or(state.patience) {
            let mut early = EarlyStopping::new(flags.monitor, patience).restore_best_weights(true);
            if let Some(s) = state.early_stopping {
                early = early.resume_from(s, best_weights(flags.checkpoint_dir, model)?);
            }
            out.early = Some(early);
            out.patience = Some(patience);
        }
        Ok(out)
    }

    fn each(&mut self) -> impl Iterator<Item = &mut dyn Callback> {
        let early = self.early.iter_mut().map(|c| c as &mut dyn Callback);
        let best = self.best.iter_mut().map(|c| c as &mut dyn Callback);
        let csv = self.csv.iter_mut().map(|c| c as &mut dyn Callback);
        let last = self.last.iter_mut().map(|c| c as &mut dyn Callback);
        early.chain(best).chain(csv).chain(last)
    }
}

/// The best epoch's weights, from `best.safetensors`, for early stopping's restore.
fn best_weights(dir: Option<&Path>, model: &Sequential) -> Result<Option<Vec<tch::Tensor>>> {
    let Some(path) = dir.map(|d| d.join("best.safetensors")).filter(|p| p.exists()) else { return Ok(None) };
    let best = tch_keras::load_model(&path, model.model_device())
        .with_context(|| format!("could not load {} to resume early stopping", path.display()))?;
    Ok(Some(best.get_weights()?))
}

impl Callback for RunCallbacks {
    fn set_params(&mut self, params: &TrainParams) {
        self.each().for_each(|c| c.set_params(params));
    }
    fn on_train_begin(&mut self, model: &mut Sequential) -> tch_keras::Result<()> {
        self.each().try_for_each(|c| c.on_train_begin(model))
    }
    fn on_train_end(&mut self, model: &mut Sequential, logs: &Logs) -> tch_keras::Result<()> {
        self.each().try_for_each(|c| c.on_train_end(model, logs))
    }
    fn on_epoch_begin(&mut self, model: &mut Sequential, epoch: usize) -> tch_keras::Result<()> {
        self.each().try_for_each(|c| c.on_epoch_begin(model, epoch))
    }
    fn on_train_batch_end(
        &mut self,
        model: &mut Sequential,
        step: usize,
        logs: &BatchLogs<'_>,
    ) -> tch_keras::Result<()> {
        self.each().try_for_each(|c| c.on_train_batch_end(model, step, logs))
    }
    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> tch_keras::Result<()> {
        if let Some((key, _)) = logs.iter().find(|(k, v)| k.ends_with("loss") && !v.is_finite()) {
            self.non_finite = Some((epoch, key.to_string()));
            model.stop_training = true;
        }
        for c in [
            self.early.as_mut().map(|c| c as &mut dyn Callback),
            self.best.as_mut().map(|c| c as &mut dyn Callback),
            self.csv.as_mut().map(|c| c as &mut dyn Callback),
        ]
        .into_iter()
        .flatten()
        {
            c.on_epoch_end(model, epoch, logs)?;
        }
        let state = RunState {
            best: self.best.as_ref().map(ModelCheckpoint::best).filter(|b| b.is_finite()),
            early_stopping: self.early.as_ref().map(EarlyStopping::state),
            patience: self.patience,
            stopped: model.stop_training,
        };
        let json = serde_json::to_string(&state)
            .map_err(|e| tch_keras::Error::InvalidArgument { name: "run state", message: e.to_string() })?;
        model.set_metadata(STATE_KEY, json);
        match self.last.as_mut() {
            Some(last) => last.on_epoch_end(model, epoch, logs),
            None => Ok(()),
        }
    }
}
