//! What the monitoring callbacks share: the direction of improvement and the missing-key
//! warning.
use std::collections::HashSet;
use std::sync::Mutex;

use crate::{Logs, Metric, Sequential};

/// Whether a monitored value improves by going down or up. `Auto` decides as Keras does when
/// training starts: `loss` and `val_loss` go down, and a key naming one of the model's compiled
/// metrics (without `val_`) goes that metric's way (accuracies, AUC, precision and recall up,
/// errors down), whatever its name. Any other key is judged by its suffix: `Max` for keys
/// ending in `acc`, `accuracy`, `auc`, `precision` or `recall`, `Min` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Decide from the key's name.
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

impl Mode {
    /// `Min` or `Max` for `monitor`, from the key's suffix alone (without the compiled
    /// metrics: see [`Mode::resolve_for`]).
    pub fn resolve(self, monitor: &str) -> Mode {
        match self {
            Mode::Auto if ["acc", "accuracy", "auc", "precision", "recall"].iter().any(|s| monitor.ends_with(s)) => {
                Mode::Max
            }
            Mode::Auto => Mode::Min,
            m => m,
        }
    }

    /// `Min` or `Max` for `monitor` in a model compiled with `metrics`, as Keras's `auto`
    /// mode: `loss` goes down; a metric named `monitor` without its `val_` prefix goes the
    /// metric's way; any other key is judged by [`Mode::resolve`].
    pub fn resolve_for(self, monitor: &str, metrics: &[Metric]) -> Mode {
        if self != Mode::Auto {
            return self;
        }
        let name = monitor.strip_prefix("val_").unwrap_or(monitor);
        if let Some(metric) = metrics.iter().find(|m| m.name == name) {
            return if metric.kind.higher_is_better() { Mode::Max } else { Mode::Min };
        }
        if name == "loss" {
            return Mode::Min;
        }
        self.resolve(monitor)
    }

    /// Whether `current` beats `reference` by more than `min_delta` (a non-negative margin).
    pub fn improved(self, current: f64, reference: f64, min_delta: f64) -> bool {
        match self {
            Mode::Max => current - min_delta.abs() > reference,
            _ => current + min_delta.abs() < reference,
        }
    }

    /// The worst possible value.
    pub fn worst(self) -> f64 {
        if self == Mode::Max {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    }
}

/// [`Mode::resolve_for`] with `model`'s compiled metrics (none when it is not compiled).
/// Refuses a NaN comparison value (`min_delta`, `baseline`, a threshold): every comparison
/// with it is false, so nothing would ever count as an improvement.
pub(crate) fn check_not_nan(who: &str, name: &'static str, value: f64) -> crate::Result<()> {
    if value.is_nan() {
        return Err(crate::Error::invalid(
            name,
            format!("{who}'s {name} is NaN, which no value can improve on: give a number"),
        ));
    }
    Ok(())
}

pub(crate) fn direction(mode: Mode, monitor: &str, model: &Sequential) -> Mode {
    mode.resolve_for(monitor, model.compiled().map_or(&[][..], |(_, _, metrics)| metrics))
}

static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// The monitored value, or `None` with a warning (once per callback kind and key, as Keras's
/// `warnings.warn`) when the logs lack it.
///
/// Accepted difference from Keras 3: in `Mode::Auto`, Keras raises a `ValueError` for a key
/// that is neither a loss nor one of the model's metrics (it cannot tell the direction); here
/// every monitoring callback warns and goes on (`EarlyStopping` and `ReduceLROnPlateau` ignore
/// the epoch, `ModelCheckpoint` saves anyway), as Keras does in `min`/`max` mode.
pub(crate) fn monitored(who: &str, monitor: &str, logs: &Logs) -> Option<f64> {
    monitored_or(who, monitor, logs, "")
}

/// [`monitored`], with `consequence` (what the callback does instead) added to the warning.
pub(crate) fn monitored_or(who: &str, monitor: &str, logs: &Logs, consequence: &str) -> Option<f64> {
    if let Some(v) = logs.get(monitor) {
        return Some(v);
    }
    let key = format!("{who}:{monitor}");
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.get_or_insert_with(HashSet::new).insert(key) {
        let present: Vec<&str> = logs.keys().collect();
        crate::warn(&format!(
            "{who} is conditioned on metric `{monitor}` which is not available. Available metrics are: {}{consequence}",
            present.join(",")
        ));
    }
    None
}
