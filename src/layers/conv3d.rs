//! `Conv3D`: a 3-D convolution over volumes (video clips, scans), channels-first by default or
//! Keras's channels-last with `data_format`.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::conv2d::conv_spec;
use super::padding::{torch_pad, windows, Pads};
use super::{config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

conv_spec! {
    3, Size3, "`(depth, height, width)`",
    /// A 3-D convolution over volumes `[channels, depth, height, width]`, or Keras's
    /// `(depth, height, width, channels)` with `.data_format(DataFormat::ChannelsLast)`.
    /// Padding `same` pads as Keras (TensorFlow's split: the extra cell at the end of an axis).
    ///
    /// Variables: `weight` `[filters, in_channels / groups, kd, kh, kw]` (PyTorch's
    /// `nn.Conv3d` layout; Keras's kernel `(kd, kh, kw, in_channels / groups, filters)`
    /// permuted), glorot-uniform over Keras's fans unless
    /// [`kernel_initializer`](Self::kernel_initializer) says otherwise, and `bias` `[filters]`
    /// (zeros unless [`bias_initializer`](Self::bias_initializer) says otherwise). Either may
    /// carry a [`Regularizer`] whose penalty is added to the loss.
    pub struct Conv3D {
        /// Keras's `dilation_rate` along depth, height and width (`[1, 1, 1]`: none); above one
        /// only with strides of one, as in Keras.
        #[serde(default = "no_dilation", skip_serializing_if = "is_no_dilation")]
        pub dilation_rate: [i64; 3] = no_dilation(),
        /// Keras's `groups`: the input channels and the filters are split into this many
        /// groups, each convolved on its own (both must divide by it).
        #[serde(default = "one_group", skip_serializing_if = "is_one_group")]
        pub groups: i64 = 1,
        /// Where the channels are (channels-first unless set, as the crate's other layers).
        #[serde(default, skip_serializing_if = "DataFormat::is_default")]
        pub data_format: DataFormat = DataFormat::ChannelsFirst,
    }
}

/// No dilation along depth, height and width: the serde default of the 3-D convolutions.
pub(super) fn no_dilation() -> [i64; 3] {
    [1, 1, 1]
}

pub(super) fn is_no_dilation(rate: &[i64; 3]) -> bool {
    *rate == no_dilation()
}

/// The `dilation_rate` and `data_format` builders of a 3-D convolution.
macro_rules! volume_conv_options {
    ($name:ident) => {
        impl $name {
            /// Sets Keras's `dilation_rate`: one integer for every axis, or
            /// `(depth, height, width)`.
            pub fn dilation_rate(mut self, dilation_rate: impl Into<super::Size3>) -> Self {
                self.dilation_rate = dilation_rate.into().0;
                self
            }
            /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
            /// `(depth, height, width, channels)`.
            pub fn data_format(mut self, data_format: DataFormat) -> Self {
                self.data_format = data_format;
                self
            }
        }
    };
}
pub(super) use volume_conv_options;

volume_conv_options!(Conv3D);

fn one_group() -> i64 {
    1
}

fn is_one_group(groups: &i64) -> bool {
    *groups == 1
}

impl Conv3D {
    /// Sets Keras's `groups`.
    pub fn groups(mut self, groups: i64) -> Self {
        self.groups = groups;
        self
    }

    /// Input channels, output `[depth, height, width]` and the padding per axis.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 3], Pads<3>), String> {
        self.options_problem()?;
        let (c, sizes) = self.data_format.split_volume("Conv3D", input)?;
        let (k, s, d) = (self.kernel_size, self.strides, self.dilation_rate);
        if d.iter().any(|&v| v <= 0 || v > i64::from(i32::MAX)) || k.iter().any(|&v| v > i64::from(i32::MAX)) {
            return Err(format!("Conv3D needs dilation rates and kernel sizes in 1..=2^31-1, got {d:?} and {k:?}"));
        }
        if s.iter().any(|&v| v > 1) && d.iter().any(|&v| v > 1) {
            return Err(format!(
                "strides above 1 do not go with a dilation_rate above 1 (as in Keras), got strides {s:?} and \
                 dilation_rate {d:?}: use one or the other"
            ));
        }
        let g = self.groups;
        if g <= 0 || c % g != 0 || self.filters % g != 0 {
            return Err(format!(
                "groups must be positive and divide both the input channels ({c}) and filters ({}), got {g}",
                self.filters
            ));
        }
        // The dilated kernel, the window the arithmetic sees (below 2^62: no overflow).
        let span = [0, 1, 2].map(|i| if k[i] > 0 { (k[i] - 1) * d[i] + 1 } else { k[i] });
        let (out, pads) = windows("Conv3D", sizes, span, s, self.padding)?;
        Ok((c, out, pads))
    }
}

#[derive(Debug)]
struct Conv3DModule {
    weight: Tensor,
    bias: Option<Tensor>,
    strides: [i64; 3],
    dilation: [i64; 3],
    groups: i64,
    /// LibTorch's order (width's first), all zero without padding.
    pad: [i64; 6],
    data_format: DataFormat,
}

impl LayerModule for Conv3DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.data_format.volume_channels_first(xs, |xs| {
            let [wl, wr, ht, hb, df, db] = self.pad;
            let (xs, padding) = if wl == wr && ht == hb && df == db {
                (xs.shallow_clone(), [df, ht, wl])
            } else {
                (xs.f_constant_pad_nd(self.pad)?, [0, 0, 0])
            };
            Ok(xs.f_conv3d(&self.weight, self.bias.as_ref(), self.strides, padding, self.dilation, self.groups)?)
        })
    }
}

impl LayerSpec for Conv3D {
    fn kind(&self) -> &'static str {
        "Conv3D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (_, out, _) = self.geometry(input)?;
        Ok(self.data_format.join_volume(self.filters, out))
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kd, kh, kw] = self.kernel_size;
        let c = self.data_format.split_volume("Conv3D", input).map_or(0, |(c, _)| c);
        self.shapes(vec![self.filters, c / self.groups.max(1), kd, kh, kw])
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (c, _, pads) = self.geometry(input).map_err(|m| config_error("Conv3D", m))?;
        let [kd, kh, kw] = self.kernel_size;
        // Keras's kernel is (kd, kh, kw, in / groups, filters); ours [filters, in / groups, kd, kh, kw].
        let (weight, bias) = self.variables(path, [kd, kh, kw, c / self.groups, self.filters])?;
        Ok(Box::new(Conv3DModule {
            weight,
            bias,
            strides: self.strides,
            dilation: self.dilation_rate,
            groups: self.groups,
            pad: torch_pad(pads),
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
