//! Keras's initializers as layer options: statistics and bounds of large kernels, Keras's fans
//! for convolutions, exact constants, the default draws unchanged, saving and loading.
use tch::{Device, Kind, Tensor};
use tch_keras::initializers::{Distribution, FanMode};
use tch_keras::{
    load_model, Conv1D, Conv2D, Conv2DTranspose, Dense, Embedding, Error, Initializer, LayerConfig, Sequential,
    SimpleRNN, GRU, LSTM,
};

/// Serialises this file's tests: some redraw a model's initial weights from LibTorch's one
/// process-wide generator, which another test building a model at the same time would reseed.
fn rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The built model's variable `layers.{layer}.{name}`.
fn var(m: &Sequential, layer: usize, name: &str) -> Tensor {
    let full = format!("layers.{layer}.{name}");
    m.variables().unwrap().iter().find(|(n, _)| *n == full).unwrap_or_else(|| panic!("no {full}")).1.copy()
}

/// A one-layer model on `input`, built with `seed`.
fn built(layer: impl Into<LayerConfig>, input: &[i64], seed: u64) -> Sequential {
    let mut m = Sequential::new().device(Device::Cpu).seed(seed).input_shape(input.to_vec()).add(layer);
    m.build().unwrap();
    m
}

fn stats(t: &Tensor) -> (f64, f64, f64) {
    (t.mean(Kind::Double).double_value(&[]), t.std(true).double_value(&[]), t.abs().max().double_value(&[]))
}

/// Mean near 0, the asked standard deviation (2 %), no value beyond `bound`.
fn assert_spread(t: &Tensor, std: f64, bound: f64, what: &str) {
    let (mean, s, max) = stats(t);
    assert!(mean.abs() < 0.02 * std, "{what}: mean {mean}");
    assert!((s / std - 1.0).abs() < 0.02, "{what}: std {s}, expected {std}");
    assert!(max <= bound * (1.0 + 1e-6), "{what}: max |w| {max} beyond {bound}");
}

#[test]
fn dense_kernels_follow_keras_formulas() {
    let _rng = rng();
    // Keras's kernel (500, 400): fan_in 500, fan_out 400. Truncated normals are scaled so their
    // std after truncation is the asked one, and stay within 2 / 0.8796 of it.
    let (fan_in, fan_out) = (500.0f64, 400.0f64);
    let t = 1.0 / 0.879_625_661_034_239_8;
    let cases = [
        (Initializer::HeNormal, (2.0 / fan_in).sqrt(), 2.0 * t * (2.0 / fan_in).sqrt()),
        (Initializer::GlorotNormal, (2.0 / (fan_in + fan_out)).sqrt(), 2.0 * t * (2.0 / (fan_in + fan_out)).sqrt()),
        (Initializer::LecunNormal, (1.0 / fan_in).sqrt(), 2.0 * t * (1.0 / fan_in).sqrt()),
        (Initializer::HeUniform, (6.0 / fan_in).sqrt() / 3f64.sqrt(), (6.0 / fan_in).sqrt()),
        (Initializer::LecunUniform, (3.0 / fan_in).sqrt() / 3f64.sqrt(), (3.0 / fan_in).sqrt()),
        (
            Initializer::GlorotUniform,
            (6.0 / (fan_in + fan_out)).sqrt() / 3f64.sqrt(),
            (6.0 / (fan_in + fan_out)).sqrt(),
        ),
        (
            Initializer::variance_scaling(3.0, FanMode::FanOut, Distribution::UntruncatedNormal),
            (3.0 / fan_out).sqrt(),
            f64::INFINITY,
        ),
    ];
    for (init, std, bound) in cases {
        let m = built(Dense::new(400).kernel_initializer(init), &[500], 1);
        let w = var(&m, 0, "weight");
        assert_eq!(w.size(), [400, 500]);
        assert_spread(&w, std, bound, init.name());
        if bound.is_finite() && init.name().ends_with("uniform") {
            // Uniform draws reach close to their limit.
            assert!(stats(&w).2 > 0.999 * bound, "{}", init.name());
        }
    }
}

#[test]
fn convolution_fans_are_receptive_field_times_channels() {
    let _rng = rng();
    // Conv2D: Keras's kernel (3, 3, 32, 64): fan_in 288, fan_out 576.
    let m = built(Conv2D::new(64, 3).kernel_initializer(Initializer::HeUniform), &[32, 8, 8], 2);
    let w = var(&m, 0, "weight");
    assert_eq!(w.size(), [64, 32, 3, 3]);
    let limit = (6.0f64 / 288.0).sqrt();
    assert_spread(&w, limit / 3f64.sqrt(), limit, "Conv2D he_uniform");
    assert!(stats(&w).2 > 0.999 * limit);
    let fan_out = Initializer::variance_scaling(1.0, FanMode::FanOut, Distribution::Uniform);
    let w = var(&built(Conv2D::new(64, 3).kernel_initializer(fan_out), &[32, 8, 8], 2), 0, "weight");
    let limit = (3.0f64 / 576.0).sqrt();
    assert_spread(&w, limit / 3f64.sqrt(), limit, "Conv2D fan_out");
    // Conv1D: Keras's kernel (5, 40, 100): fan_in 200, fan_out 500, mean 350.
    let fan_avg = Initializer::variance_scaling(2.0, FanMode::FanAvg, Distribution::TruncatedNormal);
    let w = var(&built(Conv1D::new(100, 5).kernel_initializer(fan_avg), &[40, 9], 3), 0, "weight");
    let std = (2.0f64 / 350.0).sqrt();
    assert_spread(&w, std, 2.0 * std / 0.879_625_661_034_239_8, "Conv1D fan_avg");
}

#[test]
fn constants_are_exact_and_random_ones_have_their_spread() {
    let _rng = rng();
    let layer = Dense::new(300).kernel_initializer(Initializer::constant(0.25)).bias_initializer(Initializer::Ones);
    let m = built(layer, &[7], 0);
    assert!(var(&m, 0, "weight").eq(0.25).all().int64_value(&[]) == 1);
    assert!(var(&m, 0, "bias").eq(1.0).all().int64_value(&[]) == 1);
    let m = built(Dense::new(4).kernel_initializer(Initializer::Zeros), &[3], 0);
    assert!(var(&m, 0, "weight").eq(0.0).all().int64_value(&[]) == 1);

    let m = built(Dense::new(500).kernel_initializer(Initializer::random_normal(0.0, 0.3)), &[400], 4);
    assert_spread(&var(&m, 0, "weight"), 0.3, f64::INFINITY, "random_normal");
    let m = built(Dense::new(500).bias_initializer(Initializer::random_uniform(2.0, 4.0)), &[4], 4);
    let b = var(&m, 0, "bias");
    assert!(b.ge(2.0).all().int64_value(&[]) == 1 && b.le(4.0).all().int64_value(&[]) == 1);
    // Truncated: mean 1, std 0.5 before truncation, every value within two of them.
    let m = built(Dense::new(500).kernel_initializer(Initializer::truncated_normal(1.0, 0.5)), &[400], 5);
    let w = var(&m, 0, "weight");
    let (mean, std, _) = stats(&w);
    assert!((mean - 1.0).abs() < 0.005 && (std - 0.5 * 0.879_625_661_034_239_8).abs() < 0.005, "{mean} {std}");
    assert!(w.ge(0.0).all().int64_value(&[]) == 1 && w.le(2.0).all().int64_value(&[]) == 1);

    let m = built(Embedding::new(1000, 64).embeddings_initializer(Initializer::HeNormal), &[5], 6);
    let std = (2.0f64 / 1000.0).sqrt();
    assert_spread(&var(&m, 0, "weight"), std, 2.0 * std / 0.879_625_661_034_239_8, "Embedding he_normal");
}

#[test]
fn orthogonal_kernels_are_orthogonal_times_gain() {
    let _rng = rng();
    // Keras's kernel (64, 16) has orthonormal columns; ours is its transpose [16, 64].
    let m = built(Dense::new(16).kernel_initializer(Initializer::orthogonal(2.0)), &[64], 7);
    let w = var(&m, 0, "weight");
    let gram = w.matmul(&w.tr());
    let expected = Tensor::eye(16, (Kind::Float, Device::Cpu)) * 4.0;
    assert!(gram.allclose(&expected, 1e-4, 1e-4, false), "{gram}");
    // A bias cannot be orthogonal: the error says so.
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([3])
        .add(Dense::new(2).bias_initializer(Initializer::orthogonal(1.0)));
    let e = m.build().unwrap_err().to_string();
    assert!(e.contains("at least two dimensions"), "{e}");
}

#[test]
fn an_orthogonal_bias_is_refused_naming_the_layer_and_the_variable() {
    // Each layer's bias is one-dimensional; the error names the layer and bias_initializer, as
    // the other option errors do, both when the model is built and in a summary.
    let orthogonal = Initializer::orthogonal(1.0);
    let cases: [(LayerConfig, &[i64], &str); 5] = [
        (Dense::new(2).bias_initializer(orthogonal).into(), &[3], "(Dense)"),
        (Conv1D::new(2, 3).bias_initializer(orthogonal).into(), &[2, 6], "(Conv1D)"),
        (Conv2D::new(2, 3).bias_initializer(orthogonal).into(), &[2, 5, 5], "(Conv2D)"),
        (Conv2DTranspose::new(2, 3).bias_initializer(orthogonal).into(), &[2, 5, 5], "(Conv2DTranspose)"),
        (LSTM::new(4).bias_initializer(orthogonal).into(), &[5, 3], "(LSTM)"),
    ];
    for (layer, input, name) in cases {
        let e = layer.spec().output_shape(input).unwrap_err();
        assert!(e.contains("bias_initializer orthogonal"), "{e}");
        let mut m = Sequential::new().device(Device::Cpu).input_shape(input).add(layer.clone());
        let e = m.build().unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("bias_initializer orthogonal"), "{e}");
    }
    let mut m = Sequential::new().device(Device::Cpu).input_shape([5, 3]);
    m = m.add(SimpleRNN::new(4).bias_initializer(orthogonal));
    let e = m.build().unwrap_err().to_string();
    assert!(e.contains("(SimpleRNN)") && e.contains("bias_initializer orthogonal"), "{e}");
    // GRU's bias is Keras's [2, 3 * units]: an orthogonal matrix, as in Keras.
    let mut m = Sequential::new().device(Device::Cpu).input_shape([5, 3]).add(GRU::new(4).bias_initializer(orthogonal));
    m.build().unwrap();
}

/// Main's initial weights, drawn as it drew them: `manual_seed(seed)`, then each layer's
/// kernel in order `U(-l, l)` on PyTorch's layout (biases zeros, no draw), embeddings
/// `U(-0.05, 0.05)`.
#[test]
fn default_draws_are_unchanged() {
    let _rng = rng();
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .seed(11)
        .input_shape([3])
        .add(Embedding::new(10, 4))
        .add(Conv1D::new(5, 2))
        .add(tch_keras::Flatten::new())
        .add(Dense::new(6));
    m.build().unwrap();
    tch::manual_seed(11);
    let uniform = |shape: &[i64], l: f64| Tensor::zeros(shape, (Kind::Float, Device::Cpu)).uniform_(-l, l);
    let emb = uniform(&[10, 4], 0.05);
    // Conv1D on [3, 4] (channels 3, length 4): fans 3 * 2 and 5 * 2.
    let conv = uniform(&[5, 3, 2], (6.0f64 / (6 + 10) as f64).sqrt());
    let dense = uniform(&[6, 15], (6.0f64 / (15 + 6) as f64).sqrt());
    assert!(var(&m, 0, "weight").equal(&emb));
    assert!(var(&m, 1, "weight").equal(&conv));
    assert!(var(&m, 3, "weight").equal(&dense));
    assert!(var(&m, 3, "bias").eq(0.0).all().int64_value(&[]) == 1);
    // A Conv2D too.
    let m = built(Conv2D::new(3, 2), &[2, 5, 5], 12);
    tch::manual_seed(12);
    let kernel = uniform(&[3, 2, 2, 2], (6.0f64 / (8 + 12) as f64).sqrt());
    assert!(var(&m, 0, "weight").equal(&kernel));
    // A Conv2DTranspose ([in 2, filters 3, 2, 2]: fans 3 * 4 and 2 * 4) and a SimpleRNN.
    let m = built(Conv2DTranspose::new(3, 2), &[2, 5, 5], 13);
    tch::manual_seed(13);
    let kernel = uniform(&[2, 3, 2, 2], (6.0f64 / (12 + 8) as f64).sqrt());
    assert!(var(&m, 0, "weight").equal(&kernel));
    let m = built(SimpleRNN::new(4), &[3, 5], 14);
    tch::manual_seed(14);
    let kernel = uniform(&[4, 5], (6.0f64 / (5 + 4) as f64).sqrt());
    let normal = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let (q, r) = Tensor::linalg_qr(&normal, "reduced");
    assert!(var(&m, 0, "weight_ih_l0").equal(&kernel));
    assert!(var(&m, 0, "weight_hh_l0").equal(&(q * r.diagonal(0, 0, 1).sign())));
}

/// Conv2DTranspose's fans are Keras's for its kernel `(kh, kw, filters, in)`; SimpleRNN takes
/// the recurrent options.
#[test]
fn transposed_convolution_and_simple_rnn_take_the_options() {
    let _rng = rng();
    // Keras's kernel (3, 3, 64, 32): fan_in 9 * 64, fan_out 9 * 32.
    let m = built(Conv2DTranspose::new(64, 3).kernel_initializer(Initializer::HeNormal), &[32, 6, 6], 15);
    let w = var(&m, 0, "weight");
    assert_eq!(w.size(), [32, 64, 3, 3]);
    let std = (2.0f64 / 576.0).sqrt();
    assert_spread(&w, std, 2.0 * std / 0.879_625_661_034_239_8, "Conv2DTranspose he_normal");
    let rnn = SimpleRNN::new(6)
        .kernel_initializer(Initializer::Ones)
        .recurrent_initializer(Initializer::constant(0.1))
        .bias_initializer(Initializer::constant(-1.0));
    let m = built(rnn, &[3, 2], 0);
    assert!(var(&m, 0, "weight_ih_l0").eq(1.0).all().int64_value(&[]) == 1);
    assert!(
        var(&m, 0, "weight_hh_l0")
            .eq_tensor(&Tensor::full([6, 6], 0.1, (Kind::Float, Device::Cpu)))
            .all()
            .int64_value(&[])
            == 1
    );
    assert!(var(&m, 0, "bias_ih_l0").eq(-1.0).all().int64_value(&[]) == 1);
}

#[test]
fn options_save_load_and_parse_as_keras_spells_them() {
    let _rng = rng();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([6])
        .add(Embedding::new(20, 4).embeddings_initializer(Initializer::random_normal(0.0, 1.0)))
        .add(
            Conv1D::new(3, 2).kernel_initializer(Initializer::LecunNormal).bias_initializer(Initializer::constant(0.5)),
        )
        .add(tch_keras::Flatten::new())
        .add(Dense::new(2).kernel_initializer(Initializer::orthogonal(1.5)));
    m.build().unwrap();
    m.save(&path).unwrap();
    let back = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(back.layers(), m.layers());
    for (a, b) in m.variables().unwrap().iter().zip(back.variables().unwrap()) {
        assert!(a.1.equal(&b.1), "{}", a.0);
    }
    let json = serde_json::to_string(&m.layers()[1]).unwrap();
    assert!(json.contains(r#""kernel_initializer":{"class_name":"LecunNormal"}"#), "{json}");
    assert!(json.contains(r#""bias_initializer":{"class_name":"Constant","config":{"value":0.5}}"#), "{json}");
    // Layers with the default initializers save as before the options existed.
    let json = serde_json::to_string(&LayerConfig::from(Dense::new(3))).unwrap();
    assert_eq!(json, r#"{"class_name":"Dense","config":{"units":3,"activation":"linear","use_bias":true}}"#);

    assert_eq!("he_normal".parse::<Initializer>().unwrap(), Initializer::HeNormal);
    assert_eq!("GlorotUniform".parse::<Initializer>().unwrap(), Initializer::GlorotUniform);
    assert_eq!("uniform".parse::<Initializer>().unwrap(), Initializer::random_uniform(-0.05, 0.05));
    assert_eq!("truncated_normal".parse::<Initializer>().unwrap(), Initializer::truncated_normal(0.0, 0.05));
    assert!(matches!("he".parse::<Initializer>(), Err(Error::Parse { .. })));
    // Values Keras refuses are refused at build time, naming the layer.
    let mut m = Sequential::new().device(Device::Cpu).input_shape([3]).add(
        Dense::new(2).kernel_initializer(Initializer::variance_scaling(0.0, FanMode::FanIn, Distribution::Uniform)),
    );
    let e = m.build().unwrap_err().to_string();
    assert!(e.contains("Dense") && e.contains("scale must be a positive number"), "{e}");
}

/// LSTM and GRU: main's draws by default (glorot-uniform input kernel, then the recurrent
/// kernel as the signed QR factor of a normal `[gates * units, units]` draw, biases without
/// draws), and the options on each variable.
#[test]
fn recurrent_layers_keep_their_defaults_and_take_the_options() {
    let _rng = rng();
    let (u, f) = (3i64, 5i64);
    for (layer, gates) in [(LayerConfig::from(LSTM::new(u)), 4), (LayerConfig::from(GRU::new(u)), 3)] {
        let m = built(layer, &[4, f], 21);
        tch::manual_seed(21);
        let l = (6.0f64 / (f + gates * u) as f64).sqrt();
        let kernel = Tensor::zeros([gates * u, f], (Kind::Float, Device::Cpu)).uniform_(-l, l);
        let normal = Tensor::randn([gates * u, u], (Kind::Float, Device::Cpu));
        let (q, r) = Tensor::linalg_qr(&normal, "reduced");
        let recurrent = q * r.diagonal(0, 0, 1).sign();
        assert!(var(&m, 0, "weight_ih_l0").equal(&kernel), "{gates}");
        assert!(var(&m, 0, "weight_hh_l0").equal(&recurrent), "{gates}");
    }
    let m = built(LSTM::new(u), &[4, f], 0);
    let forget: Vec<f32> = (0..4 * u).map(|i| if (u..2 * u).contains(&i) { 1.0 } else { 0.0 }).collect();
    assert!(var(&m, 0, "bias_ih_l0").equal(&Tensor::from_slice(&forget)));

    let lstm = LSTM::new(u)
        .kernel_initializer(Initializer::Zeros)
        .recurrent_initializer(Initializer::constant(0.5))
        .bias_initializer(Initializer::random_uniform(2.0, 3.0));
    let m = built(lstm, &[4, f], 0);
    assert!(var(&m, 0, "weight_ih_l0").eq(0.0).all().int64_value(&[]) == 1);
    assert!(var(&m, 0, "weight_hh_l0").eq(0.5).all().int64_value(&[]) == 1);
    // unit_forget_bias: ones on the forget gate, the initializer elsewhere.
    let b = var(&m, 0, "bias_ih_l0");
    assert!(b.narrow(0, u, u).eq(1.0).all().int64_value(&[]) == 1);
    for (start, len) in [(0, u), (2 * u, 2 * u)] {
        let part = b.narrow(0, start, len);
        assert!(part.ge(2.0).all().int64_value(&[]) == 1 && part.le(3.0).all().int64_value(&[]) == 1, "{b}");
    }
    let gru =
        GRU::new(u).bias_initializer(Initializer::constant(0.3)).recurrent_initializer(Initializer::orthogonal(2.0));
    let m = built(gru, &[4, f], 0);
    for name in ["bias_ih_l0", "bias_hh_l0"] {
        assert!(
            var(&m, 0, name).eq_tensor(&Tensor::full([3 * u], 0.3, (Kind::Float, Device::Cpu))).all().int64_value(&[])
                == 1
        );
    }
    let w = var(&m, 0, "weight_hh_l0");
    let gram = w.tr().matmul(&w);
    assert!(gram.allclose(&(Tensor::eye(u, (Kind::Float, Device::Cpu)) * 4.0), 1e-4, 1e-4, false), "{gram}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rnn.safetensors");
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([4, f])
        .add(LSTM::new(u).return_sequences(true).recurrent_initializer(Initializer::HeUniform))
        .add(GRU::new(2).kernel_initializer(Initializer::LecunNormal));
    m.build().unwrap();
    m.save(&path).unwrap();
    let back = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(back.layers(), m.layers());
    let json = serde_json::to_string(&m.layers()[0]).unwrap();
    assert!(json.contains(r#""recurrent_initializer":{"class_name":"HeUniform"}"#), "{json}");
}
