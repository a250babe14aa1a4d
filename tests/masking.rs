//! Masks of padded steps, as Keras's text classifiers use them: `Embedding(mask_zero)` and
//! `Masking` before `LSTM`, `GRU`, `SimpleRNN`, `Bidirectional` and `GlobalAveragePooling1D`,
//! predictions and SGD steps (the mask reaching the loss) against Keras 3, saving, errors, and
//! learning the digits with padded rows.
//!
//! Reference numbers come from `tests/reference/keras_masking.py` (Keras 3.15.1, torch
//! backend). Inputs and weights there and here are `vals(shape, offset, scale)`:
//! `sin(0.7 * i + offset) * scale`.
use tch::{Device, Kind, Tensor};
use tch_keras::data::sklearn::{self, ToyDataset};
use tch_keras::{
    Activation, Bidirectional, DataFormat, Dense, Embedding, Error, FitConfig, Flatten, GlobalAveragePooling1D,
    GlobalMaxPooling1D, LayerConfig, Loss, Masking, Metric, Optimizer, Sequential, SimpleRNN, Softmax, Verbosity, GRU,
    LSTM,
};

fn vals(shape: &[i64], offset: f64, scale: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset)
        .sin()
        .g_mul_scalar(scale)
        .to_kind(Kind::Float)
        .reshape(shape)
}

fn assert_close(y: &Tensor, shape: &[i64], expected: &[f32]) {
    assert_eq!(y.size(), shape);
    let got = Vec::<f32>::try_from(y.reshape([-1])).unwrap();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 2e-5 + 1e-4 * e.abs(), "element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// Named weights of a model, `layers.{i}.{name}`.
type Weights = Vec<(String, Tensor)>;

/// One recurrent direction's weights in PyTorch's layout, as `direction` in the Keras script:
/// `gates` blocks of `units`, on `features` inputs; `bias_hh_l0` for the GRU only.
fn direction(layer: usize, gates: i64, units: i64, offset: f64, suffix: &str) -> Weights {
    let rows = gates * units;
    let mut w = vec![
        (format!("layers.{layer}.weight_ih_l0{suffix}"), vals(&[rows, 3], offset, 0.5)),
        (format!("layers.{layer}.weight_hh_l0{suffix}"), vals(&[rows, units], offset + 0.1, 0.5)),
        (format!("layers.{layer}.bias_ih_l0{suffix}"), vals(&[rows], offset + 0.2, 0.2)),
    ];
    if gates == 3 {
        w.push((format!("layers.{layer}.bias_hh_l0{suffix}"), vals(&[rows], offset + 0.3, 0.2)));
    }
    w
}

fn dense(layer: usize, units: i64, inputs: i64, offset: f64) -> Weights {
    vec![
        (format!("layers.{layer}.weight"), vals(&[units, inputs], offset, 0.5)),
        (format!("layers.{layer}.bias"), vals(&[units], offset + 0.5, 0.1)),
    ]
}

fn set(m: &mut Sequential, weights: &[(String, Tensor)]) {
    m.build().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(vars.len(), weights.len(), "variables: {:?}", vars.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (name, value) in weights {
        let (_, var) = vars.iter().find(|(n, _)| n == name).expect(name);
        tch::no_grad(|| var.shallow_clone().copy_(value));
    }
}

/// Token ids, zero for padding: full, right-padded, left-padded, and gaps.
fn tokens() -> Tensor {
    Tensor::from_slice(&[1i64, 2, 3, 4, 5, 2, 5, 1, 0, 0, 0, 0, 3, 1, 2, 4, 0, 2, 0, 0]).reshape([4, 5])
}

/// `Embedding(6, 3, mask_zero)`, then `layers`, weights set (the embedding's, and `rest`).
fn token_model(layers: Vec<LayerConfig>, rest: Weights) -> Sequential {
    let mut m = Sequential::new().input_shape([5]).add(Embedding::new(6, 3).mask_zero(true));
    for l in layers {
        m = m.add(l);
    }
    let mut w = vec![("layers.0.weight".to_string(), vals(&[6, 3], 0.3, 0.5))];
    w.extend(rest);
    set(&mut m, &w);
    m
}

fn gates(kind: &str) -> i64 {
    match kind {
        "lstm" => 4,
        "gru" => 3,
        _ => 1,
    }
}

fn recurrent(kind: &str, units: i64, seq: bool) -> LayerConfig {
    match kind {
        "lstm" => LSTM::new(units).return_sequences(seq).into(),
        "gru" => GRU::new(units).return_sequences(seq).into(),
        _ => SimpleRNN::new(units).return_sequences(seq).into(),
    }
}

/// The padded float sequences of the Keras script: all-zero steps in samples 1, 2 and 3, and
/// one zero feature (not a masked step) in sample 0.
fn padded_floats() -> Tensor {
    let x = vals(&[4, 5, 3], 1.4, 1.0);
    let _ = x.get(1).narrow(0, 3, 2).fill_(0.0);
    let _ = x.get(2).narrow(0, 0, 2).fill_(0.0);
    let _ = x.get(3).get(1).fill_(0.0);
    let _ = x.get(0).get(2).get(1).fill_(0.0);
    x
}

fn masking_model() -> Sequential {
    let mut m = Sequential::new()
        .input_shape([5, 3])
        .add(Masking::new(0.0))
        .add(LSTM::new(4).return_sequences(true))
        .add(Dense::new(2));
    let mut w = direction(1, 4, 4, 3.0, "");
    w.extend(dense(2, 2, 4, 4.0));
    set(&mut m, &w);
    m
}

fn silent<'a>(epochs: usize) -> FitConfig<'a> {
    FitConfig { epochs, batch_size: 4, shuffle: false, verbose: Verbosity::Silent, ..Default::default() }
}
/// Keras: embedding mask_zero lstm dense sigmoid (shape [4, 1]).
const LSTM_DENSE: [f32; 4] = [0.5214157, 0.5221297, 0.5219916, 0.523526];

/// Keras: embedding mask_zero gru dense sigmoid (shape [4, 1]).
const GRU_DENSE: [f32; 4] = [0.5253218, 0.5320153, 0.5273314, 0.5280194];

/// Keras: embedding mask_zero rnn dense sigmoid (shape [4, 1]).
const RNN_DENSE: [f32; 4] = [0.5177734, 0.5105832, 0.5176117, 0.5178965];

/// Keras: embedding mask_zero lstm return_sequences (shape [4, 5, 4]).
const LSTM_SEQ: [f32; 80] = [
    0.04131839,
    0.02577958,
    -0.07883449,
    -0.04507314,
    -0.08027487,
    0.08006074,
    -0.02226869,
    -0.1850899,
    0.04564977,
    -0.01667724,
    -0.1224519,
    -0.02575894,
    0.04917801,
    0.03105546,
    -0.1537455,
    -0.04409609,
    -0.08205786,
    0.08999793,
    -0.06061656,
    -0.1761031,
    -0.09582008,
    0.05348973,
    0.01991485,
    -0.1734292,
    -0.1534212,
    0.08629145,
    0.02530498,
    -0.2569532,
    -0.04219881,
    0.07297575,
    -0.07798397,
    -0.1570228,
    -0.04219881,
    0.07297575,
    -0.07798397,
    -0.1570228,
    -0.04219881,
    0.07297575,
    -0.07798397,
    -0.1570228,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.07795542,
    -0.07105871,
    -0.08124562,
    0.04160722,
    0.07545277,
    -0.002810669,
    -0.1277016,
    -0.008389588,
    -0.06564831,
    0.07001881,
    -0.04583864,
    -0.1607621,
    0.03915349,
    0.02684466,
    -0.07733212,
    -0.04785445,
    0.03915349,
    0.02684466,
    -0.07733212,
    -0.04785445,
    -0.08154951,
    0.08060183,
    -0.02176473,
    -0.1866041,
    -0.08154951,
    0.08060183,
    -0.02176473,
    -0.1866041,
    -0.08154951,
    0.08060183,
    -0.02176473,
    -0.1866041,
];

/// Keras: embedding mask_zero gru return_sequences (shape [4, 5, 4]).
const GRU_SEQ: [f32; 80] = [
    0.1177647,
    0.05719448,
    -0.141221,
    -0.1105805,
    -0.07115652,
    0.1453188,
    -0.06948416,
    -0.2781506,
    0.241309,
    -0.02632198,
    -0.2170071,
    -0.06449243,
    0.1915484,
    0.071132,
    -0.3005537,
    -0.1124025,
    -0.03368165,
    0.1668783,
    -0.181769,
    -0.2673798,
    -0.1366114,
    0.09227786,
    0.03792921,
    -0.2194696,
    -0.215955,
    0.1417221,
    0.05606224,
    -0.3572981,
    0.002747938,
    0.1486619,
    -0.1195705,
    -0.2884943,
    0.002747938,
    0.1486619,
    -0.1195705,
    -0.2884943,
    0.002747938,
    0.1486619,
    -0.1195705,
    -0.2884943,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.299049,
    -0.1264817,
    -0.1502577,
    0.0773338,
    0.233913,
    0.003732599,
    -0.2491321,
    -0.04502894,
    -0.008418947,
    0.1344311,
    -0.1441743,
    -0.2277764,
    0.1126624,
    0.05980854,
    -0.1394754,
    -0.1143053,
    0.1126624,
    0.05980854,
    -0.1394754,
    -0.1143053,
    -0.07418204,
    0.1463437,
    -0.06831041,
    -0.2806396,
    -0.07418204,
    0.1463437,
    -0.06831041,
    -0.2806396,
    -0.07418204,
    0.1463437,
    -0.06831041,
    -0.2806396,
];

/// Keras: embedding mask_zero rnn return_sequences (shape [4, 5, 4]).
const RNN_SEQ: [f32; 80] = [
    0.1510444,
    -0.319982,
    -0.1651411,
    -0.004761392,
    0.3307368,
    0.0205473,
    -0.5240576,
    -0.02518007,
    -0.08067089,
    -0.4998853,
    0.4953549,
    -0.6375974,
    0.3345313,
    -0.4582177,
    -0.05075371,
    -0.06754469,
    0.3422884,
    -0.01699959,
    -0.4804491,
    -0.09364475,
    0.1584583,
    0.169553,
    -0.5927987,
    0.01270171,
    0.3717516,
    -0.07693708,
    -0.4170429,
    -0.1815371,
    0.4361781,
    -0.5916774,
    0.1732238,
    -0.2912911,
    0.4361781,
    -0.5916774,
    0.1732238,
    -0.2912911,
    0.4361781,
    -0.5916774,
    0.1732238,
    -0.2912911,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    -0.3352226,
    -0.2498301,
    0.2515871,
    -0.4691952,
    0.2967567,
    -0.4078245,
    -0.1286706,
    0.02635325,
    0.3292516,
    0.01052698,
    -0.5089881,
    -0.05384362,
    0.1558569,
    -0.3162671,
    -0.1739811,
    0.0002954006,
    0.1558569,
    -0.3162671,
    -0.1739811,
    0.0002954006,
    0.3316721,
    0.01896952,
    -0.5226607,
    -0.02722573,
    0.3316721,
    0.01896952,
    -0.5226607,
    -0.02722573,
    0.3316721,
    0.01896952,
    -0.5226607,
    -0.02722573,
];

/// Keras: embedding mask_zero bidirectional lstm return_sequences=False (shape [4, 8]).
const BI_LSTM: [f32; 32] = [
    -0.08205786,
    0.08999793,
    -0.06061656,
    -0.1761031,
    -0.03027711,
    0.033771,
    -0.1872506,
    -0.06612713,
    -0.04219881,
    0.07297575,
    -0.07798397,
    -0.1570228,
    -0.1975269,
    0.1122636,
    -0.08036305,
    -0.2674047,
    -0.06564831,
    0.07001881,
    -0.04583864,
    -0.1607621,
    0.02914726,
    -0.09120481,
    -0.1099489,
    -0.002436689,
    -0.08154951,
    0.08060183,
    -0.02176473,
    -0.1866041,
    -0.02507309,
    0.03961857,
    -0.1347482,
    -0.08389111,
];

/// Keras: embedding mask_zero bidirectional gru return_sequences=True (shape [4, 5, 8]).
const BI_GRU_SEQ: [f32; 160] = [
    0.1177647,
    0.05719448,
    -0.141221,
    -0.1105805,
    -0.01879296,
    0.04136112,
    -0.3481503,
    -0.1536803,
    -0.07115652,
    0.1453188,
    -0.06948416,
    -0.2781506,
    -0.1325786,
    0.08550828,
    -0.2366542,
    -0.2541456,
    0.241309,
    -0.02632198,
    -0.2170071,
    -0.06449243,
    0.1123743,
    -0.1520304,
    -0.2295108,
    -0.05493361,
    0.1915484,
    0.071132,
    -0.3005537,
    -0.1124025,
    -0.0265157,
    0.05147034,
    -0.2208924,
    -0.1768328,
    -0.03368165,
    0.1668783,
    -0.181769,
    -0.2673798,
    -0.1815131,
    0.1142011,
    -0.0572152,
    -0.2565778,
    -0.1366114,
    0.09227786,
    0.03792921,
    -0.2194696,
    -0.2645091,
    0.206065,
    -0.2053861,
    -0.3904865,
    -0.215955,
    0.1417221,
    0.05606224,
    -0.3572981,
    -0.1350833,
    0.1241896,
    -0.1879944,
    -0.273454,
    0.002747938,
    0.1486619,
    -0.1195705,
    -0.2884943,
    0.08313695,
    -0.03134362,
    -0.1723115,
    -0.06339547,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.299049,
    -0.1264817,
    -0.1502577,
    0.0773338,
    0.1144218,
    -0.1529692,
    -0.2299787,
    -0.05306305,
    0.233913,
    0.003732599,
    -0.2491321,
    -0.04502894,
    -0.02313703,
    0.05010837,
    -0.2220582,
    -0.1737527,
    -0.008418947,
    0.1344311,
    -0.1441743,
    -0.2277764,
    -0.182572,
    0.1170219,
    -0.05800252,
    -0.2576024,
    0.1126624,
    0.05980854,
    -0.1394754,
    -0.1143053,
    -0.02692647,
    0.05307833,
    -0.2212791,
    -0.1773285,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    -0.07418204,
    0.1463437,
    -0.06831041,
    -0.2806396,
    -0.182572,
    0.1170219,
    -0.05800252,
    -0.2576024,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
];

/// Keras: embedding mask_zero bidirectional lstm return_sequences=True (shape [4, 5, 8]).
const BI_LSTM_SEQ: [f32; 160] = [
    0.04131839,
    0.02577958,
    -0.07883449,
    -0.04507314,
    -0.03027711,
    0.033771,
    -0.1872506,
    -0.06612713,
    -0.08027487,
    0.08006074,
    -0.02226869,
    -0.1850899,
    -0.1262781,
    0.04757706,
    -0.08129186,
    -0.1773523,
    0.04564977,
    -0.01667724,
    -0.1224519,
    -0.02575894,
    0.02862255,
    -0.09066947,
    -0.1096299,
    -0.003178762,
    0.04917801,
    0.03105546,
    -0.1537455,
    -0.04409609,
    -0.02469963,
    0.03900109,
    -0.1343237,
    -0.0836033,
    -0.08205786,
    0.08999793,
    -0.06061656,
    -0.1761031,
    -0.1282364,
    0.06604189,
    -0.01811134,
    -0.1983503,
    -0.09582008,
    0.05348973,
    0.01991485,
    -0.1734292,
    -0.1975269,
    0.1122636,
    -0.08036305,
    -0.2674047,
    -0.1534212,
    0.08629145,
    0.02530498,
    -0.2569532,
    -0.112899,
    0.07250702,
    -0.07547889,
    -0.1887608,
    -0.04219881,
    0.07297575,
    -0.07798397,
    -0.1570228,
    0.03806144,
    -0.00676991,
    -0.103934,
    -0.01368093,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.07795542,
    -0.07105871,
    -0.08124562,
    0.04160722,
    0.02914726,
    -0.09120481,
    -0.1099489,
    -0.002436689,
    0.07545277,
    -0.002810669,
    -0.1277016,
    -0.008389588,
    -0.02326879,
    0.03826312,
    -0.1354281,
    -0.08163963,
    -0.06564831,
    0.07001881,
    -0.04583864,
    -0.1607621,
    -0.129313,
    0.06702527,
    -0.01855396,
    -0.1995678,
    0.03915349,
    0.02684466,
    -0.07733212,
    -0.04785445,
    -0.02507309,
    0.03961857,
    -0.1347482,
    -0.08389111,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    -0.08154951,
    0.08060183,
    -0.02176473,
    -0.1866041,
    -0.129313,
    0.06702527,
    -0.01855396,
    -0.1995678,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
];

/// Keras: embedding mask_zero dense global_average_pooling1d (shape [4, 4]).
const GAP: [f32; 16] = [
    0.04034389,
    0.08328848,
    -0.139263,
    -0.1173254,
    -0.06991479,
    0.3032303,
    -0.2510778,
    -0.2243687,
    0.06079292,
    -0.007407357,
    -0.06813717,
    -0.09844481,
    0.01012978,
    0.2213603,
    -0.2484589,
    -0.145143,
];

/// Keras: embedding mask_zero dense global_max_pooling1d (shape [4, 4]).
const GMP: [f32; 16] = [
    0.2569278, 0.480098, 0.2871384, 0.09883062, 0.2569278, 0.480098, 0.2867328, 0.09883062, 0.2569278, 0.480098,
    0.2871384, 0.09883062, 0.2531362, 0.480098, 0.2867328, 0.09517894,
];

/// Keras: masking output (shape [4, 5, 3]).
const MASKING_OUT: [f32; 60] = [
    0.9854497, 0.8632094, 0.3349881, -0.3507832, -0.8715758, -0.9824526, -0.6312667, 0.0, 0.6569866, 0.9881682,
    0.8545989, 0.3190984, -0.3664791, -0.8796958, -0.9791777, -0.6181371, 0.03362305, 0.6695698, 0.9906074, 0.8457468,
    0.3031183, -0.3820714, -0.887567, -0.975626, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9946448,
    0.8273279, 0.2709058, -0.4129275, -0.9025546, -0.9676961, -0.577715, 0.08397446, 0.7061695, 0.9962419, 0.8177662,
    0.2546823, 0.0, 0.0, 0.0, -0.5639092, 0.1007171, 0.7179746, 0.9975574, 0.8079734, 0.2383869, -0.4433167,
    -0.9165215, -0.958672,
];

/// Keras: masking lstm return_sequences dense (shape [4, 5, 2]).
const MASKING_SEQ: [f32; 40] = [
    -0.01835594,
    -0.1896437,
    -0.05030143,
    -0.1587113,
    -0.0536565,
    -0.1461755,
    0.002174124,
    -0.2182034,
    -0.03745366,
    -0.174924,
    -0.06466561,
    -0.1213765,
    -0.0073549,
    -0.2002844,
    -0.04435528,
    -0.1653163,
    -0.04435528,
    -0.1653163,
    -0.04435528,
    -0.1653163,
    -0.09775301,
    -0.08834547,
    -0.09775301,
    -0.08834547,
    -0.02380061,
    -0.1841966,
    -0.0549698,
    -0.1543421,
    -0.05585222,
    -0.143721,
    -0.02523647,
    -0.1827536,
    -0.02523647,
    -0.1827536,
    -0.04496627,
    -0.1444397,
    0.004317634,
    -0.2146478,
    -0.04972287,
    -0.1577661,
];

/// Keras: masking sequence mse losses (shape [2]).
const MASKING_LOSSES: [f32; 2] = [0.5307239, 0.5203289];

/// Keras: masking sequence mse dense kernel after (tch-keras layout) (shape [2, 4]).
const MASKING_DENSE_AFTER: [f32; 8] =
    [-0.3811188, -0.4990557, -0.3872027, -0.09487576, 0.2455119, 0.4697866, 0.4634234, 0.2475366];

/// Keras: masking sequence mse lstm kernel after (tch-keras layout) (shape [16, 3]).
const MASKING_LSTM_AFTER: [f32; 48] = [
    0.07079092, -0.2647734, -0.4758107, -0.4632209, -0.2326982, 0.107265, 0.3960496, 0.4988201, 0.3669877, 0.06299863,
    -0.271089, -0.4776789, -0.4598085, -0.2248521, 0.1158547, 0.4019679, 0.4990077, 0.3613577, 0.05396627, -0.279067,
    -0.4808508, -0.4563758, -0.2173945, 0.1238314, 0.4072617, 0.4987386, 0.3556566, 0.04635003, -0.2851603, -0.4825474,
    -0.4512317, -0.2079061, 0.1332014, 0.4119256, 0.4978863, 0.3496806, 0.03719438, -0.2926208, -0.4848114, -0.449234,
    -0.2023162, 0.1397539, 0.41601, 0.4965646, 0.3435781, 0.02903539, -0.2991397, -0.4866219,
];

/// Keras: text classifier bce losses (shape [2]).
const TEXT_LOSSES: [f32; 2] = [0.6952673, 0.69518];

/// Keras: text classifier embeddings after (shape [6, 3]).
const TEXT_EMBED_AFTER: [f32; 18] = [
    0.1477601, 0.4207355, 0.4958324, 0.3377514, 0.0207347, -0.3060338, -0.4889504, -0.4419864, -0.1871493, 0.1556483,
    0.4249123, 0.4943334, 0.3314004, 0.01240709, -0.3124215, -0.4906127, -0.4377903, -0.1790683,
];

/// Keras: masking sequence mse step weights losses (shape [2]).
const STEP_WEIGHT_LOSSES: [f32; 2] = [0.5425964, 0.5318223];

/// Keras: masking sequence mse step weights dense kernel after (tch-keras layout) (shape [2, 4]).
const STEP_WEIGHT_DENSE_AFTER: [f32; 8] =
    [-0.3842096, -0.4964455, -0.3860285, -0.09767932, 0.2448973, 0.4711649, 0.4612896, 0.2471304];

#[test]
fn masked_recurrent_classifiers_match_keras() {
    for (kind, expected) in [("lstm", &LSTM_DENSE[..]), ("gru", &GRU_DENSE[..]), ("rnn", &RNN_DENSE[..])] {
        let mut w = direction(1, gates(kind), 4, 3.0, "");
        w.extend(dense(2, 1, 4, 1.0));
        let m = token_model(vec![recurrent(kind, 4, false), Dense::new(1).activation(Activation::Sigmoid).into()], w);
        assert_close(&m.forward_t(&tokens(), false).unwrap(), &[4, 1], expected);
    }
}

#[test]
fn masked_steps_carry_the_state_and_output_as_keras() {
    for (kind, expected) in [("lstm", &LSTM_SEQ[..]), ("gru", &GRU_SEQ[..]), ("rnn", &RNN_SEQ[..])] {
        let m = token_model(vec![recurrent(kind, 4, true)], direction(1, gates(kind), 4, 3.0, ""));
        assert_close(&m.forward_t(&tokens(), false).unwrap(), &[4, 5, 4], expected);
    }
}

#[test]
fn masked_bidirectional_matches_keras_in_both_directions() {
    for (kind, seq, shape, expected) in [
        ("lstm", false, &[4i64, 8][..], &BI_LSTM[..]),
        ("gru", true, &[4, 5, 8][..], &BI_GRU_SEQ[..]),
        ("lstm", true, &[4, 5, 8][..], &BI_LSTM_SEQ[..]),
    ] {
        let mut w = direction(1, gates(kind), 4, 3.0, "");
        w.extend(direction(1, gates(kind), 4, 3.5, "_reverse"));
        let layer = match recurrent(kind, 4, seq) {
            LayerConfig::LSTM(l) => Bidirectional::new(l),
            LayerConfig::GRU(l) => Bidirectional::new(l),
            _ => unreachable!(),
        };
        let m = token_model(vec![layer.into()], w);
        assert_close(&m.forward_t(&tokens(), false).unwrap(), shape, expected);
    }
}

#[test]
fn global_average_pooling_averages_unmasked_steps_and_max_pooling_drops_the_mask() {
    let gap = GlobalAveragePooling1D::new().data_format(DataFormat::ChannelsLast);
    let m = token_model(vec![Dense::new(4).into(), gap.into()], dense(1, 4, 3, 2.0));
    assert_close(&m.forward_t(&tokens(), false).unwrap(), &[4, 4], &GAP);
    // Keras's GlobalMaxPooling1D does not support masking: the padded steps count.
    let gmp = GlobalMaxPooling1D::new().data_format(DataFormat::ChannelsLast);
    let m = token_model(vec![Dense::new(4).into(), gmp.into()], dense(1, 4, 3, 2.0));
    assert_close(&m.forward_t(&tokens(), false).unwrap(), &[4, 4], &GMP);
}

#[test]
fn masking_zeroes_padded_steps_and_feeds_the_mask_on() {
    let x = padded_floats();
    let mut m = Sequential::new().input_shape([5, 3]).add(Masking::default());
    m.build().unwrap();
    assert_close(&m.forward_t(&x, false).unwrap(), &[4, 5, 3], &MASKING_OUT);
    assert_close(&masking_model().forward_t(&x, false).unwrap(), &[4, 5, 2], &MASKING_SEQ);
}

#[test]
fn the_output_mask_weighs_the_loss_in_sgd_steps_as_keras() {
    let (x, y) = (padded_floats(), vals(&[4, 5, 2], 0.9, 1.0));
    let mut m = masking_model();
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, Vec::<Metric>::new()).unwrap();
    let losses = m.fit(&x, &y, silent(2)).unwrap().series("loss").unwrap();
    let losses: Vec<f32> = losses.iter().map(|&l| l as f32).collect();
    assert_close(&Tensor::from_slice(&losses), &[2], &MASKING_LOSSES);
    let vars = m.variables().unwrap();
    let var = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.shallow_clone();
    assert_close(&var("layers.2.weight"), &[2, 4], &MASKING_DENSE_AFTER);
    assert_close(&var("layers.1.weight_ih_l0"), &[16, 3], &MASKING_LSTM_AFTER);
    // evaluate computes the same masked loss.
    let logs = m.evaluate(&x, &y, 4).unwrap();
    let direct = m.fit(&x, &y, FitConfig { epochs: 1, ..silent(1) }).unwrap().series("loss").unwrap()[0];
    assert!((logs.get("loss").unwrap() - direct).abs() < 1e-5, "{logs:?} vs {direct}");
}

#[test]
fn the_output_mask_and_per_step_weights_multiply_as_keras() {
    let (x, y) = (padded_floats(), vals(&[4, 5, 2], 0.9, 1.0));
    let w = vals(&[4, 5], 0.2, 0.5) + 1.0;
    let mut m = masking_model();
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, Vec::<Metric>::new()).unwrap();
    let config = FitConfig { sample_weight: Some(&w), ..silent(2) };
    let losses = m.fit(&x, &y, config).unwrap().series("loss").unwrap();
    let losses: Vec<f32> = losses.iter().map(|&l| l as f32).collect();
    assert_close(&Tensor::from_slice(&losses), &[2], &STEP_WEIGHT_LOSSES);
    let vars = m.variables().unwrap();
    let kernel = vars.iter().find(|(n, _)| n == "layers.2.weight").unwrap().1.shallow_clone();
    assert_close(&kernel, &[2, 4], &STEP_WEIGHT_DENSE_AFTER);
}

#[test]
fn a_masked_text_classifier_trains_as_keras() {
    let mut w = direction(1, 4, 4, 3.0, "");
    w.extend(dense(2, 1, 4, 1.0));
    let mut m = token_model(vec![LSTM::new(4).into(), Dense::new(1).activation(Activation::Sigmoid).into()], w);
    m.compile(Optimizer::sgd(0.1), Loss::BinaryCrossentropy, Vec::<Metric>::new()).unwrap();
    let y = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.0]).reshape([4, 1]);
    let losses = m.fit(&tokens(), &y, silent(2)).unwrap().series("loss").unwrap();
    let losses: Vec<f32> = losses.iter().map(|&l| l as f32).collect();
    assert_close(&Tensor::from_slice(&losses), &[2], &TEXT_LOSSES);
    let vars = m.variables().unwrap();
    let embeddings = vars.iter().find(|(n, _)| n == "layers.0.weight").unwrap().1.shallow_clone();
    assert_close(&embeddings, &[6, 3], &TEXT_EMBED_AFTER);
}

#[test]
fn mask_zero_and_masking_survive_saving() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Sequential::new()
        .input_shape([5])
        .add(Embedding::new(6, 3).mask_zero(true))
        .add(Bidirectional::new(GRU::new(4)))
        .add(Dense::new(1));
    m.build().unwrap();
    let x = tokens();
    let before = m.forward_t(&x, false).unwrap();
    let path = dir.path().join("masked.safetensors");
    m.save(&path).unwrap();
    let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    assert!(loaded.forward_t(&x, false).unwrap().equal(&before));
    // The padding changes nothing: the same tokens with more zeros after them.
    let longer = Tensor::cat(&[&x, &Tensor::zeros([4, 5], (Kind::Int64, Device::Cpu))], 1);
    let mut wide = Sequential::new()
        .input_shape([10])
        .add(Embedding::new(6, 3).mask_zero(true))
        .add(LSTM::new(4))
        .add(Dense::new(1));
    wide.build().unwrap();
    let mut short = Sequential::new()
        .input_shape([5])
        .add(Embedding::new(6, 3).mask_zero(true))
        .add(LSTM::new(4))
        .add(Dense::new(1));
    short.build().unwrap();
    for ((_, a), (_, b)) in wide.variables().unwrap().iter().zip(short.variables().unwrap()) {
        tch::no_grad(|| b.shallow_clone().copy_(a));
    }
    let gap = (wide.forward_t(&longer, false).unwrap() - short.forward_t(&x, false).unwrap()).abs().max();
    assert!(gap.double_value(&[]) < 1e-6, "padding changed the output by {gap}");

    let mut s = Sequential::new().input_shape([5, 3]).add(Masking::new(-1.0)).add(LSTM::new(2));
    let text = s.summary().unwrap();
    assert!(text.contains("masking") && text.contains("Masking"), "{text}");
    s.save(&path).unwrap();
    assert_eq!(tch_keras::load_model(&path, Device::Cpu).unwrap().layers(), s.layers());
    // mask_zero is left out of a saved description when false.
    let json = serde_json::to_string(&LayerConfig::from(Embedding::new(6, 3))).unwrap();
    assert!(!json.contains("mask_zero"), "{json}");
    let json = serde_json::to_string(&LayerConfig::from(Embedding::new(6, 3).mask_zero(true))).unwrap();
    assert!(json.contains("\"mask_zero\":true"), "{json}");
}

#[test]
fn bad_masking_options_are_refused_with_what_to_do() {
    let err = |mut m: Sequential| m.build().unwrap_err().to_string();
    let text = err(Sequential::new().input_shape([5, 3]).add(Masking::new(f64::NAN)));
    assert!(text.contains("mask_value") && text.contains("finite"), "{text}");
    let text = err(Sequential::new().input_shape([3]).add(Masking::default()));
    assert!(text.contains("Masking") && text.contains("[N, T, F]"), "{text}");
    let text = err(Sequential::new().input_shape([5]).add(Embedding::new(1, 3).mask_zero(true)));
    assert!(text.contains("mask_zero") && text.contains("vocabulary size plus one"), "{text}");
    // A mask reaching a layer that would use it differently from Keras is an error naming it.
    let mut m = Sequential::new().input_shape([5]).add(Embedding::new(6, 3).mask_zero(true)).add(Softmax::default());
    m.build().unwrap();
    match m.forward_t(&tokens(), false) {
        Err(e @ Error::InvalidArgument { .. }) => {
            let text = e.to_string();
            assert!(text.contains("Softmax") && text.contains("mask"), "{text}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // A mask dropped by a layer without masking support (Flatten) ends there, as in Keras.
    let mut m = Sequential::new()
        .input_shape([5])
        .add(Embedding::new(6, 3).mask_zero(true))
        .add(Flatten::new())
        .add(Dense::new(2));
    m.build().unwrap();
    assert_eq!(m.forward_t(&tokens(), false).unwrap().size(), [4, 2]);
}

/// The digits as 8 rows of 8 pixels, each sample placed at its own offset (0 to 8) in a
/// 16-step sequence of zero rows, so padding comes before and after: an LSTM behind `Masking`
/// learns them about as well as the same LSTM on the unpadded rows.
#[test]
fn masked_training_on_padded_digits_is_not_hurt_by_padding() {
    let digits = sklearn::load(ToyDataset::Digits, None).unwrap();
    let x = (digits.x / 16.0).reshape([-1, 8, 8]);
    let n = x.size()[0];
    let padded = Tensor::zeros([n, 16, 8], (Kind::Float, Device::Cpu));
    for i in 0..n {
        padded.get(i).narrow(0, (i * 7) % 9, 8).copy_(&x.get(i));
    }
    let y = digits.y;
    let (train, test) = (1400, n - 1400);
    let run = |x: &Tensor, t: i64| {
        let mut m = Sequential::new()
            .input_shape([t, 8])
            .seed(3)
            .add(Masking::default())
            .add(LSTM::new(32))
            .add(Dense::new(10).activation(Activation::Softmax));
        m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
        let config = FitConfig { epochs: 6, batch_size: 32, verbose: Verbosity::Silent, ..Default::default() };
        m.fit(&x.narrow(0, 0, train), &y.narrow(0, 0, train), config).unwrap();
        let logs = m.evaluate(&x.narrow(0, train, test), &y.narrow(0, train, test), 128).unwrap();
        logs.get("accuracy").unwrap()
    };
    let plain = run(&x, 8);
    let masked = run(&padded, 16);
    // Masked steps leave the state as it was, so the padding changes (next to) nothing.
    assert!(plain > 0.8 && (masked - plain).abs() < 0.01, "plain {plain}, padded with masking {masked}");
}
