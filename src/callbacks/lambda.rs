//! `LambdaCallback`: a callback made of closures.
use super::{BatchLogs, Callback};
use crate::{Logs, Result, Sequential};

type EpochFn<'a> = Box<dyn FnMut(&mut Sequential, usize, &mut Logs) -> Result<()> + 'a>;
type EpochBeginFn<'a> = Box<dyn FnMut(&mut Sequential, usize) -> Result<()> + 'a>;
type BatchFn<'a> = Box<dyn FnMut(&mut Sequential, usize, &BatchLogs<'_>) -> Result<()> + 'a>;
type TrainFn<'a> = Box<dyn FnMut(&mut Sequential) -> Result<()> + 'a>;
type TrainEndFn<'a> = Box<dyn FnMut(&mut Sequential, &Logs) -> Result<()> + 'a>;

/// A callback built from closures, one per hook you need (Keras's `LambdaCallback`).
///
/// ```
/// use tch_keras::callbacks::LambdaCallback;
/// let cb = LambdaCallback::new().on_epoch_end(|_model, epoch, logs| {
///     println!("epoch {epoch}: {logs}");
///     Ok(())
/// });
/// # let _ = cb;
/// ```
///
/// The closures may borrow locals (the lifetime `'a`), as Keras's lambdas see their scope:
///
/// ```
/// # use tch_keras::LambdaCallback;
/// let mut losses = Vec::new();
/// let cb = LambdaCallback::new().on_epoch_end(|_model, _epoch, logs| {
///     losses.push(logs["loss"]);
///     Ok(())
/// });
/// drop(cb);
/// println!("{losses:?}");
/// ```
#[derive(Default)]
pub struct LambdaCallback<'a> {
    train_begin: Option<TrainFn<'a>>,
    train_end: Option<TrainEndFn<'a>>,
    epoch_begin: Option<EpochBeginFn<'a>>,
    epoch_end: Option<EpochFn<'a>>,
    batch_begin: Option<EpochBeginFn<'a>>,
    batch_end: Option<BatchFn<'a>>,
}

impl<'a> LambdaCallback<'a> {
    /// A callback that does nothing until closures are attached.
    pub fn new() -> Self {
        Self::default()
    }
    /// Runs `f` at training start.
    pub fn on_train_begin(mut self, f: impl FnMut(&mut Sequential) -> Result<()> + 'a) -> Self {
        self.train_begin = Some(Box::new(f));
        self
    }
    /// Runs `f` at training end.
    pub fn on_train_end(mut self, f: impl FnMut(&mut Sequential, &Logs) -> Result<()> + 'a) -> Self {
        self.train_end = Some(Box::new(f));
        self
    }
    /// Runs `f` at each epoch start.
    pub fn on_epoch_begin(mut self, f: impl FnMut(&mut Sequential, usize) -> Result<()> + 'a) -> Self {
        self.epoch_begin = Some(Box::new(f));
        self
    }
    /// Runs `f` at each epoch end (replacing a closure set with
    /// [`on_epoch_end_mut`](Self::on_epoch_end_mut)).
    pub fn on_epoch_end(mut self, mut f: impl FnMut(&mut Sequential, usize, &Logs) -> Result<()> + 'a) -> Self {
        self.epoch_end = Some(Box::new(move |model, epoch, logs: &mut Logs| f(model, epoch, logs)));
        self
    }
    /// Runs `f` at each epoch end with the logs open for writing, as a [`Callback`]'s
    /// `on_epoch_end` has them: keys it inserts reach the callbacks after it, `History` and
    /// `CsvLogger` (replacing a closure set with [`on_epoch_end`](Self::on_epoch_end)).
    ///
    /// ```
    /// # use tch_keras::LambdaCallback;
    /// let cb = LambdaCallback::new().on_epoch_end_mut(|_model, _epoch, logs| {
    ///     let gap = logs.get("val_loss").zip(logs.get("loss")).map(|(v, l)| v - l);
    ///     if let Some(gap) = gap {
    ///         logs.insert("generalization_gap", gap);
    ///     }
    ///     Ok(())
    /// });
    /// # let _ = cb;
    /// ```
    pub fn on_epoch_end_mut(mut self, f: impl FnMut(&mut Sequential, usize, &mut Logs) -> Result<()> + 'a) -> Self {
        self.epoch_end = Some(Box::new(f));
        self
    }
    /// Runs `f` before each batch.
    pub fn on_train_batch_begin(mut self, f: impl FnMut(&mut Sequential, usize) -> Result<()> + 'a) -> Self {
        self.batch_begin = Some(Box::new(f));
        self
    }
    /// Runs `f` after each batch.
    pub fn on_train_batch_end(
        mut self,
        f: impl FnMut(&mut Sequential, usize, &BatchLogs<'_>) -> Result<()> + 'a,
    ) -> Self {
        self.batch_end = Some(Box::new(f));
        self
    }
}

impl Callback for LambdaCallback<'_> {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        self.train_begin.as_mut().map_or(Ok(()), |f| f(model))
    }
    fn on_train_end(&mut self, model: &mut Sequential, logs: &Logs) -> Result<()> {
        self.train_end.as_mut().map_or(Ok(()), |f| f(model, logs))
    }
    fn on_epoch_begin(&mut self, model: &mut Sequential, epoch: usize) -> Result<()> {
        self.epoch_begin.as_mut().map_or(Ok(()), |f| f(model, epoch))
    }
    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        self.epoch_end.as_mut().map_or(Ok(()), |f| f(model, epoch, logs))
    }
    fn on_train_batch_begin(&mut self, model: &mut Sequential, step: usize) -> Result<()> {
        self.batch_begin.as_mut().map_or(Ok(()), |f| f(model, step))
    }
    fn on_train_batch_end(&mut self, model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        self.batch_end.as_mut().map_or(Ok(()), |f| f(model, step, logs))
    }
}
