//! The library's error type: one enum whose variants say what was wrong and what to do.
use std::path::PathBuf;

/// Everything the library can fail with.
///
/// `Debug` prints the same message as `Display`, so `fn main() -> tch_keras::Result<()>` shows
/// `Error: x has shape [28, 28, 1] but the model expects ...` rather than a struct dump; match
/// on the variant for its fields. With `anyhow`, `fn main() -> anyhow::Result<()>` and `?` work
/// too (the error is `std::error::Error + Send + Sync`).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layer cannot take the shape it is given.
    #[error("layer {index} ({layer}) cannot take input shape {input}: {message}")]
    LayerShape {
        /// Position of the layer in the model, from 0.
        index: usize,
        /// The layer's kind, such as `Dense`.
        layer: &'static str,
        /// The input shape, batch axis shown as `None`.
        input: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A layer's configuration is invalid on its own (zero units, zero kernel size, ...).
    #[error("layer {layer}: {message}")]
    LayerConfig {
        /// The layer's kind.
        layer: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A saved model uses a custom layer whose type is not registered (Keras's missing
    /// `custom_objects`).
    #[error(
        "the model uses the custom layer {name:?}, which is not registered: call \
         tch_keras::layers::register_layer::<YourType>({name:?}) before load_model, or pass a LayerRegistry \
         holding it to load_model_with"
    )]
    UnknownLayer {
        /// The layer's class name, as saved.
        name: String,
    },
    /// A saved model uses a custom loss or metric that is not registered (Keras's missing
    /// `custom_objects`), or a model with one read from a file was used before it was found.
    #[error("the model uses the custom {what} {name:?}, which is not registered: {message}")]
    UnknownCustom {
        /// `"loss"` or `"metric"`.
        what: &'static str,
        /// The name it was saved under.
        name: String,
        /// What to register.
        message: String,
    },
    /// A custom loss or metric returned something unusable (wrong shape, kind or device), or
    /// its configuration cannot be saved or read.
    #[error("custom function {name:?}: {message}")]
    CustomFunction {
        /// The loss's or metric's name.
        name: String,
        /// What was wrong and what to return instead.
        message: String,
    },
    /// A custom layer's saved configuration does not fit its registered type.
    #[error("custom layer {name:?}: {message}")]
    CustomLayerConfig {
        /// The layer's class name.
        name: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The data's feature shape does not match the model's input shape.
    #[error("{what} has shape {got} but the model expects {expected}: {hint}")]
    DataShape {
        /// Which tensor, such as `x` or `validation x`.
        what: String,
        /// The model's input shape.
        expected: String,
        /// The data's shape.
        got: String,
        /// What to do about it.
        hint: String,
    },
    /// The targets do not fit the loss.
    #[error("targets do not fit loss {loss}: {message}")]
    Targets {
        /// The loss's name.
        loss: String,
        /// What is wrong and what to use instead.
        message: String,
    },
    /// The model was used before `compile`.
    #[error("the model is not compiled: call compile(optimizer, loss, metrics) before {action}")]
    NotCompiled {
        /// What was attempted.
        action: &'static str,
    },
    /// The model has no built weights yet.
    #[error(
        "the model is not built: build it (Sequential::input_shape, then Sequential::build) or call fit first, \
         before {action}"
    )]
    NotBuilt {
        /// What was attempted.
        action: &'static str,
    },
    /// An argument is out of range.
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// The argument's name, such as `batch_size`.
        name: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The training loss became NaN or infinite, and `TerminateOnNaN::raise_error` asked for an
    /// error (Keras's `RuntimeError`).
    #[error(
        "NaN or Inf loss encountered at batch {batch} of epoch {epoch} (loss {loss}): training stopped; \
         lower the learning rate, check the data for NaN/Inf, or clip gradients"
    )]
    NonFiniteLoss {
        /// The epoch, from 0.
        epoch: usize,
        /// The batch within the epoch, from 0.
        batch: usize,
        /// The running loss read after that batch.
        loss: f64,
    },
    /// A string could not be parsed into one of the library's enums.
    #[error("unknown {what} '{value}': expected one of {expected}")]
    Parse {
        /// What was being parsed (loss, optimizer, metric, ...).
        what: &'static str,
        /// The string given.
        value: String,
        /// The accepted spellings.
        expected: String,
    },
    /// A data set file is missing, truncated or malformed.
    #[error("data file {path}: {message}")]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to get the file.
        message: String,
    },
    /// A row, column or cell of a data file is malformed: the error names the file, the line
    /// (1-based, as an editor shows it) and the column where known.
    #[error("data file {path}{}: {message}", place(*line, column.as_deref()))]
    DataFormat {
        /// The file.
        path: PathBuf,
        /// The 1-based line in the file, when the problem is on one line.
        line: Option<u64>,
        /// The column: its 0-based index and, when the file has a header, its name, such as
        /// `3 ("petal_width")`.
        column: Option<String>,
        /// What is wrong and what to do about it.
        message: String,
    },
    /// A batch source (a [`Dataset`](crate::data::Dataset) read on a background thread) failed
    /// in a way that is not one of its own errors: it panicked or returned a malformed batch.
    #[error("batch loader: {message}")]
    Loader {
        /// What went wrong and what to fix.
        message: String,
    },
    /// A saved model or checkpoint does not match or cannot be read.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A model or weights file named as another format's (`model.keras`, `weights.h5`,
    /// `model.pt`): tch-keras writes safetensors only.
    #[error(
        "{path}: tch-keras writes safetensors, not .{extension} files: name it with .safetensors (such as \
         model.safetensors), which safetensors.torch.load_file reads in Python"
    )]
    FileExtension {
        /// The path given.
        path: PathBuf,
        /// Its extension, without the dot.
        extension: String,
    },
    /// An I/O error on a named path. The message carries the system's reason, so the error has
    /// no separate `source` (a chain printer would repeat it).
    #[error("{path}: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The requested device cannot be used.
    #[error("device {device}: {message}")]
    Device {
        /// The device as given.
        device: String,
        /// What is wrong.
        message: String,
    },
    /// A TensorBoard event file is truncated, corrupted or not an event file.
    #[error("event file {path}: {message}")]
    EventFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plot cannot be drawn (no data, an unreadable input file, a drawing failure).
    #[error("plot {path}: {message}")]
    Plot {
        /// The PNG being drawn, or the input file being read.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A distributed (c10d) set-up or collective failed; `kind` tells a timeout from a lost peer
    /// or a bad configuration, and the message names the variable or argument at fault.
    #[error("distributed: {message}")]
    Distributed {
        /// What kind of failure.
        kind: crate::distributed::DistErrorKind,
        /// What went wrong and what to do, on one line.
        message: String,
    },
    /// The learning rate was set on an optimizer whose learning rate is a schedule (Keras
    /// raises too): the schedule decides it at every step.
    #[error(
        "the optimizer's learning rate is a {schedule} schedule, which sets it at every step, so it cannot be set \
         (by set_learning_rate, LearningRateScheduler or ReduceLROnPlateau); compile with a constant learning rate \
         to change it during training, or drop the callback"
    )]
    ScheduledLearningRate {
        /// The schedule's class name, such as `ExponentialDecay`.
        schedule: &'static str,
    },
    /// LibTorch refused to capture a CUDA graph (training goes on eagerly).
    #[error("CUDA graph capture refused: {message}")]
    CudaGraph {
        /// LibTorch's reason.
        message: String,
    },
    /// An error from LibTorch. Its message is LibTorch's first lines, without the C++
    /// backtrace (`Exception raised from ...`, `frame #0: ...`) that LibTorch appends.
    #[error("LibTorch: {}", torch_message(.0))]
    Torch(tch::TchError),
}

impl From<tch::TchError> for Error {
    /// Keeps LibTorch's message and drops its C++ backtrace.
    fn from(e: tch::TchError) -> Self {
        match e {
            tch::TchError::Torch(message) => Error::Torch(tch::TchError::Torch(strip_backtrace(&message))),
            other => Error::Torch(other),
        }
    }
}

/// A LibTorch error's message without the "Internal torch error" prefix or a backtrace.
fn torch_message(e: &tch::TchError) -> String {
    match e {
        tch::TchError::Torch(message) => strip_backtrace(message),
        other => strip_backtrace(&other.to_string()),
    }
}

/// The meaningful part of a LibTorch exception message: the lines before its backtrace
/// (`Exception raised from ...`, `frame #N: ...`) joined into one line. LibTorch formats a
/// failed check as the reason, then where it was raised, then the frames.
pub(crate) fn strip_backtrace(message: &str) -> String {
    let mut kept = Vec::new();
    for line in message.lines() {
        let line = line.trim();
        if line.starts_with("Exception raised from") || line.starts_with("frame #") {
            break;
        }
        if !line.is_empty() {
            kept.push(line);
        }
    }
    let text = kept.join(" ");
    let mut text = text.strip_prefix("Internal torch error:").map_or(text.as_str(), str::trim);
    // A failed `TORCH_ENFORCE` starts with where it was raised: "[enforce fail at f.cpp:127] err == 0. ".
    if let Some(rest) = text.strip_prefix("[enforce fail at").and_then(|r| r.split_once("] ")) {
        text = rest.1.split_once(". ").map_or(rest.1, |(_, reason)| reason).trim();
    }
    if text.is_empty() {
        // Nothing before the backtrace: keep the first line rather than an empty message.
        message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error").to_string()
    } else {
        text.to_string()
    }
}

impl std::fmt::Debug for Error {
    /// The message, as `Display` gives it (see [`Error`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What to do when data of shape `got` (batch axis first) is given to a model whose per-sample
/// input shape is `expected`, for the two layout slips Keras users make: a single sample
/// without its batch axis, and channels-last images. `None` for any other mismatch.
pub(crate) fn layout_hint(expected: &[i64], got: &[i64]) -> Option<String> {
    let channels_last = |hwc: &[i64]| {
        expected.len() == 3
            && hwc.len() == 3
            && hwc[2] == expected[0]
            && hwc[..2] == expected[1..]
            && expected[0] != expected[2]
    };
    if got.len() == expected.len() + 1 && channels_last(&got[1..]) {
        let n = got[0];
        return Some(format!(
            "tch-keras is channels-first: permute to [{n}, {}, {}, {}] with x.permute([0, 3, 1, 2])",
            expected[0], expected[1], expected[2]
        ));
    }
    if got == expected && !expected.is_empty() {
        return Some(format!(
            "this is one sample: add the batch axis (unsqueeze(0)) to make it [1, {}]",
            expected.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    if channels_last(got) {
        return Some(format!(
            "this is one channels-last image, and tch-keras is channels-first: permute to [{}, {}, {}] \
             (x.permute([2, 0, 1])) and add the batch axis (unsqueeze(0))",
            expected[0], expected[1], expected[2]
        ));
    }
    None
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(name: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument { name, message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io { path: path.into(), error }
    }
}

/// ", line 7, column 3 (\"x\")" for the `DataFormat` message.
fn place(line: Option<u64>, column: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(line) = line {
        s.push_str(&format!(", line {line}"));
    }
    if let Some(column) = column {
        s.push_str(&format!(", column {column}"));
    }
    s
}

/// Formats a per-sample shape Keras-style, with the batch axis as `None`: `(None, 1, 28, 28)`.
pub fn batch_shape(shape: &[i64]) -> String {
    let mut s = String::from("(None");
    for d in shape {
        s.push_str(&format!(", {d}"));
    }
    s.push(')');
    s
}

/// Formats a full shape: `(64, 784)`.
pub fn full_shape(shape: &[i64]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    #[test]
    fn libtorch_errors_lose_their_backtrace() {
        let a = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
        let b = Tensor::zeros([4, 5], (Kind::Float, Device::Cpu));
        let raw = a.f_matmul(&b).unwrap_err();
        // The raw LibTorch message carries a C++ backtrace, which users must not see.
        assert!(raw.to_string().contains("Exception raised from"), "LibTorch's message changed: {raw}");
        let e = Error::from(raw);
        let shown = e.to_string();
        assert!(shown.starts_with("LibTorch: ") && shown.contains("cannot be multiplied"), "{shown}");
        assert!(!shown.contains("Exception raised from") && !shown.contains("frame #"), "{shown}");
        assert!(!shown.contains('\n'), "one line: {shown}");
        // The stored error is clean too (for callers that match on it).
        let Error::Torch(tch::TchError::Torch(stored)) = &e else { panic!("{e:?}") };
        assert!(!stored.contains("frame #"), "{stored}");
    }

    #[test]
    fn errors_built_directly_display_without_backtrace() {
        let raw = "boom\nException raised from f at x.cpp:1 (most recent call first):\nframe #0: c10::Error";
        let e = Error::Torch(tch::TchError::Torch(raw.into()));
        assert_eq!(e.to_string(), "LibTorch: boom");
        assert_eq!(strip_backtrace("frame #0: only a backtrace"), "frame #0: only a backtrace");
        let enforce = "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: \
                       you tried to allocate 32000000000000 bytes.\nframe #0: c10::ThrowEnforceNotMet";
        assert_eq!(
            strip_backtrace(enforce),
            "DefaultCPUAllocator: can't allocate memory: you tried to allocate 32000000000000 bytes."
        );
    }

    #[test]
    fn io_errors_state_the_reason_once_in_a_chain() {
        let e = Error::io("/no/such/file", std::io::Error::from(std::io::ErrorKind::NotFound));
        let chain = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(chain.matches("not found").count(), 1, "{chain}");
        assert!(chain.contains("/no/such/file"), "{chain}");
    }
}
