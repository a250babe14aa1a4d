//! The library's error type: one enum whose variants say what was wrong and what to do.
use std::path::PathBuf;

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
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
        "the model is not built: give it an input shape (Sequential::input_shape) or call fit first, before {action}"
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
    /// A saved model or checkpoint does not match or cannot be read.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
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
    /// LibTorch refused to capture a CUDA graph (training goes on eagerly).
    #[error("CUDA graph capture refused: {message}")]
    CudaGraph {
        /// LibTorch's reason.
        message: String,
    },
    /// An error from LibTorch.
    #[error("LibTorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(name: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument { name, message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
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
