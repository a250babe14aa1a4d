//! `Conv1DTranspose`: the transposed 1-D convolution over sequences, and the module it shares
//! with `Conv3DTranspose` (any rank, either data format).
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::conv2d::conv_spec;
use super::conv2d_transpose::transpose_geometry;
use super::padding::torch_pad;
use super::{config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

conv_spec! {
    1, Size1, "`[length]`",
    /// A transposed convolution over sequences `[channels, length]`, or Keras's
    /// `(steps, features)` with `.data_format(DataFormat::ChannelsLast)`, which grows the
    /// length by the stride; the output length and the cells cut or added are Keras 3's, as
    /// [`Conv2DTranspose`](super::Conv2DTranspose) documents.
    ///
    /// Variables: `weight` `[in_channels, filters, k]` (PyTorch's `nn.ConvTranspose1d`
    /// layout; Keras's kernel `(k, filters, in_channels)` transposed), glorot-uniform over
    /// Keras's fans (or `kernel_initializer`), and `bias` `[filters]` (zeros, or
    /// `bias_initializer`); either may carry a [`Regularizer`].
    pub struct Conv1DTranspose {
        /// Keras's `output_padding`: extra cells at the end, below the stride; `None` (Keras's
        /// default) gives the length without it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub output_padding: Option<[i64; 1]> = None,
        /// Keras's `dilation_rate` (`[1]`: none); above one only with a stride of one.
        #[serde(default = "no_dilation", skip_serializing_if = "is_no_dilation")]
        pub dilation_rate: [i64; 1] = [1],
        /// Where the channels are (channels-first unless set, as the crate's other layers).
        #[serde(default, skip_serializing_if = "DataFormat::is_default")]
        pub data_format: DataFormat = DataFormat::ChannelsFirst,
    }
}

fn no_dilation() -> [i64; 1] {
    [1]
}

fn is_no_dilation(rate: &[i64; 1]) -> bool {
    *rate == no_dilation()
}

impl Conv1DTranspose {
    /// Sets Keras's `output_padding`, below the stride.
    pub fn output_padding(mut self, output_padding: i64) -> Self {
        self.output_padding = Some([output_padding]);
        self
    }
    /// Sets Keras's `dilation_rate`.
    pub fn dilation_rate(mut self, dilation_rate: i64) -> Self {
        self.dilation_rate = [dilation_rate];
        self
    }
    /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
    /// `(steps, features)`.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    /// Input channels, output length and the padding (negative: cut) taking LibTorch's output
    /// to Keras's.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, i64, [i64; 2]), String> {
        self.options_problem()?;
        let (c, l) = self.data_format.split("Conv1DTranspose", input)?;
        let options = (self.kernel_size, self.strides, self.dilation_rate, self.output_padding);
        let ([out], [pad]) = transpose_geometry("Conv1DTranspose", self.padding, [l], options)?;
        Ok((c, out, pad))
    }
}

/// A built 1-D or 3-D transposed convolution.
#[derive(Debug)]
pub(super) struct TransposeModule {
    pub(super) weight: Tensor,
    /// `[filters]`, added after the padding so that added cells hold the bias.
    pub(super) bias: Option<Tensor>,
    pub(super) strides: Vec<i64>,
    pub(super) dilation: Vec<i64>,
    /// LibTorch's order (the last axis first); negative cuts.
    pub(super) pad: Vec<i64>,
    pub(super) data_format: DataFormat,
}

impl TransposeModule {
    /// The transposed convolution on a channels-first batch.
    fn channels_first(&self, xs: &Tensor) -> Result<Tensor> {
        let (w, s, d) = (&self.weight, self.strides.as_slice(), self.dilation.as_slice());
        let zeros = vec![0; s.len()];
        let y = if s.len() == 3 {
            xs.f_conv_transpose3d::<&Tensor>(w, None, s, zeros.as_slice(), zeros.as_slice(), 1, d)?
        } else {
            xs.f_conv_transpose1d::<&Tensor>(w, None, s, zeros.as_slice(), zeros.as_slice(), 1, d)?
        };
        let y = if self.pad.iter().all(|&p| p == 0) { y } else { y.f_constant_pad_nd(self.pad.as_slice())? };
        Ok(match &self.bias {
            Some(b) => {
                let mut shape = vec![1, -1];
                shape.extend(std::iter::repeat_n(1, s.len()));
                y.f_add(&b.f_view(shape.as_slice())?)?
            }
            None => y,
        })
    }
}

impl LayerModule for TransposeModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        if self.strides.len() == 3 {
            self.data_format.volume_channels_first(xs, |xs| self.channels_first(xs))
        } else {
            self.data_format.channels_first(xs, |xs| self.channels_first(xs))
        }
    }
}

impl LayerSpec for Conv1DTranspose {
    fn kind(&self) -> &'static str {
        "Conv1DTranspose"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (_, out, _) = self.geometry(input)?;
        Ok(self.data_format.join(self.filters, out))
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let c = self.data_format.split("Conv1DTranspose", input).map_or(0, |(c, _)| c);
        self.shapes(vec![c, self.filters, self.kernel_size[0]])
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (c, _, pad) = self.geometry(input).map_err(|m| config_error("Conv1DTranspose", m))?;
        // Keras's kernel is (k, filters, in); ours [in, filters, k].
        let (weight, bias) = self.variables(path, [self.kernel_size[0], self.filters, c])?;
        Ok(Box::new(TransposeModule {
            weight,
            bias,
            strides: self.strides.to_vec(),
            dilation: self.dilation_rate.to_vec(),
            pad: torch_pad::<1, 2>([pad]).to_vec(),
            data_format: self.data_format,
        }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn activity_regularizer(&self) -> Option<Regularizer> {
        self.activity_regularizer
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        self.regularized()
    }
}
