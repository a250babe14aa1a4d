//! Keras's weight regularizers: the penalty in the trained and logged loss, in evaluate's and
//! validation's loss, with sample weights, on frozen layers, saved and loaded. The numbers come
//! from tests/reference/regularizers.py (Keras 3, torch backend).
use tch::{Device, Kind, Tensor};
use tch_keras::{
    load_model, Activation, Bidirectional, Dense, Embedding, FitConfig, Loss, Optimizer, Regularizer, Sequential,
    Verbosity, GRU, LSTM,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

/// The script's model: Dense(3, tanh, kernel L2(0.1), bias L1(0.05)), Dense(1, kernel
/// L1L2(0.02, 0.03)), its fixed weights, SGD(0.1) and MSE.
fn model(frozen: bool) -> Sequential {
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([4])
        .add(
            Dense::new(3)
                .activation(Activation::Tanh)
                .kernel_regularizer(Regularizer::l2(0.1))
                .bias_regularizer(Regularizer::l1(0.05)),
        )
        .add(Dense::new(1).kernel_regularizer(Regularizer::l1_l2(0.02, 0.03)));
    m.build().unwrap();
    // Variables per layer: bias, then weight ([units, in]).
    let w = [vals(&[3], 0.9, 0.2), vals(&[3, 4], 0.5, 0.5), vals(&[1], 2.1, 0.2), vals(&[1, 3], 1.7, 0.5)];
    m.set_weights(&w).unwrap();
    if frozen {
        m.set_trainable(0, false).unwrap();
    }
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    m
}

fn data() -> (Tensor, Tensor) {
    (vals(&[6, 4], 0.3, 1.0), vals(&[6, 1], 1.1, 1.0))
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

#[test]
fn the_penalty_is_trained_and_logged_as_keras() {
    let (x, y) = data();
    let mut m = model(false);
    // Keras: 0.6895643 without the penalty; evaluate includes it.
    assert_near(&[loss_of(&m.evaluate(&x, &y, 3).unwrap())], &[0.905162], "evaluate before");
    let h = m.fit(&x, &y, FitConfig { epochs: 2, validation_data: Some((&x, &y)), ..quiet() }).unwrap();
    assert_near(&h.series("loss").unwrap(), &[1.019275, 0.9366255], "loss");
    assert_near(&h.series("val_loss").unwrap(), &[0.8133743, 0.7736031], "val_loss");
    #[rustfmt::skip]
    let expected = [0.03218351, 0.09571739, 0.1242978, 0.186828, 0.3991871, 0.4238023, 0.2490967, -0.1040343, -0.3690982, -0.4605694, -0.3354277, -0.0865612, 0.225981, 0.4322408, 0.435211, 0.03533738, 0.3951503, 0.2926784, -0.0006690743];
    assert_near(&weights(&m), &expected, "weights after");
    assert_near(&[loss_of(&m.evaluate(&x, &y, 3).unwrap())], &[0.7736031], "evaluate after");
}

#[test]
fn the_penalty_is_added_after_the_sample_weighted_mean() {
    let (x, y) = data();
    let sw = Tensor::from_slice(&[1.0f32, 2.0, 0.5, 1.0, 3.0, 1.0]).reshape([6, 1]);
    let mut m = model(false);
    let h = m.fit(&x, &y, FitConfig { epochs: 1, sample_weight: Some(&sw), ..quiet() }).unwrap();
    assert_near(&h.series("loss").unwrap(), &[1.552637], "weighted loss");
    #[rustfmt::skip]
    let expected = [0.03981054, 0.07379223, 0.1480148, 0.2650816, 0.4424956, 0.411797, 0.1874238, -0.04890747, -0.3624012, -0.505452, -0.4107808, -0.08723305, 0.2373752, 0.4503421, 0.4515062, -0.02674748, 0.3613858, 0.37012, -0.1177629];
    assert_near(&weights(&m), &expected, "weights after");
}

#[test]
fn a_frozen_layer_adds_no_penalty() {
    let (x, y) = data();
    let mut m = model(true);
    assert_near(&[loss_of(&m.evaluate(&x, &y, 3).unwrap())], &[0.7174618], "evaluate");
    let h = m.fit(&x, &y, FitConfig { epochs: 1, ..quiet() }).unwrap();
    assert_near(&h.series("loss").unwrap(), &[0.8234815], "loss");
    #[rustfmt::skip]
    let expected = [0.1566654, 0.1999147, 0.149141, 0.2397128, 0.4660195, 0.47315, 0.2577507, -0.07887284, -0.3784012, -0.4999616, -0.3863823, -0.09108125, 0.2470567, 0.469, 0.4703653, 0.07954788, 0.4346772, 0.3161593, 0.002510863];
    assert_near(&weights(&m), &expected, "weights after");
}

#[test]
fn regularizers_save_load_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let (x, y) = data();
    let mut m = model(false);
    m.save(&path).unwrap();
    let mut back = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(back.layers(), m.layers());
    let json = serde_json::to_string(&m.layers()[0]).unwrap();
    assert!(json.contains(r#""kernel_regularizer":{"class_name":"L2","config":{"l2":0.1}}"#), "{json}");
    // The loaded model's loss carries the same penalty.
    let (a, b) = (m.evaluate(&x, &y, 3).unwrap(), back.evaluate(&x, &y, 3).unwrap());
    assert_eq!(loss_of(&a), loss_of(&b));

    assert_eq!("l2".parse::<Regularizer>().unwrap(), Regularizer::l2(0.01));
    assert_eq!("L1".parse::<Regularizer>().unwrap(), Regularizer::l1(0.01));
    assert_eq!("l1_l2".parse::<Regularizer>().unwrap(), Regularizer::l1_l2(0.01, 0.01));
    assert!("l3".parse::<Regularizer>().is_err());
    // A negative factor is refused when the layer is built, naming it.
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([3])
        .add(Embedding::new(5, 2).embeddings_regularizer(Regularizer::l2(-0.1)));
    let e = m.build().unwrap_err().to_string();
    assert!(e.contains("Embedding") && e.contains(">= 0"), "{e}");
}

/// An embeddings penalty: with a zero learning rate nothing moves, and the logged loss is the
/// loss without the layer's penalty plus `l2 * sum(w²)`.
#[test]
fn embeddings_regularizer_adds_its_penalty() {
    let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).reshape([2, 2]);
    let y = Tensor::zeros([2, 1], (Kind::Float, Device::Cpu));
    let build = |r: Option<Regularizer>| {
        let e = Embedding::new(4, 3);
        let e = match r {
            Some(r) => e.embeddings_regularizer(r),
            None => e,
        };
        let mut m =
            Sequential::new().device(Device::Cpu).seed(3).input_shape([2]).add(e).add(tch_keras::Flatten::new());
        m = m.add(Dense::new(1));
        m.compile(Optimizer::sgd(0.0), Loss::MeanSquaredError, vec![]).unwrap();
        m
    };
    let mut plain = build(None);
    let mut reg = build(Some(Regularizer::l2(0.5)));
    let w = reg.get_weights().unwrap()[0].shallow_clone();
    let penalty = 0.5 * w.square().sum(Kind::Double).double_value(&[]);
    let a = plain.fit(&x, &y, FitConfig { epochs: 1, ..quiet() }).unwrap().series("loss").unwrap()[0];
    let b = reg.fit(&x, &y, FitConfig { epochs: 1, ..quiet() }).unwrap().series("loss").unwrap()[0];
    assert!((b - a - penalty).abs() < 1e-6, "{b} - {a} vs {penalty}");
}

/// LSTM and GRU penalties: with a zero learning rate nothing moves, and the logged loss is the
/// loss without them plus each regularized variable's penalty (the GRU's bias penalty covers
/// both of its rows, Keras's one `bias`).
#[test]
fn recurrent_regularizers_add_their_penalties() {
    let x = vals(&[4, 3, 2], 0.2, 1.0);
    let y = vals(&[4, 1], 0.8, 1.0);
    let build = |regularized: bool| {
        let (mut lstm, mut gru) = (LSTM::new(3).return_sequences(true), GRU::new(2));
        if regularized {
            lstm = lstm.recurrent_regularizer(Regularizer::l2(0.5)).kernel_regularizer(Regularizer::l1(0.1));
            gru = gru.bias_regularizer(Regularizer::l1(0.2));
        }
        let mut m = Sequential::new().device(Device::Cpu).seed(5).input_shape([3, 2]).add(lstm).add(gru);
        m = m.add(Dense::new(1));
        // Non-zero GRU biases, so their penalty shows.
        m.build().unwrap();
        for (name, t) in m.variables().unwrap() {
            if name.starts_with("layers.1.bias") {
                let _ = tch::no_grad(|| t.shallow_clone().fill_(-0.25));
            }
        }
        m.compile(Optimizer::sgd(0.0), Loss::MeanSquaredError, vec![]).unwrap();
        m
    };
    let (mut plain, mut reg) = (build(false), build(true));
    let var = |m: &Sequential, name: &str| m.variables().unwrap().iter().find(|(n, _)| n == name).unwrap().1.copy();
    let sum = |t: Tensor| t.sum(Kind::Double).double_value(&[]);
    let penalty = 0.5 * sum(var(&reg, "layers.0.weight_hh_l0").square())
        + 0.1 * sum(var(&reg, "layers.0.weight_ih_l0").abs())
        + 0.2 * (sum(var(&reg, "layers.1.bias_ih_l0").abs()) + sum(var(&reg, "layers.1.bias_hh_l0").abs()));
    let a = plain.fit(&x, &y, FitConfig { epochs: 1, batch_size: 4, ..quiet() }).unwrap().series("loss").unwrap()[0];
    let b = reg.fit(&x, &y, FitConfig { epochs: 1, batch_size: 4, ..quiet() }).unwrap().series("loss").unwrap()[0];
    assert!((b - a - penalty).abs() < 1e-5, "{b} - {a} vs {penalty}");
}

/// `train_on_batch` and `test_on_batch` log the loss with the penalty too.
#[test]
fn on_batch_calls_include_the_penalty() {
    let (x, y) = data();
    let mut m = model(false);
    let logs = m.train_on_batch(&x.narrow(0, 0, 3), &y.narrow(0, 0, 3)).unwrap();
    assert_near(&[loss_of(&logs)], &[0.5761502], "train_on_batch");
    let logs = m.test_on_batch(&x.narrow(0, 3, 3), &y.narrow(0, 3, 3)).unwrap();
    assert_near(&[loss_of(&logs)], &[1.462399], "test_on_batch");
}

/// A `Bidirectional` layer's penalty covers both directions' variables, as Keras's
/// `Bidirectional` holds both wrapped layers' regularized weights.
#[test]
fn bidirectional_regularizers_cover_both_directions() {
    let x = vals(&[4, 3, 2], 0.4, 1.0);
    let y = vals(&[4, 1], 0.6, 1.0);
    let build = |regularized: bool| {
        let mut gru = GRU::new(2);
        if regularized {
            gru = gru.recurrent_regularizer(Regularizer::l2(0.5));
        }
        let mut m = Sequential::new().device(Device::Cpu).seed(9).input_shape([3, 2]).add(Bidirectional::new(gru));
        m = m.add(Dense::new(1));
        m.compile(Optimizer::sgd(0.0), Loss::MeanSquaredError, vec![]).unwrap();
        m
    };
    let (mut plain, mut reg) = (build(false), build(true));
    reg.build().unwrap();
    let var = |name: &str| reg.variables().unwrap().iter().find(|(n, _)| n == name).unwrap().1.copy();
    let sum_sq = |t: Tensor| t.square().sum(Kind::Double).double_value(&[]);
    let penalty = 0.5 * (sum_sq(var("layers.0.weight_hh_l0")) + sum_sq(var("layers.0.weight_hh_l0_reverse")));
    let a = plain.fit(&x, &y, FitConfig { epochs: 1, batch_size: 4, ..quiet() }).unwrap().series("loss").unwrap()[0];
    let b = reg.fit(&x, &y, FitConfig { epochs: 1, batch_size: 4, ..quiet() }).unwrap().series("loss").unwrap()[0];
    assert!((b - a - penalty).abs() < 1e-5, "{b} - {a} vs {penalty}");
}

/// Conv2DTranspose's and SimpleRNN's penalties, as the others'.
#[test]
fn transposed_convolution_and_simple_rnn_regularizers_add_their_penalties() {
    let sum = |t: Tensor| t.sum(Kind::Double).double_value(&[]);
    let loss = |m: &mut Sequential, x: &Tensor, y: &Tensor| {
        m.fit(x, y, FitConfig { epochs: 1, batch_size: 4, ..quiet() }).unwrap().series("loss").unwrap()[0]
    };
    let var = |m: &Sequential, name: &str| m.variables().unwrap().iter().find(|(n, _)| n == name).unwrap().1.copy();
    // Conv2DTranspose: kernel L2(0.3), bias L1(0.2) on a bias set to 0.5.
    let (x, y) = (vals(&[4, 2, 3, 3], 0.1, 1.0), vals(&[4, 1], 0.9, 1.0));
    let conv = |regularized: bool| {
        let mut layer = tch_keras::Conv2DTranspose::new(2, 2);
        if regularized {
            layer = layer.kernel_regularizer(Regularizer::l2(0.3)).bias_regularizer(Regularizer::l1(0.2));
        }
        let mut m = Sequential::new().device(Device::Cpu).seed(4).input_shape([2, 3, 3]).add(layer);
        m = m.add(tch_keras::Flatten::new()).add(Dense::new(1));
        m.build().unwrap();
        let _ = tch::no_grad(|| var(&m, "layers.0.bias").fill_(0.5));
        m.compile(Optimizer::sgd(0.0), Loss::MeanSquaredError, vec![]).unwrap();
        m
    };
    let (mut plain, mut reg) = (conv(false), conv(true));
    let penalty = 0.3 * sum(var(&reg, "layers.0.weight").square()) + 0.2 * sum(var(&reg, "layers.0.bias").abs());
    let (a, b) = (loss(&mut plain, &x, &y), loss(&mut reg, &x, &y));
    assert!((b - a - penalty).abs() < 1e-5, "{b} - {a} vs {penalty}");
    // SimpleRNN: recurrent L1(0.4).
    let (x, y) = (vals(&[4, 3, 2], 0.3, 1.0), vals(&[4, 1], 0.2, 1.0));
    let rnn = |regularized: bool| {
        let mut layer = tch_keras::SimpleRNN::new(3);
        if regularized {
            layer = layer.recurrent_regularizer(Regularizer::l1(0.4));
        }
        let mut m = Sequential::new().device(Device::Cpu).seed(6).input_shape([3, 2]).add(layer).add(Dense::new(1));
        m.compile(Optimizer::sgd(0.0), Loss::MeanSquaredError, vec![]).unwrap();
        m
    };
    let (mut plain, mut reg) = (rnn(false), rnn(true));
    reg.build().unwrap();
    let penalty = 0.4 * sum(var(&reg, "layers.0.weight_hh_l0").abs());
    let (a, b) = (loss(&mut plain, &x, &y), loss(&mut reg, &x, &y));
    assert!((b - a - penalty).abs() < 1e-5, "{b} - {a} vs {penalty}");
}
