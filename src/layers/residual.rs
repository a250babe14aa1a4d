//! `Residual`: a block of layers whose output is added to its input (or to a shortcut branch's
//! output), ResNet's building block, inside a [`Sequential`](crate::Sequential).
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerConfig, LayerModule, LayerSpec};
use crate::error::batch_shape;
use crate::{Activation, Error, Regularizer, Result};

/// A residual block: `activation(block(x) + shortcut(x))`, what a Keras user writes with the
/// functional API as `Activation("relu")(Add()([block(x), shortcut(x)]))`.
///
/// The block is a list of layers run one after the other, as in a `Sequential` (each layer's
/// own activation applied after it). The shortcut is the identity unless layers are given for
/// it, usually a 1x1 strided `Conv2D` (and a `BatchNormalization`) when the block changes the
/// shape. The two outputs must have the same shape; the model refuses one that does not, at
/// build time, naming both shapes. `activation` is applied after the sum (default linear;
/// ResNet's is relu).
///
/// ```
/// use tch_keras::{Activation, BatchNormalization, Conv2D, Padding, Residual, Sequential};
/// let conv = |filters, strides| Conv2D::new(filters, 3).strides(strides).padding(Padding::Same);
/// let block = Residual::new()
///     .add(conv(16, 2))
///     .add(BatchNormalization::new())
///     .add(Activation::Relu)
///     .add(conv(16, 1))
///     .add(BatchNormalization::new())
///     .shortcut_add(Conv2D::new(16, 1).strides(2))
///     .shortcut_add(BatchNormalization::new())
///     .activation(Activation::Relu);
/// let model = Sequential::new().add(block);
/// assert_eq!(model.output_shapes(&[8, 28, 28])?, [[16, 14, 14]]);
/// # Ok::<(), tch_keras::Error>(())
/// ```
///
/// Variables live under the layer's path, by branch and position: `layers.{i}.block.{j}.{name}`
/// and `layers.{i}.shortcut.{j}.{name}` (e.g. `layers.3.block.1.running_mean`). The summary
/// shows the block as one row with all its parameters; `set_trainable` freezes it as a whole (a
/// frozen block's batch normalizations run in inference mode, as in Keras). Custom layers,
/// `Embedding` and `Normalization` are refused inside a block (place them before it).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Residual {
    /// The block's layers, in order.
    pub layers: Vec<LayerConfig>,
    /// The shortcut's layers, in order; empty for the identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortcut: Vec<LayerConfig>,
    /// The activation applied after the sum.
    #[serde(default, skip_serializing_if = "is_linear")]
    pub activation: Activation,
}

fn is_linear(a: &Activation) -> bool {
    *a == Activation::Linear
}

impl Residual {
    /// An empty block with an identity shortcut; add its layers with [`add`](Self::add).
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a layer to the block (builder style, as [`Sequential::add`](crate::Sequential::add)).
    #[allow(clippy::should_implement_trait)]
    #[must_use]
    pub fn add(mut self, layer: impl Into<LayerConfig>) -> Self {
        self.layers.push(layer.into());
        self
    }
    /// Appends a layer to the shortcut branch (a projection such as `Conv2D::new(f, 1)`).
    #[must_use]
    pub fn shortcut_add(mut self, layer: impl Into<LayerConfig>) -> Self {
        self.shortcut.push(layer.into());
        self
    }
    /// Sets the activation applied after the sum (ResNet's is relu).
    #[must_use]
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The two branches with their names in variable paths and messages.
    fn branches(&self) -> [(&'static str, &[LayerConfig]); 2] {
        [("block", self.layers.as_slice()), ("shortcut", self.shortcut.as_slice())]
    }

    /// Refuses an empty block and the layers a block cannot hold.
    fn check_layers(&self) -> std::result::Result<(), String> {
        if self.layers.is_empty() {
            return Err("its block has no layers: add them with Residual::new().add(layer)".into());
        }
        for (branch, layers) in self.branches() {
            for (j, layer) in layers.iter().enumerate() {
                let why = match layer {
                    LayerConfig::Custom(_) => "custom layers are not supported inside a Residual yet",
                    LayerConfig::Embedding(_) => "an Embedding takes the model's token ids, not a block's values",
                    LayerConfig::Normalization(_) => "adapt_layer cannot reach a Normalization inside a Residual",
                    _ if layer.spec().activity_regularizer().is_some() => {
                        "its activity_regularizer is collected from the Sequential's own layers only (or add an \
                         ActivityRegularization after the Residual)"
                    }
                    _ => continue,
                };
                return Err(format!(
                    "its {branch}'s layer {j} ({}): {why}; place it in the Sequential before the Residual",
                    layer.spec().kind()
                ));
            }
        }
        Ok(())
    }

    /// The output shape of each layer of a branch for `input`, and the branch's output (the
    /// input itself for an empty shortcut).
    fn branch_shapes(branch: &str, layers: &[LayerConfig], input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let mut shape = input.to_vec();
        for (j, layer) in layers.iter().enumerate() {
            let spec = layer.spec();
            let out = spec.output_shape(&shape).map_err(|m| {
                format!(
                    "its {branch}'s layer {j} ({}) cannot take input shape {}: {m}",
                    spec.kind(),
                    batch_shape(&shape)
                )
            })?;
            let values = out.iter().try_fold(1i64, |n, &d| n.checked_mul(d));
            if values.is_none_or(|v| v > crate::saving::MAX_SAMPLE_VALUES) {
                return Err(format!(
                    "its {branch}'s layer {j} ({}) outputs {}, more than the {} values per sample a model may hold: \
                     use smaller sizes",
                    spec.kind(),
                    batch_shape(&out),
                    crate::saving::MAX_SAMPLE_VALUES
                ));
            }
            shape = out;
        }
        Ok(shape)
    }

    /// Each layer of a branch with its input shape (the branch's shapes must be valid).
    fn with_inputs<'a>(layers: &'a [LayerConfig], input: &[i64]) -> Vec<(&'a LayerConfig, Vec<i64>)> {
        let mut shape = input.to_vec();
        let mut out = Vec::with_capacity(layers.len());
        for layer in layers {
            let next = layer.spec().output_shape(&shape).unwrap_or_default();
            out.push((layer, std::mem::replace(&mut shape, next)));
        }
        out
    }

    /// Each layer inside with its path under the block (`block.0`, `shortcut.1`, the prefix of
    /// its variables' names) and its input shape, block first, for `input` (a shape
    /// [`output_shape`](LayerSpec::output_shape) accepts): what the summary lists under the block.
    pub(crate) fn inner_layers(&self, input: &[i64]) -> Vec<(String, &LayerConfig, Vec<i64>)> {
        let mut inner = Vec::new();
        for (branch, layers) in self.branches() {
            for (j, (layer, shape)) in Self::with_inputs(layers, input).into_iter().enumerate() {
                inner.push((format!("{branch}.{j}"), layer, shape));
            }
        }
        inner
    }

    /// Whether a layer inside draws random numbers in training.
    pub(crate) fn draws_random(&self) -> bool {
        self.layers.iter().chain(&self.shortcut).any(LayerConfig::draws_random)
    }
}

impl LayerSpec for Residual {
    fn kind(&self) -> &'static str {
        "Residual"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check_layers()?;
        let block = Self::branch_shapes("block", &self.layers, input)?;
        let shortcut = Self::branch_shapes("shortcut", &self.shortcut, input)?;
        if block != shortcut {
            let hint = if self.shortcut.is_empty() {
                format!(
                    "the identity shortcut passes the input {} on unchanged; give the shortcut a projection to the \
                     block's shape with .shortcut_add(..), such as a 1x1 Conv2D with the block's filters and strides \
                     for images or a Dense for features",
                    batch_shape(input)
                )
            } else {
                "change the shortcut's layers (filters, strides, padding) so that its output has the block's shape"
                    .into()
            };
            return Err(format!(
                "its block outputs {} but its shortcut {}, which cannot be added: {hint}",
                batch_shape(&block),
                batch_shape(&shortcut)
            ));
        }
        Ok(block)
    }

    /// The inner layers' variables, under `block.{j}.` and `shortcut.{j}.`.
    fn variable_shapes(&self, input: &[i64]) -> Vec<(String, Vec<i64>)> {
        let mut shapes = Vec::new();
        for (branch, layers) in self.branches() {
            for (j, (layer, shape)) in Self::with_inputs(layers, input).into_iter().enumerate() {
                let inner = layer.spec().variable_shapes(&shape);
                shapes.extend(inner.into_iter().map(|(name, dims)| (format!("{branch}.{j}.{name}"), dims)));
            }
        }
        shapes.sort_by(|a, b| crate::model::natural_order(&a.0).cmp(&crate::model::natural_order(&b.0)));
        shapes
    }

    fn variable_regularizers(&self) -> Vec<(String, Regularizer)> {
        let mut all = Vec::new();
        for (branch, layers) in self.branches() {
            for (j, layer) in layers.iter().enumerate() {
                let inner = layer.spec().variable_regularizers();
                all.extend(inner.into_iter().map(|(name, r)| (format!("{branch}.{j}.{name}"), r)));
            }
        }
        all
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| config_error("Residual", m))?;
        let mut built = [Vec::new(), Vec::new()];
        for ((branch, layers), modules) in self.branches().into_iter().zip(&mut built) {
            for (j, (layer, shape)) in Self::with_inputs(layers, input).into_iter().enumerate() {
                let spec = layer.spec();
                let module = spec.build(&(path / branch / j), &shape).map_err(|e| match e {
                    Error::LayerConfig { layer, message } => {
                        config_error("Residual", format!("its {branch}'s layer {j} ({layer}): {message}"))
                    }
                    e => e,
                })?;
                modules.push((module, spec.activation()));
            }
        }
        let [block, shortcut] = built;
        Ok(Box::new(ResidualModule { block, shortcut }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }
}

/// The built block and shortcut, each layer with its activation.
#[derive(Debug)]
struct ResidualModule {
    block: Vec<(Box<dyn LayerModule>, Activation)>,
    shortcut: Vec<(Box<dyn LayerModule>, Activation)>,
}

impl ResidualModule {
    /// `block(x) + shortcut(x)`, the layers inside run as frozen ones when `frozen`.
    fn run(&self, xs: &Tensor, train: bool, frozen: bool) -> Result<Tensor> {
        let branch = |layers: &[(Box<dyn LayerModule>, Activation)]| -> Result<Tensor> {
            let mut x = xs.shallow_clone();
            for (module, activation) in layers {
                let y = if frozen { module.forward_frozen_t(&x, train)? } else { module.forward_t(&x, train)? };
                x = activation.apply(&y)?;
            }
            Ok(x)
        };
        Ok(branch(&self.block)?.f_add(&branch(&self.shortcut)?)?)
    }
}

impl LayerModule for ResidualModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        self.run(xs, train, false)
    }

    fn forward_frozen_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        self.run(xs, train, true)
    }
}
