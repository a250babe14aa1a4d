//! `Bidirectional`: runs a recurrent layer forwards and backwards over the sequence.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::rnn::{sequence, var_name, MergeMode, Recurrent, RnnModule};
use super::{config_error, LayerModule, LayerSpec, SimpleRNN, GRU, LSTM};
use crate::{Regularizer, Result};

/// The recurrent layers [`Bidirectional`] wraps, saved as Keras saves its `layer`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
pub enum RecurrentLayer {
    /// See [`LSTM`].
    LSTM(LSTM),
    /// See [`GRU`].
    GRU(GRU),
    /// See [`SimpleRNN`].
    SimpleRNN(SimpleRNN),
}

impl From<LSTM> for RecurrentLayer {
    fn from(l: LSTM) -> Self {
        RecurrentLayer::LSTM(l)
    }
}
impl From<GRU> for RecurrentLayer {
    fn from(l: GRU) -> Self {
        RecurrentLayer::GRU(l)
    }
}
impl From<SimpleRNN> for RecurrentLayer {
    fn from(l: SimpleRNN) -> Self {
        RecurrentLayer::SimpleRNN(l)
    }
}

impl RecurrentLayer {
    /// The wrapped layer's units.
    pub fn units(&self) -> i64 {
        self.inner().units()
    }

    fn inner(&self) -> &dyn Recurrent {
        match self {
            RecurrentLayer::LSTM(l) => l,
            RecurrentLayer::GRU(l) => l,
            RecurrentLayer::SimpleRNN(l) => l,
        }
    }
}

/// Keras's `Bidirectional`: the wrapped `LSTM`, `GRU` or `SimpleRNN` read the sequence
/// forwards, a copy of it (its own weights, same configuration) backwards, and the two outputs
/// merged by `merge_mode` (`concat` by default: `(None, 2 * units)`, or
/// `(None, timesteps, 2 * units)` with the wrapped layer's `return_sequences`, the backward
/// outputs aligned with the input steps as Keras aligns them). One call of LibTorch's fused
/// bidirectional kernel (cuDNN on CUDA) runs both.
///
/// Variables: the wrapped layer's (see its docs) for the forward direction, and the same with
/// `_reverse` appended for the backward one (`weight_ih_l0_reverse`, ...), PyTorch's names for
/// a bidirectional `nn.LSTM`/`nn.GRU`/`nn.RNN`. Parameters: twice the wrapped layer's, as Keras
/// counts them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bidirectional {
    /// The wrapped recurrent layer.
    pub layer: RecurrentLayer,
    /// How the two directions' outputs are combined.
    pub merge_mode: MergeMode,
}

impl Bidirectional {
    /// `layer` run in both directions, outputs concatenated.
    pub fn new(layer: impl Into<RecurrentLayer>) -> Self {
        Self { layer: layer.into(), merge_mode: MergeMode::Concat }
    }
    /// Sets how the outputs are combined (`"concat"`, `"sum"`, `"mul"`, `"ave"` parse into it).
    pub fn merge_mode(mut self, merge_mode: MergeMode) -> Self {
        self.merge_mode = merge_mode;
        self
    }
}

impl LayerSpec for Bidirectional {
    fn kind(&self) -> &'static str {
        "Bidirectional"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let inner = self.layer.inner();
        let u = inner.units();
        if u <= 0 {
            return Err(format!("the wrapped layer's units must be positive, got {u}"));
        }
        inner.cell()?;
        if inner.activity_regularizer().is_some() {
            return Err("the wrapped layer's activity_regularizer is not collected inside a Bidirectional: \
                 put an ActivityRegularization layer after the Bidirectional instead"
                .into());
        }
        let (t, _) = sequence("Bidirectional", input)?;
        // The wrapped layer's own checks (its initializer and regularizer options).
        inner.output_shape(input)?;
        let width = if self.merge_mode == MergeMode::Concat { 2 * u } else { u };
        Ok(if inner.returns_sequences() { vec![t, width] } else { vec![width] })
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let one = self.layer.inner().direction_shapes(input.get(1).copied().unwrap_or(0));
        let mut shapes: Vec<_> =
            one.iter().flat_map(|(n, s)| [(*n, s.clone()), (var_name(n, true), s.clone())]).collect();
        shapes.sort_by(|a, b| a.0.cmp(b.0));
        shapes
    }

    /// The wrapped layer's regularized variables, in both directions.
    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        let one = self.layer.inner().regularizers();
        one.into_iter().flat_map(|(n, r)| [(n, r), (var_name(n, true), r)]).collect()
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let err = |m| config_error("Bidirectional", m);
        let inner = self.layer.inner();
        self.output_shape(input).map_err(err)?;
        let cell = inner.cell().map_err(err)?;
        let (_, features) = sequence("Bidirectional", input).map_err(err)?;
        let forward = inner.build_direction(path, features, false)?;
        let backward = inner.build_direction(path, features, true)?;
        Ok(Box::new(RnnModule {
            cell,
            directions: vec![forward, backward],
            units: inner.units(),
            return_sequences: inner.returns_sequences(),
            merge: self.merge_mode,
        }))
    }
}
