//! Streaming metrics against Keras 3: the model below outputs its input unchanged, so
//! `evaluate` in batches smaller than the data sees the reference predictions and accumulates
//! each metric's state over several batches, as Keras's `update_state` calls do. The expected
//! values come from `tests/reference/keras_metrics.py` (Keras 3.15.1, torch backend), which
//! holds the same data and batch sizes.
use tch::{Kind, Tensor};
use tch_keras::{
    Activation, AucCurve, AucSummation, Dense, FAverage, Logs, Loss, Metric, MetricKind, Optimizer, R2Aggregation,
    Sequential,
};

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

// Regression scores, F-scores and loss metrics: numbers from `tests/reference/metrics_more.py`
// (Keras 3, torch backend), streamed in batches of 3 there and here (and checked in one batch).
const Y_REG: [[f32; 3]; 8] = [
    [1.0, 2.0, 0.5],
    [3.0, 0.2, 1.5],
    [0.7, 1.1, 2.2],
    [2.5, 2.0, 0.1],
    [0.3, 0.9, 1.0],
    [1.8, 2.6, 0.4],
    [0.9, 0.1, 3.0],
    [2.2, 1.4, 0.8],
];
const P_REG: [[f32; 3]; 8] = [
    [1.2, 1.5, 0.7],
    [2.4, 0.5, 1.1],
    [0.9, 1.0, 2.9],
    [2.0, 2.5, 0.3],
    [0.6, 0.7, 1.3],
    [1.5, 2.2, 0.2],
    [1.1, 0.4, 2.4],
    [2.6, 1.0, 1.2],
];
const CLASS_LABELS: [i64; 8] = [0, 2, 1, 1, 0, 2, 2, 1];
const Y_MULTI: [[f32; 3]; 8] =
    [[1., 0., 1.], [0., 0., 1.], [1., 1., 0.], [0., 1., 0.], [1., 0., 0.], [0., 0., 0.], [1., 1., 1.], [0., 1., 1.]];
const P_CLS: [[f32; 3]; 8] = [
    [0.7, 0.2, 0.1],
    [0.1, 0.3, 0.6],
    [0.2, 0.5, 0.3],
    [0.4, 0.35, 0.25],
    [0.5, 0.1, 0.4],
    [0.3, 0.3, 0.4],
    [0.05, 0.15, 0.8],
    [0.6, 0.3, 0.1],
];

/// Evaluates `metrics` on the identity model in batches of 3 and in one batch, and checks
/// both against Keras's values (relative tolerance: the sums are float32 on both sides).
fn check_streamed(w: i64, loss: Loss, metrics: Vec<Metric>, (x, y): (&Tensor, &Tensor), expected: &[(&str, f64)]) {
    let mut m = identity(w, loss, metrics);
    for batch in [3, 8] {
        let logs = m.evaluate(x, y, batch).unwrap();
        for (name, keras) in expected {
            let got = logs.get(name).unwrap_or_else(|| panic!("{name} missing from {logs}"));
            assert!((got - keras).abs() <= 5e-6 * keras.abs().max(1.0), "{name} (batch {batch}): {got}, Keras {keras}");
        }
    }
}

#[test]
fn new_regression_metrics_streamed_over_batches_equal_keras() {
    let names = ["root_mean_squared_error", "r2_score", "mape", "msle", "cosine_similarity", "logcosh", "poisson"];
    let mut metrics: Vec<Metric> = names.iter().map(|s| s.parse().unwrap()).collect();
    metrics[1] = Metric::r2_score(R2Aggregation::UniformAverage, 0, 3);
    metrics.push(Metric::new(
        MetricKind::R2Score {
            class_aggregation: R2Aggregation::VarianceWeightedAverage,
            num_regressors: 0,
            outputs: 3,
        },
        "r2_variance",
    ));
    metrics.push(Metric::new(
        MetricKind::R2Score { class_aggregation: R2Aggregation::UniformAverage, num_regressors: 2, outputs: 3 },
        "r2_adjusted",
    ));
    let expected = [
        ("root_mean_squared_error", 0.381881267),
        ("r2_score", 0.814852774),
        ("r2_variance", 0.814790428),
        ("r2_adjusted", 0.797219694),
        ("mape", 52.89151),
        ("msle", 0.0250575989),
        ("cosine_similarity", 0.980964661),
        ("logcosh", 0.0701426417),
        ("poisson", 0.676999152),
    ];
    check_streamed(3, Loss::MeanSquaredError, metrics, (&matrix(&P_REG), &matrix(&Y_REG)), &expected);
    // One output: the string forms (R2 for one output, as Keras builds it from the shapes).
    let (x1, y1) = (matrix(&P_REG).narrow(1, 0, 1), matrix(&Y_REG).narrow(1, 0, 1));
    let metrics = vec!["root_mean_squared_error".parse().unwrap(), "r2_score".parse().unwrap()];
    let expected = [("root_mean_squared_error", 0.365718424), ("r2_score", 0.835384607)];
    check_streamed(1, Loss::MeanSquaredError, metrics, (&x1, &y1), &expected);
}

#[test]
fn new_classification_metrics_streamed_over_batches_equal_keras() {
    let labels = Tensor::from_slice(&CLASS_LABELS);
    let one_hot = labels.one_hot(3).to_kind(Kind::Float);
    let (p, multi) = (matrix(&P_CLS), matrix(&Y_MULTI));
    let f =
        |average, beta, threshold, name: &str| Metric::new(MetricKind::FBetaScore { average, beta, threshold }, name);
    let metrics = vec![
        "kl_divergence".parse().unwrap(),
        "categorical_hinge".parse().unwrap(),
        "categorical_crossentropy".parse().unwrap(),
        Metric::f1_score(FAverage::Micro, None),
        f(FAverage::Macro { classes: 3 }, 1.0, None, "f1_macro"),
        f(FAverage::Weighted { classes: 3 }, 1.0, None, "f1_weighted"),
    ];
    let expected = [
        ("kl_divergence", 0.705875158),
        ("categorical_hinge", 0.8125),
        ("categorical_crossentropy", 0.705878019),
        ("f1_score", 0.74999994),
        ("f1_macro", 0.722222149),
        ("f1_weighted", 0.729166627),
    ];
    check_streamed(3, Loss::CategoricalCrossentropy, metrics, (&p, &one_hot), &expected);
    let metrics = vec![
        "hinge".parse().unwrap(),
        "squared_hinge".parse().unwrap(),
        "binary_crossentropy".parse().unwrap(),
        f(FAverage::Macro { classes: 3 }, 1.0, Some(0.3), "f1_macro_0.3"),
        Metric::fbeta_score(FAverage::Weighted { classes: 3 }, 2.0, Some(0.3)),
        f(FAverage::Micro, 0.5, Some(0.25), "f05_micro"),
    ];
    let expected = [
        ("hinge", 0.970833302),
        ("squared_hinge", 1.09208322),
        ("binary_crossentropy", 0.851467013),
        ("f1_macro_0.3", 0.555555522),
        ("fbeta_score", 0.518518567),
        ("f05_micro", 0.486111045),
    ];
    check_streamed(3, Loss::BinaryCrossentropy, metrics, (&p, &multi), &expected);
}

#[test]
fn crossentropy_metrics_from_logits_and_labels_and_f1_of_one_column_equal_keras() {
    let labels = Tensor::from_slice(&CLASS_LABELS);
    let one_hot = labels.one_hot(3).to_kind(Kind::Float);
    let (p, multi) = (matrix(&P_CLS), matrix(&Y_MULTI));
    // From logits, with label smoothing; and the sparse metric with integer labels.
    let logits = &p * 4.0 - 2.0;
    let bce = MetricKind::BinaryCrossentropy { from_logits: true, label_smoothing: 0.1 };
    let cce = MetricKind::CategoricalCrossentropy { from_logits: true, label_smoothing: 0.2 };
    check_streamed(
        3,
        Loss::BinaryCrossentropy,
        vec![Metric::new(bce, "bce")],
        (&logits, &multi),
        &[("bce", 0.765315413)],
    );
    check_streamed(
        3,
        Loss::CategoricalCrossentropy,
        vec![Metric::new(cce, "cce")],
        (&logits, &one_hot),
        &[("cce", 0.81639868)],
    );
    let sparse = vec!["sparse_categorical_crossentropy".parse().unwrap()];
    check_streamed(
        3,
        Loss::SparseCategoricalCrossentropy,
        sparse,
        (&p, &labels),
        &[("sparse_categorical_crossentropy", 0.705878019)],
    );
    // F1 of one output column.
    let one = vec![Metric::f1_score(FAverage::Micro, Some(0.3))];
    check_streamed(
        1,
        Loss::BinaryCrossentropy,
        one,
        (&p.narrow(1, 0, 1), &multi.narrow(1, 0, 1)),
        &[("f1_score", 0.49999994)],
    );
}

/// Standardised features of a scikit-learn toy set, as float32.
fn standardised(x: &Tensor) -> Tensor {
    let x = x.to_kind(Kind::Float);
    (&x - x.mean_dim(0, true, Kind::Float)) / x.std_dim(0, true, true)
}

fn close_rel(name: &str, got: f64, direct: f64) {
    assert!((got - direct).abs() <= 1e-4 * direct.abs().max(1.0), "{name}: logged {got}, from predict {direct}");
}

fn fit_silently(m: &mut Sequential, (x, y): (&Tensor, &Tensor), (vx, vy): (&Tensor, &Tensor)) -> tch_keras::History {
    let config = tch_keras::FitConfig {
        epochs: 3,
        batch_size: 32,
        validation_data: Some((vx, vy)),
        verbose: tch_keras::Verbosity::Silent,
        ..Default::default()
    };
    m.fit(x, y, config).unwrap()
}

#[test]
fn regression_scores_logged_by_fit_equal_a_computation_from_predict() {
    use tch_keras::data::sklearn::{self, ToyDataset};
    let toy = sklearn::load(ToyDataset::Diabetes, None).unwrap();
    let (x, y) = (standardised(&toy.x), toy.y.to_kind(Kind::Float).reshape([-1, 1]) / 100.0);
    let (vx, vy) = (x.narrow(0, 342, 100), y.narrow(0, 342, 100));
    let mut m = Sequential::new().input_shape([10]).add(Dense::new(8).activation(Activation::Relu)).add(Dense::new(1));
    m.compile(
        Optimizer::adam(0.05),
        Loss::MeanSquaredError,
        ["root_mean_squared_error", "r2_score", "mape", "logcosh"],
    )
    .unwrap();
    let h = fit_silently(&mut m, (&x.narrow(0, 0, 342), &y.narrow(0, 0, 342)), (&vx, &vy));
    let last = h.last().unwrap().clone();
    let p = m.predict(&vx, 64).unwrap().to_kind(Kind::Double);
    let vy = vy.to_kind(Kind::Double);
    let err = &p - &vy;
    let mean = |t: Tensor| t.mean(Kind::Double).double_value(&[]);
    let ss_tot = (&vy - vy.mean(Kind::Double)).square().sum(Kind::Double).double_value(&[]);
    let direct = [
        ("root_mean_squared_error", mean(err.square()).sqrt()),
        ("r2_score", 1.0 - err.square().sum(Kind::Double).double_value(&[]) / ss_tot),
        ("mape", 100.0 * mean(err.abs() / vy.abs().clamp_min(1e-7))),
        ("logcosh", mean(err.cosh().log())),
    ];
    for (name, value) in direct {
        close_rel(name, last.get(&format!("val_{name}")).unwrap(), value);
        assert_eq!(h.series(name).map(|s| s.len()), Some(3), "{name} logged each epoch");
    }
    assert!(last.get("val_r2_score").unwrap() > 0.2, "the model learnt something: {last}");
    // Saved and loaded with the model: same metrics, same values.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diabetes.safetensors");
    m.save(&path).unwrap();
    let mut loaded = tch_keras::load_model(&path, tch::Device::Cpu).unwrap();
    assert_eq!(loaded.compiled().unwrap().2, m.compiled().unwrap().2);
    let (vx, vy) = (x.narrow(0, 342, 100), y.narrow(0, 342, 100));
    assert_eq!(loaded.evaluate(&vx, &vy, 16).unwrap(), m.evaluate(&vx, &vy, 16).unwrap());
}

#[test]
fn f_scores_and_crossentropy_logged_by_fit_equal_a_computation_from_predict() {
    use tch_keras::data::sklearn::{self, ToyDataset};
    let toy = sklearn::load(ToyDataset::BreastCancer, None).unwrap();
    let (x, y) = (standardised(&toy.x), toy.y.to_kind(Kind::Float).reshape([-1, 1]));
    let (vx, vy) = (x.narrow(0, 400, 169), y.narrow(0, 400, 169));
    let mut m = Sequential::new().input_shape([30]).add(Dense::new(1).activation(Activation::Sigmoid));
    let metrics = vec![
        Metric::f1_score(FAverage::Micro, Some(0.5)),
        Metric::fbeta_score(FAverage::Weighted { classes: 1 }, 2.0, Some(0.5)),
        "binary_crossentropy".parse().unwrap(),
    ];
    m.compile(Optimizer::adam(0.01), Loss::binary_focal_crossentropy(), metrics).unwrap();
    let h = fit_silently(&mut m, (&x.narrow(0, 0, 400), &y.narrow(0, 0, 400)), (&vx, &vy));
    let last = h.last().unwrap().clone();
    let p = m.predict(&vx, 64).unwrap().to_kind(Kind::Double);
    let vy = vy.to_kind(Kind::Double);
    let predicted = p.gt(0.5).to_kind(Kind::Double);
    let sum = |t: Tensor| t.sum(Kind::Double).double_value(&[]);
    let tp = sum(&predicted * &vy);
    let (fp, fn_) = (sum(&predicted * (1.0 - &vy)), sum((1.0 - &predicted) * &vy));
    let fbeta = |b2: f64| (1.0 + b2) * tp / ((1.0 + b2) * tp + b2 * fn_ + fp);
    let q = p.clamp(1e-7, 1.0 - 1e-7);
    let (log_p, log_q) = (q.log(), (q.neg() + 1.0).log());
    let bce = -(&vy * log_p + (vy.neg() + 1.0) * log_q).mean(Kind::Double).double_value(&[]);
    close_rel("f1_score", last.get("val_f1_score").unwrap(), fbeta(1.0));
    close_rel("fbeta_score", last.get("val_fbeta_score").unwrap(), fbeta(4.0));
    close_rel("binary_crossentropy", last.get("val_binary_crossentropy").unwrap(), bce);
    assert!(last.get("val_f1_score").unwrap() > 0.8, "breast cancer is nearly separable: {last}");
    // The focal loss and the F-scores save and load with the model.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cancer.safetensors");
    m.save(&path).unwrap();
    let mut loaded = tch_keras::load_model(&path, tch::Device::Cpu).unwrap();
    let (_, loss, metrics) = loaded.compiled().unwrap();
    assert_eq!((loss, metrics.to_vec()), (Loss::binary_focal_crossentropy(), m.compiled().unwrap().2.to_vec()));
    let (vx, vy) = (x.narrow(0, 400, 169), y.narrow(0, 400, 169));
    assert_eq!(loaded.evaluate(&vx, &vy, 32).unwrap(), m.evaluate(&vx, &vy, 32).unwrap());
}

#[test]
fn new_metric_names_parse_and_bad_options_are_typed_errors() {
    for (names, kind) in [
        (&["root_mean_squared_error", "RootMeanSquaredError"][..], MetricKind::RootMeanSquaredError),
        (&["mape", "MAPE", "mean_absolute_percentage_error"], MetricKind::MeanAbsolutePercentageError),
        (&["msle", "mean_squared_logarithmic_error"], MetricKind::MeanSquaredLogarithmicError),
        (&["logcosh", "log_cosh_error", "LogCoshError"], MetricKind::LogCoshError),
        (&["kld", "kl_divergence", "KLDivergence"], MetricKind::KlDivergence),
        (&["bce", "binary_crossentropy"], MetricKind::BinaryCrossentropy { from_logits: false, label_smoothing: 0.0 }),
        (&["f1_score", "F1Score"], MetricKind::FBetaScore { average: FAverage::Micro, beta: 1.0, threshold: None }),
    ] {
        for name in names {
            let m: Metric = name.parse().unwrap();
            assert_eq!((m.kind, m.name.as_str()), (kind.clone(), *name));
        }
    }
    assert!(MetricKind::CosineSimilarity.higher_is_better() && !MetricKind::Poisson.higher_is_better());
    let err = "f2_score".parse::<Metric>().unwrap_err().to_string();
    assert!(err.contains("f2_score") && err.contains("r2_score"), "{err}");
    let compile_err = |metric: Metric| {
        let mut m = Sequential::new().input_shape([3]).add(Dense::new(3));
        m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![metric]).unwrap_err().to_string()
    };
    assert!(compile_err(Metric::f1_score(FAverage::Micro, Some(0.0))).contains("threshold"));
    assert!(compile_err(Metric::fbeta_score(FAverage::Micro, -1.0, None)).contains("beta"));
    assert!(compile_err(Metric::f1_score(FAverage::Macro { classes: 0 }, None)).contains("classes"));
    assert!(compile_err(Metric::r2_score(R2Aggregation::UniformAverage, 0, 0)).contains("outputs"));
    let smoothing = MetricKind::CategoricalCrossentropy { from_logits: false, label_smoothing: 2.0 };
    assert!(compile_err(Metric::new(smoothing, "cce")).contains("label_smoothing"));
    // Shapes that do not fit the metric's options are errors from evaluate, naming the metric.
    let (x, y) = (matrix(&P_CLS), matrix(&Y_MULTI));
    for (metric, wants) in [
        ("r2_score".parse().unwrap(), "R2Score made for 1 outputs"),
        (Metric::f1_score(FAverage::Macro { classes: 2 }, None), "f1_score"),
        ("sparse_categorical_crossentropy".parse().unwrap(), "sparse_categorical_crossentropy"),
    ] {
        let mut m = identity(3, Loss::MeanSquaredError, vec![metric]);
        let err = m.evaluate(&x, &y, 4).unwrap_err().to_string();
        assert!(err.contains(wants), "{err}");
    }
}

#[test]
fn new_weighted_metrics_equal_keras_sample_weight_updates() {
    // metrics_more.py's "weighted" block: update_state(..., sample_weight=W) in batches of 3.
    let w = Tensor::from_slice(&[1.0f32, 0.5, 2.0, 0.0, 1.5, 1.0, 0.25, 3.0]);
    let weighted =
        |names: &[&str]| -> Vec<Metric> { names.iter().map(|s| s.parse::<Metric>().unwrap().weighted()).collect() };
    let mut regression = weighted(&["root_mean_squared_error", "mape", "cosine_similarity"]);
    regression.push(Metric::r2_score(R2Aggregation::UniformAverage, 0, 3).weighted());
    let mut classes = weighted(&["categorical_crossentropy"]);
    classes.push(Metric::f1_score(FAverage::Macro { classes: 3 }, None).weighted());
    let mut multi = vec![Metric::fbeta_score(FAverage::Weighted { classes: 3 }, 2.0, Some(0.3)).weighted()];
    multi.push(Metric::fbeta_score(FAverage::Weighted { classes: 3 }, 2.0, Some(0.3)));
    let one_hot = Tensor::from_slice(&CLASS_LABELS).one_hot(3).to_kind(Kind::Float);
    let cases = [
        (
            Loss::MeanSquaredError,
            regression,
            matrix(&P_REG),
            matrix(&Y_REG),
            vec![
                ("root_mean_squared_error", 0.374767184),
                ("mape", 36.3421364),
                ("cosine_similarity", 0.980118513),
                ("r2_score", 0.71094054),
            ],
        ),
        (
            Loss::CategoricalCrossentropy,
            classes,
            matrix(&P_CLS),
            one_hot,
            vec![("categorical_crossentropy", 0.824010611), ("f1_score", 0.732142746)],
        ),
        // A plain metric beside it ignores the weights (Keras's `metrics`).
        (
            Loss::BinaryCrossentropy,
            multi,
            matrix(&P_CLS),
            matrix(&Y_MULTI),
            vec![("weighted_fbeta_score", 0.373331517), ("fbeta_score", 0.518518567)],
        ),
    ];
    for (loss, metrics, x, y, expected) in cases {
        let mut m = identity(3, loss, metrics);
        for batch in [3, 8] {
            let logs = m.evaluate_weighted(&x, &y, Some(&w), batch, vec![]).unwrap();
            for (name, keras) in &expected {
                let got = logs.get(name).unwrap_or_else(|| panic!("{name} missing from {logs}"));
                assert!(
                    (got - keras).abs() <= 5e-6 * keras.abs().max(1.0),
                    "{name} (batch {batch}): {got}, Keras {keras}"
                );
            }
        }
    }
}
