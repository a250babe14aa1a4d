//! `TerminateOnNaN`: stops training when the loss becomes NaN or infinite.
use super::{BatchLogs, Callback};
use crate::{Error, Result, Sequential};

/// Stops training as soon as the running loss is NaN or infinite. It reads the loss after
/// every batch, which costs a device synchronisation per step.
///
/// By default it stops quietly (`model.stop_training`), so every callback's `on_train_end`
/// still runs and `fit` returns the History so far. With [`raise_error`](Self::raise_error)
/// (Keras 3's `raise_error=True`), `fit` fails at once with [`Error::NonFiniteLoss`] instead,
/// without calling `on_train_end`, so no callback's end-of-training clean-up (restoring
/// weights, final saves) runs on a diverged model.
#[derive(Debug, Default)]
pub struct TerminateOnNaN {
    /// The batch (epoch, step) at which training was stopped.
    pub stopped_at: Option<(usize, usize)>,
    /// Fail with [`Error::NonFiniteLoss`] instead of stopping quietly.
    pub raise_error: bool,
    epoch: usize,
}

impl TerminateOnNaN {
    /// A new callback that stops quietly (Keras's default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a NaN or infinite loss makes `fit` return [`Error::NonFiniteLoss`] (Keras's
    /// `raise_error`).
    pub fn raise_error(mut self, yes: bool) -> Self {
        self.raise_error = yes;
        self
    }
}

impl Callback for TerminateOnNaN {
    fn on_epoch_begin(&mut self, _model: &mut Sequential, epoch: usize) -> Result<()> {
        self.epoch = epoch;
        Ok(())
    }

    fn on_train_batch_end(&mut self, model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        if model.stop_training {
            return Ok(());
        }
        if let Some(loss) = logs.logs()?.get("loss") {
            if !loss.is_finite() {
                self.stopped_at = Some((self.epoch, step));
                if self.raise_error {
                    return Err(Error::NonFiniteLoss { epoch: self.epoch, batch: step, loss });
                }
                model.stop_training = true;
            }
        }
        Ok(())
    }
}
