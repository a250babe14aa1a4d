//! `MaxPooling3D` and `AveragePooling3D`: windows over volumes, channels-first by default or
//! Keras's channels-last with `data_format` (one definition, [`pool3d_spec!`]).
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::padding::{pool_windows, torch_pad, windows};
use super::{config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::Result;

/// Defines a 3-D pooling spec: its options, constructor, builders and output shape.
macro_rules! pool3d_spec {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Window depth, height and width.
            pub pool_size: [i64; 3],
            /// Strides along depth, height and width.
            pub strides: [i64; 3],
            /// Padding mode.
            #[serde(default)]
            pub padding: Padding,
            /// Where the channels are (channels-first unless set, as the crate's other layers).
            #[serde(default, skip_serializing_if = "DataFormat::is_default")]
            pub data_format: DataFormat,
        }

        impl $name {
            /// A pooling window, a cube (`2`) or Keras's `(depth, height, width)`; strides
            /// equal to the window, valid padding, channels first.
            pub fn new(pool_size: impl Into<super::Size3>) -> Self {
                let pool = pool_size.into().0;
                Self { pool_size: pool, strides: pool, padding: Padding::Valid, data_format: DataFormat::ChannelsFirst }
            }
            /// Sets the strides: one integer for every axis, or `(depth, height, width)`.
            pub fn strides(mut self, strides: impl Into<super::Size3>) -> Self {
                self.strides = strides.into().0;
                self
            }
            /// Sets the padding mode.
            pub fn padding(mut self, padding: Padding) -> Self {
                self.padding = padding;
                self
            }
            /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
            /// `(depth, height, width, channels)`.
            pub fn data_format(mut self, data_format: DataFormat) -> Self {
                self.data_format = data_format;
                self
            }

            /// Channels, spatial sizes, padding in LibTorch's order and the window run (see
            /// `padding::pool_windows`).
            fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 3], [i64; 6], [i64; 3]), String> {
                let (c, sizes) = self.data_format.split_volume(stringify!($name), input)?;
                let (_, pads, pool) = pool_windows(stringify!($name), sizes, self.pool_size, self.strides, self.padding)?;
                Ok((c, sizes, torch_pad(pads), pool))
            }

            /// The per-sample output shape.
            fn pooled_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
                let (c, sizes) = self.data_format.split_volume(stringify!($name), input)?;
                let (out, _) = windows(stringify!($name), sizes, self.pool_size, self.strides, self.padding)?;
                Ok(self.data_format.join_volume(c, out))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new(2)
            }
        }
    };
}

pool3d_spec! {
    /// 3-D max pooling over volumes `[channels, depth, height, width]` (or channels-last).
    /// Keras's defaults: a 2x2x2 window, strides equal to the window, valid padding. With
    /// padding `same` the padded cells never win a window (as in Keras), split as TensorFlow
    /// splits it (the extra cell at the end of an axis).
    MaxPooling3D
}

pool3d_spec! {
    /// 3-D average pooling over volumes `[channels, depth, height, width]` (or channels-last).
    /// Keras's defaults: a 2x2x2 window, strides equal to the window, valid padding. With
    /// padding `same` the padded cells are left out of each window's mean, as Keras does on
    /// TensorFlow and JAX (and on torch where the padding is the same on both sides), as
    /// [`AveragePooling2D`](super::AveragePooling2D).
    AveragePooling3D
}

#[derive(Debug)]
struct MaxPool3DModule {
    pool: [i64; 3],
    strides: [i64; 3],
    pad: [i64; 6],
    data_format: DataFormat,
}

impl LayerModule for MaxPool3DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.data_format.volume_channels_first(xs, |xs| {
            if self.pad.iter().all(|&p| p == 0) {
                return Ok(xs.f_max_pool3d(self.pool, self.strides, [0; 3], [1; 3], false)?);
            }
            // Every window holds at least one cell of the volume, so -inf cells never win it.
            let padded = xs.f_pad(self.pad, "constant", f64::NEG_INFINITY)?;
            Ok(padded.f_max_pool3d(self.pool, self.strides, [0; 3], [1; 3], false)?)
        })
    }
}

impl LayerSpec for MaxPooling3D {
    fn kind(&self) -> &'static str {
        "MaxPooling3D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.pooled_shape(input)
    }

    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, _, pad, pool) = self.geometry(input).map_err(|m| config_error("MaxPooling3D", m))?;
        Ok(Box::new(MaxPool3DModule { pool, strides: self.strides, pad, data_format: self.data_format }))
    }
}

#[derive(Debug)]
struct AvgPool3DModule {
    pool: [i64; 3],
    strides: [i64; 3],
    pad: [i64; 6],
    /// With padding: the fraction of each window inside the volume, `[1, 1, od, oh, ow]`.
    inside: Option<Tensor>,
    data_format: DataFormat,
}

impl LayerModule for AvgPool3DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.data_format.volume_channels_first(xs, |xs| {
            let Some(inside) = &self.inside else {
                return Ok(xs.f_avg_pool3d(self.pool, self.strides, [0; 3], false, true, None::<i64>)?);
            };
            // The mean over the whole padded window, rescaled to the mean over its cells inside.
            let padded = xs.f_constant_pad_nd(self.pad)?;
            let mean = padded.f_avg_pool3d(self.pool, self.strides, [0; 3], false, true, None::<i64>)?;
            Ok(mean.f_div(inside)?)
        })
    }
}

impl LayerSpec for AveragePooling3D {
    fn kind(&self) -> &'static str {
        "AveragePooling3D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.pooled_shape(input)
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, [d, h, w], pad, pool) = self.geometry(input).map_err(|m| config_error("AveragePooling3D", m))?;
        let inside = if pad.iter().any(|&p| p > 0) {
            let ones = Tensor::f_ones([1, 1, d, h, w], (Kind::Float, path.device()))?;
            let ones = ones.f_constant_pad_nd(pad)?;
            Some(ones.f_avg_pool3d(pool, self.strides, [0; 3], false, true, None::<i64>)?)
        } else {
            None
        };
        Ok(Box::new(AvgPool3DModule { pool, strides: self.strides, pad, inside, data_format: self.data_format }))
    }
}
