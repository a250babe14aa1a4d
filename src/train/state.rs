//! The training state `compile` creates: optimizer (configuration, update count, slots), loss,
//! metrics and the training position. Each counter has one owner: updates are counted by the
//! optimizer state, epochs here.
use serde::{Deserialize, Serialize};

use crate::optimizers::OptimizerState;
use crate::{Loss, Metric};

/// The settings of the last `fit` on tensors, saved with the model so that a resumed run can
/// continue with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitSettings {
    /// Samples per step (per process).
    pub batch_size: usize,
    /// The epoch index training was to stop before.
    pub epochs: usize,
    /// Whether it validated each epoch.
    pub validation: bool,
}

/// What `compile` set, and what training has done since.
#[derive(Debug)]
pub(crate) struct TrainState {
    pub(crate) optimizer: OptimizerState,
    pub(crate) loss: Loss,
    pub(crate) metrics: Vec<Metric>,
    /// Epochs completed by `fit` so far: a resumed `fit` starts here.
    pub(crate) epochs_done: usize,
    /// Training steps run as CUDA graph replays.
    pub(crate) graph_replays: u64,
    /// Training steps captured in a CUDA graph.
    pub(crate) graph_captures: u64,
    /// The last `fit` on tensors.
    pub(crate) fit_settings: Option<FitSettings>,
    /// The epoch a callback asked the starting `fit` to begin at (Keras's `_initial_epoch`,
    /// which `BackupAndRestore` sets in `on_train_begin`).
    pub(crate) resume_epoch: Option<usize>,
}

impl TrainState {
    pub(crate) fn new(optimizer: OptimizerState, loss: Loss, metrics: Vec<Metric>) -> Self {
        Self {
            optimizer,
            loss,
            metrics,
            epochs_done: 0,
            graph_replays: 0,
            graph_captures: 0,
            fit_settings: None,
            resume_epoch: None,
        }
    }
}
