//! `Sequential`: the list of layers, building them from an input shape, the forward pass,
//! `summary` and `compile`. Training (`fit`, `evaluate`, `predict`) lives in [`crate::train`];
//! saving in [`crate::saving`].
use tch::{nn, Device, Kind, Tensor};

use crate::error::batch_shape;
use crate::layers::{LayerConfig, LayerModule, MaskRule};
use crate::optimizers::OptimizerState;
use crate::train::state::TrainState;
use crate::{Activation, Error, Loss, Metric, Optimizer, Precision, Result};

/// A linear stack of layers, Keras-style.
///
/// ```
/// use tch_keras::{Activation, Dense, Loss, Metric, Optimizer, Sequential};
/// let mut model = Sequential::new()
///     .input_shape([784])
///     .add(Dense::new(32).activation(Activation::Relu))
///     .add(Dense::new(10).activation(Activation::Softmax));
/// model.compile(Optimizer::adam(0.001), Loss::CategoricalCrossentropy, vec![Metric::accuracy()])?;
/// assert_eq!(model.count_params()?, 25_450);
/// # Ok::<(), tch_keras::Error>(())
/// ```
#[derive(Debug)]
pub struct Sequential {
    pub(crate) name: String,
    pub(crate) layers: Vec<LayerConfig>,
    pub(crate) input_shape: Option<Vec<i64>>,
    pub(crate) device: Device,
    pub(crate) seed: u64,
    pub(crate) precision: Precision,
    pub(crate) run_eagerly: bool,
    pub(crate) built: Option<Built>,
    /// What `compile` set and what training has done since.
    pub(crate) train: Option<TrainState>,
    /// Strings saved with the model (see [`Self::set_metadata`]).
    pub(crate) metadata: std::collections::BTreeMap<String, String>,
    /// Set by a callback to end training (Keras's `model.stop_training`): `fit` stops after the
    /// current batch (in data-parallel training, at the end of the epoch). It is the one piece
    /// of run state on the model, kept here so callbacks write it as in Keras.
    pub stop_training: bool,
    /// Set by a callback to end `evaluate` (or a validation pass) after the current batch
    /// (Keras 3's `model.stop_evaluating`); the logs cover the batches evaluated.
    pub stop_evaluating: bool,
    /// Set by a callback to end `predict` after the current batch (Keras 3's
    /// `model.stop_predicting`); the outputs of the batches predicted are returned.
    pub stop_predicting: bool,
    /// Indices of the layers whose weights are frozen (Keras's `layer.trainable = False`).
    pub(crate) frozen: std::collections::BTreeSet<usize>,
    /// The variables of a built model that [`Self::push`] or [`Self::pop`] changed, put back
    /// into the layers that are still there when the model is built again.
    pub(crate) carried: Vec<(String, Tensor)>,
}

/// The built model: variables, modules and shapes.
#[derive(Debug)]
pub(crate) struct Built {
    /// Owns the variables.
    #[allow(dead_code)]
    pub(crate) vs: nn::VarStore,
    pub(crate) modules: Vec<Box<dyn LayerModule>>,
    pub(crate) activations: Vec<Activation>,
    pub(crate) output_shapes: Vec<Vec<i64>>,
    /// Every variable, in layer order then name order: `layers.{i}.{name}`.
    pub(crate) variables: Vec<(String, Tensor)>,
    /// The trainable subset of `variables`, in the same order; each is a view into `flat`.
    pub(crate) trainable: Vec<Tensor>,
    /// All trainable parameters end to end, in `trainable` order (see [`crate::flat`]).
    pub(crate) flat: Tensor,
    /// Each trainable parameter's layout inside `flat`.
    pub(crate) orders: Vec<crate::flat::MemoryOrder>,
    /// Whether each of `variables` is a parameter (trained unless its layer is frozen), as
    /// opposed to a buffer such as batch normalization's running statistics.
    pub(crate) params: Vec<bool>,
}

/// One forward pass's output and what the loss reads besides it.
pub(crate) struct Forward {
    /// The last layer's output before its activation.
    pub(crate) raw: Tensor,
    /// The last layer's activation.
    pub(crate) activation: Activation,
    /// The layers' activity penalties (see [`Sequential::forward_collecting`]).
    pub(crate) penalty: Option<Tensor>,
    /// The mask of padded steps that reaches the output: `[N, T]` booleans, true for a real
    /// step, when an `Embedding(mask_zero)` or `Masking` started one and every layer after
    /// passed it on (see [`MaskRule`]).
    pub(crate) mask: Option<Tensor>,
}

impl Default for Sequential {
    fn default() -> Self {
        Self::new()
    }
}

impl Sequential {
    /// An empty model, seed 0, on the first CUDA device when one is usable and on the CPU
    /// otherwise (Keras's and the CLI's `auto`); [`device`](Self::device) chooses another.
    pub fn new() -> Self {
        Self {
            name: "sequential".into(),
            layers: Vec::new(),
            input_shape: None,
            device: Device::cuda_if_available(),
            seed: 0,
            precision: Precision::F32,
            run_eagerly: false,
            built: None,
            train: None,
            metadata: Default::default(),
            stop_training: false,
            stop_evaluating: false,
            stop_predicting: false,
            frozen: Default::default(),
            carried: Vec::new(),
        }
    }

    /// Appends a layer (builder style), as Keras's `model.add`.
    ///
    /// It takes the model and returns it: a call whose result is dropped is a `must_use`
    /// warning pointing at [`push`](Self::push), which appends in place:
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let model = tch_keras::Sequential::new();
    /// model.add(tch_keras::Dense::new(1)); // the model with the layer is dropped here
    /// ```
    #[allow(clippy::should_implement_trait)]
    #[must_use = "`add` takes the model and returns it (builder style): chain it (`Sequential::new().add(..)`), \
                  assign the result (`model = model.add(..)`), or call `model.push(..)` on a `let mut model`"]
    pub fn add(mut self, layer: impl Into<LayerConfig>) -> Self {
        self.push(layer);
        self
    }

    /// Appends a layer to a model held by reference. A built model is rebuilt at once, as
    /// Keras's `model.add` rebuilds it: the layers already there keep their weights (and frozen
    /// flags), the new one is initialised, and the optimizer state starts over. A layer that
    /// cannot take its input leaves the model unbuilt, and the next call that needs the weights
    /// (`fit`, `summary`, `save`, ...) returns that error.
    pub fn push(&mut self, layer: impl Into<LayerConfig>) {
        let was_built = self.built.is_some();
        self.carry_weights(self.layers.len());
        self.layers.push(layer.into());
        self.rebuild(was_built);
    }

    /// Removes the last layer and returns it (Keras's `model.pop()`), `None` on an empty model.
    /// The other layers keep their weights, so a trained model's head can be replaced:
    /// `pop`, `push` a new one, freeze the rest with [`Self::set_trainable`], `compile`, `fit`.
    pub fn pop(&mut self) -> Option<LayerConfig> {
        let index = self.layers.len().checked_sub(1)?;
        let was_built = self.built.is_some();
        self.carry_weights(index);
        self.frozen.remove(&index);
        let layer = self.layers.pop();
        self.rebuild(was_built);
        layer
    }

    /// Builds again a model that was built before a change of its layers. Its error (a layer
    /// that cannot take its input, no layers left) is returned by the next call that builds.
    fn rebuild(&mut self, was_built: bool) {
        if was_built {
            let _ = self.build();
        }
    }

    /// Unbuilds the model, keeping the variables of layers `0..keep` for its next build.
    fn carry_weights(&mut self, keep: usize) {
        if let Some(built) = self.built.take() {
            self.carried = built.variables.into_iter().filter(|(name, _)| variable_order(name).0 < keep).collect();
        }
        self.carried.retain(|(name, _)| variable_order(name).0 < keep);
    }

    /// Copies the carried variables into the freshly built ones of the same name and shape.
    fn restore_carried(&mut self) -> Result<()> {
        let carried = std::mem::take(&mut self.carried);
        let Some(built) = &self.built else { return Ok(()) };
        tch::no_grad(|| -> Result<()> {
            for (name, var) in &built.variables {
                if let Some((_, old)) = carried.iter().find(|(n, t)| n == name && t.size() == var.size()) {
                    var.shallow_clone().f_copy_(old)?;
                }
            }
            Ok(())
        })
    }

    /// Sets the per-sample input shape (no batch axis; images as `[C, H, W]`). Without it, the
    /// shape is taken from the data at the first `fit`.
    pub fn input_shape(mut self, shape: impl Into<Vec<i64>>) -> Self {
        self.input_shape = Some(shape.into());
        self.built = None;
        self
    }

    /// Sets the device the weights live on; data is moved there once per `fit`.
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self.built = None;
        self
    }

    /// Sets the seed for weight initialisation, shuffling and dropout (default 0).
    ///
    /// LibTorch has one random generator per process: building the model and each epoch of
    /// `fit` seed it (`tch::manual_seed`) from this seed, which also resets the random numbers
    /// your own code draws through LibTorch afterwards (`Tensor::randn`, ...). Draw what you
    /// need before `fit`, or call `tch::manual_seed` yourself after it.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.built = None;
        self
    }

    /// Sets the precision of the forward pass (default float32). With [`Precision::Bf16`] the
    /// weights, gradients and optimizer state stay float32 and the forward pass runs under bf16
    /// autocast (Keras's `mixed_bfloat16`); outputs, loss and metrics are float32. Meant for
    /// CUDA; it also runs on the CPU.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Changes the precision of a model held by reference (weights are kept).
    pub fn set_precision(&mut self, precision: Precision) {
        self.precision = precision;
    }

    /// The precision of the forward pass.
    pub fn model_precision(&self) -> Precision {
        self.precision
    }

    /// Runs every training step op by op (Keras's `run_eagerly=True`). By default, on CUDA,
    /// `fit` captures its training step in a CUDA graph after two eager steps and replays it:
    /// one launch per step instead of one per kernel, with the same results. Steps of another
    /// size (the last, partial batch) and models with `Dropout` always run eagerly. A capture
    /// LibTorch refuses (e.g. while an autograd graph through the weights, made outside `fit`,
    /// is still alive) warns once and the fit goes on eagerly. Captures affect the whole CUDA
    /// device: do not fit two models on one GPU from two threads at once unless they run
    /// eagerly.
    pub fn run_eagerly(mut self, eager: bool) -> Self {
        self.run_eagerly = eager;
        self
    }

    /// [`Self::run_eagerly`] for a model held by reference.
    pub fn set_run_eagerly(&mut self, eager: bool) {
        self.run_eagerly = eager;
    }

    /// Whether training steps always run eagerly.
    pub fn is_run_eagerly(&self) -> bool {
        self.run_eagerly
    }

    /// Training steps this model has run as CUDA graph replays (0 on the CPU or when run
    /// eagerly): tells whether `fit` used graphs.
    pub fn cuda_graph_replays(&self) -> u64 {
        self.train.as_ref().map_or(0, |t| t.graph_replays)
    }

    /// Training steps this model has captured in a CUDA graph: one per fit normally; a new
    /// capture happens only when the parameter buffer or optimizer state moved (not when the
    /// learning rate changes).
    pub fn cuda_graph_captures(&self) -> u64 {
        self.train.as_ref().map_or(0, |t| t.graph_captures)
    }

    /// Stores `value` under `key` with the model: [`save`](Self::save) writes it and
    /// [`load_model`](crate::load_model) restores it (e.g. a training program's own state, so
    /// a resumed run continues exactly).
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// The strings stored with [`Self::set_metadata`].
    pub fn metadata(&self) -> &std::collections::BTreeMap<String, String> {
        &self.metadata
    }

    /// Sets the model's name, shown by `summary`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The model's name.
    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// The layer configurations.
    pub fn layers(&self) -> &[LayerConfig] {
        &self.layers
    }

    /// The device the model lives on.
    pub fn model_device(&self) -> Device {
        self.device
    }

    /// The seed.
    pub fn model_seed(&self) -> u64 {
        self.seed
    }

    /// The per-sample input shape, if known.
    pub fn get_input_shape(&self) -> Option<&[i64]> {
        self.input_shape.as_deref()
    }

    /// Whether weights exist.
    pub fn is_built(&self) -> bool {
        self.built.is_some()
    }

    /// Computes every layer's output shape for `input` without creating weights. Errors name
    /// the layer (index and kind) and its input shape. An output of more than
    /// [`MAX_SAMPLE_VALUES`](crate::saving::MAX_SAMPLE_VALUES) values per sample is refused, as
    /// [`load_model`](crate::load_model) refuses it.
    pub fn output_shapes(&self, input: &[i64]) -> Result<Vec<Vec<i64>>> {
        if self.layers.is_empty() {
            return Err(Error::invalid("model", "has no layers: add at least one with Sequential::add"));
        }
        if input.is_empty() || input.iter().any(|&d| d <= 0) {
            return Err(Error::invalid(
                "input_shape",
                format!("{} must have positive sizes and at least one axis", batch_shape(input)),
            ));
        }
        let mut shape = input.to_vec();
        let mut shapes = Vec::with_capacity(self.layers.len());
        for (index, layer) in self.layers.iter().enumerate() {
            let spec = layer.spec();
            let output = spec.output_shape(&shape).and_then(|out| {
                let bytes = out.iter().try_fold(4i64, |n, &d| n.checked_mul(d));
                match bytes {
                    // The most a saved model may hold (load_model refuses more), 8 GiB per sample:
                    // beyond it LibTorch's allocator failed on the first batch.
                    Some(b) if b / 4 > crate::saving::MAX_SAMPLE_VALUES => Err(format!(
                        "its output {} holds {} values per sample, more than the {} a model may hold (8 GiB of \
                         float32): use smaller sizes",
                        batch_shape(&out),
                        b / 4,
                        crate::saving::MAX_SAMPLE_VALUES
                    )),
                    Some(_) => Ok(out),
                    None => Err(format!(
                        "its output {} holds more bytes per sample than fit in 64 bits: use smaller sizes",
                        batch_shape(&out)
                    )),
                }
            });
            shape = output.map_err(|message| Error::LayerShape {
                index,
                layer: spec.kind(),
                input: batch_shape(&shape),
                message,
            })?;
            shapes.push(shape.clone());
        }
        Ok(shapes)
    }

    /// Builds the weights for the configured input shape.
    pub fn build(&mut self) -> Result<()> {
        let input = self.input_shape.clone().ok_or(Error::NotBuilt { action: "build" })?;
        self.build_for(&input)
    }

    /// Sets the input shape and builds the weights (glorot-uniform kernels, zero biases),
    /// seeded with the model's seed.
    pub fn build_for(&mut self, input: &[i64]) -> Result<()> {
        let output_shapes = self.output_shapes(input)?;
        check_device(self.device)?;
        self.check_variable_sizes(input, &output_shapes)?;
        // Seeding and drawing the initial weights is one step for other threads of this library.
        let _rng = crate::rng_lock();
        tch::manual_seed(self.seed as i64);
        let vs = nn::VarStore::new(self.device);
        let root = vs.root() / "layers";
        let mut modules = Vec::with_capacity(self.layers.len());
        let mut activations = Vec::with_capacity(self.layers.len());
        let mut shape = input.to_vec();
        for (index, layer) in self.layers.iter().enumerate() {
            let spec = layer.spec();
            let module = spec.build(&(&root / index), &shape).map_err(|e| match e {
                Error::LayerConfig { layer, message } => {
                    Error::LayerShape { index, layer, input: batch_shape(&shape), message }
                }
                Error::Torch(e) if is_allocation_failure(&e) => Error::LayerShape {
                    index,
                    layer: spec.kind(),
                    input: batch_shape(&shape),
                    message: format!(
                        "its variables cannot be allocated ({}): use fewer units or filters, or a smaller input",
                        Error::Torch(e).to_string().trim_start_matches("LibTorch: ")
                    ),
                },
                e => e,
            })?;
            modules.push(module);
            activations.push(spec.activation());
            shape.clone_from(&output_shapes[index]);
        }
        let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        variables.sort_by(|(a, _), (b, _)| variable_order(a).cmp(&variable_order(b)));
        let params: Vec<bool> = variables.iter().map(|(_, t)| t.requires_grad()).collect();
        for ((name, t), _) in variables.iter().zip(&params).filter(|(_, &p)| p) {
            if self.frozen.contains(&variable_order(name).0) {
                let _ = t.set_requires_grad(false);
            }
        }
        let trainable: Vec<Tensor> =
            variables.iter().filter(|(_, t)| t.requires_grad()).map(|(_, t)| t.shallow_clone()).collect();
        let (flat, orders) = crate::flat::flatten(&trainable, self.device)?;
        self.input_shape = Some(input.to_vec());
        self.built =
            Some(Built { vs, modules, activations, output_shapes, variables, trainable, flat, orders, params });
        self.restore_carried()?;
        if let Some(state) = &mut self.train {
            // New weights: the optimizer starts over.
            state.optimizer = OptimizerState::new(state.optimizer.config());
        }
        Ok(())
    }

    /// Refuses a layer whose declared variables hold more values than fit in 64 bits, before
    /// anything is allocated (LibTorch would fail with "Storage size calculation overflowed").
    fn check_variable_sizes(&self, input: &[i64], output_shapes: &[Vec<i64>]) -> Result<()> {
        let mut shape = input;
        for (index, layer) in self.layers.iter().enumerate() {
            let spec = layer.spec();
            for (name, dims) in spec.variable_shapes(shape) {
                let values =
                    dims.iter().try_fold(1i64, |n, &d| n.checked_mul(d).filter(|v| v.checked_mul(4).is_some()));
                if values.is_none() {
                    return Err(Error::LayerShape {
                        index,
                        layer: spec.kind(),
                        input: batch_shape(shape),
                        message: format!(
                            "its variable {name} of shape {dims:?} holds more bytes than fit in 64 bits: use fewer \
                             units or filters, or a smaller input"
                        ),
                    });
                }
            }
            shape = &output_shapes[index];
        }
        Ok(())
    }

    /// Freezes (`false`) or unfreezes (`true`) the weights of layer `index`, as Keras's
    /// `layer.trainable = False` followed by a new `compile`: a frozen layer's weights are
    /// left out of the gradient and the optimizer (they keep their values in `fit`), are still
    /// saved and loaded, and count as "Non-trainable params" in [`summary`](Self::summary).
    /// A frozen `BatchNormalization` also runs in inference mode during `fit` (its moving
    /// statistics normalise and are not updated), as in Keras.
    /// On a built model the trainable weights are regathered (values kept) and the optimizer
    /// state starts over, as after Keras's recompile. Saved models keep the setting.
    pub fn set_trainable(&mut self, index: usize, trainable: bool) -> Result<()> {
        if index >= self.layers.len() {
            return Err(Error::invalid(
                "set_trainable",
                format!("layer index {index} is out of range: the model has {} layers", self.layers.len()),
            ));
        }
        let changed = if trainable { self.frozen.remove(&index) } else { self.frozen.insert(index) };
        if changed && self.built.is_some() {
            self.regather_trainable()?;
        }
        Ok(())
    }

    /// Whether layer `index` is trainable (not frozen with [`Self::set_trainable`]); `None`
    /// when there is no such layer.
    pub fn is_trainable(&self, index: usize) -> Option<bool> {
        (index < self.layers.len()).then(|| !self.frozen.contains(&index))
    }

    /// Sets the statistics of the [`Normalization`](crate::layers::Normalization) layer at
    /// `index` from `data` (a batch of that layer's inputs, usually the model's), as Keras's
    /// `layer.adapt(data)`: before the model is built they become the variables' initial
    /// values, afterwards they overwrite the variables (kept by [`save`](Self::save)). Refuses
    /// another kind of layer, one given its statistics directly, and data the layer cannot adapt
    /// to (see [`Normalization::adapt`](crate::layers::Normalization::adapt)).
    pub fn adapt_layer(&mut self, index: usize, data: &Tensor) -> Result<()> {
        let Some(LayerConfig::Normalization(layer)) = self.layers.get_mut(index) else {
            return Err(Error::invalid(
                "adapt_layer",
                format!("layer {index} is not a Normalization layer: pass the index of one (0 is the first layer)"),
            ));
        };
        if layer.mean.is_some() || layer.variance.is_some() {
            return Err(Error::invalid(
                "adapt_layer",
                format!("Normalization layer {index} was given its mean and variance: adapt a layer built without"),
            ));
        }
        let adapted = layer.statistics(data)?;
        *layer = layer.clone().with_adapted(adapted.clone());
        if let Some(built) = &self.built {
            let var = |name: &str| {
                layer_vars(&built.variables, index)
                    .find(|(n, _)| n.rsplit('.').next() == Some(name))
                    .map(|(_, t)| t.shallow_clone())
                    .ok_or(Error::NotBuilt { action: "adapt_layer" })
            };
            let (mean, variance, count) = (var("mean")?, var("variance")?, var("count")?);
            let size = mean.size().first().copied();
            crate::layers::write_statistics(&adapted, size, &mean, &variance, &count)?;
        }
        Ok(())
    }

    /// Rebuilds the flat buffer from the parameters of the layers not frozen, keeping every
    /// value; the optimizer starts over.
    fn regather_trainable(&mut self) -> Result<()> {
        let device = self.device;
        let frozen = self.frozen.clone();
        let built = self.built.as_mut().ok_or(Error::NotBuilt { action: "set_trainable" })?;
        tch::no_grad(|| -> Result<()> {
            for ((name, t), &param) in built.variables.iter().zip(&built.params) {
                if !param {
                    continue;
                }
                // Out of the old buffer: each parameter gets storage of its own first.
                let own = crate::saving::deep_copy(t)?.f_contiguous()?;
                t.shallow_clone().f_set_data(&own)?;
                let _ = t.set_requires_grad(!frozen.contains(&variable_order(name).0));
            }
            Ok(())
        })?;
        built.trainable =
            built.variables.iter().filter(|(_, t)| t.requires_grad()).map(|(_, t)| t.shallow_clone()).collect();
        let (flat, orders) = crate::flat::flatten(&built.trainable, device)?;
        (built.flat, built.orders) = (flat, orders);
        if let Some(state) = &mut self.train {
            // The variables' sizes too, so per-variable clipping stays per variable when this
            // runs inside `fit` (from a callback).
            let sizes: Vec<i64> = built.trainable.iter().map(|t| t.numel() as i64).collect();
            state.optimizer = OptimizerState::new(state.optimizer.config());
            state.optimizer.set_segments(sizes.into_iter());
        }
        Ok(())
    }

    pub(crate) fn built(&self, action: &'static str) -> Result<&Built> {
        self.built.as_ref().ok_or(Error::NotBuilt { action })
    }

    /// The per-sample output shape.
    pub fn output_shape(&self) -> Result<Vec<i64>> {
        let built = self.built("output_shape")?;
        Ok(built.output_shapes.last().cloned().unwrap_or_default())
    }

    /// Every variable, named `layers.{index}.{weight|bias|running_mean|running_var}`, in layer
    /// order. These names are stable: saved weights and PyTorch state dicts use them.
    /// A [`Residual`](crate::Residual)'s inner layers add their branch and position
    /// (`layers.{index}.block.{j}.weight`). Within a layer the names are in natural order:
    /// numbers compare as numbers, so `block.2.weight` comes before `block.10.weight`.
    pub fn variables(&self) -> Result<&[(String, Tensor)]> {
        Ok(&self.built("variables")?.variables)
    }

    /// The variables that are not parameters (batch normalization's running statistics).
    pub(crate) fn buffers(&self) -> Result<Vec<Tensor>> {
        let built = self.built("buffers")?;
        Ok(built
            .variables
            .iter()
            .zip(&built.params)
            .filter(|(_, &p)| !p)
            .map(|((_, t), _)| t.shallow_clone())
            .collect())
    }

    /// The variables `fit` does not train: buffers and the parameters of frozen layers.
    pub(crate) fn untrained(&self) -> Result<Vec<Tensor>> {
        let built = self.built("untrained")?;
        Ok(built.variables.iter().filter(|(_, t)| !t.requires_grad()).map(|(_, t)| t.shallow_clone()).collect())
    }

    /// Total number of parameters (trainable and not). Builds the model first when it has an
    /// input shape but no weights yet (which draws the initial weights: hence `&mut`).
    pub fn count_params(&mut self) -> Result<i64> {
        self.ensure_built("count_params")?;
        Ok(self.built("count_params")?.variables.iter().map(|(_, t)| t.numel() as i64).sum())
    }

    pub(crate) fn ensure_built(&mut self, action: &'static str) -> Result<()> {
        if self.built.is_none() {
            if self.input_shape.is_none() {
                return Err(Error::NotBuilt { action });
            }
            self.build()?;
        }
        Ok(())
    }

    /// Each layer's name as [`summary`](Self::summary) shows it: Keras's prefix for the kind,
    /// numbered from the second layer of a kind on (`dense`, `dense_1`, `dropout`). Keras
    /// numbers across every model of a Python session; here within the model, so the names
    /// are the same after [`load_model`](crate::load_model).
    pub fn layer_names(&self) -> Vec<String> {
        let mut counts = std::collections::HashMap::<String, usize>::new();
        self.layers
            .iter()
            .map(|layer| {
                let prefix = layer.name_prefix();
                let n = counts.entry(prefix.to_string()).or_insert(0);
                let name = if *n == 0 { prefix.to_string() } else { format!("{prefix}_{n}") };
                *n += 1;
                name
            })
            .collect()
    }

    /// The index of the layer named `name` (see [`layer_names`](Self::layer_names)), for
    /// [`set_trainable`](Self::set_trainable) and the other methods taking an index:
    /// `model.set_trainable(model.layer_index("dense_1")?, false)?`.
    pub fn layer_index(&self, name: &str) -> Result<usize> {
        let names = self.layer_names();
        names.iter().position(|n| n == name).ok_or_else(|| {
            Error::invalid("layer name", format!("no layer is named {name:?}: the model's layers are {names:?}"))
        })
    }

    /// The configuration of the layer named `name` (Keras's `model.get_layer(name)`).
    pub fn get_layer(&self, name: &str) -> Result<&LayerConfig> {
        Ok(&self.layers[self.layer_index(name)?])
    }

    /// A Keras-like summary table: layer name and type, output shape, parameter count, totals.
    /// A [`Residual`](crate::Residual) block is followed by its layers as indented rows.
    /// Builds the model first when needed, as [`Self::count_params`] does.
    pub fn summary(&mut self) -> Result<String> {
        self.ensure_built("summary")?;
        let built = self.built("summary")?;
        let (mut trainable, mut frozen) = (0i64, 0i64);
        let mut rows = Vec::with_capacity(self.layers.len());
        for ((index, layer), name) in self.layers.iter().enumerate().zip(self.layer_names()) {
            let params: i64 = layer_vars(&built.variables, index).map(|(_, t)| t.numel() as i64).sum();
            for (_, t) in layer_vars(&built.variables, index) {
                if t.requires_grad() {
                    trainable += t.numel() as i64;
                } else {
                    frozen += t.numel() as i64;
                }
            }
            let label = format!("{name} ({})", layer.spec().kind());
            rows.push((label, batch_shape(&built.output_shapes[index]), group(params)));
            if let LayerConfig::Residual(block) = layer {
                let input = match index {
                    0 => self.input_shape.clone().unwrap_or_default(),
                    _ => built.output_shapes[index - 1].clone(),
                };
                inner_rows(&built.variables, &format!("layers.{index}."), block, &input, 1, &mut rows);
            }
        }
        // Keras's 65-character table; a longer layer label widens the first column.
        let width = rows.iter().map(|(label, _, _)| label.chars().count()).max().unwrap_or(0).max(27);
        let rule = "_".repeat(width + 38);
        let mut out = format!("Model: \"{}\"\n{rule}\n", self.name);
        out.push_str(&format!(" {:<w$}{:<26}{:>10}\n", "Layer (type)", "Output Shape", "Param #", w = width + 1));
        out.push_str(&format!("{}\n", "=".repeat(width + 38)));
        let rows: Vec<String> =
            rows.iter().map(|(label, shape, params)| format!(" {label:<width$} {shape:<26}{params:>10}\n")).collect();
        out.push_str(&rows.join("\n"));
        out.push_str(&format!("{}\n", "=".repeat(width + 38)));
        out.push_str(&format!("Total params: {}\n", group(trainable + frozen)));
        out.push_str(&format!("Trainable params: {}\n", group(trainable)));
        out.push_str(&format!("Non-trainable params: {}\n{rule}\n", group(frozen)));
        Ok(out)
    }

    /// Sets the optimizer, loss and metrics. May be called before or after building; calling
    /// it again resets the optimizer state and the training position.
    ///
    /// `metrics` takes Keras's names as an array (`["accuracy"]`) or [`Metric`]s
    /// (`vec![Metric::accuracy()]`, `vec![]`); see [`IntoMetrics`](crate::IntoMetrics). A name
    /// that is not a metric is an error.
    pub fn compile(&mut self, optimizer: Optimizer, loss: Loss, metrics: impl crate::IntoMetrics) -> Result<()> {
        let mut metrics = metrics.into_metrics()?;
        crate::metrics::keras_metric_names(&mut metrics);
        optimizer.validate()?;
        loss.validate()?;
        let mut seen = std::collections::HashSet::new();
        for m in &metrics {
            m.validate()?;
            if m.name == "loss" || !seen.insert(m.name.clone()) {
                return Err(Error::invalid(
                    "metrics",
                    format!(
                        "metric name '{}' is taken (by 'loss' or another metric): give the metric another \
                         name with Metric::new(kind, name)",
                        m.name
                    ),
                ));
            }
        }
        self.train = Some(TrainState::new(OptimizerState::new(optimizer), loss, metrics));
        // With an input shape the weights can exist now (as in Keras), so `summary` and
        // `count_params` work before the first `fit`.
        if self.built.is_none() && self.input_shape.is_some() {
            self.build()?;
        }
        Ok(())
    }

    /// The compiled optimizer (with its current learning rate), loss and metrics.
    pub fn compiled(&self) -> Option<(Optimizer, Loss, &[Metric])> {
        self.train.as_ref().map(|t| (t.optimizer.config(), t.loss.clone(), t.metrics.as_slice()))
    }

    /// The current learning rate (changed by schedules and callbacks).
    pub fn learning_rate(&self) -> Result<f64> {
        Ok(self.train_state("learning_rate")?.optimizer.learning_rate())
    }

    /// Sets the learning rate for the following updates. On CUDA a captured training step
    /// reads it from the device, so changing it every batch costs no new capture.
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.train_state_mut("set_learning_rate")?.optimizer.set_learning_rate(lr)
    }

    /// Optimizer updates applied so far (Keras's `optimizer.iterations`).
    pub fn iterations(&self) -> i64 {
        self.train.as_ref().map_or(0, |t| t.optimizer.iterations())
    }

    /// Epochs completed by `fit` on this model (restored by [`load_model`](crate::load_model)).
    pub fn epochs_done(&self) -> usize {
        self.train.as_ref().map_or(0, |t| t.epochs_done)
    }

    /// The forward pass with the final activation: the model's outputs. `xs` is checked and
    /// converted as `predict` does: its per-sample shape must be the model's input shape (an
    /// error says how to fix it otherwise), and it is moved to the model's device as float32
    /// (integer token ids stay integers for a first `Embedding`).
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let xs = self.prepare_inputs(xs, "x")?;
        self.forward_prepared(&xs, train)
    }

    /// [`Self::forward_t`] on inputs already prepared by [`Self::prepare_inputs`].
    pub(crate) fn forward_prepared(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let (raw, act) = self.forward_raw(xs, train)?;
        act.apply(&raw)
    }

    /// The forward pass up to the last layer's activation, and that activation.
    pub(crate) fn forward_raw(&self, xs: &Tensor, train: bool) -> Result<(Tensor, Activation)> {
        let forward = self.forward_collecting(xs, train, false)?;
        Ok((forward.raw, forward.activation))
    }

    /// [`Self::forward_raw`] and what the loss reads besides: with `activity`, the layers'
    /// activity penalties, and the mask of padded steps that reaches the output.
    pub(crate) fn forward_collecting(&self, xs: &Tensor, train: bool, activity: bool) -> Result<Forward> {
        let built = self.built("forward")?;
        let autocast = crate::precision::Autocast::enter(self.precision, self.device)?;
        let mut x = xs.shallow_clone();
        let mut mask: Option<Tensor> = None;
        let last = built.modules.len() - 1;
        let mut deferred = None;
        let mut penalty: Option<Tensor> = None;
        for (i, (module, act)) in built.modules.iter().zip(&built.activations).enumerate() {
            (x, mask) = self.layer_forward(i, module.as_ref(), &x, mask, train)?;
            if let Some(a) = deferred.take() {
                x = Activation::apply(a, &x)?;
            }
            let regularizer =
                if activity { self.layers.get(i).and_then(|l| l.spec().activity_regularizer()) } else { None };
            if i < last {
                // relu(max_pool(x)) equals max_pool(relu(x)), values and gradients alike (the
                // same element wins each window), on a quarter of the elements: a ReLU (or
                // ReLU6) followed by max pooling is applied after the pooling (not when the
                // layer's activated output carries a penalty).
                let pool_next = matches!(self.layers.get(i + 1), Some(LayerConfig::MaxPooling2D(_)));
                if act.commutes_with_max_pool() && pool_next && regularizer.is_none() {
                    deferred = Some(*act);
                } else {
                    x = act.apply(&x)?;
                }
            }
            if let Some(r) = regularizer {
                let layer_penalty =
                    if i < last { r.activity_penalty(&x)? } else { r.activity_penalty(&act.apply(&x)?)? };
                penalty = Some(match penalty {
                    Some(p) => p.f_add(&layer_penalty)?,
                    None => layer_penalty,
                });
            }
        }
        if autocast.is_some() {
            drop(autocast);
            // Outputs, loss and metrics in float32, as Keras's mixed precision recommends.
            x = x.f_to_kind(Kind::Float)?;
        }
        Ok(Forward { raw: x, activation: built.activations[last], penalty, mask })
    }

    /// Layer `i`'s output and the mask after it, by the layer's [`MaskRule`].
    /// Without a mask (and for a layer that starts none) this is the plain forward pass.
    fn layer_forward(
        &self,
        i: usize,
        module: &dyn LayerModule,
        x: &Tensor,
        mask: Option<Tensor>,
        train: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        // A frozen BatchNormalization runs in inference mode (its moving statistics, not
        // updated), as Keras's does with `trainable = False`; so do those inside a frozen
        // Residual.
        let plain = |x: &Tensor| {
            if self.frozen.contains(&i) {
                module.forward_frozen_t(x, train)
            } else {
                module.forward_t(x, train)
            }
        };
        let layer = &self.layers[i];
        if mask.is_none() && !layer.makes_mask() {
            return Ok((plain(x)?, None));
        }
        match layer.mask_rule() {
            MaskRule::Own => module.forward_masked_t(x, mask.as_ref(), train),
            MaskRule::Drop => Ok((plain(x)?, None)),
            MaskRule::Pass => {
                let out = plain(x)?;
                // The mask goes on where the output keeps the steps it masks.
                let keeps = mask.as_ref().is_some_and(|m| out.size().get(..m.dim()) == Some(m.size().as_slice()));
                Ok((out, if keeps { mask } else { None }))
            }
            MaskRule::Unsupported => Err(Error::invalid(
                "mask",
                format!(
                    "layer {i} ({}) gets a mask of padded steps from an Embedding(mask_zero) or Masking layer, and \
                     does not take one yet (Keras's uses it); put the layer before the mask starts, end the mask \
                     with a layer that consumes it (an LSTM without return_sequences, GlobalAveragePooling1D), or \
                     drop mask_zero / Masking",
                    layer.spec().kind()
                ),
            )),
        }
    }

    /// Moves `x` to the model's device as float32, checking its per-sample shape.
    pub(crate) fn prepare_inputs(&self, x: &Tensor, what: &str) -> Result<Tensor> {
        self.built("prepare_inputs")?;
        let expected = self.input_shape.as_deref().unwrap_or_default();
        let size = x.size();
        if size.get(1..) != Some(expected) {
            return Err(Error::DataShape {
                what: what.into(),
                expected: batch_shape(expected),
                got: crate::error::full_shape(&size),
                hint: crate::error::layout_hint(expected, &size).unwrap_or_else(|| {
                    "reshape the data (images as [N, C, H, W]) or change the model's input_shape".into()
                }),
            });
        }
        check_real(x, what)?;
        // Token ids stay integers for an Embedding; everything else computes in float32.
        let integer = !x.is_floating_point() && x.kind() != Kind::Bool;
        let kind = match self.layers.first() {
            Some(LayerConfig::Embedding(_)) if integer => Kind::Int64,
            _ => Kind::Float,
        };
        Ok(x.f_to_device(self.device)?.f_to_kind(kind)?)
    }
}

/// Whether LibTorch failed to allocate memory (or to compute how much).
fn is_allocation_failure(e: &tch::TchError) -> bool {
    let text = e.to_string();
    ["can't allocate memory", "out of memory", "Storage size calculation overflowed"].iter().any(|m| text.contains(m))
}

/// Refuses a CUDA device LibTorch cannot see, before LibTorch fails on it with a driver
/// message.
pub(crate) fn check_device(device: Device) -> Result<()> {
    let Device::Cuda(index) = device else { return Ok(()) };
    let count = tch::Cuda::device_count();
    let message = if count == 0 {
        "CUDA is not available here (LibTorch sees no GPU): use Device::Cpu, or Device::cuda_if_available()".into()
    } else if index as i64 >= count {
        format!("this machine has {count} CUDA device(s): use Device::Cuda(0) to Device::Cuda({})", count - 1)
    } else {
        return Ok(());
    };
    Err(Error::Device { device: crate::device_name(device), message })
}

/// Refuses complex inputs, which converting to float32 would silently cut to their real part.
pub(crate) fn check_real(x: &Tensor, what: &str) -> Result<()> {
    if crate::losses::is_complex(x.kind()) {
        return Err(Error::DataShape {
            what: what.into(),
            expected: "real numbers (float or integer)".into(),
            got: format!("{:?} values", x.kind()),
            hint: "give real-valued inputs, such as x.real() or x.abs()".into(),
        });
    }
    Ok(())
}

/// The summary rows of the layers inside `block` (whose variables' names start with `prefix`):
/// each named by its path in the block, indented by `depth`, nested blocks recursively.
fn inner_rows(
    vars: &[(String, Tensor)],
    prefix: &str,
    block: &crate::layers::Residual,
    input: &[i64],
    depth: usize,
    rows: &mut Vec<(String, String, String)>,
) {
    for (path, layer, shape) in block.inner_layers(input) {
        let spec = layer.spec();
        let output = spec.output_shape(&shape).unwrap_or_default();
        let inner = format!("{prefix}{path}.");
        let params: i64 = vars.iter().filter(|(n, _)| n.starts_with(&inner)).map(|(_, t)| t.numel() as i64).sum();
        let label = format!("{}{path} ({})", "  ".repeat(depth), spec.kind());
        rows.push((label, batch_shape(&output), group(params)));
        if let LayerConfig::Residual(nested) = layer {
            inner_rows(vars, &inner, nested, &shape, depth + 1, rows);
        }
    }
}

fn layer_vars(vars: &[(String, Tensor)], index: usize) -> impl Iterator<Item = &(String, Tensor)> {
    let prefix = format!("layers.{index}.");
    vars.iter().filter(move |(n, _)| n.starts_with(&prefix))
}

/// Sort key: layer index numerically, then the rest of the name in [`natural_order`].
fn variable_order(name: &str) -> (usize, Vec<NamePart<'_>>) {
    let mut parts = name.splitn(3, '.');
    let _ = parts.next();
    let index = parts.next().and_then(|i| i.parse().ok()).unwrap_or(usize::MAX);
    (index, natural_order(parts.next().unwrap_or_default()))
}

/// One dot-separated part of a name; numbers sort before words and among themselves by value.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum NamePart<'a> {
    Number(u64),
    Word(&'a str),
}

/// Sort key of a dotted name in natural order: `block.2.weight` before `block.10.weight`,
/// where comparing the strings would put `block.10` first.
pub(crate) fn natural_order(name: &str) -> Vec<NamePart<'_>> {
    name.split('.').map(|part| part.parse().map_or(NamePart::Word(part), NamePart::Number)).collect()
}

/// `25818` -> `25,818`.
pub(crate) fn group(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_sort_by_layer_number_then_name() {
        let mut names = vec!["layers.10.bias", "layers.2.weight", "layers.2.bias", "layers.1.running_mean"];
        names.sort_by(|a, b| variable_order(a).cmp(&variable_order(b)));
        assert_eq!(names, ["layers.1.running_mean", "layers.2.bias", "layers.2.weight", "layers.10.bias"]);
    }

    #[test]
    fn names_inside_a_layer_sort_numbers_by_value() {
        let mut names = vec![
            "layers.3.block.10.weight",
            "layers.3.shortcut.0.bias",
            "layers.3.block.2.weight",
            "layers.3.block.2.bias",
            "layers.3.block.1.block.11.bias",
            "layers.3.block.1.block.9.bias",
            "layers.12.weight",
            "layers.3.block.0.running_mean",
        ];
        names.sort_by(|a, b| variable_order(a).cmp(&variable_order(b)));
        assert_eq!(
            names,
            [
                "layers.3.block.0.running_mean",
                "layers.3.block.1.block.9.bias",
                "layers.3.block.1.block.11.bias",
                "layers.3.block.2.bias",
                "layers.3.block.2.weight",
                "layers.3.block.10.weight",
                "layers.3.shortcut.0.bias",
                "layers.12.weight",
            ]
        );
        let mut optimizer = vec!["optimizer.layers.10.weight.m", "optimizer.layers.9.weight.m", "optimizer.u_product"];
        optimizer.sort_by(|a, b| natural_order(a).cmp(&natural_order(b)));
        assert_eq!(optimizer, ["optimizer.layers.9.weight.m", "optimizer.layers.10.weight.m", "optimizer.u_product"]);
    }

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(group(7), "7");
        assert_eq!(group(25_818), "25,818");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
