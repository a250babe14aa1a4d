//! Saving and loading: weights (`save_weights` / `load_weights`), whole models with their
//! architecture, compile settings and optimizer state (`save` / [`load_model`]), all as
//! safetensors files written atomically.
//!
//! Tensor names are stable and match PyTorch's conventions: `layers.{index}.weight`,
//! `layers.{index}.bias`, for batch normalization also `layers.{index}.running_mean` and
//! `layers.{index}.running_var`, for an adapted normalization `layers.{index}.mean`,
//! `layers.{index}.variance` and `layers.{index}.count`. A PyTorch user reads them with
//! `safetensors.torch.load_file(path)`. A whole-model file also holds the optimizer's slots as
//! `optimizer.{parameter name}.{slot}` (e.g. `optimizer.layers.0.weight.m`), the optimizer's
//! scalar state as `optimizer.{name}` (Nadam's `optimizer.u_product`) and, in the
//! safetensors metadata, the JSON under `tch_keras.model`.
//! The layers inside a [`Residual`](crate::Residual) add their branch and position:
//! `layers.{index}.block.{j}.weight`, `layers.{index}.shortcut.{j}.running_mean`.
//!
//! Every file is written to a new temporary file in the same folder (created exclusively under
//! an unpredictable name, so a planted symlink is never followed), flushed to disk and renamed
//! over the target, so a process killed during a save leaves the previous file intact. A
//! temporary file left by a killed save is removed by the next save to the same target.
//!
//! [`load_model`] checks a file's model description against the tensors in the file (every
//! variable's shape follows from the layers and the input shape) and against sane bounds before
//! it allocates anything, so a damaged or hostile file is an error, not a panic or gigabytes of
//! memory.
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::layers::{LayerConfig, LayerRegistry};
use crate::optimizers::OptimizerState;
use crate::{Error, Loss, Metric, Optimizer, Precision, Result, Sequential};

/// Metadata key of the model's JSON in a whole-model file.
pub const MODEL_KEY: &str = "tch_keras.model";
const FORMAT_VERSION: u32 = 1;

/// Test hook: when this environment variable is set (read once per process), a save aborts
/// the process after the temporary file is written and flushed, before the rename (as a crash
/// would).
#[doc(hidden)]
pub const CRASH_BEFORE_RENAME_ENV: &str = "TCH_KERAS_TEST_CRASH_BEFORE_RENAME";

fn ckpt_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.to_path_buf(), message: message.into() }
}

/// The prefix of the temporary files a save of `name` writes: `.NAME.tmp-`. The full name is
/// `.NAME.tmp-PID-RANDOM`, created exclusively (never following a symlink).
pub fn temp_prefix(name: &std::ffi::OsStr) -> String {
    format!(".{}.tmp-", name.to_string_lossy())
}

/// Writes `bytes` to `path` atomically: a new temporary file in the same folder (exclusive
/// creation under an unpredictable name), fsync, rename over `path`, fsync of the folder.
/// Temporary files of the same target left by killed processes are removed first.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| ckpt_error(path, "is not a file path"))?;
    let prefix = temp_prefix(name);
    remove_stale_temporaries(&dir, &prefix);
    let mut builder = tempfile::Builder::new();
    let own_prefix = format!("{prefix}{}-", std::process::id());
    builder.prefix(&own_prefix);
    // The saved file gets the usual permissions (0666 less the umask), not tempfile's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(path, e))?;
    // On an error `tmp` is dropped, which removes the temporary file.
    tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_all()).map_err(|e| Error::io(path, e))?;
    static CRASH_BEFORE_RENAME: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *CRASH_BEFORE_RENAME.get_or_init(|| std::env::var_os(CRASH_BEFORE_RENAME_ENV).is_some()) {
        std::process::abort();
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes `dir/PREFIX{pid}-*` files whose process is gone: temporaries of a save that was
/// killed before its rename. Files of a live process (a save in progress) are kept. Best
/// effort: a file that cannot be removed is left.
fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(prefix)) else { continue };
        let Some(pid) = rest.split_once('-').and_then(|(pid, _)| pid.parse::<u32>().ok()) else { continue };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
        if is_file && !process_alive(pid) {
            // Removes the entry itself; a symlink's target is never touched.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether process `pid` may still be running (when unsure: yes, so its file is kept).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        // This process's own temporary may be a save in progress on another thread.
        return true;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}

fn dtype(kind: Kind, path: &Path, name: &str) -> Result<Dtype> {
    Ok(match kind {
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Half => Dtype::F16,
        Kind::Uint8 => Dtype::U8,
        other => {
            return Err(ckpt_error(
                path,
                format!("tensor {name} has kind {other:?}, which is not saved: convert it with to_kind(Kind::Float)"),
            ))
        }
    })
}

fn kind(dtype: Dtype, path: &Path, name: &str) -> Result<Kind> {
    Ok(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F16 => Kind::Half,
        Dtype::U8 => Kind::Uint8,
        other => {
            return Err(ckpt_error(
                path,
                format!(
                    "tensor {name} has dtype {other:?}, which is not read: save it as float32 (F32; F64, F16, \
                     BF16, I64, I32 and U8 are read too), such as with tensor.float() in PyTorch"
                ),
            ))
        }
    })
}

/// Writes named tensors and string metadata as a safetensors file, atomically.
pub fn write_safetensors(path: &Path, tensors: &[(String, Tensor)], metadata: HashMap<String, String>) -> Result<()> {
    let mut owned = Vec::with_capacity(tensors.len());
    let mut names = std::collections::HashSet::new();
    for (name, t) in tensors {
        // The safetensors serializer panics on a name given twice.
        if !names.insert(name.as_str()) {
            return Err(ckpt_error(path, format!("tensor name {name} is given twice: give each tensor its own name")));
        }
        let t = t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?;
        let numel = t.numel();
        let mut bytes = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut bytes, numel)?;
        let shape = t
            .size()
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<Vec<usize>, _>>()
            .map_err(|_| ckpt_error(path, format!("tensor {name} has a negative size {:?}", t.size())))?;
        owned.push((name.clone(), dtype(t.kind(), path, name)?, shape, bytes));
    }
    let views = owned
        .iter()
        .map(|(name, dt, shape, bytes)| {
            TensorView::new(*dt, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| ckpt_error(path, format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    if views.is_empty() && !metadata.is_empty() {
        return atomic_write(path, &metadata_only(path, metadata)?);
    }
    let info = if metadata.is_empty() { None } else { Some(metadata) };
    let bytes = safetensors::tensor::serialize(views, &info).map_err(|e| ckpt_error(path, e.to_string()))?;
    atomic_write(path, &bytes)
}

/// A safetensors file with metadata and no tensors (a model without weights): the
/// serializer's header for it is not JSON (`{},"__metadata__":{..}}`), so it is written here,
/// padded to 8 bytes as the serializer pads.
fn metadata_only(path: &Path, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let header = serde_json::json!({ "__metadata__": metadata });
    let mut header = serde_json::to_vec(&header).map_err(|e| ckpt_error(path, e.to_string()))?;
    header.resize(header.len().div_ceil(8) * 8, b' ');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    Ok(bytes)
}

/// Tensors with their names.
pub type NamedTensors = Vec<(String, Tensor)>;

/// Reads a safetensors file: its tensors (on the CPU) and its metadata.
pub fn read_safetensors(path: &Path) -> Result<(NamedTensors, HashMap<String, String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let not_st = |e: safetensors::SafeTensorError| {
        ckpt_error(
            path,
            format!("is not a readable safetensors file ({e}); was it truncated or written by another program?"),
        )
    };
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(not_st)?;
    let st = SafeTensors::deserialize(&bytes).map_err(not_st)?;
    let mut tensors = Vec::new();
    for (name, view) in st.tensors() {
        let size =
            view.shape().iter().map(|&d| i64::try_from(d)).collect::<std::result::Result<Vec<i64>, _>>().map_err(
                |_| ckpt_error(path, format!("tensor {name} has shape {:?}, too large for LibTorch", view.shape())),
            )?;
        let t = Tensor::f_from_data_size(view.data(), &size, kind(view.dtype(), path, &name)?)?;
        tensors.push((name, t));
    }
    tensors.sort_by(|a, b| crate::model::natural_order(&a.0).cmp(&crate::model::natural_order(&b.0)));
    Ok((tensors, meta.metadata().clone().unwrap_or_default()))
}

/// What `compile` set, as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompileConfig {
    /// The optimizer, with its current learning rate.
    pub optimizer: Optimizer,
    /// The loss.
    pub loss: Loss,
    /// The metrics and their names.
    pub metrics: Vec<Metric>,
    /// Optimizer updates applied when saved (0 when there is no optimizer state).
    pub iterations: i64,
    /// The settings of the last `fit` on tensors (absent in older files).
    #[serde(default)]
    pub fit: Option<crate::train::FitSettings>,
}

/// A model's architecture and training position, as stored under [`MODEL_KEY`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Format version (1).
    pub format_version: u32,
    /// The model's name.
    pub name: String,
    /// Per-sample input shape.
    pub input_shape: Vec<i64>,
    /// The layers' configurations, in order.
    pub layers: Vec<LayerConfig>,
    /// The seed.
    pub seed: u64,
    /// The forward pass's precision (absent in files from before it was saved: float32).
    #[serde(default)]
    pub precision: Precision,
    /// Epochs completed by `fit` so far: a resumed `fit` starts here.
    pub epochs_done: usize,
    /// Compile settings, when the model was compiled.
    pub compile: Option<CompileConfig>,
    /// Strings stored with [`Sequential::set_metadata`].
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Indices of the frozen layers ([`Sequential::set_trainable`]); absent in older files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frozen: Vec<usize>,
}

/// The largest size along any axis a model file may describe (input shape, layer sizes,
/// variables): 2^31 - 1.
pub const MAX_DIM: i64 = i32::MAX as i64;
/// The most values one sample may hold at any layer of a model file's description: 2^31.
pub const MAX_SAMPLE_VALUES: i64 = 1 << 31;
/// The largest count (epochs done, optimizer updates) a model file may hold: 2^53, the
/// largest integer a float64 (which the optimizers' bias corrections use) holds exactly.
pub const MAX_COUNT: u64 = 1 << 53;

/// The integer sizes in a layer's configuration: field name, value and smallest valid value.
// One match with an arm per layer kind, a line or two each: a table, kept in one place.
fn layer_sizes(layer: &LayerConfig) -> Vec<(&'static str, i64, i64)> {
    let pair = |field, v: [i64; 2]| [(field, v[0], 1), (field, v[1], 1)];
    match layer {
        LayerConfig::Dense(l) => vec![("units", l.units, 1)],
        LayerConfig::Conv2D(l) => {
            let mut v = vec![("filters", l.filters, 1)];
            v.extend(pair("kernel_size", l.kernel_size));
            v.extend(pair("strides", l.strides));
            v
        }
        LayerConfig::Conv1D(l) => {
            vec![("filters", l.filters, 1), ("kernel_size", l.kernel_size, 1), ("strides", l.strides, 1)]
        }
        LayerConfig::MaxPooling2D(l) => [pair("pool_size", l.pool_size), pair("strides", l.strides)].concat(),
        LayerConfig::AveragePooling2D(l) => [pair("pool_size", l.pool_size), pair("strides", l.strides)].concat(),
        // -1 (the inferred axis) is checked by the layer itself.
        LayerConfig::Reshape(l) => {
            l.target_shape.iter().filter(|&&d| d != -1).map(|&d| ("target_shape", d, 1)).collect()
        }
        LayerConfig::ZeroPadding2D(l) => l.padding.iter().flatten().map(|&p| ("padding", p, 0)).collect(),
        LayerConfig::UpSampling2D(l) => pair("size", l.size).to_vec(),
        LayerConfig::Embedding(l) => vec![("input_dim", l.input_dim, 1), ("output_dim", l.output_dim, 1)],
        LayerConfig::LSTM(l) => vec![("units", l.units, 1)],
        LayerConfig::GRU(l) => vec![("units", l.units, 1)],
        // No sizes (LayerNormalization's axis is checked by the layer itself).
        LayerConfig::Flatten(_)
        | LayerConfig::Dropout(_)
        | LayerConfig::BatchNormalization(_)
        | LayerConfig::Activation(_)
        | LayerConfig::GlobalAveragePooling2D(_)
        | LayerConfig::GlobalMaxPooling2D(_)
        | LayerConfig::LayerNormalization(_)
        | LayerConfig::SpatialDropout2D(_)
        | LayerConfig::GaussianNoise(_)
        | LayerConfig::Normalization(_) => Vec::new(),
        // A custom layer's sizes are its own; its declared variable shapes are checked against
        // the file like any layer's.
        LayerConfig::Custom(_) => Vec::new(),
        LayerConfig::SimpleRNN(l) => vec![("units", l.units, 1)],
        LayerConfig::Bidirectional(l) => vec![("units", l.layer.units(), 1)],
        // Augmentations check their factors themselves.
        LayerConfig::RandomFlip(_)
        | LayerConfig::RandomTranslation(_)
        | LayerConfig::RandomRotation(_)
        | LayerConfig::RandomZoom(_)
        | LayerConfig::RandomContrast(_)
        | LayerConfig::RandomBrightness(_) => Vec::new(),
        LayerConfig::Rescaling(_) | LayerConfig::GlobalAveragePooling1D(_) | LayerConfig::GlobalMaxPooling1D(_) => {
            Vec::new()
        }
        LayerConfig::MaxPooling1D(l) => vec![("pool_size", l.pool_size, 1), ("strides", l.strides, 1)],
        LayerConfig::AveragePooling1D(l) => vec![("pool_size", l.pool_size, 1), ("strides", l.strides, 1)],
        LayerConfig::Conv2DTranspose(l) => {
            let mut v = vec![("filters", l.filters, 1)];
            v.extend(pair("kernel_size", l.kernel_size));
            v.extend(pair("strides", l.strides));
            v.extend(pair("dilation_rate", l.dilation_rate));
            v.extend(l.output_padding.into_iter().flatten().map(|p| ("output_padding", p, 0)));
            v
        }
        LayerConfig::Cropping1D(l) => l.cropping.iter().map(|&c| ("cropping", c, 0)).collect(),
        LayerConfig::Cropping2D(l) => l.cropping.iter().flatten().map(|&c| ("cropping", c, 0)).collect(),
        LayerConfig::ZeroPadding1D(l) => l.padding.iter().map(|&p| ("padding", p, 0)).collect(),
        LayerConfig::UpSampling1D(l) => vec![("size", l.size, 1)],
        LayerConfig::RepeatVector(l) => vec![("n", l.n, 1)],
        LayerConfig::Permute(l) => l.dims.iter().map(|&d| ("dims", d, 1)).collect(),
        // Activation layers check their own options.
        LayerConfig::LeakyReLU(_)
        | LayerConfig::ELU(_)
        | LayerConfig::PReLU(_)
        | LayerConfig::ReLU(_)
        | LayerConfig::Softmax(_) => Vec::new(),
        LayerConfig::Residual(l) => l.layers.iter().chain(&l.shortcut).flat_map(layer_sizes).collect(),
        LayerConfig::MultiHeadAttention(l) => {
            let mut v = vec![("num_heads", l.num_heads, 1), ("key_dim", l.key_dim, 1)];
            v.extend(l.value_dim.map(|d| ("value_dim", d, 1)));
            v.extend(l.output_shape.map(|d| ("output_shape", d, 1)));
            v
        }
        LayerConfig::DepthwiseConv2D(l) => {
            let mut v = vec![("depth_multiplier", l.depth_multiplier, 1)];
            v.extend(pair("kernel_size", l.kernel_size));
            v.extend(pair("strides", l.strides));
            v.extend(pair("dilation_rate", l.dilation_rate));
            v
        }
        LayerConfig::SeparableConv2D(l) => {
            let mut v = vec![("filters", l.filters, 1), ("depth_multiplier", l.depth_multiplier, 1)];
            v.extend(pair("kernel_size", l.kernel_size));
            v.extend(pair("strides", l.strides));
            v.extend(pair("dilation_rate", l.dilation_rate));
            v
        }
        // -1 (a group per channel) and the division are checked by the layer itself.
        LayerConfig::GroupNormalization(_) => Vec::new(),
        // The axis is checked by the layer itself.
        LayerConfig::UnitNormalization(_) => Vec::new(),
        // Rates and factors are checked by the layers themselves.
        LayerConfig::ActivityRegularization(_)
        | LayerConfig::GaussianDropout(_)
        | LayerConfig::AlphaDropout(_)
        | LayerConfig::SpatialDropout1D(_) => Vec::new(),
        LayerConfig::Conv3D(l) => {
            let mut v = vec![("filters", l.filters, 1), ("groups", l.groups, 1)];
            v.extend(l.kernel_size.map(|k| ("kernel_size", k, 1)));
            v.extend(l.strides.map(|s| ("strides", s, 1)));
            v.extend(l.dilation_rate.map(|d| ("dilation_rate", d, 1)));
            v
        }
        LayerConfig::MaxPooling3D(l) => {
            l.pool_size.map(|p| ("pool_size", p, 1)).into_iter().chain(l.strides.map(|s| ("strides", s, 1))).collect()
        }
        LayerConfig::AveragePooling3D(l) => {
            l.pool_size.map(|p| ("pool_size", p, 1)).into_iter().chain(l.strides.map(|s| ("strides", s, 1))).collect()
        }
        LayerConfig::GlobalAveragePooling3D(_) | LayerConfig::GlobalMaxPooling3D(_) => Vec::new(),
        LayerConfig::UpSampling3D(l) => l.size.map(|s| ("size", s, 1)).to_vec(),
        LayerConfig::ZeroPadding3D(l) => l.padding.iter().flatten().map(|&p| ("padding", p, 0)).collect(),
        LayerConfig::Cropping3D(l) => l.cropping.iter().flatten().map(|&c| ("cropping", c, 0)).collect(),
        LayerConfig::Conv1DTranspose(l) => {
            let mut v = vec![("filters", l.filters, 1), ("kernel_size", l.kernel_size[0], 1)];
            v.extend([("strides", l.strides[0], 1), ("dilation_rate", l.dilation_rate[0], 1)]);
            v.extend(l.output_padding.into_iter().flatten().map(|p| ("output_padding", p, 0)));
            v
        }
        LayerConfig::Conv3DTranspose(l) => {
            let mut v = vec![("filters", l.filters, 1)];
            v.extend(l.kernel_size.map(|k| ("kernel_size", k, 1)));
            v.extend(l.strides.map(|s| ("strides", s, 1)));
            v.extend(l.dilation_rate.map(|d| ("dilation_rate", d, 1)));
            v.extend(l.output_padding.into_iter().flatten().map(|p| ("output_padding", p, 0)));
            v
        }
        LayerConfig::Resizing(l) => vec![("height", l.height, 1), ("width", l.width, 1)],
        LayerConfig::CenterCrop(l) => vec![("height", l.height, 1), ("width", l.width, 1)],
        LayerConfig::RandomCrop(l) => vec![("height", l.height, 1), ("width", l.width, 1)],
        LayerConfig::CategoryEncoding(l) => vec![("num_tokens", l.num_tokens, 1)],
        // The boundaries are checked by the layer itself.
        LayerConfig::Discretization(_) => Vec::new(),
        // The factor is checked by the layer itself.
        LayerConfig::RandomGrayscale(_) => Vec::new(),
        LayerConfig::Masking(_) => Vec::new(),
    }
}

/// Checks a per-sample shape of the description: at least one axis, every size in
/// `1..=MAX_DIM`, at most `MAX_SAMPLE_VALUES` values.
fn check_sample_shape(path: &Path, what: &str, shape: &[i64]) -> Result<()> {
    let values = shape.iter().try_fold(1i64, |n, &d| if (1..=MAX_DIM).contains(&d) { n.checked_mul(d) } else { None });
    match values {
        Some(n) if !shape.is_empty() && n <= MAX_SAMPLE_VALUES => Ok(()),
        _ => Err(ckpt_error(
            path,
            format!(
                "the model description's {what} is {shape:?}: sizes must be between 1 and {MAX_DIM}, with at most \
                 {MAX_SAMPLE_VALUES} values per sample; the file was edited or damaged"
            ),
        )),
    }
}

fn check_count(path: &Path, field: &str, value: u64, min: u64) -> Result<()> {
    if (min..=MAX_COUNT).contains(&value) {
        return Ok(());
    }
    Err(ckpt_error(
        path,
        format!(
            "the model description's {field} is {value}, outside {min}..={MAX_COUNT}; the file was edited or damaged"
        ),
    ))
}

/// Checks a model description against sane bounds and against the tensors in its file, before
/// anything is built: every variable the layers would create must be in the file with the same
/// shape (so building allocates no more than the file holds), and the file must hold no other
/// weights.
// The checks run in the order they must (counts, shapes per layer, then the file's tensors), each
// a few lines; they read best as one list.
fn check_description(path: &Path, config: &ModelConfig, tensors: &[(String, Tensor)]) -> Result<()> {
    check_count(path, "epochs_done", config.epochs_done as u64, 0)?;
    if let Some(c) = &config.compile {
        if c.iterations < 0 {
            return Err(ckpt_error(
                path,
                format!(
                    "the model description's optimizer step count (iterations) is {}, which is negative; the file was \
                     edited or damaged",
                    c.iterations
                ),
            ));
        }
        check_count(path, "iterations", c.iterations as u64, 0)?;
        // `fit` takes batch sizes up to i64::MAX (LibTorch's sizes); the stored end epoch is
        // only a default for resuming, so any value is harmless.
        if let Some(fit) = c.fit.filter(|f| f.batch_size == 0 || i64::try_from(f.batch_size).is_err()) {
            return Err(ckpt_error(
                path,
                format!(
                    "the model description's fit.batch_size is {}, outside 1..={}; the file was edited or damaged",
                    fit.batch_size,
                    i64::MAX
                ),
            ));
        }
    }
    if config.layers.is_empty() {
        return Err(ckpt_error(path, "the model description has no layers; the file was edited or damaged"));
    }
    check_sample_shape(path, "input_shape", &config.input_shape)?;
    let mut shape = config.input_shape.clone();
    let mut expected = Vec::new();
    for (index, layer) in config.layers.iter().enumerate() {
        let spec = layer.spec();
        let kind = spec.kind();
        for (field, value, min) in layer_sizes(layer) {
            if !(min..=MAX_DIM).contains(&value) {
                return Err(ckpt_error(
                    path,
                    format!(
                        "the model description's layers[{index}] ({kind}) has {field} {value}, outside \
                         {min}..={MAX_DIM}; the file was edited or damaged"
                    ),
                ));
            }
        }
        let output = spec.output_shape(&shape).map_err(|message| {
            ckpt_error(
                path,
                format!(
                    "the model description's layers[{index}] ({kind}) cannot take input shape {}: {message}",
                    crate::error::batch_shape(&shape)
                ),
            )
        })?;
        for (name, dims) in spec.variable_shapes(&shape) {
            expected.push((format!("layers.{index}.{name}"), dims, index, kind));
        }
        check_sample_shape(path, &format!("output shape of layers[{index}] ({kind})"), &output)?;
        shape = output;
    }
    let file: HashMap<&str, Vec<i64>> =
        tensors.iter().filter(|(n, _)| !n.starts_with("optimizer.")).map(|(n, t)| (n.as_str(), t.size())).collect();
    let mut problems = Vec::new();
    for (name, dims, index, kind) in &expected {
        match file.get(name.as_str()) {
            None => problems.push(format!("{name} (of layers[{index}], {kind}) is missing from the file")),
            Some(found) if found != dims => problems.push(format!(
                "{name} has shape {found:?} in the file but layers[{index}] ({kind}) as described needs {dims:?}"
            )),
            Some(_) => {}
        }
    }
    for name in file.keys() {
        if !expected.iter().any(|(n, ..)| n == name) {
            problems.push(format!("{name} is in the file but no layer of the description has it"));
        }
    }
    if !problems.is_empty() {
        problems.sort();
        let n = problems.len();
        problems.truncate(5);
        return Err(ckpt_error(
            path,
            format!(
                "the model description does not match the tensors in the file ({n} mismatches; first: {}); the file \
                 was edited or damaged",
                problems.join("; ")
            ),
        ));
    }
    Ok(())
}

/// Warns (see `crate::warn`) when a tensor holds NaN or infinite values.
fn warn_non_finite(path: &Path, action: &str, tensors: &[(String, Tensor)]) -> Result<()> {
    let bad: Vec<&str> = tensors
        .iter()
        .filter(|(_, t)| t.is_floating_point())
        .map(|(n, t)| Ok((n, t.f_isfinite()?.f_all()?.f_int64_value(&[])? == 0)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter_map(|(n, bad)| bad.then_some(n.as_str()))
        .collect();
    if !bad.is_empty() {
        crate::warn(&format!(
            "{action} {}: {} tensor(s) hold NaN or infinite values ({}); the training run that produced them diverged \
             (try a lower learning rate)",
            path.display(),
            bad.len(),
            bad.iter().take(3).copied().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(())
}

/// A detached copy that shares no storage with `t`.
pub(crate) fn deep_copy(t: &Tensor) -> Result<Tensor> {
    let t = t.f_detach()?;
    let mut c = t.f_zeros_like()?;
    c.f_copy_(&t)?;
    Ok(c)
}

fn slot_name(param: &str, slot: &str) -> String {
    format!("optimizer.{param}.{slot}")
}

impl Sequential {
    fn trainable_names(&self) -> Result<Vec<String>> {
        let built = self.built("save")?;
        Ok(built.variables.iter().filter(|(_, t)| t.requires_grad()).map(|(n, _)| n.clone()).collect())
    }

    /// Saves the weights (every variable, under its stable name) as safetensors.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        check_extension(path.as_ref())?;
        let built = self.built("save_weights")?;
        warn_non_finite(path.as_ref(), "saving", &built.variables)?;
        write_safetensors(path.as_ref(), &built.variables, HashMap::new())
    }

    /// Loads weights saved by [`save_weights`](Self::save_weights) or [`save`](Self::save) (or a
    /// PyTorch state dict with the same names and shapes). Names or shapes that do not match
    /// the model are an error listing the first mismatches; nothing is changed then.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.ensure_built("load_weights")?;
        let (tensors, _) = read_safetensors(path)?;
        self.assign_variables(path, &tensors)
    }

    fn assign_variables(&mut self, path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
        let built = self.built("load_weights")?;
        let file: HashMap<&str, &Tensor> =
            tensors.iter().filter(|(n, _)| !n.starts_with("optimizer.")).map(|(n, t)| (n.as_str(), t)).collect();
        let mut problems = Vec::new();
        for (name, var) in &built.variables {
            match file.get(name.as_str()) {
                None => problems.push(format!("{name} is missing from the file")),
                Some(t) if t.size() != var.size() => problems.push(format!(
                    "{name} has shape {:?} in the file but {:?} in the model",
                    t.size(),
                    var.size()
                )),
                Some(_) => {}
            }
        }
        for name in file.keys() {
            if !built.variables.iter().any(|(n, _)| n == name) {
                problems.push(format!("{name} is in the file but not in the model"));
            }
        }
        if !problems.is_empty() {
            problems.sort();
            let n = problems.len();
            problems.truncate(5);
            return Err(ckpt_error(
                path,
                format!(
                    "does not match this model's architecture ({n} mismatches; first: {}); load it into the model it was saved from, or use load_model",
                    problems.join("; ")
                ),
            ));
        }
        tch::no_grad(|| -> Result<()> {
            for (name, var) in &built.variables {
                let mut var = var.shallow_clone();
                var.f_copy_(file[name.as_str()])?;
            }
            Ok(())
        })
    }

    /// Copies of every variable's current value, in [`variables`](Self::variables) order.
    pub fn get_weights(&self) -> Result<Vec<Tensor>> {
        let built = self.built("get_weights")?;
        built.variables.iter().map(|(_, t)| deep_copy(t)).collect()
    }

    /// Sets every variable from values in [`variables`](Self::variables) order.
    pub fn set_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        let built = self.built("set_weights")?;
        if weights.len() != built.variables.len() {
            return Err(Error::invalid(
                "weights",
                format!("got {} tensors for a model with {} variables", weights.len(), built.variables.len()),
            ));
        }
        tch::no_grad(|| -> Result<()> {
            for ((name, var), w) in built.variables.iter().zip(weights) {
                if w.size() != var.size() {
                    return Err(Error::invalid(
                        "weights",
                        format!(
                            "{name} has shape {:?} but got {:?}: give the weights in variables() order (by \
                             name, a layer's bias before its weight) and PyTorch's layout (a Dense weight is \
                             [out, in], the transpose of Keras's kernel)",
                            var.size(),
                            w.size()
                        ),
                    ));
                }
                if crate::losses::is_complex(w.kind()) {
                    return Err(Error::invalid(
                        "weights",
                        format!("{name} got complex values ({:?}): give real (float) weights", w.kind()),
                    ));
                }
                var.shallow_clone().f_copy_(w)?;
            }
            Ok(())
        })
    }

    /// The architecture and training position as saved.
    pub fn config(&self) -> Result<ModelConfig> {
        let input_shape = self.input_shape.clone().ok_or(Error::NotBuilt { action: "config" })?;
        Ok(ModelConfig {
            format_version: FORMAT_VERSION,
            name: self.name.clone(),
            input_shape,
            layers: self.layers.clone(),
            seed: self.seed,
            precision: self.precision,
            epochs_done: self.epochs_done(),
            compile: self.train.as_ref().map(|t| CompileConfig {
                optimizer: t.optimizer.config(),
                loss: t.loss.clone(),
                metrics: t.metrics.clone(),
                iterations: t.optimizer.iterations(),
                fit: t.fit_settings,
            }),
            metadata: self.metadata.clone(),
            frozen: self.frozen.iter().copied().collect(),
        })
    }

    /// Saves the whole model in one safetensors file: weights, optimizer state, and (as
    /// metadata) the architecture, compile settings and epochs done. [`load_model`] rebuilds
    /// it with no user code, and `fit` with `initial_epoch: model.epochs_done()` resumes
    /// training exactly where it stopped.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        check_extension(path)?;
        let config = self.config()?;
        let built = self.built("save")?;
        let mut tensors: Vec<(String, Tensor)> =
            built.variables.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
        if let Some(state) = self.train.as_ref().map(|t| &t.optimizer).filter(|o| o.has_slots()) {
            let names = self.trainable_names()?;
            for (slot, flat) in state.config().slot_names().iter().zip(state.slots()) {
                let mut offset = 0;
                for ((param, var), &order) in names.iter().zip(&built.trainable).zip(&built.orders) {
                    let n = var.numel() as i64;
                    let view = crate::flat::view_of(&flat.f_narrow(0, offset, n)?, &var.size(), order)?;
                    tensors.push((slot_name(param, slot), view));
                    offset += n;
                }
            }
            for (name, t) in state.config().scalar_names().iter().zip(state.scalars()) {
                tensors.push((format!("optimizer.{name}"), t.shallow_clone()));
            }
        }
        warn_non_finite(path, "saving", &built.variables)?;
        let json = serde_json::to_string(&config).map_err(|e| ckpt_error(path, e.to_string()))?;
        write_safetensors(path, &tensors, HashMap::from([(MODEL_KEY.to_string(), json)]))
    }
}

/// Rebuilds a model saved by [`Sequential::save`] on `device`: the same layers, weights,
/// compile settings and optimizer state; it predicts exactly what the saved model did.
///
/// `device` is a `Device` (`Device::Cpu`, `Device::Cuda(0)`) or `None` for Keras's choice: the
/// first CUDA device when one is usable, else the CPU (`load_model("model.safetensors", None)`).
///
/// A model with a custom layer needs its type registered first
/// ([`register_layer`](crate::layers::register_layer)); otherwise this fails with
/// [`Error::UnknownLayer`] naming the layer.
pub fn load_model(path: impl AsRef<Path>, device: impl Into<Option<Device>>) -> Result<Sequential> {
    load_model_with(path, device, &LayerRegistry::new())
}

/// Finds the compiled custom loss and metrics in `registry`, else the process-wide registry.
fn resolve_custom_objects(c: &mut CompileConfig, registry: &LayerRegistry) -> Result<()> {
    if let Loss::Custom(loss) = &mut c.loss {
        loss.resolve(registry)?;
    }
    for metric in &mut c.metrics {
        if let crate::MetricKind::Custom(m) = &mut metric.kind {
            m.resolve(registry)?;
        }
    }
    Ok(())
}

/// [`load_model`] with custom layers', losses' and metrics' constructors from `registry`
/// (Keras's `custom_objects`) as well as from the process-wide registry (`registry` first).
// One sequence: read, resolve custom layers, check the description, build, assign weights,
// restore compile settings and optimizer slots; each step depends on the one before.
pub fn load_model_with(
    path: impl AsRef<Path>,
    device: impl Into<Option<Device>>,
    registry: &LayerRegistry,
) -> Result<Sequential> {
    let device = device.into().unwrap_or_else(Device::cuda_if_available);
    let path = path.as_ref();
    let (tensors, meta) = read_safetensors(path)?;
    let json = meta.get(MODEL_KEY).ok_or_else(|| {
        ckpt_error(path, "holds weights but no model architecture: load it with load_weights into a model you build, or save with save()")
    })?;
    let mut config: ModelConfig = serde_json::from_str(json)
        .map_err(|e| ckpt_error(path, format!("has an unreadable model description: {e}")))?;
    if config.format_version != FORMAT_VERSION {
        return Err(ckpt_error(
            path,
            format!("has format version {}, this library reads {FORMAT_VERSION}", config.format_version),
        ));
    }
    for layer in &mut config.layers {
        if let LayerConfig::Custom(custom) = layer {
            custom.resolve(registry)?;
        }
    }
    check_description(path, &config, &tensors)?;
    warn_non_finite(path, "loading", &tensors)?;
    let mut model =
        Sequential::new().device(device).seed(config.seed).precision(config.precision).name(config.name.clone());
    for layer in config.layers {
        model.push(layer);
    }
    for &index in &config.frozen {
        model.set_trainable(index, false).map_err(|e| ckpt_error(path, format!("has a bad frozen layer: {e}")))?;
    }
    model.build_for(&config.input_shape)?;
    model.assign_variables(path, &tensors)?;
    model.metadata = config.metadata;
    if let Some(mut c) = config.compile {
        resolve_custom_objects(&mut c, registry)?;
        model.compile(c.optimizer.clone(), c.loss, c.metrics)?;
        let state = model.train_state_mut("load_model")?;
        state.epochs_done = config.epochs_done;
        state.fit_settings = c.fit;
        if c.iterations > 0 {
            let names = model.trainable_names()?;
            let file: HashMap<&str, &Tensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
            let built = model.built("load_model")?;
            let mut slots = Vec::new();
            for slot in c.optimizer.slot_names() {
                let parts = names
                    .iter()
                    .zip(&built.trainable)
                    .zip(&built.orders)
                    .map(|((param, var), &order)| {
                        let key = slot_name(param, slot);
                        let t = file
                            .get(key.as_str())
                            .ok_or_else(|| ckpt_error(path, format!("optimizer state {key} is missing")))?;
                        if t.size() != var.size() {
                            return Err(ckpt_error(
                                path,
                                format!("optimizer state {key} has shape {:?}, expected {:?}", t.size(), var.size()),
                            ));
                        }
                        crate::flat::in_memory_order(&t.f_to_kind(Kind::Float)?, order)
                    })
                    .collect::<Result<Vec<_>>>()?;
                slots.push(Tensor::f_cat(&parts, 0)?.f_to_device(device)?);
            }
            let scalars = saved_scalars(path, &c.optimizer, &file, device)?;
            model.train_state_mut("load_model")?.optimizer =
                OptimizerState::restored(c.optimizer, c.iterations, slots, scalars);
        }
    }
    Ok(model)
}

/// The optimizer's scalar state variables saved as `optimizer.{name}` (Nadam's `u_product`),
/// each a 0-d float tensor on `device`.
fn saved_scalars(
    path: &Path,
    optimizer: &Optimizer,
    file: &HashMap<&str, &Tensor>,
    device: Device,
) -> Result<Vec<Tensor>> {
    optimizer
        .scalar_names()
        .iter()
        .map(|name| {
            let key = format!("optimizer.{name}");
            let t =
                file.get(key.as_str()).ok_or_else(|| ckpt_error(path, format!("optimizer state {key} is missing")))?;
            if !t.size().is_empty() {
                return Err(ckpt_error(path, format!("optimizer state {key} has shape {:?}, expected []", t.size())));
            }
            // A copy of its own: the update changes it in place.
            deep_copy(&t.f_to_kind(Kind::Float)?.f_to_device(device)?)
        })
        .collect()
}

/// Refuses a file name with another format's extension (Keras's `.keras`, `.h5`, PyTorch's
/// `.pt`, ...): the file would hold safetensors under a misleading name. Other names, and names
/// without an extension, are written as given.
fn check_extension(path: &Path) -> Result<()> {
    const OTHER_FORMATS: [&str; 12] =
        ["keras", "h5", "hdf5", "pt", "pth", "pb", "onnx", "ckpt", "pkl", "pickle", "tflite", "npz"];
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if OTHER_FORMATS.contains(&ext.to_ascii_lowercase().as_str()) => {
            Err(Error::FileExtension { path: path.to_path_buf(), extension: ext.to_string() })
        }
        _ => Ok(()),
    }
}
