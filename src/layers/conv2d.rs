//! `Conv2D`: a 2-D convolution over channels-first (`NCHW`) images, and the options it shares
//! with `Conv2DTranspose` ([`conv2d_spec!`]) and `Conv3D` (`conv_spec!`, the same over any
//! number of spatial axes).
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::spatial;
use super::{config_error, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// Defines a 2-D convolution's spec: the struct with the options `Conv2D` and
/// `Conv2DTranspose` share (in this order, which their saved JSON keeps), then the layer's own
/// fields with their defaults; its constructor, builder methods and the shared checks and
/// variables ([`conv_spec!`] over two axes, and the `kernel_size(kh, kw)` builder).
macro_rules! conv2d_spec {
    (
        $(#[$doc:meta])*
        pub struct $name:ident {
            $($(#[$fdoc:meta])* pub $field:ident: $fty:ty = $fdefault:expr,)*
        }
    ) => {
        super::conv2d::conv_spec! {
            2, Size2, "`(height, width)`",
            $(#[$doc])*
            pub struct $name {
                $($(#[$fdoc])* pub $field: $fty = $fdefault,)*
            }
        }

        impl $name {
            /// Sets a non-square kernel.
            pub fn kernel_size(mut self, kh: i64, kw: i64) -> Self {
                self.kernel_size = [kh, kw];
                self
            }
        }
    };
}
pub(super) use conv2d_spec;

/// [`conv2d_spec!`] over `$n` spatial axes, sizes taken as `$size` (`Size2`, `Size3`), whose
/// per-axis tuple reads `$axes` in the docs.
macro_rules! conv_spec {
    (
        $n:literal, $size:ident, $axes:literal,
        $(#[$doc:meta])*
        pub struct $name:ident {
            $($(#[$fdoc:meta])* pub $field:ident: $fty:ty = $fdefault:expr,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Output channels.
            pub filters: i64,
            /// Kernel size along each spatial axis.
            pub kernel_size: [i64; $n],
            /// Strides along each spatial axis.
            pub strides: [i64; $n],
            /// Padding mode.
            pub padding: Padding,
            /// Activation applied to the output.
            pub activation: Activation,
            /// Whether the layer has a bias.
            pub use_bias: bool,
            /// How the kernel starts (glorot-uniform over Keras's fans unless set).
            #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
            pub kernel_initializer: Initializer,
            /// How the bias starts.
            #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
            pub bias_initializer: Initializer,
            /// The kernel's penalty, if any.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub kernel_regularizer: Option<Regularizer>,
            /// The bias's penalty, if any.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub bias_regularizer: Option<Regularizer>,
            /// The penalty on the layer's output (after its activation), if any.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub activity_regularizer: Option<Regularizer>,
            $($(#[$fdoc])* pub $field: $fty,)*
        }

        impl $name {
            #[doc = concat!("A layer with `filters` outputs, stride 1, valid padding; the kernel is one \
                size for every axis (`3`) or Keras's ", $axes, " tuple (or an array).")]
            pub fn new(filters: i64, kernel_size: impl Into<super::$size>) -> Self {
                Self {
                    filters,
                    kernel_size: kernel_size.into().0,
                    strides: [1; $n],
                    padding: Padding::Valid,
                    activation: Activation::Linear,
                    use_bias: true,
                    kernel_initializer: defaults::kernel(),
                    bias_initializer: defaults::bias(),
                    kernel_regularizer: None,
                    bias_regularizer: None,
                    activity_regularizer: None,
                    $($field: $fdefault,)*
                }
            }
            #[doc = concat!("Sets the strides: one integer for every axis, or ", $axes, ".")]
            pub fn strides(mut self, strides: impl Into<super::$size>) -> Self {
                self.strides = strides.into().0;
                self
            }
            /// Sets the padding mode.
            pub fn padding(mut self, padding: Padding) -> Self {
                self.padding = padding;
                self
            }

            /// Refuses a non-positive `filters` and initializer or regularizer options Keras
            /// refuses.
            fn options_problem(&self) -> std::result::Result<(), String> {
                if self.filters <= 0 {
                    return Err(format!("filters must be positive, got {}", self.filters));
                }
                super::options_problem(
                    [self.kernel_initializer, self.bias_initializer],
                    [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
                )?;
                super::bias_problem(self.bias_initializer)
            }

            /// The variables' shapes, bias first, given the kernel's `weight` shape.
            fn shapes(&self, weight: Vec<i64>) -> Vec<(&'static str, Vec<i64>)> {
                let mut shapes = Vec::with_capacity(2);
                if self.use_bias {
                    shapes.push(("bias", vec![self.filters]));
                }
                shapes.push(("weight", weight));
                shapes
            }

            /// Creates `weight` from Keras's kernel shape `[k.., a, b]` (ours: `[b, a, k..]`)
            /// and, with a bias, `bias` `[filters]`, after checking the options.
            fn variables(&self, path: &nn::Path, keras_kernel: [i64; $n + 2]) -> Result<(Tensor, Option<Tensor>)> {
                self.options_problem().map_err(|m| super::config_error(self.kind(), m))?;
                let mut perm: [i64; $n + 2] = [0; $n + 2];
                perm[0] = $n + 1;
                perm[1] = $n;
                for (i, p) in perm.iter_mut().skip(2).enumerate() {
                    *p = i as i64;
                }
                let weight = self.kernel_initializer.var(path, "weight", &keras_kernel, &perm)?;
                let bias = if self.use_bias {
                    Some(self.bias_initializer.var(path, "bias", &[self.filters], &[0])?)
                } else {
                    None
                };
                Ok((weight, bias))
            }

            /// The regularized variables.
            fn regularized(&self) -> Vec<(&'static str, Regularizer)> {
                super::regularized([("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)])
            }
        }

        super::weight_options!($name);
        super::output_options!($name);
    };
}
pub(super) use conv_spec;

conv2d_spec! {
    /// A 2-D convolution over `[channels, height, width]` inputs.
    ///
    /// Variables: `weight` `[filters, in_channels, kh, kw]` (PyTorch's `nn.Conv2d` layout,
    /// glorot-uniform over Keras's fans `in_channels * kh * kw`, `filters * kh * kw`, unless
    /// [`kernel_initializer`](Self::kernel_initializer) says otherwise) and `bias` `[filters]`
    /// (zeros unless [`bias_initializer`](Self::bias_initializer) says otherwise). Either may
    /// carry a [`Regularizer`] whose penalty is added to the loss.
    pub struct Conv2D {}
}

#[derive(Debug)]
struct ConvModule {
    weight: Tensor,
    bias: Option<Tensor>,
    strides: [i64; 2],
    pad: [i64; 4],
}

impl LayerModule for ConvModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let [l, r, t, b] = self.pad;
        let (xs, padding) =
            if l == r && t == b { (xs.shallow_clone(), [t, l]) } else { (xs.f_constant_pad_nd([l, r, t, b])?, [0, 0]) };
        Ok(xs.f_conv2d(&self.weight, self.bias.as_ref(), self.strides, padding, [1, 1], 1)?)
    }
}

impl LayerSpec for Conv2D {
    fn kind(&self) -> &'static str {
        "Conv2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.options_problem()?;
        let (oh, ow, _) = spatial("Conv2D", input, self.kernel_size, self.strides, self.padding)?;
        Ok(vec![self.filters, oh, ow])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kh, kw] = self.kernel_size;
        self.shapes(vec![self.filters, input.first().copied().unwrap_or(0), kh, kw])
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if self.filters <= 0 {
            return Err(config_error("Conv2D", format!("filters must be positive, got {}", self.filters)));
        }
        let (_, _, pad) = spatial("Conv2D", input, self.kernel_size, self.strides, self.padding)
            .map_err(|m| config_error("Conv2D", m))?;
        let [kh, kw] = self.kernel_size;
        // Keras's kernel is (kh, kw, in, filters); ours [filters, in, kh, kw].
        let (weight, bias) = self.variables(path, [kh, kw, input[0], self.filters])?;
        Ok(Box::new(ConvModule { weight, bias, strides: self.strides, pad }))
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
