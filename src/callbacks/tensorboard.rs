//! `TensorBoard`: writes the training curves and weight histograms as TensorBoard event files.
use std::path::{Path, PathBuf};

use super::{BatchLogs, Callback};
use crate::tensorboard::{EventWriter, Histogram, UpdateFreq};
use crate::{Logs, Result, Sequential};

/// Buckets in each weight histogram (TensorFlow 2's default).
const HISTOGRAM_BUCKETS: usize = 30;

/// Keras's `TensorBoard` callback: event files that `tensorboard --logdir LOG_DIR` shows.
///
/// Layout, as Keras: `LOG_DIR/train/` holds `epoch_loss`, `epoch_<metric>` and
/// `epoch_learning_rate` at step = epoch (from 0), the `batch_*` scalars and the weight
/// histograms; `LOG_DIR/validation/` holds the `val_*` values without the prefix (`epoch_loss`,
/// `epoch_accuracy`, ...) and `evaluation_<name>_vs_iterations` at the optimizer step. Weight
/// histograms are tagged `<variable>/histogram` with the model's variable names
/// (`layers.0.weight/histogram`, `layers.0.bias/histogram`), written every `histogram_freq`
/// epochs (0: never). Events are buffered and flushed at each epoch end, at the end of training
/// and on drop. The batch step counts on from the optimizer's iteration count (0 for a new
/// model, as Keras; a resumed model continues its curve).
///
/// ```no_run
/// use tch_keras::tensorboard::{TensorBoard, UpdateFreq};
/// let mut tb = TensorBoard::new("logs/run1").update_freq(UpdateFreq::Batches(100)).histogram_freq(1);
/// // model.fit(&x, &y, FitConfig { callbacks: vec![&mut tb], ..Default::default() })?;
/// ```
#[derive(Debug)]
pub struct TensorBoard {
    log_dir: PathBuf,
    update_freq: UpdateFreq,
    histogram_freq: usize,
    train: Option<EventWriter>,
    validation: Option<EventWriter>,
    global_batch: i64,
}

impl TensorBoard {
    /// Logs under `log_dir` (created when training starts), epoch scalars only, no histograms.
    pub fn new(log_dir: impl Into<PathBuf>) -> Self {
        Self {
            log_dir: log_dir.into(),
            update_freq: UpdateFreq::Epoch,
            histogram_freq: 0,
            train: None,
            validation: None,
            global_batch: 0,
        }
    }

    /// Sets how often batch-level scalars are written. `Batches(0)` is taken as `Epoch`.
    pub fn update_freq(mut self, freq: UpdateFreq) -> Self {
        self.update_freq = if freq == UpdateFreq::Batches(0) { UpdateFreq::Epoch } else { freq };
        self
    }

    /// Writes weight histograms every `epochs` epochs (at epochs 0, n, 2n, ...); 0 turns them off.
    pub fn histogram_freq(mut self, epochs: usize) -> Self {
        self.histogram_freq = epochs;
        self
    }

    /// The log folder.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The training run's folder, `log_dir/train`.
    pub fn train_dir(&self) -> PathBuf {
        self.log_dir.join("train")
    }

    /// The validation run's folder, `log_dir/validation`.
    pub fn validation_dir(&self) -> PathBuf {
        self.log_dir.join("validation")
    }

    fn train_writer(&mut self) -> Result<&mut EventWriter> {
        let dir = self.train_dir();
        writer(&mut self.train, dir)
    }

    fn validation_writer(&mut self) -> Result<&mut EventWriter> {
        let dir = self.validation_dir();
        writer(&mut self.validation, dir)
    }

    fn flush(&mut self) -> Result<()> {
        for w in [self.train.as_mut(), self.validation.as_mut()].into_iter().flatten() {
            w.flush()?;
        }
        Ok(())
    }

    fn write_histograms(&mut self, model: &Sequential, epoch: usize) -> Result<()> {
        let mut histograms = Vec::new();
        for (name, t) in model.variables()? {
            let values = Vec::<f64>::try_from(t.f_detach()?.f_to_kind(tch::Kind::Double)?.f_flatten(0, -1)?)?;
            histograms.push((format!("{name}/histogram"), Histogram::from_values(&values, HISTOGRAM_BUCKETS)));
        }
        let writer = self.train_writer()?;
        for (tag, h) in &histograms {
            writer.add_histogram(tag, h, epoch as i64)?;
        }
        Ok(())
    }
}

/// The writer in `slot`, creating its file in `dir` on first use.
fn writer(slot: &mut Option<EventWriter>, dir: PathBuf) -> Result<&mut EventWriter> {
    match slot {
        Some(w) => Ok(w),
        None => Ok(slot.insert(EventWriter::create(dir)?)),
    }
}

impl Callback for TensorBoard {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        self.global_batch = model.iterations();
        self.train_writer()?;
        Ok(())
    }

    fn on_train_batch_begin(&mut self, _model: &mut Sequential, _step: usize) -> Result<()> {
        self.global_batch += 1;
        Ok(())
    }

    fn on_train_batch_end(&mut self, _model: &mut Sequential, _step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        let UpdateFreq::Batches(n) = self.update_freq else { return Ok(()) };
        if self.global_batch % n as i64 != 0 {
            return Ok(());
        }
        // The only device read: every n batches.
        let logs = logs.logs()?;
        let step = self.global_batch;
        let writer = self.train_writer()?;
        for (name, v) in logs.iter() {
            writer.add_scalar(&format!("batch_{name}"), v as f32, step)?;
        }
        Ok(())
    }

    fn on_test_end(&mut self, model: &mut Sequential, logs: &Logs) -> Result<()> {
        if model.compiled().is_none() {
            return Ok(());
        }
        let step = model.iterations();
        let writer = self.validation_writer()?;
        for (name, v) in logs.iter() {
            writer.add_scalar(&format!("evaluation_{name}_vs_iterations"), v as f32, step)?;
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        let step = epoch as i64;
        let mut train: Vec<(String, f64)> =
            logs.iter().filter(|(k, _)| !k.starts_with("val_")).map(|(k, v)| (k.to_string(), v)).collect();
        if !train.iter().any(|(k, _)| k == "learning_rate") {
            if let Ok(lr) = model.learning_rate() {
                train.push(("learning_rate".into(), lr));
            }
        }
        let writer = self.train_writer()?;
        for (name, v) in &train {
            writer.add_scalar(&format!("epoch_{name}"), *v as f32, step)?;
        }
        let val: Vec<(&str, f64)> = logs.iter().filter_map(|(k, v)| k.strip_prefix("val_").map(|k| (k, v))).collect();
        if !val.is_empty() {
            let writer = self.validation_writer()?;
            for (name, v) in val {
                writer.add_scalar(&format!("epoch_{name}"), v as f32, step)?;
            }
        }
        if self.histogram_freq > 0 && epoch % self.histogram_freq == 0 {
            self.write_histograms(model, epoch)?;
        }
        self.flush()
    }

    fn on_train_end(&mut self, _model: &mut Sequential, _logs: &Logs) -> Result<()> {
        self.flush()
    }
}
