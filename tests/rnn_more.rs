//! `SimpleRNN` and `Bidirectional`: shapes, parameter counts, summary names and forward passes
//! against Keras 3, variable names and initialisers, saving, and learning MNIST row by row.
//!
//! Reference numbers come from `tests/reference/rnn_more.py` (Keras 3, torch backend). Inputs
//! and weights there and here are `vals(shape, offset, scale)`: `sin(0.7 * i + offset) * scale`.
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    Activation, Bidirectional, Dense, Error, LayerConfig, MergeMode, Reshape, Sequential, SimpleRNN, GRU, LSTM,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

/// A one-layer model on `[5, 3]` sequences, built, with the named variables set.
fn model(layer: impl Into<LayerConfig>, weights: &[(String, Tensor)]) -> Sequential {
    let mut m = Sequential::new().input_shape([5, 3]).add(layer);
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
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 2e-5 + 1e-4 * e.abs(), "element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// One direction's weights in PyTorch's layout, as `direction` in tests/reference/rnn_more.py:
/// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0` and (GRU) `bias_hh_l0`, with `suffix` appended.
fn direction(gates: i64, units: i64, offset: f64, suffix: &str) -> Vec<(String, Tensor)> {
    let rows = gates * units;
    let mut w = vec![
        (format!("weight_ih_l0{suffix}"), vals(&[rows, 3], offset, 0.5)),
        (format!("weight_hh_l0{suffix}"), vals(&[rows, units], offset + 0.1, 0.5)),
        (format!("bias_ih_l0{suffix}"), vals(&[rows], offset + 0.2, 0.2)),
    ];
    if gates == 3 {
        w.push((format!("bias_hh_l0{suffix}"), vals(&[rows], offset + 0.3, 0.2)));
    }
    w
}

/// Named weights of a layer.
type Weights = Vec<(String, Tensor)>;

fn both(gates: i64, units: i64) -> Weights {
    let mut w = direction(gates, units, 3.0, "");
    w.extend(direction(gates, units, 3.5, "_reverse"));
    w
}

/// Output shape and parameter count of a one-layer model on `input`.
fn one(layer: impl Into<LayerConfig>, input: &[i64]) -> (Vec<i64>, i64) {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    let params = m.count_params().unwrap();
    (m.output_shape().unwrap(), params)
}

#[test]
fn shapes_parameter_counts_and_names_match_keras() {
    // Keras 3's names, count_params and output shapes, printed by tests/reference/rnn_more.py.
    assert_eq!(one(SimpleRNN::new(32), &[10, 16]), (vec![32], 1_568));
    assert_eq!(one(SimpleRNN::new(32).return_sequences(true), &[10, 16]), (vec![10, 32], 1_568));
    assert_eq!(one(Bidirectional::new(LSTM::new(32)), &[10, 16]), (vec![64], 12_544));
    assert_eq!(one(Bidirectional::new(GRU::new(8).return_sequences(true)), &[10, 16]), (vec![10, 16], 1_248));
    let sum = Bidirectional::new(SimpleRNN::new(8)).merge_mode("sum".parse().unwrap());
    assert_eq!(one(sum, &[10, 16]), (vec![8], 400));
    for (layer, label) in [
        (LayerConfig::from(SimpleRNN::new(2)), "simple_rnn (SimpleRNN)"),
        (Bidirectional::new(LSTM::new(2)).into(), "bidirectional (Bidirectional)"),
    ] {
        let s = Sequential::new().input_shape([4, 3]).add(layer).summary().unwrap();
        assert!(s.contains(label), "summary lacks {label:?}:\n{s}");
    }
}

#[test]
fn simple_rnn_matches_keras_with_tanh_and_relu() {
    let x = vals(&[2, 5, 3], 1.4, 1.0);
    let weights = direction(1, 4, 2.5, "");
    let cases: [(Activation, &[f32], &[f32]); 2] = [
        (Activation::Tanh, &SIMPLE_RNN_TANH, &SIMPLE_RNN_TANH_SEQUENCES),
        (Activation::Relu, &SIMPLE_RNN_RELU, &SIMPLE_RNN_RELU_SEQUENCES),
    ];
    for (activation, last, every) in cases {
        let m = model(SimpleRNN::new(4).activation(activation), &weights);
        assert_close(&m.forward_t(&x, false).unwrap(), &[2, 4], last);
        let m = model(SimpleRNN::new(4).activation(activation).return_sequences(true), &weights);
        assert_close(&m.forward_t(&x, true).unwrap(), &[2, 5, 4], every);
    }
}

#[test]
fn bidirectional_matches_keras_for_each_layer_and_merge_mode() {
    let x = vals(&[2, 5, 3], 1.4, 1.0);
    let cases: Vec<(Bidirectional, Weights, Vec<i64>, &[f32])> = vec![
        (Bidirectional::new(LSTM::new(4)), both(4, 4), vec![2, 8], &BI_LSTM),
        (Bidirectional::new(LSTM::new(4).return_sequences(true)), both(4, 4), vec![2, 5, 8], &BI_LSTM_SEQUENCES),
        (
            Bidirectional::new(GRU::new(3).return_sequences(true)).merge_mode(MergeMode::Sum),
            both(3, 3),
            vec![2, 5, 3],
            &BI_GRU_SEQUENCES_SUM,
        ),
        (Bidirectional::new(GRU::new(3)).merge_mode(MergeMode::Mul), both(3, 3), vec![2, 3], &BI_GRU_MUL),
        (
            Bidirectional::new(SimpleRNN::new(4).return_sequences(true)).merge_mode(MergeMode::Ave),
            both(1, 4),
            vec![2, 5, 4],
            &BI_RNN_SEQUENCES_AVE,
        ),
        (Bidirectional::new(SimpleRNN::new(4)), both(1, 4), vec![2, 8], &BI_RNN),
    ];
    for (layer, weights, shape, expected) in cases {
        let m = model(layer, &weights);
        assert_close(&m.forward_t(&x, false).unwrap(), &shape, expected);
    }
}

#[test]
fn variables_have_pytorch_names_and_keras_initialisers() {
    let mut m = Sequential::new().input_shape([7, 16]).add(SimpleRNN::new(32));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layers.0.bias_ih_l0", "layers.0.weight_hh_l0", "layers.0.weight_ih_l0"]);
    assert_eq!(f64::try_from(vars[0].1.abs().sum(Kind::Float)).unwrap(), 0.0);
    let gram = vars[1].1.tr().matmul(&vars[1].1);
    assert!(f64::try_from((gram - Tensor::eye(32, (Kind::Float, Device::Cpu))).abs().max()).unwrap() < 1e-5);
    let limit = (6.0f64 / (16.0 + 32.0)).sqrt();
    let max = f64::try_from(vars[2].1.abs().max()).unwrap();
    assert!(max <= limit && max > 0.9 * limit, "max |w| {max}, limit {limit}");

    let mut m = Sequential::new().input_shape([7, 16]).add(Bidirectional::new(LSTM::new(8)));
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "layers.0.bias_ih_l0",
            "layers.0.bias_ih_l0_reverse",
            "layers.0.weight_hh_l0",
            "layers.0.weight_hh_l0_reverse",
            "layers.0.weight_ih_l0",
            "layers.0.weight_ih_l0_reverse"
        ]
    );
    // The backward direction has its own draws, not a copy of the forward weights.
    assert!(!vars[2].1.equal(&vars[3].1));
}

#[test]
fn configurations_and_models_round_trip() {
    let layers: Vec<LayerConfig> = vec![
        SimpleRNN::new(6).activation(Activation::Relu).return_sequences(true).into(),
        Bidirectional::new(GRU::new(4)).merge_mode(MergeMode::Ave).into(),
    ];
    for layer in &layers {
        let json = serde_json::to_string(layer).unwrap();
        let back: LayerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, layer, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&LayerConfig::from(Bidirectional::new(LSTM::new(2)))).unwrap(),
        r#"{"class_name":"Bidirectional","config":{"layer":{"class_name":"LSTM","config":{"units":2,"return_sequences":false,"use_bias":true,"unit_forget_bias":true}},"merge_mode":"concat"}}"#
    );
    let modes: Vec<MergeMode> = ["concat", "sum", "mul", "ave"].iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(modes, [MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave]);
    assert!(matches!("max".parse::<MergeMode>(), Err(Error::Parse { .. })));

    let dir = tempfile::tempdir().unwrap();
    let mut m = Sequential::new()
        .input_shape([6, 3])
        .add(Bidirectional::new(SimpleRNN::new(5).return_sequences(true)))
        .add(Bidirectional::new(LSTM::new(4)).merge_mode(MergeMode::Sum))
        .add(Dense::new(2));
    m.build().unwrap();
    let x = vals(&[3, 6, 3], 0.3, 1.0);
    let before = m.forward_t(&x, false).unwrap();
    let path = dir.path().join("rnn.safetensors");
    m.save(&path).unwrap();
    let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    assert!(loaded.forward_t(&x, false).unwrap().equal(&before));
}

#[test]
fn bad_configurations_are_refused_when_built() {
    let mut m = Sequential::new().input_shape([4, 3]).add(SimpleRNN::new(4).activation(Activation::Sigmoid));
    let text = m.build().unwrap_err().to_string();
    assert!(text.contains("SimpleRNN") && text.contains("tanh") && text.contains("relu"), "{text}");
    let mut m = Sequential::new().input_shape([12]).add(Bidirectional::new(GRU::new(4)));
    let text = m.build().unwrap_err().to_string();
    assert!(text.contains("Bidirectional") && text.contains("(None, timesteps, features)"), "{text}");
    let mut m = Sequential::new().input_shape([4, 3]).add(Bidirectional::new(LSTM::new(0)));
    assert!(m.build().unwrap_err().to_string().contains("units must be positive"));
}

#[test]
fn simple_rnn_and_bidirectional_learn_mnist_read_row_by_row() {
    // Each image as 28 time steps of 28 pixels; 6,000 training images, 1,000 test images.
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let y = tch_keras::to_categorical(&ds.train_labels.narrow(0, 0, 6000), 10).unwrap();
    let y_test = tch_keras::to_categorical(&ds.test_labels.narrow(0, 0, 1000), 10).unwrap();
    let (x, x_test) = (ds.train_images.narrow(0, 0, 6000), ds.test_images.narrow(0, 0, 1000));
    for (rnn, threshold) in
        [(LayerConfig::from(SimpleRNN::new(32)), 0.6), (Bidirectional::new(GRU::new(16)).into(), 0.8)]
    {
        let kind = rnn.spec().kind();
        let mut m = Sequential::new()
            .input_shape([784])
            .add(Reshape::new([28, 28]))
            .add(rnn)
            .add(Dense::new(10).activation(Activation::Softmax))
            .seed(7);
        tch_keras::recipes::compile_classifier(&mut m, 0.003, "acc").unwrap();
        let config = tch_keras::FitConfig { epochs: 3, verbose: tch_keras::Verbosity::Silent, ..Default::default() };
        m.fit(&x, &y, config).unwrap();
        let acc = m.evaluate(&x_test, &y_test, 500).unwrap().get("acc").unwrap();
        eprintln!("{kind}: test accuracy {acc}");
        assert!(acc > threshold, "{kind}: test accuracy {acc}");
    }
}

/// Keras 3: simple_rnn tanh return_sequences=False, shape [2, 4] (tests/reference/rnn_more.py).
const SIMPLE_RNN_TANH: [f32; 8] = [0.345951, 0.54832, -0.799395, 0.0662456, 0.447753, -0.81586, 0.622395, -0.160191];

/// Keras 3: simple_rnn tanh return_sequences=True, shape [2, 5, 4] (tests/reference/rnn_more.py).
const SIMPLE_RNN_TANH_SEQUENCES: [f32; 40] = [
    0.235464, -0.738302, 0.527129, -0.0606157, 0.285407, 0.605125, -0.833539, 0.177322, -0.0770917, -0.12377, 0.314151,
    -0.703158, 0.437443, -0.818874, 0.635382, -0.171447, 0.345951, 0.54832, -0.799395, 0.0662456, -0.319175, 0.147393,
    0.0509871, -0.548045, 0.39169, -0.790257, 0.576108, -0.0873265, 0.310864, 0.582595, -0.815549, 0.0987884,
    -0.0380921, -0.192747, 0.373613, -0.716979, 0.447753, -0.81586, 0.622395, -0.160191,
];

/// Keras 3: simple_rnn relu return_sequences=False, shape [2, 4] (tests/reference/rnn_more.py).
const SIMPLE_RNN_RELU: [f32; 8] = [0.161777, 0.719776, 0.0, 0.0, 0.13741, 0.0, 0.525832, 0.0];

/// Keras 3: simple_rnn relu return_sequences=True, shape [2, 5, 4] (tests/reference/rnn_more.py).
const SIMPLE_RNN_RELU_SEQUENCES: [f32; 40] = [
    0.239967, 0.0, 0.586162, 0.0, 0.183844, 0.675221, 0.0, 0.0, 0.0, 0.0312168, 0.290342, 0.0, 0.134168, 0.0, 0.55765,
    0.0, 0.161777, 0.719776, 0.0, 0.0, 0.0, 0.148475, 0.0510313, 0.0, 0.221958, 0.0, 0.59665, 0.0, 0.16399, 0.706017,
    0.0, 0.0, 0.0, 0.00547434, 0.321284, 0.0, 0.13741, 0.0, 0.525832, 0.0,
];

/// Keras 3: bidirectional lstm return_sequences=False merge_mode=concat, shape [2, 8] (tests/reference/rnn_more.py).
const BI_LSTM: [f32; 16] = [
    -0.214788,
    0.16746,
    -0.102007,
    -0.255333,
    -0.00426288,
    -0.022676,
    -0.293691,
    -0.0249427,
    0.0994706,
    -0.0315093,
    -0.326688,
    0.0611799,
    -0.0480003,
    -0.0818547,
    -0.0766405,
    -0.0582852,
];

/// Keras 3: bidirectional lstm return_sequences=True merge_mode=concat, shape [2, 5, 8] (tests/reference/rnn_more.py).
const BI_LSTM_SEQUENCES: [f32; 80] = [
    0.116941,
    -0.0401106,
    -0.292986,
    0.105516,
    -0.00426288,
    -0.022676,
    -0.293691,
    -0.0249427,
    -0.189639,
    0.158117,
    -0.0893028,
    -0.222211,
    -0.315992,
    0.102994,
    -0.0948852,
    -0.356154,
    -0.0618073,
    0.00719381,
    -0.0352228,
    -0.116804,
    -0.0427494,
    -0.0686605,
    -0.0648567,
    -0.069172,
    0.0963781,
    -0.0284156,
    -0.330655,
    0.0605194,
    0.00887352,
    -0.0147851,
    -0.249313,
    -0.0190226,
    -0.214788,
    0.16746,
    -0.102007,
    -0.255333,
    -0.269342,
    0.118023,
    -0.045901,
    -0.343366,
    0.0180676,
    -0.113251,
    0.0511589,
    -0.0337046,
    -0.0480003,
    -0.0818547,
    -0.0766405,
    -0.0582852,
    0.124311,
    -0.0837271,
    -0.269258,
    0.0928782,
    0.00404377,
    -0.0405499,
    -0.274338,
    -0.0146724,
    -0.189749,
    0.141338,
    -0.0799483,
    -0.234619,
    -0.289813,
    0.0802708,
    -0.068873,
    -0.325283,
    -0.0560686,
    -0.00516057,
    -0.032183,
    -0.114406,
    0.013032,
    -0.157929,
    -0.0273251,
    0.00517042,
    0.0994706,
    -0.0315093,
    -0.326688,
    0.0611799,
    0.0682449,
    -0.125211,
    -0.166475,
    0.0689493,
];

/// Keras 3: bidirectional gru return_sequences=True merge_mode=sum, shape [2, 5, 3] (tests/reference/rnn_more.py).
const BI_GRU_SEQUENCES_SUM: [f32; 30] = [
    -0.263414, -0.227791, 0.0417063, 0.541485, 0.144008, -0.799451, 0.0802893, 0.478905, -0.318091, -0.217309,
    -0.200863, -0.0437629, 0.565764, 0.106473, -0.79102, -0.107501, 0.464205, -0.0878549, -0.317398, -0.129949,
    0.12856, 0.470964, 0.234549, -0.736328, -0.035601, 0.527706, -0.144974, -0.321792, -0.148766, 0.249683,
];

/// Keras 3: bidirectional gru return_sequences=False merge_mode=mul, shape [2, 3] (tests/reference/rnn_more.py).
const BI_GRU_MUL: [f32; 6] = [-0.0598437, -0.000580847, 0.0700262, 0.00099205, -0.0335587, -0.0135798];

/// Keras 3: bidirectional rnn return_sequences=True merge_mode=ave, shape [2, 5, 4] (tests/reference/rnn_more.py).
const BI_RNN_SEQUENCES_AVE: [f32; 40] = [
    -0.430507, -0.592803, 0.684491, -0.611734, 0.703753, -0.226721, -0.702118, 0.568658, -0.172624, 0.0609391,
    -0.156189, -0.447886, -0.311532, -0.642487, 0.726858, -0.655051, 0.666198, -0.163967, -0.762263, 0.596555,
    -0.239578, 0.13354, -0.226293, -0.400283, -0.302471, -0.652696, 0.724962, -0.643128, 0.713385, -0.241199,
    -0.702569, 0.541707, -0.188057, 0.0472165, -0.122494, -0.459155, -0.35336, -0.57375, 0.672177, -0.608125,
];

/// Keras 3: bidirectional rnn return_sequences=False merge_mode=concat, shape [2, 8] (tests/reference/rnn_more.py).
const BI_RNN: [f32; 16] = [
    0.655877, 0.055174, -0.809031, 0.507005, -0.542305, -0.545579, 0.73594, -0.761221, -0.0507516, -0.765549, 0.734525,
    -0.561612, -0.114036, 0.0574395, -0.273172, -0.311881,
];
