//! `Normalization` with `adapt` against Keras 3's numbers (tests/reference/normalization.py):
//! statistics, output, parameter counts, saving, and the data `adapt` refuses.
use tch::{Device, Kind, Tensor};
use tch_keras::{load_model, Dense, Error, Normalization, Sequential};

/// The (6, 3) data the reference script adapts to.
fn data() -> Tensor {
    let v = [1., 2., 30., 2., 4., 10., 3., 6., 20., 4., 9., 40., 5., 1., 50., 9., 3., 0.];
    Tensor::from_slice(&v).to_kind(Kind::Float).reshape([6, 3])
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).reshape([-1])).unwrap()
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol * w.abs().max(1.0), "{got:?} vs {want:?}");
    }
}

fn variable(model: &Sequential, name: &str) -> Vec<f64> {
    let vars = model.variables().unwrap();
    values(&vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1)
}

fn adapted_model() -> Sequential {
    let norm = Normalization::new().adapt(&data()).unwrap();
    let mut model = Sequential::new().input_shape([3]).add(norm).add(Dense::new(2));
    model.build().unwrap();
    model
}

#[test]
fn adapt_matches_keras_statistics_output_and_param_counts() {
    let mut model = adapted_model();
    // normalization.py: mean, variance (biased) of each column.
    close(&variable(&model, "layers.0.mean"), &[4.0, 4.166666507720947, 25.0], 1e-6);
    close(&variable(&model, "layers.0.variance"), &[6.666666507720947, 7.138888835906982, 291.6666564941406], 1e-6);
    // Keras leaves its `count` at 0; here it holds the values each statistic saw.
    assert_eq!(variable(&model, "layers.0.count"), vec![6.0]);
    let q = Tensor::from_slice(&[0f32, 5., 25., 10., -1., 60.]).reshape([2, 3]);
    // The layer's own output: a model of the adapted layer alone.
    let mut alone = Sequential::new().input_shape([3]).add(Normalization::new().adapt(&data()).unwrap());
    let out = alone.predict(&q, 2).unwrap();
    let want =
        [-1.5491933822631836, 0.31189149618148804, 0.0, 2.3237900733947754, -1.9337267875671387, 2.0493903160095215];
    close(&values(&out), &want, 1e-5);
    // Keras: params 15, non_trainable 7 (mean 3 + variance 3 + count 1; Dense's 8 trainable).
    assert_eq!(model.count_params().unwrap(), 15);
    let summary = model.summary().unwrap();
    assert!(summary.contains("normalization (Normalization)"), "{summary}");
    assert!(summary.contains("Non-trainable params: 7"), "{summary}");
    assert!(summary.contains("Trainable params: 8"), "{summary}");
}

#[test]
fn channels_first_axis_and_global_statistics_match_keras() {
    // (2, 2, 2, 3): channels-first images, per-channel statistics with axis 1.
    let img = Tensor::arange(24, (Kind::Float, Device::Cpu)).pow_tensor_scalar(1.5).reshape([2, 2, 2, 3]);
    let mut m = Sequential::new().input_shape([2, 2, 3]).add(Normalization::new().axis(1).adapt(&img).unwrap());
    m.build().unwrap();
    close(&variable(&m, "layers.0.mean"), &[30.101423263549805, 59.10891342163086], 1e-6);
    close(&variable(&m, "layers.0.variance"), &[700.4043579101562, 1247.6363525390625], 1e-5);
    assert_eq!(m.count_params().unwrap(), 5);
    // axis=None: one mean and variance.
    let mut g = Sequential::new().input_shape([3]).add(Normalization::new().global().adapt(&data()).unwrap());
    g.build().unwrap();
    close(&variable(&g, "layers.0.mean"), &[11.05555534362793], 1e-6);
    close(&variable(&g, "layers.0.variance"), &[199.05247497558594], 1e-6);
    assert_eq!(g.count_params().unwrap(), 3);
}

#[test]
fn given_statistics_are_no_variables_and_a_zero_variance_divides_by_epsilon() {
    let layer = Normalization::new().with_statistics([1., 2., 3.], [4., 0., 1.]);
    let mut m = Sequential::new().input_shape([3]).add(layer);
    // Keras: given_params 0, given_out [[1.0, 5000000.0, 2.0]].
    assert_eq!(m.count_params().unwrap(), 0);
    let out = m.predict(&Tensor::from_slice(&[3f32, 2.5, 5.]).reshape([1, 3]), 1).unwrap();
    close(&values(&out), &[1.0, 5_000_000.0, 2.0], 1e-6);
    // Given statistics are configuration: saved in the model's JSON and back after loading.
    let given = Normalization::new().with_statistics([1., 2., 3.], [4., 0., 1.]);
    let mut m = Sequential::new().input_shape([3]).add(given).add(Dense::new(2));
    let x = Tensor::from_slice(&[3f32, 2.5, 5.]).reshape([1, 3]);
    let out = m.predict(&x, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("given.safetensors");
    m.save(&path).unwrap();
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers()[0], m.layers()[0]);
    assert!(loaded.predict(&x, 1).unwrap().allclose(&out, 0.0, 0.0, false));
    let mut bad = Sequential::new().input_shape([4]).add(Normalization::new().with_statistics([1., 2.], [1., 1.]));
    assert!(matches!(bad.build(), Err(Error::LayerShape { .. })), "two values for four features is refused");
}

#[test]
fn adapt_after_building_and_save_load_keep_the_statistics() {
    let mut model = Sequential::new().input_shape([3]).add(Normalization::new()).add(Dense::new(2));
    model.build().unwrap();
    assert_eq!(variable(&model, "layers.0.mean"), vec![0.0; 3]);
    model.adapt_layer(0, &data()).unwrap();
    close(&variable(&model, "layers.0.variance"), &[6.666666507720947, 7.138888835906982, 291.6666564941406], 1e-6);
    let q = Tensor::from_slice(&[0f32, 5., 25., 10., -1., 60.]).reshape([2, 3]);
    let before = model.predict(&q, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("norm.safetensors");
    model.save(&path).unwrap();
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    close(&variable(&loaded, "layers.0.mean"), &[4.0, 4.166666507720947, 25.0], 1e-6);
    assert!(loaded.predict(&q, 2).unwrap().allclose(&before, 1e-6, 1e-6, false));
    // A layer that is not a Normalization is refused.
    assert!(matches!(model.adapt_layer(1, &data()), Err(Error::InvalidArgument { .. })));
}

#[test]
fn bad_adapt_data_is_a_typed_error() {
    let nan = Tensor::from_slice(&[1f32, f32::NAN, 3., 4.]).reshape([2, 2]);
    for (data, what) in [
        (nan, "NaN"),
        (Tensor::zeros([0, 3], (Kind::Float, Device::Cpu)), "no values"),
        (Tensor::ones([4], (Kind::Float, Device::Cpu)), "2-D"),
    ] {
        match Normalization::new().adapt(&data) {
            Err(e @ Error::LayerConfig { .. }) => assert!(e.to_string().contains(what), "{e}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    // Four features adapted, three in the model: refused when built, or by adapt_layer.
    let four = Tensor::ones([5, 4], (Kind::Float, Device::Cpu));
    let mut m = Sequential::new().input_shape([3]).add(Normalization::new().adapt(&four).unwrap());
    let e = m.build().unwrap_err();
    assert!(e.to_string().contains("adapt saw 4 values"), "{e}");
    let mut m = Sequential::new().input_shape([3]).add(Normalization::new());
    m.build().unwrap();
    let e = m.adapt_layer(0, &four).unwrap_err();
    assert!(e.to_string().contains("adapt saw 4 values"), "{e}");
    let mut given = Sequential::new().input_shape([3]).add(Normalization::new().with_statistics([0.], [1.]));
    assert!(matches!(given.adapt_layer(0, &data()), Err(Error::InvalidArgument { .. })));
}
