//! `BackupAndRestore`: an interrupted fit continues from its last backup, as Keras's callback.
use std::sync::Mutex;

use tch::{Device, Tensor};
use tch_keras::{
    Activation, BackupAndRestore, BatchLogs, Callback, Dense, Dropout, Error, FitConfig, Loss, Metric, Optimizer,
    Result, Sequential, Verbosity,
};

#[path = "common/rng.rs"]
mod rng;

/// LibTorch's generator is process-wide and dropout draws from it: one fit at a time here, so
/// runs compare bitwise.
static ONE_FIT: Mutex<()> = Mutex::new(());

fn data() -> (Tensor, Tensor) {
    let mut r = rng::Rng::new(7);
    let x = r.randn(&[96, 6]);
    let y = r.randint(3, &[96]);
    (x, y)
}

fn model(hidden: i64) -> Sequential {
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .seed(11)
        .input_shape([6])
        .add(Dense::new(hidden).activation(Activation::Relu))
        .add(Dropout::new(0.25))
        .add(Dense::new(3).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    m
}

fn config<'a>(epochs: usize, callbacks: Vec<&'a mut dyn Callback>) -> FitConfig<'a> {
    FitConfig { epochs, batch_size: 16, verbose: Verbosity::Silent, callbacks, ..Default::default() }
}

/// Fails at the start of epoch `epoch`, or at batch `step` of it: an interruption.
struct Interrupt {
    epoch: usize,
    step: Option<usize>,
    current: usize,
}

impl Callback for Interrupt {
    fn on_epoch_begin(&mut self, _model: &mut Sequential, epoch: usize) -> Result<()> {
        self.current = epoch;
        match (epoch == self.epoch, self.step) {
            (true, None) => Err(interrupted(format!("interrupted at epoch {epoch}"))),
            _ => Ok(()),
        }
    }
    fn on_train_batch_end(&mut self, _model: &mut Sequential, step: usize, _logs: &BatchLogs<'_>) -> Result<()> {
        match self.step {
            Some(s) if self.current == self.epoch && step == s => Err(interrupted("interrupted".into())),
            _ => Ok(()),
        }
    }
}

fn interrupted(message: String) -> Error {
    Error::InvalidArgument { name: "run", message }
}

fn weights(m: &Sequential) -> Vec<Vec<f32>> {
    m.get_weights().unwrap().iter().map(|t| Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()).collect()
}

#[test]
fn an_interrupted_fit_continues_as_the_uninterrupted_one() {
    let _one = ONE_FIT.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data();
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));

    let mut whole = model(8);
    let mut backup = BackupAndRestore::new(&a_dir).unwrap();
    let full = whole.fit(&x, &y, config(5, vec![&mut backup])).unwrap();
    assert_eq!(full.len(), 5);
    assert!(!a_dir.exists(), "a finished fit deletes its backup and the directory it made");

    // Keras's example: interrupted at epoch 3 of 5, the next run trains epochs 3 and 4 only.
    let mut first = model(8);
    let (mut backup, mut stop) =
        (BackupAndRestore::new(&b_dir).unwrap(), Interrupt { epoch: 3, step: None, current: 0 });
    let e = first.fit(&x, &y, config(5, vec![&mut backup, &mut stop])).unwrap_err();
    assert!(e.to_string().contains("interrupted at epoch 3"), "{e}");
    assert!(b_dir.join("latest.safetensors").is_file(), "the backup of epoch 2 is kept");
    drop(first);

    let mut again = model(8);
    let mut backup = BackupAndRestore::new(&b_dir).unwrap();
    let rest = again.fit(&x, &y, config(5, vec![&mut backup])).unwrap();
    assert_eq!(rest.len(), 2, "epochs 3 and 4");
    assert_eq!(again.epochs_done(), 5);
    assert_eq!(again.iterations(), whole.iterations(), "the optimizer's update count was restored");
    assert_eq!(weights(&again), weights(&whole), "same weights as the uninterrupted run, bit for bit");
    assert_eq!(rest.series("loss").unwrap(), full.series("loss").unwrap()[3..].to_vec());
    assert!(!b_dir.exists());
}

#[test]
fn a_backup_every_few_batches_reruns_the_interrupted_epoch() {
    let _one = ONE_FIT.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data();
    let dir = tempfile::tempdir().unwrap();
    let mut first = model(8);
    let mut backup = BackupAndRestore::new(dir.path()).unwrap().save_every_batches(4).unwrap();
    let mut stop = Interrupt { epoch: 1, step: Some(4), current: 0 };
    assert!(first.fit(&x, &y, config(3, vec![&mut backup, &mut stop])).is_err());
    // Six batches per epoch: backups after steps 3 (epoch 0), then 1 of epoch 1 (4 since the last).
    let saved = weights(&first);
    let again_before = tch_keras::load_model(dir.path().join("latest.safetensors"), Device::Cpu).unwrap();
    assert_eq!(again_before.epochs_done(), 1, "the backup was made during epoch 1");
    assert_eq!(again_before.iterations(), 8);
    assert_ne!(weights(&again_before), saved, "the interrupted run went on after its last backup");

    let mut again = model(8);
    let mut backup = BackupAndRestore::new(dir.path()).unwrap().save_every_batches(4).unwrap();
    let rest = again.fit(&x, &y, config(3, vec![&mut backup])).unwrap();
    assert_eq!(rest.len(), 2, "epoch 1 again from its start, then epoch 2");
    assert_eq!(again.iterations(), 8 + 12);
    // The backup goes, and the directory with it when nothing else is in it.
    assert!(!dir.path().exists());
}

#[test]
fn a_kept_backup_continues_a_longer_fit() {
    let _one = ONE_FIT.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data();
    let dir = tempfile::tempdir().unwrap();
    let mut m = model(8);
    let mut backup = BackupAndRestore::new(dir.path()).unwrap().delete_checkpoint(false);
    m.fit(&x, &y, config(2, vec![&mut backup])).unwrap();
    assert!(dir.path().join("latest.safetensors").is_file());
    let mut next = model(8);
    let mut backup = BackupAndRestore::new(dir.path()).unwrap().delete_checkpoint(false);
    assert_eq!(next.fit(&x, &y, config(2, vec![&mut backup])).unwrap().len(), 0, "nothing left to train");
    assert_eq!(weights(&next), weights(&m), "but the weights are the backup's");
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let mut backup = BackupAndRestore::new(dir.path()).unwrap();
    assert_eq!(next.fit(&x, &y, config(4, vec![&mut backup])).unwrap().len(), 2);
    assert!(!dir.path().join("latest.safetensors").exists(), "the backup is deleted at the end");
    assert!(dir.path().join("notes.txt").is_file(), "other files in the directory stay, and so does it");
}

#[test]
fn a_backup_of_another_model_is_refused() {
    let _one = ONE_FIT.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data();
    let dir = tempfile::tempdir().unwrap();
    let mut m = model(8);
    let mut backup = BackupAndRestore::new(dir.path()).unwrap().delete_checkpoint(false);
    m.fit(&x, &y, config(1, vec![&mut backup])).unwrap();

    let mut wider = model(12);
    let before = weights(&wider);
    let mut backup = BackupAndRestore::new(dir.path()).unwrap();
    let e = wider.fit(&x, &y, config(2, vec![&mut backup])).unwrap_err().to_string();
    assert!(e.contains("another model") && e.contains("delete its directory"), "{e}");
    assert_eq!(weights(&wider), before, "nothing was changed");

    let mut frozen = model(8);
    frozen.set_trainable(0, false).unwrap();
    let mut backup = BackupAndRestore::new(dir.path()).unwrap();
    let e = frozen.fit(&x, &y, config(2, vec![&mut backup])).unwrap_err().to_string();
    assert!(e.contains("frozen") && e.contains("delete its directory"), "{e}");

    let mut sgd = model(8);
    sgd.compile(Optimizer::sgd(0.1), Loss::SparseCategoricalCrossentropy, vec![]).unwrap();
    let mut backup = BackupAndRestore::new(dir.path()).unwrap();
    let e = sgd.fit(&x, &y, config(2, vec![&mut backup])).unwrap_err().to_string();
    assert!(e.contains("another optimizer (adam"), "{e}");
}

#[test]
fn bad_settings_are_typed_errors() {
    let e = BackupAndRestore::new("").unwrap_err().to_string();
    assert!(e.contains("backup_dir"), "{e}");
    let e = BackupAndRestore::new("b").unwrap().save_every_batches(0).unwrap_err().to_string();
    assert!(e.contains("at least 1"), "{e}");
}
