//! `Logs`: the named values (loss, metrics, `val_*`, learning rate) passed to callbacks.
use std::fmt;

use serde::{Deserialize, Serialize};

/// Named values in insertion order (`loss`, then metrics, then `val_*`), as Keras shows them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Logs(Vec<(String, f64)>);

impl Logs {
    /// Empty logs.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// Sets `key`, keeping its position if present.
    pub fn insert(&mut self, key: impl Into<String>, value: f64) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Key-value pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `logs["acc"]`, as a Python dict: the value under the key.
///
/// # Panics
///
/// When the key is missing, with a message naming the keys there are (a map index panics the
/// same way); [`Logs::get`] is the form that returns `None` instead.
impl std::ops::Index<&str> for Logs {
    type Output = f64;

    fn index(&self, key: &str) -> &f64 {
        match self.0.iter().find(|(k, _)| k == key) {
            Some((_, v)) => v,
            None => {
                let keys: Vec<&str> = self.keys().collect();
                panic!("no '{key}' in these logs (keys: {}); use Logs::get for an Option", keys.join(", "))
            }
        }
    }
}

/// Keras's number format in logs (its progress bar's): 4 decimals when the magnitude is above
/// 1e-3, else Python's scientific form with a two-digit exponent (`1.2300e-05`, `0.0000e+00`),
/// and Python's `nan`, `inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        (if v > 0.0 { "inf" } else { "-inf" }).to_string()
    } else if v.abs() > 1e-3 {
        format!("{v:.4}")
    } else {
        let s = format!("{v:.4e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }
}

impl fmt::Display for Logs {
    /// `loss: 0.0604 - acc: 0.9816`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(|(k, v)| format!("{k}: {}", format_value(v))).collect();
        f.write_str(&parts.join(" - "))
    }
}

/// Where each logged value lives in the flat vector of sums a step accumulates on the device:
/// `loss * n` first, then each metric's state ([`Metric::state_len`] numbers each).
#[derive(Debug, Clone)]
pub(crate) struct LogLayout {
    metrics: Vec<crate::Metric>,
}

impl LogLayout {
    pub(crate) fn new(metrics: &[crate::Metric]) -> Self {
        Self { metrics: metrics.to_vec() }
    }

    /// Numbers in the sums vector.
    pub(crate) fn len(&self) -> usize {
        1 + self.metrics.iter().map(|m| m.state_len()).sum::<usize>()
    }

    /// The logs (`loss`, then each metric under its name) from the summed vector over `count`
    /// samples.
    pub(crate) fn logs(&self, sums: &[f64], count: i64) -> Logs {
        let mut logs = Logs::new();
        logs.insert("loss", sums.first().copied().unwrap_or(f64::NAN) / count.max(1) as f64);
        let mut offset = 1;
        for m in &self.metrics {
            let n = m.state_len();
            let state = sums.get(offset..offset + n).unwrap_or(&[]);
            logs.insert(m.name.clone(), m.result(state, count));
            offset += n;
        }
        logs
    }
}
