//! `CSVLogger`: one row per epoch with every log value.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use super::Callback;
use crate::{Error, Logs, Result, Sequential};

/// Streams epoch results to a CSV file: a header `epoch,<keys sorted>` and one row per epoch
/// (epochs from 0, as Keras). With `append`, rows are added to an existing file and the header
/// is written only if the file was empty.
#[derive(Debug)]
pub struct CsvLogger {
    path: PathBuf,
    /// Field separator (default `,`).
    pub separator: char,
    /// Append to an existing file instead of replacing it.
    pub append: bool,
    file: Option<File>,
    keys: Option<Vec<String>>,
    header_needed: bool,
}

impl CsvLogger {
    /// Logs to `path`, replacing it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), separator: ',', append: false, file: None, keys: None, header_needed: true }
    }
    /// Sets the separator.
    pub fn separator(mut self, sep: char) -> Self {
        self.separator = sep;
        self
    }
    /// Appends instead of replacing.
    pub fn append(mut self, yes: bool) -> Self {
        self.append = yes;
        self
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
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
            k
        });
        let mut text = String::new();
        if self.header_needed {
            text.push_str(&format!("epoch{sep}{}\n", keys.join(&sep)));
            self.header_needed = false;
        }
        let values: Vec<String> =
            keys.iter().map(|k| logs.get(k).map_or_else(|| "NA".to_string(), |v| format!("{v}"))).collect();
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
