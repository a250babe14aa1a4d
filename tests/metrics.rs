//! Streaming metrics against Keras 3: the model below outputs its input unchanged, so
//! `evaluate` in batches smaller than the data sees the reference predictions and accumulates
//! each metric's state over several batches, as Keras's `update_state` calls do. The expected
//! values come from `tests/reference/keras_metrics.py` (Keras 3.15.1, torch backend), which
//! holds the same data and batch sizes.
use tch::{Kind, Tensor};
use tch_keras::{Activation, AucCurve, AucSummation, Dense, Logs, Loss, Metric, MetricKind, Optimizer, Sequential};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

const Y: [f32; 23] = [0., 1., 1., 0., 1., 0., 0., 1., 1., 1., 0., 0., 1., 0., 1., 1., 0., 0., 0., 1., 1., 0., 1.];
const P: [f32; 23] = [
    0.1, 0.8, 0.35, 0.4, 0.9, 0.65, 0.05, 0.5, 0.72, 0.3, 0.2, 0.55, 0.97, 0.0, 0.61, 0.45, 0.81, 0.12, 0.5, 0.99,
    0.25, 0.33, 1.0,
];
const Y3: [[f32; 3]; 8] =
    [[1., 0., 1.], [0., 0., 1.], [1., 1., 0.], [0., 1., 0.], [1., 0., 0.], [0., 0., 0.], [1., 1., 1.], [0., 1., 1.]];
const P3: [[f32; 3]; 8] = [
    [0.9, 0.2, 0.4],
    [0.6, 0.1, 0.8],
    [0.7, 0.45, 0.3],
    [0.2, 0.9, 0.55],
    [0.35, 0.6, 0.1],
    [0.51, 0.49, 0.05],
    [0.8, 0.3, 0.95],
    [0.1, 0.75, 0.25],
];
const SCORES: [[f32; 5]; 9] = [
    [0.1, 0.5, 0.2, 0.9, 0.3],
    [0.6, 0.6, 0.1, 0.2, 0.6],
    [0.3, 0.2, 0.1, 0.05, 0.4],
    [0.9, 0.8, 0.7, 0.6, 0.5],
    [0.2, 0.2, 0.2, 0.2, 0.2],
    [0.05, 0.1, 0.3, 0.2, 0.25],
    [0.7, 0.1, 0.6, 0.3, 0.2],
    [0.4, 0.45, 0.5, 0.35, 0.3],
    [0.15, 0.9, 0.8, 0.85, 0.1],
];
const LABELS: [i64; 9] = [1, 4, 3, 4, 2, 0, 2, 1, 3];

fn matrix<const W: usize>(rows: &[[f32; W]]) -> Tensor {
    Tensor::from_slice(&rows.concat()).reshape([rows.len() as i64, W as i64])
}

/// A linear model of width `w` whose output is its input.
fn identity(w: i64, loss: Loss, metrics: Vec<Metric>) -> Sequential {
    identity_then(w, Activation::Linear, loss, metrics)
}

/// A model of width `w` whose output is `activation` of its input.
fn identity_then(w: i64, activation: Activation, loss: Loss, metrics: Vec<Metric>) -> Sequential {
    let mut m = Sequential::new().input_shape([w]).add(Dense::new(w).activation(activation));
    m.compile(Optimizer::sgd(0.01), loss, metrics).unwrap();
    m.build().unwrap();
    // Variables in name order: layers.0.bias, layers.0.weight.
    let cpu = (Kind::Float, tch::Device::Cpu);
    m.set_weights(&[Tensor::zeros([w], cpu), Tensor::eye(w, cpu)]).unwrap();
    m
}

fn check(logs: &Logs, expected: &[(&str, f64)]) {
    for (name, keras) in expected {
        let got = logs.get(name).unwrap_or_else(|| panic!("{name} missing from {logs}"));
        assert!((got - keras).abs() < 2e-6, "{name}: got {got}, Keras {keras}");
    }
}

fn auc(num_thresholds: usize, curve: AucCurve, summation_method: AucSummation, name: &str) -> Metric {
    Metric::new(MetricKind::Auc { num_thresholds, curve, summation_method }, name)
}

#[test]
fn auc_accumulated_over_batches_equals_keras() {
    use AucCurve::{Pr, Roc};
    use AucSummation::{Interpolation, Majoring, Minoring};
    let metrics = vec![
        "auc".parse().unwrap(),
        auc(200, Pr, Interpolation, "auc_pr"),
        auc(200, Roc, Minoring, "auc_roc_minoring"),
        auc(200, Pr, Majoring, "auc_pr_majoring"),
        auc(7, Roc, Interpolation, "auc_7"),
        auc(7, Pr, Interpolation, "auc_pr_7"),
    ];
    let mut m = identity(1, Loss::BinaryCrossentropy, metrics);
    let (x, y) = (Tensor::from_slice(&P).reshape([23, 1]), Tensor::from_slice(&Y));
    let logs = m.evaluate(&x, &y, 5).unwrap();
    check(
        &logs,
        &[
            ("auc", 0.784090877),
            ("auc_pr", 0.811537385),
            ("auc_roc_minoring", 0.780303001),
            ("auc_pr_majoring", 0.820079505),
            ("auc_7", 0.795454502),
            ("auc_pr_7", 0.828233719),
        ],
    );
    // Evaluating in one batch gives the same values: states are sums.
    let whole = m.evaluate(&x, &y, 23).unwrap();
    for name in ["auc", "auc_pr", "auc_7"] {
        assert!((whole.get(name).unwrap() - logs.get(name).unwrap()).abs() < 1e-9, "{name}");
    }
    // Several outputs per sample: every element is one prediction (Keras's multi_label=False).
    let mut m = identity(3, Loss::BinaryCrossentropy, vec![Metric::auc()]);
    check(&m.evaluate(&matrix(&P3), &matrix(&Y3), 3).unwrap(), &[("auc", 0.815972209)]);
}

#[test]
fn auc_counts_nan_outputs_as_negative_at_every_threshold() {
    // A NaN output became bucket i64::MIN: "index out of range in self" from LibTorch (a
    // device-side assert on a GPU). It is now positive at no threshold, as `p > t` is false.
    let y = Tensor::from_slice(&Y);
    let mut m = identity(1, Loss::BinaryCrossentropy, vec![Metric::auc(), Metric::recall()]);
    let all_nan = Tensor::full([23, 1], f64::NAN, (Kind::Float, tch::Device::Cpu));
    let logs = m.evaluate(&all_nan, &y, 5).unwrap();
    // Every threshold predicts every sample negative: true and false positive rates are 0.
    assert_eq!((logs.get("auc"), logs.get("recall")), (Some(0.0), Some(0.0)), "{logs}");
    // One NaN among the reference predictions: the true positive at 0.99 (index 19) drops out
    // of every threshold's true positives, so the area shrinks but stays a fraction.
    let mut p = P;
    p[19] = f32::NAN;
    let logs = m.evaluate(&Tensor::from_slice(&p).reshape([23, 1]), &y, 5).unwrap();
    let auc = logs.get("auc").unwrap();
    assert!(auc > 0.5 && auc < 0.784090877, "{logs}");
    assert!((logs.get("recall").unwrap() - 6.0 / 12.0).abs() < 1e-6, "{logs}");
}

#[test]
fn precision_recall_and_binary_accuracy_equal_keras() {
    let metrics = vec![
        "precision".parse().unwrap(),
        "recall".parse().unwrap(),
        Metric::new(MetricKind::Precision { threshold: 0.3 }, "precision_0.3"),
        Metric::new(MetricKind::Recall { threshold: 0.7 }, "recall_0.7"),
        "binary_accuracy".parse().unwrap(),
        Metric::new(MetricKind::BinaryAccuracy { threshold: 0.7 }, "binary_accuracy_0.7"),
    ];
    let mut m = identity(1, Loss::BinaryCrossentropy, metrics);
    let logs = m.evaluate(&Tensor::from_slice(&P).reshape([23, 1]), &Tensor::from_slice(&Y), 5).unwrap();
    check(
        &logs,
        &[
            ("precision", 0.699999988),
            ("recall", 0.583333313),
            ("precision_0.3", 0.625),
            ("recall_0.7", 0.5),
            ("binary_accuracy", 0.652173936),
            ("binary_accuracy_0.7", 0.695652187),
        ],
    );
    let metrics = vec![Metric::precision(), Metric::recall(), Metric::binary_accuracy(0.5)];
    let mut m = identity(3, Loss::BinaryCrossentropy, metrics);
    check(
        &m.evaluate(&matrix(&P3), &matrix(&Y3), 3).unwrap(),
        &[("precision", 0.636363626), ("recall", 0.583333313), ("binary_accuracy", 0.625)],
    );
}

#[test]
fn top_k_accuracies_equal_keras_with_ties() {
    let one_hot = Tensor::from_slice(&LABELS).one_hot(5).to_kind(Kind::Float);
    let metrics =
        vec![Metric::top_k_categorical_accuracy(2), Metric::new(MetricKind::TopKCategoricalAccuracy { k: 3 }, "top_3")];
    let mut m = identity(5, Loss::CategoricalCrossentropy, metrics);
    check(
        &m.evaluate(&matrix(&SCORES), &one_hot, 4).unwrap(),
        &[("top_k_categorical_accuracy", 0.666666687), ("top_3", 0.666666687)],
    );
    let metrics = vec![
        Metric::new(MetricKind::SparseTopKCategoricalAccuracy { k: 2 }, "sparse_top_2"),
        Metric::new(MetricKind::SparseTopKCategoricalAccuracy { k: 1 }, "sparse_top_1"),
        "sparse_top_k_categorical_accuracy".parse().unwrap(),
    ];
    let mut m = identity(5, Loss::SparseCategoricalCrossentropy, metrics);
    let logs = m.evaluate(&matrix(&SCORES), &Tensor::from_slice(&LABELS), 4).unwrap();
    // Keras's default k is 5: with 5 classes every label is in the top 5.
    check(
        &logs,
        &[("sparse_top_2", 0.666666687), ("sparse_top_1", 0.222222224), ("sparse_top_k_categorical_accuracy", 1.0)],
    );
    assert_eq!(Metric::sparse_top_k_categorical_accuracy(2).kind, MetricKind::SparseTopKCategoricalAccuracy { k: 2 });
}

#[test]
fn streaming_metrics_train_log_and_save_under_their_names() {
    let mut rng = Rng::new(5);
    let y = rng.randint(2, &[200]).to_kind(Kind::Float);
    let x = rng.randn(&[200, 3]) + y.unsqueeze(1) * 1.5;
    let (vx, vy) = (x.narrow(0, 150, 50), y.narrow(0, 150, 50));
    let mut m = Sequential::new().input_shape([3]).add(Dense::new(1).activation(tch_keras::Activation::Sigmoid));
    let metrics: Vec<Metric> =
        ["auc", "precision", "recall", "binary_accuracy"].iter().map(|s| s.parse().unwrap()).collect();
    m.compile(Optimizer::adam(0.05), Loss::BinaryCrossentropy, metrics).unwrap();
    let h = m
        .fit(
            &x.narrow(0, 0, 150),
            &y.narrow(0, 0, 150),
            tch_keras::FitConfig {
                epochs: 3,
                batch_size: 16,
                validation_data: Some((&vx, &vy)),
                verbose: tch_keras::Verbosity::Silent,
                ..Default::default()
            },
        )
        .unwrap();
    let last = m.evaluate(&vx, &vy, 7).unwrap();
    for name in ["auc", "precision", "recall", "binary_accuracy"] {
        assert_eq!(h.series(name).map(|s| s.len()), Some(3), "{name} logged each epoch");
        let val = *h.series(&format!("val_{name}")).unwrap().last().unwrap();
        assert!((val - last.get(name).unwrap()).abs() < 1e-6, "val_{name} {val} equals evaluate's {last}");
    }
    assert!(last.get("auc").unwrap() > 0.8, "the blobs are separable: {last}");
    // Saved and loaded with the model.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let mut loaded = tch_keras::load_model(&path, tch::Device::Cpu).unwrap();
    assert_eq!(loaded.compiled().unwrap().2, m.compiled().unwrap().2);
    assert_eq!(loaded.evaluate(&vx, &vy, 7).unwrap(), last);
}

#[test]
fn metric_json_stays_readable_and_options_are_checked() {
    let old: Metric = serde_json::from_str(r#"{"kind":"accuracy","name":"acc"}"#).unwrap();
    assert_eq!(old, Metric::new(MetricKind::Accuracy, "acc"));
    assert_eq!(serde_json::to_string(&Metric::mae()).unwrap(), r#"{"kind":"mean_absolute_error","name":"mae"}"#);
    for metric in
        [Metric::auc(), Metric::precision(), Metric::top_k_categorical_accuracy(3), Metric::binary_accuracy(0.2)]
    {
        let json = serde_json::to_string(&metric).unwrap();
        assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), metric, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&Metric::auc().kind).unwrap(),
        r#"{"auc":{"num_thresholds":200,"curve":"roc","summation_method":"interpolation"}}"#
    );
    for (name, kind) in [
        ("AUC", MetricKind::auc()),
        ("Precision", MetricKind::Precision { threshold: 0.5 }),
        ("recall", MetricKind::Recall { threshold: 0.5 }),
        ("top_k_categorical_accuracy", MetricKind::TopKCategoricalAccuracy { k: 5 }),
        ("binary_accuracy", MetricKind::BinaryAccuracy { threshold: 0.5 }),
    ] {
        let m: Metric = name.parse().unwrap();
        assert_eq!((m.kind, m.name.as_str()), (kind, name));
    }
    let bad = [
        (MetricKind::Precision { threshold: 1.5 }, "[0, 1]"),
        (MetricKind::TopKCategoricalAccuracy { k: 0 }, "at least 1"),
        (
            MetricKind::Auc { num_thresholds: 1, curve: AucCurve::Roc, summation_method: AucSummation::Interpolation },
            "[2, ",
        ),
    ];
    for (kind, range) in bad {
        let err = kind.validate().unwrap_err().to_string();
        assert!(err.contains(range), "{kind:?}: {err}");
    }
    // A bad option is refused by compile, as Keras refuses it, not at the first batch.
    let mut m = Sequential::new().input_shape([1]).add(Dense::new(1));
    let bad = vec![Metric::new(MetricKind::Recall { threshold: -1.0 }, "r")];
    let err = m.compile(Optimizer::sgd(0.01), Loss::BinaryCrossentropy, bad).unwrap_err();
    assert!(err.to_string().contains("[0, 1]"), "{err}");
    // Element-wise metrics refuse sparse labels with several outputs, naming the fix.
    let mut m = identity(5, Loss::SparseCategoricalCrossentropy, vec![Metric::precision()]);
    let err = m.evaluate(&matrix(&SCORES), &Tensor::from_slice(&LABELS), 4).unwrap_err().to_string();
    assert!(err.contains("precision") && err.contains("to_categorical"), "{err}");
}

#[test]
fn named_categorical_accuracies_equal_keras() {
    const LABELS2: [i64; 9] = [3, 0, 4, 1, 0, 2, 0, 2, 3];
    let one_hot = Tensor::from_slice(&LABELS2).one_hot(5).to_kind(Kind::Float);
    let mut m = identity(5, Loss::CategoricalCrossentropy, vec!["categorical_accuracy".parse().unwrap()]);
    check(&m.evaluate(&matrix(&SCORES), &one_hot, 4).unwrap(), &[("categorical_accuracy", 0.777777791)]);
    let mut m = identity(5, Loss::SparseCategoricalCrossentropy, vec!["sparse_categorical_accuracy".parse().unwrap()]);
    check(
        &m.evaluate(&matrix(&SCORES), &Tensor::from_slice(&LABELS2), 4).unwrap(),
        &[("sparse_categorical_accuracy", 0.777777791)],
    );
    // Multi-hot targets: the first of the maxima is the class, as Keras's argmax.
    let mut m = identity(3, Loss::BinaryCrossentropy, vec![Metric::new(MetricKind::CategoricalAccuracy, "cat")]);
    check(&m.evaluate(&matrix(&P3), &matrix(&Y3), 3).unwrap(), &[("cat", 0.75)]);
}

#[test]
fn weighted_metrics_without_sample_weights_weigh_every_sample_one() {
    let metrics = vec![
        Metric::auc(),
        Metric::new(MetricKind::auc(), "weighted_auc").weighted(),
        Metric::mae(),
        Metric::new(MetricKind::MeanAbsoluteError, "weighted_mae").weighted(),
    ];
    let mut m = identity(1, Loss::BinaryCrossentropy, metrics);
    let logs = m.evaluate(&Tensor::from_slice(&P).reshape([23, 1]), &Tensor::from_slice(&Y), 5).unwrap();
    check(&logs, &[("auc", 0.784090877), ("weighted_auc", 0.784090877)]);
    assert!((logs.get("mae").unwrap() - logs.get("weighted_mae").unwrap()).abs() < 1e-7, "{logs}");
    let json = serde_json::to_string(&Metric::mae().weighted()).unwrap();
    assert_eq!(json, r#"{"kind":"mean_absolute_error","name":"mae","weighted":true}"#);
    assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), Metric::mae().weighted());
}

#[test]
fn argmax_accuracies_read_the_activated_outputs() {
    // Keras (tests/reference/keras_metrics.py, "argmax_*"): a ReLU row of negative outputs is
    // all zeros and a saturated sigmoid or tanh row ties at 1.0; argmax takes the first index.
    let raw =
        matrix(&[[-3.0, -1.0, -2.0], [-2.0, -5.0, -1.0], [0.5, -1.0, 2.0], [-1.0, -3.0, -2.0], [20.0, 30.0, -1.0]]);
    let labels = Tensor::from_slice(&[1i64, 2, 2, 0, 1]);
    let one_hot = labels.one_hot(3).to_kind(Kind::Float);
    for (act, keras) in [
        (Activation::Relu, 0.600000024),
        (Activation::Sigmoid, 0.800000012),
        (Activation::Tanh, 0.800000012),
        (Activation::Linear, 1.0),
    ] {
        let sparse = vec![Metric::new(MetricKind::SparseCategoricalAccuracy, "sparse"), Metric::accuracy()];
        let mut m = identity_then(3, act, Loss::SparseCategoricalCrossentropy, sparse);
        let logs = m.evaluate(&raw, &labels, 5).unwrap();
        check(&logs, &[("sparse", keras), ("accuracy", keras)]);
        let categorical = vec![Metric::new(MetricKind::CategoricalAccuracy, "cat"), Metric::accuracy()];
        let mut m = identity_then(3, act, Loss::CategoricalCrossentropy, categorical);
        check(&m.evaluate(&raw, &one_hot, 5).unwrap(), &[("cat", keras), ("accuracy", keras)]);
    }
}

#[test]
fn repeated_metric_names_are_numbered_and_weighted_ones_prefixed_as_in_keras() {
    // tests/reference/keras_metrics.py, "names metrics=... weighted_metrics=...": the sorted keys
    // of Keras's History for the same metrics and weighted_metrics.
    let x = Tensor::arange(24, (Kind::Float, tch::Device::Cpu)).sin().reshape([8, 3]);
    let y = x.narrow(1, 0, 1).gt(0.0).to_kind(Kind::Float);
    let (acc, mae) = (Metric::accuracy, Metric::mae);
    let cases: [(Vec<Metric>, &[&str]); 3] = [
        (
            vec![acc(), acc().weighted()],
            &["accuracy", "loss", "val_accuracy", "val_loss", "val_weighted_accuracy", "weighted_accuracy"],
        ),
        (
            vec![acc(), acc(), acc().weighted(), acc().weighted(), mae().weighted()],
            &[
                "accuracy",
                "accuracy_1",
                "loss",
                "mae",
                "val_accuracy",
                "val_accuracy_1",
                "val_loss",
                "val_mae",
                "val_weighted_accuracy",
                "val_weighted_accuracy_1",
                "weighted_accuracy",
                "weighted_accuracy_1",
            ],
        ),
        (
            // Weighted ones first in the list: the plain one still keeps the plain name.
            vec![mae().weighted(), acc().weighted(), mae()],
            &["accuracy", "loss", "mae", "val_accuracy", "val_loss", "val_mae", "val_weighted_mae", "weighted_mae"],
        ),
    ];
    for (metrics, keras) in cases {
        let mut m = Sequential::new().input_shape([3]).add(Dense::new(1).activation(Activation::Sigmoid));
        m.compile(Optimizer::sgd(0.01), Loss::BinaryCrossentropy, metrics).unwrap();
        let config = tch_keras::FitConfig {
            verbose: tch_keras::Verbosity::Silent,
            validation_data: Some((&x, &y)),
            ..Default::default()
        };
        let mut keys = m.fit(&x, &y, config).unwrap().keys();
        keys.sort();
        assert_eq!(keys, keras);
    }
    // A name still taken after that (a metric named "loss", or "accuracy_1" next to two
    // accuracies) is refused, saying how to rename it.
    let named = Metric::new(MetricKind::Accuracy, "accuracy_1");
    let mut m = Sequential::new().input_shape([3]).add(Dense::new(1));
    let err = m.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, vec![acc(), acc(), named]).unwrap_err();
    assert!(err.to_string().contains("'accuracy_1'") && err.to_string().contains("Metric::new"), "{err}");
    let err = m.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, vec![Metric::new(MetricKind::Accuracy, "loss")]);
    assert!(err.is_err());
}
