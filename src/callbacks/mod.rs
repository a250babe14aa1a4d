//! Callbacks: hooks called by `fit`, `evaluate` and `predict`.
//!
//! Call order during `fit` (each hook goes to the user's callbacks in order, then to the
//! [`History`], then to the [`ProgbarLogger`], as Keras's `CallbackList` does):
//!
//! ```text
//! set_params
//! on_train_begin                       // may restore a backup and the epoch to start at
//!   for each epoch:
//!     on_epoch_begin(epoch)
//!       for each batch: on_train_batch_begin(step), on_train_batch_end(step, batch_logs)
//!       with validation data, on epochs validated (`validation_freq`):
//!         on_test_begin
//!           for each batch: on_test_batch_begin(step), on_test_batch_end(step, batch_logs)
//!         on_test_end(val_logs)
//!     on_epoch_end(epoch, logs)        // logs hold loss, metrics and val_* entries
//!     (stop here if model.stop_training was set; it is also checked after each batch)
//! on_train_end(last epoch's logs)
//! ```
//!
//! `evaluate_with` / `evaluate_source` call the same test hooks as validation:
//!
//! ```text
//! on_test_begin
//!   for each batch: on_test_batch_begin(step), on_test_batch_end(step, batch_logs)
//!   (stop here if model.stop_evaluating was set)
//! on_test_end(logs)
//! ```
//!
//! `predict_with` / `predict_source`:
//!
//! ```text
//! on_predict_begin
//!   for each batch: on_predict_batch_begin(step), on_predict_batch_end(step, outputs)
//!   (stop here if model.stop_predicting was set: the outputs so far are returned)
//! on_predict_end
//! ```
//!
//! Every hook receives the model, so a callback can stop training
//! (`model.stop_training = true`), evaluation (`model.stop_evaluating`) or prediction
//! (`model.stop_predicting`), as Keras 3's flags of the same names; read or set the learning
//! rate; and read or change the weights. `evaluate` and `predict` clear their flag when they
//! start. Epochs and steps are counted from 0, as in Keras.
mod backup;
mod checkpoint;
mod csv_logger;
mod early_stopping;
mod history;
mod lambda;
mod lr;
mod monitor;
mod progbar;
mod tensorboard;
mod terminate_nan;

pub use backup::BackupAndRestore;
pub use checkpoint::{ModelCheckpoint, PathTemplate, SaveFreq};
pub use csv_logger::CsvLogger;
pub use early_stopping::{EarlyStopping, EarlyStoppingState};
pub use history::History;
pub use lambda::LambdaCallback;
pub use lr::{LearningRateScheduler, ReduceLROnPlateau};
pub use monitor::Mode;
pub use progbar::{progress_line, ProgbarLogger, Verbosity};
pub use tensorboard::TensorBoard;
pub use terminate_nan::TerminateOnNaN;

use tch::Tensor;

use crate::{Logs, Result, Sequential};

/// What `fit` tells callbacks before training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainParams {
    /// The epoch index `fit` stops before.
    pub epochs: usize,
    /// Training steps (batches) per epoch, when the batch source knows it.
    pub steps: Option<usize>,
    /// Verbosity requested.
    pub verbose: Verbosity,
}

/// The running training logs after a batch. Reading them copies the values from the device,
/// so a callback that only needs them now and then (like the progress bar) keeps training free
/// of host synchronisation.
pub struct BatchLogs<'a> {
    pub(crate) layout: &'a crate::logs::LogLayout,
    pub(crate) sums: &'a Tensor,
    pub(crate) count: i64,
}

impl BatchLogs<'_> {
    /// The running values over the epoch so far, weighted by batch size (loss first, then
    /// metrics under their names).
    pub fn logs(&self) -> Result<Logs> {
        let values: Vec<f64> = Vec::<f64>::try_from(self.sums.f_to_kind(tch::Kind::Double)?)?;
        Ok(self.layout.logs(&values, self.count))
    }

    /// Samples seen so far in the epoch.
    pub fn samples(&self) -> i64 {
        self.count
    }
}

/// A training hook. Every method defaults to doing nothing.
#[allow(unused_variables)]
pub trait Callback {
    /// Called once before `on_train_begin` with the run's sizes.
    fn set_params(&mut self, params: &TrainParams) {}
    /// Before the first epoch.
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// After the last epoch, with its logs.
    fn on_train_end(&mut self, model: &mut Sequential, logs: &Logs) -> Result<()> {
        Ok(())
    }
    /// At the start of an epoch (counted from 0).
    fn on_epoch_begin(&mut self, model: &mut Sequential, epoch: usize) -> Result<()> {
        Ok(())
    }
    /// At the end of an epoch, with the epoch's training and validation logs. A callback may
    /// add entries (as Keras's learning-rate callbacks add `learning_rate`); callbacks after it,
    /// the History among them, see them.
    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        Ok(())
    }
    /// Before a training batch (step counted from 0 within the epoch).
    fn on_train_batch_begin(&mut self, model: &mut Sequential, step: usize) -> Result<()> {
        Ok(())
    }
    /// After a training batch, with lazily read running logs.
    fn on_train_batch_end(&mut self, model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        Ok(())
    }
    /// Before evaluation (validation inside `fit`, or `evaluate_with`).
    fn on_test_begin(&mut self, model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// After evaluation, with its logs (without the `val_` prefix).
    fn on_test_end(&mut self, model: &mut Sequential, logs: &Logs) -> Result<()> {
        Ok(())
    }
    /// Before an evaluation batch (validation inside `fit`, or `evaluate_with`), step counted
    /// from 0 within the evaluation.
    fn on_test_batch_begin(&mut self, model: &mut Sequential, step: usize) -> Result<()> {
        Ok(())
    }
    /// After an evaluation batch, with lazily read running logs of the evaluation so far
    /// (without the `val_` prefix).
    fn on_test_batch_end(&mut self, model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        Ok(())
    }
    /// Before `predict_with`.
    fn on_predict_begin(&mut self, model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// Before a prediction batch (step counted from 0).
    fn on_predict_batch_begin(&mut self, model: &mut Sequential, step: usize) -> Result<()> {
        Ok(())
    }
    /// After a prediction batch, with the batch's outputs on the model's device (Keras's
    /// `logs["outputs"]`); reading them is the only host synchronisation.
    fn on_predict_batch_end(&mut self, model: &mut Sequential, step: usize, outputs: &Tensor) -> Result<()> {
        Ok(())
    }
    /// After `predict_with`.
    fn on_predict_end(&mut self, model: &mut Sequential) -> Result<()> {
        Ok(())
    }
}

/// Fans each hook out to a list of callbacks in order.
pub(crate) struct CallbackList<'a, 'b> {
    pub(crate) callbacks: Vec<&'b mut (dyn Callback + 'a)>,
}

macro_rules! fan_out {
    ($($name:ident($($arg:ident: $t:ty),*);)*) => {$(
        pub(crate) fn $name(&mut self, model: &mut Sequential $(, $arg: $t)*) -> Result<()> {
            for cb in self.callbacks.iter_mut() {
                cb.$name(model $(, $arg)*)?;
            }
            Ok(())
        }
    )*};
}

impl CallbackList<'_, '_> {
    pub(crate) fn set_params(&mut self, params: &TrainParams) {
        for cb in self.callbacks.iter_mut() {
            cb.set_params(params);
        }
    }

    pub(crate) fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        for cb in self.callbacks.iter_mut() {
            cb.on_epoch_end(model, epoch, logs)?;
        }
        Ok(())
    }

    fan_out! {
        on_train_begin();
        on_train_end(logs: &Logs);
        on_epoch_begin(epoch: usize);
        on_train_batch_begin(step: usize);
        on_train_batch_end(step: usize, logs: &BatchLogs<'_>);
        on_test_begin();
        on_test_end(logs: &Logs);
        on_test_batch_begin(step: usize);
        on_test_batch_end(step: usize, logs: &BatchLogs<'_>);
        on_predict_begin();
        on_predict_batch_begin(step: usize);
        on_predict_batch_end(step: usize, outputs: &Tensor);
        on_predict_end();
    }
}
