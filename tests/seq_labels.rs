//! Sequence labelling: per-timestep outputs `(N, T, C)` with sparse labels `(N, T)` or one-hot
//! targets `(N, T, C)`, as Keras trains `Embedding -> LSTM(return_sequences) -> Dense(softmax)`.
//!
//! Keras numbers come from tests/reference/seq_labels.py (Keras 3, torch backend). Inputs and
//! weights there and here are `vals(shape, offset, scale)`: `sin(0.7 * i + offset) * scale`.
//! Keras 3 spells one weight per sequence `(N, 1)`; here `(N,)` means the same.
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    Activation, Dense, Embedding, Error, FitConfig, Loss, Metric, MetricKind, Optimizer, Reshape, Sequential,
    TensorSource, Verbosity, LSTM,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

const N: i64 = 5;
const T: i64 = 3;
const C: i64 = 4;
const LABELS: [i64; 15] = [0, 3, 1, 2, 2, 0, 1, 3, 3, 0, 1, 2, 3, 0, 1];
const W: [f32; 5] = [1.0, 0.0, 2.0, 0.5, 3.0];

fn logits() -> Tensor {
    vals(&[N, T, C], 0.3, 2.0)
}

fn probs() -> Tensor {
    logits().softmax(-1, Kind::Float)
}

fn labels() -> Tensor {
    Tensor::from_slice(&LABELS).view([N, T])
}

fn one_hot() -> Tensor {
    labels().one_hot(C).to_kind(Kind::Float)
}

fn weights() -> Tensor {
    Tensor::from_slice(&W)
}

fn close(got: f64, keras: f64, what: &str) {
    assert!((got - keras).abs() < 2e-5 * keras.abs().max(1.0), "{what}: got {got}, Keras {keras}");
}

fn scalar(t: Tensor) -> f64 {
    t.double_value(&[])
}

#[test]
fn losses_on_timesteps_equal_keras() {
    let (p, y, w) = (probs(), labels(), weights());
    let sparse = Loss::SparseCategoricalCrossentropy;
    // seq_labels.py: loss_sparse, loss_sparse_weighted, loss_sparse_logits(_weighted).
    close(scalar(sparse.compute(&p, &y, false).unwrap()), 2.1029112339019775, "sparse");
    close(scalar(sparse.compute_weighted(&p, &y, false, &w).unwrap()), 3.192204713821411, "sparse weighted");
    let from_logits = Loss::sparse_categorical_crossentropy(true);
    close(scalar(from_logits.compute(&logits(), &y, false).unwrap()), 2.1029112339019775, "logits");
    let weighted = from_logits.compute_weighted(&logits(), &y, false, &w).unwrap();
    close(scalar(weighted), 3.192204713821411, "logits weighted");
    // loss_sparse_ignore(_weighted): the mean over the labels that are not 3.
    let ignoring = Loss::sparse_categorical_crossentropy_ignoring(false, 3);
    close(scalar(ignoring.compute(&p, &y, false).unwrap()), 2.0077414512634277, "ignore_class");
    close(scalar(ignoring.compute_weighted(&p, &y, false, &w).unwrap()), 2.520582437515259, "ignore weighted");
    // loss_categorical(_weighted): one-hot targets (N, T, C).
    let cce = Loss::CategoricalCrossentropy;
    close(scalar(cce.compute(&p, &one_hot(), false).unwrap()), 2.1029112339019775, "categorical");
    close(scalar(cce.compute_weighted(&p, &one_hot(), false, &w).unwrap()), 3.192204713821411, "categorical w");
    assert_eq!(sparse.per_sample(&p, &y, false).unwrap().size(), [N], "one loss per sequence");
}

/// A `Dense(C)` on `(T, C)` inputs whose output is its input.
fn identity(loss: Loss, metrics: Vec<Metric>) -> Sequential {
    let mut m = Sequential::new().input_shape([T, C]).add(Dense::new(C));
    m.compile(Optimizer::sgd(0.01), loss, metrics).unwrap();
    m.build().unwrap();
    let cpu = (Kind::Float, Device::Cpu);
    m.set_weights(&[Tensor::zeros([C], cpu), Tensor::eye(C, cpu)]).unwrap();
    m
}

fn logged(m: &mut Sequential, y: &Tensor, w: Option<&Tensor>, keras: &[(&str, f64)]) {
    let logs = m.evaluate_weighted(&probs(), y, w, 2, vec![]).unwrap();
    for (name, value) in keras {
        close(logs.get(name).unwrap_or_else(|| panic!("{name} missing: {logs}")), *value, name);
    }
}

#[test]
fn sparse_metrics_stream_over_timesteps_as_keras() {
    let metrics = vec![
        Metric::accuracy(),
        Metric::new(MetricKind::SparseTopKCategoricalAccuracy { k: 2 }, "top2"),
        Metric::new(MetricKind::SparseCategoricalCrossentropy { from_logits: false }, "sce"),
    ];
    let mut m = identity(Loss::SparseCategoricalCrossentropy, metrics);
    // seq_labels.py: evaluate_sparse.
    let keras = [("loss", 2.1029112339019775), ("accuracy", 0.13333334), ("top2", 0.4), ("sce", 2.1029114723205566)];
    logged(&mut m, &labels(), None, &keras);
    let metrics = vec![
        Metric::new(MetricKind::SparseCategoricalAccuracy, "sparse_categorical_accuracy"),
        Metric::new(MetricKind::SparseCategoricalAccuracy, "wacc").weighted(),
    ];
    let mut m = identity(Loss::SparseCategoricalCrossentropy, metrics);
    // evaluate_sparse_weighted.
    let keras = [("loss", 3.192204713821411), ("sparse_categorical_accuracy", 0.13333334), ("wacc", 0.1025641)];
    logged(&mut m, &labels(), Some(&weights()), &keras);
    let mut m = identity(Loss::sparse_categorical_crossentropy_ignoring(false, 3), vec![]);
    // evaluate_sparse_ignore(_weighted).
    logged(&mut m, &labels(), None, &[("loss", 2.0228846073150635)]);
    logged(&mut m, &labels(), Some(&weights()), &[("loss", 2.6845405101776123)]);
}

#[test]
fn categorical_metrics_on_one_hot_timesteps_equal_keras() {
    let metrics = vec![
        Metric::accuracy(),
        Metric::new(MetricKind::CategoricalAccuracy, "categorical_accuracy"),
        Metric::new(MetricKind::TopKCategoricalAccuracy { k: 2 }, "top2"),
    ];
    let mut m = identity(Loss::CategoricalCrossentropy, metrics);
    // seq_labels.py: evaluate_categorical, evaluate_categorical_weighted.
    let keras = [("loss", 2.1029112339019775), ("accuracy", 0.13333334), ("categorical_accuracy", 0.13333334)];
    logged(&mut m, &one_hot(), None, &keras);
    logged(&mut m, &one_hot(), None, &[("top2", 0.4)]);
    let metrics = vec![Metric::new(MetricKind::CategoricalAccuracy, "categorical_accuracy").weighted()];
    let mut m = identity(Loss::CategoricalCrossentropy, metrics);
    logged(&mut m, &one_hot(), Some(&weights()), &[("loss", 3.192204713821411), ("categorical_accuracy", 0.1025641)]);
}

/// Embedding(7, 3) -> LSTM(4, return_sequences) -> Dense(4, softmax), weights as seq_labels.py.
fn tagger(loss: Loss) -> Sequential {
    let mut m = Sequential::new()
        .input_shape([T])
        .add(Embedding::new(7, 3))
        .add(LSTM::new(4).return_sequences(true))
        .add(Dense::new(C).activation(Activation::Softmax));
    m.compile(Optimizer::sgd(0.5), loss, vec![Metric::accuracy()]).unwrap();
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
    assert_eq!(vars.len(), values.len(), "{:?}", vars.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (name, value) in values {
        let (_, v) = vars.iter().find(|(n, _)| n == name).expect(name);
        tch::no_grad(|| v.shallow_clone().copy_(&value));
    }
    m
}

fn tokens() -> Tensor {
    Tensor::from_slice(&[1i64, 4, 6, 0, 2, 2, 5, 3, 1, 6, 6, 0, 2, 1, 3]).view([N, T])
}

#[test]
fn embedding_lstm_tagger_fits_as_keras() {
    // seq_labels.py: fit_sparse_*, fit_sparse_weighted_* (the categorical runs log the same).
    let plain = ([1.3944288492202759, 1.389599084854126], [0.26666668, 0.26666668]);
    let plain_bias = [0.0782000869512558, 0.045221276581287384, -0.07992818206548691, -0.045909322798252106];
    let weighted = ([1.8288533687591553, 1.7323439121246338], [0.26666668, 0.4]);
    let weighted_bias = [0.03712621331214905, 0.12449264526367188, -0.3005729019641876, 0.13653790950775146];
    let w = weights();
    for (loss, y) in [(Loss::SparseCategoricalCrossentropy, labels()), (Loss::CategoricalCrossentropy, one_hot())] {
        for (sw, (keras_loss, keras_acc), bias) in [(None, plain, plain_bias), (Some(&w), weighted, weighted_bias)] {
            let mut m = tagger(loss.clone());
            let config = FitConfig {
                epochs: 2,
                batch_size: 5,
                shuffle: false,
                sample_weight: sw,
                verbose: Verbosity::Silent,
                ..Default::default()
            };
            let h = m.fit(&tokens(), &y, config).unwrap();
            let what = format!("{loss} weighted={}", sw.is_some());
            for epoch in 0..2 {
                close(h.series("loss").unwrap()[epoch], keras_loss[epoch], &format!("{what} loss"));
                close(h.series("accuracy").unwrap()[epoch], keras_acc[epoch], &format!("{what} accuracy"));
            }
            let (_, b) = m.variables().unwrap().iter().find(|(n, _)| n == "layers.2.bias").unwrap();
            let got = Vec::<f32>::try_from(b).unwrap();
            for (g, k) in got.iter().zip(bias) {
                close(*g as f64, k, &format!("{what} bias"));
            }
        }
    }
}

#[test]
fn bad_label_shapes_and_ranges_are_refused_with_the_shapes() {
    let mut m = tagger(Loss::SparseCategoricalCrossentropy);
    let silent = || FitConfig { verbose: Verbosity::Silent, ..Default::default() };
    let message = |e: Error| match e {
        Error::Targets { message, .. } => message,
        other => panic!("expected a targets error, got {other}"),
    };
    let one_per_sequence = Tensor::from_slice(&[0i64, 1, 2, 3, 0]);
    let e = message(m.fit(&tokens(), &one_per_sequence, silent()).unwrap_err());
    assert!(e.contains("(None, 3, 4)") && e.contains("(None, 3)") && e.contains("(5,)"), "{e}");
    let e = message(m.fit(&tokens(), &one_hot(), silent()).unwrap_err());
    assert!(e.contains("(5, 3, 4)") && e.contains("categorical_crossentropy"), "{e}");
    let e = message(m.fit(&tokens(), &(labels() + 2), silent()).unwrap_err());
    assert!(e.contains("[2, 5]") && e.contains("4 outputs"), "{e}");
    // A trailing axis of 1 is dropped, as Keras squeezes it.
    m.fit(&tokens(), &labels().unsqueeze(-1), silent()).unwrap();
    // A class weight weighs a whole sample; these labels give a class per timestep.
    let config = FitConfig { class_weight: vec![(0, 2.0)], ..silent() };
    let e = m.fit(&tokens(), &labels(), config).unwrap_err().to_string();
    assert!(e.contains("class_weight") && e.contains("(5, 3)") && e.contains("per timestep"), "{e}");
    let mut source = TensorSource::new(tokens(), Some(labels()), 5).unwrap();
    let config = FitConfig { class_weight: vec![(0, 2.0)], ..silent() };
    let e = m.fit_source(&mut source, config).unwrap_err().to_string();
    assert!(e.contains("class_weight") && e.contains("(5, 3)"), "{e}");
    // Sample weights of neither shape taken (one per sample, one per timestep) are refused
    // naming both (tests/sequence_weights.rs checks the per-timestep ones).
    let per_step = Tensor::ones([N, T + 1], (Kind::Float, Device::Cpu));
    let config = FitConfig { sample_weight: Some(&per_step), ..silent() };
    let e = m.fit(&tokens(), &labels(), config).unwrap_err().to_string();
    assert!(e.contains("one weight per sample") && e.contains("[5]") && e.contains("[5, 3]"), "{e}");
    let mut c = tagger(Loss::CategoricalCrossentropy);
    let e = message(c.fit(&tokens(), &labels(), silent()).unwrap_err());
    assert!(e.contains("(5, 3)") && e.contains("(None, 3, 4)"), "{e}");
}

#[test]
fn an_lstm_labels_each_row_of_mnist_with_the_digit() {
    // Each image as 28 timesteps of 28 pixels, every timestep labelled with the image's digit.
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let per_row = |labels: &Tensor| labels.unsqueeze(1).expand([-1, 28], false).contiguous();
    let (x, y) = (ds.train_images.narrow(0, 0, 6000), per_row(&ds.train_labels.narrow(0, 0, 6000)));
    let (x_test, y_test) = (ds.test_images.narrow(0, 0, 1000), per_row(&ds.test_labels.narrow(0, 0, 1000)));
    let mut m = Sequential::new()
        .input_shape([784])
        .add(Reshape::new([28, 28]))
        .add(LSTM::new(32).return_sequences(true))
        .add(Dense::new(10).activation(Activation::Softmax))
        .seed(7);
    m.compile(Optimizer::adam(0.003), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    let config = FitConfig { epochs: 6, verbose: Verbosity::Silent, ..Default::default() };
    m.fit(&x, &y, config).unwrap();
    let acc = m.evaluate(&x_test, &y_test, 500).unwrap().get("accuracy").unwrap();
    // The first rows are blank: no model can tell the digit there, so the mean over the
    // timesteps stays well below the last timestep's accuracy.
    let last = m.predict(&x_test, 500).unwrap().select(1, 27).argmax(-1, false);
    let last_acc = last.eq_tensor(&ds.test_labels.narrow(0, 0, 1000)).to_kind(Kind::Float).mean(Kind::Float);
    let last_acc = last_acc.double_value(&[]);
    eprintln!("per-timestep accuracy {acc}, last timestep {last_acc}");
    assert!(acc > 0.55, "accuracy over the timesteps {acc}");
    assert!(last_acc > 0.8, "accuracy at the last timestep {last_acc}");
}
