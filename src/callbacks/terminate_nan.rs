//! `TerminateOnNaN`: stops training when the loss becomes NaN or infinite.
use super::{BatchLogs, Callback};
use crate::{Result, Sequential};

/// Stops training as soon as the running loss is NaN or infinite. It reads the loss after
/// every batch, which costs a device synchronisation per step.
#[derive(Debug, Default)]
pub struct TerminateOnNaN {
    /// The batch (epoch, step) at which training was stopped.
    pub stopped_at: Option<(usize, usize)>,
    epoch: usize,
}

impl TerminateOnNaN {
    /// A new callback.
    pub fn new() -> Self {
        Self::default()
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
                model.stop_training = true;
            }
        }
        Ok(())
    }
}
