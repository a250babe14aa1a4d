//! The layers beyond the first eight (Conv1D, poolings, padding, upsampling, Embedding,
//! LayerNormalization, LSTM, GRU, SpatialDropout2D, GaussianNoise): shapes, parameter counts,
//! summaries and forward passes against Keras 3, saving, initialisers and errors.
//!
//! Reference numbers come from `tests/reference/layers.py` (Keras 3, torch backend). Inputs
//! and weights there and here are `vals(shape, offset, scale)`: `sin(0.7 * i + offset) * scale`.
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    AveragePooling2D, Conv1D, Conv2D, Dense, Embedding, Error, Flatten, GaussianNoise, GlobalAveragePooling2D,
    GlobalMaxPooling2D, Interpolation, LayerConfig, LayerNormalization, MaxPooling2D, Padding, Reshape, Sequential,
    SpatialDropout2D, UpSampling2D, ZeroPadding2D, GRU, LSTM,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

/// A one-layer model on per-sample `input`, built, with the named variables set.
fn model(layer: impl Into<LayerConfig>, input: &[i64], weights: &[(&str, Tensor)]) -> Sequential {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    m.build().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(vars.len(), weights.len(), "variables: {:?}", vars.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (name, value) in weights {
        let (_, var) = vars.iter().find(|(n, _)| n == &format!("layers.0.{name}")).expect(name);
        tch::no_grad(|| var.shallow_clone().copy_(value));
    }
    m
}

fn assert_close(y: &Tensor, shape: &[i64], expected: &[f32]) {
    assert_eq!(y.size(), shape);
    let got = Vec::<f32>::try_from(y.reshape([-1])).unwrap();
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 2e-5 + 1e-4 * e.abs(), "element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// Output shape and parameter count of a one-layer model on `input`.
fn one(layer: impl Into<LayerConfig>, input: &[i64]) -> (Vec<i64>, i64) {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    let params = m.count_params().unwrap();
    (m.output_shape().unwrap(), params)
}

#[test]
fn shapes_and_parameter_counts_match_keras() {
    // Keras 3's count_params and output shapes, printed by tests/reference/layers.py.
    assert_eq!(one(Conv1D::new(16, 5), &[8, 100]), (vec![16, 96], 656));
    assert_eq!(one(AveragePooling2D::new(2), &[3, 9, 9]), (vec![3, 4, 4], 0));
    assert_eq!(one(GlobalAveragePooling2D::new(), &[3, 9, 9]), (vec![3], 0));
    assert_eq!(one(GlobalMaxPooling2D::new(), &[3, 9, 9]), (vec![3], 0));
    assert_eq!(one(ZeroPadding2D::sides(1, 2, 0, 3), &[3, 9, 9]), (vec![3, 12, 12], 0));
    assert_eq!(one(UpSampling2D::new(2), &[3, 9, 9]), (vec![3, 18, 18], 0));
    assert_eq!(one(Embedding::new(1000, 64), &[10]), (vec![10, 64], 64_000));
    assert_eq!(one(LayerNormalization::new(), &[10, 32]), (vec![10, 32], 64));
    assert_eq!(one(LSTM::new(32), &[10, 16]), (vec![32], 6_272));
    assert_eq!(one(LSTM::new(32).return_sequences(true), &[10, 16]), (vec![10, 32], 6_272));
    assert_eq!(one(GRU::new(32), &[10, 16]), (vec![32], 4_800));
    assert_eq!(one(SpatialDropout2D::new(0.3), &[3, 9, 9]), (vec![3, 9, 9], 0));
    assert_eq!(one(GaussianNoise::new(0.1), &[7]), (vec![7], 0));
    // Beyond Keras's defaults.
    assert_eq!(one(Conv1D::new(4, 3).strides(2).padding(Padding::Same), &[2, 8]), (vec![4, 4], 28));
    assert_eq!(one(GlobalMaxPooling2D::new().keepdims(true), &[3, 9, 9]), (vec![3, 1, 1], 0));
    assert_eq!(one(LayerNormalization::new().axis(1), &[6, 4, 4]), (vec![6, 4, 4], 12));
}

/// Keras's default names (`layer.name` of a first instance), as the summary shows them.
#[test]
fn summary_names_are_keras_defaults() {
    let cases: Vec<(LayerConfig, &str)> = vec![
        (Conv1D::new(1, 1).into(), "conv1d (Conv1D)"),
        (AveragePooling2D::new(2).into(), "average_pooling2d (AveragePooling2D)"),
        (GlobalAveragePooling2D::new().into(), "global_average_pooling2d (GlobalAveragePooling2D)"),
        (GlobalMaxPooling2D::new().into(), "global_max_pooling2d (GlobalMaxPooling2D)"),
        (ZeroPadding2D::new(1).into(), "zero_padding2d (ZeroPadding2D)"),
        (UpSampling2D::new(2).into(), "up_sampling2d (UpSampling2D)"),
        (Embedding::new(3, 2).into(), "embedding (Embedding)"),
        (LayerNormalization::new().into(), "layer_normalization (LayerNormalization)"),
        (LSTM::new(2).into(), "lstm (LSTM)"),
        (GRU::new(2).into(), "gru (GRU)"),
        (SpatialDropout2D::new(0.1).into(), "spatial_dropout2d (SpatialDropout2D)"),
        (GaussianNoise::new(0.1).into(), "gaussian_noise (GaussianNoise)"),
    ];
    for (layer, label) in cases {
        let input: Vec<i64> = match &layer {
            LayerConfig::Conv1D(_) => vec![2, 4],
            LayerConfig::Embedding(_) => vec![4],
            LayerConfig::LayerNormalization(_) | LayerConfig::LSTM(_) | LayerConfig::GRU(_) => vec![4, 3],
            LayerConfig::GaussianNoise(_) => vec![3],
            _ => vec![2, 4, 4],
        };
        let s = Sequential::new().input_shape(input).add(layer).summary().unwrap();
        assert!(s.contains(label), "summary lacks {label:?}:\n{s}");
    }
}

#[test]
fn summaries_of_models_with_new_layers_match_keras() {
    // tests/reference/layers.py, "summary sequence": total 24,804.
    let mut m = Sequential::new()
        .input_shape([20])
        .add(Embedding::new(1000, 16))
        .add(LSTM::new(32).return_sequences(true))
        .add(LayerNormalization::new())
        .add(GRU::new(16))
        .add(Dense::new(4).activation(tch_keras::Activation::Softmax));
    let s = m.summary().unwrap();
    for needle in [
        "(None, 20, 16)",
        "16,000",
        "(None, 20, 32)",
        "6,272",
        "2,400",
        "Total params: 24,804",
        "Trainable params: 24,804",
        "Non-trainable params: 0",
    ] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
    // "summary image": total 566 (Conv2D 224 and 292, Dense 50).
    let mut m = Sequential::new()
        .input_shape([3, 32, 32])
        .add(ZeroPadding2D::new(1))
        .add(Conv2D::new(8, 3).activation(tch_keras::Activation::Relu))
        .add(AveragePooling2D::new(2))
        .add(SpatialDropout2D::new(0.2))
        .add(UpSampling2D::new(2))
        .add(Conv2D::new(4, 3))
        .add(GlobalMaxPooling2D::new())
        .add(GaussianNoise::new(0.1))
        .add(Dense::new(10));
    let s = m.summary().unwrap();
    for needle in ["(None, 3, 34, 34)", "(None, 8, 16, 16)", "(None, 4, 30, 30)", "(None, 4)", "Total params: 566"] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
    // "summary conv1d": total 923.
    let mut m = Sequential::new()
        .input_shape([4, 50])
        .add(Conv1D::new(8, 5).activation(tch_keras::Activation::Relu))
        .add(Conv1D::new(8, 3).strides(2).padding(Padding::Same))
        .add(Flatten::new())
        .add(Dense::new(3));
    let s = m.summary().unwrap();
    for needle in ["(None, 8, 46)", "(None, 8, 23)", "(None, 184)", "Total params: 923"] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
}

#[test]
fn conv1d_forward_matches_keras() {
    // 'same' padding with stride 2 on length 8: TensorFlow's split, 0 left and 1 right.
    let layer = Conv1D::new(3, 3).strides(2).padding(Padding::Same);
    let m = model(layer, &[2, 8], &[("weight", vals(&[3, 2, 3], 0.2, 0.5)), ("bias", vals(&[3], 0.3, 0.1))]);
    assert_close(&m.forward_t(&vals(&[2, 2, 8], 0.1, 1.0), false).unwrap(), &[2, 3, 4], &CONV1D);
}

#[test]
fn poolings_padding_and_upsampling_match_keras() {
    let x = vals(&[2, 2, 5, 6], 0.4, 1.0);
    let y = model(AveragePooling2D::new(2), &[2, 5, 6], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[2, 2, 2, 3], &AVERAGE_POOLING2D_VALID_2);
    // 'same': padded cells are left out of each mean, symmetric padding (Keras 3) ...
    let pool = AveragePooling2D::new(3).strides(2).padding(Padding::Same);
    let y = model(pool, &[2, 5, 5], &[]).forward_t(&vals(&[2, 2, 5, 5], 0.45, 1.0), false).unwrap();
    assert_close(&y, &[2, 2, 3, 3], &AVERAGE_POOLING2D_SAME_3_S2_SYMMETRIC);
    // ... and asymmetric (0 left, 1 right): TensorFlow's and JAX's definition; Keras's torch
    // backend averages replicated edge cells instead (see the script).
    let y = model(pool, &[2, 5, 6], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[2, 2, 3, 3], &AVERAGE_POOLING2D_SAME_3_S2);

    let x = vals(&[2, 3, 4, 5], 0.5, 1.0);
    let y = model(GlobalAveragePooling2D::new(), &[3, 4, 5], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[2, 3], &GLOBAL_AVERAGE_POOLING2D);
    let y = model(GlobalMaxPooling2D::new(), &[3, 4, 5], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[2, 3], &GLOBAL_MAX_POOLING2D);
    let y = model(GlobalMaxPooling2D::new().keepdims(true), &[3, 4, 5], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[2, 3, 1, 1], &GLOBAL_MAX_POOLING2D);

    let x = vals(&[1, 2, 3, 4], 0.6, 1.0);
    let y = model(ZeroPadding2D::sides(1, 2, 0, 3), &[2, 3, 4], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[1, 2, 6, 7], &ZERO_PADDING2D);
    let up = UpSampling2D { size: [2, 3], interpolation: Interpolation::Nearest };
    let y = model(up, &[2, 3, 4], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[1, 2, 6, 12], &UP_SAMPLING2D_NEAREST);
    let up = UpSampling2D { size: [2, 3], interpolation: Interpolation::Bilinear };
    let y = model(up, &[2, 3, 4], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[1, 2, 6, 12], &UP_SAMPLING2D_BILINEAR);
}

#[test]
fn max_pooling_with_same_padding_matches_keras() {
    // tests/reference/layers.py, "max_pooling2d same ...": asymmetric (width 6: 0 left, 1
    // right) and symmetric padding, and a ReLU before the pooling (applied after it here).
    let x = vals(&[2, 2, 5, 6], 0.4, 1.0);
    let pool = MaxPooling2D::new(3).strides(2).padding(Padding::Same);
    let y = model(pool, &[2, 5, 6], &[]).forward_t(&x, false).unwrap();
    assert_close(&y, &[2, 2, 3, 3], &MAX_POOLING2D_SAME_3_S2);
    let x7 = vals(&[2, 2, 5, 5], 0.45, 1.0);
    let y = model(pool, &[2, 5, 5], &[]).forward_t(&x7, false).unwrap();
    assert_close(&y, &[2, 2, 3, 3], &MAX_POOLING2D_SAME_3_S2_SYMMETRIC);
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([2, 5, 5])
        .add(tch_keras::Activation::Relu)
        .add(MaxPooling2D::new(2).padding(Padding::Same));
    m.build().unwrap();
    assert_close(&m.forward_t(&x7, false).unwrap(), &[2, 2, 3, 3], &MAX_POOLING2D_SAME_2_AFTER_RELU);
    // Files saved before the padding existed read as valid padding.
    let old: MaxPooling2D = serde_json::from_str(r#"{"pool_size":[2,2],"strides":[2,2]}"#).unwrap();
    assert_eq!(old, MaxPooling2D::new(2));
    let json = serde_json::to_string(&pool).unwrap();
    assert_eq!(json, r#"{"pool_size":[3,3],"strides":[2,2],"padding":"same"}"#);
    assert_eq!(serde_json::from_str::<MaxPooling2D>(&json).unwrap(), pool);
}

#[test]
fn layer_normalization_matches_keras() {
    let weights = [("weight", vals(&[5], 0.9, 0.5) + 1.0), ("bias", vals(&[5], 1.0, 0.3))];
    let m = model(LayerNormalization::new(), &[3, 5], &weights);
    assert_close(&m.forward_t(&vals(&[2, 3, 5], 0.8, 2.0), false).unwrap(), &[2, 3, 5], &LAYER_NORMALIZATION_LAST);
    // Over the channels of channels-first images (Keras's axis=1 here).
    let weights = [("weight", vals(&[3], 1.2, 0.5) + 1.0), ("bias", vals(&[3], 1.3, 0.3))];
    let m = model(LayerNormalization::new().axis(1), &[3, 2, 2], &weights);
    let y = m.forward_t(&vals(&[2, 3, 2, 2], 1.1, 2.0), false).unwrap();
    assert_close(&y, &[2, 3, 2, 2], &LAYER_NORMALIZATION_AXIS_1);
}

#[test]
fn embedding_matches_keras_for_float_and_integer_indices() {
    let m = model(Embedding::new(10, 4), &[3], &[("weight", vals(&[10, 4], 0.7, 1.0))]);
    let ids = Tensor::from_slice(&[1i64, 2, 9, 0, 0, 5]).reshape([2, 3]);
    assert_close(&m.forward_t(&ids, false).unwrap(), &[2, 3, 4], &EMBEDDING);
    // As Sequential feeds data today: float32 holding whole numbers.
    assert_close(&m.forward_t(&ids.to_kind(Kind::Float), false).unwrap(), &[2, 3, 4], &EMBEDDING);
    let mut m = m;
    let y = m.predict(&ids.to_kind(Kind::Float), 1).unwrap();
    assert_close(&y, &[2, 3, 4], &EMBEDDING);
}

#[test]
fn embedding_refuses_bad_indices_naming_them() {
    let m = model(Embedding::new(10, 4), &[3], &[("weight", vals(&[10, 4], 0.7, 1.0))]);
    for (bad, shown) in [(10.0f32, "10"), (-1.0, "-1"), (2.5, "2.5")] {
        let x = Tensor::from_slice(&[1.0f32, bad, 3.0]).reshape([1, 3]);
        let err = m.forward_t(&x, false).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        assert!(text.contains(&format!("index {shown} ")) && text.contains("[0, 10)"), "{text}");
    }
    let err = m.forward_t(&Tensor::from_slice(&[0i64, 12, 1]).reshape([1, 3]), false).unwrap_err();
    assert!(err.to_string().contains("index 12 "), "{err}");
}

/// PyTorch layout weights for a recurrent layer: `weight_ih_l0` `[g*u, 3]`, `weight_hh_l0`
/// `[g*u, u]`, biases `[g*u]`, the values tests/reference/layers.py gives Keras.
fn rnn_weights(gates: i64, units: i64, offsets: [f64; 4], two_biases: bool) -> Vec<(&'static str, Tensor)> {
    let rows = gates * units;
    let mut w = vec![
        ("weight_ih_l0", vals(&[rows, 3], offsets[0], 0.5)),
        ("weight_hh_l0", vals(&[rows, units], offsets[1], 0.5)),
        ("bias_ih_l0", vals(&[rows], offsets[2], 0.2)),
    ];
    if two_biases {
        w.push(("bias_hh_l0", vals(&[rows], offsets[3], 0.2)));
    }
    w
}

#[test]
fn lstm_matches_keras() {
    let x = vals(&[2, 5, 3], 1.4, 1.0);
    let weights = rnn_weights(4, 4, [1.5, 1.6, 1.7, 0.0], false);
    let m = model(LSTM::new(4), &[5, 3], &weights);
    assert_close(&m.forward_t(&x, false).unwrap(), &[2, 4], &LSTM_RETURN_SEQUENCES_FALSE);
    let m = model(LSTM::new(4).return_sequences(true), &[5, 3], &weights);
    assert_close(&m.forward_t(&x, true).unwrap(), &[2, 5, 4], &LSTM_RETURN_SEQUENCES_TRUE);
}

#[test]
fn gru_matches_keras_with_reset_after() {
    let x = vals(&[2, 5, 3], 1.4, 1.0);
    let weights = rnn_weights(3, 4, [1.8, 1.9, 2.0, 2.1], true);
    let m = model(GRU::new(4), &[5, 3], &weights);
    assert_close(&m.forward_t(&x, false).unwrap(), &[2, 4], &GRU_RETURN_SEQUENCES_FALSE);
    let m = model(GRU::new(4).return_sequences(true), &[5, 3], &weights);
    assert_close(&m.forward_t(&x, true).unwrap(), &[2, 5, 4], &GRU_RETURN_SEQUENCES_TRUE);
}

/// Embedding(10, 4) -> `rnn` (5 units, `gates` gate blocks) -> Dense(3, softmax), trained with
/// Adam(0.05) as in tests/reference/layers.py ("training Embedding -> LSTM / GRU -> Dense");
/// returns the History's loss and accuracy, the trained `weight_hh_l0`'s first row, the first
/// three embedding rows and the predictions for the first two sequences.
fn train_sequence_model(rnn: impl Into<LayerConfig>, gates: i64) -> [Vec<f64>; 5] {
    let x = (Tensor::arange(42, (Kind::Int64, Device::Cpu)) * 3).remainder(10).view([7, 6]);
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 1]);
    let mut m = Sequential::new().device(Device::Cpu).input_shape([6]).add(Embedding::new(10, 4)).add(rnn);
    m.push(Dense::new(3).activation(tch_keras::Activation::Softmax));
    let loss = tch_keras::Loss::SparseCategoricalCrossentropy;
    m.compile(tch_keras::Optimizer::adam(0.05), loss, vec![tch_keras::Metric::accuracy()]).unwrap();
    let mut weights = vec![
        ("layers.0.weight", vals(&[10, 4], 6.0, 0.5)),
        ("layers.1.weight_ih_l0", vals(&[gates * 5, 4], 6.1, 0.4)),
        ("layers.1.weight_hh_l0", vals(&[gates * 5, 5], 6.2, 0.4)),
        ("layers.1.bias_ih_l0", vals(&[gates * 5], 6.3, 0.2)),
        ("layers.2.weight", vals(&[3, 5], 6.5, 0.5)),
        ("layers.2.bias", vals(&[3], 6.6, 0.1)),
    ];
    if gates == 3 {
        weights.push(("layers.1.bias_hh_l0", vals(&[15], 6.4, 0.2)));
    }
    let vars: Vec<(String, Tensor)> =
        m.variables().unwrap().iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
    let var = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.shallow_clone();
    for (name, value) in &weights {
        tch::no_grad(|| var(name).copy_(value));
    }
    let config = tch_keras::FitConfig {
        batch_size: 3,
        epochs: 3,
        shuffle: false,
        verbose: tch_keras::Verbosity::Silent,
        ..Default::default()
    };
    let h = m.fit(&x, &y, config).unwrap();
    let values = |t: Tensor| Vec::<f64>::try_from(t.contiguous().reshape([-1]).to_kind(Kind::Double)).unwrap();
    let predicted = m.predict(&x.narrow(0, 0, 2), 32).unwrap();
    [
        h.series("loss").unwrap(),
        h.series("accuracy").unwrap(),
        values(var("layers.1.weight_hh_l0").get(0)),
        values(var("layers.0.weight").narrow(0, 0, 3)),
        values(predicted),
    ]
}

#[test]
fn recurrent_models_train_as_keras_does() {
    let close = |got: &[f64], keras: &[f64], what: &str| {
        assert_eq!(got.len(), keras.len(), "{what}");
        assert!(got.iter().zip(keras).all(|(g, k)| (g - k).abs() < 2e-5), "{what}: got {got:?}, Keras {keras:?}");
    };
    let lstm = train_sequence_model(LSTM::new(5), 4);
    close(&lstm[0], &[1.07340884, 0.973555923, 0.847502053], "LSTM loss");
    close(&lstm[1], &[0.428571433, 0.571428597, 0.571428597], "LSTM accuracy");
    close(&lstm[2], &[0.102694, 0.343725, 0.397618, 0.357788, -0.186608], "LSTM weight_hh_l0");
    let embedding = [
        -0.0689123, 0.507992, 0.763547, 0.799389, 0.0711388, -0.265575, -0.575686, -0.53152, -0.536823, -0.488168,
        -0.166578, 0.0726957,
    ];
    close(&lstm[3], &embedding, "LSTM model's embedding");
    close(&lstm[4], &[0.318662, 0.374292, 0.307046, 0.0789266, 0.860352, 0.0607213], "LSTM predict");
    let gru = train_sequence_model(GRU::new(5), 3);
    close(&gru[0], &[1.06120408, 0.891294539, 0.762294888], "GRU loss");
    close(&gru[1], &[0.285714298, 0.571428597, 0.571428597], "GRU accuracy");
    close(&gru[2], &[0.169994, 0.0681783, 0.574255, 0.361601, -0.163061], "GRU weight_hh_l0");
    let embedding = [
        -0.386302, 0.534967, 0.7657, 0.796041, -0.115824, -0.385572, -0.641104, -0.673833, -0.0926394, -0.361697,
        -0.143346, 0.0996111,
    ];
    close(&gru[3], &embedding, "GRU model's embedding");
    close(&gru[4], &[0.307635, 0.436087, 0.256278, 0.0346837, 0.942393, 0.0229237], "GRU predict");
}

#[test]
fn recurrent_layers_have_keras_initialisers_and_pytorch_names() {
    let mut m = Sequential::new().input_shape([7, 16]).add(LSTM::new(32));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layers.0.bias_ih_l0", "layers.0.weight_hh_l0", "layers.0.weight_ih_l0"]);
    // Keras's unit_forget_bias: ones on the forget gate (second block), zeros elsewhere.
    let bias = Vec::<f32>::try_from(&vars[0].1).unwrap();
    assert!(bias.iter().enumerate().all(|(i, &b)| b == if (32..64).contains(&i) { 1.0 } else { 0.0 }), "{bias:?}");
    // Orthogonal recurrent kernel: PyTorch's [4u, u] has orthonormal columns (Keras's [u, 4u]
    // orthonormal rows).
    let w_hh = &vars[1].1;
    let gram = w_hh.tr().matmul(w_hh);
    let eye = Tensor::eye(32, (Kind::Float, Device::Cpu));
    assert!(f64::try_from((gram - eye).abs().max()).unwrap() < 1e-5);
    // Glorot-uniform over Keras's kernel shape [16, 4u].
    let limit = (6.0f64 / (16.0 + 128.0)).sqrt();
    let max = f64::try_from(vars[2].1.abs().max()).unwrap();
    assert!(max <= limit && max > 0.9 * limit, "max |w| {max}, limit {limit}");

    let mut m = Sequential::new().input_shape([7, 16]).add(GRU::new(8));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layers.0.bias_hh_l0", "layers.0.bias_ih_l0", "layers.0.weight_hh_l0", "layers.0.weight_ih_l0"]);
    assert_eq!(vars[2].1.size(), [24, 8]);
    let gram = vars[2].1.tr().matmul(&vars[2].1);
    assert!(f64::try_from((gram - Tensor::eye(8, (Kind::Float, Device::Cpu))).abs().max()).unwrap() < 1e-5);
    assert_eq!(f64::try_from(vars[0].1.abs().sum(Kind::Float)).unwrap(), 0.0);
}

#[test]
fn other_initialisers_are_keras_defaults() {
    let mut m = Sequential::new().input_shape([5]).add(Embedding::new(1000, 32));
    m.build().unwrap();
    let w = &m.variables().unwrap()[0].1;
    let max = f64::try_from(w.abs().max()).unwrap();
    // Keras's `uniform`: U(-0.05, 0.05), standard deviation 0.05 / sqrt(3).
    assert!(max <= 0.05 && max > 0.049, "{max}");
    let std = f64::try_from(w.std(true)).unwrap();
    assert!((std - 0.05 / 3f64.sqrt()).abs() < 0.001, "{std}");

    let mut m = Sequential::new().input_shape([4, 6]).add(LayerNormalization::new());
    m.build().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(Vec::<f32>::try_from(&vars[0].1).unwrap(), vec![0.0; 6]);
    assert_eq!(Vec::<f32>::try_from(&vars[1].1).unwrap(), vec![1.0; 6]);
}

#[test]
fn recurrent_layers_backpropagate_into_every_weight() {
    for layer in [LayerConfig::from(LSTM::new(4)), GRU::new(4).into()] {
        let mut m = Sequential::new().input_shape([5, 3]).add(layer);
        m.build().unwrap();
        let y = m.forward_t(&vals(&[2, 5, 3], 1.4, 1.0), true).unwrap();
        y.sum(Kind::Float).backward();
        for (name, var) in m.variables().unwrap() {
            let g = var.grad();
            assert!(g.defined() && f64::try_from(g.abs().sum(Kind::Float)).unwrap() > 0.0, "{name} got no gradient");
        }
    }
}

#[test]
fn relu_before_average_pooling_is_applied_before_it() {
    // Only MaxPooling2D lets the model move a ReLU after the pooling; an average of ReLUs is
    // not the ReLU of an average.
    let x = vals(&[1, 1, 4, 4], 0.3, 1.0);
    let mut m = Sequential::new()
        .input_shape([1, 4, 4])
        .add(Conv2D::new(1, 1).activation(tch_keras::Activation::Relu))
        .add(AveragePooling2D::new(2));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    tch::no_grad(|| {
        let _ = vars[0].1.shallow_clone().fill_(0.0);
        let _ = vars[1].1.shallow_clone().fill_(1.0);
    });
    let expected = x.relu().avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>);
    let y = m.forward_t(&x, false).unwrap();
    assert!(y.allclose(&expected, 1e-6, 1e-6, false), "{y} vs {expected}");
    assert!(!y.allclose(&x.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>).relu(), 1e-6, 1e-6, false));
    // With MaxPooling2D both orders agree, whichever the model uses.
    let mut m = Sequential::new()
        .input_shape([1, 4, 4])
        .add(Conv2D::new(1, 1).activation(tch_keras::Activation::Relu))
        .add(MaxPooling2D::new(2));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    tch::no_grad(|| {
        let _ = vars[0].1.shallow_clone().fill_(0.0);
        let _ = vars[1].1.shallow_clone().fill_(1.0);
    });
    assert!(m.forward_t(&x, false).unwrap().allclose(
        &x.relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false),
        1e-6,
        1e-6,
        false
    ));
}

#[test]
fn noise_layers_follow_the_train_flag() {
    let x = Tensor::ones([8, 50, 4, 4], (Kind::Float, Device::Cpu));
    let m = model(SpatialDropout2D::new(0.5), &[50, 4, 4], &[]);
    assert!(m.forward_t(&x, false).unwrap().equal(&x));
    let y = m.forward_t(&x, true).unwrap();
    // Whole channels are dropped or kept (scaled by 2).
    let per_channel = y.amax([2, 3].as_slice(), false);
    assert!(y.equal(&per_channel.unsqueeze(-1).unsqueeze(-1).expand([8, 50, 4, 4], false)));
    let dropped = f64::try_from(per_channel.eq(0.0).sum(Kind::Float)).unwrap();
    assert!((120.0..280.0).contains(&dropped), "{dropped} of 400 channels dropped");
    assert_eq!(f64::try_from(y.max()).unwrap(), 2.0);

    let m = model(GaussianNoise::new(0.3), &[10_000], &[]);
    let x = Tensor::ones([2, 10_000], (Kind::Float, Device::Cpu));
    assert!(m.forward_t(&x, false).unwrap().equal(&x));
    let noise = m.forward_t(&x, true).unwrap() - &x;
    let (std, mean) = noise.std_mean(true);
    assert!((f64::try_from(std).unwrap() - 0.3).abs() < 0.01 && f64::try_from(mean).unwrap().abs() < 0.01);
}

#[test]
fn configurations_round_trip_and_old_json_is_unchanged() {
    let layers: Vec<LayerConfig> = vec![
        Conv1D::new(16, 5).strides(2).padding(Padding::Same).into(),
        AveragePooling2D::new(3).strides(2).padding(Padding::Same).into(),
        GlobalAveragePooling2D::new().keepdims(true).into(),
        GlobalMaxPooling2D::new().into(),
        ZeroPadding2D::sides(1, 2, 3, 4).into(),
        UpSampling2D::new(3).interpolation(Interpolation::Bilinear).into(),
        Embedding::new(100, 8).into(),
        LayerNormalization::new().axis(1).epsilon(1e-5).into(),
        LSTM::new(32).return_sequences(true).into(),
        GRU::new(16).into(),
        SpatialDropout2D::new(0.25).into(),
        GaussianNoise::new(0.1).into(),
    ];
    for layer in &layers {
        let json = serde_json::to_string(layer).unwrap();
        let back: LayerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, layer, "{json}");
        assert!(json.starts_with(&format!("{{\"class_name\":\"{}\"", layer.spec().kind())), "{json}");
    }
    assert_eq!(
        serde_json::to_string(&LayerConfig::from(LSTM::new(8))).unwrap(),
        r#"{"class_name":"LSTM","config":{"units":8,"return_sequences":false,"use_bias":true,"unit_forget_bias":true}}"#
    );
    // The first layers' JSON, as saved models store it, is as before the layer files split.
    assert_eq!(
        serde_json::to_string(&LayerConfig::from(MaxPooling2D::new(2))).unwrap(),
        r#"{"class_name":"MaxPooling2D","config":{"pool_size":[2,2],"strides":[2,2]}}"#
    );
    assert_eq!(
        serde_json::to_string(&LayerConfig::from(Conv2D::new(4, 3).padding(Padding::Same))).unwrap(),
        r#"{"class_name":"Conv2D","config":{"filters":4,"kernel_size":[3,3],"strides":[1,1],"padding":"same","activation":"linear","use_bias":true}}"#
    );
    assert_eq!(
        serde_json::to_string(&LayerConfig::from(Flatten::new())).unwrap(),
        r#"{"class_name":"Flatten","config":{}}"#
    );
}

#[test]
fn saved_models_with_new_layers_load_and_predict_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let models = [
        (
            Sequential::new()
                .input_shape([6])
                .add(Embedding::new(20, 5))
                .add(LSTM::new(4).return_sequences(true))
                .add(LayerNormalization::new())
                .add(GRU::new(3))
                .add(Dense::new(2)),
            Tensor::from_slice(&[1.0f32, 4.0, 19.0, 0.0, 7.0, 7.0, 2.0, 3.0, 5.0, 8.0, 13.0, 11.0]).reshape([2, 6]),
        ),
        (
            Sequential::new()
                .input_shape([2, 6, 6])
                .add(ZeroPadding2D::new(1))
                .add(Conv2D::new(3, 3))
                .add(AveragePooling2D::new(2).padding(Padding::Same))
                .add(UpSampling2D::new(2).interpolation(Interpolation::Bilinear))
                .add(SpatialDropout2D::new(0.2))
                .add(GlobalAveragePooling2D::new())
                .add(GaussianNoise::new(0.5))
                .add(Dense::new(2)),
            vals(&[3, 2, 6, 6], 0.1, 1.0),
        ),
        (
            Sequential::new().input_shape([2, 9]).add(Conv1D::new(3, 2)).add(Flatten::new()).add(Dense::new(1)),
            vals(&[4, 2, 9], 0.2, 1.0),
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
}

// Long: a table of cases (model, layer, input shape, what the message says) and a short loop.
#[test]
fn shape_errors_name_the_layer_and_both_shapes() {
    let cases: Vec<(Sequential, &str, &str, &str)> = vec![
        (
            Sequential::new().input_shape([10]).add(Conv1D::new(2, 3)),
            "layer 0 (Conv1D)",
            "(None, 10)",
            "(None, channels, length)",
        ),
        (
            Sequential::new().input_shape([2, 4]).add(Conv1D::new(2, 5)),
            "layer 0 (Conv1D)",
            "(None, 2, 4)",
            "longer than the input length 4",
        ),
        (
            Sequential::new().input_shape([8]).add(AveragePooling2D::new(2)),
            "layer 0 (AveragePooling2D)",
            "(None, 8)",
            "(None, channels, height, width)",
        ),
        (
            Sequential::new().input_shape([2, 8]).add(GlobalAveragePooling2D::new()),
            "layer 0 (GlobalAveragePooling2D)",
            "(None, 2, 8)",
            "(None, channels, height, width)",
        ),
        (
            Sequential::new().input_shape([2, 8]).add(GlobalMaxPooling2D::new()),
            "layer 0 (GlobalMaxPooling2D)",
            "(None, 2, 8)",
            "(None, channels, height, width)",
        ),
        (
            Sequential::new().input_shape([8]).add(ZeroPadding2D::new(1)),
            "layer 0 (ZeroPadding2D)",
            "(None, 8)",
            "(None, channels, height, width)",
        ),
        (
            Sequential::new().input_shape([8]).add(UpSampling2D::new(2)),
            "layer 0 (UpSampling2D)",
            "(None, 8)",
            "(None, channels, height, width)",
        ),
        (
            Sequential::new().input_shape([8]).add(LSTM::new(4)),
            "layer 0 (LSTM)",
            "(None, 8)",
            "(None, timesteps, features)",
        ),
        (
            Sequential::new().input_shape([8]).add(Embedding::new(10, 4)).add(GRU::new(4)).add(GRU::new(2)),
            "layer 2 (GRU)",
            "(None, 4)",
            "(None, timesteps, features)",
        ),
        (
            Sequential::new().input_shape([3, 4]).add(LayerNormalization::new().axis(3)),
            "layer 0 (LayerNormalization)",
            "(None, 3, 4)",
            "axis 3",
        ),
        (
            Sequential::new().input_shape([8]).add(SpatialDropout2D::new(0.1)),
            "layer 0 (SpatialDropout2D)",
            "(None, 8)",
            "(None, channels, height, width)",
        ),
        (
            Sequential::new().input_shape([4]).add(Embedding::new(0, 4)),
            "layer 0 (Embedding)",
            "(None, 4)",
            "must be positive",
        ),
        (
            Sequential::new().input_shape([4, 2]).add(LSTM::new(0)),
            "layer 0 (LSTM)",
            "(None, 4, 2)",
            "units must be positive",
        ),
        (
            Sequential::new().input_shape([1, 4, 4]).add(ZeroPadding2D::new(-1)),
            "layer 0 (ZeroPadding2D)",
            "(None, 1, 4, 4)",
            "negative",
        ),
        (
            Sequential::new().input_shape([4]).add(GaussianNoise::new(-1.0)),
            "layer 0 (GaussianNoise)",
            "(None, 4)",
            "stddev",
        ),
        (
            Sequential::new().input_shape([1, 4, 4]).add(UpSampling2D::new(0)),
            "layer 0 (UpSampling2D)",
            "(None, 1, 4, 4)",
            "size must be positive",
        ),
        (
            Sequential::new().input_shape([1, 4, 4]).add(SpatialDropout2D::new(1.0)),
            "layer 0 (SpatialDropout2D)",
            "(None, 1, 4, 4)",
            "rate must be in [0, 1)",
        ),
        // 2^33 x 2^33 pixels per sample: the shape passed, and LibTorch failed on the first
        // batch ("Storage size calculation overflowed").
        (
            Sequential::new().input_shape([1, 4, 4]).add(UpSampling2D::new(1 << 31)),
            "layer 0 (UpSampling2D)",
            "(None, 1, 4, 4)",
            "(None, 1, 8589934592, 8589934592) holds more bytes per sample than fit in 64 bits",
        ),
        // LibTorch's pooling failed on the first batch with "integer out of range".
        (
            Sequential::new().input_shape([1, 4, 4]).add(MaxPooling2D::new(2).strides(i64::MAX)),
            "layer 0 (MaxPooling2D)",
            "(None, 1, 4, 4)",
            "must be at most 2147483647",
        ),
        (
            Sequential::new()
                .input_shape([1, 4, 4])
                .add(AveragePooling2D::new(2).strides(1 << 40).padding(Padding::Same)),
            "layer 0 (AveragePooling2D)",
            "(None, 1, 4, 4)",
            "one window already",
        ),
    ];
    for (mut m, layer, shape, message) in cases {
        let err = m.build().unwrap_err();
        assert!(matches!(err, Error::LayerShape { .. }), "{err:?}");
        let text = err.to_string();
        for needle in [layer, shape, message] {
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
    }
}

#[test]
fn new_layers_run_under_bf16_autocast() {
    let cases = [
        (
            Sequential::new()
                .input_shape([6])
                .add(Embedding::new(20, 5))
                .add(LSTM::new(4).return_sequences(true))
                .add(LayerNormalization::new())
                .add(GRU::new(3)),
            Tensor::from_slice(&[1.0f32, 4.0, 19.0, 0.0, 7.0, 7.0, 2.0, 3.0, 5.0, 8.0, 13.0, 11.0]).reshape([2, 6]),
        ),
        (
            Sequential::new()
                .input_shape([2, 6, 6])
                .add(ZeroPadding2D::new(1))
                .add(AveragePooling2D::new(2).padding(Padding::Same))
                .add(UpSampling2D::new(2).interpolation(Interpolation::Bilinear))
                .add(GlobalAveragePooling2D::new()),
            vals(&[3, 2, 6, 6], 0.1, 1.0),
        ),
        (Sequential::new().input_shape([2, 9]).add(Conv1D::new(3, 2)), vals(&[4, 2, 9], 0.2, 1.0)),
    ];
    for (mut m, x) in cases {
        m.build().unwrap();
        let full = m.forward_t(&x, false).unwrap();
        m.set_precision(tch_keras::Precision::Bf16);
        let mixed = m.forward_t(&x, false).unwrap();
        assert_eq!(mixed.kind(), Kind::Float);
        let diff = f64::try_from((&mixed - &full).abs().max()).unwrap();
        assert!(diff < 0.05, "bf16 differs from float32 by {diff}: {:?}", m.layers());
    }
}

/// 6,000 MNIST training images, 1,000 test images, one-hot labels.
fn mnist_subset() -> (Tensor, Tensor, Tensor, Tensor) {
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let y = tch_keras::to_categorical(&ds.train_labels.narrow(0, 0, 6000), 10).unwrap();
    let y_test = tch_keras::to_categorical(&ds.test_labels.narrow(0, 0, 1000), 10).unwrap();
    (ds.train_images.narrow(0, 0, 6000), y, ds.test_images.narrow(0, 0, 1000), y_test)
}

fn fit_and_test(
    model: &mut Sequential,
    x: &Tensor,
    y: &Tensor,
    x_test: &Tensor,
    y_test: &Tensor,
    epochs: usize,
) -> f64 {
    tch_keras::recipes::compile_classifier(model, 0.003, "acc").unwrap();
    let config = tch_keras::FitConfig { epochs, verbose: tch_keras::Verbosity::Silent, ..Default::default() };
    model.fit(x, y, config).unwrap();
    model.evaluate(x_test, y_test, 500).unwrap().get("acc").unwrap()
}

#[test]
fn recurrent_layers_learn_mnist_read_row_by_row() {
    // Keras's classic: each image as 28 time steps of 28 pixels.
    let (x, y, x_test, y_test) = mnist_subset();
    for rnn in [LayerConfig::from(LSTM::new(32)), GRU::new(32).into()] {
        let kind = rnn.spec().kind();
        let mut m = Sequential::new()
            .input_shape([784])
            .add(Reshape::new([28, 28]))
            .add(rnn)
            .add(Dense::new(10).activation(tch_keras::Activation::Softmax));
        let acc = fit_and_test(&mut m, &x, &y, &x_test, &y_test, 3);
        eprintln!("{kind}: test accuracy {acc}");
        assert!(acc > 0.8, "{kind}: test accuracy {acc}");
    }
}

#[test]
fn embedding_learns_from_float_token_ids_through_fit() {
    // Pixel intensities 0..=255 as tokens: Sequential feeds them as float32 whole numbers.
    let (x, y, x_test, y_test) = mnist_subset();
    let tokens = |t: &Tensor| (t * 255.0).round();
    assert_eq!(f64::try_from(tokens(&x).max()).unwrap(), 255.0);
    let mut m = Sequential::new()
        .input_shape([784])
        .add(Embedding::new(256, 2))
        .add(Flatten::new())
        .add(Dense::new(10).activation(tch_keras::Activation::Softmax));
    let acc = fit_and_test(&mut m, &tokens(&x), &y, &tokens(&x_test), &y_test, 2);
    eprintln!("Embedding: test accuracy {acc}");
    assert!(acc > 0.8, "test accuracy {acc}");
}

/// Keras 3: max_pooling2d same 3 s2, shape [2, 2, 3, 3] (tests/reference/layers.py).
const MAX_POOLING2D_SAME_3_S2: [f32; 36] = [
    0.973848, 0.973848, 0.96989, 0.965658, 0.965658, 0.96989, 0.965658, 0.965658, 0.961153, 0.956376, 0.956376,
    -0.125336, 0.956376, 0.956376, 0.951329, 0.946013, 0.946013, -0.158623, 0.500252, 0.938307, 0.940429, 0.943989,
    0.949404, 0.949404, 0.470856, 0.949404, 0.949404, 0.95455, 0.959427, 0.959427, 0.964032, 0.959427, 0.959427,
    0.964032, 0.968364, 0.968364,
];

/// Keras 3: max_pooling2d same 3 s2 symmetric, shape [2, 2, 3, 3] (tests/reference/layers.py).
const MAX_POOLING2D_SAME_3_S2_SYMMETRIC: [f32; 36] = [
    0.912764, 0.961275, 0.557684, 0.956506, 0.956506, 0.925982, 0.951465, 0.529459, 0.925982, 0.515121, 0.9322,
    0.946156, 0.515121, 0.94058, 0.94058, 0.943842, 0.943842, 0.486011, 0.949264, 0.928631, 0.523444, 0.949264,
    0.928631, 0.954418, 0.922261, 0.959301, 0.959301, 0.565742, 0.963914, 0.908742, 0.968254, 0.968254, 0.908742,
    0.968254, 0.968254, 0.593147,
];

/// Keras 3: max_pooling2d same 2 after relu, shape [2, 2, 3, 3] (tests/reference/layers.py).
const MAX_POOLING2D_SAME_2_AFTER_RELU: [f32; 36] = [
    0.912764, 0.961275, 0.450044, 0.956506, 0.543648, 0.925982, 0.951465, 0.0, 0.0, 0.515121, 0.9322, 0.946156,
    0.494499, 0.94058, 0.500636, 0.943842, 0.934737, 0.0, 0.949264, 0.471247, 0.523444, 0.922261, 0.537697, 0.954418,
    0.0, 0.959301, 0.915631, 0.565742, 0.963914, 0.426175, 0.968254, 0.901596, 0.0, 0.0, 0.0, 0.593147,
];

/// Keras 3: conv1d, shape [2, 3, 4] (tests/reference/layers.py).
const CONV1D: [f32; 24] = [
    0.428748, 0.695592, -0.143234, -0.672735, -0.176025, 0.0531858, 0.333794, 0.548552, -0.0449255, -0.536515,
    0.0271685, 0.346095, -0.483791, 0.448932, 0.685457, 0.168439, 0.018156, -0.175425, 0.0619007, 0.36365, 0.677216,
    -0.0656975, -0.534926, -0.313779,
];

/// Keras 3: average_pooling2d valid 2, shape [2, 2, 2, 3] (tests/reference/layers.py).
const AVERAGE_POOLING2D_VALID_2: [f32; 24] = [
    -0.136333, 0.424439, 0.280614, 0.458972, -0.0396141, -0.472438, 0.454699, -0.0554813, -0.473559, -0.351256,
    -0.37369, 0.224226, -0.361771, -0.363661, 0.23815, -0.0741851, 0.448976, 0.226807, -0.0583942, 0.453857, 0.212676,
    0.432523, -0.118145, -0.472685,
];

/// Keras 3: average_pooling2d same 3 s2 symmetric, shape [2, 2, 3, 3] (tests/reference/layers.py).
const AVERAGE_POOLING2D_SAME_3_S2_SYMMETRIC: [f32; 36] = [
    -0.0933783, 0.0665117, 0.167114, -0.272932, -0.133387, 0.125058, -0.0778586, -0.150198, -0.0886524, -0.156087,
    -0.116904, 0.0264863, -0.045504, -0.230181, -0.209676, 0.127538, -0.0275106, -0.158036, 0.0248748, -0.117819,
    -0.155489, 0.252961, 0.0323652, -0.217081, 0.133832, 0.138124, 0.0192934, 0.167004, 0.0651959, -0.0947275,
    0.156524, 0.244385, 0.114404, -0.0688016, 0.0881307, 0.166504,
];

/// numpy: average_pooling2d same 3 s2 (TensorFlow's definition), shape [2, 2, 3, 3] (tests/reference/layers.py).
const AVERAGE_POOLING2D_SAME_3_S2: [f32; 36] = [
    0.0248499,
    0.423015,
    0.280614,
    -0.000411455,
    -0.00544992,
    -0.00352577,
    0.0391248,
    0.424381,
    0.267601,
    0.341946,
    -0.191753,
    -0.473559,
    -0.0043423,
    0.00254795,
    0.00609504,
    0.333227,
    -0.204423,
    -0.474145,
    -0.399438,
    -0.212957,
    0.23815,
    0.00516825,
    0.00265874,
    -0.00315107,
    -0.404162,
    -0.200443,
    0.251804,
    0.0956213,
    0.425039,
    0.212676,
    -0.00131931,
    -0.00546049,
    -0.00264316,
    0.109515,
    0.424001,
    0.198303,
];

/// Keras 3: global_average_pooling2d, shape [2, 3] (tests/reference/layers.py).
const GLOBAL_AVERAGE_POOLING2D: [f32; 6] = [0.0730249, 0.0714096, -0.0534962, -0.0860395, 0.0299667, 0.0942346];

/// Keras 3: global_max_pooling2d, shape [2, 3] (tests/reference/layers.py).
const GLOBAL_MAX_POOLING2D: [f32; 6] = [0.9463, 0.954285, 0.963795, 0.972216, 0.979537, 0.988439];

/// Keras 3: zero_padding2d, shape [1, 2, 6, 7] (tests/reference/layers.py).
const ZERO_PADDING2D: [f32; 84] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.564642, 0.963558, 0.909297, 0.42738, 0.0, 0.0, 0.0, -0.255541, -0.818277,
    -0.996165, -0.70554, 0.0, 0.0, 0.0, -0.0830894, 0.57844, 0.96792, 0.902172, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.412118, -0.271761, -0.827826,
    -0.994553, 0.0, 0.0, 0.0, -0.693525, -0.0663219, 0.592074, 0.972008, 0.0, 0.0, 0.0, 0.894791, 0.396741, -0.287903,
    -0.837142, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
];

/// Keras 3: up_sampling2d nearest, shape [1, 2, 6, 12] (tests/reference/layers.py).
const UP_SAMPLING2D_NEAREST: [f32; 144] = [
    0.564642, 0.564642, 0.564642, 0.963558, 0.963558, 0.963558, 0.909297, 0.909297, 0.909297, 0.42738, 0.42738,
    0.42738, 0.564642, 0.564642, 0.564642, 0.963558, 0.963558, 0.963558, 0.909297, 0.909297, 0.909297, 0.42738,
    0.42738, 0.42738, -0.255541, -0.255541, -0.255541, -0.818277, -0.818277, -0.818277, -0.996165, -0.996165,
    -0.996165, -0.70554, -0.70554, -0.70554, -0.255541, -0.255541, -0.255541, -0.818277, -0.818277, -0.818277,
    -0.996165, -0.996165, -0.996165, -0.70554, -0.70554, -0.70554, -0.0830894, -0.0830894, -0.0830894, 0.57844,
    0.57844, 0.57844, 0.96792, 0.96792, 0.96792, 0.902172, 0.902172, 0.902172, -0.0830894, -0.0830894, -0.0830894,
    0.57844, 0.57844, 0.57844, 0.96792, 0.96792, 0.96792, 0.902172, 0.902172, 0.902172, 0.412118, 0.412118, 0.412118,
    -0.271761, -0.271761, -0.271761, -0.827826, -0.827826, -0.827826, -0.994553, -0.994553, -0.994553, 0.412118,
    0.412118, 0.412118, -0.271761, -0.271761, -0.271761, -0.827826, -0.827826, -0.827826, -0.994553, -0.994553,
    -0.994553, -0.693525, -0.693525, -0.693525, -0.0663219, -0.0663219, -0.0663219, 0.592074, 0.592074, 0.592074,
    0.972008, 0.972008, 0.972008, -0.693525, -0.693525, -0.693525, -0.0663219, -0.0663219, -0.0663219, 0.592074,
    0.592074, 0.592074, 0.972008, 0.972008, 0.972008, 0.894791, 0.894791, 0.894791, 0.396741, 0.396741, 0.396741,
    -0.287903, -0.287903, -0.287903, -0.837142, -0.837142, -0.837142, 0.894791, 0.894791, 0.894791, 0.396741, 0.396741,
    0.396741, -0.287903, -0.287903, -0.287903, -0.837142, -0.837142, -0.837142,
];

/// Keras 3: up_sampling2d bilinear, shape [1, 2, 6, 12] (tests/reference/layers.py).
const UP_SAMPLING2D_BILINEAR: [f32; 144] = [
    0.564642,
    0.564642,
    0.697614,
    0.830586,
    0.963558,
    0.945471,
    0.927384,
    0.909297,
    0.748658,
    0.588019,
    0.42738,
    0.42738,
    0.359597,
    0.359597,
    0.412431,
    0.465265,
    0.518099,
    0.48971,
    0.461321,
    0.432932,
    0.336671,
    0.24041,
    0.14415,
    0.14415,
    -0.0504952,
    -0.0504952,
    -0.157936,
    -0.265377,
    -0.372818,
    -0.421812,
    -0.470805,
    -0.519799,
    -0.487303,
    -0.454807,
    -0.42231,
    -0.42231,
    -0.212428,
    -0.212428,
    -0.297985,
    -0.383541,
    -0.469098,
    -0.481113,
    -0.493128,
    -0.505144,
    -0.437966,
    -0.370789,
    -0.303612,
    -0.303612,
    -0.126202,
    -0.126202,
    -0.0077147,
    0.110773,
    0.229261,
    0.311807,
    0.394353,
    0.476899,
    0.48468,
    0.492462,
    0.500244,
    0.500244,
    -0.0830894,
    -0.0830894,
    0.13742,
    0.35793,
    0.57844,
    0.708266,
    0.838093,
    0.96792,
    0.946004,
    0.924088,
    0.902172,
    0.902172,
    0.412118,
    0.412118,
    0.184159,
    -0.0438009,
    -0.271761,
    -0.457116,
    -0.642471,
    -0.827826,
    -0.883402,
    -0.938977,
    -0.994553,
    -0.994553,
    0.135708,
    0.135708,
    0.0170047,
    -0.101698,
    -0.220401,
    -0.304551,
    -0.388701,
    -0.472851,
    -0.482872,
    -0.492892,
    -0.502913,
    -0.502913,
    -0.417114,
    -0.417114,
    -0.317303,
    -0.217492,
    -0.117682,
    0.000578466,
    0.118839,
    0.237099,
    0.318188,
    0.399278,
    0.480367,
    0.480367,
    -0.296446,
    -0.296446,
    -0.181149,
    -0.0658528,
    0.0494437,
    0.156989,
    0.264534,
    0.372079,
    0.421293,
    0.470507,
    0.51972,
    0.51972,
    0.497712,
    0.497712,
    0.425466,
    0.353221,
    0.280975,
    0.16468,
    0.0483856,
    -0.0679091,
    -0.173558,
    -0.279206,
    -0.384854,
    -0.384854,
    0.894791,
    0.894791,
    0.728774,
    0.562757,
    0.396741,
    0.168526,
    -0.0596887,
    -0.287903,
    -0.470983,
    -0.654062,
    -0.837142,
    -0.837142,
];

/// Keras 3: embedding, shape [2, 3, 4] (tests/reference/layers.py).
const EMBEDDING: [f32; 24] = [
    -0.350783, -0.871576, -0.982453, -0.631267, 0.0168139, 0.656987, 0.988168, 0.854599, 0.694165, 0.994645, 0.827328,
    0.270906, 0.644218, 0.98545, 0.863209, 0.334988, 0.644218, 0.98545, 0.863209, 0.334988, 0.845747, 0.303118,
    -0.382071, -0.887567,
];

/// Keras 3: layer_normalization last, shape [2, 3, 5] (tests/reference/layers.py).
const LAYER_NORMALIZATION_LAST: [f32; 30] = [
    0.93322, 1.84245, 1.11582, -0.452156, -1.47029, -1.0335, -1.18709, -0.293346, 0.725576, 0.999249, 1.91214, 1.67514,
    0.381233, -0.84609, -1.24154, -1.68672, -0.945739, 0.308019, 0.973552, 0.733723, 2.4336, 1.35722, -0.206188,
    -1.02967, -0.920575, -2.14234, -0.46423, 0.995914, 1.11057, 0.275974,
];

/// Keras 3: layer_normalization axis 1, shape [2, 3, 2, 2] (tests/reference/layers.py).
const LAYER_NORMALIZATION_AXIS_1: [f32; 24] = [
    1.81722, 1.38545, 0.955212, -0.273219, -1.71356, -1.80906, -1.77008, -1.17957, 0.513063, 0.965038, 1.30087,
    1.85062, -0.336964, -1.55432, -0.985639, -0.600237, -1.13084, 2.02235, 2.33576, 2.34911, 1.8637, 0.215978,
    -0.539499, -0.881549,
];

/// Keras 3: lstm return_sequences=False, shape [2, 4] (tests/reference/layers.py).
const LSTM_RETURN_SEQUENCES_FALSE: [f32; 8] =
    [0.000297763, -0.117341, 0.0974514, -0.0265932, 0.0853931, 0.0618992, -0.0961627, 0.0164379];

/// Keras 3: lstm return_sequences=True, shape [2, 5, 4] (tests/reference/layers.py).
const LSTM_RETURN_SEQUENCES_TRUE: [f32; 40] = [
    0.0517011,
    0.070846,
    -0.121772,
    -0.0212391,
    -0.0136274,
    -0.0997971,
    0.090839,
    -0.0419865,
    0.0991733,
    -0.0489703,
    0.0565634,
    0.0397185,
    0.0879713,
    0.059489,
    -0.0950953,
    0.0141325,
    0.000297763,
    -0.117341,
    0.0974514,
    -0.0265932,
    0.104788,
    -0.00680372,
    -0.0163539,
    0.0688755,
    0.0830223,
    0.0717236,
    -0.130612,
    0.0263797,
    -0.000562386,
    -0.111306,
    0.0893277,
    -0.022171,
    0.109734,
    -0.0465079,
    0.0463532,
    0.0546398,
    0.0853931,
    0.0618992,
    -0.0961627,
    0.0164379,
];

/// Keras 3: gru return_sequences=False, shape [2, 4] (tests/reference/layers.py).
const GRU_RETURN_SEQUENCES_FALSE: [f32; 8] =
    [0.225109, 0.185312, 0.363267, 0.0465306, 0.458017, 0.456625, -0.123665, 0.221781];

/// Keras 3: gru return_sequences=True, shape [2, 5, 4] (tests/reference/layers.py).
const GRU_RETURN_SEQUENCES_TRUE: [f32; 40] = [
    0.400076, 0.377224, -0.222455, 0.0900214, 0.152817, 0.191298, 0.347581, -0.0437719, 0.392021, 0.0740273, 0.14203,
    0.146174, 0.457633, 0.452979, -0.121016, 0.216776, 0.225109, 0.185312, 0.363267, 0.0465306, 0.365783, -0.0258557,
    0.0329153, 0.135763, 0.438726, 0.392033, -0.203107, 0.18022, 0.195995, 0.170573, 0.352032, 0.0245212, 0.422555,
    0.0706503, 0.130596, 0.194344, 0.458017, 0.456625, -0.123665, 0.221781,
];
