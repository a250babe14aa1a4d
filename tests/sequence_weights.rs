//! Per-timestep sample weights `(N, T)` for per-timestep outputs `(N, T, C)` and `(N, T, D)`, as
//! Keras 3 takes them (zeros leave padded timesteps out): the loss is the mean of `loss * w` over
//! the `N * T` timesteps, a weighted mean metric `sum(value * w) / sum(w)`.
//!
//! Keras numbers come from tests/reference/keras_sequence_weights.py (Keras 3.15.1, torch
//! backend). Inputs and weights there and here are `vals(shape, offset, scale)`:
//! `sin(0.7 * i + offset) * scale`, and the tagger is tests/seq_labels.rs's.
use tch::{Device, Kind, Tensor};
use tch_keras::{
    Activation, Batch, BatchSource, Batches, Dense, Embedding, Error, FitConfig, Logs, Loss, Metric, MetricKind,
    Optimizer, R2Aggregation, Sequential, TensorSource, Verbosity, LSTM,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

const N: i64 = 5;
const T: i64 = 3;
const C: i64 = 4;
const LABELS: [i64; 15] = [0, 3, 1, 2, 2, 0, 1, 3, 3, 0, 1, 2, 3, 0, 1];
/// The labels changed on the zero-weight timesteps only.
const LABELS_PADDED: [i64; 15] = [0, 3, 1, 2, 2, 3, 1, 0, 1, 0, 1, 2, 3, 0, 1];
/// Sequences 2 and 3 are padded after 2 and 1 timesteps (weight 0 there).
const WS: [f32; 15] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 0.0, 0.0, 0.5, 1.5, 1.0, 1.0, 3.0, 0.5];

fn cpu() -> (Kind, Device) {
    (Kind::Float, Device::Cpu)
}

fn labels() -> Tensor {
    Tensor::from_slice(&LABELS).view([N, T])
}

fn padded_labels() -> Tensor {
    Tensor::from_slice(&LABELS_PADDED).view([N, T])
}

fn step_weights() -> Tensor {
    Tensor::from_slice(&WS).view([N, T])
}

fn tokens() -> Tensor {
    Tensor::from_slice(&[1i64, 4, 6, 0, 2, 2, 5, 3, 1, 6, 6, 0, 2, 1, 3]).view([N, T])
}

fn close(got: f64, keras: f64, what: &str) {
    assert!((got - keras).abs() < 2e-5 * keras.abs().max(1.0), "{what}: got {got}, Keras {keras}");
}

fn check_logs(logs: &Logs, keras: &[(&str, f64)], what: &str) {
    assert_eq!(logs.len(), keras.len(), "{what}: {logs}");
    for (name, value) in keras {
        close(
            logs.get(name).unwrap_or_else(|| panic!("{what}: {name} missing: {logs}")),
            *value,
            &format!("{what} {name}"),
        );
    }
}

fn variable(m: &Sequential, name: &str) -> Vec<f32> {
    let vars = m.variables().unwrap();
    let (_, v) = vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name}"));
    Vec::<f32>::try_from(v.reshape([-1])).unwrap()
}

fn check_values(got: &[f32], keras: &[f64], what: &str) {
    assert_eq!(got.len(), keras.len(), "{what}");
    for (g, k) in got.iter().zip(keras) {
        close(*g as f64, *k, what);
    }
}

/// The tagger's metrics: `accuracy`, and weighted `accuracy` and sparse cross-entropy `sce`.
fn tagger_metrics() -> Vec<Metric> {
    vec![
        Metric::accuracy(),
        Metric::accuracy().weighted(),
        Metric::new(MetricKind::SparseCategoricalCrossentropy { from_logits: false }, "sce").weighted(),
    ]
}

/// Embedding(7, 3) -> LSTM(4, return_sequences) -> Dense(4, softmax), weights as the script's.
fn tagger(loss: Loss, metrics: Vec<Metric>) -> Sequential {
    let mut m = Sequential::new()
        .input_shape([T])
        .add(Embedding::new(7, 3))
        .add(LSTM::new(4).return_sequences(true))
        .add(Dense::new(C).activation(Activation::Softmax));
    m.compile(Optimizer::sgd(0.5), loss, metrics).unwrap();
    m.build().unwrap();
    let values = [
        ("layers.0.weight", vals(&[7, 3], 0.1, 0.8)),
        ("layers.1.weight_ih_l0", vals(&[16, 3], 0.5, 0.5)),
        ("layers.1.weight_hh_l0", vals(&[16, 4], 0.9, 0.5)),
        ("layers.1.bias_ih_l0", vals(&[16], 1.3, 0.2)),
        ("layers.2.weight", vals(&[C, 4], 1.7, 0.7)),
        ("layers.2.bias", vals(&[C], 2.1, 0.1)),
    ];
    let vars = m.variables().unwrap();
    assert_eq!(vars.len(), values.len());
    for (name, value) in values {
        let (_, v) = vars.iter().find(|(n, _)| n == name).expect(name);
        tch::no_grad(|| v.shallow_clone().copy_(&value));
    }
    m
}

fn silent<'a>() -> FitConfig<'a> {
    FitConfig { verbose: Verbosity::Silent, ..Default::default() }
}

/// keras_sequence_weights.py: tagger_evaluate (and _b2, _padded, _t1: the same numbers).
const TAGGER_EVALUATE: [(&str, f64); 4] = [
    ("accuracy", 0.2666666805744171),
    ("loss", 1.3173508644104004),
    ("sce", 1.362776756286621),
    ("weighted_accuracy", 0.3103448152542114),
];
/// tagger_step2.
const TAGGER_STEP2: [(&str, f64); 4] = [
    ("accuracy", 0.2666666805744171),
    ("loss", 1.3060234785079956),
    ("sce", 1.3510587215423584),
    ("weighted_accuracy", 0.4482758641242981),
];
/// tagger_dense_bias (after two steps).
const TAGGER_BIAS: [f64; 4] = [0.1175277978181839, 0.11678944528102875, -0.07301269471645355, -0.16372069716453552];

#[test]
fn a_tagger_evaluates_with_per_timestep_weights_as_keras() {
    let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    let w = step_weights();
    let logs = m.evaluate_weighted(&tokens(), &labels(), Some(&w), N as usize, vec![]).unwrap();
    check_logs(&logs, &TAGGER_EVALUATE, "one batch");
    // Streamed over batches of 2 (Keras: 1.31735098 for the loss, the batches' losses weighed
    // by their sizes); (N, T, 1) weights as (N, T); test_on_batch as evaluate in one batch.
    let logs = m.evaluate_weighted(&tokens(), &labels(), Some(&w), 2, vec![]).unwrap();
    check_logs(&logs, &TAGGER_EVALUATE, "batches of 2");
    let logs = m.evaluate_weighted(&tokens(), &labels(), Some(&w.unsqueeze(-1)), N as usize, vec![]).unwrap();
    check_logs(&logs, &TAGGER_EVALUATE, "(N, T, 1) weights");
    let logs = m.test_on_batch_weighted(&tokens(), &labels(), Some(&w)).unwrap();
    check_logs(&logs, &TAGGER_EVALUATE, "test_on_batch");
    // The weights matter: unweighted, the loss and weighted metrics are other numbers.
    let plain = m.evaluate(&tokens(), &labels(), N as usize).unwrap();
    assert!((plain["loss"] - TAGGER_EVALUATE[1].1).abs() > 1e-3, "{plain}");
    assert!((plain["weighted_accuracy"] - TAGGER_EVALUATE[3].1).abs() > 1e-3, "{plain}");
}

#[test]
fn labels_on_zero_weight_timesteps_do_not_matter() {
    let w = step_weights();
    // Keras: tagger_evaluate_padded gives tagger_evaluate's numbers.
    let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    let logs = m.evaluate_weighted(&tokens(), &padded_labels(), Some(&w), N as usize, vec![]).unwrap();
    check_logs(&logs, &TAGGER_EVALUATE, "padded labels");
    // Two training steps land on the same weights, exactly.
    let weighted = [("loss", 0.0), ("sce", 0.0), ("weighted_accuracy", 0.0)];
    let (mut a, mut b) = (tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics()), m);
    for _ in 0..2 {
        let la = a.train_on_batch_weighted(&tokens(), &labels(), Some(&w)).unwrap();
        let lb = b.train_on_batch_weighted(&tokens(), &padded_labels(), Some(&w)).unwrap();
        for (name, _) in weighted {
            assert_eq!(la[name], lb[name], "{name}");
        }
    }
    for name in ["layers.0.weight", "layers.1.weight_hh_l0", "layers.2.weight", "layers.2.bias"] {
        assert_eq!(variable(&a, name), variable(&b, name), "{name}");
    }
    // Changing a label on a weighted timestep does change the loss.
    let other = labels();
    let _ = other.get(0).get(0).fill_(2);
    let mut c = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    let logs = c.evaluate_weighted(&tokens(), &other, Some(&w), N as usize, vec![]).unwrap();
    assert!((logs["loss"] - TAGGER_EVALUATE[1].1).abs() > 1e-3, "{logs}");
}

// Long: the same Keras run checked through each training entry point (train_on_batch, fit with
// both weight shapes, fit_source on tensors and on batches), read against one set of numbers.
#[test]
fn a_tagger_trains_on_batches_and_fits_with_per_timestep_weights_as_keras() {
    let w = step_weights();
    let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    // keras_sequence_weights.py: tagger_step1 (= tagger_evaluate), tagger_step2, tagger_dense_*.
    check_logs(&m.train_on_batch_weighted(&tokens(), &labels(), Some(&w)).unwrap(), &TAGGER_EVALUATE, "step 1");
    check_logs(&m.train_on_batch_weighted(&tokens(), &labels(), Some(&w)).unwrap(), &TAGGER_STEP2, "step 2");
    check_values(&variable(&m, "layers.2.bias"), &TAGGER_BIAS, "bias");
    let kernel = [
        0.6981126070022583,
        0.47779810428619385,
        0.037648748606443405,
        -0.42616111040115356,
        -0.6932754516601562,
        -0.6178356409072876,
        -0.2621113359928131,
        0.21217907965183258,
        0.5934708118438721,
        0.6973533034324646,
        0.4528631269931793,
        0.0146851921454072,
        -0.4306575059890747,
        -0.6970143914222717,
        -0.6097458004951477,
        -0.2443424016237259,
    ];
    check_values(&variable(&m, "layers.2.weight"), &kernel, "kernel");

    // The same two steps through fit (batch N, no shuffle), validating on weighted data:
    // tagger_fit_*.
    let keras: [(&str, [f64; 2]); 8] = [
        ("loss", [1.3173508644104004, 1.3060234785079956]),
        ("accuracy", [0.2666666805744171, 0.2666666805744171]),
        ("weighted_accuracy", [0.3103448152542114, 0.4482758641242981]),
        ("sce", [1.362776756286621, 1.3510587215423584]),
        ("val_loss", [1.3060234785079956, 1.2965439558029175]),
        ("val_accuracy", [0.2666666805744171, 0.3333333432674408]),
        ("val_weighted_accuracy", [0.4482758641242981, 0.5172414183616638]),
        ("val_sce", [1.3510587215423584, 1.341252326965332]),
    ];
    let (x, y) = (tokens(), labels());
    for per_step in [w.shallow_clone(), w.unsqueeze(-1)] {
        let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
        let config = FitConfig {
            epochs: 2,
            batch_size: N as usize,
            shuffle: false,
            sample_weight: Some(&per_step),
            validation_data: Some((&x, &y)),
            validation_sample_weight: Some(&per_step),
            ..silent()
        };
        let h = m.fit(&x, &y, config).unwrap();
        for (name, values) in keras {
            let got = h.series(name).unwrap_or_else(|| panic!("{name} missing"));
            for (epoch, value) in values.iter().enumerate() {
                close(got[epoch], *value, &format!("fit {name} epoch {epoch}"));
            }
        }
        check_values(&variable(&m, "layers.2.bias"), &TAGGER_BIAS, "fit bias");
    }

    // fit_source with the weights on a TensorSource, and on batches of a source of one's own.
    let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    let mut source =
        TensorSource::new(tokens(), Some(labels()), N as usize).unwrap().with_sample_weight(w.copy()).unwrap();
    let h = m.fit_source(&mut source, FitConfig { epochs: 2, ..silent() }).unwrap();
    close(h.series("loss").unwrap()[1], keras[0].1[1], "fit_source loss");
    close(h.series("weighted_accuracy").unwrap()[1], keras[2].1[1], "fit_source weighted_accuracy");
    check_values(&variable(&m, "layers.2.bias"), &TAGGER_BIAS, "fit_source bias");
    let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    let h = m.fit_source(&mut OneBatch { weights: w.copy() }, FitConfig { epochs: 2, ..silent() }).unwrap();
    close(h.series("loss").unwrap()[1], keras[0].1[1], "own source loss");
    check_values(&variable(&m, "layers.2.bias"), &TAGGER_BIAS, "own source bias");
}

/// The tagger's data as one batch carrying its weights.
struct OneBatch {
    weights: Tensor,
}

impl BatchSource for OneBatch {
    fn num_batches(&self) -> Option<usize> {
        Some(1)
    }

    fn epoch(&mut self, _epoch: usize) -> tch_keras::Result<Batches<'_>> {
        let batch = Batch::new(tokens(), labels()).and_then(|b| b.with_sample_weight(self.weights.copy()));
        Ok(Box::new(std::iter::once(batch)))
    }
}

#[test]
fn one_hot_targets_and_a_weighted_precision_take_per_timestep_weights_as_keras() {
    let w = step_weights();
    let one_hot = labels().one_hot(C).to_kind(Kind::Float);
    let metrics = vec![Metric::accuracy(), Metric::accuracy().weighted()];
    let mut m = tagger(Loss::CategoricalCrossentropy, metrics);
    // keras_sequence_weights.py: tagger_onehot_step1.
    let keras =
        [("accuracy", 0.2666666805744171), ("loss", 1.3173508644104004), ("weighted_accuracy", 0.3103448152542114)];
    check_logs(&m.train_on_batch_weighted(&tokens(), &one_hot, Some(&w)).unwrap(), &keras, "one-hot step");
    // tagger_onehot_precision: each timestep's weight on each of its C outputs, batches of 2.
    let precision = Metric::new(MetricKind::Precision { threshold: 0.27 }, "prec").weighted();
    let metrics = vec![Metric::accuracy(), Metric::accuracy().weighted(), precision.clone()];
    let mut m = tagger(Loss::CategoricalCrossentropy, metrics);
    let keras = [
        ("accuracy", 0.2666666805744171),
        ("loss", 1.31735098361969),
        ("prec", 0.3913043439388275),
        ("weighted_accuracy", 0.3103448152542114),
    ];
    check_logs(&m.evaluate_weighted(&tokens(), &one_hot, Some(&w), 2, vec![]).unwrap(), &keras, "precision");
    let plain = m.evaluate(&tokens(), &one_hot, 2).unwrap();
    assert!((plain["prec"] - keras[2].1).abs() > 1e-3, "the weights change the precision: {plain}");
}

#[test]
fn the_masked_sparse_loss_takes_per_timestep_weights_as_keras() {
    let w = step_weights();
    let mut m = tagger(Loss::sparse_categorical_crossentropy_ignoring(false, 3), vec![]);
    // keras_sequence_weights.py: tagger_ignore_evaluate, tagger_ignore_step1, tagger_ignore_dense_bias.
    let keras = [("loss", 1.5211049318313599)];
    check_logs(&m.evaluate_weighted(&tokens(), &labels(), Some(&w), N as usize, vec![]).unwrap(), &keras, "evaluate");
    check_logs(&m.train_on_batch_weighted(&tokens(), &labels(), Some(&w)).unwrap(), &keras, "step");
    let bias = [0.13363154232501984, 0.11728167533874512, -0.03985575586557388, -0.2134736180305481];
    check_values(&variable(&m, "layers.2.bias"), &bias, "bias");
}

/// Dense(2) on (N, T, 3) inputs: per-timestep regression, weights as the script's.
fn regression(loss: Loss) -> Sequential {
    let metrics = vec![Metric::mae(), Metric::mae().weighted(), Metric::mse().weighted()];
    let mut m = Sequential::new().device(Device::Cpu).input_shape([T, 3]).add(Dense::new(2));
    m.compile(Optimizer::sgd(0.1), loss, metrics).unwrap();
    m.build().unwrap();
    m.set_weights(&[vals(&[2], 0.8, 0.1), vals(&[2, 3], 0.4, 0.6)]).unwrap();
    m
}

#[test]
fn a_per_timestep_regression_takes_per_timestep_weights_as_keras() {
    let (x, y, w) = (vals(&[N, T, 3], 0.2, 1.5), vals(&[N, T, 2], 1.1, 1.0), step_weights());
    let metrics =
        |loss: f64, mae: f64, mse: f64, wmae: f64| [("loss", loss), ("mae", mae), ("mse", mse), ("weighted_mae", wmae)];
    // keras_sequence_weights.py: reg_{mse,mae}_{evaluate,step1,step2,kernel,bias}.
    type Case = (Loss, [[(&'static str, f64); 4]; 3], [f64; 6], [f64; 2]);
    let cases: [Case; 2] = [
        (
            Loss::MeanSquaredError,
            [
                metrics(1.08272123336792, 0.9793909788131714, 1.120056390762329, 0.8162689805030823),
                metrics(1.08272123336792, 0.9793909788131714, 1.1200562715530396, 0.8162689805030823),
                metrics(0.8207857012748718, 0.8747390508651733, 0.8490886688232422, 0.7152034640312195),
            ],
            [
                0.20143954455852509,
                0.36060312390327454,
                0.35016942024230957,
                0.3655027747154236,
                0.01298387162387371,
                -0.34564152359962463,
            ],
            [0.033991068601608276, 0.07973334938287735],
        ),
        (
            Loss::MeanAbsoluteError,
            [
                metrics(0.7890599966049194, 0.9793909788131714, 1.120056390762329, 0.8162689805030823),
                metrics(0.7890599966049194, 0.9793909788131714, 1.1200562715530396, 0.8162689805030823),
                metrics(0.7475607991218567, 0.942274272441864, 1.0225611925125122, 0.773338794708252),
            ],
            [
                0.24342307448387146,
                0.4740205705165863,
                0.4816788136959076,
                0.3869921565055847,
                -0.008510218001902103,
                -0.40001004934310913,
            ],
            [0.09506894648075104, 0.10974950343370438],
        ),
    ];
    for (loss, [evaluate, step1, step2], kernel, bias) in cases {
        let what = loss.to_string();
        let mut m = regression(loss.clone());
        check_logs(&m.evaluate_weighted(&x, &y, Some(&w), 2, vec![]).unwrap(), &evaluate, &format!("{what} evaluate"));
        check_logs(&m.train_on_batch_weighted(&x, &y, Some(&w)).unwrap(), &step1, &format!("{what} step 1"));
        check_logs(&m.train_on_batch_weighted(&x, &y, Some(&w)).unwrap(), &step2, &format!("{what} step 2"));
        check_values(&variable(&m, "layers.0.weight"), &kernel, &format!("{what} kernel"));
        check_values(&variable(&m, "layers.0.bias"), &bias, &format!("{what} bias"));
        // The same through fit, 2 epochs of one batch, unshuffled.
        let mut f = regression(loss);
        let config =
            FitConfig { epochs: 2, batch_size: N as usize, shuffle: false, sample_weight: Some(&w), ..silent() };
        let h = f.fit(&x, &y, config).unwrap();
        for (name, value) in step2 {
            close(h.series(name).unwrap()[1], value, &format!("{what} fit {name}"));
        }
        check_values(&variable(&f, "layers.0.weight"), &kernel, &format!("{what} fit kernel"));
    }
}

fn invalid_message(e: Error) -> String {
    match e {
        Error::InvalidArgument { name, message } => {
            assert_eq!(name, "sample_weight", "{message}");
            message
        }
        other => panic!("expected a typed sample_weight error, got {other}"),
    }
}

#[test]
fn weights_of_other_shapes_are_refused_naming_the_shapes_taken() {
    let mut m = tagger(Loss::SparseCategoricalCrossentropy, tagger_metrics());
    let before = variable(&m, "layers.2.weight");
    let (x, y) = (tokens(), labels());
    for bad in [Tensor::ones([N, T + 1], cpu()), Tensor::ones([N, T, 2], cpu()), Tensor::ones([T], cpu())] {
        let shape = format!("{:?}", bad.size());
        let check = |e: Error| {
            let e = invalid_message(e);
            assert!(e.contains("[5] (or [5, 1])") && e.contains("[5, 3] (or [5, 3, 1])") && e.contains(&shape), "{e}");
        };
        check(m.fit(&tokens(), &labels(), FitConfig { sample_weight: Some(&bad), ..silent() }).unwrap_err());
        check(m.evaluate_weighted(&tokens(), &labels(), Some(&bad), 2, vec![]).unwrap_err());
        check(m.train_on_batch_weighted(&tokens(), &labels(), Some(&bad)).unwrap_err());
        check(m.test_on_batch_weighted(&tokens(), &labels(), Some(&bad)).unwrap_err());
        let config = FitConfig { validation_data: Some((&x, &y)), validation_sample_weight: Some(&bad), ..silent() };
        check(m.fit(&tokens(), &labels(), config).unwrap_err());
    }
    // A batch's weights are checked against the outputs by the step, before any update.
    let e = m.fit_source(&mut OneBatch { weights: Tensor::ones([N, T + 1], cpu()) }, silent()).unwrap_err();
    let e = invalid_message(e);
    assert!(e.contains("[5, 3] (or [5, 3, 1])") && e.contains("[5, 4]"), "{e}");
    assert!(Batch::new(tokens(), labels()).unwrap().with_sample_weight(Tensor::ones([N + 1, T], cpu())).is_err());
    assert_eq!(variable(&m, "layers.2.weight"), before, "nothing trained");

    // A model with one output row per sample takes one weight per sample only.
    let mut flat = Sequential::new().device(Device::Cpu).input_shape([3]).add(Dense::new(2));
    flat.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    let (x, y) = (vals(&[N, 3], 0.2, 1.0), vals(&[N, 2], 0.5, 1.0));
    let e = invalid_message(flat.train_on_batch_weighted(&x, &y, Some(&Tensor::ones([N, 2], cpu()))).unwrap_err());
    assert!(e.contains("[5] (or [5, 1])") && !e.contains("timestep"), "{e}");

    // Losses that score a whole batch, and metrics that weigh whole samples, refuse them.
    let mut dice = tagger(Loss::Dice, vec![]);
    let one_hot = labels().one_hot(C).to_kind(Kind::Float);
    let e = invalid_message(dice.train_on_batch_weighted(&tokens(), &one_hot, Some(&step_weights())).unwrap_err());
    assert!(e.contains("dice") && e.contains("[N]"), "{e}");
    let r2 = Metric::new(
        MetricKind::R2Score { class_aggregation: R2Aggregation::UniformAverage, num_regressors: 0, outputs: 2 },
        "r2",
    );
    let metrics = vec![r2.weighted()];
    let mut reg = Sequential::new().device(Device::Cpu).input_shape([T, 3]).add(Dense::new(2));
    reg.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, metrics).unwrap();
    let (x, y) = (vals(&[N, T, 3], 0.2, 1.5), vals(&[N, T, 2], 1.1, 1.0));
    let e = invalid_message(reg.evaluate_weighted(&x, &y, Some(&step_weights()), 5, vec![]).unwrap_err());
    assert!(e.contains("r2") && e.contains("whole samples"), "{e}");
}

#[test]
fn an_lstm_learns_the_weighted_timesteps_of_digits_whose_other_timesteps_are_noise() {
    // scikit-learn's digits as 8 timesteps of 8 pixels: the last 4 timesteps are labelled with
    // the digit, the first 4 with another image's digit (noise), weighted 0.
    let digits = tch_keras::data::sklearn::load(tch_keras::data::sklearn::ToyDataset::Digits, None)
        .expect("scikit-learn's digits are provisioned by scripts/setup.sh");
    let x = (digits.x / 16.0).view([-1, 8, 8]);
    let digit = digits.y.view([-1, 1]);
    let noise = digits.y.roll([1], [0]).view([-1, 1]);
    let y = Tensor::cat(&[noise.expand([-1, 4], false), digit.expand([-1, 4], false)], 1).contiguous();
    let n = x.size()[0];
    let w = Tensor::cat(&[Tensor::zeros([n, 4], cpu()), Tensor::ones([n, 4], cpu())], 1);
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .seed(3)
        .input_shape([8, 8])
        .add(LSTM::new(32).return_sequences(true))
        .add(Dense::new(10).activation(Activation::Softmax));
    let metrics = vec![Metric::accuracy(), Metric::accuracy().weighted()];
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, metrics).unwrap();
    // Every sixth image is held out (the file's last images are from other writers).
    let all = Tensor::arange(n, (Kind::Int64, Device::Cpu));
    let held = all.remainder(6).eq(0);
    let (train, val) = (all.masked_select(&held.logical_not()), all.masked_select(&held));
    let pick = |t: &Tensor, i: &Tensor| t.index_select(0, i);
    let (xt, yt, wt) = (pick(&x, &train), pick(&y, &train), pick(&w, &train));
    let config = FitConfig { epochs: 15, batch_size: 64, sample_weight: Some(&wt), ..silent() };
    m.fit(&xt, &yt, config).unwrap();
    let (xv, yv, wv) = (pick(&x, &val), pick(&y, &val), pick(&w, &val));
    let logs = m.evaluate_weighted(&xv, &yv, Some(&wv), 128, vec![]).unwrap();
    // The weighted timesteps are learnt; the noise on the others is not (about 1 in 10).
    assert!(logs["weighted_accuracy"] > 0.85, "{logs}");
    assert!(logs["accuracy"] < 0.6, "{logs}");
}
