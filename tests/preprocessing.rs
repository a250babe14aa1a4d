//! The preprocessing layers (Resizing, CenterCrop, RandomCrop, CategoryEncoding,
//! Discretization, RandomGrayscale): Keras's outputs, RandomCrop's seeded windows, saving, typed errors.
//!
//! Reference numbers come from `tests/reference/keras_preprocessing.py` (Keras 3.15.1, torch
//! backend). The images there and here are `vals(shape, offset)`: `sin(0.7 * i + offset)`.
use tch::{Device, Kind, Tensor};
use tch_keras::{
    CategoryEncoding, CenterCrop, DataFormat, Dense, Discretization, EncodingMode, Error, FitConfig, Flatten,
    LayerConfig, RandomCrop, RandomGrayscale, ResizeInterpolation, Resizing, Sequential, Verbosity,
};

/// Serialises this file's tests: LibTorch's generator is process-wide and building a model
/// reseeds it, so a test drawing crops after `manual_seed` must not run beside another build.
fn generator_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn vals(shape: &[i64], offset: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset).sin().to_kind(Kind::Float).reshape(shape)
}

/// A built one-layer model on per-sample `input`.
fn model(input: &[i64], layer: impl Into<LayerConfig>) -> Sequential {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    m.build().unwrap();
    m
}

fn assert_close(y: &Tensor, shape: &[i64], expected: &[f32], what: &str) {
    assert_eq!(y.size(), shape, "{what}");
    let got = Vec::<f32>::try_from(y.reshape([-1])).unwrap();
    assert_eq!(got.len(), expected.len(), "{what}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 1e-5, "{what}, element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// `(layer, Keras's output shape, Keras's values)` on `vals([1, 2, 5, 7], 0.3)`.
type Case = (LayerConfig, [i64; 4], &'static [f32]);

#[test]
fn resizing_matches_keras_for_each_interpolation_crop_and_pad() {
    let _lock = generator_lock();
    use ResizeInterpolation::{Bicubic, Nearest};
    let x = vals(&[1, 2, 5, 7], 0.3);
    let cases: Vec<Case> = vec![
        (Resizing::new(8, 11).into(), [1, 2, 8, 11], &RESIZE_BILINEAR_UP),
        (Resizing::new(3, 4).into(), [1, 2, 3, 4], &RESIZE_BILINEAR_DOWN),
        (Resizing::new(8, 11).interpolation(Nearest).into(), [1, 2, 8, 11], &RESIZE_NEAREST_UP),
        (Resizing::new(3, 4).interpolation(Nearest).into(), [1, 2, 3, 4], &RESIZE_NEAREST_DOWN),
        (Resizing::new(8, 11).interpolation(Bicubic).into(), [1, 2, 8, 11], &RESIZE_BICUBIC_UP),
        (Resizing::new(3, 4).interpolation(Bicubic).into(), [1, 2, 3, 4], &RESIZE_BICUBIC_DOWN),
        (Resizing::new(4, 4).crop_to_aspect_ratio(true).into(), [1, 2, 4, 4], &CROP_ASPECT_4X4),
        (
            Resizing::new(3, 8).interpolation(Nearest).crop_to_aspect_ratio(true).into(),
            [1, 2, 3, 8],
            &CROP_ASPECT_3X8_NEAREST,
        ),
        (Resizing::new(4, 4).pad_to_aspect_ratio(true).fill_value(0.5).into(), [1, 2, 4, 4], &PAD_ASPECT_4X4),
        (Resizing::new(3, 4).antialias(true).into(), [1, 2, 3, 4], &ANTIALIAS_BILINEAR),
        (Resizing::new(3, 4).interpolation(Bicubic).antialias(true).into(), [1, 2, 3, 4], &ANTIALIAS_BICUBIC),
    ];
    for (layer, shape, expected) in cases {
        let what = format!("{layer:?}");
        let mut m = model(&[2, 5, 7], layer);
        assert_eq!(m.output_shape().unwrap(), shape[1..], "{what}");
        assert_eq!(m.count_params().unwrap(), 0);
        assert_close(&m.forward_t(&x, false).unwrap(), &shape, expected, &what);
        // The same in training.
        assert_close(&m.forward_t(&x, true).unwrap(), &shape, expected, &what);
    }
    let xl = vals(&[1, 5, 7, 2], 0.3);
    let mut m = model(&[5, 7, 2], Resizing::new(3, 4).data_format(DataFormat::ChannelsLast));
    assert_eq!(m.output_shape().unwrap(), [3, 4, 2]);
    assert_close(&m.forward_t(&xl, false).unwrap(), &[1, 3, 4, 2], &CHANNELS_LAST_3X4, "channels_last");
    assert!(m.summary().unwrap().contains("resizing (Resizing)"));
}

#[test]
fn center_crop_matches_keras_on_larger_and_smaller_images() {
    let _lock = generator_lock();
    let x = vals(&[1, 2, 5, 7], 0.3);
    let cases: Vec<Case> = vec![
        (CenterCrop::new(3, 4).into(), [1, 2, 3, 4], &CENTER_3X4),
        // Taller than the image: Keras crops to the aspect ratio and resizes.
        (CenterCrop::new(6, 4).into(), [1, 2, 6, 4], &CENTER_6X4),
        (CenterCrop::new(8, 9).into(), [1, 2, 8, 9], &CENTER_8X9),
    ];
    for (layer, shape, expected) in cases {
        let what = format!("{layer:?}");
        let m = model(&[2, 5, 7], layer);
        assert_eq!(m.output_shape().unwrap(), shape[1..], "{what}");
        assert_close(&m.forward_t(&x, false).unwrap(), &shape, expected, &what);
        assert_close(&m.forward_t(&x, true).unwrap(), &shape, expected, &what);
    }
    // A crop inside the image is exactly the centred window: rows 1..4, columns 1..5.
    let m = model(&[2, 5, 7], CenterCrop::new(3, 4));
    assert!(m.forward_t(&x, false).unwrap().equal(&x.narrow(2, 1, 3).narrow(3, 1, 4)));
}

#[test]
fn random_crop_inference_and_fixed_windows_match_keras() {
    let _lock = generator_lock();
    let x = vals(&[1, 2, 5, 7], 0.3);
    // Inference: Keras's documented smart_resize (Keras 3.15's call returns the image
    // unchanged there, against its declared output shape; see the reference script).
    let mut m = model(&[2, 5, 7], RandomCrop::new(3, 4));
    assert_eq!(m.output_shape().unwrap(), [2, 3, 4]);
    assert_close(&m.forward_t(&x, false).unwrap(), &[1, 2, 3, 4], &SMART_RESIZE_3X4, "RandomCrop inference");
    assert_close(&m.predict(&x, 1).unwrap(), &[1, 2, 3, 4], &SMART_RESIZE_3X4, "RandomCrop predict");
    // Training on images not larger than the target along both axes: Keras's fixed window.
    let m = model(&[2, 5, 7], RandomCrop::new(5, 4));
    assert_close(&m.forward_t(&x, true).unwrap(), &[1, 2, 5, 4], &RANDOM_TRAIN_5X4, "RandomCrop(5, 4) training");
    let m = model(&[2, 5, 7], RandomCrop::new(6, 8));
    assert_close(&m.forward_t(&x, true).unwrap(), &[1, 2, 6, 8], &RANDOM_TRAIN_6X8, "RandomCrop(6, 8) training");
}

/// The `(top, left)` of the window of `x` `[N, C, H, W]` that `y` `[N, C, h, w]` is, the same
/// for every image of the batch, or `None`.
fn window_of(x: &Tensor, y: &Tensor) -> Option<(i64, i64)> {
    let (xs, ys) = (x.size(), y.size());
    for top in 0..=xs[2] - ys[2] {
        for left in 0..=xs[3] - ys[3] {
            if x.narrow(2, top, ys[2]).narrow(3, left, ys[3]).equal(y) {
                return Some((top, left));
            }
        }
    }
    None
}

#[test]
fn random_crop_training_draws_seeded_windows_that_differ_across_batches() {
    let _lock = generator_lock();
    // Distinct values, so a window is found at one place only.
    let x = Tensor::arange(4 * 2 * 9 * 11, (Kind::Float, Device::Cpu)).reshape([4, 2, 9, 11]);
    let m = model(&[2, 9, 11], RandomCrop::new(4, 5));
    let draw = |seed: i64| {
        tch::manual_seed(seed);
        (0..12)
            .map(|_| {
                let y = m.forward_t(&x, true).unwrap();
                assert_eq!(y.size(), [4, 2, 4, 5]);
                window_of(&x, &y).expect("a training crop is a window of the input, the same across the batch")
            })
            .collect::<Vec<_>>()
    };
    let first = draw(7);
    assert_eq!(first, draw(7), "the same seed gives the same windows");
    assert_ne!(first, draw(8), "another seed gives other windows");
    let distinct: std::collections::BTreeSet<_> = first.iter().collect();
    assert!(distinct.len() > 3, "windows differ across batches: {first:?}");
    assert!(first.iter().all(|&(t, l)| t <= 5 && l <= 6), "{first:?}");
    assert!(LayerConfig::from(RandomCrop::new(4, 5)).draws_random());
    assert!(!LayerConfig::from(CenterCrop::new(4, 5)).draws_random());

    // A fit through it runs (the window drawn in each step) and the loss is finite.
    let mut m = Sequential::new()
        .input_shape([2, 9, 11])
        .add(RandomCrop::new(6, 6))
        .add(Flatten::new())
        .add(Dense::new(1))
        .seed(3);
    m.compile(tch_keras::Optimizer::sgd(0.001), tch_keras::Loss::MeanSquaredError, vec![]).unwrap();
    let xs = vals(&[16, 2, 9, 11], 0.1);
    let ys = vals(&[16, 1], 0.2);
    let cfg = FitConfig { epochs: 2, batch_size: 4, verbose: Verbosity::Silent, ..Default::default() };
    let history = m.fit(&xs, &ys, cfg).unwrap();
    let losses = history.series("loss").unwrap();
    assert!(losses.len() == 2 && losses.iter().all(|l| l.is_finite()), "{losses:?}");
}

#[test]
fn category_encoding_matches_keras() {
    let _lock = generator_lock();
    let ids = Tensor::from_slice(&[0.0f32, 1.0, 1.0, 3.0, 2.0, 2.0, 0.0, 0.0]).reshape([2, 4]);
    let cases: Vec<(EncodingMode, Vec<i64>, &[f32])> = vec![
        (EncodingMode::OneHot, vec![2, 4, 4], &ENCODE_ONE_HOT),
        (EncodingMode::MultiHot, vec![2, 4], &ENCODE_MULTI_HOT),
        (EncodingMode::Count, vec![2, 4], &ENCODE_COUNT),
    ];
    for (mode, shape, expected) in cases {
        let m = model(&[4], CategoryEncoding::new(4).output_mode(mode));
        assert_eq!(m.output_shape().unwrap(), shape[1..], "{mode:?}");
        assert_close(&m.forward_t(&ids, false).unwrap(), &shape, expected, &format!("{mode:?}"));
    }
    assert_eq!(CategoryEncoding::new(4).output_mode, EncodingMode::MultiHot, "Keras's default");
    // A last axis of one is dropped, as Keras does.
    let column = Tensor::from_slice(&[3.0f32, 0.0, 4.0]).reshape([3, 1]);
    let m = model(&[1], CategoryEncoding::new(5).output_mode(EncodingMode::OneHot));
    assert_eq!(m.output_shape().unwrap(), [5]);
    assert_close(&m.forward_t(&column, false).unwrap(), &[3, 5], &ENCODE_ONE_HOT_COLUMN, "one_hot column");
    // Integer ids work too.
    let m = model(&[4], CategoryEncoding::new(4).output_mode(EncodingMode::Count));
    assert_close(&m.forward_t(&ids.to_kind(Kind::Int64), false).unwrap(), &[2, 4], &ENCODE_COUNT, "int64 ids");
}

#[test]
fn category_encoding_refuses_ids_out_of_range_with_a_typed_error() {
    let _lock = generator_lock();
    let m = model(&[3], CategoryEncoding::new(4));
    for (bad, needle) in [(4.0f32, "token id 4 "), (-1.0, "token id -1 "), (1.5, "token id 1.5 ")] {
        let xs = Tensor::from_slice(&[0.0f32, bad, 2.0]).reshape([1, 3]);
        let err = m.forward_t(&xs, false).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(needle) && text.contains("num_tokens"), "{text}");
    }
}

#[test]
fn discretization_matches_keras_at_and_between_boundaries() {
    let _lock = generator_lock();
    let xs = Tensor::from_slice(&[-1.0f32, 0.0, 0.5, 1.0, 2.5, 2.4999, 3.0, 100.0]).reshape([2, 4]);
    let cases: Vec<(Option<EncodingMode>, Vec<i64>, &[f32])> = vec![
        (None, vec![2, 4], &BINS_INT),
        (Some(EncodingMode::OneHot), vec![2, 4, 4], &BINS_ONE_HOT),
        (Some(EncodingMode::MultiHot), vec![2, 4], &BINS_MULTI_HOT),
        (Some(EncodingMode::Count), vec![2, 4], &BINS_COUNT),
    ];
    for (mode, shape, expected) in cases {
        let mut layer = Discretization::new([0.0, 1.0, 2.5]);
        layer.output_mode = mode;
        let m = model(&[4], layer);
        assert_eq!(m.output_shape().unwrap(), shape[1..], "{mode:?}");
        assert_close(&m.forward_t(&xs, false).unwrap(), &shape, expected, &format!("{mode:?}"));
    }
}

#[test]
fn preprocessing_layers_save_and_load() {
    let _lock = generator_lock();
    let dir = tempfile::tempdir().unwrap();
    let models = [
        (
            Sequential::new()
                .input_shape([2, 9, 11])
                .add(Resizing::new(7, 8).interpolation(ResizeInterpolation::Bicubic).crop_to_aspect_ratio(true))
                .add(CenterCrop::new(5, 6))
                .add(RandomCrop::new(4, 4))
                .add(Resizing::new(6, 6).pad_to_aspect_ratio(true).fill_value(-1.0).antialias(true))
                .add(Flatten::new())
                .add(Dense::new(3)),
            vals(&[3, 2, 9, 11], 0.2),
        ),
        (
            Sequential::new()
                .input_shape([5])
                .add(Discretization::new([-0.5, 0.0, 0.5]).output_mode(EncodingMode::Count))
                .add(Dense::new(2)),
            vals(&[6, 5], 0.4),
        ),
        (
            Sequential::new().input_shape([3]).add(CategoryEncoding::new(6).output_mode(EncodingMode::OneHot)),
            Tensor::from_slice(&[0.0f32, 5.0, 2.0, 1.0, 1.0, 4.0]).reshape([2, 3]),
        ),
        (
            Sequential::new().input_shape([5, 7, 2]).add(CenterCrop::new(3, 3).data_format(DataFormat::ChannelsLast)),
            vals(&[2, 5, 7, 2], 0.3),
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
    let json = serde_json::to_string(&LayerConfig::from(Resizing::new(3, 4))).unwrap();
    assert!(json.contains("\"Resizing\"") && json.contains("\"interpolation\":\"bilinear\""), "{json}");
}

#[test]
fn bad_options_and_inputs_are_typed_errors() {
    let _lock = generator_lock();
    let cases: Vec<(Vec<i64>, LayerConfig, &str, &str)> = vec![
        (vec![5, 7], Resizing::new(3, 4).into(), "Resizing", "takes images"),
        (vec![2, 5, 7], Resizing::new(0, 4).into(), "Resizing", "at least 1"),
        (
            vec![2, 5, 7],
            Resizing::new(3, 4).crop_to_aspect_ratio(true).pad_to_aspect_ratio(true).into(),
            "Resizing",
            "only one of",
        ),
        (vec![2, 5, 7], Resizing::new(3, 4).fill_value(f64::NAN).into(), "Resizing", "fill_value"),
        (vec![2, 5, 7], CenterCrop::new(3, -1).into(), "CenterCrop", "at least 1"),
        (vec![5, 7], RandomCrop::new(3, 4).data_format(DataFormat::ChannelsLast).into(), "RandomCrop", "channels_last"),
        (vec![4], CategoryEncoding::new(0).into(), "CategoryEncoding", "num_tokens"),
        (vec![2, 4], CategoryEncoding::new(4).into(), "CategoryEncoding", "flatten"),
        (vec![4], Discretization::new([1.0, 0.0]).into(), "Discretization", "sorted"),
        (vec![4], Discretization::new(Vec::new()).into(), "Discretization", "at least one boundary"),
        (vec![4], Discretization::new([f64::INFINITY]).into(), "Discretization", "finite"),
    ];
    for (input, layer, kind, needle) in cases {
        let mut m = Sequential::new().input_shape(input).add(layer);
        let err = m.build().unwrap_err();
        match &err {
            Error::LayerShape { index: 0, layer: l, .. } => assert_eq!(*l, kind),
            other => panic!("{kind}: expected a LayerShape error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(needle), "{text}");
    }
    assert!("lanczos3".parse::<ResizeInterpolation>().unwrap_err().to_string().contains("bicubic"));
    assert_eq!("nearest".parse::<ResizeInterpolation>().unwrap(), ResizeInterpolation::Nearest);
    assert_eq!("binary".parse::<EncodingMode>().unwrap(), EncodingMode::MultiHot);
}

#[test]
fn random_grayscale_matches_keras_and_draws_per_image() {
    let _lock = generator_lock();
    let x = vals(&[2, 3, 2, 3], 0.5);
    let m = model(&[3, 2, 3], RandomGrayscale::new(1.0));
    assert_close(&m.forward_t(&x, true).unwrap(), &[2, 3, 2, 3], &GRAYSCALE_ALL, "RandomGrayscale(1.0)");
    assert!(m.forward_t(&x, false).unwrap().equal(&x), "the identity at inference");
    assert!(model(&[3, 2, 3], RandomGrayscale::new(0.0)).forward_t(&x, true).unwrap().equal(&x));
    // Channels last: the same images, transposed.
    let xl = x.permute([0, 2, 3, 1]).contiguous();
    let m = model(&[2, 3, 3], RandomGrayscale::new(1.0).data_format(DataFormat::ChannelsLast));
    let y = m.forward_t(&xl, true).unwrap().permute([0, 3, 1, 2]);
    assert_close(&y, &[2, 3, 2, 3], &GRAYSCALE_ALL, "RandomGrayscale(1.0) channels_last");
    // With one half, about half of 400 images turn gray, each on its own draw.
    let many = vals(&[400, 3, 2, 3], 0.5);
    let y = model(&[3, 2, 3], RandomGrayscale::default()).forward_t(&many, true).unwrap();
    let gray = y.narrow(1, 0, 1).eq_tensor(&y.narrow(1, 1, 1)).all_dims([1i64, 2, 3].as_slice(), false);
    let count = i64::try_from(gray.sum(Kind::Int64)).unwrap();
    assert!((150..=250).contains(&count), "{count} of 400 turned gray");
    assert!(LayerConfig::from(RandomGrayscale::default()).draws_random());
    let layer = LayerConfig::from(RandomGrayscale::new(0.3).data_format(DataFormat::ChannelsLast));
    let back: LayerConfig = serde_json::from_str(&serde_json::to_string(&layer).unwrap()).unwrap();
    assert_eq!(back, layer);
    let mut bad = Sequential::new().input_shape([2, 4, 4]).add(RandomGrayscale::default());
    assert!(bad.build().unwrap_err().to_string().contains("3 channels"));
    let mut bad = Sequential::new().input_shape([3, 4, 4]).add(RandomGrayscale::new(1.5));
    assert!(bad.build().unwrap_err().to_string().contains("[0, 1]"));
}

// Keras 3.15.1's outputs, printed by tests/reference/keras_preprocessing.py.
/// Resizing(8, 11) bilinear: shape [1, 2, 8, 11]
const RESIZE_BILINEAR_UP: [f32; 176] = [
    0.2955202,
    0.5436797,
    0.855125,
    0.9507028,
    0.8766825,
    0.6754632,
    0.2720835,
    -0.1366297,
    -0.5524544,
    -0.8113154,
    -0.9775301,
    -0.2202813,
    0.02064492,
    0.3446977,
    0.5892869,
    0.7151666,
    0.7520141,
    0.56379,
    0.3170459,
    -0.007725234,
    -0.3186121,
    -0.5390215,
    -0.8673057,
    -0.6602657,
    -0.3528023,
    0.06030732,
    0.4328235,
    0.774895,
    0.8850467,
    0.8736017,
    0.7000276,
    0.3532325,
    0.08490021,
    -0.7058157,
    -0.7446404,
    -0.7651653,
    -0.5827112,
    -0.3139729,
    0.01947881,
    0.3471006,
    0.6061872,
    0.7738936,
    0.7369224,
    0.686148,
    -0.2265211,
    -0.4289684,
    -0.6836666,
    -0.7659972,
    -0.7112895,
    -0.553803,
    -0.2305679,
    0.09854983,
    0.4355113,
    0.6483994,
    0.7856916,
    0.570578,
    0.2867503,
    -0.1083064,
    -0.4895505,
    -0.759126,
    -0.9449503,
    -0.8479586,
    -0.6493104,
    -0.3151195,
    0.08766326,
    0.383531,
    0.7725508,
    0.674542,
    0.5135176,
    0.2096202,
    -0.1078526,
    -0.4355073,
    -0.6328181,
    -0.7344967,
    -0.7086654,
    -0.5019828,
    -0.3328224,
    0.8676441,
    0.9204907,
    0.9524081,
    0.7319183,
    0.402414,
    -0.008851309,
    -0.4174673,
    -0.7425858,
    -0.9563744,
    -0.9169836,
    -0.858707,
    -0.3266351,
    -0.01495628,
    0.4060422,
    0.7349294,
    0.9140201,
    0.9807633,
    0.7539721,
    0.4470935,
    0.03343123,
    -0.3736472,
    -0.6636339,
    -0.6166329,
    -0.4135684,
    -0.1220144,
    0.2131229,
    0.4872467,
    0.7156107,
    0.7297983,
    0.6493363,
    0.4426748,
    0.1300252,
    -0.1059137,
    -0.9302984,
    -0.8888461,
    -0.7949362,
    -0.4857663,
    -0.1161797,
    0.2987196,
    0.6242144,
    0.8457852,
    0.9287905,
    0.7704858,
    0.6286835,
    -0.3384115,
    -0.5166092,
    -0.7348549,
    -0.7657151,
    -0.6633577,
    -0.4610873,
    -0.1208173,
    0.2100092,
    0.5282447,
    0.6993037,
    0.8039678,
    0.2750674,
    0.0236591,
    -0.316425,
    -0.5851845,
    -0.7341642,
    -0.7933095,
    -0.6150238,
    -0.3709179,
    -0.03905162,
    0.2906704,
    0.5259309,
    0.9101384,
    0.7319586,
    0.4603534,
    0.0558258,
    -0.328599,
    -0.6979469,
    -0.8584049,
    -0.8969964,
    -0.7730987,
    -0.4554142,
    -0.2054268,
    0.6541547,
    0.7055673,
    0.7447399,
    0.5870821,
    0.3405751,
    0.02743092,
    -0.293923,
    -0.5540221,
    -0.7324483,
    -0.7164361,
    -0.6818514,
    0.4056619,
    0.6299507,
    0.9055132,
    0.9504251,
    0.8294998,
    0.5841966,
    0.1640482,
    -0.2463471,
    -0.6437387,
    -0.8614243,
    -0.9955206,
];
/// Resizing(3, 4) bilinear: shape [1, 2, 3, 4]
const RESIZE_BILINEAR_DOWN: [f32; 24] = [
    0.1027135,
    0.7610608,
    0.4045417,
    -0.472236,
    -0.7585202,
    -0.8107993,
    0.2417615,
    0.9389182,
    0.743967,
    0.1439749,
    -0.6744024,
    -0.5758095,
    -0.3587226,
    0.5176534,
    0.7193583,
    -0.03343817,
    -0.2800867,
    -0.9729303,
    -0.3629615,
    0.7035947,
    0.671363,
    0.5683573,
    -0.3142111,
    -0.7519331,
];
/// Resizing(8, 11) nearest: shape [1, 2, 8, 11]
const RESIZE_NEAREST_UP: [f32; 176] = [
    0.2955202,
    0.2955202,
    0.841471,
    0.9916648,
    0.9916648,
    0.6754632,
    0.04158066,
    0.04158066,
    -0.6118579,
    -0.9775301,
    -0.9775301,
    0.2955202,
    0.2955202,
    0.841471,
    0.9916648,
    0.9916648,
    0.6754632,
    0.04158066,
    0.04158066,
    -0.6118579,
    -0.9775301,
    -0.9775301,
    -0.8834547,
    -0.8834547,
    -0.3738767,
    0.3115413,
    0.3115413,
    0.8504366,
    0.9893582,
    0.9893582,
    0.6629692,
    0.02477542,
    0.02477542,
    -0.6250706,
    -0.6250706,
    -0.9809362,
    -0.8754522,
    -0.8754522,
    -0.3582293,
    0.3274744,
    0.3274744,
    0.8591618,
    0.9867719,
    0.9867719,
    -0.6250706,
    -0.6250706,
    -0.9809362,
    -0.8754522,
    -0.8754522,
    -0.3582293,
    0.3274744,
    0.3274744,
    0.8591618,
    0.9867719,
    0.9867719,
    0.6502879,
    0.6502879,
    0.007963183,
    -0.6381067,
    -0.6381067,
    -0.984065,
    -0.8672022,
    -0.8672022,
    -0.3424806,
    0.3433149,
    0.3433149,
    0.8676441,
    0.8676441,
    0.9839067,
    0.6374226,
    0.6374226,
    -0.008851309,
    -0.6509623,
    -0.6509623,
    -0.9869155,
    -0.858707,
    -0.858707,
    0.8676441,
    0.8676441,
    0.9839067,
    0.6374226,
    0.6374226,
    -0.008851309,
    -0.6509623,
    -0.6509623,
    -0.9869155,
    -0.858707,
    -0.858707,
    -0.3266351,
    -0.3266351,
    0.3590584,
    0.8758811,
    0.8758811,
    0.9807633,
    0.6243771,
    0.6243771,
    -0.0256633,
    -0.6636339,
    -0.6636339,
    -0.3266351,
    -0.3266351,
    0.3590584,
    0.8758811,
    0.8758811,
    0.9807633,
    0.6243771,
    0.6243771,
    -0.0256633,
    -0.6636339,
    -0.6636339,
    -0.9894871,
    -0.9894871,
    -0.849969,
    -0.3106973,
    -0.3106973,
    0.3747003,
    0.8838704,
    0.8838704,
    0.9773425,
    0.6111552,
    0.6111552,
    -0.04246803,
    -0.04246803,
    -0.6761178,
    -0.9917789,
    -0.9917789,
    -0.8409908,
    -0.2946716,
    -0.2946716,
    0.3902362,
    0.8916098,
    0.8916098,
    -0.04246803,
    -0.04246803,
    -0.6761178,
    -0.9917789,
    -0.9917789,
    -0.8409908,
    -0.2946716,
    -0.2946716,
    0.3902362,
    0.8916098,
    0.8916098,
    0.9736454,
    0.9736454,
    0.5977604,
    -0.05926076,
    -0.05926076,
    -0.6884106,
    -0.9937902,
    -0.9937902,
    -0.8317748,
    -0.2785626,
    -0.2785626,
    0.4056619,
    0.4056619,
    0.8990973,
    0.9696731,
    0.9696731,
    0.5841966,
    -0.07603674,
    -0.07603674,
    -0.7005088,
    -0.9955206,
    -0.9955206,
    0.4056619,
    0.4056619,
    0.8990973,
    0.9696731,
    0.9696731,
    0.5841966,
    -0.07603674,
    -0.07603674,
    -0.7005088,
    -0.9955206,
    -0.9955206,
];
/// Resizing(3, 4) nearest: shape [1, 2, 3, 4]
const RESIZE_NEAREST_DOWN: [f32; 24] = [
    0.2955202,
    0.9916648,
    0.04158066,
    -0.9775301,
    -0.6250706,
    -0.8754522,
    0.3274744,
    0.9867719,
    0.8676441,
    0.6374226,
    -0.6509623,
    -0.858707,
    -0.3266351,
    0.8758811,
    0.6243771,
    -0.6636339,
    -0.04246803,
    -0.9917789,
    -0.2946716,
    0.8916098,
    0.4056619,
    0.9696731,
    -0.07603674,
    -0.9955206,
];
/// Resizing(8, 11) bicubic: shape [1, 2, 8, 11]
const RESIZE_BICUBIC_UP: [f32; 176] = [
    0.3548246,
    0.6430733,
    0.9949179,
    1.094743,
    0.9728289,
    0.6592197,
    0.2496086,
    -0.2800157,
    -0.6643981,
    -0.9755785,
    -1.101649,
    -0.2868681,
    0.001260662,
    0.433249,
    0.7069514,
    0.8826491,
    0.8482677,
    0.690353,
    0.3414192,
    -0.007944186,
    -0.4291204,
    -0.6741278,
    -0.9652194,
    -0.771096,
    -0.3834389,
    0.0102346,
    0.4866521,
    0.7993146,
    0.9955725,
    0.9776347,
    0.7841996,
    0.3679278,
    0.05968184,
    -0.8946016,
    -0.966567,
    -0.9535365,
    -0.7599536,
    -0.3556708,
    0.07327428,
    0.4915481,
    0.8505126,
    0.9902747,
    0.929608,
    0.8115894,
    -0.1821615,
    -0.4757022,
    -0.8564306,
    -1.006662,
    -0.9656157,
    -0.7241981,
    -0.3773157,
    0.1116284,
    0.4933318,
    0.8409821,
    1.0026,
    0.6390848,
    0.3342552,
    -0.1647717,
    -0.5453148,
    -0.8868489,
    -0.9964691,
    -0.9609734,
    -0.6862174,
    -0.3348385,
    0.1683561,
    0.4898076,
    0.8984687,
    0.817947,
    0.5948108,
    0.2964849,
    -0.1321593,
    -0.4785434,
    -0.7552369,
    -0.8879145,
    -0.8347431,
    -0.5765734,
    -0.3563303,
    0.8707808,
    0.9985624,
    1.065243,
    0.9160741,
    0.5311007,
    0.08168214,
    -0.3796313,
    -0.815123,
    -1.024289,
    -1.039762,
    -0.9633176,
    -0.3323215,
    0.02196941,
    0.5505983,
    0.8816146,
    1.088186,
    1.037027,
    0.8348451,
    0.4000428,
    -0.03065335,
    -0.5450377,
    -0.8425183,
    -0.73487,
    -0.5078813,
    -0.1038737,
    0.2497024,
    0.6241434,
    0.8184381,
    0.8935434,
    0.7618017,
    0.5142226,
    0.09506749,
    -0.1923324,
    -0.979647,
    -0.9797162,
    -0.857208,
    -0.5916788,
    -0.1373099,
    0.2889135,
    0.6730619,
    0.9487453,
    1.002063,
    0.8339906,
    0.6523389,
    -0.4229526,
    -0.6711593,
    -0.9594326,
    -1.013559,
    -0.8541195,
    -0.5329937,
    -0.1342482,
    0.3548339,
    0.6921999,
    0.9399973,
    1.026777,
    0.4508891,
    0.1256068,
    -0.3779832,
    -0.7214156,
    -0.9786881,
    -0.9951364,
    -0.866663,
    -0.5084693,
    -0.1209588,
    0.3763323,
    0.6764933,
    0.9881085,
    0.8144771,
    0.4521257,
    0.06618225,
    -0.4178188,
    -0.7517601,
    -0.9762222,
    -0.9952792,
    -0.8290435,
    -0.4352951,
    -0.136445,
    0.7190021,
    0.8177547,
    0.8635248,
    0.7357618,
    0.4168899,
    0.04953858,
    -0.3250267,
    -0.6745368,
    -0.838687,
    -0.8427416,
    -0.7751237,
    0.3005234,
    0.5989954,
    0.9716898,
    1.093188,
    0.9979725,
    0.7023384,
    0.304423,
    -0.2251701,
    -0.619551,
    -0.9532496,
    -1.096197,
];
/// Resizing(3, 4) bicubic: shape [1, 2, 3, 4]
const RESIZE_BICUBIC_DOWN: [f32; 24] = [
    0.09680909,
    0.8682138,
    0.4631784,
    -0.5768448,
    -0.7602606,
    -0.8208662,
    0.2229642,
    0.9758352,
    0.8519827,
    0.1562125,
    -0.7414338,
    -0.6409802,
    -0.4249788,
    0.6152195,
    0.8159958,
    -0.09104826,
    -0.249997,
    -1.004282,
    -0.3993724,
    0.7560868,
    0.7369707,
    0.6381063,
    -0.3175863,
    -0.8525347,
];
/// Resizing(4, 4) crop_to_aspect_ratio: shape [1, 2, 4, 4]
const CROP_ASPECT_4X4: [f32; 32] = [
    0.7166896, 0.8281564, 0.3615336, -0.3759348, -0.5430312, 0.06545684, 0.612165, 0.7371177, -0.4084037, -0.7354608,
    -0.5430152, 0.04221858, 0.8139222, 0.249706, -0.4727775, -0.8778151, 0.2728835, 0.7941012, 0.7498856, 0.1693501,
    -0.7574409, -0.3842582, 0.2457543, 0.7177701, 0.05392966, -0.5352075, -0.7368736, -0.4182832, 0.8588834, 0.6850805,
    0.0401978, -0.6511469,
];
/// Resizing(3, 8) crop_to_aspect_ratio nearest: shape [1, 2, 3, 8]
const CROP_ASPECT_3X8_NEAREST: [f32; 48] = [
    -0.8834547,
    -0.3738767,
    0.3115413,
    0.8504366,
    0.8504366,
    0.9893582,
    0.6629692,
    0.02477542,
    -0.6250706,
    -0.9809362,
    -0.8754522,
    -0.3582293,
    -0.3582293,
    0.3274744,
    0.8591618,
    0.9867719,
    -0.6250706,
    -0.9809362,
    -0.8754522,
    -0.3582293,
    -0.3582293,
    0.3274744,
    0.8591618,
    0.9867719,
    -0.9894871,
    -0.849969,
    -0.3106973,
    0.3747003,
    0.3747003,
    0.8838704,
    0.9773425,
    0.6111552,
    -0.04246803,
    -0.6761178,
    -0.9917789,
    -0.8409908,
    -0.8409908,
    -0.2946716,
    0.3902362,
    0.8916098,
    -0.04246803,
    -0.6761178,
    -0.9917789,
    -0.8409908,
    -0.8409908,
    -0.2946716,
    0.3902362,
    0.8916098,
];
/// Resizing(4, 4) pad_to_aspect_ratio fill 0.5: shape [1, 2, 4, 4]
const PAD_ASPECT_4X4: [f32; 32] = [
    0.5000944,
    0.6695524,
    0.357806,
    -0.002651146,
    -0.7006326,
    0.2301904,
    0.8807141,
    0.3484506,
    0.2634241,
    -0.6975325,
    -0.7413636,
    0.1927387,
    0.6542159,
    0.5212394,
    0.09848809,
    -0.02754444,
    0.2864375,
    0.6458718,
    0.563347,
    0.1533519,
    -0.8550327,
    -0.318511,
    0.6723259,
    0.7428653,
    0.6935917,
    -0.2422827,
    -0.8815357,
    -0.3373157,
    0.5340126,
    0.6580582,
    0.3149347,
    -0.0193342,
];
/// Resizing(3, 4) bilinear antialias: shape [1, 2, 3, 4]
const ANTIALIAS_BILINEAR: [f32; 24] = [
    0.06087386, 0.6383434, 0.4298667, -0.2937827, -0.5040609, -0.4799398, 0.1543867, 0.5750434, 0.6524275, 0.04082387,
    -0.6483408, -0.5199667, -0.3705894, 0.3610877, 0.6652315, 0.1468144, -0.2293552, -0.5659387, -0.1983405, 0.3959959,
    0.6951521, 0.4397774, -0.384558, -0.7071919,
];
/// Resizing(3, 4) bicubic antialias: shape [1, 2, 3, 4]
const ANTIALIAS_BICUBIC: [f32; 24] = [
    0.005789242,
    0.7332773,
    0.5185971,
    -0.3555254,
    -0.5982618,
    -0.5967683,
    0.1828671,
    0.7138933,
    0.7458203,
    0.01645619,
    -0.748337,
    -0.5413548,
    -0.4701181,
    0.4116272,
    0.7735521,
    0.1390147,
    -0.2444728,
    -0.7117471,
    -0.259941,
    0.5159333,
    0.7772548,
    0.4825565,
    -0.4469822,
    -0.7871931,
];
/// Resizing(3, 4) channels_last on vals([1, 5, 7, 2]): shape [1, 3, 4, 2]
const CHANNELS_LAST_3X4: [f32; 24] = [
    0.1313951,
    0.2703384,
    0.07942341,
    -0.1528542,
    -0.2561175,
    -0.05090788,
    0.2944881,
    0.2207863,
    0.781311,
    0.6116225,
    -0.6769304,
    -0.9043805,
    0.2068377,
    0.7255665,
    0.3517466,
    -0.1806297,
    0.1458899,
    -0.05327527,
    -0.3196639,
    -0.1681078,
    0.3295234,
    0.3084092,
    -0.1696541,
    -0.2848912,
];
/// CenterCrop(3, 4): shape [1, 2, 3, 4]
const CENTER_3X4: [f32; 24] = [
    -0.3738767,
    0.3115413,
    0.8504366,
    0.9893582,
    -0.9809362,
    -0.8754522,
    -0.3582293,
    0.3274744,
    0.007963183,
    -0.6381067,
    -0.984065,
    -0.8672022,
    -0.849969,
    -0.3106973,
    0.3747003,
    0.8838704,
    -0.6761178,
    -0.9917789,
    -0.8409908,
    -0.2946716,
    0.5977604,
    -0.05926076,
    -0.6884106,
    -0.9937902,
];
/// CenterCrop(6, 4): shape [1, 2, 6, 4]
const CENTER_6X4: [f32; 48] = [
    0.9916648,
    0.7940388,
    0.4377573,
    0.04158066,
    0.4815722,
    0.6847729,
    0.7863385,
    0.7524139,
    -0.3808714,
    -0.05196329,
    0.3170858,
    0.6032594,
    -0.7765582,
    -0.6780806,
    -0.4507365,
    -0.1703073,
    -0.3192244,
    -0.5823726,
    -0.7675918,
    -0.8131422,
    0.6374226,
    0.2335014,
    -0.2496429,
    -0.6509622,
    0.8758811,
    0.9414324,
    0.8471184,
    0.6243771,
    -0.0140527,
    0.3236153,
    0.6360089,
    0.8189971,
    -0.7079948,
    -0.474531,
    -0.1353876,
    0.1963877,
    -0.6032298,
    -0.712096,
    -0.7056239,
    -0.5859709,
    0.1979727,
    -0.157172,
    -0.5180437,
    -0.7643518,
    0.9696731,
    0.7287503,
    0.3366091,
    -0.07603674,
];
/// CenterCrop(8, 9): shape [1, 2, 8, 9]
const CENTER_8X9: [f32; 144] = [
    0.841471,
    0.8915356,
    0.9749767,
    0.8511307,
    0.6754632,
    0.3233061,
    -0.03102366,
    -0.3940453,
    -0.6118579,
    0.3097564,
    0.4378745,
    0.6514048,
    0.7198456,
    0.7520141,
    0.5876914,
    0.3995273,
    0.1159969,
    -0.05412103,
    -0.4118179,
    -0.1954271,
    0.1652241,
    0.4762613,
    0.774895,
    0.8710592,
    0.9176839,
    0.766151,
    0.6752312,
    -0.7912301,
    -0.695659,
    -0.5363737,
    -0.2716298,
    0.01947881,
    0.305498,
    0.5635952,
    0.7100056,
    0.7978516,
    -0.6719052,
    -0.7150307,
    -0.7869065,
    -0.6912911,
    -0.553803,
    -0.2716134,
    0.01297252,
    0.3071452,
    0.4836485,
    -0.05384303,
    -0.2535423,
    -0.5863744,
    -0.7827228,
    -0.9449503,
    -0.860275,
    -0.7341841,
    -0.4424301,
    -0.267378,
    0.5569314,
    0.3977471,
    0.13244,
    -0.1494596,
    -0.4355073,
    -0.6077629,
    -0.741057,
    -0.7185059,
    -0.7049752,
    0.9839067,
    0.868412,
    0.6759208,
    0.3501897,
    -0.008851309,
    -0.3655798,
    -0.6882904,
    -0.8749313,
    -0.9869155,
    0.3590584,
    0.5313326,
    0.8184564,
    0.9224954,
    0.9807633,
    0.7827709,
    0.5521504,
    0.1910166,
    -0.0256633,
    -0.1698911,
    0.005656939,
    0.2982371,
    0.5162454,
    0.7156107,
    0.7279967,
    0.7018217,
    0.5214028,
    0.4131517,
    -0.8391033,
    -0.6771572,
    -0.4072469,
    -0.06349396,
    0.2987196,
    0.5828819,
    0.8247045,
    0.8971695,
    0.9406484,
    -0.7304463,
    -0.7466111,
    -0.7735526,
    -0.6376726,
    -0.4610873,
    -0.164026,
    0.1291877,
    0.4070124,
    0.5737069,
    -0.2780309,
    -0.4188096,
    -0.6534408,
    -0.7416747,
    -0.7933095,
    -0.6376631,
    -0.4552012,
    -0.1654767,
    0.008357804,
    0.518143,
    0.3062476,
    -0.04691139,
    -0.3755004,
    -0.6979469,
    -0.8380294,
    -0.9284623,
    -0.8202978,
    -0.7553991,
    0.7672624,
    0.6846797,
    0.5470421,
    0.3008107,
    0.02743092,
    -0.2531163,
    -0.5087076,
    -0.6644765,
    -0.7579377,
    0.8990973,
    0.9226226,
    0.9618314,
    0.7983502,
    0.5841966,
    0.2174001,
    -0.1454226,
    -0.4923516,
    -0.7005088,
];
/// smart_resize to (3, 4) (RandomCrop's documented inference): shape [1, 2, 3, 4]
const SMART_RESIZE_3X4: [f32; 24] = [
    0.03598525,
    0.6828066,
    0.6397174,
    -0.05081002,
    -0.7140371,
    -0.9018232,
    -0.1868033,
    0.7262399,
    0.761042,
    0.3238325,
    -0.4312026,
    -0.7598384,
    -0.421677,
    0.3492785,
    0.7617754,
    0.4092227,
    -0.2008805,
    -0.9128636,
    -0.704411,
    0.2190093,
    0.6459053,
    0.6696841,
    0.02450679,
    -0.6536868,
];
/// RandomCrop(5, 4) training (fixed window): shape [1, 2, 5, 4]
const RANDOM_TRAIN_5X4: [f32; 40] = [
    0.841471,
    0.9916648,
    0.6754632,
    0.04158066,
    -0.3738767,
    0.3115413,
    0.8504366,
    0.9893582,
    -0.9809362,
    -0.8754522,
    -0.3582293,
    0.3274744,
    0.007963183,
    -0.6381067,
    -0.984065,
    -0.8672022,
    0.9839067,
    0.6374226,
    -0.008851309,
    -0.6509623,
    0.3590584,
    0.8758811,
    0.9807633,
    0.6243771,
    -0.849969,
    -0.3106973,
    0.3747003,
    0.8838704,
    -0.6761178,
    -0.9917789,
    -0.8409908,
    -0.2946716,
    0.5977604,
    -0.05926076,
    -0.6884106,
    -0.9937902,
    0.8990973,
    0.9696731,
    0.5841966,
    -0.07603674,
];
/// RandomCrop(6, 8) training (fixed window): shape [1, 2, 6, 8]
const RANDOM_TRAIN_6X8: [f32; 96] = [
    0.2955202,
    0.7391052,
    0.9447292,
    0.8138014,
    0.3981396,
    -0.1626189,
    -0.6804215,
    -0.9775301,
    -0.588711,
    -0.1672906,
    0.3091935,
    0.6644528,
    0.782946,
    0.6248665,
    0.2373755,
    -0.225801,
    -0.7327307,
    -0.7288827,
    -0.4893475,
    -0.08485411,
    0.3457032,
    0.657683,
    0.7415133,
    0.58594,
    -0.09367148,
    -0.4797906,
    -0.7116635,
    -0.6879284,
    -0.4226936,
    -0.00506201,
    0.4260128,
    0.7186649,
    0.7046269,
    0.3368262,
    -0.1407327,
    -0.5560578,
    -0.7721468,
    -0.7164069,
    -0.4011396,
    0.04280944,
    0.8676441,
    0.9621074,
    0.7456989,
    0.2738935,
    -0.2897749,
    -0.7559476,
    -0.9628764,
    -0.858707,
    -0.3266351,
    0.2304908,
    0.714374,
    0.9348773,
    0.8248443,
    0.4212395,
    -0.1452828,
    -0.6636339,
    -0.8237741,
    -0.5994738,
    -0.1808213,
    0.2898484,
    0.6543077,
    0.7901202,
    0.6451911,
    0.2924579,
    -0.4370594,
    -0.6901503,
    -0.7206702,
    -0.4978774,
    -0.10221,
    0.3334115,
    0.6610932,
    0.7747537,
    0.3809124,
    -0.04666396,
    -0.4601378,
    -0.7012094,
    -0.6936586,
    -0.4400221,
    -0.02087739,
    0.4040381,
    0.8316495,
    0.7028236,
    0.3464483,
    -0.1216575,
    -0.5426745,
    -0.7751663,
    -0.7349914,
    -0.4578021,
    0.4056619,
    0.8065781,
    0.9476181,
    0.7528425,
    0.2953445,
    -0.2711843,
    -0.7558235,
    -0.9955207,
];
/// CategoryEncoding(4, one_hot) on [[0.0, 1.0, 1.0, 3.0], [2.0, 2.0, 0.0, 0.0]]: shape [2, 4, 4]
const ENCODE_ONE_HOT: [f32; 32] = [
    1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
    0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0,
];
/// CategoryEncoding(4, multi_hot) on [[0.0, 1.0, 1.0, 3.0], [2.0, 2.0, 0.0, 0.0]]: shape [2, 4]
const ENCODE_MULTI_HOT: [f32; 8] = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
/// CategoryEncoding(4, count) on [[0.0, 1.0, 1.0, 3.0], [2.0, 2.0, 0.0, 0.0]]: shape [2, 4]
const ENCODE_COUNT: [f32; 8] = [1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 2.0, 0.0];
/// CategoryEncoding(5, one_hot) on [[3], [0], [4]]: shape [3, 5]
const ENCODE_ONE_HOT_COLUMN: [f32; 15] = [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
/// Discretization([0.0, 1.0, 2.5], int) on [[-1.0, 0.0, 0.5, 1.0], [2.5, 2.4999001026153564, 3.0, 100.0]]: shape [2, 4]
const BINS_INT: [f32; 8] = [0.0, 1.0, 1.0, 2.0, 3.0, 2.0, 3.0, 3.0];
/// Discretization([0.0, 1.0, 2.5], one_hot) on [[-1.0, 0.0, 0.5, 1.0], [2.5, 2.4999001026153564, 3.0, 100.0]]: shape [2, 4, 4]
const BINS_ONE_HOT: [f32; 32] = [
    1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0,
    0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
];
/// Discretization([0.0, 1.0, 2.5], multi_hot) on [[-1.0, 0.0, 0.5, 1.0], [2.5, 2.4999001026153564, 3.0, 100.0]]: shape [2, 4]
const BINS_MULTI_HOT: [f32; 8] = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0];
/// Discretization([0.0, 1.0, 2.5], count) on [[-1.0, 0.0, 0.5, 1.0], [2.5, 2.4999001026153564, 3.0, 100.0]]: shape [2, 4]
const BINS_COUNT: [f32; 8] = [1.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0, 3.0];
/// RandomGrayscale(1.0) training on vals([2, 3, 2, 3], 0.5): shape [2, 3, 2, 3]
const GRAYSCALE_ALL: [f32; 36] = [
    -0.3865383, -0.1948995, 0.08840353, 0.330129, 0.4165897, 0.3071217, -0.3865383, -0.1948995, 0.08840353, 0.330129,
    0.4165897, 0.3071217, -0.3865383, -0.1948995, 0.08840353, 0.330129, 0.4165897, 0.3071217, -0.3810619, -0.1823952,
    0.1020547, 0.3385067, 0.4157538, 0.2974652, -0.3810619, -0.1823952, 0.1020547, 0.3385067, 0.4157538, 0.2974652,
    -0.3810619, -0.1823952, 0.1020547, 0.3385067, 0.4157538, 0.2974652,
];
