//! TensorBoard event files: the `Event` protos, the TFRecord framing with masked CRC-32C, a
//! buffered [`EventWriter`] and a verifying [`read_events`].
//!
//! A file is a sequence of records, each `u64 length (little-endian)`, `u32 masked CRC-32C of the
//! length`, `length bytes of data`, `u32 masked CRC-32C of the data`; each record's data is one
//! serialized `Event`. The first event carries `file_version = "brain.Event:2"`, as TensorFlow
//! and TensorBoard's own writers do. The proto structs below are hand-written `prost` messages
//! with the field numbers of TensorFlow's `event.proto`, `summary.proto` and `histogram.proto`.
//!
//! ```
//! use tch_keras::tensorboard::{read_events, EventWriter, Histogram};
//!
//! let dir = tempfile::tempdir()?;
//! let mut writer = EventWriter::create(dir.path())?;
//! writer.add_scalar("epoch_loss", 0.25, 0)?;
//! writer.add_histogram("layers.0.weight/histogram", &Histogram::from_values(&[0.5, -1.0, 2.0], 30), 0)?;
//! writer.flush()?;
//! let events = read_events(writer.path())?;
//! assert_eq!(events[0].file_version(), Some("brain.Event:2"));
//! assert_eq!(events[1].scalars(), vec![("epoch_loss".to_string(), 0.25)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

pub use crate::callbacks::TensorBoard;
use crate::{Error, Result};

/// How often the [`TensorBoard`] callback writes batch-level scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateFreq {
    /// Only epoch-level scalars (Keras's `update_freq="epoch"`, the default).
    #[default]
    Epoch,
    /// Also `batch_*` scalars (the epoch's running means so far) every N training batches, at
    /// the global batch step (Keras's `update_freq=N`). Each write reads the logs from the
    /// device, so N sets how often training waits for it.
    Batches(usize),
}

impl std::str::FromStr for UpdateFreq {
    type Err = Error;

    /// Keras's spellings: `epoch`, `batch` (every batch), or a number of batches (`0` is `epoch`).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "epoch" | "0" => Ok(UpdateFreq::Epoch),
            "batch" => Ok(UpdateFreq::Batches(1)),
            n => n.parse().map(UpdateFreq::Batches).map_err(|_| Error::Parse {
                what: "update_freq",
                value: s.to_string(),
                expected: "epoch, batch, or a number of batches such as 100".into(),
            }),
        }
    }
}

/// The `file_version` of the first event in every file, as TensorFlow writes it.
pub const FILE_VERSION: &str = "brain.Event:2";

/// TensorFlow's `Event` (`tensorflow/core/util/event.proto`), with the fields tch-keras writes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step (epoch or batch) the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event holds.
    #[prost(oneof = "What", tags = "3, 5")]
    pub what: Option<What>,
}

/// The payload of an [`Event`] (the proto's `oneof what`).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The file format version; the first event of a file.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Scalar and histogram values.
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// TensorFlow's `Summary`: a list of tagged values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// TensorFlow's `Summary.Value`: one tagged scalar or histogram.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    /// The name TensorBoard shows, such as `epoch_loss`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The value.
    #[prost(oneof = "Value", tags = "2, 5")]
    pub value: Option<Value>,
}

/// The value of a [`SummaryValue`] (the proto's `oneof value`).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Value {
    /// A scalar (`simple_value`, float32).
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    /// A histogram (`histo`).
    #[prost(message, tag = "5")]
    Histo(Histogram),
}

/// TensorFlow's `HistogramProto`. Bucket `i` counts the values in
/// `[bucket_limit[i - 1], bucket_limit[i])`, the first bucket starting at `min`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Smallest value.
    #[prost(double, tag = "1")]
    pub min: f64,
    /// Largest value.
    #[prost(double, tag = "2")]
    pub max: f64,
    /// Number of values.
    #[prost(double, tag = "3")]
    pub num: f64,
    /// Sum of the values.
    #[prost(double, tag = "4")]
    pub sum: f64,
    /// Sum of the squared values.
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    /// Right edge of each bucket.
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    /// Count in each bucket.
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// The most buckets [`Histogram::from_values`] makes (TensorBoard's own histograms have 30).
pub const MAX_HISTOGRAM_BUCKETS: usize = 10_000;

impl Histogram {
    /// A histogram of `values` in `buckets` equal-width buckets from the smallest to the largest
    /// finite value (one bucket when they are all equal; none when there is no finite value).
    /// Non-finite values are left out, as TensorBoard cannot draw them. At most
    /// [`MAX_HISTOGRAM_BUCKETS`] buckets are made, however many are asked for.
    pub fn from_values(values: &[f64], buckets: usize) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let mut h = Histogram { num: finite.len() as f64, ..Default::default() };
        if finite.is_empty() {
            return h;
        }
        h.min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        h.max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        h.sum = finite.iter().sum();
        h.sum_squares = finite.iter().map(|v| v * v).sum();
        let n = if h.max > h.min { buckets.clamp(1, MAX_HISTOGRAM_BUCKETS) } else { 1 };
        let width = (h.max - h.min) / n as f64;
        h.bucket_limit = (1..=n).map(|i| if i == n { h.max } else { h.min + width * i as f64 }).collect();
        h.bucket = vec![0.0; n];
        for v in finite {
            let i = if width > 0.0 { (((v - h.min) / width) as usize).min(n - 1) } else { 0 };
            h.bucket[i] += 1.0;
        }
        h
    }
}

impl Event {
    /// The file version, for the first event of a file.
    pub fn file_version(&self) -> Option<&str> {
        match &self.what {
            Some(What::FileVersion(v)) => Some(v),
            _ => None,
        }
    }

    /// The event's scalar values as `(tag, value)`.
    pub fn scalars(&self) -> Vec<(String, f32)> {
        self.values()
            .filter_map(|v| match v.value {
                Some(Value::SimpleValue(x)) => Some((v.tag.clone(), x)),
                _ => None,
            })
            .collect()
    }

    /// The event's histograms as `(tag, histogram)`.
    pub fn histograms(&self) -> Vec<(String, &Histogram)> {
        self.values()
            .filter_map(|v| match &v.value {
                Some(Value::Histo(h)) => Some((v.tag.clone(), h)),
                _ => None,
            })
            .collect()
    }

    fn values(&self) -> impl Iterator<Item = &SummaryValue> {
        match &self.what {
            Some(What::Summary(s)) => s.value.iter(),
            _ => [].iter(),
        }
    }
}

/// CRC-32C masked as TFRecord stores it: rotated right by 15 bits plus `0xa282ead8`.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: length, its masked CRC, the data, its masked CRC.
pub fn frame_record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

/// Reads every event of a file, checking each record's two CRCs; a truncated or corrupted record
/// is an [`Error::EventFile`] naming its offset.
pub fn read_events(path: impl AsRef<Path>) -> Result<Vec<Event>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |offset: usize, message: String| Error::EventFile {
        path: path.to_path_buf(),
        message: format!("record at byte {offset}: {message}"),
    };
    let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let mut events = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at < 12 {
            return Err(bad(at, "the file ends inside the record's header (truncated file)".into()));
        }
        let len_bytes = &bytes[at..at + 8];
        if masked_crc32c(len_bytes) != word(at + 8) {
            return Err(bad(at, "the length's CRC does not match (corrupted file)".into()));
        }
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap_or_default());
        let start = at + 12;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e.checked_add(4).is_some_and(|e4| e4 <= bytes.len()));
        let Some(end) = end else {
            return Err(bad(at, format!("the file ends inside the record's {len} data bytes (truncated file)")));
        };
        let data = &bytes[start..end];
        if masked_crc32c(data) != word(end) {
            return Err(bad(at, "the data's CRC does not match (corrupted file)".into()));
        }
        let event = Event::decode(data).map_err(|e| bad(at, format!("not an Event proto: {e}")))?;
        events.push(event);
        at = end + 4;
    }
    Ok(events)
}

/// The `events.out.tfevents.*` files in `dir`, sorted by name.
pub fn event_files(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("events.out.tfevents.")))
        .collect();
    files.sort();
    Ok(files)
}

/// Writes events to a new `events.out.tfevents.<secs>.<hostname>.<pid>.<n>` file. Writes are
/// buffered; [`flush`](Self::flush) (the TensorBoard callback calls it at each epoch end) and
/// drop write them out.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String =
        raw.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

impl EventWriter {
    /// Creates `dir` (and its parents) and a new event file in it, starting with the file-version
    /// event.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let secs = wall_time() as u64;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("events.out.tfevents.{secs}.{}.{}.{n}", hostname(), std::process::id()));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = EventWriter { path, file: BufWriter::new(file) };
        writer.add_event(&Event {
            wall_time: wall_time(),
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.into())),
        })?;
        writer.flush()?;
        Ok(writer)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event (buffered).
    pub fn add_event(&mut self, event: &Event) -> Result<()> {
        let record = frame_record(&event.encode_to_vec());
        self.file.write_all(&record).map_err(|e| Error::io(&self.path, e))
    }

    /// Appends a summary of tagged values at `step`, stamped with the current time.
    pub fn add_summary(&mut self, values: Vec<SummaryValue>, step: i64) -> Result<()> {
        let event = Event { wall_time: wall_time(), step, what: Some(What::Summary(Summary { value: values })) };
        self.add_event(&event)
    }

    /// Appends a scalar (stored as float32, as TensorBoard's `simple_value`).
    pub fn add_scalar(&mut self, tag: &str, value: f32, step: i64) -> Result<()> {
        self.add_summary(vec![SummaryValue { tag: tag.into(), value: Some(Value::SimpleValue(value)) }], step)
    }

    /// Appends a histogram.
    pub fn add_histogram(&mut self, tag: &str, histogram: &Histogram, step: i64) -> Result<()> {
        self.add_summary(vec![SummaryValue { tag: tag.into(), value: Some(Value::Histo(histogram.clone())) }], step)
    }

    /// Writes the buffered events to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io(&self.path, e))
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let _ = self.file.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_known_vectors() {
        // The CRC-32C check value (RFC 3720 / iSCSI) and its all-zero 32-byte vector.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8A91_36AA);
        // Masked as TFRecord does; values printed by tests/reference/masked_crc32c.py with
        // TensorBoard's own masked_crc32c.
        assert_eq!(masked_crc32c(b"123456789"), MASKED_123456789);
        assert_eq!(masked_crc32c(b""), MASKED_EMPTY);
    }

    // tests/reference/masked_crc32c.py
    const MASKED_123456789: u32 = 0xC78A_B0E5;
    const MASKED_EMPTY: u32 = 0xA282_EAD8;

    #[test]
    fn update_freq_parses_keras_spellings() {
        assert_eq!("epoch".parse::<UpdateFreq>().unwrap(), UpdateFreq::Epoch);
        assert_eq!("batch".parse::<UpdateFreq>().unwrap(), UpdateFreq::Batches(1));
        assert_eq!("100".parse::<UpdateFreq>().unwrap(), UpdateFreq::Batches(100));
        assert_eq!("0".parse::<UpdateFreq>().unwrap(), UpdateFreq::Epoch);
        let e = "often".parse::<UpdateFreq>().unwrap_err().to_string();
        assert!(e.contains("often") && e.contains("epoch, batch"), "{e}");
    }

    #[test]
    fn histogram_counts_every_finite_value_once() {
        let h = Histogram::from_values(&[0.0, 1.0, 2.0, 3.0, f64::NAN, 4.0], 4);
        assert_eq!((h.min, h.max, h.num, h.sum, h.sum_squares), (0.0, 4.0, 5.0, 10.0, 30.0));
        assert_eq!(h.bucket_limit, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(h.bucket, vec![1.0, 1.0, 1.0, 2.0]);
        let flat = Histogram::from_values(&[0.5, 0.5], 30);
        assert_eq!((flat.bucket_limit, flat.bucket), (vec![0.5], vec![2.0]));
        assert!(Histogram::from_values(&[], 30).bucket.is_empty());
    }
}
