//! Every loss against Keras 3's values on the same batch. The numbers come from
//! `tests/reference/keras_losses.py` (Keras 3.15.1, torch backend), which holds the same data.
use tch::{Kind, Tensor};
use tch_keras::{Activation, Loss};

fn t(rows: &[[f32; 3]]) -> Tensor {
    Tensor::from_slice(&rows.concat()).reshape([rows.len() as i64, 3])
}
fn t2(rows: &[[f32; 2]]) -> Tensor {
    Tensor::from_slice(&rows.concat()).reshape([rows.len() as i64, 2])
}

const PROBS: [[f32; 3]; 4] = [[0.2, 0.5, 0.1], [0.7, 0.6, 0.05], [0.1, 0.1, 0.9], [0.3, 0.3, 0.3]];
const LABELS: [i64; 4] = [1, 0, 2, 1];
const LOGITS: [[f32; 3]; 4] = [[1.0, -2.0, 0.5], [0.3, 0.1, 2.2], [-1.0, 3.0, 0.0], [2.0, 2.0, -1.0]];
const B_PROBS: [[f32; 2]; 4] = [[0.9, 0.2], [0.4, 0.6], [0.05, 0.99], [0.7, 0.3]];
const B_LOGITS: [[f32; 2]; 4] = [[2.0, -1.0], [0.5, -0.3], [-3.0, 4.0], [0.0, 1.5]];
const B_TRUE: [[f32; 2]; 4] = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]];
const SOFT_TRUE: [[f32; 3]; 4] = [[0.1, 0.6, 0.3], [0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.0, 1.0, 0.0]];
const REG_TRUE: [[f32; 3]; 4] = [[1.0, -2.0, 0.0], [3.0, 0.5, 2.0], [-1.0, 4.0, 0.25], [0.0, 0.0, 0.0]];
const REG_PRED: [[f32; 3]; 4] = [[0.5, -1.0, 0.3], [2.0, 1.5, 2.5], [1.0, 3.0, -0.5], [0.2, -0.1, 0.4]];
const POS_PRED: [[f32; 3]; 4] = [[0.5, 1.0, 0.3], [2.0, 1.5, 2.5], [1.0, 3.0, 0.01], [0.2, 0.1, 0.4]];
const COUNTS: [[f32; 3]; 4] = [[1.0, 0.0, 2.0], [3.0, 1.0, 2.0], [0.0, 4.0, 1.0], [0.0, 0.0, 0.0]];
const HINGE_PM: [[f32; 3]; 4] = [[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0]];

fn labels() -> Tensor {
    Tensor::from_slice(&LABELS)
}
fn one_hot() -> Tensor {
    labels().one_hot(3).to_kind(Kind::Float)
}

/// The loss as `fit` computes it for a model whose last layer is linear: targets prepared as
/// `fit` prepares them, then the loss on the outputs.
fn value(loss: Loss, y: &Tensor, pred: &Tensor) -> f64 {
    let y = loss.prepare_targets(y, &pred.size()[1..]).unwrap();
    let logits = loss.uses_logits(Activation::Linear);
    loss.compute(pred, &y, logits).unwrap().double_value(&[])
}

fn close(name: &str, got: f64, keras: f64) {
    assert!((got - keras).abs() <= 2e-6 * keras.abs().max(1.0), "{name}: got {got}, Keras {keras}");
}

#[test]
fn cross_entropies_match_keras_on_unnormalised_probabilities_and_logits() {
    let cases = [
        ("categorical_probs", Loss::CategoricalCrossentropy, one_hot(), t(&PROBS), 0.60651654),
        ("sparse_probs", Loss::SparseCategoricalCrossentropy, labels(), t(&PROBS), 0.60651654),
        ("categorical_logits", Loss::categorical_crossentropy(true, 0.0).unwrap(), one_hot(), t(&LOGITS), 2.35720682),
        ("sparse_logits", Loss::sparse_categorical_crossentropy(true), labels(), t(&LOGITS), 2.35720682),
        ("categorical_smooth", Loss::categorical_crossentropy(false, 0.1).unwrap(), one_hot(), t(&PROBS), 0.687461436),
        (
            "categorical_logits_smooth",
            Loss::categorical_crossentropy(true, 0.2).unwrap(),
            one_hot(),
            t(&LOGITS),
            2.25387335,
        ),
        ("binary_probs", Loss::BinaryCrossentropy, t2(&B_TRUE), t2(&B_PROBS), 0.73957324),
        ("binary_logits", Loss::binary_crossentropy(true, 0.0).unwrap(), t2(&B_TRUE), t2(&B_LOGITS), 0.966239929),
        ("binary_smooth", Loss::binary_crossentropy(false, 0.1).unwrap(), t2(&B_TRUE), t2(&B_PROBS), 0.777355313),
        (
            "binary_logits_smooth",
            Loss::binary_crossentropy(true, 0.3).unwrap(),
            t2(&B_TRUE),
            t2(&B_LOGITS),
            0.998114944,
        ),
    ];
    for (name, loss, y, pred, keras) in cases {
        close(name, value(loss, &y, &pred), keras);
    }
    // The sparse and categorical losses agree on the same unnormalised probabilities (rows
    // rescaled to sum to 1 by both), and differ from the unscaled -log p[label].
    let unscaled = -t(&PROBS).gather(1, &labels().unsqueeze(1), false).log().mean(Kind::Float).double_value(&[]);
    assert!((unscaled - 0.60651654).abs() > 0.01, "the data must tell rescaling apart: {unscaled}");
}

#[test]
fn regression_and_margin_losses_match_keras() {
    let cases = [
        ("kl_divergence", "kl_divergence", t(&SOFT_TRUE), t(&PROBS), 0.337053329),
        ("poisson", "poisson", t(&COUNTS), t(&POS_PRED), 0.958692849),
        ("log_cosh", "log_cosh", t(&REG_TRUE), t(&REG_PRED), 0.308814585),
        ("hinge_01", "hinge", t2(&B_TRUE), t2(&B_LOGITS), 1.28750002),
        ("hinge_pm", "hinge", t(&HINGE_PM), t(&REG_PRED), 0.841666698),
        ("squared_hinge_01", "squared_hinge", t2(&B_TRUE), t2(&B_LOGITS), 3.39875007),
        ("squared_hinge_pm", "squared_hinge", t(&HINGE_PM), t(&REG_PRED), 1.60416675),
        ("cosine_similarity", "cosine_similarity", t(&REG_TRUE), t(&REG_PRED), -0.675293207),
        ("msle", "msle", t(&REG_TRUE), t(&REG_PRED), 0.103796303),
        ("mape", "mape", t(&REG_TRUE), t(&REG_PRED), 83333408.0),
        ("mape_nonzero", "mean_absolute_percentage_error", t(&POS_PRED), t(&REG_PRED), 458.333313),
    ];
    for (name, key, y, pred, keras) in cases {
        let loss: Loss = key.parse().unwrap();
        close(name, value(loss, &y, &pred), keras);
    }
}

#[test]
fn keras_names_parse_and_options_are_checked() {
    for (names, loss) in [
        (&["kld", "KLD", "kl_divergence", "KLDivergence", "kullback_leibler_divergence"][..], Loss::KlDivergence),
        (&["poisson", "Poisson"], Loss::Poisson),
        (&["log_cosh", "logcosh", "LogCosh"], Loss::LogCosh),
        (&["hinge", "Hinge"], Loss::Hinge),
        (&["squared_hinge", "SquaredHinge"], Loss::SquaredHinge),
        (&["cosine_similarity", "CosineSimilarity"], Loss::CosineSimilarity),
        (&["msle", "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError"], Loss::MeanSquaredLogarithmicError),
        (&["mape", "mean_absolute_percentage_error", "MeanAbsolutePercentageError"], Loss::MeanAbsolutePercentageError),
    ] {
        for name in names {
            assert_eq!(name.parse::<Loss>().unwrap(), loss, "{name}");
        }
    }
    // Keras's defaults give back the plain variants (and their fast paths).
    assert_eq!(Loss::categorical_crossentropy(false, 0.0).unwrap(), Loss::CategoricalCrossentropy);
    assert_eq!(Loss::sparse_categorical_crossentropy(false), Loss::SparseCategoricalCrossentropy);
    assert_eq!(Loss::binary_crossentropy(false, 0.0).unwrap(), Loss::BinaryCrossentropy);
    let err = Loss::categorical_crossentropy(false, 1.5).unwrap_err().to_string();
    assert!(err.contains("label_smoothing") && err.contains("[0, 1]"), "{err}");
    let bad = Loss::BinaryCrossentropyWith { from_logits: false, label_smoothing: -0.1 };
    assert!(bad.prepare_targets(&t2(&B_TRUE), &[2]).unwrap_err().to_string().contains("label_smoothing"));
    // from_logits: the outputs themselves are the logits, whatever the last activation.
    let ll = Loss::categorical_crossentropy(true, 0.0).unwrap();
    assert!(!ll.uses_logits(Activation::Softmax));
    assert!(Loss::CategoricalCrossentropy.uses_logits(Activation::Softmax));
    assert!(Loss::categorical_crossentropy(false, 0.1).unwrap().uses_logits(Activation::Softmax));
}

#[test]
fn saved_loss_json_is_unchanged_and_new_variants_round_trip() {
    assert_eq!(serde_json::to_string(&Loss::CategoricalCrossentropy).unwrap(), "\"categorical_crossentropy\"");
    assert_eq!(serde_json::to_string(&Loss::Huber { delta: 1.0 }).unwrap(), "{\"huber\":{\"delta\":1.0}}");
    for loss in [
        Loss::categorical_crossentropy(true, 0.1).unwrap(),
        Loss::sparse_categorical_crossentropy(true),
        Loss::binary_crossentropy(false, 0.2).unwrap(),
        Loss::KlDivergence,
        Loss::MeanAbsolutePercentageError,
    ] {
        let json = serde_json::to_string(&loss).unwrap();
        assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&Loss::categorical_crossentropy(true, 0.1).unwrap()).unwrap(),
        "{\"categorical_crossentropy_with\":{\"from_logits\":true,\"label_smoothing\":0.1}}"
    );
}

#[test]
fn weighted_losses_match_keras_sample_weight() {
    let w = Tensor::from_slice(&[0.5f32, 2.0, 0.0, 1.5]);
    let cases = [
        ("w_categorical_probs", Loss::CategoricalCrossentropy, one_hot(), t(&PROBS), 0.79911983),
        ("w_sparse_logits", Loss::sparse_categorical_crossentropy(true), labels(), t(&LOGITS), 1.77753067),
        (
            "w_categorical_logits_smooth",
            Loss::categorical_crossentropy(true, 0.2).unwrap(),
            one_hot(),
            t(&LOGITS),
            1.75003076,
        ),
        ("w_binary_probs", Loss::BinaryCrossentropy, t2(&B_TRUE), t2(&B_PROBS), 0.568565726),
        ("w_binary_logits", Loss::binary_crossentropy(true, 0.0).unwrap(), t2(&B_TRUE), t2(&B_LOGITS), 0.933599949),
        ("w_mse", Loss::MeanSquaredError, t(&REG_TRUE), t(&REG_PRED), 0.457083344),
        ("w_mae", Loss::MeanAbsoluteError, t(&REG_TRUE), t(&REG_PRED), 0.579166651),
        ("w_huber", Loss::Huber { delta: 1.0 }, t(&REG_TRUE), t(&REG_PRED), 0.228541672),
        ("w_kl_divergence", Loss::KlDivergence, t(&SOFT_TRUE), t(&PROBS), 0.367997289),
        ("w_hinge_01", Loss::Hinge, t2(&B_TRUE), t2(&B_LOGITS), 1.35625005),
        ("w_cosine_similarity", Loss::CosineSimilarity, t(&REG_TRUE), t(&REG_PRED), -0.577233613),
        ("w_mape_nonzero", Loss::MeanAbsolutePercentageError, t(&POS_PRED), t(&REG_PRED), 33.3333359),
        // Options together with sample weights.
        ("w_huber_0.3", Loss::Huber { delta: 0.3 }, t(&REG_TRUE), t(&REG_PRED), 0.131874993),
        (
            "w_binary_logits_smooth",
            Loss::binary_crossentropy(true, 0.3).unwrap(),
            t2(&B_TRUE),
            t2(&B_LOGITS),
            0.889537454,
        ),
        ("w_binary_smooth", Loss::binary_crossentropy(false, 0.1).unwrap(), t2(&B_TRUE), t2(&B_PROBS), 0.589900851),
        (
            "w_categorical_smooth",
            Loss::categorical_crossentropy(false, 0.1).unwrap(),
            one_hot(),
            t(&PROBS),
            0.856197178,
        ),
        ("w_sparse_probs", Loss::SparseCategoricalCrossentropy, labels(), t(&PROBS), 0.79911983),
        ("w_squared_hinge_pm", Loss::SquaredHinge, t(&HINGE_PM), t(&REG_PRED), 2.94875002),
        ("w_poisson", Loss::Poisson, t(&COUNTS), t(&POS_PRED), 0.572130799),
        ("w_log_cosh", Loss::LogCosh, t(&REG_TRUE), t(&REG_PRED), 0.20239085),
        ("w_msle", Loss::MeanSquaredLogarithmicError, t(&REG_TRUE), t(&REG_PRED), 0.0858676806),
    ];
    for (name, loss, y, pred, keras) in cases {
        let y = loss.prepare_targets(&y, &pred.size()[1..]).unwrap();
        let logits = loss.uses_logits(Activation::Linear);
        let weighted = loss.compute_weighted(&pred, &y, logits, &w).unwrap().double_value(&[]);
        close(name, weighted, keras);
        // Unit weights give the unweighted loss; per-sample losses average to it.
        let mean = loss.compute(&pred, &y, logits).unwrap().double_value(&[]);
        let per_sample = loss.per_sample(&pred, &y, logits).unwrap();
        assert_eq!(per_sample.size(), [4], "{name}");
        close(name, per_sample.mean(Kind::Float).double_value(&[]), mean);
        close(name, loss.compute_weighted(&pred, &y, logits, &w.ones_like()).unwrap().double_value(&[]), mean);
    }
    let err = Loss::MeanSquaredError.compute_weighted(&t(&REG_PRED), &t(&REG_TRUE), false, &w.narrow(0, 0, 3));
    assert!(err.unwrap_err().to_string().contains("sample_weight"));
}

#[test]
fn class_weights_become_sample_weights_as_in_keras() {
    let cw = [(0, 0.25), (2, 3.0)];
    let as_vec = |t: Tensor| Vec::<f64>::try_from(t.to_kind(Kind::Double)).unwrap();
    // Keras: [1.0, 0.25, 3.0, 1.0] for one-hot targets and for labels.
    assert_eq!(as_vec(tch_keras::class_weight_to_sample_weight(&one_hot(), &cw).unwrap()), [1.0, 0.25, 3.0, 1.0]);
    assert_eq!(as_vec(tch_keras::class_weight_to_sample_weight(&labels(), &cw).unwrap()), [1.0, 0.25, 3.0, 1.0]);
    // Keras: [0.25, 4.0, 4.0, 0.25] for binary targets of shape (N, 1).
    let binary = Tensor::from_slice(&[0.0f32, 1.0, 1.0, 0.0]).reshape([4, 1]);
    let w = tch_keras::class_weight_to_sample_weight(&binary, &[(0, 0.25), (1, 4.0)]).unwrap();
    assert_eq!(as_vec(w), [0.25, 4.0, 4.0, 0.25]);
    assert!(tch_keras::class_weight_to_sample_weight(&labels(), &[(1, f64::NAN)]).is_err());
}

#[test]
fn sparse_and_categorical_losses_agree_through_a_linear_model() {
    // A linear last layer that outputs its input: the outputs are PROBS, rows not summing to 1.
    let model = |loss| {
        let mut m = tch_keras::Sequential::new().input_shape([3]).add(tch_keras::Dense::new(3));
        m.compile(tch_keras::Optimizer::sgd(0.01), loss, vec![]).unwrap();
        m.build().unwrap();
        let cpu = (Kind::Float, tch::Device::Cpu);
        m.set_weights(&[Tensor::zeros([3], cpu), Tensor::eye(3, cpu)]).unwrap(); // bias, kernel
        m
    };
    let sparse = model(Loss::SparseCategoricalCrossentropy).evaluate(&t(&PROBS), &labels(), 3).unwrap();
    let categorical = model(Loss::CategoricalCrossentropy).evaluate(&t(&PROBS), &one_hot(), 3).unwrap();
    // Keras: 0.60651654 for both (tests/reference/keras_losses.py, categorical_probs / sparse_probs).
    close("sparse through evaluate", sparse.get("loss").unwrap(), 0.60651654);
    close("categorical through evaluate", categorical.get("loss").unwrap(), 0.60651654);
}

#[test]
fn mismatched_outputs_and_targets_are_target_errors_before_libtorch() {
    let pred = t(&LOGITS);
    // Each reached LibTorch: "The size of tensor a (3) must match ...", "Target 5 is out of
    // bounds", "expected scalar type Long but found Float".
    let cases: [(Loss, Tensor, &str); 5] = [
        (Loss::MeanSquaredError, Tensor::zeros([4, 5], (Kind::Float, tch::Device::Cpu)), "(4, 5)"),
        (Loss::CategoricalCrossentropy, Tensor::zeros([4, 4], (Kind::Float, tch::Device::Cpu)), "(4, 4)"),
        (Loss::BinaryCrossentropy, Tensor::zeros([3, 3], (Kind::Float, tch::Device::Cpu)), "(3, 3)"),
        (Loss::SparseCategoricalCrossentropy, Tensor::from_slice(&[0i64, 1]), "labels (2,)"),
        (Loss::SparseCategoricalCrossentropy, labels().to_kind(Kind::Float), "int64"),
    ];
    for (loss, y, needle) in cases {
        for result in [loss.compute(&pred, &y, true), loss.per_sample(&pred, &y, true)] {
            let e = result.unwrap_err();
            assert!(matches!(e, tch_keras::Error::Targets { .. }), "{loss:?}: {e}");
            assert!(e.to_string().contains(needle) && e.to_string().contains("prepare_targets"), "{loss:?}: {e}");
        }
    }
    // One-hot targets without classes: argmax had no axis to reduce.
    let e =
        tch_keras::class_weight_to_sample_weight(&Tensor::zeros([4, 0], (Kind::Float, tch::Device::Cpu)), &[(0, 2.0)]);
    assert!(e.unwrap_err().to_string().contains("(4, 0)"));
}

#[test]
fn binary_crossentropy_of_nan_probabilities_is_nan_not_an_error() {
    // LibTorch's binary_cross_entropy refused NaN probabilities ("all elements of input should
    // be between 0 and 1"; a device-side assert on a GPU); Keras's formula gives a NaN loss,
    // which TerminateOnNaN then sees.
    let mut p = B_PROBS;
    p[1][0] = f32::NAN;
    let y = t2(&B_TRUE);
    for loss in [Loss::BinaryCrossentropy, Loss::binary_crossentropy(false, 0.1).unwrap()] {
        let v = loss.compute(&t2(&p), &y, false).unwrap().double_value(&[]);
        assert!(v.is_nan(), "{loss:?}: {v}");
        let each = Vec::<f32>::try_from(loss.per_sample(&t2(&p), &y, false).unwrap()).unwrap();
        assert!(each[1].is_nan() && each.iter().enumerate().all(|(i, v)| i == 1 || v.is_finite()), "{each:?}");
    }
}

/// Numbers from `tests/reference/losses_more.py` (Keras 3, torch backend), same data.
const W_MORE: [f32; 4] = [0.5, 2.0, 1.0, 3.0];

fn weighted_value(loss: &Loss, y: &Tensor, pred: &Tensor) -> f64 {
    let y = loss.prepare_targets(y, &pred.size()[1..]).unwrap();
    let w = Tensor::from_slice(&W_MORE);
    loss.compute_weighted(pred, &y, loss.uses_logits(Activation::Linear), &w).unwrap().double_value(&[])
}

#[test]
fn focal_and_categorical_hinge_losses_match_keras() {
    let focal = |alpha, gamma, from_logits, label_smoothing| Loss::CategoricalFocalCrossentropy {
        alpha,
        gamma,
        from_logits,
        label_smoothing,
    };
    let binary = |apply_class_balancing, alpha, gamma, from_logits, label_smoothing| Loss::BinaryFocalCrossentropy {
        apply_class_balancing,
        alpha,
        gamma,
        from_logits,
        label_smoothing,
    };
    let cases = [
        ("cfocal", Loss::categorical_focal_crossentropy(), one_hot(), t(&PROBS), 0.0445785969, Some(0.113063253)),
        ("cfocal_options", focal(0.5, 1.0, false, 0.1), one_hot(), t(&PROBS), 0.198444039, None),
        ("cfocal_logits", focal(0.25, 2.0, true, 0.0), one_hot(), t(&LOGITS), 0.496179104, None),
        ("bfocal", Loss::binary_focal_crossentropy(), t2(&B_TRUE), t2(&B_PROBS), 0.437392533, None),
        ("bfocal_balanced", binary(true, 0.3, 1.5, false, 0.0), t2(&B_TRUE), t2(&B_PROBS), 0.188872382, None),
        ("bfocal_logits_smooth", binary(false, 0.25, 2.0, true, 0.2), t2(&B_TRUE), t2(&B_LOGITS), 0.468193859, None),
        ("bfocal_weighted", binary(true, 0.25, 2.0, false, 0.0), t2(&B_TRUE), t2(&B_PROBS), f64::NAN, Some(0.28030774)),
        ("categorical_hinge", Loss::CategoricalHinge, one_hot(), t(&LOGITS), 2.9749999, Some(3.70000005)),
    ];
    for (name, loss, y, pred, keras, keras_weighted) in cases {
        if !keras.is_nan() {
            close(name, value(loss.clone(), &y, &pred), keras);
        }
        if let Some(kw) = keras_weighted {
            close(name, weighted_value(&loss, &y, &pred), kw);
        }
        // The per-sample values average to the batch loss.
        let yp = loss.prepare_targets(&y, &pred.size()[1..]).unwrap();
        let per_sample = loss.per_sample(&pred, &yp, false).unwrap();
        assert_eq!(per_sample.size(), [4], "{name}");
        close(name, per_sample.mean(Kind::Float).double_value(&[]), value(loss.clone(), &y, &pred));
    }
    // Keras's names and defaults, options checked, and saved files round trip.
    assert_eq!("categorical_focal_crossentropy".parse::<Loss>().unwrap(), focal(0.25, 2.0, false, 0.0));
    assert_eq!("BinaryFocalCrossentropy".parse::<Loss>().unwrap(), binary(false, 0.25, 2.0, false, 0.0));
    assert_eq!("categorical_hinge".parse::<Loss>().unwrap(), Loss::CategoricalHinge);
    let err = focal(0.25, -1.0, false, 0.0).validate().unwrap_err().to_string();
    assert!(err.contains("gamma") && err.contains("-1"), "{err}");
    let err = binary(false, 0.25, 2.0, false, 2.0).prepare_targets(&t2(&B_TRUE), &[2]).unwrap_err().to_string();
    assert!(err.contains("label_smoothing"), "{err}");
    for loss in [focal(0.5, 1.0, true, 0.1), binary(true, 0.3, 1.5, false, 0.0), Loss::CategoricalHinge] {
        let json = serde_json::to_string(&loss).unwrap();
        assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss, "{json}");
    }
}

#[test]
fn ignore_class_leaves_samples_out_of_the_mean_as_keras() {
    let masked = Loss::sparse_categorical_crossentropy_ignoring;
    close("ignore_1", value(masked(false, 1), &labels(), &t(&PROBS)), 0.428725123);
    close("ignore_1_logits", value(masked(true, 1), &labels(), &t(&LOGITS)), 2.60324717);
    close("ignore_1_weighted", weighted_value(&masked(false, 1), &labels(), &t(&PROBS)), 0.757114887);
    // An ignored label outside [0, classes) passes the label check.
    let outside = Tensor::from_slice(&[1i64, -1, 2, -1]);
    close("ignore_minus1", value(masked(false, -1), &outside, &t(&PROBS)), 0.335337222);
    close("ignore_all", value(masked(false, 1), &Tensor::from_slice(&[1i64; 4]), &t(&PROBS)), 0.0);
    let loss = masked(false, 1);
    let y = loss.prepare_targets(&labels(), &[3]).unwrap();
    let per_sample = Vec::<f64>::try_from(loss.per_sample(&t(&PROBS), &y, false).unwrap().to_kind(Kind::Double));
    for (got, keras) in per_sample.unwrap().iter().zip([0.0, 0.656779468, 0.200670779, 0.0]) {
        close("ignore_1_per_sample", *got, keras);
    }
    // Other labels outside [0, classes) are still refused, naming the ignored class.
    let err = loss.prepare_targets(&Tensor::from_slice(&[1i64, 5, 0, 2]), &[3]).unwrap_err().to_string();
    assert!(err.contains("ignored class 1"), "{err}");
    assert!(loss.is_sparse() && loss.name() == "sparse_categorical_crossentropy");
    let json = serde_json::to_string(&loss).unwrap();
    assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss, "{json}");
}

#[test]
fn ignore_class_trains_evaluates_and_saves_with_labels_outside_the_classes() {
    use tch_keras::data::sklearn::{self, ToyDataset};
    use tch_keras::{Dense, FitConfig, Optimizer, Sequential, Verbosity};
    let iris = sklearn::load(ToyDataset::Iris, None).unwrap();
    let x = iris.x.to_kind(Kind::Float);
    let x = (&x - x.mean_dim(0, true, Kind::Float)) / x.std_dim(0, true, true);
    let ignored = Tensor::arange(150, (Kind::Int64, tch::Device::Cpu)).remainder(5).eq(0);
    let y = iris.y.masked_fill(&ignored, -1);
    let loss = Loss::sparse_categorical_crossentropy_ignoring(false, -1);
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(3).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.05), loss.clone(), vec![]).unwrap();
    let config = FitConfig { epochs: 3, batch_size: 16, verbose: Verbosity::Silent, ..Default::default() };
    let h = m.fit(&x, &y, config).unwrap();
    assert!(h.series("loss").unwrap().iter().all(|l| l.is_finite()), "{:?}", h.series("loss"));
    // In one batch, the loss is the mean over the kept samples of -log p[label] (in several,
    // as in Keras, the batches' means weighted by their sizes).
    let logged = m.evaluate(&x, &y, 150).unwrap().get("loss").unwrap();
    let kept = ignored.logical_not();
    let p = m.predict(&x, 64).unwrap().to_kind(Kind::Double);
    let nll = -p.gather(1, &y.clamp_min(0).unsqueeze(1), false).squeeze_dim(1).log();
    let direct = nll.masked_select(&kept).mean(Kind::Double).double_value(&[]);
    close("iris ignore_class", logged, direct);
    // The ignored samples' features do not matter.
    let scrambled = x.masked_fill(&ignored.unsqueeze(1), 100.0);
    let batched = m.evaluate(&x, &y, 32).unwrap().get("loss").unwrap();
    close("scrambled", m.evaluate(&scrambled, &y, 32).unwrap().get("loss").unwrap(), batched);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iris.safetensors");
    m.save(&path).unwrap();
    assert_eq!(tch_keras::load_model(&path, tch::Device::Cpu).unwrap().compiled().unwrap().1, loss);
}

#[test]
fn dice_and_tversky_take_the_whole_batch_as_keras_default_axis() {
    let tversky = |alpha, beta| Loss::Tversky { alpha, beta };
    let cases = [
        ("dice", Loss::Dice, t2(&B_TRUE), t2(&B_PROBS), 0.375921309, None),
        ("dice_multi", Loss::Dice, one_hot(), t(&PROBS), 0.411042869, None),
        ("tversky", tversky(0.5, 0.5), t2(&B_TRUE), t2(&B_PROBS), 0.375921309, None),
        ("tversky_0.3_0.7", tversky(0.3, 0.7), one_hot(), t(&PROBS), 0.415347099, Some(0.674939036)),
    ];
    for (name, loss, y, pred, keras, keras_weighted) in cases {
        close(name, value(loss.clone(), &y, &pred), keras);
        let yp = loss.prepare_targets(&y, &pred.size()[1..]).unwrap();
        let per_sample = loss.per_sample(&pred, &yp, false).unwrap();
        assert_eq!(per_sample.size(), [4], "{name}");
        close(name, per_sample.mean(Kind::Float).double_value(&[]), keras);
        if let Some(kw) = keras_weighted {
            close(name, weighted_value(&loss, &y, &pred), kw);
        }
    }
    close("dice_weighted", weighted_value(&Loss::Dice, &t2(&B_TRUE), &t2(&B_PROBS)), 0.610872149);
    assert_eq!("Dice".parse::<Loss>().unwrap(), Loss::Dice);
    assert_eq!("tversky".parse::<Loss>().unwrap(), tversky(0.5, 0.5));
    assert!(tversky(f64::NAN, 0.5).validate().unwrap_err().to_string().contains("alpha"));
    let json = serde_json::to_string(&tversky(0.3, 0.7)).unwrap();
    assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), tversky(0.3, 0.7));
}
