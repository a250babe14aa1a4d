//! The image augmentation layers (RandomFlip, RandomTranslation, RandomRotation, RandomZoom,
//! RandomContrast, RandomBrightness): the identity at inference, Keras's outputs for fixed draws, exact flips,
//! sane statistics, seeded reproducibility, saving, and a fit on MNIST that learns.
//!
//! Reference numbers come from `tests/reference/augmentation.py` (Keras 3, torch backend):
//! ranges with lower == upper make Keras's draws deterministic. The input there and here is
//! `vals(shape, offset)`: `sin(0.7 * i + offset)`.
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    Activation, Dense, Error, FillMode, FitConfig, Flatten, FlipMode, Interpolation, LayerConfig, RandomBrightness,
    RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Reshape, Sequential, Verbosity,
};

fn vals(shape: &[i64], offset: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset).sin().to_kind(Kind::Float).reshape(shape)
}

/// A built one-layer model on `[2, 6, 8]` images.
fn model(layer: impl Into<LayerConfig>) -> Sequential {
    let mut m = Sequential::new().input_shape([2, 6, 8]).add(layer);
    m.build().unwrap();
    m
}

fn assert_close(y: &Tensor, expected: &[f32], what: &str) {
    assert_eq!(y.size(), [1, 2, 6, 8], "{what}");
    let got = Vec::<f32>::try_from(y.reshape([-1])).unwrap();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 1e-4, "{what}, element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

fn all_layers() -> Vec<LayerConfig> {
    vec![
        RandomFlip::default().into(),
        RandomTranslation::new(0.2, 0.3).into(),
        RandomRotation::new(0.2).into(),
        RandomZoom::new(0.3).into(),
        RandomContrast::new(0.4).value_range(-1.0, 1.0).into(),
        RandomBrightness::new(0.2).value_range(-1.0, 1.0).into(),
    ]
}

#[test]
fn names_shapes_and_counts_match_keras_and_inference_is_the_identity() {
    // Keras 3's names, count_params and output shapes (tests/reference/augmentation.py).
    let labels =
        ["random_flip (RandomFlip)", "random_translation (RandomTranslation)", "random_rotation (RandomRotation)"];
    let more = ["random_zoom (RandomZoom)", "random_contrast (RandomContrast)", "random_brightness (RandomBrightness)"];
    let x = vals(&[5, 2, 6, 8], 0.3);
    for (layer, label) in all_layers().into_iter().zip(labels.iter().chain(&more)) {
        let mut m = model(layer);
        assert_eq!(m.count_params().unwrap(), 0);
        assert_eq!(m.output_shape().unwrap(), [2, 6, 8]);
        assert!(m.summary().unwrap().contains(label), "{label}");
        assert!(m.forward_t(&x, false).unwrap().equal(&x), "{label} changes images at inference");
        assert!(m.predict(&x, 2).unwrap().equal(&x), "{label} changes images in predict");
        assert_eq!(m.forward_t(&x, true).unwrap().size(), [5, 2, 6, 8]);
    }
}

#[test]
fn fixed_draws_match_keras() {
    let x = vals(&[1, 2, 6, 8], 0.3);
    let constant = FillMode::Constant;
    let cases: Vec<(LayerConfig, &[f32], &str)> = vec![
        (RandomRotation::range(0.25, 0.25).fill_mode(constant).into(), &ROTATION_QUARTER, "rotation 0.25"),
        (RandomRotation::range(0.5, 0.5).fill_mode(constant).into(), &ROTATION_HALF, "rotation 0.5"),
        (RandomRotation::range(0.1, 0.1).fill_mode(constant).into(), &ROTATION_CONSTANT, "rotation constant"),
        (RandomRotation::range(0.1, 0.1).fill_mode(FillMode::Nearest).into(), &ROTATION_NEAREST, "rotation nearest"),
        (RandomRotation::range(0.1, 0.1).into(), &ROTATION_REFLECT, "rotation reflect"),
        (
            RandomTranslation::range([2.0 / 6.0; 2], [-1.0 / 8.0; 2]).fill_mode(constant).fill_value(0.5).into(),
            &TRANSLATION_CONSTANT,
            "translation constant 0.5",
        ),
        (RandomTranslation::range([2.0 / 6.0; 2], [0.0; 2]).into(), &TRANSLATION_REFLECT, "translation reflect"),
        (
            RandomTranslation::range([2.0 / 6.0; 2], [0.0; 2]).fill_mode(FillMode::Nearest).into(),
            &TRANSLATION_NEAREST,
            "translation nearest",
        ),
        (RandomTranslation::range([0.1; 2], [0.2; 2]).into(), &TRANSLATION_FRACTIONAL, "translation 0.1 0.2"),
        (RandomZoom::range([0.5; 2], None).fill_mode(constant).into(), &ZOOM_OUT, "zoom out"),
        (RandomZoom::range([-0.3; 2], Some([0.2; 2])).into(), &ZOOM_IN, "zoom in"),
        // (-0.5, 0.5): the contrast is drawn from [1.5, 1.5].
        (RandomContrast::range(-0.5, 0.5).value_range(-0.5, 0.5).into(), &CONTRAST, "contrast"),
        (RandomBrightness::range(0.25, 0.25).value_range(-0.5, 0.5).into(), &BRIGHTNESS, "brightness"),
    ];
    for (layer, expected, what) in cases {
        let y = model(layer).forward_t(&x, true).unwrap();
        assert_close(&y, expected, what);
    }
}

#[test]
fn flips_are_exact_and_about_half_the_images_flip() {
    let x = Tensor::randn([400, 2, 5, 7], (Kind::Float, Device::Cpu));
    let m = model_on(RandomFlip::new(FlipMode::Horizontal), &[2, 5, 7]);
    let y = m.forward_t(&x, true).unwrap();
    let mut flipped = 0;
    for i in 0..400 {
        let (xi, yi) = (x.get(i), y.get(i));
        if yi.equal(&xi.flip([2])) {
            flipped += 1;
        } else {
            assert!(yi.equal(&xi), "image {i} is neither unchanged nor exactly flipped");
        }
    }
    // Binomial(400, 1/2): standard deviation 10.
    assert!((160..=240).contains(&flipped), "{flipped} of 400 flipped");

    let m = model_on(RandomFlip::default(), &[2, 5, 7]);
    let y = m.forward_t(&x, true).unwrap();
    let mut counts = [0; 4];
    for i in 0..400 {
        let xi = x.get(i);
        let variants = [xi.shallow_clone(), xi.flip([2]), xi.flip([1]), xi.flip([1, 2])];
        let k = variants.iter().position(|v| y.get(i).equal(v)).unwrap_or_else(|| panic!("image {i} not a flip"));
        counts[k] += 1;
    }
    // Binomial(400, 1/4) each: standard deviation 8.7.
    assert!(counts.iter().all(|c| (60..=140).contains(c)), "{counts:?}");
    let m = model_on(RandomFlip::new("vertical".parse().unwrap()), &[2, 5, 7]);
    let y = m.forward_t(&x, true).unwrap();
    assert!((0..400).all(|i| y.get(i).equal(&x.get(i)) || y.get(i).equal(&x.get(i).flip([1]))));
}

fn model_on(layer: impl Into<LayerConfig>, input: &[i64]) -> Sequential {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    m.build().unwrap();
    m
}

#[test]
fn zero_factors_are_the_identity_and_draws_differ_per_image() {
    let x = vals(&[1, 2, 6, 8], 0.3).repeat([64, 1, 1, 1]);
    let zero: Vec<LayerConfig> =
        vec![RandomRotation::new(0.0).into(), RandomTranslation::new(0.0, 0.0).into(), RandomZoom::new(0.0).into()];
    for layer in zero {
        let y = model(layer.clone()).forward_t(&x, true).unwrap();
        assert!(y.equal(&x), "{layer:?} with zero factors changes images");
    }
    // Contrast 1 computes (x - mean) + mean: equal up to rounding.
    let y = model(RandomContrast::new(0.0).value_range(-1.0, 1.0)).forward_t(&x, true).unwrap();
    assert!(y.allclose(&x, 0.0, 1e-6, false));
    for layer in all_layers().into_iter().skip(1) {
        let y = model(layer.clone()).forward_t(&x, true).unwrap();
        // 64 identical images, each its own draw: no two outputs alike.
        let distinct = (1..64).filter(|&i| !y.get(i).allclose(&y.get(0), 1e-6, 1e-6, false)).count();
        assert_eq!(distinct, 63, "{layer:?}");
        assert!(f64::try_from(y.isfinite().all()).unwrap() == 1.0);
    }
}

#[test]
fn contrast_keeps_each_channels_mean_and_draws_within_the_range() {
    // Values in [0.4, 0.6], value_range [0, 1]: no clipping at contrast up to 1.5.
    let x = Tensor::rand([200, 3, 4, 4], (Kind::Float, Device::Cpu)) * 0.2 + 0.4;
    let y = model_on(RandomContrast::new(0.5).value_range(0.0, 1.0), &[3, 4, 4]).forward_t(&x, true).unwrap();
    let mean = |t: &Tensor| t.mean_dim([2i64, 3].as_slice(), true, Kind::Float);
    let diff = f64::try_from((mean(&y) - mean(&x)).abs().max()).unwrap();
    assert!(diff < 1e-5, "means moved by {diff}");
    // The per-image contrast (least squares), the same for every pixel and channel of an image.
    let (dx, dy) = ((&x - mean(&x)).reshape([200, -1]), (&y - mean(&y)).reshape([200, -1]));
    let c = (&dx * &dy).sum_dim_intlist(1, true, Kind::Float) / (&dx * &dx).sum_dim_intlist(1, true, Kind::Float);
    let residual = f64::try_from((&dy - &dx * &c).abs().max()).unwrap();
    assert!(residual < 1e-5, "contrast varies within an image: residual {residual}");
    let (lo, hi) = (f64::try_from(c.min()).unwrap(), f64::try_from(c.max()).unwrap());
    // Keras 3's RandomContrast(0.5) draws from [1, 1.5]: tests/reference/augmentation.py,
    // "contrast 0.5 drawn in [1.0002, 1.4999]".
    assert!((1.0..1.1).contains(&lo) && (1.4..=1.5).contains(&hi), "contrast drawn in [{lo}, {hi}]");
    let both = model_on(RandomContrast::range(0.5, 0.5).value_range(0.0, 1.0), &[3, 4, 4]).forward_t(&x, true).unwrap();
    let db = (&both - mean(&both)).reshape([200, -1]);
    let c = (&dx * &db).sum_dim_intlist(1, true, Kind::Float) / (&dx * &dx).sum_dim_intlist(1, true, Kind::Float);
    let (lo, hi) = (f64::try_from(c.min()).unwrap(), f64::try_from(c.max()).unwrap());
    assert!((0.5..0.6).contains(&lo) && (1.4..=1.5).contains(&hi), "range(0.5, 0.5) drawn in [{lo}, {hi}]");
    let clipped = model_on(RandomContrast::new(1.0).value_range(0.45, 0.55), &[3, 4, 4]).forward_t(&x, true).unwrap();
    // Clipped to value_range (as float32 holds its ends).
    let (lo, hi) = (f64::try_from(clipped.min()).unwrap(), f64::try_from(clipped.max()).unwrap());
    assert!((lo - 0.45).abs() < 1e-6 && (hi - 0.55).abs() < 1e-6, "[{lo}, {hi}]");
}

#[test]
fn brightness_adds_one_delta_per_image_within_the_range() {
    let x = Tensor::rand([200, 3, 4, 4], (Kind::Float, Device::Cpu)) * 0.2 + 0.4;
    let y = model_on(RandomBrightness::new(0.3).value_range(-2.0, 2.0), &[3, 4, 4]).forward_t(&x, true).unwrap();
    let delta = (&y - &x).reshape([200, -1]);
    let spread = f64::try_from((delta.max_dim(1, false).0 - delta.min_dim(1, false).0).max()).unwrap();
    assert!(spread < 1e-5, "delta varies within an image by {spread}");
    // factor 0.3 of a range 4 wide: deltas in [-1.2, 1.2] (no clipping), spread over it.
    let (lo, hi) = (f64::try_from(delta.min()).unwrap(), f64::try_from(delta.max()).unwrap());
    assert!((-1.2..-1.0).contains(&lo) && (1.0..=1.2).contains(&hi), "deltas in [{lo}, {hi}]");
}

#[test]
fn seeded_draws_are_reproducible() {
    let x = vals(&[16, 2, 6, 8], 0.9);
    // Building seeds LibTorch's generator from the model's seed; the draws follow from it.
    let run = |seed: u64| -> Vec<Tensor> {
        let build = |l: LayerConfig| {
            let mut m = Sequential::new().input_shape([2, 6, 8]).add(l).seed(seed);
            m.build().unwrap();
            m.forward_t(&x, true).unwrap()
        };
        all_layers().into_iter().map(build).collect()
    };
    let (a, b, c) = (run(4), run(4), run(5));
    assert!(a.iter().zip(&b).all(|(p, q)| p.equal(q)));
    assert!(a.iter().zip(&c).all(|(p, q)| !p.equal(q)));
}

#[test]
fn configurations_round_trip_and_bad_ones_are_refused() {
    let mut layers = all_layers();
    layers.push(
        RandomTranslation::range([-0.1, 0.2], [0.0, 0.3])
            .fill_mode("constant".parse().unwrap())
            .fill_value(0.5)
            .interpolation(Interpolation::Nearest)
            .into(),
    );
    layers.push(RandomZoom::range([-0.2, 0.4], Some([0.1, 0.2])).fill_mode(FillMode::Nearest).into());
    for layer in &layers {
        let json = serde_json::to_string(layer).unwrap();
        let back: LayerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, layer, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&LayerConfig::from(RandomFlip::new(FlipMode::Horizontal))).unwrap(),
        r#"{"class_name":"RandomFlip","config":{"mode":"horizontal"}}"#
    );
    let dir = tempfile::tempdir().unwrap();
    let mut m = Sequential::new().input_shape([2, 6, 8]);
    for layer in layers {
        m.push(layer);
    }
    m.push(Flatten::new());
    m.push(Dense::new(3));
    m.build().unwrap();
    let x = vals(&[4, 2, 6, 8], 0.1);
    let path = dir.path().join("augment.safetensors");
    m.save(&path).unwrap();
    let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    assert!(loaded.forward_t(&x, false).unwrap().equal(&m.forward_t(&x, false).unwrap()));

    assert!(matches!("wrap".parse::<FillMode>(), Err(Error::Parse { .. })));
    assert!(matches!("diagonal".parse::<FlipMode>(), Err(Error::Parse { .. })));
    let bad: Vec<(LayerConfig, &str)> = vec![
        (RandomRotation::range(0.3, 0.1).into(), "factor"),
        (RandomTranslation::new(1.5, 0.0).into(), "height_factor"),
        (RandomZoom::range([-1.0, 0.0], None).into(), "height_factor"),
        (RandomContrast::new(2.0).into(), "factor"),
        (RandomBrightness::new(0.5).value_range(1.0, 0.0).into(), "value_range"),
        (RandomRotation::new(0.1).fill_mode(FillMode::Constant).fill_value(f64::NAN).into(), "fill_value"),
    ];
    for (layer, field) in bad {
        let mut m = Sequential::new().input_shape([2, 6, 8]).add(layer);
        let text = m.build().unwrap_err().to_string();
        assert!(text.contains(field), "{text}");
    }
    let mut m = Sequential::new().input_shape([48]).add(RandomFlip::default());
    let text = m.build().unwrap_err().to_string();
    assert!(text.contains("RandomFlip") && text.contains("(None, channels, height, width)"), "{text}");
}

#[test]
fn a_model_with_augmentation_learns_mnist() {
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let y = tch_keras::to_categorical(&ds.train_labels.narrow(0, 0, 6000), 10).unwrap();
    let y_test = tch_keras::to_categorical(&ds.test_labels.narrow(0, 0, 1000), 10).unwrap();
    let (x, x_test) = (ds.train_images.narrow(0, 0, 6000), ds.test_images.narrow(0, 0, 1000));
    let mut m = Sequential::new()
        .input_shape([784])
        .add(Reshape::new([1, 28, 28]))
        .add(RandomRotation::new(0.03))
        .add(RandomZoom::new(0.1))
        .add(RandomTranslation::new(0.08, 0.08))
        .add(RandomContrast::new(0.2).value_range(0.0, 1.0))
        .add(Flatten::new())
        .add(Dense::new(128).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax))
        .seed(11);
    tch_keras::recipes::compile_classifier(&mut m, 0.003, "acc").unwrap();
    let history = m.fit(&x, &y, FitConfig { epochs: 3, verbose: Verbosity::Silent, ..Default::default() }).unwrap();
    let acc = m.evaluate(&x_test, &y_test, 500).unwrap().get("acc").unwrap();
    eprintln!("test accuracy {acc}, history {history:?}");
    assert!(acc > 0.85, "test accuracy {acc}");
}

/// Keras 3: rotation 0.25 constant, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ROTATION_QUARTER: [f32; 96] = [
    -1.16531e-07,
    -0.97753,
    -0.625071,
    0.00796318,
    0.637423,
    0.980763,
    0.88387,
    0.0,
    -3.64696e-08,
    -0.611858,
    0.0247755,
    0.650288,
    0.983907,
    0.875881,
    0.3747,
    0.0,
    2.4784e-09,
    0.0415807,
    0.662969,
    0.986772,
    0.867644,
    0.359058,
    -0.310697,
    0.0,
    0.0,
    0.675463,
    0.989358,
    0.859162,
    0.343315,
    -0.326635,
    -0.849969,
    0.0,
    0.0,
    0.991665,
    0.850437,
    0.327475,
    -0.342481,
    -0.858707,
    -0.989487,
    0.0,
    0.0,
    0.841471,
    0.311541,
    -0.358229,
    -0.867202,
    -0.986916,
    -0.663634,
    0.0,
    4.65198e-08,
    0.390236,
    -0.278563,
    -0.822324,
    -0.99697,
    -0.724108,
    -0.126216,
    0.0,
    -1.75638e-08,
    -0.294672,
    -0.831775,
    -0.995521,
    -0.712409,
    -0.109519,
    0.54253,
    0.0,
    -5.0127e-08,
    -0.840991,
    -0.99379,
    -0.700509,
    -0.0927911,
    0.556578,
    0.956116,
    0.0,
    0.0,
    -0.991779,
    -0.688411,
    -0.0760366,
    0.570468,
    0.960907,
    0.920026,
    0.0,
    0.0,
    -0.676118,
    -0.0592608,
    0.584197,
    0.965427,
    0.913307,
    0.451233,
    0.0,
    0.0,
    -0.042468,
    0.59776,
    0.969673,
    0.90633,
    0.436165,
    -0.229782,
    0.0,
];

/// Keras 3: rotation 0.5 constant, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ROTATION_HALF: [f32; 96] = [
    0.977342,
    0.88387,
    0.3747,
    -0.310697,
    -0.849969,
    -0.989487,
    -0.663634,
    -0.0256636,
    0.624377,
    0.980763,
    0.875881,
    0.359058,
    -0.326635,
    -0.858707,
    -0.986915,
    -0.650962,
    -0.00885131,
    0.637423,
    0.983907,
    0.867644,
    0.343315,
    -0.34248,
    -0.867202,
    -0.984065,
    -0.638106,
    0.00796318,
    0.650288,
    0.986772,
    0.859162,
    0.327475,
    -0.358229,
    -0.875452,
    -0.980936,
    -0.625071,
    0.0247751,
    0.662969,
    0.989358,
    0.850437,
    0.311542,
    -0.373876,
    -0.883454,
    -0.97753,
    -0.611858,
    0.0415803,
    0.675463,
    0.991664,
    0.841471,
    0.29552,
    -0.735602,
    -0.126217,
    0.54253,
    0.956116,
    0.920026,
    0.451234,
    -0.229781,
    -0.802726,
    -0.998137,
    -0.724108,
    -0.109519,
    0.556577,
    0.960907,
    0.913307,
    0.436165,
    -0.246113,
    -0.81264,
    -0.99697,
    -0.712409,
    -0.0927914,
    0.570467,
    0.965426,
    0.90633,
    0.420973,
    -0.262375,
    -0.822324,
    -0.995521,
    -0.700509,
    -0.076037,
    0.584196,
    0.969673,
    0.899097,
    0.405662,
    -0.278562,
    -0.831774,
    -0.99379,
    -0.688411,
    -0.0592614,
    0.59776,
    0.973645,
    0.891609,
    0.390236,
    -0.294671,
    -0.84099,
    -0.991778,
    -0.676118,
    -0.0424683,
    0.611155,
];

/// Keras 3: rotation 0.1 constant, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ROTATION_CONSTANT: [f32; 96] = [
    0.0,
    0.00553411,
    0.116944,
    -0.211936,
    -0.339516,
    -0.481917,
    -0.651262,
    -0.0600196,
    0.211827,
    0.717422,
    0.716868,
    0.665863,
    0.486818,
    0.353682,
    0.222578,
    0.164279,
    0.80044,
    0.813271,
    0.867984,
    0.899609,
    0.908603,
    0.97367,
    0.848187,
    0.786037,
    -0.0228899,
    0.130807,
    0.30712,
    0.42002,
    0.550108,
    0.648737,
    0.747005,
    0.890449,
    -0.553133,
    -0.652025,
    -0.558254,
    -0.426266,
    -0.314887,
    -0.140229,
    0.105027,
    0.138399,
    -0.184251,
    -0.965642,
    -0.912205,
    -0.89773,
    -0.873435,
    -0.42798,
    -0.00219307,
    0.0,
    0.0,
    -0.00779474,
    -0.522971,
    -0.600248,
    -0.490819,
    -0.356808,
    -0.231445,
    -0.110752,
    -0.089639,
    -0.645016,
    -0.874671,
    -0.985762,
    -0.904736,
    -0.890642,
    -0.842779,
    -0.689518,
    0.00623614,
    -0.141719,
    -0.290676,
    -0.416041,
    -0.547481,
    -0.720906,
    -0.756354,
    -0.836215,
    0.761603,
    0.660639,
    0.595684,
    0.417583,
    0.274303,
    0.142388,
    -0.010828,
    -0.171553,
    0.727536,
    0.884765,
    0.910643,
    0.898816,
    0.951447,
    0.818294,
    0.564607,
    0.0553978,
    0.134634,
    0.389528,
    0.49311,
    0.611784,
    0.706364,
    0.55338,
    0.00746831,
    0.0,
];

/// Keras 3: rotation 0.1 nearest, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ROTATION_NEAREST: [f32; 96] = [
    0.948059, 0.692247, 0.196288, -0.211936, -0.339516, -0.481917, -0.651262, -0.30164, 0.924095, 0.878106, 0.716868,
    0.665863, 0.486818, 0.353682, 0.222578, 0.208804, 0.80044, 0.813271, 0.867984, 0.899609, 0.908603, 0.97367,
    0.848187, 0.786037, -0.0228899, 0.130807, 0.30712, 0.42002, 0.550108, 0.648737, 0.747005, 0.890449, -0.703049,
    -0.652025, -0.558254, -0.426266, -0.314887, -0.140229, 0.12855, 0.603767, -0.925989, -0.965642, -0.912205,
    -0.89773, -0.873435, -0.718353, -0.274317, 0.280182, -0.719649, -0.975024, -0.877792, -0.600248, -0.490819,
    -0.356808, -0.231445, -0.556605, -0.39105, -0.789483, -0.874671, -0.985762, -0.904736, -0.890642, -0.842779,
    -0.876399, 0.00623614, -0.141719, -0.290676, -0.416041, -0.547481, -0.720906, -0.756354, -0.836215, 0.761603,
    0.660639, 0.595684, 0.417583, 0.274303, 0.142388, -0.010828, -0.171553, 0.924721, 0.884765, 0.910643, 0.898816,
    0.951447, 0.818294, 0.691063, 0.241673, 0.676629, 0.389528, 0.49311, 0.611784, 0.706364, 0.928834, 0.934163,
    0.599565,
];

/// Keras 3: rotation 0.1 reflect, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ROTATION_REFLECT: [f32; 96] = [
    0.902566, 0.692247, 0.196288, -0.211936, -0.339516, -0.481917, -0.651262, -0.30164, 0.924095, 0.878106, 0.716868,
    0.665863, 0.486818, 0.353682, 0.222578, 0.208804, 0.80044, 0.813271, 0.867984, 0.899609, 0.908603, 0.97367,
    0.848187, 0.786037, -0.0228899, 0.130807, 0.30712, 0.42002, 0.550108, 0.648737, 0.747005, 0.890449, -0.703049,
    -0.652025, -0.558254, -0.426266, -0.314887, -0.140229, 0.12855, 0.603767, -0.925989, -0.965642, -0.912205,
    -0.89773, -0.873435, -0.718353, -0.274317, 0.58424, -0.387066, -0.975024, -0.877792, -0.600248, -0.490819,
    -0.356808, -0.231445, -0.556605, -0.39105, -0.789483, -0.874671, -0.985762, -0.904736, -0.890642, -0.842779,
    -0.876399, 0.00623614, -0.141719, -0.290676, -0.416041, -0.547481, -0.720906, -0.756354, -0.836215, 0.761603,
    0.660639, 0.595684, 0.417583, 0.274303, 0.142388, -0.010828, -0.171553, 0.924721, 0.884765, 0.910643, 0.898816,
    0.951447, 0.818294, 0.691063, 0.241673, 0.676629, 0.389528, 0.49311, 0.611784, 0.706364, 0.928834, 0.934163,
    0.241702,
];

/// Keras 3: translation down 2 right 1 constant 0.5, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const TRANSLATION_CONSTANT: [f32; 96] = [
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.841471,
    0.991665,
    0.675463,
    0.0415807,
    -0.611858,
    -0.97753,
    -0.883455,
    0.5,
    0.311541,
    0.850437,
    0.989358,
    0.662969,
    0.0247754,
    -0.625071,
    -0.980936,
    0.5,
    -0.358229,
    0.327474,
    0.859162,
    0.986772,
    0.650288,
    0.00796318,
    -0.638107,
    0.5,
    -0.867202,
    -0.342481,
    0.343315,
    0.867644,
    0.983907,
    0.637423,
    -0.00885131,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    -0.042468,
    -0.676118,
    -0.991779,
    -0.840991,
    -0.294672,
    0.390236,
    0.89161,
    0.5,
    0.59776,
    -0.0592608,
    -0.688411,
    -0.99379,
    -0.831775,
    -0.278563,
    0.405662,
    0.5,
    0.969673,
    0.584197,
    -0.0760367,
    -0.700509,
    -0.995521,
    -0.822324,
    -0.262375,
    0.5,
    0.90633,
    0.965427,
    0.570468,
    -0.0927912,
    -0.712409,
    -0.99697,
    -0.81264,
    0.5,
];

/// Keras 3: translation down 2 reflect, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const TRANSLATION_REFLECT: [f32; 96] = [
    -0.373877,
    0.311541,
    0.850437,
    0.989358,
    0.662969,
    0.0247754,
    -0.625071,
    -0.980936,
    0.29552,
    0.841471,
    0.991665,
    0.675463,
    0.0415807,
    -0.611858,
    -0.97753,
    -0.883455,
    0.29552,
    0.841471,
    0.991665,
    0.675463,
    0.0415807,
    -0.611858,
    -0.97753,
    -0.883455,
    -0.373877,
    0.311541,
    0.850437,
    0.989358,
    0.662969,
    0.0247754,
    -0.625071,
    -0.980936,
    -0.875452,
    -0.358229,
    0.327474,
    0.859162,
    0.986772,
    0.650288,
    0.00796318,
    -0.638107,
    -0.984065,
    -0.867202,
    -0.342481,
    0.343315,
    0.867644,
    0.983907,
    0.637423,
    -0.00885131,
    0.973645,
    0.59776,
    -0.0592608,
    -0.688411,
    -0.99379,
    -0.831775,
    -0.278563,
    0.405662,
    0.611155,
    -0.042468,
    -0.676118,
    -0.991779,
    -0.840991,
    -0.294672,
    0.390236,
    0.89161,
    0.611155,
    -0.042468,
    -0.676118,
    -0.991779,
    -0.840991,
    -0.294672,
    0.390236,
    0.89161,
    0.973645,
    0.59776,
    -0.0592608,
    -0.688411,
    -0.99379,
    -0.831775,
    -0.278563,
    0.405662,
    0.899097,
    0.969673,
    0.584197,
    -0.0760367,
    -0.700509,
    -0.995521,
    -0.822324,
    -0.262375,
    0.420973,
    0.90633,
    0.965427,
    0.570468,
    -0.0927912,
    -0.712409,
    -0.99697,
    -0.81264,
];

/// Keras 3: translation down 2 nearest, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const TRANSLATION_NEAREST: [f32; 96] = [
    0.29552,
    0.841471,
    0.991665,
    0.675463,
    0.0415807,
    -0.611858,
    -0.97753,
    -0.883455,
    0.29552,
    0.841471,
    0.991665,
    0.675463,
    0.0415807,
    -0.611858,
    -0.97753,
    -0.883455,
    0.29552,
    0.841471,
    0.991665,
    0.675463,
    0.0415807,
    -0.611858,
    -0.97753,
    -0.883455,
    -0.373877,
    0.311541,
    0.850437,
    0.989358,
    0.662969,
    0.0247754,
    -0.625071,
    -0.980936,
    -0.875452,
    -0.358229,
    0.327474,
    0.859162,
    0.986772,
    0.650288,
    0.00796318,
    -0.638107,
    -0.984065,
    -0.867202,
    -0.342481,
    0.343315,
    0.867644,
    0.983907,
    0.637423,
    -0.00885131,
    0.611155,
    -0.042468,
    -0.676118,
    -0.991779,
    -0.840991,
    -0.294672,
    0.390236,
    0.89161,
    0.611155,
    -0.042468,
    -0.676118,
    -0.991779,
    -0.840991,
    -0.294672,
    0.390236,
    0.89161,
    0.611155,
    -0.042468,
    -0.676118,
    -0.991779,
    -0.840991,
    -0.294672,
    0.390236,
    0.89161,
    0.973645,
    0.59776,
    -0.0592608,
    -0.688411,
    -0.99379,
    -0.831775,
    -0.278563,
    0.405662,
    0.899097,
    0.969673,
    0.584197,
    -0.0760367,
    -0.700509,
    -0.995521,
    -0.822324,
    -0.262375,
    0.420973,
    0.90633,
    0.965427,
    0.570468,
    -0.0927912,
    -0.712409,
    -0.99697,
    -0.81264,
];

/// Keras 3: translation 0.1 0.2 reflect, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const TRANSLATION_FRACTIONAL: [f32; 96] = [
    0.623091, 0.29552, 0.513901, 0.901549, 0.865184, 0.42191, -0.219795, -0.758127, 0.388804, 0.0277615, 0.268457,
    0.751769, 0.881513, 0.596667, 0.0311998, -0.548941, -0.203623, -0.574507, -0.327251, 0.282681, 0.759663, 0.879364,
    0.585486, 0.0162453, -0.70465, -0.918897, -0.776066, -0.313294, 0.296825, 0.767342, 0.876967, 0.57414, -0.889382,
    -0.850824, -0.876529, -0.768641, -0.299249, 0.310885, 0.774804, 0.874321, -0.674899, -0.400843, -0.583547,
    -0.878969, -0.760999, -0.285119, 0.324857, 0.782048, 0.218981, 0.611155, 0.349706, -0.295928, -0.802382, -0.931464,
    -0.622463, -0.0207084, 0.430634, 0.756151, 0.53914, -0.043576, -0.605798, -0.883103, -0.745071, -0.256621,
    0.825446, 0.943826, 0.864906, 0.527164, -0.0585112, -0.616668, -0.884796, -0.736791, 0.849741, 0.707847, 0.802443,
    0.861277, 0.515039, -0.0734297, -0.627363, -0.886238, 0.492614, 0.154138, 0.379789, 0.80879, 0.857405, 0.502769,
    -0.0883275, -0.637882, -0.0856316, -0.468758, -0.213341, 0.393263, 0.814909, 0.85329, 0.490356, -0.1032,
];

/// Keras 3: zoom out 0.5 constant, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ZOOM_OUT: [f32; 96] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0961283, 0.770831, 0.804542, 0.034521, -0.780236, -0.680869, 0.0,
    0.0, -0.562544, -0.0285362, 0.783337, 0.802843, 0.010756, -0.542861, 0.0, 0.0, -0.675592, -0.790732, 0.0139862,
    0.794598, 0.781668, 0.112092, 0.0, 0.0, -0.136491, -0.797539, -0.77855, 0.0175551, 0.806069, 0.666826, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.526333, -0.0422841, -0.817428,
    -0.76663, 0.0600405, 0.577592, 0.0, 0.0, 0.688301, 0.763354, -0.0660146, -0.819018, -0.753434, -0.0715242, 0.0,
    0.0, 0.190651, 0.829691, 0.739157, -0.0882584, -0.836987, -0.644261, 0.0, 0.0, -0.49768, 0.0942168, 0.839373,
    0.737053, -0.111888, -0.600927, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
];

/// Keras 3: zoom in -0.3 width 0.2 reflect, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const ZOOM_IN: [f32; 96] = [
    -0.206527, 0.118748, 0.753228, 0.90837, 0.443422, -0.308024, -0.834876, -0.956566, -0.599586, -0.294721, 0.433616,
    0.899203, 0.758438, 0.112318, -0.583434, -0.826663, -0.891744, -0.66316, 0.0285142, 0.726304, 0.942046, 0.520946,
    -0.220668, -0.543718, -0.967773, -0.879315, -0.406648, 0.354424, 0.890348, 0.816606, 0.219882, -0.10324, -0.800859,
    -0.866951, -0.718397, -0.0852823, 0.621579, 0.895023, 0.582842, 0.339424, -0.494638, -0.700366, -0.89581,
    -0.500862, 0.247516, 0.812372, 0.834579, 0.712618, 0.883023, 0.660363, -0.0181215, -0.709175, -0.929781, -0.521658,
    0.207893, 0.527149, 0.940099, 0.85261, 0.390743, -0.348529, -0.866178, -0.790799, -0.209105, 0.105045, 0.827379,
    0.893775, 0.737018, 0.0829831, -0.643721, -0.921694, -0.596718, -0.344915, 0.492692, 0.704262, 0.910519, 0.516967,
    -0.241042, -0.819645, -0.850436, -0.7301, 0.0540757, 0.350907, 0.850055, 0.800365, 0.199843, -0.520642, -0.880779,
    -0.914663, -0.385266, -0.0577941, 0.639356, 0.935397, 0.596165, -0.134945, -0.753569, -0.932503,
];

/// Keras 3: contrast 1.5 value_range -0.5 0.5, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const CONTRAST: [f32; 96] = [
    0.42, 0.5, 0.5, 0.5, 0.0390904, -0.5, -0.5, -0.5, -0.5, 0.444031, 0.5, 0.5, 0.5, 0.0138825, -0.5, -0.5, -0.5, -0.5,
    0.467931, 0.5, 0.5, 0.5, -0.0113358, -0.5, -0.5, -0.5, -0.5, 0.491692, 0.5, 0.5, 0.5, -0.0365576, -0.5, -0.5, -0.5,
    -0.5, 0.5, 0.5, 0.5, 0.5, -0.0617755, -0.5, -0.5, -0.5, -0.489327, 0.5, 0.5, 0.5, 0.5, -0.0614259, -0.5, -0.5,
    -0.5, -0.439731, 0.5, 0.5, 0.5, 0.5, -0.086615, -0.5, -0.5, -0.5, -0.415568, 0.5, 0.5, 0.5, 0.5, -0.111779, -0.5,
    -0.5, -0.5, -0.391286, 0.5, 0.5, 0.5, 0.5, -0.136911, -0.5, -0.5, -0.5, -0.366893, 0.5, 0.5, 0.5, 0.5, -0.162003,
    -0.5, -0.5, -0.5, -0.342396, 0.5, 0.5, 0.5, 0.5, -0.187049, -0.5,
];

/// Keras 3: brightness 0.25 value_range -0.5 0.5, shape [1, 2, 6, 8] (tests/reference/augmentation.py).
const BRIGHTNESS: [f32; 96] = [
    0.5, 0.5, 0.5, 0.5, 0.291581, -0.361858, -0.5, -0.5, -0.123877, 0.5, 0.5, 0.5, 0.5, 0.274775, -0.375071, -0.5,
    -0.5, -0.108229, 0.5, 0.5, 0.5, 0.5, 0.257963, -0.388107, -0.5, -0.5, -0.0924806, 0.5, 0.5, 0.5, 0.5, 0.241149,
    -0.400962, -0.5, -0.5, -0.0766351, 0.5, 0.5, 0.5, 0.5, 0.224337, -0.413634, -0.5, -0.5, -0.0606973, 0.5, 0.5, 0.5,
    0.5, 0.207532, -0.426118, -0.5, -0.5, -0.0446716, 0.5, 0.5, 0.5, 0.5, 0.190739, -0.438411, -0.5, -0.5, -0.0285626,
    0.5, 0.5, 0.5, 0.5, 0.173963, -0.450509, -0.5, -0.5, -0.0123748, 0.5, 0.5, 0.5, 0.5, 0.157209, -0.462409, -0.5,
    -0.5, 0.00388707, 0.5, 0.5, 0.5, 0.5, 0.140481, -0.474108, -0.5, -0.5, 0.0202186, 0.5, 0.5, 0.5, 0.5, 0.123783,
    -0.485602,
];

#[test]
fn augmentations_and_recurrent_layers_run_under_bf16_autocast() {
    // After a convolution, autocast hands the augmentations bf16 images.
    let mut m = Sequential::new().input_shape([2, 6, 8]).add(tch_keras::Conv2D::new(3, 1));
    for layer in all_layers() {
        m.push(layer);
    }
    m.push(Flatten::new());
    m.push(Dense::new(2));
    m.build().unwrap();
    m.set_precision(tch_keras::Precision::Bf16);
    let y = m.forward_t(&vals(&[4, 2, 6, 8], 0.2), true).unwrap();
    assert_eq!((y.size(), y.kind()), (vec![4, 2], Kind::Float));
    assert!(f64::try_from(y.isfinite().all()).unwrap() == 1.0);
    let mut m = Sequential::new()
        .input_shape([5, 3])
        .add(tch_keras::Bidirectional::new(tch_keras::SimpleRNN::new(4).return_sequences(true)))
        .add(tch_keras::Bidirectional::new(tch_keras::GRU::new(3)));
    m.build().unwrap();
    let x = vals(&[2, 5, 3], 0.4);
    let full = m.forward_t(&x, false).unwrap();
    m.set_precision(tch_keras::Precision::Bf16);
    let mixed = m.forward_t(&x, false).unwrap();
    let diff = f64::try_from((&mixed - &full).abs().max()).unwrap();
    assert!(diff < 0.05, "bf16 differs from float32 by {diff}");
}
