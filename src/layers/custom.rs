//! User-written layers: the [`Layer`] trait a user implements in their own crate, the
//! [`CustomLayer`] that holds one inside a model's [`LayerConfig`](super::LayerConfig), the
//! [`LayerVars`] its variables are created through, and the [`LayerRegistry`] that
//! [`load_model`](crate::load_model) rebuilds it from by name (Keras's `custom_objects`).
//!
//! A custom layer is added like a built-in (`Sequential::new().add(Scale::new())`), is shown
//! in `summary` under its class name, and saves its variables as `layers.{index}.{name}`. A
//! whole-model file stores its class name and its serde JSON configuration; loading the file
//! needs the type registered under that name ([`register_layer`]), or the load fails with
//! [`Error::UnknownLayer`].
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, RwLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tch::{nn, Device, Kind, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::{Activation, Error, Result};

/// A layer written outside this library (Keras's `keras.layers.Layer` subclass).
///
/// Implement it on a small configuration struct that also derives serde's `Serialize` and
/// `Deserialize` (its JSON form is what a saved model stores), and implement [`LayerModule`] on
/// the module [`build`](Self::build) returns. See the README's "Write your own layer".
///
/// Shapes are per sample, without the batch axis.
pub trait Layer: Debug + Send + Sync + 'static {
    /// The name the layer is saved and registered under, such as `"Scale"` (Keras's class
    /// name). `summary` shows it, and derives the layer's name from it (`scale`, `scale_1`).
    fn class_name(&self) -> &'static str;

    /// The per-sample output shape for a per-sample input shape, or what is wrong with the input.
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String>;

    /// The variables [`build`](Self::build) creates for `input`: each name and shape. A saved
    /// model's file is checked against these before anything is built, and `build` must create
    /// exactly these (checked when the model is built). Layers without variables keep the
    /// default (none).
    fn param_shapes(&self, _input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        Vec::new()
    }

    /// Creates the layer's variables through `vars` and returns the built module.
    fn build(&self, vars: &mut LayerVars<'_>, input: &[i64]) -> Result<Box<dyn LayerModule>>;

    /// The activation the model applies after the layer's output (default: none).
    fn activation(&self) -> Activation {
        Activation::Linear
    }

    /// Whether the forward pass draws random numbers in training (as dropout does), so a
    /// training step cannot be replayed from a CUDA graph. Default: no.
    fn stochastic(&self) -> bool {
        false
    }
}

/// How a variable starts (Keras's initializers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Initializer {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every value `c`.
    Constant(f64),
    /// `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`, Keras's default for kernels.
    GlorotUniform {
        /// Inputs per output.
        fan_in: i64,
        /// Outputs per input.
        fan_out: i64,
    },
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `N(mean, stddev²)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
}

impl Initializer {
    fn init(self) -> nn::Init {
        match self {
            Initializer::Zeros => nn::Init::Const(0.0),
            Initializer::Ones => nn::Init::Const(1.0),
            Initializer::Constant(c) => nn::Init::Const(c),
            Initializer::GlorotUniform { fan_in, fan_out } => super::glorot_uniform(fan_in, fan_out),
            Initializer::Uniform { low, high } => nn::Init::Uniform { lo: low, up: high },
            Initializer::Normal { mean, stddev } => nn::Init::Randn { mean, stdev: stddev },
        }
    }
}

/// Where a custom layer creates its variables: under `layers.{index}` of the model, on the
/// model's device, drawn from the model's seed. Each variable's name must be unique within the
/// layer and contain no `.`.
pub struct LayerVars<'a> {
    path: &'a nn::Path<'a>,
    layer: &'static str,
    created: Vec<(String, Vec<i64>)>,
}

impl<'a> LayerVars<'a> {
    /// A trainable variable (float32): what the optimizer updates.
    pub fn weight(&mut self, name: &str, shape: &[i64], init: Initializer) -> Result<Tensor> {
        self.check(name, shape)?;
        let t = self.path.f_var(name, shape, init.init())?;
        self.created.push((name.to_string(), shape.to_vec()));
        Ok(t)
    }

    /// A variable the optimizer does not update but that is saved with the weights (as batch
    /// normalization's running statistics).
    pub fn buffer(&mut self, name: &str, shape: &[i64], init: Initializer) -> Result<Tensor> {
        self.check(name, shape)?;
        let t = nn::f_init(init.init(), shape, self.path.device(), Kind::Float)?;
        let t = self.path.add(name, t, false);
        self.created.push((name.to_string(), shape.to_vec()));
        Ok(t)
    }

    /// The device the model's variables live on.
    pub fn device(&self) -> Device {
        self.path.device()
    }

    fn check(&self, name: &str, shape: &[i64]) -> Result<()> {
        if name.is_empty() || name.contains('.') {
            return Err(config_error(self.layer, format!("variable name {name:?} must be non-empty and have no '.'")));
        }
        if self.created.iter().any(|(n, _)| n == name) {
            return Err(config_error(self.layer, format!("creates variable {name:?} twice; give each its own name")));
        }
        if shape.iter().any(|&d| d < 0) {
            return Err(config_error(self.layer, format!("variable {name:?} has a negative size in {shape:?}")));
        }
        Ok(())
    }
}

/// A user-written layer inside a model: the [`Layer`], its class name and its JSON
/// configuration. `Sequential::add` makes one from any `Layer + Serialize`; a model read from
/// a file holds the class name and configuration until [`load_model`](crate::load_model) finds
/// the registered type.
#[derive(Clone)]
pub struct CustomLayer {
    class_name: String,
    config: std::result::Result<serde_json::Value, String>,
    layer: Option<Arc<dyn Layer>>,
}

impl CustomLayer {
    /// Wraps a layer; its configuration is its serde JSON form.
    pub fn new<L: Layer + Serialize>(layer: L) -> Self {
        let config = serde_json::to_value(&layer).map_err(|e| e.to_string());
        Self { class_name: layer.class_name().to_string(), config, layer: Some(Arc::new(layer)) }
    }

    /// The name the layer is saved and registered under.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The layer's JSON configuration (an error when its type could not be serialized).
    pub fn config(&self) -> std::result::Result<&serde_json::Value, &str> {
        self.config.as_ref().map_err(|e| e.as_str())
    }

    /// The layer, or `None` for a layer read from a file whose type is not found yet.
    pub fn layer(&self) -> Option<&dyn Layer> {
        self.layer.as_deref()
    }

    /// Makes the layer from its class name and configuration with the constructor registered
    /// in `registry`, else in the process-wide registry ([`register_layer`]). Does nothing when
    /// the layer is already there.
    pub fn resolve(&mut self, registry: &LayerRegistry) -> Result<()> {
        if self.layer.is_some() {
            return Ok(());
        }
        let constructor = registry
            .get(&self.class_name)
            .or_else(|| global().read().unwrap_or_else(|e| e.into_inner()).get(&self.class_name));
        let constructor = constructor.ok_or_else(|| Error::UnknownLayer { name: self.class_name.clone() })?;
        let config = self.config.as_ref().map_err(|e| Error::invalid("layer config", e.clone()))?;
        let layer = constructor(config).map_err(|message| Error::CustomLayerConfig {
            name: self.class_name.clone(),
            message: format!("its saved configuration {config} cannot be read: {message}"),
        })?;
        if layer.class_name() != self.class_name {
            return Err(Error::CustomLayerConfig {
                name: self.class_name.clone(),
                message: format!(
                    "the type registered under this name says its class_name() is {:?}; register it under that name",
                    layer.class_name()
                ),
            });
        }
        self.layer = Some(layer);
        Ok(())
    }

    /// Keras's default layer name: the class name in snake case, as Keras's `to_snake_case`
    /// (`ScaledResidual` -> `scaled_residual`, `LSTMCell` -> `lstm_cell`).
    pub(crate) fn name_prefix(&self) -> String {
        snake_case(&self.class_name)
    }

    pub(crate) fn stochastic(&self) -> bool {
        self.layer.as_ref().is_some_and(|l| l.stochastic())
    }

    fn unresolved(&self) -> String {
        format!(
            "the custom layer {:?} is not registered: call tch_keras::layers::register_layer::<YourType>({:?}) first",
            self.class_name, self.class_name
        )
    }
}

impl Debug for CustomLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomLayer")
            .field("class_name", &self.class_name)
            .field("config", &self.config)
            .field("registered", &self.layer.is_some())
            .finish()
    }
}

impl PartialEq for CustomLayer {
    fn eq(&self, other: &Self) -> bool {
        self.class_name == other.class_name && self.config == other.config
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    class_name: String,
    config: serde_json::Value,
}

impl Serialize for CustomLayer {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let config = self.config.as_ref().map_err(|e| {
            serde::ser::Error::custom(format!("layer {} cannot be saved: its configuration: {e}", self.class_name))
        })?;
        Stored { class_name: self.class_name.clone(), config: config.clone() }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CustomLayer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        Ok(Self { class_name: stored.class_name, config: Ok(stored.config), layer: None })
    }
}

/// Keras's `to_snake_case`: drops non-word characters, then applies its two substitutions,
/// `(.)([A-Z][a-z]+)` -> `\1_\2` and `([a-z])([A-Z])` -> `\1_\2`, and lowercases.
fn snake_case(name: &str) -> String {
    let c: Vec<char> = name.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
    let mut first = Vec::with_capacity(c.len() + 4);
    let mut i = 0;
    while i < c.len() {
        let lower_from = |j: usize| c.get(j).is_some_and(|c| c.is_ascii_lowercase());
        if c.get(i + 1).is_some_and(|c| c.is_ascii_uppercase()) && lower_from(i + 2) {
            first.extend([c[i], '_', c[i + 1]]);
            i += 2;
            while lower_from(i) {
                first.push(c[i]);
                i += 1;
            }
        } else {
            first.push(c[i]);
            i += 1;
        }
    }
    let mut out = String::with_capacity(first.len() + 4);
    let mut i = 0;
    while i < first.len() {
        if first[i].is_ascii_lowercase() && first.get(i + 1).is_some_and(|c| c.is_ascii_uppercase()) {
            out.extend([first[i], '_', first[i + 1]]);
            i += 2;
        } else {
            out.push(first[i]);
            i += 1;
        }
    }
    out.to_lowercase()
}

/// Checks a user module's output against the shape its layer declared.
#[derive(Debug)]
struct Checked {
    inner: Box<dyn LayerModule>,
    layer: &'static str,
    output: Vec<i64>,
}

impl LayerModule for Checked {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let y = self.inner.forward_t(xs, train)?;
        let size = y.size();
        if size.get(1..) != Some(self.output.as_slice()) {
            return Err(config_error(
                self.layer,
                format!(
                    "forward_t returned shape {size:?} but output_shape declared {} per sample; make them agree",
                    crate::error::batch_shape(&self.output)
                ),
            ));
        }
        Ok(y)
    }
}

impl LayerSpec for CustomLayer {
    fn kind(&self) -> &'static str {
        self.layer.as_ref().map_or("unregistered custom layer", |l| l.class_name())
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        match &self.layer {
            Some(l) => l.output_shape(input),
            None => Err(self.unresolved()),
        }
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let mut shapes = self.layer.as_ref().map(|l| l.param_shapes(input)).unwrap_or_default();
        shapes.sort();
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let layer = self.layer.as_ref().ok_or_else(|| Error::UnknownLayer { name: self.class_name.clone() })?;
        let kind = layer.class_name();
        let output = layer.output_shape(input).map_err(|m| config_error(kind, m))?;
        let mut vars = LayerVars { path, layer: kind, created: Vec::new() };
        let inner = layer.build(&mut vars, input)?;
        let mut created = vars.created;
        created.sort();
        let declared: Vec<(String, Vec<i64>)> =
            self.param_shapes(input).into_iter().map(|(n, s)| (n.to_string(), s)).collect();
        if created != declared {
            return Err(config_error(
                kind,
                format!(
                    "build created the variables {created:?} but param_shapes declares {declared:?}; make them agree"
                ),
            ));
        }
        Ok(Box::new(Checked { inner, layer: kind, output }))
    }

    fn activation(&self) -> Activation {
        self.layer.as_ref().map_or(Activation::Linear, |l| l.activation())
    }
}

/// Reads a layer's saved JSON configuration into its type.
pub type LayerConstructor = fn(&serde_json::Value) -> std::result::Result<Arc<dyn Layer>, String>;

fn construct<L: Layer + DeserializeOwned>(config: &serde_json::Value) -> std::result::Result<Arc<dyn Layer>, String> {
    serde_json::from_value::<L>(config.clone()).map(|l| Arc::new(l) as Arc<dyn Layer>).map_err(|e| e.to_string())
}

/// Constructors of custom layers by class name, for [`load_model_with`](crate::saving::load_model_with)
/// (Keras's `custom_objects`); [`register_layer`] fills the process-wide one that
/// [`load_model`](crate::load_model) uses.
///
/// It also holds custom losses and metrics ([`with_loss`](Self::with_loss),
/// [`with_metric`](Self::with_metric)), which [`register_loss`](crate::register_loss) and
/// [`register_metric`](crate::register_metric) register process-wide.
#[derive(Debug, Clone, Default)]
pub struct LayerRegistry {
    constructors: HashMap<String, LayerConstructor>,
    objects: crate::custom_objects::ObjectRegistry,
}

impl LayerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `L` under `name` (its [`Layer::class_name`]), builder style.
    pub fn with<L: Layer + DeserializeOwned>(mut self, name: impl Into<String>) -> Self {
        self.register::<L>(name);
        self
    }

    /// Registers `L` under `name` (its [`Layer::class_name`]); a later registration of the
    /// same name replaces it.
    pub fn register<L: Layer + DeserializeOwned>(&mut self, name: impl Into<String>) {
        self.constructors.insert(name.into(), construct::<L>);
    }

    /// Whether a constructor is registered under `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.constructors.contains_key(name)
    }

    /// Registers the custom loss type `L` under `name` (its [`LossFn::name`](crate::LossFn::name)),
    /// builder style.
    pub fn with_loss<L: crate::LossFn + DeserializeOwned>(mut self, name: impl Into<String>) -> Self {
        self.objects.add_loss::<L>(name.into());
        self
    }

    /// Registers a closure loss (see [`Loss::from_fn`](crate::Loss::from_fn)) under `name`,
    /// builder style.
    pub fn with_loss_fn<F>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    {
        let name = name.into();
        let loss = crate::custom_objects::ClosureLoss { name: name.clone(), f: Box::new(f) };
        self.objects.add_loss_fn(name, Arc::new(loss));
        self
    }

    /// Registers the custom metric type `M` under `name` (its
    /// [`MetricFn::name`](crate::MetricFn::name)), builder style.
    pub fn with_metric<M: crate::MetricFn + DeserializeOwned>(mut self, name: impl Into<String>) -> Self {
        self.objects.add_metric::<M>(name.into());
        self
    }

    /// Whether a custom loss is registered under `name` here.
    pub fn contains_loss(&self, name: &str) -> bool {
        self.objects.has_loss(name)
    }

    /// Whether a custom metric is registered under `name` here.
    pub fn contains_metric(&self, name: &str) -> bool {
        self.objects.has_metric(name)
    }

    pub(crate) fn objects(&self) -> &crate::custom_objects::ObjectRegistry {
        &self.objects
    }

    fn get(&self, name: &str) -> Option<LayerConstructor> {
        self.constructors.get(name).copied()
    }
}

fn global() -> &'static RwLock<LayerRegistry> {
    static GLOBAL: std::sync::OnceLock<RwLock<LayerRegistry>> = std::sync::OnceLock::new();
    GLOBAL.get_or_init(Default::default)
}

/// Registers `L` under `name` (its [`Layer::class_name`]) for every later
/// [`load_model`](crate::load_model) in this process, as Keras's
/// `register_keras_serializable`.
pub fn register_layer<L: Layer + DeserializeOwned>(name: impl Into<String>) {
    let mut registry = global().write().unwrap_or_else(|e| e.into_inner());
    registry.register::<L>(name);
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn layer_names_are_keras_snake_case() {
        // tests/reference/snake_case.py (Keras 3's keras.src.utils.naming.to_snake_case).
        let keras = [
            ("Scale", "scale"),
            ("ScaledResidual", "scaled_residual"),
            ("LSTMCell", "lstm_cell"),
            ("Conv2D", "conv2d"),
            ("MyDense2", "my_dense2"),
            ("AbCdEf", "ab_cd_ef"),
            ("HTTPLayer", "http_layer"),
        ];
        for (name, expected) in keras {
            assert_eq!(snake_case(name), expected, "{name}");
        }
    }
}
