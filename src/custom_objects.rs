//! User-written losses and metrics: the [`LossFn`] and [`MetricFn`] traits a user implements
//! in their own crate, the [`CustomLoss`] and [`CustomMetric`] that hold one inside a
//! [`Loss`](crate::Loss) or [`MetricKind`](crate::MetricKind), and the process-wide
//! registrations ([`register_loss`], [`register_loss_fn`], [`register_metric`]) that
//! [`load_model`](crate::load_model) rebuilds them from by name (Keras's `custom_objects`).
//!
//! A compiled model saves a custom loss or metric as its name and serde JSON configuration; a
//! loss made from a closure ([`Loss::from_fn`](crate::Loss::from_fn)) saves its name only and
//! needs the closure registered again ([`register_loss_fn`]) to load.
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, RwLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tch::Tensor;

use crate::layers::LayerRegistry;
use crate::{Error, Result};

/// A loss written outside this library (Keras's custom loss function or `Loss` subclass).
///
/// Implement it on a small configuration struct deriving serde's `Serialize` and `Deserialize`
/// (its JSON form is what a saved model stores) and compile with
/// [`Loss::custom`](crate::Loss::custom). See the README's "Write your own loss or metric".
pub trait LossFn: Debug + Send + Sync + 'static {
    /// The name the loss is saved and registered under, such as `"HandMse"`.
    fn name(&self) -> &str;

    /// Each sample's loss, shape `[N]`, from the final outputs `y_pred` (`[N, ...]`, after the
    /// last layer's activation) and float targets `y_true` of the same shape. Sample weights,
    /// class weights and the batch mean are applied afterwards, as for the built-in losses. A
    /// scalar (the batch mean) is accepted when no sample or class weights are given.
    fn loss(&self, y_pred: &Tensor, y_true: &Tensor) -> Result<Tensor>;
}

/// A metric written outside this library (Keras's `Metric` subclass).
///
/// Its state is a vector of [`state_len`](Self::state_len) sums: each batch returns its
/// contribution ([`batch_state`](Self::batch_state)), the training loop adds them up on the
/// device (across batches and, in distributed runs, across processes), and the logged value is
/// [`result`](Self::result) of the sums. Implement it on a serde-serializable struct and add it
/// with [`Metric::custom`](crate::Metric::custom).
pub trait MetricFn: Debug + Send + Sync + 'static {
    /// The name the metric is saved and registered under, such as `"Mape"`.
    fn name(&self) -> &str;

    /// How many sums the state holds (default 1).
    fn state_len(&self) -> usize {
        1
    }

    /// The batch's contribution to the state: a float tensor of shape `[state_len]` on
    /// `y_pred`'s device. `y_pred` are the final outputs (after the last activation), `y_true`
    /// the targets as given (already on the device), and `sample_weight` (`[N]`) is present
    /// only for a [`weighted`](crate::Metric::weighted) metric given sample weights. Avoid
    /// host reads (`double_value`, ...) here: they slow every step.
    fn batch_state(&self, y_pred: &Tensor, y_true: &Tensor, sample_weight: Option<&Tensor>) -> Result<Tensor>;

    /// The logged value from the state summed over an epoch of `count` samples.
    fn result(&self, state: &[f64], count: i64) -> f64;

    /// Whether a higher value is better (for callbacks monitoring it in `"auto"` mode).
    fn higher_is_better(&self) -> bool {
        false
    }
}

/// Makes a loss from its saved JSON configuration.
type LossConstructor = Arc<dyn Fn(&serde_json::Value) -> std::result::Result<Arc<dyn LossFn>, String> + Send + Sync>;
/// Makes a metric from its saved JSON configuration.
type MetricConstructor =
    Arc<dyn Fn(&serde_json::Value) -> std::result::Result<Arc<dyn MetricFn>, String> + Send + Sync>;

/// Registered constructors of custom losses and metrics, by name (part of a
/// [`LayerRegistry`]).
#[derive(Clone, Default)]
pub(crate) struct ObjectRegistry {
    pub(crate) losses: HashMap<String, LossConstructor>,
    pub(crate) metrics: HashMap<String, MetricConstructor>,
}

impl Debug for ObjectRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectRegistry")
            .field("losses", &self.losses.keys().collect::<Vec<_>>())
            .field("metrics", &self.metrics.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ObjectRegistry {
    pub(crate) fn add_loss<L: LossFn + DeserializeOwned>(&mut self, name: String) {
        let make = |c: &serde_json::Value| {
            serde_json::from_value::<L>(c.clone()).map(|l| Arc::new(l) as Arc<dyn LossFn>).map_err(|e| e.to_string())
        };
        self.losses.insert(name, Arc::new(make));
    }

    pub(crate) fn add_loss_fn(&mut self, name: String, f: Arc<dyn LossFn>) {
        self.losses.insert(name, Arc::new(move |_: &serde_json::Value| Ok(f.clone())));
    }

    pub(crate) fn add_metric<M: MetricFn + DeserializeOwned>(&mut self, name: String) {
        let make = |c: &serde_json::Value| {
            serde_json::from_value::<M>(c.clone()).map(|m| Arc::new(m) as Arc<dyn MetricFn>).map_err(|e| e.to_string())
        };
        self.metrics.insert(name, Arc::new(make));
    }

    pub(crate) fn has_loss(&self, name: &str) -> bool {
        self.losses.contains_key(name)
    }

    pub(crate) fn has_metric(&self, name: &str) -> bool {
        self.metrics.contains_key(name)
    }
}

/// What `pick` finds in `registry`, else in the process-wide registry.
fn lookup<T>(registry: &LayerRegistry, pick: impl Fn(&ObjectRegistry) -> Option<T>) -> Option<T> {
    pick(registry.objects()).or_else(|| pick(&global().read().unwrap_or_else(|e| e.into_inner())))
}

fn global() -> &'static RwLock<ObjectRegistry> {
    static GLOBAL: std::sync::OnceLock<RwLock<ObjectRegistry>> = std::sync::OnceLock::new();
    GLOBAL.get_or_init(Default::default)
}

/// Registers the loss type `L` under `name` (its [`LossFn::name`]) for every later
/// [`load_model`](crate::load_model) in this process.
pub fn register_loss<L: LossFn + DeserializeOwned>(name: impl Into<String>) {
    global().write().unwrap_or_else(|e| e.into_inner()).add_loss::<L>(name.into());
}

/// Registers a closure loss (as [`Loss::from_fn`](crate::Loss::from_fn) makes) under `name`
/// for every later [`load_model`](crate::load_model) in this process: a saved model holds only
/// the closure's name, so loading needs the closure again.
pub fn register_loss_fn<F>(name: impl Into<String>, f: F)
where
    F: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
{
    let name = name.into();
    let loss = Arc::new(ClosureLoss { name: name.clone(), f: Box::new(f) });
    global().write().unwrap_or_else(|e| e.into_inner()).add_loss_fn(name, loss);
}

/// Registers the metric type `M` under `name` (its [`MetricFn::name`]) for every later
/// [`load_model`](crate::load_model) in this process.
pub fn register_metric<M: MetricFn + DeserializeOwned>(name: impl Into<String>) {
    global().write().unwrap_or_else(|e| e.into_inner()).add_metric::<M>(name.into());
}

/// A loss made from a closure.
pub(crate) struct ClosureLoss {
    pub(crate) name: String,
    #[allow(clippy::type_complexity)]
    pub(crate) f: Box<dyn Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync>,
}

impl Debug for ClosureLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClosureLoss({:?})", self.name)
    }
}

impl LossFn for ClosureLoss {
    fn name(&self) -> &str {
        &self.name
    }
    fn loss(&self, y_pred: &Tensor, y_true: &Tensor) -> Result<Tensor> {
        (self.f)(y_pred, y_true)
    }
}

/// What a saved custom loss or metric stores: its name and configuration (`null` for a
/// closure loss).
#[derive(Serialize, Deserialize)]
struct Stored {
    name: String,
    config: serde_json::Value,
}

/// A user-written loss inside a [`Loss`](crate::Loss): the [`LossFn`], its name and its JSON
/// configuration. A loss read from a file holds the name and configuration until
/// [`load_model`](crate::load_model) finds the registered type.
#[derive(Clone)]
pub struct CustomLoss {
    name: String,
    /// `None` for a closure loss, which has no configuration.
    config: Option<serde_json::Value>,
    loss: Option<Arc<dyn LossFn>>,
}

impl CustomLoss {
    /// Wraps a loss; its configuration is its serde JSON form.
    pub fn new<L: LossFn + Serialize>(loss: L) -> Result<Self> {
        let config = serde_json::to_value(&loss).map_err(|e| Error::CustomFunction {
            name: loss.name().to_string(),
            message: format!("its configuration cannot be written as JSON ({e}); derive serde's Serialize on it"),
        })?;
        Ok(Self { name: loss.name().to_string(), config: Some(config), loss: Some(Arc::new(loss)) })
    }

    pub(crate) fn closure(loss: ClosureLoss) -> Self {
        Self { name: loss.name.clone(), config: None, loss: Some(Arc::new(loss)) }
    }

    /// The name the loss is saved and registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The loss, or `None` for a loss read from a file whose type is not found yet.
    pub fn loss_fn(&self) -> Option<&dyn LossFn> {
        self.loss.as_deref()
    }

    /// Makes the loss from its name and configuration with the constructor registered in
    /// `registry`, else in the process-wide one. Does nothing when the loss is already there.
    pub(crate) fn resolve(&mut self, registry: &LayerRegistry) -> Result<()> {
        if self.loss.is_some() {
            return Ok(());
        }
        let constructor =
            lookup(registry, |objects| objects.losses.get(&self.name).cloned()).ok_or_else(|| self.unresolved())?;
        let config = self.config.clone().unwrap_or(serde_json::Value::Null);
        let loss = constructor(&config).map_err(|message| Error::CustomFunction {
            name: self.name.clone(),
            message: format!("its saved configuration {config} cannot be read: {message}"),
        })?;
        self.loss = Some(loss);
        Ok(())
    }

    /// The loss, or the typed error saying what to register.
    pub(crate) fn get(&self) -> Result<&dyn LossFn> {
        self.loss.as_deref().ok_or_else(|| self.unresolved())
    }

    fn unresolved(&self) -> Error {
        let register = match self.config {
            None => format!(
                "it was made with Loss::from_fn, so a saved model holds only its name: call \
                 tch_keras::register_loss_fn({:?}, your_function) before load_model",
                self.name
            ),
            Some(_) => format!("call tch_keras::register_loss::<YourType>({:?}) before load_model", self.name),
        };
        Error::UnknownCustom {
            what: "loss",
            name: self.name.clone(),
            message: format!("{register}, or pass a LayerRegistry holding it to load_model_with"),
        }
    }
}

impl Debug for CustomLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomLoss")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("registered", &self.loss.is_some())
            .finish()
    }
}

impl PartialEq for CustomLoss {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.config == other.config
    }
}

impl Serialize for CustomLoss {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let config = self.config.clone().unwrap_or(serde_json::Value::Null);
        Stored { name: self.name.clone(), config }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CustomLoss {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        let config = if stored.config.is_null() { None } else { Some(stored.config) };
        Ok(Self { name: stored.name, config, loss: None })
    }
}

/// Checks what a custom loss returned: a float tensor of shape `[n]` (or a scalar when
/// `scalar_ok`) on `device`.
pub(crate) fn check_loss_value(name: &str, t: &Tensor, n: i64, scalar_ok: bool, device: tch::Device) -> Result<()> {
    let err = |message: String| Err(Error::CustomFunction { name: name.to_string(), message });
    let size = t.size();
    if !t.is_floating_point() {
        return err(format!("returned a {:?} tensor; return float losses", t.kind()));
    }
    if t.device() != device {
        return err(format!(
            "returned a tensor on {:?} but the outputs are on {device:?}; compute on y_pred's device",
            t.device()
        ));
    }
    if size.as_slice() == [n] || (scalar_ok && size.is_empty()) {
        return Ok(());
    }
    if size.is_empty() {
        return err(format!(
            "returned a scalar, but sample or class weights need each sample's loss: return shape [{n}]"
        ));
    }
    err(format!("returned shape {size:?}; return each sample's loss, shape [{n}] (or the batch mean, a scalar)"))
}

/// A user-written metric inside a [`MetricKind`](crate::MetricKind): the [`MetricFn`], its
/// name and its JSON configuration. A metric read from a file holds the name and
/// configuration until [`load_model`](crate::load_model) finds the registered type.
#[derive(Clone)]
pub struct CustomMetric {
    name: String,
    config: serde_json::Value,
    metric: Option<Arc<dyn MetricFn>>,
}

impl CustomMetric {
    /// Wraps a metric; its configuration is its serde JSON form.
    pub fn new<M: MetricFn + Serialize>(metric: M) -> Result<Self> {
        let config = serde_json::to_value(&metric).map_err(|e| Error::CustomFunction {
            name: metric.name().to_string(),
            message: format!("its configuration cannot be written as JSON ({e}); derive serde's Serialize on it"),
        })?;
        Ok(Self { name: metric.name().to_string(), config, metric: Some(Arc::new(metric)) })
    }

    /// The name the metric is saved and registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The metric, or `None` for a metric read from a file whose type is not found yet.
    pub fn metric_fn(&self) -> Option<&dyn MetricFn> {
        self.metric.as_deref()
    }

    /// Makes the metric from its name and configuration with the constructor registered in
    /// `registry`, else in the process-wide one. Does nothing when the metric is already there.
    pub(crate) fn resolve(&mut self, registry: &LayerRegistry) -> Result<()> {
        if self.metric.is_some() {
            return Ok(());
        }
        let constructor =
            lookup(registry, |objects| objects.metrics.get(&self.name).cloned()).ok_or_else(|| self.unresolved())?;
        let metric = constructor(&self.config).map_err(|message| Error::CustomFunction {
            name: self.name.clone(),
            message: format!("its saved configuration {} cannot be read: {message}", self.config),
        })?;
        self.metric = Some(metric);
        Ok(())
    }

    /// The metric, or the typed error saying what to register.
    pub(crate) fn get(&self) -> Result<&dyn MetricFn> {
        self.metric.as_deref().ok_or_else(|| self.unresolved())
    }

    fn unresolved(&self) -> Error {
        Error::UnknownCustom {
            what: "metric",
            name: self.name.clone(),
            message: format!(
                "call tch_keras::register_metric::<YourType>({:?}) before load_model, or pass a LayerRegistry \
                 holding it to load_model_with",
                self.name
            ),
        }
    }

    /// The batch's state from the final outputs, checked: float, `[state_len]`, on `pred`'s
    /// device; returned as float32.
    pub(crate) fn batch_state(&self, pred: &Tensor, y: &Tensor, w: Option<&Tensor>) -> Result<Tensor> {
        let m = self.get()?;
        let len = m.state_len() as i64;
        let out = m.batch_state(pred, y, w)?;
        let err = |message: String| Err(Error::CustomFunction { name: self.name.clone(), message });
        if !out.is_floating_point() {
            return err(format!("batch_state returned a {:?} tensor; return float sums", out.kind()));
        }
        if out.device() != pred.device() {
            return err(format!(
                "batch_state returned a tensor on {:?} but the outputs are on {:?}; compute on y_pred's device",
                out.device(),
                pred.device()
            ));
        }
        if out.size() != [len] {
            return err(format!("batch_state returned shape {:?}; state_len() says [{len}]", out.size()));
        }
        Ok(out.f_to_kind(tch::Kind::Float)?)
    }
}

impl Debug for CustomMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomMetric")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("registered", &self.metric.is_some())
            .finish()
    }
}

impl PartialEq for CustomMetric {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.config == other.config
    }
}

impl Serialize for CustomMetric {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        Stored { name: self.name.clone(), config: self.config.clone() }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CustomMetric {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        Ok(Self { name: stored.name, config: stored.config, metric: None })
    }
}
