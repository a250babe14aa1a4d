//! `History`: every epoch's logs, returned by `fit`.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Callback;
use crate::{Logs, Result, Sequential};

/// The logs of each epoch of a `fit`, in order. `fit` adds one itself and returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The epoch indices recorded (from `initial_epoch`).
    pub epochs: Vec<usize>,
    /// Each epoch's logs.
    pub logs: Vec<Logs>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys recorded, in the order they first appeared (`val_*` keys of a run with
    /// `validation_freq` > 1 after the first validated epoch's).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for k in self.logs.iter().flat_map(|l| l.keys()) {
            if !keys.iter().any(|seen| seen == k) {
                keys.push(k.to_string());
            }
        }
        keys
    }

    /// One key as a series over the epochs that logged it (Keras's
    /// `history.history["loss"]`; with `validation_freq` > 1, `val_*` series are shorter).
    /// `None` when no epoch logged it.
    pub fn series(&self, key: &str) -> Option<Vec<f64>> {
        let s: Vec<f64> = self.logs.iter().filter_map(|l| l.get(key)).collect();
        (!s.is_empty()).then_some(s)
    }

    /// Every key as a series.
    pub fn as_map(&self) -> BTreeMap<String, Vec<f64>> {
        self.keys().into_iter().filter_map(|k| self.series(&k).map(|s| (k, s))).collect()
    }

    /// The last epoch's logs.
    pub fn last(&self) -> Option<&Logs> {
        self.logs.last()
    }

    /// The number of epochs recorded (Keras's `len(history.history["loss"])`): fewer than
    /// asked for when a callback stopped training early.
    pub fn len(&self) -> usize {
        self.logs.len()
    }

    /// Whether no epoch was recorded (`fit` with `epochs` not above `initial_epoch`).
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }
}

impl Callback for History {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        self.epochs.clear();
        self.logs.clear();
        Ok(())
    }

    fn on_epoch_end(&mut self, _model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        self.epochs.push(epoch);
        self.logs.push(logs.clone());
        Ok(())
    }
}
