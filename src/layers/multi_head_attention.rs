//! `MultiHeadAttention`: scaled dot-product self-attention over the steps of a sequence.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{check_options, config_error, LayerModule, LayerSpec};
use crate::initializers::{defaults, Initializer};
use crate::{Regularizer, Result};

/// Keras's `MultiHeadAttention` as self-attention: query, key and value are all the layer's
/// input, a sequence `(None, steps, features)` (channels-last, as Keras and as
/// [`Embedding`](super::Embedding) gives it), and the output is `(None, steps, output_shape)`.
///
/// Each head projects the input to queries and keys of `key_dim` and values of `value_dim`,
/// attends with `softmax(q k^T / sqrt(key_dim))`, and the heads' results are projected back to
/// `output_shape` features (default: the input's). With `dropout`, a fraction of the attention
/// probabilities is dropped in training.
///
/// Differences from Keras: a [`Sequential`](crate::Sequential) passes one tensor, so the layer
/// attends over its own input only (Keras's `layer(x, x)`); `use_causal_mask` is an option of
/// the layer here, not an argument of the call; `output_shape` is one size (the last axis),
/// attention runs over the steps axis only (Keras's default `attention_axes`), and the
/// attention scores are not returned.
///
/// Variables, in Keras's layouts so Keras weights copy over as they are: `query_kernel`
/// `[features, heads, key_dim]`, `query_bias` `[heads, key_dim]`, `key_kernel`/`key_bias`
/// alike, `value_kernel` `[features, heads, value_dim]`, `value_bias` `[heads, value_dim]`,
/// `output_kernel` `[heads, value_dim, output_shape]` and `output_bias` `[output_shape]`
/// (Keras's `attention_output`). Kernels start glorot-uniform and biases at zero unless the
/// initializers say otherwise; the kernel and bias regularizers apply to all four of each.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MultiHeadAttention {
    /// Number of attention heads.
    pub num_heads: i64,
    /// Size of each head's queries and keys.
    pub key_dim: i64,
    /// Size of each head's values (Keras's default: `key_dim`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_dim: Option<i64>,
    /// Fraction of attention probabilities dropped in training.
    #[serde(default)]
    pub dropout: f64,
    /// Whether the projections have biases.
    pub use_bias: bool,
    /// Output features (Keras's default: the input's features).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_shape: Option<i64>,
    /// Whether each step attends only to itself and earlier steps (Keras's call argument).
    #[serde(default)]
    pub use_causal_mask: bool,
    /// How the four kernels start.
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub kernel_initializer: Initializer,
    /// How the four biases start.
    #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
    pub bias_initializer: Initializer,
    /// The kernels' penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_regularizer: Option<Regularizer>,
    /// The biases' penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_regularizer: Option<Regularizer>,
    /// The penalty on the layer's output (after its activation), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_regularizer: Option<Regularizer>,
}

impl MultiHeadAttention {
    /// Self-attention with `num_heads` heads of query/key size `key_dim`; values of `key_dim`,
    /// biases, no dropout, no causal mask, as many output features as input features.
    pub fn new(num_heads: i64, key_dim: i64) -> Self {
        Self {
            num_heads,
            key_dim,
            value_dim: None,
            dropout: 0.0,
            use_bias: true,
            output_shape: None,
            use_causal_mask: false,
            kernel_initializer: defaults::kernel(),
            bias_initializer: defaults::bias(),
            kernel_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
        }
    }
    /// Sets each head's value size.
    pub fn value_dim(mut self, value_dim: i64) -> Self {
        self.value_dim = Some(value_dim);
        self
    }
    /// Sets the fraction of attention probabilities dropped in training.
    pub fn dropout(mut self, rate: f64) -> Self {
        self.dropout = rate;
        self
    }
    /// Sets whether the projections have biases.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }
    /// Sets the number of output features.
    pub fn output_shape(mut self, features: i64) -> Self {
        self.output_shape = Some(features);
        self
    }
    /// Sets whether each step attends only to itself and earlier steps (as a decoder does).
    pub fn use_causal_mask(mut self, causal: bool) -> Self {
        self.use_causal_mask = causal;
        self
    }

    fn value_size(&self) -> i64 {
        self.value_dim.unwrap_or(self.key_dim)
    }

    /// `(steps, features, output features)` for `input`, or what is wrong.
    fn sizes(&self, input: &[i64]) -> std::result::Result<(i64, i64, i64), String> {
        for (name, v) in [("num_heads", self.num_heads), ("key_dim", self.key_dim), ("value_dim", self.value_size())] {
            if v <= 0 {
                return Err(format!("{name} must be positive, got {v}"));
            }
        }
        if let Some(out) = self.output_shape.filter(|&o| o <= 0) {
            return Err(format!("output_shape must be positive, got {out}"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        super::options_problem(
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
        )?;
        let &[steps, features] = input else {
            return Err(format!(
                "MultiHeadAttention takes sequences (None, steps, features) but got a {}-D input per sample {input:?}; \
                 reshape the data to [N, steps, features]",
                input.len()
            ));
        };
        // The projections' sizes must fit in i64 (the kernels hold features * heads * dim values).
        let too_big = |a: i64, b: i64, c: i64| a.checked_mul(b).and_then(|n| n.checked_mul(c)).is_none();
        let out = self.output_shape.unwrap_or(features);
        if too_big(features, self.num_heads, self.key_dim.max(self.value_size()))
            || too_big(out, self.num_heads, self.value_size())
        {
            return Err("num_heads times key_dim or value_dim times the features does not fit in 64 bits".into());
        }
        Ok((steps, features, out))
    }
}

super::weight_options!(MultiHeadAttention);

#[derive(Debug)]
struct Projection {
    kernel: Tensor,
    bias: Option<Tensor>,
}

impl Projection {
    /// `[B, T, D] -> [B, heads, T, dim]`.
    fn heads(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = xs.f_tensordot(&self.kernel, [2], [0])?;
        let ys = match &self.bias {
            Some(b) => ys.f_add(b)?,
            None => ys,
        };
        Ok(ys.f_permute([0, 2, 1, 3])?)
    }
}

#[derive(Debug)]
struct AttentionModule {
    query: Projection,
    key: Projection,
    value: Projection,
    output: Projection,
    scale: f64,
    dropout: f64,
    causal: bool,
}

impl LayerModule for AttentionModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let (q, k, v) = (self.query.heads(xs)?, self.key.heads(xs)?, self.value.heads(xs)?);
        let dropout = if train { self.dropout } else { 0.0 };
        // As Keras on the torch backend: LibTorch's fused attention with Keras's scale.
        let heads = Tensor::f_scaled_dot_product_attention::<Tensor>(
            &q,
            &k,
            &v,
            None,
            dropout,
            self.causal,
            self.scale,
            false,
        )?;
        // [B, heads, T, value_dim] -> [B, T, heads, value_dim] -> [B, T, out].
        let ys = heads.f_permute([0, 2, 1, 3])?.f_tensordot(&self.output.kernel, [2, 3], [0, 1])?;
        Ok(match &self.output.bias {
            Some(b) => ys.f_add(b)?,
            None => ys,
        })
    }
}

impl LayerSpec for MultiHeadAttention {
    fn kind(&self) -> &'static str {
        "MultiHeadAttention"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (steps, _, out) = self.sizes(input)?;
        Ok(vec![steps, out])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let d = input.last().copied().unwrap_or(0);
        let (h, k, v) = (self.num_heads, self.key_dim, self.value_size());
        let out = self.output_shape.unwrap_or(d);
        let mut shapes = Vec::with_capacity(8);
        for (name, kernel, bias) in [
            ("key", vec![d, h, k], vec![h, k]),
            ("output", vec![h, v, out], vec![out]),
            ("query", vec![d, h, k], vec![h, k]),
            ("value", vec![d, h, v], vec![h, v]),
        ] {
            if self.use_bias {
                shapes.push((bias_name(name), bias));
            }
            shapes.push((kernel_name(name), kernel));
        }
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, d, out) = self.sizes(input).map_err(|m| config_error("MultiHeadAttention", m))?;
        check_options(
            "MultiHeadAttention",
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
        )?;
        let (h, k, v) = (self.num_heads, self.key_dim, self.value_size());
        // Keras's order of creation: query, key, value, output.
        let project = |name: &'static str, kernel: [i64; 3], bias: &[i64]| -> Result<Projection> {
            let kernel = self.kernel_initializer.var(path, kernel_name(name), &kernel, &[0, 1, 2])?;
            let perm: Vec<i64> = (0..bias.len() as i64).collect();
            let bias =
                if self.use_bias { Some(self.bias_initializer.var(path, bias_name(name), bias, &perm)?) } else { None };
            Ok(Projection { kernel, bias })
        };
        Ok(Box::new(AttentionModule {
            query: project("query", [d, h, k], &[h, k])?,
            key: project("key", [d, h, k], &[h, k])?,
            value: project("value", [d, h, v], &[h, v])?,
            output: project("output", [h, v, out], &[out])?,
            scale: 1.0 / (k as f64).sqrt(),
            dropout: self.dropout,
            causal: self.use_causal_mask,
        }))
    }

    fn activity_regularizer(&self) -> Option<Regularizer> {
        self.activity_regularizer
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        ["query", "key", "value", "output"]
            .into_iter()
            .flat_map(|n| [(kernel_name(n), self.kernel_regularizer), (bias_name(n), self.bias_regularizer)])
            .filter_map(|(name, r)| r.map(|r| (name, r)))
            .filter(|(name, _)| self.use_bias || name.ends_with("kernel"))
            .collect()
    }
}

fn kernel_name(projection: &str) -> &'static str {
    match projection {
        "query" => "query_kernel",
        "key" => "key_kernel",
        "value" => "value_kernel",
        _ => "output_kernel",
    }
}

fn bias_name(projection: &str) -> &'static str {
    match projection {
        "query" => "query_bias",
        "key" => "key_bias",
        "value" => "value_bias",
        _ => "output_bias",
    }
}
