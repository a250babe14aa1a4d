//! What `LSTM`, `GRU`, `SimpleRNN` and `Bidirectional` share: the sequence shape check, the
//! options, checks and `LayerSpec` impl of the three layers, the per-direction weights and
//! the built module that calls LibTorch's fused recurrent kernels (cuDNN on CUDA).
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::precision::AutocastPause;
use crate::{Error, Initializer, Regularizer, Result};

/// The recurrent kernel LibTorch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cell {
    Lstm,
    Gru,
    /// `SimpleRNN` with `tanh`.
    Tanh,
    /// `SimpleRNN` with `relu`.
    Relu,
}

/// `(timesteps, features)` of a per-sample sequence shape, or an error naming `kind`.
pub(super) fn sequence(kind: &str, input: &[i64]) -> std::result::Result<(i64, i64), String> {
    match input {
        &[t, f] => Ok((t, f)),
        _ => Err(format!(
            "{kind} takes sequences (None, timesteps, features) but got a {}-D input per sample; \
             reshape the data to [N, T, F] (an Embedding before it gives that shape)",
            input.len()
        )),
    }
}

/// What `LSTM`, `GRU` and `SimpleRNN` share around their own kernel code: the builder methods
/// of the options they all have (`return_sequences`, the recurrent kernel's and, through
/// `weight_options!`, the kernel's and the bias's), the [`LayerSpec`](super::LayerSpec) impl
/// (built on [`output_shape`] and [`build`]) and the [`Recurrent`] accessors; the braces hold
/// the layer's own [`Recurrent`] methods (`cell`, `direction_shapes`, `build_direction`, and
/// `regularized` where it differs).
macro_rules! recurrent_layer {
    ($t:ident, $kind:literal, { $($own:tt)* }) => {
        impl $t {
            /// Sets whether every step's output is returned.
            pub fn return_sequences(mut self, return_sequences: bool) -> Self {
                self.return_sequences = return_sequences;
                self
            }
            /// Sets how the recurrent kernel starts (Keras's `recurrent_initializer`; default
            /// orthogonal).
            pub fn recurrent_initializer(mut self, init: crate::Initializer) -> Self {
                self.recurrent_initializer = init;
                self
            }
            /// Adds a penalty on the recurrent kernel to the loss (Keras's
            /// `recurrent_regularizer`).
            pub fn recurrent_regularizer(mut self, regularizer: crate::Regularizer) -> Self {
                self.recurrent_regularizer = Some(regularizer);
                self
            }
        }

        super::weight_options!($t);

        impl super::LayerSpec for $t {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
                super::rnn::output_shape(self, input)
            }
            fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
                self.direction_shapes(input.get(1).copied().unwrap_or(0))
            }
            fn regularizers(&self) -> Vec<(&'static str, crate::Regularizer)> {
                self.regularized()
            }
            fn activity_regularizer(&self) -> Option<crate::Regularizer> {
                self.activity_regularizer
            }
            fn build(&self, path: &tch::nn::Path, input: &[i64]) -> crate::Result<Box<dyn super::LayerModule>> {
                super::rnn::build(self, path, input)
            }
        }

        impl super::rnn::Recurrent for $t {
            fn units(&self) -> i64 {
                self.units
            }
            fn returns_sequences(&self) -> bool {
                self.return_sequences
            }
            fn initializers(&self) -> [crate::Initializer; 3] {
                [self.kernel_initializer, self.recurrent_initializer, self.bias_initializer]
            }
            fn regularizer_options(&self) -> [Option<crate::Regularizer>; 4] {
                [self.kernel_regularizer, self.recurrent_regularizer, self.bias_regularizer, self.activity_regularizer]
            }
            $($own)*
        }
    };
}
pub(super) use recurrent_layer;

/// A variable's name for the forward direction (`weight_ih_l0`) or, with `reverse`, for the
/// backward direction of a `Bidirectional` (`weight_ih_l0_reverse`, PyTorch's name).
pub(super) fn var_name(name: &'static str, reverse: bool) -> &'static str {
    match (name, reverse) {
        ("weight_ih_l0", true) => "weight_ih_l0_reverse",
        ("weight_hh_l0", true) => "weight_hh_l0_reverse",
        ("bias_ih_l0", true) => "bias_ih_l0_reverse",
        ("bias_hh_l0", true) => "bias_hh_l0_reverse",
        (name, _) => name,
    }
}

/// One direction's variables: `weight_ih_l0`, `weight_hh_l0` and, with a bias, `bias_ih_l0`
/// and `bias_hh_l0` (for the LSTM and SimpleRNN, Keras's single bias: `bias_hh` is then
/// `None` and zeros are passed).
#[derive(Debug)]
pub(super) struct Weights {
    pub(super) weight_ih: Tensor,
    pub(super) weight_hh: Tensor,
    pub(super) bias_ih: Option<Tensor>,
    pub(super) bias_hh: Option<Tensor>,
}

/// What a recurrent layer offers the module and `Bidirectional`: its kernel, size, options,
/// variable shapes and one direction's variables.
pub(super) trait Recurrent: LayerSpec {
    /// The kernel LibTorch runs (an error for an activation no kernel has).
    fn cell(&self) -> std::result::Result<Cell, String>;
    /// Size of the hidden state.
    fn units(&self) -> i64;
    /// Whether every step's output is returned.
    fn returns_sequences(&self) -> bool;
    /// The kernel's, the recurrent kernel's and the bias's initializers.
    fn initializers(&self) -> [Initializer; 3];
    /// The kernel's, the recurrent kernel's, the bias's and the output's regularizers.
    fn regularizer_options(&self) -> [Option<Regularizer>; 4];
    /// One direction's variable names (forward names) and shapes, for `features` inputs.
    fn direction_shapes(&self, features: i64) -> Vec<(&'static str, Vec<i64>)>;
    /// Creates one direction's variables, under PyTorch's reverse names with `reverse`.
    fn build_direction(&self, path: &nn::Path, features: i64, reverse: bool) -> Result<Weights>;

    /// The regularized variables of the forward direction (Keras's `kernel`,
    /// `recurrent_kernel` and single `bias`).
    fn regularized(&self) -> Vec<(&'static str, Regularizer)> {
        let [kernel, recurrent, bias, _] = self.regularizer_options();
        super::regularized([("weight_ih_l0", kernel), ("weight_hh_l0", recurrent), ("bias_ih_l0", bias)])
    }

    /// Refuses a bias initializer that cannot draw the bias (see [`super::bias_problem`]):
    /// Keras's single bias is one-dimensional.
    fn bias_problem(&self) -> std::result::Result<(), String> {
        super::bias_problem(self.initializers()[2])
    }

    /// Refuses initializer or regularizer options Keras refuses, naming the layer.
    fn check_options(&self) -> Result<()> {
        super::check_options(self.kind(), self.initializers(), self.regularizer_options())?;
        self.bias_problem().map_err(|m| config_error(self.kind(), m))
    }
}

/// A recurrent layer's output shape: `(timesteps, units)` with `return_sequences`, else
/// `(units)`, after its checks.
pub(super) fn output_shape(layer: &dyn Recurrent, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
    let units = layer.units();
    if units <= 0 {
        return Err(format!("units must be positive, got {units}"));
    }
    layer.cell()?;
    super::options_problem(layer.initializers(), layer.regularizer_options())?;
    layer.bias_problem()?;
    let (t, _) = sequence(layer.kind(), input)?;
    Ok(if layer.returns_sequences() { vec![t, units] } else { vec![units] })
}

/// Builds a one-direction recurrent layer.
pub(super) fn build(layer: &dyn Recurrent, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
    let err = |m| config_error(layer.kind(), m);
    let units = layer.units();
    if units <= 0 {
        return Err(err(format!("units must be positive, got {units}")));
    }
    let cell = layer.cell().map_err(err)?;
    let (_, features) = sequence(layer.kind(), input).map_err(err)?;
    let weights = layer.build_direction(path, features, false)?;
    Ok(Box::new(RnnModule::single(cell, weights, units, layer.returns_sequences())))
}

/// How `Bidirectional` combines the two directions' outputs (Keras's `merge_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMode {
    /// Both outputs side by side on the last axis (Keras's default): twice the units.
    #[default]
    Concat,
    /// Their sum.
    Sum,
    /// Their element-wise product.
    Mul,
    /// Their mean.
    Ave,
}

impl std::str::FromStr for MergeMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "concat" => Ok(MergeMode::Concat),
            "sum" => Ok(MergeMode::Sum),
            "mul" => Ok(MergeMode::Mul),
            "ave" => Ok(MergeMode::Ave),
            _ => Err(Error::Parse { what: "merge_mode", value: s.into(), expected: "concat, sum, mul, ave".into() }),
        }
    }
}

impl MergeMode {
    /// Combines the forward and backward outputs.
    fn merge(self, forward: &Tensor, backward: &Tensor) -> Result<Tensor> {
        Ok(match self {
            MergeMode::Concat => Tensor::f_cat(&[forward, backward], -1)?,
            MergeMode::Sum => forward.f_add(backward)?,
            MergeMode::Mul => forward.f_mul(backward)?,
            MergeMode::Ave => forward.f_add(backward)?.f_mul_scalar(0.5)?,
        })
    }
}

/// A built recurrent layer, batch first: one direction, or two merged (`Bidirectional`).
#[derive(Debug)]
pub(super) struct RnnModule {
    pub(super) cell: Cell,
    /// The forward direction, then (bidirectional) the backward one.
    pub(super) directions: Vec<Weights>,
    pub(super) units: i64,
    pub(super) return_sequences: bool,
    pub(super) merge: MergeMode,
}

impl RnnModule {
    /// A one-direction module.
    pub(super) fn single(cell: Cell, weights: Weights, units: i64, return_sequences: bool) -> Self {
        Self { cell, directions: vec![weights], units, return_sequences, merge: MergeMode::Concat }
    }

    /// The weights in cuDNN's order, copied into one contiguous buffer: cuDNN then uses them
    /// in place instead of warning and packing them itself at every call (the model keeps all
    /// parameters in its own flat buffer, in name order, which is not cuDNN's).
    fn packed_weights(&self) -> Result<Vec<Tensor>> {
        let mut params = Vec::with_capacity(4 * self.directions.len());
        for w in &self.directions {
            params.extend([w.weight_ih.shallow_clone(), w.weight_hh.shallow_clone()]);
            if let Some(b_ih) = &w.bias_ih {
                let b_hh = match &w.bias_hh {
                    Some(b) => b.shallow_clone(),
                    None => b_ih.f_zeros_like()?,
                };
                params.extend([b_ih.shallow_clone(), b_hh]);
            }
        }
        let flat = params.iter().map(|p| p.f_reshape([-1])).collect::<std::result::Result<Vec<_>, _>>()?;
        let buffer = Tensor::f_cat(&flat, 0)?;
        let mut offset = 0;
        let mut views = Vec::with_capacity(params.len());
        for p in &params {
            let n = p.numel() as i64;
            views.push(buffer.f_narrow(0, offset, n)?.f_view(p.size().as_slice())?);
            offset += n;
        }
        Ok(views)
    }

    /// Every step's output `[N, T, directions * units]` and the last hidden states
    /// `[directions, N, units]`.
    ///
    /// On the CPU the recurrent kernels run in float32 even inside a bf16 forward pass:
    /// LibTorch's bf16 autocast sends a CPU LSTM to oneDNN's bf16 kernel, which CPUs without
    /// AVX-512 refuse ("could not create a primitive descriptor").
    fn run(&self, xs: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        let paused = if xs.device().is_cuda() { None } else { AutocastPause::new(Device::Cpu)? };
        let cast;
        let xs = if paused.is_some() && xs.kind() != Kind::Float {
            cast = xs.f_to_kind(Kind::Float)?;
            &cast
        } else {
            xs
        };
        let params = self.packed_weights()?;
        let has_biases = self.directions[0].bias_ih.is_some();
        let dirs = self.directions.len() as i64;
        let bi = dirs == 2;
        let batch = xs.size().first().copied().unwrap_or(0);
        let h0 = Tensor::f_zeros([dirs, batch, self.units], (xs.kind(), xs.device()))?;
        Ok(match self.cell {
            Cell::Lstm => {
                let c0 = h0.f_zeros_like()?;
                let (out, h, _) = xs.f_lstm(&[h0, c0], &params, has_biases, 1, 0.0, train, bi, true)?;
                (out, h)
            }
            Cell::Gru => xs.f_gru(&h0, &params, has_biases, 1, 0.0, train, bi, true)?,
            Cell::Tanh => xs.f_rnn_tanh(&h0, &params, has_biases, 1, 0.0, train, bi, true)?,
            Cell::Relu => xs.f_rnn_relu(&h0, &params, has_biases, 1, 0.0, train, bi, true)?,
        })
    }
}

impl RnnModule {
    /// One direction stepped with the mask (`keep`: `[N, T, 1]` booleans, true for a real
    /// step): every step's output `[N, T, units]` aligned with the input steps, and the last
    /// state. A masked step keeps the previous state (and, for the LSTM, cell); its output is
    /// the previous output, or zeros with `zero_masked` (Keras's `zero_output_for_mask`, which
    /// its `Bidirectional` sets with `return_sequences`). `reverse` reads the steps last to
    /// first (the backward direction). Steps are separate kernel calls, without host reads.
    fn run_direction_masked(
        &self,
        w: &Weights,
        xs: &Tensor,
        keep: &Tensor,
        reverse: bool,
        zero_masked: bool,
    ) -> Result<(Tensor, Tensor)> {
        let size = xs.size();
        let (n, t) = (size[0], size[1]);
        let mut h = Tensor::f_zeros([n, self.units], (xs.kind(), xs.device()))?;
        let mut c = h.f_zeros_like()?;
        let zeros = h.f_zeros_like()?;
        let mut outputs = Vec::with_capacity(t as usize);
        let (b_ih, b_hh) = (w.bias_ih.as_ref(), w.bias_hh.as_ref());
        for step in 0..t {
            let s = if reverse { t - 1 - step } else { step };
            let x = xs.f_select(1, s)?;
            let k = keep.f_select(1, s)?;
            let h_new = match self.cell {
                Cell::Lstm => {
                    let (h_new, c_new) = x.f_lstm_cell(&[&h, &c], &w.weight_ih, &w.weight_hh, b_ih, b_hh)?;
                    c = c_new.f_where_self(&k, &c)?;
                    h_new
                }
                Cell::Gru => x.f_gru_cell(&h, &w.weight_ih, &w.weight_hh, b_ih, b_hh)?,
                Cell::Tanh => x.f_rnn_tanh_cell(&h, &w.weight_ih, &w.weight_hh, b_ih, b_hh)?,
                Cell::Relu => x.f_rnn_relu_cell(&h, &w.weight_ih, &w.weight_hh, b_ih, b_hh)?,
            };
            // A masked step keeps the previous state; its output is that state, or zeros.
            let kept = h_new.f_where_self(&k, &h)?;
            outputs.push(if zero_masked { h_new.f_where_self(&k, &zeros)? } else { kept.shallow_clone() });
            h = kept;
        }
        if reverse {
            outputs.reverse();
        }
        Ok((Tensor::f_stack(&outputs, 1)?, h))
    }

    /// The forward pass with a `[N, T]` mask: [`Self::run_direction_masked`] for each
    /// direction, merged as the fused path merges them.
    fn forward_with_mask(&self, xs: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let size = xs.size();
        if mask.size() != size[..2] {
            return Err(Error::invalid(
                "mask",
                format!(
                    "a recurrent layer takes a [batch, timesteps] mask and got {:?} for inputs {size:?}; put the \
                     Embedding(mask_zero) or Masking layer directly on the sequence (a layer in between must keep \
                     the time axis)",
                    mask.size()
                ),
            ));
        }
        let paused = if xs.device().is_cuda() { None } else { AutocastPause::new(Device::Cpu)? };
        let xs =
            if paused.is_some() && xs.kind() != Kind::Float { xs.f_to_kind(Kind::Float)? } else { xs.shallow_clone() };
        let keep = mask.f_to_kind(Kind::Bool)?.f_unsqueeze(-1)?;
        let bi = self.directions.len() == 2;
        let zero_masked = bi && self.return_sequences;
        let (out, last) = self.run_direction_masked(&self.directions[0], &xs, &keep, false, zero_masked)?;
        if !bi {
            return Ok(if self.return_sequences { out } else { last });
        }
        let (out_b, last_b) = self.run_direction_masked(&self.directions[1], &xs, &keep, true, zero_masked)?;
        if self.return_sequences {
            self.merge.merge(&out, &out_b)
        } else {
            self.merge.merge(&last, &last_b)
        }
    }
}

impl LayerModule for RnnModule {
    /// With a mask, each direction steps with it; the mask goes on with `return_sequences`.
    fn forward_masked_t(&self, xs: &Tensor, mask: Option<&Tensor>, train: bool) -> Result<(Tensor, Option<Tensor>)> {
        let Some(mask) = mask else { return Ok((self.forward_t(xs, train)?, None)) };
        let out = self.forward_with_mask(xs, mask)?;
        Ok((out, if self.return_sequences { Some(mask.shallow_clone()) } else { None }))
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let (outputs, last) = self.run(xs, train)?;
        if self.directions.len() == 1 {
            return Ok(if self.return_sequences { outputs } else { last.f_select(0, 0)? });
        }
        // The backward direction's outputs come aligned with the input steps, as Keras's
        // Bidirectional returns them; its last state is the one after reading the first step.
        if self.return_sequences {
            let u = self.units;
            self.merge.merge(&outputs.f_narrow(-1, 0, u)?, &outputs.f_narrow(-1, u, u)?)
        } else {
            self.merge.merge(&last.f_select(0, 0)?, &last.f_select(0, 1)?)
        }
    }
}
