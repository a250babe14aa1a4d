//! `EarlyStopping`: stops training when a monitored value has stopped improving.
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::monitor::{direction, monitored, Mode};
use super::Callback;
use crate::{Logs, Result, Sequential};

/// Stops training when `monitor` has not improved for `patience` epochs, with Keras's
/// semantics: an improvement must beat the best by more than `min_delta`; with a `baseline`,
/// waiting only resets once the baseline is beaten; epochs before `start_from_epoch` are not
/// monitored; with `restore_best_weights`, the best epoch's weights are restored when training
/// ends, whatever ended it (this callback, another one, or the last epoch), as Keras 3 does.
/// The first monitored value is always the best so far, even a NaN (after which, as in
/// Keras, nothing compares as an improvement).
///
/// Accepted difference from Keras 3: a `monitor` key missing from the logs warns once and the
/// epoch is ignored. Keras does the same in `min`/`max` mode, but in `auto` mode it raises a
/// `ValueError` for a key that is neither a loss nor a compiled metric.
#[derive(Debug)]
pub struct EarlyStopping {
    /// The key watched (default `val_loss`).
    pub monitor: String,
    /// Minimum change that counts as an improvement.
    pub min_delta: f64,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Direction of improvement.
    pub mode: Mode,
    /// A value the monitored key must beat.
    pub baseline: Option<f64>,
    /// Restore the best epoch's weights at the end of training.
    pub restore_best_weights: bool,
    /// Epochs to wait before monitoring starts.
    pub start_from_epoch: usize,
    wait: usize,
    /// The best value so far; `None` before the first monitored epoch.
    best: Option<f64>,
    best_weights: Option<Vec<Tensor>>,
    best_epoch: Option<usize>,
    stopped_epoch: Option<usize>,
    /// `mode` resolved for the model being trained (at `on_train_begin`).
    direction: Option<Mode>,
    /// State to continue from instead of starting over at `on_train_begin`.
    resumed: Option<(EarlyStoppingState, Option<Vec<Tensor>>)>,
}

/// What [`EarlyStopping`] has counted, to continue an interrupted run exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStoppingState {
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The best value so far (`None` before any).
    pub best: Option<f64>,
    /// The best epoch so far.
    pub best_epoch: Option<usize>,
    /// The epoch training was stopped at, if it was.
    pub stopped_epoch: Option<usize>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self::new("val_loss", 0)
    }
}

impl EarlyStopping {
    /// Watches `monitor` with `patience`; Keras's defaults for the rest.
    pub fn new(monitor: impl Into<String>, patience: usize) -> Self {
        Self {
            monitor: monitor.into(),
            min_delta: 0.0,
            patience,
            mode: Mode::Auto,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            best: None,
            best_weights: None,
            best_epoch: None,
            stopped_epoch: None,
            direction: None,
            resumed: None,
        }
    }

    /// What has been counted so far.
    pub fn state(&self) -> EarlyStoppingState {
        EarlyStoppingState {
            wait: self.wait,
            best: self.best.filter(|b| b.is_finite()),
            best_epoch: self.best_epoch,
            stopped_epoch: self.stopped_epoch,
        }
    }

    /// Continues from `state` (and the best epoch's weights, for `restore_best_weights`) at the
    /// next `fit` instead of starting over: a resumed run then stops where the uninterrupted
    /// one would.
    pub fn resume_from(mut self, state: EarlyStoppingState, best_weights: Option<Vec<Tensor>>) -> Self {
        self.resumed = Some((state, best_weights));
        self
    }
    /// Sets `min_delta`.
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d;
        self
    }
    /// Sets the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets a baseline.
    pub fn baseline(mut self, b: f64) -> Self {
        self.baseline = Some(b);
        self
    }
    /// Restores the best epoch's weights at the end of training (in `on_train_end`).
    pub fn restore_best_weights(mut self, yes: bool) -> Self {
        self.restore_best_weights = yes;
        self
    }
    /// Starts monitoring at this epoch.
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }
    /// The epoch training was stopped at (from 0), if it was.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }
    /// The best epoch seen (from 0).
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }
    /// The best value seen (the mode's worst value, +/- infinity, before any).
    pub fn best(&self) -> f64 {
        self.best.unwrap_or_else(|| self.direction.unwrap_or_else(|| self.mode.resolve(&self.monitor)).worst())
    }
}

/// Refuses resumed best weights that do not fit `model`, when training starts rather than
/// when restoring them after the last epoch.
fn check_best_weights(weights: &[Tensor], model: &Sequential) -> Result<()> {
    let variables = model.variables()?;
    let fits =
        weights.len() == variables.len() && weights.iter().zip(variables).all(|(w, (_, v))| w.size() == v.size());
    if fits {
        return Ok(());
    }
    let shapes = |it: Vec<Vec<i64>>| format!("{it:?}");
    Err(crate::Error::invalid(
        "best_weights",
        format!(
            "EarlyStopping::resume_from got weights of shapes {} for a model whose variables have shapes {}: give \
             the get_weights() of this model's best epoch",
            shapes(weights.iter().map(|w| w.size()).collect()),
            shapes(variables.iter().map(|(_, v)| v.size()).collect())
        ),
    ))
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        super::monitor::check_not_nan("EarlyStopping", "min_delta", self.min_delta)?;
        super::monitor::check_not_nan("EarlyStopping", "baseline", self.baseline.unwrap_or(0.0))?;
        let mode = direction(self.mode, &self.monitor, model);
        self.direction = Some(mode);
        self.wait = 0;
        self.best = None;
        self.best_weights = None;
        self.best_epoch = None;
        self.stopped_epoch = None;
        if let Some((state, weights)) = self.resumed.take() {
            if let Some(w) = &weights {
                check_best_weights(w, model)?;
            }
            self.wait = state.wait;
            self.best = state.best;
            self.best_epoch = state.best_epoch;
            self.stopped_epoch = state.stopped_epoch;
            self.best_weights = weights;
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        let Some(current) = monitored("EarlyStopping", &self.monitor, logs) else {
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        let mode = self.direction.unwrap_or_else(|| self.mode.resolve(&self.monitor));
        if self.restore_best_weights && self.best_weights.is_none() {
            // Until something improves, the first monitored epoch's weights are the best.
            self.best_weights = Some(model.get_weights()?);
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        // Keras: no reference yet is an improvement, whatever the value.
        if self.best.is_none_or(|best| mode.improved(current, best, self.min_delta)) {
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.best_weights = Some(model.get_weights()?);
            }
            if self.baseline.is_none_or(|b| mode.improved(current, b, self.min_delta)) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            model.stop_training = true;
        }
        Ok(())
    }

    fn on_train_end(&mut self, model: &mut Sequential, _logs: &Logs) -> Result<()> {
        if let (true, Some(w)) = (self.restore_best_weights, &self.best_weights) {
            model.set_weights(w)?;
        }
        Ok(())
    }
}
