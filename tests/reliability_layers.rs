//! Bad options of the layers, given through the API or in a crafted model file, end in typed
//! errors naming the option when the model is built or loaded, never in a panic or LibTorch's
//! text.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};
use tch_keras::ZeroPadding1D;
use tch_keras::{
    load_model, AveragePooling1D, Dense, Initializer, LayerConfig, MaxPooling1D, Padding, Sequential, ELU,
};
use tch_keras::{Bidirectional, Conv2DTranspose, Embedding, Regularizer, RepeatVector, SimpleRNN, UpSampling1D};
use tch_keras::{FillMode, LeakyReLU, PReLU, RandomBrightness, RandomContrast, RandomZoom, ReLU, Rescaling};

#[path = "common/files.rs"]
mod files;
use files::edit_description;

/// Builds a model of `layers` on per-sample `input` and runs it on a batch in training and in
/// inference mode, failing the test on a panic; the error, if any.
fn build_and_step(input: &[i64], layers: Vec<LayerConfig>) -> Option<tch_keras::Error> {
    let run = || -> tch_keras::Result<()> {
        let mut m = Sequential::new().device(Device::Cpu).input_shape(input.to_vec()).seed(1);
        for l in layers {
            m = m.add(l);
        }
        m.build()?;
        let x = Tensor::rand([2].iter().chain(input).copied().collect::<Vec<_>>(), (Kind::Float, Device::Cpu));
        let _ = m.forward_t(&x, true)?;
        let _ = m.forward_t(&x, false)?;
        Ok(())
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| panic!("building or running the model panicked")).err()
}

/// Asserts `error` is the crate's own (no LibTorch text) and mentions every needle.
fn assert_names(what: &str, error: Option<tch_keras::Error>, needles: &[&str]) {
    let Some(e) = error else { panic!("{what}: accepted") };
    let text = e.to_string();
    assert!(!matches!(e, tch_keras::Error::Torch(_)) && !text.contains("LibTorch"), "{what}: {text}");
    for needle in needles {
        assert!(text.contains(needle), "{what}: {needle:?} not in {text}");
    }
}

/// `load_model` on a copy of `good` whose description is edited, failing the test on a panic.
fn load_edited(dir: &Path, good: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> tch_keras::Result<Sequential> {
    let path = dir.join(format!("{name}.safetensors"));
    edit_description(good, &path, edit);
    catch_unwind(AssertUnwindSafe(|| {
        let mut m = load_model(&path, Device::Cpu)?;
        let _ = m.predict(&Tensor::rand([2, 4], (Kind::Float, Device::Cpu)), 2)?;
        Ok(m)
    }))
    .unwrap_or_else(|_| panic!("load_model or predict panicked on {name}"))
}

#[test]
fn activation_options_beyond_float32_are_refused_by_name() {
    // LibTorch refuses a clamp bound beyond float32 and tch panicked on its error.
    let cases: [(&str, LayerConfig, &str); 7] = [
        ("relu max_value", ReLU::new().max_value(1e300).into(), "max_value"),
        ("relu threshold", ReLU::new().max_value(1.0).threshold(1e39).into(), "threshold"),
        ("relu negative_slope", ReLU::new().negative_slope(1e300).into(), "negative_slope"),
        ("leaky negative_slope", LeakyReLU::new().negative_slope(1e300).into(), "negative_slope"),
        ("elu alpha", ELU::new().alpha(-1e300).into(), "alpha"),
        ("rescaling", Rescaling::new(1.0).offset(1e300).into(), "offset"),
        ("prelu alpha", PReLU::new().alpha_initializer(1e300).into(), "alpha_initializer"),
    ];
    for (what, layer, option) in cases {
        assert_names(what, build_and_step(&[4], vec![layer]), &["layer 0", option, "float32"]);
    }
    // The largest float32 values are taken.
    let max = f64::from(f32::MAX);
    assert!(build_and_step(&[4], vec![ReLU::new().max_value(max).threshold(1.0).into()]).is_none());
    assert!(build_and_step(&[4], vec![Rescaling::new(max).into()]).is_none());

    // A saved ReLU(max_value=2) edited to 1e300 is refused by load_model.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    let mut m = Sequential::new().input_shape([4]).add(ReLU::new().max_value(2.0)).add(Dense::new(2));
    m.build().unwrap();
    m.save(&good).unwrap();
    let e = load_edited(dir.path(), &good, "relu", |j| j["layers"][0]["config"]["max_value"] = json!(1e300));
    assert_names("edited file", e.err(), &["layers[0] (ReLU)", "max_value", "float32"]);
}

#[test]
fn augmentation_values_beyond_float32_are_refused_by_name() {
    let image = [1, 4, 4];
    let max = f64::MAX;
    // The value range bounds a clamp, which tch panicked on beyond float32.
    let cases: [(&str, LayerConfig, &str); 3] = [
        ("brightness", RandomBrightness::new(0.5).value_range(-max, max).into(), "value_range"),
        ("contrast", RandomContrast::new(0.5).value_range(0.0, 1e300).into(), "value_range"),
        ("zoom fill", RandomZoom::new(0.5).fill_mode(FillMode::Constant).fill_value(-1e300).into(), "fill_value"),
    ];
    for (what, layer, option) in cases {
        assert_names(what, build_and_step(&image, vec![layer]), &["layer 0", option, "float32"]);
    }
    let f32_max = f64::from(f32::MAX);
    assert!(build_and_step(&image, vec![RandomBrightness::new(0.5).value_range(-f32_max, f32_max).into()]).is_none());
}

#[test]
fn initializer_values_beyond_float32_are_refused_by_name() {
    use tch_keras::initializers::{Distribution, FanMode};
    let dense = |init: Initializer| -> LayerConfig { Dense::new(3).kernel_initializer(init).into() };
    // A constant beyond float32 panicked in tch's fill; the uniform ranges were LibTorch's
    // "from is out of bounds for float" and "expects to-from <= std::numeric_limits<Float>::max()".
    let cases: [(&str, Initializer, &str); 6] = [
        ("constant", Initializer::constant(1e300), "value"),
        ("uniform wide", Initializer::random_uniform(-1e308, 1e308), "minval"),
        ("uniform f32 wide", Initializer::random_uniform(-3e38, 3e38), "apart"),
        ("normal", Initializer::random_normal(0.0, 1e300), "stddev"),
        ("orthogonal", Initializer::orthogonal(-1e300), "gain"),
        ("variance scaling", Initializer::variance_scaling(1e300, FanMode::FanIn, Distribution::Uniform), "scale"),
    ];
    for (what, init, option) in cases {
        assert_names(what, build_and_step(&[4], vec![dense(init)]), &["layer 0", option, "float32"]);
    }
    assert!(build_and_step(&[4], vec![dense(Initializer::random_uniform(-1e38, 1e38))]).is_none());

    // A saved Dense whose bias initializer is edited to a constant of 1e300 is refused by
    // load_model (the layer is built from its description before the weights are read).
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(2).bias_initializer(Initializer::constant(0.5)));
    m.build().unwrap();
    m.save(&good).unwrap();
    let e = load_edited(dir.path(), &good, "constant", |j| {
        j["layers"][0]["config"]["bias_initializer"]["config"]["value"] = json!(1e300)
    });
    assert_names("edited file", e.err(), &["Dense", "value", "float32"]);
}

#[test]
fn same_padded_1d_pools_longer_than_the_input_do_not_pad_to_their_length() {
    // A pool of 2^31 - 1 steps (the most a model file may hold) with padding 'same' padded each
    // 8-step channel to 2^31 steps, 8 GiB, at the first batch.
    let x = Tensor::rand([2, 3, 8], (Kind::Float, Device::Cpu));
    let huge = i64::from(i32::MAX);
    let run = |layer: LayerConfig| {
        let mut m = Sequential::new().device(Device::Cpu).input_shape([3, 8]).add(layer);
        m.build().unwrap();
        m.forward_t(&x, false).unwrap()
    };
    let max = run(MaxPooling1D::new(huge).strides(3).padding(Padding::Same).into());
    let mean = run(AveragePooling1D::new(huge).strides(3).padding(Padding::Same).into());
    // Every window covers the whole input: three copies of the global max and mean.
    assert_eq!(max.size(), [2, 3, 3]);
    assert_eq!(mean.size(), [2, 3, 3]);
    let global_max = x.amax([2].as_slice(), true).expand([2, 3, 3], false);
    let global_mean = x.mean_dim([2].as_slice(), true, None).expand([2, 3, 3], false);
    assert!(max.allclose(&global_max, 0.0, 0.0, false), "{max} vs {global_max}");
    assert!(mean.allclose(&global_mean, 1e-5, 1e-6, false), "{mean} vs {global_mean}");
    // A pool just longer than the input still pads as TensorFlow's 'same' does: 7 cells, 3
    // before, so the windows of 9 with stride 3 hold steps [0, 6), [0, 8) and [3, 8).
    let x1 = Tensor::arange(8, (Kind::Float, Device::Cpu)).view([1, 1, 8]);
    let mut m = Sequential::new().device(Device::Cpu).input_shape([1, 8]);
    m = m.add(AveragePooling1D::new(9).strides(3).padding(Padding::Same));
    m.build().unwrap();
    let y = m.forward_t(&x1, false).unwrap();
    let expected = Tensor::from_slice(&[2.5f32, 3.5, 5.0]).view([1, 1, 3]);
    assert!(y.allclose(&expected, 1e-6, 1e-6, false), "{y}");
    assert!(files::peak_rss_kib() < 4 << 20, "peak RSS {} KiB", files::peak_rss_kib());
}

#[test]
fn outputs_beyond_what_a_model_file_may_hold_are_refused_when_built() {
    // Each shape passed and LibTorch's allocator failed on the first batch ("can't allocate
    // memory: you tried to allocate 35184372088832 bytes"); load_model refuses such a model.
    let big = 1i64 << 40;
    let cases: [(&str, &[i64], LayerConfig, &str); 4] = [
        ("repeat", &[4], RepeatVector::new(big).into(), "(None, 1099511627776, 4)"),
        ("upsampling", &[2, 8], UpSampling1D::new(big).into(), "(None, 2, 8796093022208)"),
        ("padding", &[2, 8], ZeroPadding1D::new(big, 0).into(), "(None, 2, 1099511627784)"),
        ("transpose", &[1, 4, 4], Conv2DTranspose::new(1, 2).strides((1 << 30, 1)).into(), "(None, 1, 4294967296, 5)"),
    ];
    for (what, input, layer, shape) in cases {
        let kind = layer.spec().kind();
        assert_names(what, build_and_step(input, vec![layer]), &["layer 0", kind, shape, "values per sample"]);
    }
    // At the bound: 2^31 values per sample are taken (shapes only; nothing is allocated).
    let m = Sequential::new().add(RepeatVector::new(1 << 29));
    assert_eq!(m.output_shapes(&[4]).unwrap(), [vec![1 << 29, 4]]);
}

#[test]
fn bad_initializer_and_regularizer_options_are_refused_with_the_shapes() {
    // They were checked only when the weights were drawn: output_shapes and summary took them,
    // and load_model's check of an edited description let them through to the build, whose
    // error named neither the file nor (inside Bidirectional) the layer.
    let bad_init = Initializer::random_uniform(1.0, -1.0);
    let m = Sequential::new().add(Dense::new(3).kernel_regularizer(Regularizer::l2(-1.0)));
    assert_names("dense", m.output_shapes(&[4]).err(), &["layer 0 (Dense)", "regularizer", "-1"]);
    let m = Sequential::new().add(Bidirectional::new(SimpleRNN::new(2).kernel_initializer(bad_init)));
    assert_names("bidirectional", m.output_shapes(&[3, 2]).err(), &["layer 0 (Bidirectional)", "minval"]);
    let m = Sequential::new().add(Embedding::new(5, 2).embeddings_initializer(Initializer::constant(f64::NAN)));
    assert_names("embedding", m.output_shapes(&[3]).err(), &["layer 0 (Embedding)", "NaN"]);

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(2));
    m.build().unwrap();
    m.save(&good).unwrap();
    let uniform = json!({"class_name": "RandomUniform", "config": {"minval": 1.0, "maxval": -1.0}});
    let e = load_edited(dir.path(), &good, "init", |j| j["layers"][0]["config"]["kernel_initializer"] = uniform);
    assert_names(
        "edited initializer",
        e.err(),
        &["init.safetensors", "model description's layers[0] (Dense)", "minval"],
    );
    let l2 = json!({"class_name": "L2", "config": {"l2": -1.0}});
    let e = load_edited(dir.path(), &good, "reg", |j| j["layers"][0]["config"]["bias_regularizer"] = l2);
    assert_names("edited regularizer", e.err(), &["reg.safetensors", "model description's layers[0] (Dense)", "-1"]);
}

#[test]
fn same_padded_2d_pools_larger_than_the_input_do_not_pad_to_their_size() {
    use tch_keras::{AveragePooling2D, MaxPooling2D};
    // A pool of (2^31 - 1)^2 cells (the most a model file may hold) with padding 'same' padded
    // each 8x5 image to 2^31 x 2^31 cells at the first batch.
    let x = Tensor::rand([2, 3, 8, 5], (Kind::Float, Device::Cpu));
    let huge = i64::from(i32::MAX);
    let run = |layer: LayerConfig, x: &Tensor| {
        let input = &x.size()[1..];
        let mut m = Sequential::new().device(Device::Cpu).input_shape(input).add(layer);
        m.build().unwrap();
        m.forward_t(x, false).unwrap()
    };
    let max = run(MaxPooling2D::new(huge).strides(3).padding(Padding::Same).into(), &x);
    let mean = run(AveragePooling2D::new(huge).strides(3).padding(Padding::Same).into(), &x);
    // Keras's shape for 'same': ceil(8 / 3) x ceil(5 / 3); every window covers the whole image.
    assert_eq!(max.size(), [2, 3, 3, 2]);
    assert_eq!(mean.size(), [2, 3, 3, 2]);
    let global_max = x.amax([2, 3].as_slice(), true).expand([2, 3, 3, 2], false);
    let global_mean = x.mean_dim([2, 3].as_slice(), true, None).expand([2, 3, 3, 2], false);
    assert!(max.allclose(&global_max, 0.0, 0.0, false), "{max} vs {global_max}");
    assert!(mean.allclose(&global_mean, 1e-5, 1e-6, false), "{mean} vs {global_mean}");
    // A pool just larger than the input still pads as TensorFlow's 'same' does: a (9, 1) pool
    // with stride 3 over 8 rows holds rows [0, 6), [0, 8) and [3, 8).
    let x1 = Tensor::arange(8, (Kind::Float, Device::Cpu)).view([1, 1, 8, 1]);
    let y = run(AveragePooling2D::new((9, 1)).strides((3, 1)).padding(Padding::Same).into(), &x1);
    let expected = Tensor::from_slice(&[2.5f32, 3.5, 5.0]).view([1, 1, 3, 1]);
    assert!(y.allclose(&expected, 1e-6, 1e-6, false), "{y}");
    let y = run(MaxPooling2D::new((9, 1)).strides((3, 1)).padding(Padding::Same).into(), &x1);
    let expected = Tensor::from_slice(&[5.0f32, 7.0, 7.0]).view([1, 1, 3, 1]);
    assert!(y.allclose(&expected, 0.0, 0.0, false), "{y}");
    assert!(files::peak_rss_kib() < 4 << 20, "peak RSS {} KiB", files::peak_rss_kib());
}
