//! What `LSTM` and `GRU` share: the sequence shape check, the recurrent-kernel options and
//! the built module that calls LibTorch's fused recurrent kernels (cuDNN on CUDA).
use tch::Tensor;

use super::LayerModule;
use crate::Result;

/// The recurrent kernel LibTorch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cell {
    Lstm,
    Gru,
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

/// The builder methods of a recurrent layer's recurrent-kernel options
/// (`recurrent_initializer`, `recurrent_regularizer`).
macro_rules! recurrent_options {
    ($t:ty) => {
        impl $t {
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
    };
}
pub(super) use recurrent_options;

/// A built `LSTM` or `GRU`, batch first.
#[derive(Debug)]
pub(super) struct RnnModule {
    pub(super) cell: Cell,
    /// `weight_ih_l0`, `weight_hh_l0` and, with a bias, `bias_ih_l0` and `bias_hh_l0` (for the
    /// LSTM, Keras's single bias: `bias_hh_l0` is then `None` and zeros are passed).
    pub(super) weight_ih: Tensor,
    pub(super) weight_hh: Tensor,
    pub(super) bias_ih: Option<Tensor>,
    pub(super) bias_hh: Option<Tensor>,
    pub(super) units: i64,
    pub(super) return_sequences: bool,
}

impl RnnModule {
    /// The weights in cuDNN's order, copied into one contiguous buffer: cuDNN then uses them
    /// in place instead of warning and packing them itself at every call (the model keeps all
    /// parameters in its own flat buffer, in name order, which is not cuDNN's).
    fn packed_weights(&self) -> Result<Vec<Tensor>> {
        let mut params = vec![self.weight_ih.shallow_clone(), self.weight_hh.shallow_clone()];
        if let Some(b_ih) = &self.bias_ih {
            let b_hh = match &self.bias_hh {
                Some(b) => b.shallow_clone(),
                None => b_ih.f_zeros_like()?,
            };
            params.extend([b_ih.shallow_clone(), b_hh]);
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
}

impl LayerModule for RnnModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let params = self.packed_weights()?;
        let has_biases = self.bias_ih.is_some();
        let batch = xs.size().first().copied().unwrap_or(0);
        let h0 = Tensor::f_zeros([1, batch, self.units], (xs.kind(), xs.device()))?;
        let outputs = match self.cell {
            Cell::Lstm => {
                let c0 = h0.f_zeros_like()?;
                xs.f_lstm(&[h0, c0], &params, has_biases, 1, 0.0, train, false, true)?.0
            }
            Cell::Gru => xs.f_gru(&h0, &params, has_biases, 1, 0.0, train, false, true)?.0,
        };
        if self.return_sequences {
            Ok(outputs)
        } else {
            Ok(outputs.f_select(1, -1)?)
        }
    }
}
