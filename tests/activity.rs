//! Keras 3's activity regularization (the `activity_regularizer` option and the
//! `ActivityRegularization` layer: the penalty on a layer's output, divided by the batch size,
//! in the trained and logged loss, in evaluate's, on frozen layers, saved and loaded) and the
//! dropout variants (`GaussianDropout`, `AlphaDropout`, `SpatialDropout1D`: identity in
//! inference, their training statistics, reproducible draws, rate checks, saving).
//! The activity numbers come from tests/reference/keras_activity.py (Keras 3.15.1, torch
//! backend).
use std::sync::Mutex;

use tch::{Device, Kind, Tensor};
use tch_keras::{
    load_model, Activation, ActivityRegularization, AlphaDropout, Bidirectional, DataFormat, Dense, Error, FitConfig,
    GaussianDropout, LayerConfig, Loss, Optimizer, Regularizer, Residual, Sequential, SpatialDropout1D, Verbosity, GRU,
};

/// Held by every test here: building a model reseeds LibTorch's process-wide generator, so a
/// test comparing two seeded runs must not overlap another test's build.
static RNG: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn vals(shape: &[i64], offset: f64, scale: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset)
        .sin()
        .g_mul_scalar(scale)
        .to_kind(Kind::Float)
        .reshape(shape)
}

fn data() -> (Tensor, Tensor) {
    (vals(&[6, 4], 0.3, 1.0), vals(&[6, 1], 1.1, 1.0) * 0.5 + 0.5)
}

/// The script's `stacked` model: Dense(3, tanh, activity L2(0.1)), Dense(2, activity
/// L1(0.05)), Dense(1, sigmoid, activity L1L2(0.02, 0.03)), its fixed weights, SGD(0.1), MSE.
fn stacked(frozen: bool) -> Sequential {
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([4])
        .add(Dense::new(3).activation(Activation::Tanh).activity_regularizer(Regularizer::l2(0.1)))
        .add(Dense::new(2).activity_regularizer(Regularizer::l1(0.05)))
        .add(Dense::new(1).activation(Activation::Sigmoid).activity_regularizer(Regularizer::l1_l2(0.02, 0.03)));
    m.build().unwrap();
    // Variables per layer: bias, then weight ([units, in]).
    let w = [
        vals(&[3], 0.9, 0.2),
        vals(&[3, 4], 0.5, 0.5),
        vals(&[2], 2.1, 0.2),
        vals(&[2, 3], 1.7, 0.5),
        vals(&[1], 3.1, 0.2),
        vals(&[1, 2], 2.9, 0.5),
    ];
    m.set_weights(&w).unwrap();
    if frozen {
        m.set_trainable(0, false).unwrap();
    }
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    m
}

/// The script's `with_layer` model: Dense(3, tanh), ActivityRegularization(0.02, 0.05),
/// Dense(1).
fn with_layer() -> Sequential {
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([4])
        .add(Dense::new(3).activation(Activation::Tanh))
        .add(ActivityRegularization::new(0.02, 0.05))
        .add(Dense::new(1));
    m.build().unwrap();
    let w = [vals(&[3], 0.9, 0.2), vals(&[3, 4], 0.5, 0.5), vals(&[1], 2.1, 0.2), vals(&[1, 3], 1.7, 0.5)];
    m.set_weights(&w).unwrap();
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    m
}

fn quiet<'a>() -> FitConfig<'a> {
    FitConfig { batch_size: 3, shuffle: false, verbose: Verbosity::Silent, ..Default::default() }
}

fn assert_near(got: &[f64], expected: &[f64], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() < 2e-5 * (1.0 + e.abs()), "{what}[{i}]: {g} vs Keras {e}\n{got:?}");
    }
}

fn weights(m: &Sequential) -> Vec<f64> {
    let parts: Vec<Tensor> = m.get_weights().unwrap().iter().map(|t| t.reshape([-1])).collect();
    Vec::<f64>::try_from(Tensor::cat(&parts, 0).to_kind(Kind::Double)).unwrap()
}

fn loss_of(logs: &tch_keras::Logs) -> f64 {
    logs.get("loss").unwrap()
}

fn scalar(t: Tensor) -> f64 {
    t.to_kind(Kind::Double).double_value(&[])
}

#[test]
fn activity_penalties_are_trained_and_logged_as_keras() {
    let _rng = serial();
    let (x, y) = data();
    let mut m = stacked(false);
    // The predictions carry no penalty: Keras's MSE of them is 0.1494927.
    let plain = scalar((m.predict(&x, 6).unwrap() - &y).square().mean(Kind::Float));
    assert_near(&[plain], &[0.1494927], "loss without the penalty");
    // Divided by each batch's size, so batches of 3 and of 4 and 2 log the same loss.
    assert_near(&[loss_of(&m.evaluate(&x, &y, 3).unwrap())], &[0.2999253], "evaluate, batch 3");
    assert_near(&[loss_of(&m.evaluate(&x, &y, 4).unwrap())], &[0.2999253], "evaluate, batch 4");
    let h = m.fit(&x, &y, FitConfig { epochs: 2, validation_data: Some((&x, &y)), ..quiet() }).unwrap();
    assert_near(&h.series("loss").unwrap(), &[0.3011179, 0.2970632], "loss");
    assert_near(&h.series("val_loss").unwrap(), &[0.2958888, 0.2918294], "val_loss");
    #[rustfmt::skip]
    let expected = [0.140212, 0.1905069, 0.1440849, 0.2388621, 0.4544168, 0.4562521, 0.243505, -0.08611164, -0.3753911, -0.4881183, -0.3712758, -0.08276933, 0.2398136, 0.4496085, 0.4479454, 0.1528939, 0.07293877, 0.4910364, 0.3364613, 0.01804883, -0.294982, -0.4972582, -0.4306792, 0.01173277, 0.1172662, -0.2185612];
    assert_near(&weights(&m), &expected, "weights after");
}

/// A frozen layer's weights stay, but the penalty on its output still counts (Keras collects
/// every layer's activity losses) and trains the layers after it.
#[test]
fn a_frozen_layer_keeps_its_activity_penalty() {
    let _rng = serial();
    let (x, y) = data();
    let mut m = stacked(true);
    assert_near(&[loss_of(&m.evaluate(&x, &y, 3).unwrap())], &[0.2999253], "evaluate");
    let h = m.fit(&x, &y, FitConfig { epochs: 1, ..quiet() }).unwrap();
    assert_near(&h.series("loss").unwrap(), &[0.3014897], "loss");
    #[rustfmt::skip]
    let expected = [0.1566654, 0.1999147, 0.149141, 0.2397128, 0.4660195, 0.47315, 0.2577507, -0.07887284, -0.3784012, -0.4999616, -0.3863823, -0.09108125, 0.2470567, 0.469, 0.4703653, 0.1627646, 0.06997251, 0.4933935, 0.3371035, 0.01941782, -0.3003592, -0.493057, -0.4361404, 0.01000342, 0.1184071, -0.2198843];
    assert_near(&weights(&m), &expected, "weights after");
}

#[test]
fn the_activity_regularization_layer_matches_keras_on_batches() {
    let _rng = serial();
    let (x, y) = data();
    let mut m = with_layer();
    assert_near(&[loss_of(&m.evaluate(&x, &y, 6).unwrap())], &[0.346215], "evaluate");
    let logs = m.train_on_batch(&x.narrow(0, 0, 3), &y.narrow(0, 0, 3)).unwrap();
    assert_near(&[loss_of(&logs)], &[0.5659806], "first train_on_batch");
    let logs = m.train_on_batch(&x.narrow(0, 3, 3), &y.narrow(0, 3, 3)).unwrap();
    assert_near(&[loss_of(&logs)], &[0.1852595], "second train_on_batch");
    #[rustfmt::skip]
    let expected = [0.1617583, 0.2006221, 0.1486616, 0.2324411, 0.4531122, 0.4606775, 0.251579, -0.09058419, -0.3798266, -0.4904306, -0.3703774, -0.08840522, 0.2451628, 0.4634269, 0.4637341, 0.247805, 0.4874401, 0.3389232, 0.02731329];
    assert_near(&weights(&m), &expected, "weights after");
    assert_near(&[loss_of(&m.test_on_batch(&x, &y).unwrap())], &[0.3068914], "test_on_batch");
    // The layer is the identity.
    let mut identity = one(ActivityRegularization::new(1.0, 1.0), &[4]);
    assert!(identity.predict(&x, 6).unwrap().equal(&x));
}

/// The penalty is on the layer's activated output even where the model applies a ReLU after
/// the max pooling that follows (the same outputs, fewer elements): here it is the sum over
/// every ReLU output of the convolution, not over the pooled ones.
#[test]
fn a_penalty_before_max_pooling_sees_every_activated_output() {
    let _rng = serial();
    let x = vals(&[2, 1, 6, 6], 0.2, 1.0);
    let y = vals(&[2, 1], 0.5, 1.0);
    let conv = |r: Option<Regularizer>| {
        let c = tch_keras::Conv2D::new(3, 3).activation(Activation::Relu);
        match r {
            Some(r) => c.activity_regularizer(r),
            None => c,
        }
    };
    let full = |r| {
        let m = Sequential::new().device(Device::Cpu).seed(4).input_shape([1, 6, 6]).add(conv(r));
        let mut m = m.add(tch_keras::MaxPooling2D::new(2)).add(tch_keras::Flatten::new()).add(Dense::new(1));
        m.compile(Optimizer::sgd(0.0), Loss::MeanSquaredError, vec![]).unwrap();
        m
    };
    let (mut plain, mut penalized) = (full(None), full(Some(Regularizer::l1(0.1))));
    let mut first = Sequential::new().device(Device::Cpu).input_shape([1, 6, 6]).add(conv(None));
    first.build().unwrap();
    first.set_weights(&penalized.get_weights().unwrap()[..2]).unwrap();
    let activated = first.predict(&x, 2).unwrap();
    let expected = 0.1 * scalar(activated.abs().sum(Kind::Double)) / 2.0;
    let (a, b) = (loss_of(&plain.evaluate(&x, &y, 2).unwrap()), loss_of(&penalized.evaluate(&x, &y, 2).unwrap()));
    assert!((b - a - expected).abs() < 1e-5 * (1.0 + expected), "{b} - {a} vs {expected}");
    let pooled = 0.1 * scalar(activated.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false).sum(Kind::Double)) / 2.0;
    assert!((expected - pooled).abs() > 1e-3, "the data must tell the two apart");
}

#[test]
fn activity_options_and_the_layer_save_and_load() {
    let _rng = serial();
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = data();
    for (i, mut m) in [stacked(false), with_layer()].into_iter().enumerate() {
        let path = dir.path().join(format!("m{i}.safetensors"));
        m.save(&path).unwrap();
        let mut back = load_model(&path, Device::Cpu).unwrap();
        assert_eq!(back.layers(), m.layers());
        let (a, b) = (m.evaluate(&x, &y, 3).unwrap(), back.evaluate(&x, &y, 3).unwrap());
        assert_eq!(loss_of(&a), loss_of(&b));
    }
    let json = serde_json::to_string(&stacked(false).layers()[0]).unwrap();
    assert!(json.contains(r#""activity_regularizer":{"class_name":"L2","config":{"l2":0.1}}"#), "{json}");
    // Left out when not set, so older files and JSON stay the same.
    let plain = serde_json::to_string(&LayerConfig::from(Dense::new(2))).unwrap();
    assert!(!plain.contains("activity"), "{plain}");
    let layer = serde_json::to_string(&LayerConfig::from(ActivityRegularization::new(0.02, 0.05))).unwrap();
    assert_eq!(layer, r#"{"class_name":"ActivityRegularization","config":{"l1":0.02,"l2":0.05}}"#);
}

fn build_error(m: Sequential) -> String {
    let mut m = m;
    let e = m.build().unwrap_err();
    assert!(matches!(e, Error::LayerShape { .. } | Error::LayerConfig { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn bad_activity_options_are_refused_with_typed_errors() {
    let _rng = serial();
    let m = || Sequential::new().device(Device::Cpu).input_shape([4]);
    for r in [Regularizer::l1(-0.1), Regularizer::l2(f64::NAN), Regularizer::l1_l2(0.1, f64::INFINITY)] {
        let e = build_error(m().add(Dense::new(2).activity_regularizer(r)));
        assert!(e.contains("Dense") && e.contains("finite and >= 0"), "{e}");
    }
    for (l1, l2) in [(-1.0, 0.0), (0.0, f64::NAN)] {
        let e = build_error(m().add(ActivityRegularization::new(l1, l2)));
        assert!(e.contains("ActivityRegularization") && e.contains("finite and >= 0"), "{e}");
    }
    // Inside a layer holding layers the penalty would not be collected: refused, saying what
    // to do instead.
    let inner = Residual::new().add(Dense::new(4).activity_regularizer(Regularizer::l2(0.1)));
    let e = build_error(m().add(inner));
    assert!(e.contains("activity_regularizer") && e.contains("ActivityRegularization"), "{e}");
    let seq = Sequential::new().device(Device::Cpu).input_shape([3, 2]);
    let e = build_error(seq.add(Bidirectional::new(GRU::new(2).activity_regularizer(Regularizer::l1(0.1)))));
    assert!(e.contains("activity_regularizer") && e.contains("ActivityRegularization"), "{e}");
}

/// A one-layer model of `layer` on per-sample `shape`, built.
fn one(layer: impl Into<LayerConfig>, shape: &[i64]) -> Sequential {
    let mut m = Sequential::new().device(Device::Cpu).input_shape(shape.to_vec()).add(layer);
    m.build().unwrap();
    m
}

fn mean_var(t: &Tensor) -> (f64, f64) {
    let t = t.to_kind(Kind::Double);
    (scalar(t.mean(Kind::Double)), scalar(t.var(false)))
}

#[test]
fn gaussian_dropout_multiplies_by_noise_of_keras_variance() {
    let _rng = serial();
    let x = Tensor::ones([4, 25_000], (Kind::Float, Device::Cpu)) * 2.0;
    let m = one(GaussianDropout::new(0.3), &[25_000]);
    assert!(m.forward_t(&x, false).unwrap().equal(&x));
    let noise = m.forward_t(&x, true).unwrap() / 2.0;
    // N(1, rate / (1 - rate)): variance 0.3 / 0.7.
    let (mean, var) = mean_var(&noise);
    assert!((mean - 1.0).abs() < 0.01 && (var - 0.3 / 0.7).abs() < 0.01, "mean {mean}, var {var}");
    assert!(LayerConfig::from(GaussianDropout::new(0.3)).draws_random());
}

#[test]
fn alpha_dropout_keeps_a_standard_normal_input_standard() {
    let _rng = serial();
    tch::manual_seed(11);
    let x = Tensor::randn([4, 25_000], (Kind::Float, Device::Cpu));
    let rate = 0.2;
    let m = one(AlphaDropout::new(rate), &[25_000]);
    assert!(m.forward_t(&x, false).unwrap().equal(&x));
    let y = m.forward_t(&x, true).unwrap();
    let (mean, var) = mean_var(&y);
    assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "mean {mean}, var {var}");
    // Keras's formula: dropped inputs become a * alpha_p + b, kept ones a * x + b.
    let alpha_p = -1.673_263_242_354_377_3 * 1.050_700_987_355_480_5;
    let a = ((1.0 - rate) * (1.0 + rate * alpha_p * alpha_p)).powf(-0.5);
    let b = -a * alpha_p * rate;
    let dropped = y.isclose(&Tensor::from(a * alpha_p + b).to_kind(Kind::Float), 1e-5, 1e-6, false);
    let fraction = scalar(dropped.to_kind(Kind::Double).mean(Kind::Double));
    assert!((fraction - rate).abs() < 0.01, "{fraction} dropped");
    let kept = (&x * a + b).to_kind(Kind::Float);
    assert!(y.where_self(&dropped.logical_not(), &kept).allclose(&kept, 1e-5, 1e-5, false));
}

#[test]
fn spatial_dropout1d_drops_whole_channels_at_every_step() {
    let _rng = serial();
    // (steps, channels) with channels-last; (channels, steps) by default.
    for (layer, shape, step_axis) in [
        (SpatialDropout1D::new(0.4).data_format(DataFormat::ChannelsLast), [20i64, 50], 1i64),
        (SpatialDropout1D::new(0.4), [50, 20], 2),
    ] {
        let x = Tensor::ones([8, shape[0], shape[1]], (Kind::Float, Device::Cpu));
        let m = one(layer, &shape);
        assert!(m.forward_t(&x, false).unwrap().equal(&x));
        let y = m.forward_t(&x, true).unwrap();
        // Each (sample, channel) is the same at every step: 0 or 1 / (1 - rate).
        let per_channel = y.amax([step_axis].as_slice(), true);
        assert!(y.equal(&per_channel.expand_as(&y)), "{layer:?}");
        let kept = per_channel.eq(1.0 / 0.6).to_kind(Kind::Double);
        let zeros = per_channel.eq(0.0).to_kind(Kind::Double);
        assert_eq!(scalar((&kept + &zeros - 1.0).abs().max()), 0.0);
        let dropped = scalar(zeros.mean(Kind::Double));
        assert!((0.3..0.5).contains(&dropped), "{dropped} of the channels dropped");
    }
    let e = build_error(Sequential::new().device(Device::Cpu).input_shape([8]).add(SpatialDropout1D::new(0.1)));
    assert!(e.contains("SpatialDropout1D") && e.contains("sequences"), "{e}");
}

/// Two epochs of SGD on the script's data through Dense(8), `layer` and Dense(1) (a
/// SpatialDropout1D sees the 8 features as one step of 8 channels).
fn fit_through(layer: &LayerConfig, seed: u64) -> Vec<f64> {
    let mut m = Sequential::new().device(Device::Cpu).seed(seed).input_shape([4]).add(Dense::new(8));
    if let LayerConfig::SpatialDropout1D(_) = layer {
        m = m.add(tch_keras::Reshape::new([1, 8]));
    }
    m = m.add(layer.clone()).add(tch_keras::Flatten::new()).add(Dense::new(1));
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    let (x, y) = data();
    m.fit(&x, &y, FitConfig { epochs: 2, ..quiet() }).unwrap();
    weights(&m)
}

#[test]
fn the_dropout_variants_draw_from_the_models_seed() {
    let _rng = serial();
    let channels_last = DataFormat::ChannelsLast;
    let layers: [(LayerConfig, LayerConfig); 3] = [
        (GaussianDropout::new(0.4).into(), GaussianDropout::new(0.0).into()),
        (AlphaDropout::new(0.4).into(), AlphaDropout::new(0.0).into()),
        (
            SpatialDropout1D::new(0.5).data_format(channels_last).into(),
            SpatialDropout1D::new(0.0).data_format(channels_last).into(),
        ),
    ];
    for (layer, off) in layers {
        let first = fit_through(&layer, 5);
        assert_eq!(first, fit_through(&layer, 5), "{layer:?}: the same seed gives the same fit");
        // The same seed (the same initial weights) without the noise: the noise moved the fit.
        assert_ne!(first, fit_through(&off, 5), "{layer:?}");
        assert!(layer.draws_random());
    }
}

#[test]
fn dropout_rates_outside_zero_to_one_are_refused() {
    let _rng = serial();
    for rate in [1.0, -0.1, f64::NAN] {
        let layers: [LayerConfig; 3] =
            [GaussianDropout::new(rate).into(), AlphaDropout::new(rate).into(), SpatialDropout1D::new(rate).into()];
        for layer in layers {
            let kind = layer.spec().kind();
            let e = build_error(Sequential::new().device(Device::Cpu).input_shape([3, 4]).add(layer));
            assert!(e.contains(kind) && e.contains("rate must be in [0, 1)"), "{e}");
        }
    }
}

#[test]
fn the_dropout_variants_save_and_load() {
    let _rng = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([6, 4])
        .add(SpatialDropout1D::new(0.25).data_format(DataFormat::ChannelsLast))
        .add(GaussianDropout::new(0.1))
        .add(AlphaDropout::new(0.05))
        .add(SpatialDropout1D::new(0.5))
        .add(tch_keras::Flatten::new())
        .add(Dense::new(1));
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    m.save(&path).unwrap();
    let mut back = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(back.layers(), m.layers());
    let x = vals(&[3, 6, 4], 0.1, 1.0);
    assert!(back.predict(&x, 3).unwrap().equal(&m.predict(&x, 3).unwrap()));
    let json: Vec<String> = m.layers().iter().map(|l| serde_json::to_string(l).unwrap()).collect();
    assert_eq!(json[0], r#"{"class_name":"SpatialDropout1D","config":{"rate":0.25,"data_format":"channels_last"}}"#);
    assert_eq!(json[1], r#"{"class_name":"GaussianDropout","config":{"rate":0.1}}"#);
    assert_eq!(json[2], r#"{"class_name":"AlphaDropout","config":{"rate":0.05}}"#);
    assert_eq!(json[3], r#"{"class_name":"SpatialDropout1D","config":{"rate":0.5}}"#);
}
