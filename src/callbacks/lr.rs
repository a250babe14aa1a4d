//! Learning-rate callbacks: `LearningRateScheduler` and `ReduceLROnPlateau`.
use super::monitor::{direction, monitored, Mode};
use super::Callback;
use crate::{Logs, Result, Sequential};

/// Sets the learning rate at each epoch start to `schedule(epoch, current_rate)`.
pub struct LearningRateScheduler {
    schedule: Box<dyn FnMut(usize, f64) -> f64 + Send>,
    /// The rate set at each epoch, in order.
    pub rates: Vec<f64>,
}

impl std::fmt::Debug for LearningRateScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearningRateScheduler").field("rates", &self.rates).finish_non_exhaustive()
    }
}

impl LearningRateScheduler {
    /// A schedule from (epoch from 0, current rate) to the new rate.
    pub fn new(schedule: impl FnMut(usize, f64) -> f64 + Send + 'static) -> Self {
        Self { schedule: Box::new(schedule), rates: Vec::new() }
    }
}

impl Callback for LearningRateScheduler {
    fn on_epoch_begin(&mut self, model: &mut Sequential, epoch: usize) -> Result<()> {
        let lr = (self.schedule)(epoch, model.learning_rate()?);
        model.set_learning_rate(lr)?;
        self.rates.push(lr);
        Ok(())
    }

    /// Logs the epoch's rate as `learning_rate`, as Keras does.
    fn on_epoch_end(&mut self, model: &mut Sequential, _epoch: usize, logs: &mut Logs) -> Result<()> {
        logs.insert("learning_rate", model.learning_rate()?);
        Ok(())
    }
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved (by more than
/// `min_delta`) for `patience` epochs, then waits `cooldown` epochs, never going below
/// `min_lr`. Keras's defaults: `val_loss`, factor 0.1, patience 10, min_delta 1e-4. A
/// `factor` of 1 or more is refused when training starts, as Keras refuses it.
///
/// A `monitor` key missing from the logs warns once and leaves the rate alone, as Keras does.
/// The first monitored value is always the best so far, even a NaN (after which, as in
/// Keras, nothing compares as an improvement).
#[derive(Debug)]
pub struct ReduceLROnPlateau {
    /// The key watched.
    pub monitor: String,
    /// Multiplier applied to the rate.
    pub factor: f64,
    /// Epochs without improvement before reducing.
    pub patience: usize,
    /// Direction of improvement.
    pub mode: Mode,
    /// Minimum change that counts as an improvement.
    pub min_delta: f64,
    /// Epochs to wait after a reduction before counting again.
    pub cooldown: usize,
    /// Lower bound on the rate.
    pub min_lr: f64,
    /// The best value so far; `None` before the first monitored epoch.
    best: Option<f64>,
    wait: usize,
    cooldown_counter: usize,
    /// `mode` resolved for the model being trained (at `on_train_begin`).
    direction: Option<Mode>,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self {
            monitor: "val_loss".into(),
            factor: 0.1,
            patience: 10,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            wait: 0,
            cooldown_counter: 0,
            direction: None,
        }
    }
}

impl ReduceLROnPlateau {
    /// Watches `monitor`, multiplying by `factor` after `patience` epochs.
    pub fn new(monitor: impl Into<String>, factor: f64, patience: usize) -> Self {
        Self { monitor: monitor.into(), factor, patience, ..Default::default() }
    }
    /// Sets the cooldown.
    pub fn cooldown(mut self, epochs: usize) -> Self {
        self.cooldown = epochs;
        self
    }
    /// Sets the lower bound.
    pub fn min_lr(mut self, lr: f64) -> Self {
        self.min_lr = lr;
        self
    }
    /// Sets `min_delta`.
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d;
        self
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        // Keras refuses a factor >= 1 (it would never reduce the rate); NaN too here.
        if self.factor >= 1.0 || self.factor.is_nan() {
            return Err(crate::Error::invalid(
                "factor",
                format!(
                    "ReduceLROnPlateau does not support a factor >= 1.0, got {}: use a factor below 1",
                    self.factor
                ),
            ));
        }
        super::monitor::check_not_nan("ReduceLROnPlateau", "min_delta", self.min_delta)?;
        if self.min_lr.is_nan() || self.min_lr < 0.0 {
            return Err(crate::Error::invalid(
                "min_lr",
                format!("ReduceLROnPlateau's min_lr must be a number >= 0, got {}", self.min_lr),
            ));
        }
        // A scheduled learning rate cannot be reduced: say so now rather than at the first
        // plateau, epochs later.
        if let Some(schedule) = model.compiled().and_then(|(opt, _, _)| opt.schedule().map(|s| s.name())) {
            return Err(crate::Error::ScheduledLearningRate { schedule });
        }
        let mode = direction(self.mode, &self.monitor, model);
        self.direction = Some(mode);
        self.best = None;
        self.wait = 0;
        self.cooldown_counter = 0;
        Ok(())
    }

    fn on_epoch_end(&mut self, model: &mut Sequential, _epoch: usize, logs: &mut Logs) -> Result<()> {
        // The rate this epoch trained with, before any reduction, as Keras logs it.
        logs.insert("learning_rate", model.learning_rate()?);
        let Some(current) = monitored("ReduceLROnPlateau", &self.monitor, logs) else {
            return Ok(());
        };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        let mode = self.direction.unwrap_or_else(|| self.mode.resolve(&self.monitor));
        // Keras: no reference yet is an improvement, whatever the value.
        if self.best.is_none_or(|best| mode.improved(current, best, self.min_delta)) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let old = model.learning_rate()?;
                if old > self.min_lr {
                    model.set_learning_rate((old * self.factor).max(self.min_lr))?;
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }
}
