//! `Conv3DTranspose`: the transposed 3-D convolution over volumes.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::conv1d_transpose::TransposeModule;
use super::conv2d::conv_spec;
use super::conv2d_transpose::transpose_geometry;
use super::conv3d::{is_no_dilation, no_dilation, volume_conv_options};
use super::padding::{torch_pad, Pads};
use super::{config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

conv_spec! {
    3, Size3, "`(depth, height, width)`",
    /// A transposed convolution over volumes `[channels, depth, height, width]`, or Keras's
    /// `(depth, height, width, channels)` with `.data_format(DataFormat::ChannelsLast)`, which
    /// grows each axis by its stride; the output sizes and the cells cut or added are Keras
    /// 3's, as [`Conv2DTranspose`](super::Conv2DTranspose) documents.
    ///
    /// Variables: `weight` `[in_channels, filters, kd, kh, kw]` (PyTorch's
    /// `nn.ConvTranspose3d` layout; Keras's kernel `(kd, kh, kw, filters, in_channels)`
    /// permuted), glorot-uniform over Keras's fans (or `kernel_initializer`), and `bias`
    /// `[filters]` (zeros, or `bias_initializer`); either may carry a [`Regularizer`].
    pub struct Conv3DTranspose {
        /// Keras's `output_padding`: extra cells at the end of each axis, each below its
        /// stride; `None` (Keras's default) gives the sizes without it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub output_padding: Option<[i64; 3]> = None,
        /// Keras's `dilation_rate` along depth, height and width (`[1, 1, 1]`: none); above
        /// one only with strides of one.
        #[serde(default = "no_dilation", skip_serializing_if = "is_no_dilation")]
        pub dilation_rate: [i64; 3] = no_dilation(),
        /// Where the channels are (channels-first unless set, as the crate's other layers).
        #[serde(default, skip_serializing_if = "DataFormat::is_default")]
        pub data_format: DataFormat = DataFormat::ChannelsFirst,
    }
}

volume_conv_options!(Conv3DTranspose);

impl Conv3DTranspose {
    /// Sets Keras's `output_padding`: one integer for every axis, or `(depth, height, width)`,
    /// each below the stride along its axis.
    pub fn output_padding(mut self, output_padding: impl Into<super::Size3>) -> Self {
        self.output_padding = Some(output_padding.into().0);
        self
    }

    /// Input channels, output sizes and the padding per axis (negative: cut) taking LibTorch's
    /// output to Keras's.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 3], Pads<3>), String> {
        self.options_problem()?;
        let (c, sizes) = self.data_format.split_volume("Conv3DTranspose", input)?;
        let options = (self.kernel_size, self.strides, self.dilation_rate, self.output_padding);
        let (out, pads) = transpose_geometry("Conv3DTranspose", self.padding, sizes, options)?;
        Ok((c, out, pads))
    }
}

impl LayerSpec for Conv3DTranspose {
    fn kind(&self) -> &'static str {
        "Conv3DTranspose"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (_, out, _) = self.geometry(input)?;
        Ok(self.data_format.join_volume(self.filters, out))
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kd, kh, kw] = self.kernel_size;
        let c = self.data_format.split_volume("Conv3DTranspose", input).map_or(0, |(c, _)| c);
        self.shapes(vec![c, self.filters, kd, kh, kw])
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (c, _, pads) = self.geometry(input).map_err(|m| config_error("Conv3DTranspose", m))?;
        let [kd, kh, kw] = self.kernel_size;
        // Keras's kernel is (kd, kh, kw, filters, in); ours [in, filters, kd, kh, kw].
        let (weight, bias) = self.variables(path, [kd, kh, kw, self.filters, c])?;
        Ok(Box::new(TransposeModule {
            weight,
            bias,
            strides: self.strides.to_vec(),
            dilation: self.dilation_rate.to_vec(),
            pad: torch_pad::<3, 6>(pads).to_vec(),
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
