//! `MultiHeadAttention` (self-attention), `DepthwiseConv2D`, `SeparableConv2D`, `GroupNormalization`
//! and `UnitNormalization`: forward passes and two SGD steps against Keras 3.15.1, shapes,
//! parameter counts, saving, and typed errors for bad options.
//!
//! Reference numbers come from `tests/reference/keras_new_layers.py` (Keras 3.15.1, torch
//! backend). Inputs and weights there and here are `vals(shape, offset, scale)`: `sin(0.7 * i +
//! offset) * scale`. MultiHeadAttention's variables have Keras's layout on both sides; the
//! convolutions' kernels are in the crate's (PyTorch's) layout here and converted there, and
//! the convolutions and GroupNormalization run channels-first there (`data_format`, `axis=1`).
#[path = "common/reference.rs"]
mod reference;

use reference::{assert_close, assert_layer_errors, model, vals, var};
use tch::{Device, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    Activation, Dense, DepthwiseConv2D, FitConfig, Flatten, GroupNormalization, LayerConfig, LayerNormalization, Loss,
    MultiHeadAttention, Optimizer, Padding, SeparableConv2D, Sequential, UnitNormalization, Verbosity,
};

/// Two epochs of one batch of 2 under SGD(0.1) on mse; the losses per epoch.
fn two_sgd_steps(m: &mut Sequential, x: &Tensor, y: &Tensor) -> Vec<f64> {
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    let config =
        FitConfig { epochs: 2, batch_size: 2, shuffle: false, verbose: Verbosity::Silent, ..Default::default() };
    m.fit(x, y, config).unwrap().series("loss").unwrap()
}

/// MultiHeadAttention's variables as the reference script sets them: Keras's order (query,
/// key, value, output; kernel then bias), value `i` is `vals(shape, 0.2 + 0.3 i, 0.5)` for a
/// kernel, `vals(shape, 0.2 + 0.3 i, 0.1)` for a bias.
fn mha_weights(prefix: &str, d: i64, (h, k, v, out): (i64, i64, i64, i64), bias: bool) -> Vec<(String, Tensor)> {
    let mut shapes: Vec<(String, Vec<i64>, f64)> = Vec::new();
    for (name, kernel, b) in [
        ("query", vec![d, h, k], vec![h, k]),
        ("key", vec![d, h, k], vec![h, k]),
        ("value", vec![d, h, v], vec![h, v]),
        ("output", vec![h, v, out], vec![out]),
    ] {
        shapes.push((format!("{prefix}{name}_kernel"), kernel, 0.5));
        if bias {
            shapes.push((format!("{prefix}{name}_bias"), b, 0.1));
        }
    }
    let mut weights = Vec::new();
    for (i, (name, shape, scale)) in shapes.into_iter().enumerate() {
        weights.push((name, vals(&shape, 0.2 + 0.3 * i as f64, scale)));
    }
    weights
}

fn named(weights: &[(String, Tensor)]) -> Vec<(&str, Tensor)> {
    weights.iter().map(|(n, t)| (n.as_str(), t.shallow_clone())).collect()
}

#[test]
fn multi_head_attention_matches_keras() {
    let x = vals(&[2, 4, 6], 0.1, 1.0);
    // (layer, (heads, key_dim, value_dim, output features), bias, Keras's output shape, numbers).
    type Case = (MultiHeadAttention, (i64, i64, i64, i64), bool, [i64; 3], &'static [f32]);
    let cases: [Case; 4] = [
        (MultiHeadAttention::new(2, 3), (2, 3, 3, 6), true, [2, 4, 6], MHA_H2_K3),
        (
            MultiHeadAttention::new(3, 2).value_dim(4).output_shape(5).use_causal_mask(true),
            (3, 2, 4, 5),
            true,
            [2, 4, 5],
            MHA_H3_K2_V4_OUT5_CAUSAL,
        ),
        (
            MultiHeadAttention::new(1, 4).use_bias(false).use_causal_mask(true),
            (1, 4, 4, 6),
            false,
            [2, 4, 6],
            MHA_H1_K4_NO_BIAS_CAUSAL,
        ),
        (
            MultiHeadAttention::new(3, 2).value_dim(4).output_shape(5).use_causal_mask(true).dropout(0.3),
            (3, 2, 4, 5),
            true,
            [2, 4, 5],
            MHA_H3_K2_V4_OUT5_CAUSAL_DROPOUT_INFERENCE,
        ),
    ];
    for (layer, sizes, bias, shape, expected) in cases {
        let weights = mha_weights("layers.0.", 6, sizes, bias);
        let m = model(vec![layer.into()], &[4, 6], &named(&weights));
        let y = m.forward_t(&x, false).unwrap();
        assert_eq!(y.size(), shape);
        assert_close(&format!("{layer:?}"), &y, expected);
    }
}

#[test]
fn multi_head_attention_trains_as_keras() {
    // Keras: the causal layer alone, SGD(0.1), mse, two epochs of one batch of 2; losses
    // 0.5096039772033691, 0.5012781023979187 (float32 here).
    let layer = MultiHeadAttention::new(3, 2).value_dim(4).output_shape(5).use_causal_mask(true);
    let weights = mha_weights("layers.0.", 6, (3, 2, 4, 5), true);
    let mut m = model(vec![layer.into()], &[4, 6], &named(&weights));
    assert_eq!(m.count_params().unwrap(), 233);
    let losses = two_sgd_steps(&mut m, &vals(&[2, 4, 6], 0.1, 1.0), &vals(&[2, 4, 5], 0.9, 1.0));
    assert_close("losses", &Tensor::from_slice(&losses), &[0.509_604, 0.501_278_1]);
    for (name, expected) in [
        ("query_kernel", MHA_AFTER_FIT_QUERY_KERNEL),
        ("query_bias", MHA_AFTER_FIT_QUERY_BIAS),
        ("key_kernel", MHA_AFTER_FIT_KEY_KERNEL),
        ("key_bias", MHA_AFTER_FIT_KEY_BIAS),
        ("value_kernel", MHA_AFTER_FIT_VALUE_KERNEL),
        ("value_bias", MHA_AFTER_FIT_VALUE_BIAS),
        ("output_kernel", MHA_AFTER_FIT_ATTENTION_OUTPUT_KERNEL),
        ("output_bias", MHA_AFTER_FIT_ATTENTION_OUTPUT_BIAS),
    ] {
        assert_close(name, &var(&m, &format!("layers.0.{name}")), expected);
    }
}

#[test]
fn multi_head_attention_dropout_is_random_in_training_only() {
    let layer = MultiHeadAttention::new(2, 4).dropout(0.5);
    assert!(LayerConfig::from(layer).draws_random());
    assert!(!LayerConfig::from(MultiHeadAttention::new(2, 4)).draws_random());
    let mut m = Sequential::new().device(Device::Cpu).seed(1).input_shape([5, 8]).add(layer);
    m.build().unwrap();
    let x = vals(&[3, 5, 8], 0.2, 1.0);
    let eval = m.forward_t(&x, false).unwrap();
    assert!(eval.equal(&m.forward_t(&x, false).unwrap()), "inference must not drop anything");
    let train = m.forward_t(&x, true).unwrap();
    assert!(!train.allclose(&eval, 1e-4, 1e-4, false), "training must drop attention probabilities");
    // The causal mask: the first step sees only itself, so later steps do not change it.
    let mut causal = Sequential::new()
        .device(Device::Cpu)
        .input_shape([5, 8])
        .add(MultiHeadAttention::new(2, 4).use_causal_mask(true));
    causal.build().unwrap();
    let changed = x.copy();
    let _ = changed.narrow(1, 1, 4).fill_(3.0);
    let (a, b) = (causal.forward_t(&x, false).unwrap(), causal.forward_t(&changed, false).unwrap());
    assert!(a.narrow(1, 0, 1).allclose(&b.narrow(1, 0, 1), 1e-6, 1e-6, false));
    assert!(!a.narrow(1, 1, 1).allclose(&b.narrow(1, 1, 1), 1e-3, 1e-3, false));
}

#[test]
fn summaries_name_the_new_layers_as_keras() {
    let cases: Vec<(LayerConfig, &[i64], &str, &str)> = vec![
        (MultiHeadAttention::new(2, 3).into(), &[4, 6], "multi_head_attention (MultiHeadAttention)", "(None, 4, 6)"),
        (DepthwiseConv2D::new(3).into(), &[3, 7, 6], "depthwise_conv2d (DepthwiseConv2D)", "(None, 3, 5, 4)"),
        (SeparableConv2D::new(4, 3).into(), &[3, 7, 6], "separable_conv2d (SeparableConv2D)", "(None, 4, 5, 4)"),
        (GroupNormalization::new(3).into(), &[6, 3, 4], "group_normalization (GroupNormalization)", "(None, 6, 3, 4)"),
    ];
    for (layer, input, label, shape) in cases {
        let s = Sequential::new().input_shape(input.to_vec()).add(layer).summary().unwrap();
        assert!(s.contains(label) && s.contains(shape), "summary lacks {label:?} or {shape}:\n{s}");
    }
}

/// The depthwise kernel as the reference script sets it, in the crate's layout.
fn depthwise(channels: i64, m: i64, kh: i64, kw: i64, offset: f64) -> Tensor {
    vals(&[channels * m, 1, kh, kw], offset, 0.5)
}

#[test]
fn depthwise_and_separable_convolutions_match_keras() {
    let x = vals(&[2, 3, 7, 6], 0.4, 1.0);
    let dw = |m: i64, kh: i64, kw: i64, bias: bool| {
        let mut w = vec![("layers.0.weight", depthwise(3, m, kh, kw, 0.9))];
        if bias {
            w.push(("layers.0.bias", vals(&[3 * m], 1.0, 0.1)));
        }
        w
    };
    type Case = (LayerConfig, Vec<(&'static str, Tensor)>, [i64; 4], &'static [f32]);
    let cases: Vec<Case> = vec![
        (DepthwiseConv2D::new(3).into(), dw(1, 3, 3, true), [2, 3, 5, 4], DEPTHWISE_K3_VALID),
        (
            DepthwiseConv2D::new(3).strides(2).padding(Padding::Same).depth_multiplier(2).into(),
            dw(2, 3, 3, true),
            [2, 6, 4, 3],
            DEPTHWISE_K3_S2_SAME_DM2,
        ),
        (
            DepthwiseConv2D::new((2, 3))
                .strides((3, 2))
                .padding(Padding::Same)
                .activation(Activation::Relu)
                .use_bias(false)
                .into(),
            dw(1, 2, 3, false),
            [2, 3, 3, 3],
            DEPTHWISE_K2X3_S3X2_SAME_RELU_NO_BIAS,
        ),
        (
            DepthwiseConv2D::new((2, 3)).dilation_rate(2).padding(Padding::Same).depth_multiplier(2).into(),
            dw(2, 2, 3, true),
            [2, 6, 7, 6],
            DEPTHWISE_K2X3_D2_SAME_DM2,
        ),
        (
            SeparableConv2D::new(4, 3).strides(2).padding(Padding::Same).depth_multiplier(2).into(),
            vec![
                ("layers.0.depthwise_weight", depthwise(3, 2, 3, 3, 0.9)),
                ("layers.0.pointwise_weight", vals(&[4, 6, 1, 1], 0.3, 0.5)),
                ("layers.0.bias", vals(&[4], 1.0, 0.1)),
            ],
            [2, 4, 4, 3],
            SEPARABLE_F4_K3_S2_SAME_DM2,
        ),
        (
            SeparableConv2D::new(5, 2).activation(Activation::Tanh).into(),
            vec![
                ("layers.0.depthwise_weight", depthwise(3, 1, 2, 2, 0.9)),
                ("layers.0.pointwise_weight", vals(&[5, 3, 1, 1], 0.3, 0.5)),
                ("layers.0.bias", vals(&[5], 1.0, 0.1)),
            ],
            [2, 5, 6, 5],
            SEPARABLE_F5_K2_VALID_DM1_TANH,
        ),
    ];
    for (layer, weights, shape, expected) in cases {
        let m = model(vec![layer.clone()], &[3, 7, 6], &weights);
        let y = m.forward_t(&x, false).unwrap();
        assert_eq!(y.size(), shape, "{layer:?}");
        assert_close(&format!("{layer:?}"), &y, expected);
    }
}

#[test]
fn depthwise_then_separable_train_as_keras() {
    let layers: Vec<LayerConfig> = vec![
        DepthwiseConv2D::new(3).strides(2).padding(Padding::Same).depth_multiplier(2).into(),
        SeparableConv2D::new(4, 2).activation(Activation::Tanh).into(),
    ];
    let weights = [
        ("layers.0.weight", depthwise(3, 2, 3, 3, 0.9)),
        ("layers.0.bias", vals(&[6], 1.0, 0.1)),
        ("layers.1.depthwise_weight", depthwise(6, 1, 2, 2, 0.5)),
        ("layers.1.pointwise_weight", vals(&[4, 6, 1, 1], 0.3, 0.5)),
        ("layers.1.bias", vals(&[4], 0.7, 0.1)),
    ];
    let mut m = model(layers, &[3, 7, 6], &weights);
    // Keras: depthwise_conv2d 60 parameters, output (6, 4, 3); separable_conv2d 52, (4, 3, 2).
    assert_eq!(m.output_shapes(&[3, 7, 6]).unwrap(), [vec![6, 4, 3], vec![4, 3, 2]]);
    assert_eq!(m.count_params().unwrap(), 112);
    let losses = two_sgd_steps(&mut m, &vals(&[2, 3, 7, 6], 0.4, 1.0), &vals(&[2, 4, 3, 2], 0.9, 1.0));
    assert_close("losses", &Tensor::from_slice(&losses), &[0.778_259_75, 0.692_570_03]);
    for (name, expected) in [
        ("layers.0.weight", DEPTHWISE_AFTER_FIT_WEIGHT),
        ("layers.0.bias", DEPTHWISE_AFTER_FIT_BIAS),
        ("layers.1.depthwise_weight", SEPARABLE_AFTER_FIT_DEPTHWISE_WEIGHT),
        ("layers.1.pointwise_weight", SEPARABLE_AFTER_FIT_POINTWISE_WEIGHT),
        ("layers.1.bias", SEPARABLE_AFTER_FIT_BIAS),
    ] {
        assert_close(name, &var(&m, name), expected);
    }
}

#[test]
fn group_normalization_matches_keras() {
    // Keras's weights: gamma = vals(0.6, 0.5) + 1, beta = vals(1.1, 0.5); input vals(0.3, 2) + 0.5.
    type Case = (GroupNormalization, Vec<i64>, &'static [f32]);
    let cases: [Case; 4] = [
        (GroupNormalization::new(3), vec![2, 6, 3, 4], GROUP_NORM_G3_IMAGE),
        (GroupNormalization::new(2).epsilon(0.1), vec![2, 4, 5], GROUP_NORM_G2_SEQUENCE_EPS0_1),
        (GroupNormalization::new(-1).center(false), vec![2, 4, 5], GROUP_NORM_INSTANCE_1_NO_CENTER),
        (GroupNormalization::new(1), vec![3, 4], GROUP_NORM_G1_FLAT),
    ];
    for (layer, shape, expected) in cases {
        let c = shape[1];
        let mut weights = vec![("layers.0.weight", vals(&[c], 0.6, 0.5) + 1.0)];
        if layer.center {
            weights.push(("layers.0.bias", vals(&[c], 1.1, 0.5)));
        }
        let m = model(vec![layer.into()], &shape[1..], &weights);
        let y = m.forward_t(&(vals(&shape, 0.3, 2.0) + 0.5), false).unwrap();
        assert_eq!(y.size(), shape);
        assert_close(&format!("{layer:?}"), &y, expected);
    }
    let weights = [("layers.0.weight", vals(&[6], 0.6, 0.5) + 1.0), ("layers.0.bias", vals(&[6], 1.1, 0.5))];
    let mut m = model(vec![GroupNormalization::new(3).into()], &[6, 3, 4], &weights);
    let x = vals(&[2, 6, 3, 4], 0.3, 2.0) + 0.5;
    let losses = two_sgd_steps(&mut m, &x, &vals(&[2, 6, 3, 4], 0.8, 1.0));
    assert_close("losses", &Tensor::from_slice(&losses), &[0.564_848_07, 0.536_143_1]);
    assert_close("gamma", &var(&m, "layers.0.weight"), GROUP_NORM_AFTER_FIT_GAMMA);
    assert_close("beta", &var(&m, "layers.0.bias"), GROUP_NORM_AFTER_FIT_BETA);
}

#[test]
fn new_layers_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let models = [
        (
            Sequential::new()
                .input_shape([5, 8])
                .add(MultiHeadAttention::new(2, 3).value_dim(5).output_shape(7).dropout(0.1).use_causal_mask(true))
                .add(MultiHeadAttention::new(1, 2).use_bias(false))
                .add(GroupNormalization::new(5)),
            vals(&[3, 5, 8], 0.3, 1.0),
        ),
        (
            Sequential::new()
                .input_shape([2, 6, 5])
                .add(DepthwiseConv2D::new((3, 2)).strides(2).padding(Padding::Same).depth_multiplier(3))
                .add(GroupNormalization::new(2).center(false).epsilon(0.01))
                .add(SeparableConv2D::new(4, 2).dilation_rate((1, 2)).padding(Padding::Same).use_bias(false))
                .add(DepthwiseConv2D::new(2).use_bias(false).activation(Activation::Relu)),
            vals(&[3, 2, 6, 5], 0.1, 2.0),
        ),
    ];
    for (i, (mut m, x)) in models.into_iter().enumerate() {
        m.build().unwrap();
        let before = m.forward_t(&x, false).unwrap();
        let path = dir.path().join(format!("m{i}.safetensors"));
        m.save(&path).unwrap();
        let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
        assert_eq!(loaded.layers(), m.layers());
        assert!(loaded.forward_t(&x, false).unwrap().equal(&before), "model {i}");
    }
    let json = serde_json::to_string(&LayerConfig::from(MultiHeadAttention::new(2, 3).use_causal_mask(true))).unwrap();
    assert!(json.contains("\"MultiHeadAttention\"") && json.contains("\"use_causal_mask\":true"), "{json}");
}

// Long: a table of cases (model, layer, option named) and a short loop.
#[test]
fn bad_options_are_typed_errors_naming_the_layer() {
    let cases: Vec<(Sequential, &str, &str)> = vec![
        (Sequential::new().input_shape([4, 6]).add(MultiHeadAttention::new(0, 3)), "MultiHeadAttention", "num_heads"),
        (Sequential::new().input_shape([4, 6]).add(MultiHeadAttention::new(2, 0)), "MultiHeadAttention", "key_dim"),
        (
            Sequential::new().input_shape([4, 6]).add(MultiHeadAttention::new(2, 3).value_dim(-1)),
            "MultiHeadAttention",
            "value_dim",
        ),
        (
            Sequential::new().input_shape([4, 6]).add(MultiHeadAttention::new(2, 3).output_shape(0)),
            "MultiHeadAttention",
            "output_shape",
        ),
        (
            Sequential::new().input_shape([4, 6]).add(MultiHeadAttention::new(2, 3).dropout(1.0)),
            "MultiHeadAttention",
            "dropout",
        ),
        (
            Sequential::new().input_shape([6]).add(MultiHeadAttention::new(2, 3)),
            "MultiHeadAttention",
            "(None, steps, features)",
        ),
        (
            Sequential::new().input_shape([1, 4, 6]).add(MultiHeadAttention::new(2, 3)),
            "MultiHeadAttention",
            "3-D input",
        ),
        (
            Sequential::new().input_shape([4, 1 << 40]).add(MultiHeadAttention::new(1 << 20, 1 << 20)),
            "MultiHeadAttention",
            "64 bits",
        ),
        (
            Sequential::new().input_shape([3, 5, 5]).add(DepthwiseConv2D::new(3).depth_multiplier(0)),
            "DepthwiseConv2D",
            "depth_multiplier",
        ),
        (Sequential::new().input_shape([5, 5]).add(DepthwiseConv2D::new(3)), "DepthwiseConv2D", "images"),
        (Sequential::new().input_shape([3, 5, 5]).add(DepthwiseConv2D::new(6)), "DepthwiseConv2D", "larger than"),
        (
            Sequential::new().input_shape([3, 5, 5]).add(DepthwiseConv2D::new(3).dilation_rate(3)),
            "DepthwiseConv2D",
            "larger than",
        ),
        (
            Sequential::new().input_shape([3, 5, 5]).add(DepthwiseConv2D::new(3).strides(0)),
            "DepthwiseConv2D",
            "strides",
        ),
        (Sequential::new().input_shape([3, 5, 5]).add(DepthwiseConv2D::new(0)), "DepthwiseConv2D", "kernel sizes"),
        (Sequential::new().input_shape([3, 5, 5]).add(SeparableConv2D::new(0, 3)), "SeparableConv2D", "filters"),
        (
            Sequential::new().input_shape([3, 5, 5]).add(SeparableConv2D::new(2, 3).depth_multiplier(-2)),
            "SeparableConv2D",
            "depth_multiplier",
        ),
        (Sequential::new().input_shape([6, 4]).add(GroupNormalization::new(4)), "GroupNormalization", "must divide"),
        (Sequential::new().input_shape([6, 4]).add(GroupNormalization::new(8)), "GroupNormalization", "cannot be more"),
        (Sequential::new().input_shape([6, 4]).add(GroupNormalization::new(0)), "GroupNormalization", "positive"),
        (
            Sequential::new().input_shape([6, 4]).add(GroupNormalization::new(2).epsilon(0.0)),
            "GroupNormalization",
            "epsilon",
        ),
    ];
    assert_layer_errors(cases);
}
/// A tiny transformer-encoder-like classifier reads MNIST images as sequences of 28 rows:
/// Dense(32) -> causal MultiHeadAttention -> LayerNormalization -> Flatten -> Dense. (With no
/// residual connection, plain self-attention averages the rows into nearly one vector at first;
/// the causal mask gives each step its own running mix of the rows so far.)
#[test]
fn attention_over_mnist_rows_learns() {
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let n = 2000;
    let x = ds.train_images.narrow(0, 0, n).view([n, 28, 28]);
    let y = ds.train_labels.narrow(0, 0, n);
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .seed(7)
        .input_shape([28, 28])
        .add(Dense::new(32).activation(Activation::Relu))
        .add(MultiHeadAttention::new(2, 16).use_causal_mask(true))
        .add(LayerNormalization::new())
        .add(Flatten::new())
        .add(Dense::new(10).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.003), Loss::SparseCategoricalCrossentropy, ["accuracy"]).unwrap();
    let config = FitConfig { epochs: 3, batch_size: 32, verbose: Verbosity::Silent, ..Default::default() };
    m.fit(&x, &y, config).unwrap();
    let test =
        m.evaluate(&ds.test_images.narrow(0, 0, 2000).view([2000, 28, 28]), &ds.test_labels.narrow(0, 0, 2000), 500);
    let acc = test.unwrap().get("accuracy").unwrap();
    // Chance is 0.1; 2,000 images seen three times reach about 0.85.
    assert!(acc > 0.75, "test accuracy {acc}");
}

#[test]
fn unit_normalization_matches_keras() {
    let x = vals(&[2, 3, 4], 0.2, 3.0);
    let _ = x.get(1).get(2).fill_(0.0);
    for (layer, expected) in [
        (UnitNormalization::new(), UNIT_NORMALIZATION_LAST),
        (UnitNormalization::new().axis(1), UNIT_NORMALIZATION_AXIS_1),
    ] {
        let m = model(vec![layer.into()], &[3, 4], &[]);
        assert_close(&format!("{layer:?}"), &m.forward_t(&x, false).unwrap(), expected);
    }
    let mut m = Sequential::new().input_shape([3, 4]).add(UnitNormalization::new().axis(3));
    let err = m.build().unwrap_err().to_string();
    assert!(err.contains("layer 0 (UnitNormalization)") && err.contains("axis 3"), "{err}");
    let s = Sequential::new().input_shape([3, 4]).add(UnitNormalization::new()).summary().unwrap();
    assert!(s.contains("unit_normalization (UnitNormalization)"), "{s}");
}

/// Keras: mha h2 k3, shape [2, 4, 6].
#[rustfmt::skip]
const MHA_H2_K3: &[f32] = &[
    0.1454398, 0.07283422, -0.03402648, -0.124884, -0.1570066, -0.1152866, 0.1290573, 0.05748677, -0.04112074,
    -0.1203885, -0.1430357, -0.09841096, 0.1533422, 0.08116858, -0.02917988, -0.1258046, -0.1632614, -0.1239339,
    0.1458955, 0.07328144, -0.03379806, -0.1249818, -0.1573847, -0.1157671, 0.04816689, -0.01589561, -0.07248217,
    -0.09497922, -0.07280605, -0.01639108, 0.08195549, 0.01728118, -0.05552074, -0.1022104, -0.1008289, -0.052026,
    0.07184553, 0.006307933, -0.06219638, -0.1014488, -0.09298821, -0.04079385, 0.04797507, -0.01610442,
    -0.07260975, -0.09496559, -0.07265761, -0.01617764,
];
/// Keras: mha h3 k2 v4 out5 causal, shape [2, 4, 5].
#[rustfmt::skip]
const MHA_H3_K2_V4_OUT5_CAUSAL: &[f32] = &[
    0.1253923, 0.07977644, -0.003359534, -0.08491548, -0.1265343, 0.03383984, -0.0309951, -0.08125256, -0.09329568,
    -0.06146037, 0.118169, 0.05669566, -0.03144253, -0.1047928, -0.1288574, 0.1126257, 0.05594695, -0.02704453,
    -0.09731657, -0.1218191, -0.02253831, -0.09103359, -0.1167144, -0.08750255, -0.01713689, 0.1082028, 0.03771833,
    -0.05050568, -0.1149761, -0.1253714, 0.1086474, 0.04824926, -0.03484125, -0.1015454, -0.1204911, 0.04508691,
    -0.02966467, -0.09046449, -0.1087174, -0.07583888,
];
/// Keras: mha h1 k4 no bias causal, shape [2, 4, 6].
#[rustfmt::skip]
const MHA_H1_K4_NO_BIAS_CAUSAL: &[f32] = &[
    0.02740337, -0.01731809, -0.05389458, -0.06512361, -0.04572399, -0.004819661, -6.100722e-05, -0.003794834,
    -0.005743885, -0.004991503, -0.001891534, 0.002098052, -2.672285e-05, 0.0001948188, 0.0003247338, 0.000301922,
    0.0001371112, -9.218539e-05, 0.007453636, -0.004730154, -0.01468928, -0.01773981, -0.01244703, -0.001300212,
    -0.02496255, 0.008248799, 0.03758061, 0.04923768, 0.03773749, 0.008488782, -0.01367224, 0.0087623, 0.02707578,
    0.0326551, 0.02287623, 0.00233829, 0.0005035562, -0.000338505, -0.001021362, -0.001223856, -0.0008507521,
    -7.752585e-05, -0.006789252, 0.002230434, 0.01020111, 0.01337405, 0.01025696, 0.002315866,
];
/// Keras: mha h3 k2 v4 out5 causal dropout0.3 inference (its explicit, unfused path), shape [2, 4, 5].
#[rustfmt::skip]
const MHA_H3_K2_V4_OUT5_CAUSAL_DROPOUT_INFERENCE: &[f32] = &[
    0.1253923, 0.07977644, -0.003359534, -0.08491548, -0.1265343, 0.03383984, -0.0309951, -0.08125256, -0.09329568,
    -0.06146037, 0.118169, 0.05669566, -0.03144253, -0.1047928, -0.1288574, 0.1126257, 0.05594695, -0.02704453,
    -0.09731657, -0.1218191, -0.02253831, -0.09103359, -0.1167144, -0.08750255, -0.01713689, 0.1082028, 0.03771833,
    -0.05050568, -0.1149761, -0.1253714, 0.1086474, 0.04824926, -0.03484125, -0.1015454, -0.1204911, 0.04508691,
    -0.02966467, -0.09046449, -0.1087174, -0.07583888,
];
/// Keras: mha after fit query/kernel, shape [6, 3, 2].
#[rustfmt::skip]
const MHA_AFTER_FIT_QUERY_KERNEL: &[f32] = &[
    0.09931214, 0.3919164, 0.5001543, 0.3731634, 0.07034476, -0.2647077, -0.475629, -0.4622219, -0.2329352,
    0.1071813, 0.3966911, 0.4996886, 0.3674843, 0.06302278, -0.2733482, -0.4792076, -0.4596675, -0.2247008,
    0.1160199, 0.4024237, 0.4976014, 0.3604578, 0.0540147, -0.279056, -0.4805791, -0.4562737, -0.218105, 0.1233037,
    0.407051, 0.4982463, 0.3554986, 0.04500645, -0.2858086, -0.4828995, -0.4525995, -0.2099085,
];
/// Keras: mha after fit query/bias, shape [3, 2].
#[rustfmt::skip]
const MHA_AFTER_FIT_QUERY_BIAS: &[f32] = &[
    0.04732604, 0.09144896, 0.09470775, 0.05149921, -0.01562513, -0.07661312,
];
/// Keras: mha after fit key/kernel, shape [6, 3, 2].
#[rustfmt::skip]
const MHA_AFTER_FIT_KEY_KERNEL: &[f32] = &[
    0.3582267, 0.498417, 0.4044256, 0.1195915, -0.2215615, -0.4582755, -0.4799632, -0.2754207, 0.05862712,
    0.3647152, 0.498666, 0.3991178, 0.1111298, -0.2285566, -0.4610259, -0.4766235, -0.2689117, 0.06661622, 0.370207,
    0.5000559, 0.394327, 0.1035936, -0.2365617, -0.4644359, -0.474078, -0.2607519, 0.07488421, 0.3759512, 0.4999852,
    0.3890897, 0.09550089, -0.2433729, -0.4678892, -0.4718091, -0.2534619, 0.08340861,
];
/// Keras: mha after fit key/bias, shape [3, 2].
#[rustfmt::skip]
const MHA_AFTER_FIT_KEY_BIAS: &[f32] = &[
    0.08912074, 0.09738477, 0.05984721, -0.005837414, -0.06877661, -0.0993691,
];
/// Keras: mha after fit value/kernel, shape [6, 3, 4].
#[rustfmt::skip]
const MHA_AFTER_FIT_VALUE_KERNEL: &[f32] = &[
    0.4872421, 0.437837, 0.1613255, -0.1700792, -0.4389189, -0.4899023, -0.315008, 0.005905384, 0.3328341,
    0.4885765, 0.4333112, 0.1538161, -0.1875458, -0.4342179, -0.4958063, -0.3030627, 0.01227837, 0.3382774,
    0.4932729, 0.4231799, 0.1544579, -0.1955822, -0.4381294, -0.4938374, -0.3035208, 0.02759115, 0.3376397,
    0.5002577, 0.4145246, 0.1475448, -0.2025096, -0.4446233, -0.4858059, -0.2971258, 0.03624126, 0.3435999,
    0.4999392, 0.4116744, 0.1365579, -0.2065427, -0.452562, -0.4811937, -0.2925352, 0.04622448, 0.3503288,
    0.5004539, 0.4072631, 0.1280386, -0.208984, -0.4602566, -0.4766277, -0.28595, 0.05219672, 0.3590293, 0.4968848,
    0.407498, 0.1148843, -0.2166426, -0.4633761, -0.4747868, -0.2697762, 0.05240931, 0.3713814, 0.4932628,
    0.4030725, 0.1084218, -0.2283821, -0.4604247, -0.4807119, -0.2625721, 0.06085131, 0.3767478,
];
/// Keras: mha after fit value/bias, shape [3, 4].
#[rustfmt::skip]
const MHA_AFTER_FIT_VALUE_BIAS: &[f32] = &[
    0.09188489, 0.07879565, -0.009585255, -0.04671512, -0.1111839, -0.07774839, -0.04386752, 0.03268101, 0.08871033,
    0.09062718, 0.07827533, -0.01160727,
];
/// Keras: mha after fit attention_output/kernel, shape [3, 4, 5].
#[rustfmt::skip]
const MHA_AFTER_FIT_ATTENTION_OUTPUT_KERNEL: &[f32] = &[
    0.45334, 0.2150012, -0.124456, -0.4053796, -0.4956468, -0.3535725, -0.04093802, 0.2909503, 0.486, 0.4524764,
    0.2061898, -0.1363691, -0.4147915, -0.4981309, -0.3471916, -0.03220679, 0.2948092, 0.4831719, 0.4442912,
    0.1964535, -0.142794, -0.4199797, -0.4996423, -0.3443154, -0.02705152, 0.3038433, 0.487078, 0.4412322,
    0.1878681, -0.1538534, -0.4226298, -0.4952065, -0.3348799, -0.01705398, 0.3087927, 0.489359, 0.4405903,
    0.1846052, -0.1582026, -0.4266053, -0.4952507, -0.3267534, -0.004578789, 0.3197493, 0.4936942, 0.4342904,
    0.1762059, -0.164751, -0.4282229, -0.4902949, -0.3225349, 0.0009981358, 0.3240617, 0.494714, 0.4326946,
    0.1672303, -0.1762986, -0.4369115, -0.492038, -0.3157515,
];
/// Keras: mha after fit attention_output/bias, shape [5].
#[rustfmt::skip]
const MHA_AFTER_FIT_ATTENTION_OUTPUT_BIAS: &[f32] = &[
    0.07395595, 0.02191271, -0.04043642, -0.08376766, -0.08770166,
];
/// Keras: depthwise k3 valid, shape [2, 3, 5, 4].
#[rustfmt::skip]
const DEPTHWISE_K3_VALID: &[f32] = &[
    0.999914, 1.056028, 0.6550519, -0.01443011, -0.7320872, -0.1590426, 0.528378, 1.00687, -0.03128445, -0.6492814,
    -0.9223356, -0.7220252, 1.013564, 1.046479, 0.6267943, -0.04810613, -0.7117353, -0.126012, 0.5585524, 1.019996,
    -0.6644092, -0.06108125, 0.6176138, 1.052475, -0.09980579, -0.6895083, -0.9082847, -0.653241, 1.057839,
    1.032727, 0.5685469, -0.11639, -0.6418601, -0.02753496, 0.6463798, 1.062932, -0.1329132, -0.7101604, -0.9067686,
    -0.6302698, -0.2135345, -0.7707952, -0.9337708, -0.6258113, 1.048705, 0.9657637, 0.460377, -0.2297643,
    -0.6134201, 0.02516616, 0.6836844, 1.052423, -0.24591, -0.7891165, -0.929421, -0.6008365, 1.055863, 0.949903,
    0.4289564, -0.261967, 1.07294, 0.9667955, 0.4455277, -0.2457031, -0.5715986, 0.07583883, 0.7271838, 1.076099,
    -0.2616729, -0.7903548, -0.9077449, -0.5586327, 1.078977, 0.9499235, 0.413682, -0.2775449, -0.5454851,
    0.1097366, 0.7529231, 1.081574, -0.4899257, 0.1754151, 0.8048949, 1.10246, -0.3247588, -0.8141104, -0.8739337,
    -0.4760929, 1.103927, 0.9184057, 0.3475838, -0.3400726, -0.4620973, 0.2091617, 0.8286881, 1.105109, -0.3552622,
    -0.8279253, -0.8645627, -0.447943, -0.4314678, -0.8780535, -0.8799087, -0.4361611, 1.07515, 0.8344894,
    0.2331236, -0.4461157, -0.4214167, 0.2611418, 0.8526492, 1.074911, -0.4606186, -0.8892214, -0.8678412,
    -0.406534, 1.074386, 0.8120822, 0.1996113, -0.474972,
];
/// Keras: depthwise k3 s2 same dm2, shape [2, 6, 4, 3].
#[rustfmt::skip]
const DEPTHWISE_K3_S2_SAME_DM2: &[f32] = &[
    0.03543939, 0.1540516, -0.3790951, -0.7320873, 0.5283779, 1.140445, 1.013564, 0.6267944, -0.07238746,
    -0.6885258, -1.014351, -0.1598615, 0.02670673, 0.1663443, -0.3485446, -0.7068923, 0.5583556, 1.162908, 1.034772,
    0.6274265, -0.07637225, -0.6791828, -1.009722, -0.142665, 0.03497775, -0.05832639, 0.2521502, -0.1478669,
    -0.9390696, -0.775446, -0.661795, 0.628707, 1.175601, 1.307858, 0.005661793, -0.6061102, -0.01936257,
    -0.1418047, 0.17017, -0.2276352, -1.001338, -0.8255702, -0.7132917, 0.5791073, 1.117209, 1.254848, -0.05679856,
    -0.6843631, 0.09483777, 0.0228885, 0.2122795, 0.926649, 0.3002208, -0.4425476, -0.4063444, -1.052257,
    -0.7914899, -0.3528004, 1.128661, 0.7792606, 0.07409958, 0.006343864, 0.1757883, 0.8930014, 0.247786,
    -0.4971663, -0.4586188, -1.085455, -0.8130428, -0.3929068, 1.100385, 0.7527087, 0.05528726, 0.166464,
    -0.3720468, -0.5715987, 0.7271838, 1.218294, 1.078977, 0.413682, -0.3341708, -0.896126, -0.8453668, 0.04027545,
    0.04751981, 0.1843438, -0.3388765, -0.5435534, 0.7549423, 1.23642, 1.096359, 0.4126676, -0.3369695, -0.8888572,
    -0.8395261, 0.06110831, 0.00739447, -0.05221006, 0.1559486, -0.3715073, -0.9008168, -0.5692579, -0.4795234,
    0.8084258, 1.218072, 1.209108, -0.2886795, -0.7244013, -0.05231433, -0.1380839, 0.07649029, -0.4498998,
    -0.9591941, -0.6165046, -0.5285629, 0.7561861, 1.155214, 1.155614, -0.3535846, -0.8033005, 0.1041569,
    -0.01297604, 0.2732496, 0.9452038, 0.07098977, -0.6853927, -0.6175078, -0.9830989, -0.5637646, -0.05141203,
    1.21273, 0.6678783, 0.08708433, -0.03301383, 0.2319373, 0.9076026, 0.01766331, -0.7379742, -0.6679196,
    -1.012537, -0.5829329, -0.08931605, 1.185396, 0.6384249,
];
/// Keras: depthwise k2x3 s3x2 same relu no bias, shape [2, 3, 3, 3].
#[rustfmt::skip]
const DEPTHWISE_K2X3_S3X2_SAME_RELU_NO_BIAS: &[f32] = &[
    1.24435, 0.1041902, 0.0, 1.239985, 0.06227881, 0.0, 0.9926511, 0.5993678, 0.0, 0.4886298, 0.0, 0.0, 0.4516673,
    0.0, 0.0, 0.621181, 0.0489995, 0.0, 0.1082899, 0.02388648, 0.2727738, 0.1084157, 0.0203167, 0.2845626,
    0.4963708, 0.5500153, 0.0, 1.184633, 0.0, 0.0, 1.170644, 0.0, 0.0, 1.0672, 0.3720065, 0.0, 0.2206676, 0.0, 0.0,
    0.1810365, 0.0, 0.0, 0.5906571, 0.0, 0.0, 0.1066005, 0.0, 0.3480981, 0.1058728, 0.0, 0.3573759, 0.5928911,
    0.4394901, 0.0,
];
/// Keras: depthwise k2x3 d2 same dm2, shape [2, 6, 7, 6].
#[rustfmt::skip]
const DEPTHWISE_K2X3_D2_SAME_DM2: &[f32] = &[
    0.4803399, 0.1120018, -0.3395518, -0.5433044, -0.1736525, -0.144228, 0.8199208, 1.246241, 1.319803, 0.8595259,
    0.604992, -0.02569279, -1.087438, -0.6926396, -0.2920517, 0.5734149, 0.5163573, 0.9563186, 0.4971381,
    -0.3162907, -0.782638, -1.170969, -0.8604892, -0.6611961, 0.8507857, 1.253572, 1.310247, 0.8255482, 0.5781733,
    -0.05719933, -1.08055, -0.6620614, -0.2512858, 0.6123039, 0.5443801, 0.9680834, 0.09292889, -0.3422855,
    -0.3586621, -0.543227, -0.600676, -0.4220389, -0.499754, -0.1678664, -0.1047194, 0.3272473, 0.4371633,
    0.7442563, 0.1486072, -0.4465488, -0.733196, -1.150054, -1.026787, -0.5446012, 0.8643973, 0.9982892, 1.336033,
    0.8781466, 0.3570401, -0.4423936, -0.7005997, -0.2367276, -0.2812455, 0.5845799, 0.9722694, 1.273946, 0.1181237,
    -0.470605, -0.764698, -1.155772, -1.014803, -0.5111698, 0.8803446, 0.9937338, 1.326616, 0.8442473, 0.3183352,
    -0.4771647, -0.1081175, 0.01704919, -0.07714832, 0.3565024, 0.6206747, 0.6147653, -0.1377915, -0.0162374,
    -0.09847886, 0.3346557, 0.5865785, 0.5714962, 0.4433048, -0.08935123, -0.8311127, -1.195405, -0.5968946,
    -0.2285953, 0.4844207, 0.8151917, 1.286891, 0.7777725, 0.1064076, -0.3797644, -0.7169666, -0.5086387,
    -0.2293881, 0.6341054, 0.6938829, 0.8022858, 0.4199038, -0.1151372, -0.8606474, -1.198203, -0.5854516,
    -0.205571, 0.5065651, 0.8228565, 1.274595, 0.7420821, 0.08148829, -0.3993958, -0.5180486, -0.4215105,
    -0.06326102, 0.3667597, 0.1778553, 0.3096368, 0.215274, 0.5242856, 0.6171784, 0.3705035, 0.1823645, 0.00549387,
    -1.160524, -0.7310005, -0.3313321, 0.5321701, 0.4754409, 0.9049819, 0.3645886, -0.4504239, -0.8928784,
    -1.254969, -0.9579673, -0.7320186, 0.8154297, 1.185044, 1.219212, 0.7107473, 0.4762599, -0.1748286, -1.151742,
    -0.6991443, -0.290192, 0.5704589, 0.5033772, 0.9158351, 0.3262713, -0.4871248, -0.922279, -1.257701, -0.9574391,
    -0.7107744, 0.5961635, 0.650745, 0.6059608, 0.3443425, 0.2840823, -0.1893602, 0.534874, 0.5767053, 0.5374336,
    0.2701092, 0.2019996, -0.2741964, -0.7997634, -0.3061519, -0.318381, 0.5392923, 0.89109, 1.104243, -0.1319291,
    -0.686842, -1.013631, -1.324899, -1.119395, -0.5501482, 0.7467572, 0.7972497, 1.129902, 0.5774341, 0.02413576,
    -0.7471766, -0.782648, -0.2772442, -0.2766284, 0.5763466, 0.9133641, 1.100405, -0.1617194, -0.7077712,
    -1.041028, -1.32492, -1.102075, -0.5141603, 0.1451527, 0.1637003, 0.53095, 0.2458709, -0.2344896, -0.5216431,
    -0.08881938, -0.2376972, -0.5643898, -0.7311447, -0.4681665, -0.1365537, 0.3430066, 0.6698697, 1.109223,
    0.5766304, -0.07149851, -0.5476017, -0.8962879, -0.6720892, -0.3529298, 0.5067336, 0.5251527, 0.623801,
    0.244468, -0.3022267, -1.054522, -1.364849, -0.73478, -0.3554036, 0.3652267, 0.677074, 1.095557, 0.5401751,
    -0.09603991, -0.566675, -0.8939356, -0.653014, -0.3110499, 0.5438403, 0.5375943, 0.6196858, 0.2263407,
    -0.1764084, -0.5874941, -0.7309598, -0.3783702, -0.3291297, 0.3697881, -0.02449396, -0.4377072, -0.5463471,
    -0.1778379, -0.1078329, 1.016619, 1.2696, 1.224283, 0.605484, 0.4066329, -0.2416498, -1.011937, -0.4621456,
    -0.0003648251, 0.8316056, 0.7005215, 1.017296, 0.2264091, -0.565654, -0.973123, -1.170089, -0.8427072,
    -0.5050284, 1.04074, 1.267584, 1.205335, 0.5664942, 0.3765734, -0.2713021, -0.9960748, -0.4264371, 0.04206795,
    0.8654314, 0.7242711, 1.021848, -0.06413397, -0.451787, -0.4509706, -0.5393316, -0.575418, -0.3003072,
    -0.4140676, -0.0176077, 0.0399379, 0.457931, 0.5678, 0.782725, -0.06402189, -0.6005114, -0.9320277, -1.160166,
    -0.9170207, -0.2974624, 0.9569179, 0.9454168, 1.241448, 0.6245644, 0.08244973, -0.6707828, -0.5786889,
    -0.03092223, 0.01032884, 0.8433349, 1.131745, 1.250747, -0.09393299, -0.6195289, -0.9560078, -1.155905,
    -0.8965821, -0.2600342, 0.9663601, 0.9339516, 1.222625, 0.5856224, 0.04294123, -0.7002105, -0.07473207,
    0.07162163, 0.06970558, 0.4844982, 0.6485522, 0.5545082, -0.105602, 0.03721497, 0.0487804, 0.4613629, 0.6109925,
    0.5092312, 0.2720859, -0.2645129, -1.014729, -1.184938, -0.5017967, -0.06187279, 0.6281701, 0.8506731, 1.172749,
    0.5133919, -0.06737303, -0.5053617, -0.6866971, -0.3682673, 0.06614671, 0.8828695, 0.7691807, 0.7587141,
    0.2464744, -0.2882558, -1.036284, -1.177741, -0.485502, -0.03725068, 0.6463468, 0.8522316, 1.151275, 0.4732545,
    -0.09181222, -0.5208658, -0.516803, -0.3314332, 0.08489794, 0.4887208, 0.2319157, 0.3300599, 0.3393024,
    0.5775345, 0.5631546, 0.2399015, 0.1285861, -0.05869231, -1.072053, -0.4926267, -0.03801335, 0.7852822,
    0.6580814, 0.9589567, 0.09026089, -0.6942574, -1.075604, -1.244136, -0.9315413, -0.5672337, 0.9959431, 1.185754,
    1.10506, 0.4470132, 0.2677082, -0.3903785, -1.054411, -0.4560072, 0.004462348, 0.8182231, 0.6814408, 0.9624016,
    0.05032331, -0.7262362, -1.097042, -1.236905, -0.9234824, -0.5408838, 0.6499993, 0.5976237, 0.5458812, 0.211279,
    0.1287854, -0.3389558, 0.584327, 0.519948, 0.4751048, 0.135982, 0.04474244, -0.4225919, -0.6635637, -0.09982885,
    -0.02266601, 0.7821258, 1.023073, 1.050049, -0.3369058, -0.8172237, -1.181146, -1.295149, -0.9742093,
    -0.2889385, 0.8115416, 0.7187688, 0.9984394, 0.3054301, -0.2502051, -0.9491044, -0.6411938, -0.06991018,
    0.01978872, 0.8133025, 1.037175, 1.03719, -0.3652028, -0.8325859, -1.200208, -1.285256, -0.9491332, -0.2502487,
    0.1637443, 0.1450665, 0.4618199, 0.1080477, -0.3484279, -0.5737044, -0.142206, -0.2758238, -0.6516218,
    -0.7201229, -0.3694272, -0.01212052, 0.4867159, 0.7016845, 0.9858701, 0.3077911, -0.2423594, -0.6692675,
    -0.8610794, -0.5261802, -0.05637821, 0.7498358, 0.5967215, 0.5781838, 0.0662361, -0.4771082, -1.221945,
    -1.334376, -0.6340938, -0.1890092, 0.5047786, 0.7026404, 0.9631668, 0.267194, -0.2663336, -0.6842111,
    -0.8525373, -0.5032007, -0.01381587, 0.7810318, 0.6038848, 0.5685381, 0.09918057, -0.3133568, -0.6676241,
    -0.711527, -0.3766946, -0.2852218,
];
/// Keras: separable f4 k3 s2 same dm2, shape [2, 4, 4, 3].
#[rustfmt::skip]
const SEPARABLE_F4_K3_S2_SAME_DM2: &[f32] = &[
    -0.02695946, -0.01906604, -0.1030683, -0.8432531, -0.5939133, 0.1038347, 0.1144072, 1.140568, 1.116129,
    0.7641154, -0.9377948, -0.8629185, 0.308761, 0.1233635, 0.7662972, 1.768485, 0.0353616, -1.218402, -1.069079,
    -1.324767, -0.4449195, 0.5135929, 2.226612, 1.122013, -0.0268591, 0.1470337, -0.3993745, -0.6418563, 0.8081688,
    1.339763, 1.182776, 0.4073221, -0.4309472, -1.018776, -0.996518, 0.01168916, -0.1128699, -0.0979781, -0.2051467,
    -0.9695758, -0.6582334, 0.07429044, 0.0788965, 1.094934, 1.037028, 0.6548942, -1.079949, -0.9639189,
    -0.04385413, 0.00592538, -0.1932076, -0.9408519, -0.382991, 0.3877308, 0.3623905, 1.146768, 0.9360363,
    0.4761335, -1.111656, -0.813786, 0.3002758, 0.07406244, 0.8156741, 1.64019, -0.3605419, -1.517287, -1.326881,
    -1.066274, 0.006788135, 0.989018, 2.155432, 0.833871, -0.00164447, 0.1703831, -0.3576502, -0.4184614, 0.9854384,
    1.34893, 1.187573, 0.1476654, -0.6937639, -1.196959, -0.7528639, 0.2450857, -0.1291082, -0.07157157, -0.2954351,
    -1.060324, -0.4361466, 0.3641869, 0.3319949, 1.09104, 0.8430175, 0.3541812, -1.247678, -0.9046277,
];
/// Keras: separable f5 k2 valid dm1 tanh, shape [2, 5, 6, 5].
#[rustfmt::skip]
const SEPARABLE_F5_K2_VALID_DM1_TANH: &[f32] = &[
    0.523554, 0.5571076, 0.3968941, 0.05329731, -0.2901919, -0.3642968, -0.0735677, 0.2992248, 0.5266088, 0.5556014,
    0.04394455, -0.2963941, -0.4396608, -0.3597366, -0.06457763, 0.5295482, 0.5539852, 0.3840097, 0.03459542,
    -0.3024713, -0.3550453, -0.05553513, 0.3146895, 0.5323726, 0.5522588, 0.02525419, -0.3084227, -0.4409015,
    -0.350223, -0.04644409, -0.01457897, 0.1338593, 0.2610346, 0.3101684, 0.2636617, -0.01079933, -0.1084357,
    -0.1086572, -0.01136623, 0.1374641, 0.3101734, 0.2614308, 0.1344927, -0.01401765, -0.1096741, -0.008122019,
    0.1410545, 0.2654652, 0.3101217, 0.2591528, -0.01720374, -0.1108536, -0.1060258, -0.004847287, 0.1446292,
    0.3100134, 0.2568281, 0.1272483, -0.02035652, -0.1119741, -0.3046895, -0.4721092, -0.4119388, -0.1247145,
    0.2709974, 0.5679942, 0.4098582, 0.05324786, -0.3114435, -0.4732946, -0.1154802, 0.2795051, 0.5277398,
    0.5666392, 0.4033747, -0.3180671, -0.4743508, -0.4032704, -0.1061747, 0.2879122, 0.5651706, 0.3967647,
    0.03352386, -0.3245595, -0.4752781, -0.09680169, 0.2962161, 0.5341889, 0.5635878, 0.3900288, 0.4651289,
    0.5039666, 0.3332643, -0.02262009, -0.3619672, -0.4369692, -0.1579386, 0.2229883, 0.4685085, 0.5023751,
    -0.03207869, -0.3679467, -0.5053638, -0.4327232, -0.1490566, 0.4717637, 0.5006639, 0.3196335, -0.04152133,
    -0.3738011, -0.4283499, -0.1401078, 0.2393551, 0.4748948, 0.498833, -0.0509437, -0.3795298, -0.5066267,
    -0.4238494, -0.1310956, -0.1814483, -0.03662809, 0.09832995, 0.1574485, 0.1149314, -0.1596024, -0.2580949,
    -0.2652395, -0.1784496, -0.03295427, 0.1576319, 0.1127206, -0.01457012, -0.1628058, -0.2594168, -0.1754149,
    -0.02928755, 0.1032882, 0.1577546, 0.1104599, -0.1659776, -0.2606838, -0.2630973, -0.172345, -0.02562904,
    0.1578165, 0.10815, -0.02183489, -0.1691166, -0.2618958, 0.5559811, 0.52587, 0.2973003, -0.07576495, -0.3653956,
    -0.2886512, 0.05559206, 0.3984424, 0.5574605, 0.5227867, -0.08468436, -0.3697923, -0.4376605, -0.2822947,
    0.06494335, 0.5588303, 0.5195872, 0.2813963, -0.09354287, -0.3740578, -0.2758155, 0.07428861, 0.4107981,
    0.560091, 0.5162712, -0.1023368, -0.3781918, -0.4353369, -0.2692149, 0.08362358, 0.03289583, 0.1826286,
    0.2878913, 0.3050983, 0.2283291, -0.0525845, -0.1203328, -0.08548573, 0.03645599, 0.185937, 0.3043149,
    0.2254881, 0.08313574, -0.05526913, -0.1207274, 0.0400329, 0.1892169, 0.2909079, 0.3034758, 0.2226081,
    -0.05790944, -0.1210604, -0.08130321, 0.04362551, 0.1924674, 0.3025813, 0.21969, 0.07576055, -0.06050465,
    -0.1213319, -0.3871157, -0.4769966, -0.3398045, 0.009545215, 0.3801553, 0.5385127, 0.3079348, -0.08325636,
    -0.391987, -0.4763827, 0.01939233, 0.3870701, 0.5628662, 0.5355225, 0.2997829, -0.3967217, -0.47564, -0.3273327,
    0.0292493, 0.3938603, 0.5324115, 0.2915245, -0.1021199, -0.4013197, -0.4747686, 0.03911139, 0.400525, 0.5660166,
    0.5291789, 0.2831618, 0.5012536, 0.4706812, 0.2284574, -0.1520557, -0.4341674, -0.3659468, -0.02889465,
    0.3287969, 0.5029244, 0.4673842, -0.1609143, -0.4383707, -0.5042547, -0.3599252, -0.01943163, 0.5044757,
    0.4639626, 0.2118423, -0.1697014, -0.442447, -0.3537793, -0.009958477, 0.3421088, 0.5059079, 0.4604161,
    -0.1784136, -0.4463966, -0.5021983, -0.3475097, -0.0004795263, -0.1365001, 0.01374979, 0.128894, 0.1544956,
    0.07967639, -0.2012598, -0.2715353, -0.2456518, -0.1330763, 0.01722235, 0.1538316, 0.07682753, -0.0659893,
    -0.2039452, -0.2720717, -0.1296292, 0.02067226, 0.1324301, 0.1531078, 0.07393855, -0.2065882, -0.2725508,
    -0.2420005, -0.1261596, 0.02409858, 0.1523243, 0.07101029, -0.07335726, -0.209188, -0.2729727,
];
/// Keras: depthwise after fit weight, shape [6, 1, 3, 3].
#[rustfmt::skip]
const DEPTHWISE_AFTER_FIT_WEIGHT: &[f32] = &[
    0.3846401, 0.5054432, 0.3861041, 0.06502567, -0.2811863, -0.4913156, -0.447389, -0.2147945, 0.1190403,
    0.3853238, 0.474784, 0.3441571, 0.08699402, -0.2486763, -0.4667807, -0.4752462, -0.2299622, 0.1193439,
    0.3800686, 0.4949915, 0.3681724, 0.04954875, -0.3009672, -0.5037758, -0.4353541, -0.1963417, 0.1332133,
    0.4079628, 0.4846525, 0.3389662, 0.065744, -0.2621023, -0.467517, -0.471563, -0.2175047, 0.1355255, 0.400097,
    0.4966179, 0.3545833, 0.03070446, -0.3107213, -0.5030053, -0.4321957, -0.1855609, 0.1497869, 0.4057392,
    0.4770583, 0.3278044, 0.05565559, -0.2762302, -0.4747687, -0.4592649, -0.1934039, 0.157755,
];
/// Keras: depthwise after fit bias, shape [6].
#[rustfmt::skip]
const DEPTHWISE_AFTER_FIT_BIAS: &[f32] = &[
    0.09507016, 0.07212518, 0.09389634, -0.007780155, -0.06102602, -0.1010749,
];
/// Keras: separable after fit depthwise_weight, shape [6, 1, 2, 2].
#[rustfmt::skip]
const SEPARABLE_AFTER_FIT_DEPTHWISE_WEIGHT: &[f32] = &[
    0.2267729, 0.4604444, 0.4865546, 0.283795, -0.09374484, -0.3721473, -0.4673267, -0.3558623, -0.1082216,
    0.2165336, 0.4549288, 0.4924211, 0.2333777, -0.1083006, -0.3829073, -0.4758544, -0.3845601, -0.09447943,
    0.2388787, 0.4769976, 0.4486383, 0.2274357, -0.09270784, -0.3610454,
];
/// Keras: separable after fit pointwise_weight, shape [4, 6, 1, 1].
#[rustfmt::skip]
const SEPARABLE_AFTER_FIT_POINTWISE_WEIGHT: &[f32] = &[
    0.1710273, 0.3949896, 0.4937438, 0.3342834, -0.007963717, -0.2805666, -0.4981503, -0.4253652, -0.1615806,
    0.1333873, 0.4406382, 0.4760263, 0.3175913, 0.02306012, -0.32951, -0.4715199, -0.42533, -0.1860645, 0.1872833,
    0.4034099, 0.4903605, 0.3226137, -0.02485615, -0.2934588,
];
/// Keras: separable after fit bias, shape [4].
#[rustfmt::skip]
const SEPARABLE_AFTER_FIT_BIAS: &[f32] = &[
    0.08197905, 0.08638766, 0.07328896, 0.05230579,
];
/// Keras: group_norm g3 image, shape [2, 6, 3, 4].
#[rustfmt::skip]
const GROUP_NORM_G3_IMAGE: &[f32] = &[
    0.8250344, 1.839533, 2.118628, 1.531054, 0.3531578, -0.8610778, -1.540579, -1.365766, -0.4188552, 0.8548052,
    1.856194, 2.114341, 1.714382, 0.3440133, -1.051376, -1.815512, -1.58901, -0.4783977, 0.9939871, 2.135659,
    2.409671, 1.687152, 0.3079131, -1.079368, -1.672605, -1.438864, -0.3893539, 0.9823255, 2.031051, 2.263592,
    1.570579, 0.2779478, -1.006357, -1.678307, -1.421873, -0.3576608, 0.5670233, 1.429503, 1.604532, 1.009791,
    -0.07500511, -1.139658, -1.683446, -1.450617, -0.5506734, 0.5931267, 1.442836, 1.598823, 0.5479187, -0.2799069,
    -1.082436, -1.482226, -1.29125, -0.5993273, 0.2681209, 0.9031198, 1.007019, 0.530954, -0.3011752, -1.098005,
    -1.269702, -1.1307, -0.6560665, -0.06903023, 0.3543168, 0.4148681, 0.08414519, -0.4823077, -1.018079, -1.271187,
    -1.122591, -0.6421781, 1.066642, 1.960826, 2.0697, 1.342059, 0.1201243, -1.02141, -1.545662, -1.206067,
    -0.1623434, 1.09463, 1.97368, 2.061374, 1.493248, 0.07520553, -1.233181, -1.816556, -1.400551, -0.1808181,
    1.268983, 2.266987, 2.343819, 1.463342, 0.03965899, -1.25765, -1.733297, -1.319798, -0.1596327, 1.201554,
    2.123576, 2.172791, 1.326053, -0.01840487, -1.228262, -1.734504, -1.299037, -0.126669, 0.7484144, 1.503312,
    1.52511, 0.8035569, -0.3219897, -1.322168, -1.726578, -1.345019, -0.3569456, 0.7729371, 1.513227, 1.515755,
    0.4185055, -0.443013, -1.198925, -1.493713, -1.188735, -0.4274247, 0.4321601, 0.9857438, 0.9729673, 0.3998395,
    -0.4640884, -1.212498, -1.275546, -1.059642, -0.5390889, 0.0412882, 0.4085295, 0.3899152, -0.005799592,
    -0.5925043, -1.094262, -1.27509, -1.049939, -0.524704,
];
/// Keras: group_norm g2 sequence eps0.1, shape [2, 4, 5].
#[rustfmt::skip]
const GROUP_NORM_G2_SEQUENCE_EPS0_1: &[f32] = &[
    0.9338599, 1.941785, 2.21907, 1.635304, 0.4650411, -0.8846259, -1.664731, -1.464036, -0.3769296, 1.085304,
    1.808357, 2.083131, 1.437563, 0.1752739, -1.110063, -1.792315, -1.618237, -0.7646778, 0.3669209, 1.244351,
    1.959903, 1.384784, 0.286921, -0.817343, -1.408656, -1.424944, -0.3885881, 0.9658983, 2.001479, 2.231105,
    1.465642, 0.1498021, -1.157562, -1.841577, -1.580539, -0.6937112, 0.4711283, 1.349094, 1.527265, 0.9218454,
];
/// Keras: group_norm instance (-1) no center, shape [2, 4, 5].
#[rustfmt::skip]
const GROUP_NORM_INSTANCE_1_NO_CENTER: &[f32] = &[
    -0.9976612, 0.9929624, 1.540593, 0.3876715, -1.923565, -0.3368497, -1.511949, -1.209635, 0.4279106, 2.630523,
    1.136091, 1.471935, 0.6828867, -0.8599522, -2.43096, -1.332866, -1.151531, -0.2623873, 0.9163874, 1.830397,
    1.691137, 1.111785, 0.005841851, -1.10655, -1.702215, -2.223415, -1.127163, 0.3056056, 1.401038, 1.643934,
    2.421151, 0.8734878, -0.6642064, -1.46873, -1.161703, -2.153512, -0.3729666, 0.969071, 1.241419, 0.3159887,
];
/// Keras: group_norm g1 flat, shape [3, 4].
#[rustfmt::skip]
const GROUP_NORM_G1_FLAT: &[f32] = &[
    -1.5548, 1.28749, 1.92563, -0.1485581, 2.534966, 0.4718949, -1.050137, -0.8685619, -1.511193, 0.1198732,
    1.400847, 1.20439,
];
/// Keras: group_norm after fit gamma, shape [6].
#[rustfmt::skip]
const GROUP_NORM_AFTER_FIT_GAMMA: &[f32] = &[
    1.234197, 1.432335, 1.40416, 1.178011, 0.8566844, 0.5870458,
];
/// Keras: group_norm after fit beta, shape [6].
#[rustfmt::skip]
const GROUP_NORM_AFTER_FIT_BETA: &[f32] = &[
    0.4184376, 0.4614118, 0.297164, -0.03339627, -0.3352328, -0.46577,
];
/// Keras: unit_normalization axis -1, shape [2, 3, 4].
#[rustfmt::skip]
const UNIT_NORMALIZATION_LAST: &[f32] = &[0.133691, 0.5271261, 0.6726456, 0.5018092, 0.09824382, -0.3688571, -0.6624789, -0.6445264, -0.3379551, 0.1564799, 0.57732, 0.7266375, 0.5526412, 0.09365321, -0.4093814, -0.7198775, -0.6955407, -0.3401919, 0.1751545, 0.608123, 0.0, 0.0, 0.0, 0.0];
/// Keras: unit_normalization axis 1, shape [2, 3, 4].
#[rustfmt::skip]
const UNIT_NORMALIZATION_AXIS_1: &[f32] = &[0.3786826, 0.8076805, 0.6278557, 0.480242, 0.2689881, -0.5463087, -0.5977236, -0.5962345, -0.885576, 0.2218081, 0.4985214, 0.6433288, 0.6241426, 0.266753, -0.9201477, -0.7656217, -0.7813105, -0.9637649, 0.3915716, 0.6432911, 0.0, 0.0, 0.0, 0.0];
