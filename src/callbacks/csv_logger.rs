//! `CSVLogger`: one row per epoch with every log value.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Callback;
use crate::{Error, Logs, Result, Sequential};

/// Streams epoch results to a CSV file, as Keras's `CSVLogger`: a header `epoch,<keys>` and one
/// row per epoch (epochs from 0). The columns are the first epoch's keys, sorted; when none of
/// them starts with `val_` (validation comes later, e.g. with `validation_freq`), a `val_<key>`
/// column follows for each. A value missing from an epoch's logs is written `NA`, and values
/// as Python writes floats (`1.0`, `0.25`, `1e-05`, `nan`, `inf`). With `append`, rows are added
/// to an existing file and the header is written only if the file was empty.
#[derive(Debug)]
pub struct CsvLogger {
    path: PathBuf,
    /// Field separator (default `,`).
    pub separator: char,
    /// Append to an existing file instead of replacing it.
    pub append: bool,
    /// With `append`: rows of this epoch and later are dropped from the file first.
    pub resume_at: Option<usize>,
    file: Option<File>,
    keys: Option<Vec<String>>,
    header_needed: bool,
}

impl CsvLogger {
    /// Logs to `path`, replacing it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            separator: ',',
            append: false,
            resume_at: None,
            file: None,
            keys: None,
            header_needed: true,
        }
    }
    /// Sets the separator. Characters that appear in the values or the row structure (letters,
    /// digits, `.`, `-`, `+`, `_`, quotes, line breaks) are refused when training starts.
    pub fn separator(mut self, sep: char) -> Self {
        self.separator = sep;
        self
    }
    /// Appends instead of replacing.
    pub fn append(mut self, yes: bool) -> Self {
        self.append = yes;
        self
    }
    /// Appends to the log of a run resumed at `epoch`: rows for `epoch` and later already in
    /// the file (written after the checkpoint the run resumes from) are removed before training
    /// starts, so no epoch appears twice. Implies `append`.
    pub fn resume_at(mut self, epoch: usize) -> Self {
        self.append = true;
        self.resume_at = Some(epoch);
        self
    }
}

/// A float as Python's `repr` writes it (Keras writes each value with `str`).
pub(super) fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `Debug` is the shortest round-trip form with Python's switch to exponent notation
    // (below 1e-4 or from 1e16); only the exponent's sign and width differ.
    crate::logs::python_exponent(format!("{v:?}"))
}

/// Keeps the header and the rows of epochs before `epoch` in the CSV file at `path`.
fn drop_rows_from(path: &Path, separator: char, epoch: usize) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut kept = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        let row_epoch = line.split(separator).next().and_then(|f| f.parse::<usize>().ok());
        // The header (and any line that is not a row) stays; rows from `epoch` on go.
        if i == 0 && row_epoch.is_none() || row_epoch.is_some_and(|e| e < epoch) {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if kept.len() != text.len() {
        std::fs::write(path, kept).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        let sep = self.separator;
        if sep.is_alphanumeric() || (sep.is_control() && sep != '\t') || ".-+_\"'".contains(sep) {
            return Err(Error::invalid(
                "separator",
                format!("{sep:?} can appear in the logged names or numbers: use ',', ';', a tab or '|'"),
            ));
        }
        if let (true, Some(epoch)) = (self.append, self.resume_at) {
            drop_rows_from(&self.path, self.separator, epoch)?;
        }
        let existing = self.append && std::fs::metadata(&self.path).map(|m| m.len() > 0).unwrap_or(false);
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        self.file = Some(file);
        self.keys = None;
        self.header_needed = !existing;
        Ok(())
    }

    fn on_epoch_end(&mut self, _model: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        let sep = self.separator.to_string();
        let keys = self.keys.get_or_insert_with(|| {
            let mut k: Vec<String> = logs.keys().map(String::from).collect();
            k.sort();
            if !k.is_empty() && !k.iter().any(|k| k.starts_with("val_")) {
                let val: Vec<String> = k.iter().map(|k| format!("val_{k}")).collect();
                k.extend(val);
            }
            k
        });
        let mut text = String::new();
        if self.header_needed {
            text.push_str(&format!("epoch{sep}{}\n", keys.join(&sep)));
            self.header_needed = false;
        }
        let values: Vec<String> =
            keys.iter().map(|k| logs.get(k).map_or_else(|| "NA".to_string(), python_float)).collect();
        text.push_str(&format!("{epoch}{sep}{}\n", values.join(&sep)));
        if let Some(f) = self.file.as_mut() {
            f.write_all(text.as_bytes()).and_then(|_| f.flush()).map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(())
    }

    fn on_train_end(&mut self, _model: &mut Sequential, _logs: &Logs) -> Result<()> {
        self.file = None;
        Ok(())
    }
}
