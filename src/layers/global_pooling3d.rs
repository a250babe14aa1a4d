//! `GlobalAveragePooling3D` and `GlobalMaxPooling3D`: the mean or maximum of each channel over
//! a volume's depth, height and width.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::{DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Defines a global 3-D pooling spec: `keepdims`, `data_format`, builders and the output shape.
macro_rules! global_pool3d_spec {
    ($(#[$doc:meta])* $name:ident, $mean:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub struct $name {
            /// Keeps the spatial axes as size 1 (Keras's default: `false`).
            pub keepdims: bool,
            /// Where the channels are (channels-first unless set, as the crate's other layers).
            #[serde(default, skip_serializing_if = "DataFormat::is_default")]
            pub data_format: DataFormat,
        }

        impl $name {
            /// A global pooling layer over channels-first volumes.
            pub fn new() -> Self {
                Self::default()
            }
            /// Sets whether the spatial axes are kept as size 1.
            pub fn keepdims(mut self, keepdims: bool) -> Self {
                self.keepdims = keepdims;
                self
            }
            /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
            /// `(depth, height, width, channels)`.
            pub fn data_format(mut self, data_format: DataFormat) -> Self {
                self.data_format = data_format;
                self
            }
        }

        impl LayerSpec for $name {
            fn kind(&self) -> &'static str {
                stringify!($name)
            }
            fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
                let (c, _) = self.data_format.split_volume(stringify!($name), input)?;
                Ok(if self.keepdims { self.data_format.join_volume(c, [1; 3]) } else { vec![c] })
            }
            fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
                let axes = match self.data_format {
                    DataFormat::ChannelsFirst => [2, 3, 4],
                    DataFormat::ChannelsLast => [1, 2, 3],
                };
                Ok(Box::new(GlobalPool3DModule { axes, keepdims: self.keepdims, mean: $mean }))
            }
        }
    };
}

global_pool3d_spec! {
    /// Averages each channel of a volume over all positions: `(None, c, d, h, w)` becomes
    /// `(None, c)`, or `(None, c, 1, 1, 1)` with `keepdims` (channels-last alike).
    GlobalAveragePooling3D, true
}

global_pool3d_spec! {
    /// The maximum of each channel of a volume over all positions: `(None, c, d, h, w)` becomes
    /// `(None, c)`, or `(None, c, 1, 1, 1)` with `keepdims` (channels-last alike).
    GlobalMaxPooling3D, false
}

#[derive(Debug)]
struct GlobalPool3DModule {
    axes: [i64; 3],
    keepdims: bool,
    /// The mean, else the maximum.
    mean: bool,
}

impl LayerModule for GlobalPool3DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(if self.mean {
            xs.f_mean_dim(self.axes.as_slice(), self.keepdims, None::<Kind>)?
        } else {
            xs.f_amax(self.axes.as_slice(), self.keepdims)?
        })
    }
}
