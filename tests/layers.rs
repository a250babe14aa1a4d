//! Layer shapes and parameter counts against Keras's numbers, the summary, and shape errors.
use tch_keras::{
    recipes, Activation, BatchNormalization, Conv1D, Conv2D, Dense, Dropout, Error, Flatten, MaxPooling2D, Padding,
    Reshape, Sequential, LSTM,
};

/// Output shape and parameter count of a one-layer model on `input`.
fn one(layer: impl Into<tch_keras::LayerConfig>, input: &[i64]) -> (Vec<i64>, i64) {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    let params = m.count_params().unwrap();
    (m.output_shape().unwrap(), params)
}

#[test]
fn each_layer_matches_keras_shapes_and_params() {
    // Keras: Dense(32) on (None, 784) -> (None, 32), 25,120 params.
    assert_eq!(one(Dense::new(32), &[784]), (vec![32], 25_120));
    assert_eq!(one(Dense::new(8).use_bias(false), &[4]), (vec![8], 32));
    // Conv2D(25, 4x4) on 28x28x1 -> 25x25x25, 425 params.
    assert_eq!(one(Conv2D::new(25, 4), &[1, 28, 28]), (vec![25, 25, 25], 425));
    // Conv2D(50, 5x5) on 12x12x25 -> 8x8x50, 31,300 params.
    assert_eq!(one(Conv2D::new(50, 5), &[25, 12, 12]), (vec![50, 8, 8], 31_300));
    // 'same' padding with stride 2: ceil(28 / 2) = 14; 3x3x3x16 + 16 = 448 params.
    assert_eq!(one(Conv2D::new(16, 3).strides(2).padding(Padding::Same), &[3, 28, 28]), (vec![16, 14, 14], 448));
    assert_eq!(one(Conv2D::new(4, 3).padding(Padding::Same), &[1, 7, 5]), (vec![4, 7, 5], 40));
    // MaxPooling2D(2) floors: 25 -> 12.
    assert_eq!(one(MaxPooling2D::new(2), &[25, 25, 25]), (vec![25, 12, 12], 0));
    assert_eq!(one(MaxPooling2D::new(3).strides(1), &[2, 5, 5]), (vec![2, 3, 3], 0));
    assert_eq!(one(Flatten::new(), &[50, 4, 4]), (vec![800], 0));
    assert_eq!(one(Reshape::new([1, 28, 28]), &[784]), (vec![1, 28, 28], 0));
    assert_eq!(one(Reshape::new([-1, 7]), &[2, 14]), (vec![4, 7], 0));
    assert_eq!(one(Dropout::new(0.5), &[10]), (vec![10], 0));
    assert_eq!(one(Activation::Softmax, &[10]), (vec![10], 0));
    // BatchNormalization: gamma, beta trainable; moving mean and variance not: 4 * C.
    assert_eq!(one(BatchNormalization::new(), &[16, 5, 5]), (vec![16, 5, 5], 64));
}

#[test]
fn conv_same_padding_runs_with_asymmetric_padding() {
    let mut m = Sequential::new().input_shape([1, 6, 6]).add(Conv2D::new(2, 2).strides(2).padding(Padding::Same));
    m.build().unwrap();
    let y = m.forward_t(&tch::Tensor::ones([3, 1, 6, 6], (tch::Kind::Float, tch::Device::Cpu)), false).unwrap();
    assert_eq!(y.size(), vec![3, 2, 3, 3]);
    let mut m = Sequential::new().input_shape([1, 5, 5]).add(Conv2D::new(2, 2).strides(2).padding(Padding::Same));
    m.build().unwrap();
    let y = m.forward_t(&tch::Tensor::ones([1, 1, 5, 5], (tch::Kind::Float, tch::Device::Cpu)), false).unwrap();
    assert_eq!(y.size(), vec![1, 2, 3, 3]);
}

#[test]
fn recipe_models_have_keras_parameter_counts() {
    assert_eq!(recipes::mnist_mlp().count_params().unwrap(), 25_818);
    assert_eq!(recipes::mnist_cnn().count_params().unwrap(), 39_735);
    // Keras: tests/reference/layers.py, "summary wide cnn".
    assert_eq!(recipes::wide_cnn().count_params().unwrap(), 1_867_466);
}

/// Layers are found by the names the summary shows, as Keras's `model.get_layer(name)`, and a
/// layer frozen by name counts as non-trainable.
#[test]
fn layers_are_found_by_their_summary_names() {
    let mut m = recipes::mnist_cnn();
    let names = m.layer_names();
    assert_eq!(names, ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense"]);
    let s = m.summary().unwrap();
    for (name, layer) in names.iter().zip(m.layers()) {
        assert!(s.contains(&format!("{name} ({})", layer.spec().kind())), "{name} not in\n{s}");
    }
    assert_eq!(m.layer_index("conv2d_1").unwrap(), 2);
    assert!(matches!(m.get_layer("dense").unwrap(), tch_keras::LayerConfig::Dense(d) if d.units == 10));
    let index = m.layer_index("conv2d_1").unwrap();
    m.set_trainable(index, false).unwrap();
    assert_eq!(m.is_trainable(2), Some(false));
    // Conv2D(50, 5x5) on 25 channels: 31,300 weights now frozen.
    assert!(m.summary().unwrap().contains("Non-trainable params: 31,300"));
    match m.get_layer("dense_1") {
        Err(e @ Error::InvalidArgument { .. }) => assert!(e.to_string().contains("conv2d_1"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn summary_lists_layers_and_totals() {
    let s = recipes::mnist_cnn().summary().unwrap();
    for needle in [
        "conv2d (Conv2D)",
        "(None, 25, 25, 25)",
        "max_pooling2d (MaxPooling2D)",
        "conv2d_1 (Conv2D)",
        "(None, 50, 8, 8)",
        "31,300",
        "max_pooling2d_1",
        "flatten (Flatten)",
        "(None, 800)",
        "dense (Dense)",
        "8,010",
        "Total params: 39,735",
        "Trainable params: 39,735",
        "Non-trainable params: 0",
    ] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
    let s = recipes::mnist_mlp().summary().unwrap();
    assert!(s.contains("Total params: 25,818"), "{s}");
    assert!(s.contains("dense_2 (Dense)"), "{s}");
    let mut bn = Sequential::new().input_shape([8]).add(Dense::new(4)).add(BatchNormalization::new());
    let s = bn.summary().unwrap();
    assert!(s.contains("Total params: 52") && s.contains("Non-trainable params: 8"), "{s}");
}

/// A layer label longer than the first column (`batch_normalization (BatchNormalization)`)
/// widens the column instead of pushing its row's shape and count out of line.
#[test]
fn summary_columns_stay_aligned_with_long_layer_names() {
    let mut m = Sequential::new().input_shape([8]).add(Dense::new(4)).add(BatchNormalization::new()).add(Dense::new(2));
    let s = m.summary().unwrap();
    let lines: Vec<&str> = s.lines().collect();
    let header = lines.iter().find(|l| l.contains("Output Shape")).expect("a header");
    let (shape_at, end_at) = (header.find("Output Shape").unwrap(), header.len());
    let rows: Vec<&&str> = lines.iter().filter(|l| l.contains("(None, ")).collect();
    assert_eq!(rows.len(), 3, "{s}");
    for row in rows {
        assert!(row.contains(" (BatchNormalization)") || !row.contains("batch"), "{s}");
        assert_eq!(row.find("(None, "), Some(shape_at), "shape out of its column:\n{s}");
        assert_eq!(row.len(), end_at, "count out of its column:\n{s}");
    }
    assert!(s.contains("batch_normalization (BatchNormalization)"), "{s}");
    let rule = lines.iter().find(|l| l.starts_with("====")).unwrap();
    assert_eq!(rule.len(), end_at, "rules span the table:\n{s}");
}

#[test]
fn dense_after_conv_acts_on_the_last_axis_and_fit_suggests_flatten() {
    // As Keras's, Dense applies to the last axis: here the width of channels-first images.
    let mut m = Sequential::new().input_shape([1, 28, 28]).add(Conv2D::new(4, 3)).add(Dense::new(10));
    m.build().unwrap();
    assert_eq!(m.output_shape().unwrap(), vec![4, 26, 10]);
    m.compile(tch_keras::Optimizer::adam(0.01), tch_keras::Loss::CategoricalCrossentropy, vec![]).unwrap();
    let x = tch::Tensor::zeros([2, 1, 28, 28], (tch::Kind::Float, tch::Device::Cpu));
    let y = tch::Tensor::zeros([2, 10], (tch::Kind::Float, tch::Device::Cpu));
    let config = tch_keras::FitConfig { verbose: tch_keras::Verbosity::Silent, ..Default::default() };
    let err = m.fit(&x, &y, config).unwrap_err();
    assert!(matches!(err, Error::Targets { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("(None, 4, 26, 10)") && text.contains("Flatten"), "{text}");
}

#[test]
fn other_shape_errors_name_the_layer() {
    let err = Sequential::new().input_shape([784]).add(Conv2D::new(4, 3)).build().unwrap_err();
    assert!(err.to_string().contains("layer 0 (Conv2D)"), "{err}");
    let err = Sequential::new().input_shape([1, 3, 3]).add(Conv2D::new(4, 5)).build().unwrap_err();
    assert!(err.to_string().contains("larger than the 3x3 input"), "{err}");
    let err = Sequential::new().input_shape([10]).add(Reshape::new([3, 3])).build().unwrap_err();
    assert!(err.to_string().contains("layer 0 (Reshape)"), "{err}");
    let err = Sequential::new().input_shape([10]).add(Dense::new(0)).build().unwrap_err();
    assert!(err.to_string().contains("units must be positive"), "{err}");
    let err = Sequential::new().input_shape([10]).add(Dropout::new(1.5)).build().unwrap_err();
    assert!(err.to_string().contains("rate must be in [0, 1)"), "{err}");
    let err = Sequential::new().input_shape([10]).build().unwrap_err();
    assert!(err.to_string().contains("no layers"), "{err}");
    // Keras applies Dense to the last axis of a sequence, as tch-keras does; Keras's
    // BatchNormalization normalizes the last axis by default, tch-keras refuses and says what to
    // use instead.
    let mut m = Sequential::new().input_shape([5, 3]).add(LSTM::new(4).return_sequences(true)).add(Dense::new(2));
    m.build().unwrap();
    assert_eq!(m.output_shape().unwrap(), vec![5, 2]);
    let mut m = Sequential::new().input_shape([2, 9]).add(Conv1D::new(4, 3)).add(BatchNormalization::new());
    let err = m.build().unwrap_err().to_string();
    assert!(err.contains("(None, 4, 7)") && err.contains("Reshape([4, 7, 1])"), "{err}");
    let mut fixed = Sequential::new().input_shape([2, 9]).add(Conv1D::new(4, 3)).add(Reshape::new([4, 7, 1]));
    fixed.push(BatchNormalization::new());
    fixed.build().unwrap();
}

#[test]
fn kernels_are_glorot_uniform_and_biases_zero() {
    let mut m = Sequential::new().input_shape([784]).add(Dense::new(32));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layers.0.bias", "layers.0.weight"]);
    let w = &vars[1].1;
    let limit = (6.0f64 / (784.0 + 32.0)).sqrt();
    let max = w.abs().max().double_value(&[]);
    assert!(max <= limit && max > 0.9 * limit, "max |w| {max}, limit {limit}");
    // Uniform on [-l, l] has standard deviation l / sqrt(3).
    let std = w.std(true).double_value(&[]);
    assert!((std - limit / 3f64.sqrt()).abs() < 0.05 * limit, "std {std}");
    assert_eq!(vars[0].1.abs().sum(tch::Kind::Float).double_value(&[]), 0.0);
}

#[test]
fn dropout_and_batch_norm_follow_the_train_flag() {
    let mut m = Sequential::new().input_shape([1000]).add(Dropout::new(0.5));
    m.build().unwrap();
    let x = tch::Tensor::ones([4, 1000], (tch::Kind::Float, tch::Device::Cpu));
    let eval = m.forward_t(&x, false).unwrap();
    assert_eq!(eval.sum(tch::Kind::Float).double_value(&[]), 4000.0);
    let train = m.forward_t(&x, true).unwrap();
    let zeros = train.eq(0.0).sum(tch::Kind::Float).double_value(&[]);
    assert!((1500.0..2500.0).contains(&zeros), "{zeros} of 4000 dropped");
    // Kept units are scaled by 1 / (1 - rate).
    assert_eq!(train.max().double_value(&[]), 2.0);

    let mut bn = Sequential::new().input_shape([3]).add(BatchNormalization::new());
    bn.build().unwrap();
    let x = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0, 3.0, 6.0, 9.0]).reshape([2, 3]);
    let train = bn.forward_t(&x, true).unwrap();
    // Batch statistics: each column becomes (-1, 1) up to epsilon.
    let col = Vec::<f32>::try_from(train.select(1, 0)).unwrap();
    assert!((col[0] + 1.0).abs() < 1e-2 && (col[1] - 1.0).abs() < 1e-2, "{col:?}");
    // Moving statistics after one update with Keras's momentum 0.99: mean 0.01 * 2 = 0.02,
    // variance 0.99 * 1 + 0.01 * 1 (the biased batch variance of 1 and 3, as Keras) = 1.0.
    let eval = bn.forward_t(&x, false).unwrap();
    let first = eval.double_value(&[0, 0]);
    assert!((first - (1.0 - 0.02) / (1.0f64 + 0.001).sqrt()).abs() < 1e-4, "{first}");
}

/// `sin(0.7 * i + offset) * scale` over `shape`, as tests/reference/layers.py draws inputs.
fn vals(shape: &[i64], offset: f64, scale: f64) -> tch::Tensor {
    let n: i64 = shape.iter().product();
    (tch::Tensor::arange(n, (tch::Kind::Double, tch::Device::Cpu)) * 0.7 + offset)
        .sin()
        .g_mul_scalar(scale)
        .to_kind(tch::Kind::Float)
        .reshape(shape)
}

fn assert_close(got: &tch::Tensor, expected: &[f32], what: &str) {
    let got = Vec::<f32>::try_from(got.reshape([-1])).unwrap();
    assert_eq!(got.len(), expected.len(), "{what}");
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() <= 1e-5 + 1e-4 * e.abs(), "{what}: got {got:?}, Keras {expected:?}");
    }
}

/// Two training passes through `first` then BatchNormalization, then one inference pass: the
/// moving mean, moving variance and inference output.
fn batch_norm_after(
    first: impl Into<tch_keras::LayerConfig>,
    x: &tch::Tensor,
    weights: [tch::Tensor; 2],
    momentum: f64,
) -> [tch::Tensor; 3] {
    let bn = BatchNormalization { momentum, ..Default::default() };
    let mut m = Sequential::new().input_shape(x.size()[1..].to_vec()).add(first).add(bn);
    m.build().unwrap();
    let vars = m.variables().unwrap();
    // layers.0.bias, layers.0.weight: [bias, weight] as given.
    for ((_, var), value) in vars.iter().zip(&weights) {
        tch::no_grad(|| var.shallow_clone().copy_(value));
    }
    for _ in 0..2 {
        let _ = m.forward_t(x, true).unwrap();
    }
    let stat = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.shallow_clone();
    [stat("layers.1.running_mean"), stat("layers.1.running_var"), m.forward_t(x, false).unwrap()]
}

#[test]
fn batch_norm_moving_statistics_follow_keras() {
    // Keras 3 (torch backend), printed by tests/reference/layers.py ("batch_norm momentum=...").
    let x = vals(&[4, 2], 2.2, 2.0);
    let [mean, var, y] = batch_norm_after(Dense::new(3), &x, [vals(&[3], 2.4, 0.5), vals(&[3, 2], 2.3, 0.8)], 0.99);
    assert_close(&mean, &[0.00333292, 0.00619996, -0.000733108], "dense moving_mean");
    assert_close(&var, &[0.995836, 1.02032, 1.01616], "dense moving_variance");
    assert_close(
        &y,
        &[
            1.35521, -1.02421, -1.66644, -0.401083, 1.76593, 1.02262, -0.935543, 1.64848, 1.51171, 0.639064, -1.18158,
            -1.01109,
        ],
        "dense inference",
    );
    let x = vals(&[2, 1, 4, 4], 2.5, 2.0);
    let [mean, var, y] =
        batch_norm_after(Conv2D::new(2, 3), &x, [vals(&[2], 2.7, 0.5), vals(&[2, 1, 3, 3], 2.6, 0.7)], 0.9);
    assert_close(&mean, &[-0.00153086, -0.0643612], "conv moving_mean");
    assert_close(&var, &[4.25489, 4.21492], "conv moving_variance");
    assert_close(
        &y,
        &[
            1.98399, 0.235564, -2.34606, -0.944546, 1.87227, 0.138133, -2.4931, -1.11254, 2.47158, 2.83539, -1.6475,
            -2.61372, 2.31103, 2.69964, -1.74904, -2.73546,
        ],
        "conv inference",
    );
}

/// The small CNN of tests/reference/layers.py ("training a small CNN end to end"), with its
/// starting weights.
fn small_cnn() -> Sequential {
    let mut m = Sequential::new()
        .device(tch::Device::Cpu)
        .input_shape([1, 6, 6])
        .add(Conv2D::new(3, 4).padding(Padding::Same).activation(Activation::Relu))
        .add(BatchNormalization::new())
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .add(Dense::new(4).activation(Activation::Softmax));
    let metrics = vec![tch_keras::Metric::accuracy()];
    m.compile(tch_keras::Optimizer::adam(0.01), tch_keras::Loss::SparseCategoricalCrossentropy, metrics).unwrap();
    let vars = m.variables().unwrap();
    for (name, value) in [
        ("layers.0.weight", vals(&[3, 1, 4, 4], 5.1, 0.5)),
        ("layers.0.bias", vals(&[3], 5.2, 0.1)),
        ("layers.4.weight", vals(&[4, 27], 5.3, 0.3)),
        ("layers.4.bias", vals(&[4], 5.4, 0.1)),
    ] {
        let (_, var) = vars.iter().find(|(n, _)| n == name).unwrap();
        tch::no_grad(|| var.shallow_clone().copy_(&value));
    }
    m
}

#[test]
fn a_small_cnn_trains_as_keras_does() {
    // Keras 3 (torch backend): 'same' convolution with an even kernel, ReLU, BatchNormalization
    // in training and inference, max pooling, Adam, a partial last batch, validation.
    let mut m = small_cnn();
    let x = vals(&[10, 1, 6, 6], 5.0, 1.0);
    let y = tch::Tensor::from_slice(&[0i64, 1, 2, 3, 0, 1, 2, 3, 1, 2]);
    let (vx, vy) = (x.narrow(0, 0, 5), y.narrow(0, 0, 5));
    let config = tch_keras::FitConfig {
        batch_size: 4,
        epochs: 2,
        shuffle: false,
        verbose: tch_keras::Verbosity::Silent,
        validation_data: Some((&vx, &vy)),
        ..Default::default()
    };
    let h = m.fit(&x, &y, config).unwrap();
    for (key, keras) in [
        ("accuracy", [0.200000003, 0.300000012]),
        ("loss", [1.38362336, 1.33006346]),
        ("val_accuracy", [0.200000003, 0.200000003]),
        ("val_loss", [1.41182375, 1.45841384]),
    ] {
        let got = h.series(key).unwrap();
        assert!(got.iter().zip(keras).all(|(g, k)| (g - k).abs() < 1e-5), "{key}: got {got:?}, Keras {keras:?}");
    }
    let var = |name: &str| m.variables().unwrap().iter().find(|(n, _)| n == name).unwrap().1.shallow_clone();
    let kernel = [
        -0.436077, -0.208078, 0.113274, 0.376981, 0.497711, 0.367446, 0.0652258, -0.271418, -0.500863, -0.480383,
        -0.228147, 0.139512, 0.408322, 0.505676, 0.364612, 0.0323112, -0.268413, -0.486057, -0.49055, -0.238914,
        0.162216, 0.448126, 0.523296, 0.35256, -0.0117857, -0.246567, -0.46739, -0.416687, -0.246787, 0.0933534,
        0.39964, 0.489827, 0.340257, 0.0547663, -0.290685, -0.476812, -0.432433, -0.193895, 0.133051, 0.431728,
        0.486914, 0.358163, 0.015396, -0.310559, -0.497261, -0.460804, -0.201503, 0.154878,
    ];
    assert_close(&var("layers.0.weight").contiguous(), &kernel, "conv kernel");
    assert_close(&var("layers.0.bias"), &[-0.074889, -0.0565727, 0.0407218], "conv bias");
    assert_close(&var("layers.1.weight"), &[0.965935, 0.990721, 0.996519], "gamma");
    assert_close(&var("layers.1.bias"), &[-0.0210481, 0.0126676, -0.0225443], "beta");
    assert_close(&var("layers.1.running_mean"), &[0.0189029, 0.0231113, 0.0119471], "moving_mean");
    assert_close(&var("layers.1.running_var"), &[0.951777, 0.958049, 0.947106], "moving_variance");
    assert_close(&var("layers.4.bias"), &[-0.0959242, -0.00770821, 0.0700044, 0.081991], "dense bias");
    let predicted = m.predict(&x.narrow(0, 0, 2), 32).unwrap();
    let keras = [0.208066, 0.338959, 0.285826, 0.167149, 0.204222, 0.335863, 0.290314, 0.169601];
    assert_close(&predicted, &keras, "predict");
}

#[test]
fn relu_before_pooling_is_computed_after_it_with_identical_values_and_gradients() {
    // The model defers a ReLU that precedes max pooling; compare with the literal order.
    let mut m = Sequential::new()
        .input_shape([2, 6, 6])
        .add(Conv2D::new(3, 3).activation(Activation::Relu))
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .seed(4);
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let (b, w) = (&vars[0].1, &vars[1].1);
    tch::manual_seed(1);
    let x = tch::Tensor::randn([5, 2, 6, 6], (tch::Kind::Float, tch::Device::Cpu));
    let literal = x
        .conv2d(w, Some(b), [1, 1], [0, 0], [1, 1], 1)
        .relu()
        .max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
        .flatten(1, -1);
    let ours = m.forward_t(&x, true).unwrap();
    assert!(ours.equal(&literal));
    let g_literal = tch::Tensor::run_backward(&[literal.sum(tch::Kind::Float)], &[w, b], false, false);
    let g_ours = tch::Tensor::run_backward(&[ours.sum(tch::Kind::Float)], &[w, b], false, false);
    for (a, b) in g_literal.iter().zip(&g_ours) {
        assert!(a.equal(b), "gradients differ");
    }
}
