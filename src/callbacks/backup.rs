//! `BackupAndRestore`: a fit that was interrupted continues where its last backup left it.
use std::path::{Path, PathBuf};

use super::{BatchLogs, Callback};
use crate::layers::LayerRegistry;
use crate::{Error, Logs, Result, Sequential};

/// The backup's file name in the backup directory.
const BACKUP_FILE: &str = "latest.safetensors";

/// Backs up the training state (weights, optimizer state, epochs done) in a directory at the end
/// of each epoch (or every N batches), and restores it when a `fit` starts, so a run that was
/// interrupted (killed, out of memory, an error) continues from the last backup when the same
/// program runs again: Keras's `BackupAndRestore`.
///
/// A restored `fit` starts at the epoch after the last one backed up (`initial_epoch` is
/// overridden), with the optimizer's slots, update count and learning rate as they were; an
/// epoch's shuffle and dropout come from the model's seed and the epoch, so the continued run
/// trains as the uninterrupted one would have. A backup made mid-epoch (`save_every_batches`)
/// restores the weights of that moment and runs that epoch again from its start, as Keras does.
/// When `fit` ends normally (all epochs, or a callback's stop) the backup is deleted, unless
/// `delete_checkpoint(false)`; the directory is removed when that leaves it empty.
///
/// The model must be the one backed up (same layers, same optimizer kind): anything else, or a
/// backup that cannot be read (damaged), is an error naming the directory, to be deleted to
/// start afresh. Each backup is written to a
/// temporary file and renamed, so an interruption while saving leaves the previous backup
/// whole (what Keras's `double_checkpoint` guards against). Custom layers, losses and metrics
/// are resolved as `load_model_with` does (the process-wide registry, or [`Self::registry`]).
///
/// ```no_run
/// # fn main() -> tch_keras::Result<()> {
/// # let (mut model, x, y) = (tch_keras::Sequential::new(), tch::Tensor::zeros([1, 1], tch::kind::FLOAT_CPU), tch::Tensor::zeros([1, 1], tch::kind::FLOAT_CPU));
/// let mut backup = tch_keras::BackupAndRestore::new("/tmp/backup")?;
/// model.fit(&x, &y, tch_keras::FitConfig { epochs: 10, callbacks: vec![&mut backup], ..Default::default() })?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct BackupAndRestore {
    dir: PathBuf,
    every_batches: Option<usize>,
    delete: bool,
    registry: LayerRegistry,
    since_save: usize,
}

impl BackupAndRestore {
    /// Backs up to `backup_dir` (created when the first backup is written) at each epoch's end.
    /// The directory is the callback's own: do not share it with another run or callback.
    pub fn new(backup_dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = backup_dir.into();
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid("backup_dir", "is empty: give the directory to keep the backup in"));
        }
        if dir.exists() && !dir.is_dir() {
            return Err(Error::invalid(
                "backup_dir",
                format!("{} is a file, not a directory: give a directory to keep the backup in", dir.display()),
            ));
        }
        Ok(Self { dir, every_batches: None, delete: true, registry: LayerRegistry::new(), since_save: 0 })
    }

    /// Backs up every `n` training batches instead of at each epoch's end (Keras's integer
    /// `save_freq`). `n` must be at least 1.
    pub fn save_every_batches(mut self, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("save_every_batches", "must be at least 1 (batches between backups)"));
        }
        self.every_batches = Some(n);
        Ok(self)
    }

    /// Keeps the backup when `fit` ends (default: deleted).
    pub fn delete_checkpoint(mut self, delete: bool) -> Self {
        self.delete = delete;
        self
    }

    /// Resolves custom layers, losses and metrics in `registry` first when restoring.
    pub fn registry(mut self, registry: LayerRegistry) -> Self {
        self.registry = registry;
        self
    }

    /// The backup file: `latest.safetensors` in the backup directory.
    pub fn backup_path(&self) -> PathBuf {
        self.dir.join(BACKUP_FILE)
    }

    fn save(&mut self, model: &Sequential) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        self.since_save = 0;
        model.save(self.backup_path())
    }
}

/// Moves the backed-up weights, optimizer state and epoch count at `path` into `model`;
/// returns the epochs done.
fn restore(model: &mut Sequential, path: &Path, registry: &LayerRegistry) -> Result<usize> {
    let mismatch = |what: String| {
        Error::invalid(
            "BackupAndRestore",
            format!(
                "the backup {} {what}: it was written by another model; delete its directory to train afresh",
                path.display()
            ),
        )
    };
    let mut backup = crate::load_model_with(path, model.model_device(), registry).map_err(|e| {
        Error::invalid(
            "BackupAndRestore",
            format!("cannot restore the backup: {e}; delete its directory to train afresh (the backup is lost)"),
        )
    })?;
    let names = |m: &Sequential| -> Result<Vec<(String, Vec<i64>)>> {
        Ok(m.variables()?.iter().map(|(n, t)| (n.clone(), t.size())).collect())
    };
    if names(&backup)? != names(model)? {
        return Err(mismatch("holds other variables than this model".into()));
    }
    if backup.frozen != model.frozen {
        return Err(mismatch(format!(
            "has layers {:?} frozen where this model has {:?} (its optimizer state covers other weights)",
            backup.frozen, model.frozen
        )));
    }
    let saved = backup.train.take().ok_or_else(|| mismatch("holds no compiled state".into()))?;
    let state = model.train_state_mut("fit")?;
    let (was, is) = (saved.optimizer.config(), state.optimizer.config());
    if was.name() != is.name() || was.slot_names() != is.slot_names() {
        return Err(mismatch(format!(
            "holds the state of another optimizer ({}, slots {:?})",
            was.name(),
            was.slot_names()
        )));
    }
    state.optimizer = saved.optimizer;
    state.epochs_done = saved.epochs_done;
    model.set_weights(&backup.get_weights()?)?;
    Ok(saved.epochs_done)
}

impl Callback for BackupAndRestore {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        self.since_save = 0;
        let path = self.backup_path();
        if path.is_file() {
            let epoch = restore(model, &path, &self.registry)?;
            model.train_state_mut("fit")?.resume_epoch = Some(epoch);
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, model: &mut Sequential, _epoch: usize, _logs: &mut Logs) -> Result<()> {
        match self.every_batches {
            None => self.save(model),
            Some(_) => Ok(()),
        }
    }

    fn on_train_batch_end(&mut self, model: &mut Sequential, _step: usize, _logs: &BatchLogs<'_>) -> Result<()> {
        self.since_save += 1;
        match self.every_batches {
            Some(n) if self.since_save >= n => self.save(model),
            _ => Ok(()),
        }
    }

    fn on_train_end(&mut self, _model: &mut Sequential, _logs: &Logs) -> Result<()> {
        if !self.delete {
            return Ok(());
        }
        let path = self.backup_path();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        // Only an empty directory goes: it may have been the user's before.
        let _ = std::fs::remove_dir(&self.dir);
        Ok(())
    }
}
