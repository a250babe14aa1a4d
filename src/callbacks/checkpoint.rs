//! `ModelCheckpoint`: saves the model (or its weights) at epoch ends or every N batches, to a
//! path formatted from the epoch, the batch and the logs.
use std::path::{Path, PathBuf};

use super::csv_logger::python_float;
use super::monitor::{direction, monitored_or, Mode};
use super::{BatchLogs, Callback};
use crate::{Error, Logs, Result, Sequential};

/// One piece of a path template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    /// A key and its format: `None`, `.Nf`, `Nd` or `0Nd`.
    Field(String, Option<String>),
}

/// A path template such as `ckpt/model-{epoch:02d}-{val_loss:.4f}.safetensors`: `{epoch}` is
/// the epoch counted from 1 (as Keras), `{batch}` the batch within the epoch counted from 1
/// (when saving every N batches), any other name is a log key. Formats: `.Nf`
/// (fixed decimals), `Nd` / `0Nd` (integers, zero-padded with `0`). Without a format, log
/// values are written as Python writes floats (`1.0`, `1e-05`, `nan`), as Keras's
/// `str.format` does, and `{epoch}` / `{batch}` as integers.
#[derive(Debug, Clone, PartialEq)]
pub struct PathTemplate {
    template: String,
    pieces: Vec<Piece>,
}

impl PathTemplate {
    /// Parses a template; unbalanced braces and unknown formats are errors.
    pub fn parse(template: &str) -> Result<Self> {
        let bad = |m: String| Error::invalid("filepath", format!("template '{template}': {m}"));
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').ok_or_else(|| bad("a '{' is never closed".into()))? + open;
            let field = &rest[open + 1..close];
            let (key, fmt) = match field.split_once(':') {
                Some((k, f)) => (k, Some(f.to_string())),
                None => (field, None),
            };
            if key.is_empty() {
                return Err(bad("empty field '{}'".into()));
            }
            if let Some(f) = &fmt {
                check_format(f, key).map_err(bad)?;
            }
            pieces.push(Piece::Field(key.to_string(), fmt));
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(bad("a '}' has no '{'".into()));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Self { template: template.to_string(), pieces })
    }

    /// A template with no fields: always `path`.
    pub fn literal(path: &Path) -> Self {
        let text = path.to_string_lossy().into_owned();
        Self { template: text.clone(), pieces: vec![Piece::Text(text)] }
    }

    /// Formats the path for `epoch` (from 0) and `logs`. A key absent from the logs is an error
    /// naming the keys that are present.
    pub fn format(&self, epoch: usize, logs: &Logs) -> Result<PathBuf> {
        self.format_at(epoch, None, logs)
    }

    /// Formats the path for `epoch` and, when saving by batch, `batch` (both from 0; `{batch}`
    /// is written from 1, and a `batch` key in the logs wins, as in Keras).
    pub fn format_at(&self, epoch: usize, batch: Option<usize>, logs: &Logs) -> Result<PathBuf> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(key, fmt) => {
                    let (value, integer) = match (key.as_str(), batch) {
                        ("epoch", _) => ((epoch + 1) as f64, true),
                        ("batch", Some(b)) if logs.get("batch").is_none() => ((b + 1) as f64, true),
                        _ => logs.get(key).map(|v| (v, false)).ok_or_else(|| {
                            let keys: Vec<&str> = logs.keys().collect();
                            let batch = if batch.is_some() { "batch, " } else { "" };
                            Error::invalid(
                                "filepath",
                                format!(
                                    "template '{}' names '{key}', which is not in the logs; available: epoch, {batch}{}",
                                    self.template,
                                    keys.join(", ")
                                ),
                            )
                        })?,
                    };
                    out.push_str(&format_field(value, integer, fmt.as_deref()));
                }
            }
        }
        Ok(PathBuf::from(out))
    }
}

/// The most digits a field's format may ask for (`.Nf` decimals, `Nd` width): more would not
/// fit in a file name, and Rust's formatting refuses widths beyond 65535.
const MAX_FORMAT_DIGITS: usize = 100;

/// Checks a field's format (`.Nf`, `d`, `Nd`, `0Nd`) and its number of digits.
fn check_format(f: &str, key: &str) -> std::result::Result<(), String> {
    let digits = if let Some(decimals) = f.strip_prefix('.').and_then(|d| d.strip_suffix('f')) {
        decimals.parse::<usize>().ok()
    } else if f == "d" {
        Some(0)
    } else {
        f.strip_suffix('d').and_then(|w| w.parse::<usize>().ok())
    };
    match digits {
        None => Err(format!("unsupported format '{f}' for {key}: use .Nf, d, Nd or 0Nd")),
        Some(n) if n > MAX_FORMAT_DIGITS => Err(format!(
            "format '{f}' for {key} asks for {n} digits, more than a file name holds: use at most {MAX_FORMAT_DIGITS}"
        )),
        Some(_) => Ok(()),
    }
}

/// `v` as Python's `format(v, fmt)` writes it: an `integer` (the epoch or batch) as an int, a
/// log value as a float.
fn format_field(v: f64, integer: bool, fmt: Option<&str>) -> String {
    match fmt {
        None if integer => format!("{}", v as i64),
        None => python_float(v),
        // Python spells the non-finite values in lower case whatever the format.
        Some(_) if !v.is_finite() => python_float(v),
        Some(f) if f.ends_with('f') => {
            let decimals: usize = f[1..f.len() - 1].parse().unwrap_or(4);
            format!("{v:.decimals$}")
        }
        Some(f) => {
            let width: usize = f[..f.len() - 1].parse().unwrap_or(0);
            if f.starts_with('0') {
                format!("{:0width$}", v as i64)
            } else {
                format!("{:width$}", v as i64)
            }
        }
    }
}

/// When [`ModelCheckpoint`] saves (Keras's `save_freq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveFreq {
    /// At the end of every epoch (Keras's `"epoch"`).
    #[default]
    Epoch,
    /// After every N training batches, counted across epochs (Keras's integer `save_freq`),
    /// from the running logs of the epoch so far.
    Batches(usize),
}

/// Saves the model at each epoch end, or every N batches (Keras's `ModelCheckpoint`). With
/// `save_best_only`, only when `monitor` improves on the best value seen (which starts at
/// `initial_value_threshold` if given, and is kept from one `fit` to the next, as in Keras);
/// with `save_weights_only`, only the weights ([`Sequential::save_weights`]), otherwise the
/// whole model with its optimizer state ([`Sequential::save`]), which `load_model` can resume
/// from. Files are written atomically.
///
/// With `save_best_only` and a `monitor` key that is not in the logs, it warns once and saves
/// anyway, as Keras does, rather than losing every checkpoint to a typo. (Accepted
/// difference: in `auto` mode Keras raises for a key that is not a compiled metric.)
#[derive(Debug)]
pub struct ModelCheckpoint {
    template: PathTemplate,
    /// The key compared with `save_best_only` (default `val_loss`).
    pub monitor: String,
    /// Direction of improvement.
    pub mode: Mode,
    /// Save only on improvement.
    pub save_best_only: bool,
    /// Save the weights alone.
    pub save_weights_only: bool,
    /// When to save.
    pub save_freq: SaveFreq,
    /// The value to beat before the first save (Keras's `initial_value_threshold`); read when
    /// the first `fit` starts.
    pub initial_value_threshold: Option<f64>,
    /// The best value so far, kept from one `fit` to the next; `None` before any.
    best: Option<f64>,
    /// `mode` resolved for the model being trained (at `on_train_begin`).
    direction: Option<Mode>,
    epoch: usize,
    batches_since_save: usize,
    last_batch_seen: Option<usize>,
    saved: Vec<PathBuf>,
}

impl ModelCheckpoint {
    /// Saves to `filepath` (a [`PathTemplate`]) every epoch.
    pub fn new(filepath: &str) -> Result<Self> {
        Ok(Self::with_template(PathTemplate::parse(filepath)?))
    }

    /// Saves to exactly `path` (no template: braces are part of the name).
    pub fn literal(path: impl Into<PathBuf>) -> Self {
        Self::with_template(PathTemplate::literal(&path.into()))
    }

    fn with_template(template: PathTemplate) -> Self {
        Self {
            template,
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            save_best_only: false,
            save_weights_only: false,
            save_freq: SaveFreq::Epoch,
            initial_value_threshold: None,
            best: None,
            direction: None,
            epoch: 0,
            batches_since_save: 0,
            last_batch_seen: None,
            saved: Vec::new(),
        }
    }

    /// Only a value better than `threshold` counts as an improvement at first (Keras's
    /// `initial_value_threshold`; also how a resumed run keeps its previous best).
    pub fn initial_value_threshold(mut self, threshold: f64) -> Self {
        self.initial_value_threshold = Some(threshold);
        self
    }

    /// The best monitored value so far (the initial threshold before any, else the worst
    /// possible value).
    pub fn best(&self) -> f64 {
        self.best.or(self.initial_value_threshold).unwrap_or_else(|| self.direction().worst())
    }
    /// `mode` as resolved when training started (from the key alone before that).
    fn direction(&self) -> Mode {
        self.direction.unwrap_or_else(|| self.mode.resolve(&self.monitor))
    }
    /// Sets the monitored key.
    pub fn monitor(mut self, key: impl Into<String>) -> Self {
        self.monitor = key.into();
        self
    }
    /// Sets the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Saves only on improvement.
    pub fn save_best_only(mut self, yes: bool) -> Self {
        self.save_best_only = yes;
        self
    }
    /// Saves only the weights.
    pub fn save_weights_only(mut self, yes: bool) -> Self {
        self.save_weights_only = yes;
        self
    }
    /// Saves at epoch ends or every N batches (`SaveFreq::Batches(0)` is refused when training
    /// starts).
    pub fn save_freq(mut self, freq: SaveFreq) -> Self {
        self.save_freq = freq;
        self
    }
    /// Saves after every `n` training batches, counted across epochs
    /// (`save_freq(SaveFreq::Batches(n))`, Keras's `save_freq=n`).
    pub fn save_every_batches(self, n: usize) -> Self {
        self.save_freq(SaveFreq::Batches(n))
    }
    /// The paths written, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }

    /// Saves to the path for (`epoch`, `batch`) if `save_best_only` allows it.
    fn save(&mut self, model: &Sequential, epoch: usize, batch: Option<usize>, logs: &Logs) -> Result<()> {
        let path = self.template.format_at(epoch, batch, logs)?;
        if self.save_best_only {
            let current = monitored_or("ModelCheckpoint", &self.monitor, logs, "; saving anyway");
            if let Some(current) = current {
                let mode = self.direction();
                if self.best.is_some_and(|best| !mode.improved(current, best, 0.0)) {
                    return Ok(());
                }
                self.best = Some(current);
            }
        }
        self.write(model, &path)
    }

    /// Keras's `_should_save_on_batch`: counts batches across epochs.
    fn due_on_batch(&mut self, batch: usize, every: usize) -> bool {
        let added = match self.last_batch_seen {
            Some(last) if batch > last => batch - last,
            _ => batch + 1, // a new epoch
        };
        self.batches_since_save += added;
        self.last_batch_seen = Some(batch);
        if self.batches_since_save >= every {
            self.batches_since_save = 0;
            return true;
        }
        false
    }

    fn write(&mut self, model: &Sequential, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        if self.save_weights_only {
            model.save_weights(path)?;
        } else {
            model.save(path)?;
        }
        self.saved.push(path.to_path_buf());
        Ok(())
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        if self.save_freq == SaveFreq::Batches(0) {
            return Err(Error::invalid("save_freq", "must be SaveFreq::Epoch or SaveFreq::Batches(n) with n >= 1"));
        }
        let threshold = self.initial_value_threshold.unwrap_or(0.0);
        super::monitor::check_not_nan("ModelCheckpoint", "initial_value_threshold", threshold)?;
        self.direction = Some(direction(self.mode, &self.monitor, model));
        if self.best.is_none() {
            self.best = self.initial_value_threshold;
        }
        Ok(())
    }

    fn on_epoch_begin(&mut self, _model: &mut Sequential, epoch: usize) -> Result<()> {
        self.epoch = epoch;
        Ok(())
    }

    fn on_train_batch_end(&mut self, model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        if let SaveFreq::Batches(every) = self.save_freq {
            if self.due_on_batch(step, every) {
                let logs = logs.logs()?;
                self.save(model, self.epoch, Some(step), &logs)?;
            }
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        if self.save_freq == SaveFreq::Epoch {
            self.save(model, epoch, None, logs)?;
        }
        Ok(())
    }
}
