//! `Masking`: marks the steps of padded float sequences whose features all equal a value, so the
//! layers after it skip them; and [`MaskRule`], what each layer kind does with a mask.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, fits_f32, LayerConfig, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `Masking`: a step of a `(None, timesteps, features)` sequence is masked when every
/// feature equals `mask_value` (default 0.0). The output is the input with masked steps set to
/// zero, and the mask travels on to the next layers: a recurrent layer keeps its state over
/// masked steps, `GlobalAveragePooling1D` averages only the others, and a mask that reaches
/// the model's output weighs the loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Masking {
    /// The padding value: steps whose features all equal it are masked.
    #[serde(default)]
    pub mask_value: f64,
}

impl Default for Masking {
    fn default() -> Self {
        Self { mask_value: 0.0 }
    }
}

impl Masking {
    /// A masking layer for steps whose features all equal `mask_value`.
    pub fn new(mask_value: f64) -> Self {
        Self { mask_value }
    }

    fn problem(&self, input: &[i64]) -> std::result::Result<(), String> {
        if !fits_f32(self.mask_value) {
            return Err(format!(
                "mask_value must be a finite float32 number (no step would ever equal {}); use the value the \
                 sequences are padded with, such as 0.0",
                self.mask_value
            ));
        }
        if input.len() < 2 {
            return Err(format!(
                "Masking takes sequences (None, timesteps, features) but got a {}-D input per sample; reshape \
                 the data to [N, T, F] (a step is masked when all its F features equal mask_value)",
                input.len()
            ));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct MaskingModule {
    mask_value: f64,
}

impl MaskingModule {
    /// The `[N, T]` mask: true where some feature differs from `mask_value`.
    fn mask(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(xs.f_ne(self.mask_value)?.f_any_dim(-1, false)?)
    }
}

impl LayerModule for MaskingModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.forward_masked_t(xs, None, train)?.0)
    }

    fn forward_masked_t(&self, xs: &Tensor, _mask: Option<&Tensor>, _train: bool) -> Result<(Tensor, Option<Tensor>)> {
        let mask = self.mask(xs)?;
        let out = xs.f_mul(&mask.f_unsqueeze(-1)?.f_to_kind(xs.kind())?)?;
        Ok((out, Some(mask)))
    }
}

impl LayerSpec for Masking {
    fn kind(&self) -> &'static str {
        "Masking"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.problem(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.problem(input).map_err(|m| config_error("Masking", m))?;
        Ok(Box::new(MaskingModule { mask_value: self.mask_value }))
    }
}

/// What a layer does with the mask of padded steps it receives (Keras's `supports_masking` and
/// `compute_mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskRule {
    /// The layer computes step by step and passes the mask on unchanged (Keras's
    /// `supports_masking = True` with the default `compute_mask`): `Dense`, `Dropout`,
    /// activations, `LayerNormalization`, ...
    Pass,
    /// The layer reads the mask or makes one itself, in
    /// [`LayerModule::forward_masked_t`]: `Embedding`, `Masking`, the recurrent layers,
    /// `Bidirectional`, `GlobalAveragePooling1D`.
    Own,
    /// The layer does not support masking: the mask stops there, as Keras drops it (with a
    /// warning) at such a layer (`Flatten`, `Conv1D`, `GlobalMaxPooling1D`, a custom layer,
    /// ...).
    Drop,
    /// Keras's layer uses the mask in a way this one does not yet (masked statistics of
    /// `BatchNormalization` and `GroupNormalization`, `Softmax`'s and `MultiHeadAttention`'s
    /// masked positions): a mask reaching it is an error rather than a silent difference.
    Unsupported,
}

impl LayerConfig {
    /// What this layer does with a mask of padded steps (see [`MaskRule`]).
    pub fn mask_rule(&self) -> MaskRule {
        match self {
            LayerConfig::Embedding(_)
            | LayerConfig::Masking(_)
            | LayerConfig::LSTM(_)
            | LayerConfig::GRU(_)
            | LayerConfig::SimpleRNN(_)
            | LayerConfig::Bidirectional(_)
            | LayerConfig::GlobalAveragePooling1D(_) => MaskRule::Own,
            LayerConfig::Dense(_)
            | LayerConfig::Dropout(_)
            | LayerConfig::Activation(_)
            | LayerConfig::LayerNormalization(_)
            | LayerConfig::GaussianNoise(_)
            | LayerConfig::Rescaling(_)
            | LayerConfig::Normalization(_)
            | LayerConfig::LeakyReLU(_)
            | LayerConfig::ELU(_)
            | LayerConfig::PReLU(_)
            | LayerConfig::ReLU(_)
            | LayerConfig::UnitNormalization(_)
            | LayerConfig::ActivityRegularization(_)
            | LayerConfig::GaussianDropout(_)
            | LayerConfig::AlphaDropout(_) => MaskRule::Pass,
            LayerConfig::BatchNormalization(_)
            | LayerConfig::GroupNormalization(_)
            | LayerConfig::Softmax(_)
            | LayerConfig::MultiHeadAttention(_) => MaskRule::Unsupported,
            _ => MaskRule::Drop,
        }
    }

    /// Whether the layer starts a mask: an `Embedding` with `mask_zero`, or `Masking`.
    pub fn makes_mask(&self) -> bool {
        match self {
            LayerConfig::Embedding(l) => l.mask_zero,
            LayerConfig::Masking(_) => true,
            _ => false,
        }
    }
}
