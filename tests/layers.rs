//! Layer shapes and parameter counts against Keras's numbers, the summary, and shape errors.
use tch_keras::{
    recipes, Activation, BatchNormalization, Conv2D, Dense, Dropout, Error, Flatten, MaxPooling2D, Padding, Reshape,
    Sequential,
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

#[test]
fn dense_after_conv_is_a_shape_error_suggesting_flatten() {
    let mut m = Sequential::new().input_shape([1, 28, 28]).add(Conv2D::new(4, 3)).add(Dense::new(10));
    let err = m.build().unwrap_err();
    match &err {
        Error::LayerShape { index, layer, input, message } => {
            assert_eq!((*index, *layer), (1, "Dense"));
            assert_eq!(input, "(None, 4, 26, 26)");
            assert!(message.contains("Flatten"), "{message}");
        }
        other => panic!("expected a LayerShape error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("layer 1 (Dense)") && text.contains("(None, 4, 26, 26)"), "{text}");
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
    // Running statistics after one update with Keras's momentum 0.99: mean 0.01 * 2 = 0.02,
    // variance 0.99 * 1 + 0.01 * 2 (unbiased batch variance of 1 and 3) = 1.01.
    let eval = bn.forward_t(&x, false).unwrap();
    let first = eval.double_value(&[0, 0]);
    assert!((first - (1.0 - 0.02) / (1.01f64 + 0.001).sqrt()).abs() < 1e-4, "{first}");
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
