//! Optimizer arguments out of range are refused with an error naming the argument and the
//! accepted range. SGD's momentum range is Keras's own check (see
//! `tests/reference/keras_optimizer_ranges.py`: 1.5 and -0.1 raise, 0.0 and 1.0 are
//! accepted); the others are the ranges the update rules need.
use tch_keras::{Activation, Dense, Loss, Optimizer, Sequential};

fn refused(opt: Optimizer, arg: &str, range: &str) {
    let err = opt.validate().expect_err(&format!("{opt:?} must be refused")).to_string();
    assert!(err.contains(arg) && err.contains(range), "{opt:?}: {err}");
}

/// `opt` with `change` applied to its fields.
fn with(mut opt: Optimizer, change: impl FnOnce(&mut Optimizer)) -> Optimizer {
    change(&mut opt);
    opt
}

#[test]
fn every_optimizer_argument_is_range_checked() {
    let adam = Optimizer::adam(0.001);
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        refused(adam.clone().with_learning_rate(lr), "learning_rate", "> 0");
    }
    let adam_with = |beta_1: f64, beta_2: f64, eps: f64| {
        with(adam.clone(), |o| {
            if let Optimizer::Adam { beta_1: b1, beta_2: b2, epsilon, .. } = o {
                (*b1, *b2, *epsilon) = (beta_1, beta_2, eps);
            }
        })
    };
    refused(adam_with(1.0, 0.999, 1e-7), "beta_1", "[0, 1)");
    refused(adam_with(-0.1, 0.999, 1e-7), "beta_1", "[0, 1)");
    refused(adam_with(0.9, 1.0, 1e-7), "beta_2", "[0, 1)");
    refused(adam_with(0.9, 0.999, -1e-7), "epsilon", ">= 0");
    assert!(adam_with(0.0, 0.999, 0.0).validate().is_ok());

    refused(Optimizer::adamw(0.001).weight_decay(-0.01), "weight_decay", ">= 0");
    let adamw = with(Optimizer::adamw(0.001), |o| {
        if let Optimizer::AdamW { beta_2, .. } = o {
            *beta_2 = 1.5;
        }
    });
    refused(adamw, "beta_2", "[0, 1)");

    // Keras: SGD(momentum=1.5) and SGD(momentum=-0.1) raise; 0.0 and 1.0 are accepted.
    refused(Optimizer::sgd_momentum(0.01, 1.5, false), "momentum", "[0, 1]");
    refused(Optimizer::sgd_momentum(0.01, -0.1, true), "momentum", "[0, 1]");
    assert!(Optimizer::sgd_momentum(0.01, 1.0, false).validate().is_ok());
    assert!(Optimizer::sgd_momentum(0.01, 0.0, false).validate().is_ok());

    let rms = |r: f64, m: f64, e: f64| {
        with(Optimizer::rmsprop(0.001), |o| {
            if let Optimizer::RmsProp { rho, momentum, epsilon, .. } = o {
                (*rho, *momentum, *epsilon) = (r, m, e);
            }
        })
    };
    refused(rms(1.0, 0.0, 1e-7), "rho", "[0, 1)");
    refused(rms(0.9, 2.0, 1e-7), "momentum", "[0, 1]");
    refused(rms(0.9, 0.0, -1.0), "epsilon", ">= 0");

    let adagrad = |init: f64, e: f64| {
        with(Optimizer::adagrad(0.01), |o| {
            if let Optimizer::Adagrad { initial_accumulator_value, epsilon, .. } = o {
                (*initial_accumulator_value, *epsilon) = (init, e);
            }
        })
    };
    refused(adagrad(-0.1, 1e-7), "initial_accumulator_value", ">= 0");
    refused(adagrad(0.1, f64::NAN), "epsilon", ">= 0");
}

#[test]
fn compile_refuses_an_out_of_range_optimizer() {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(2).activation(Activation::Softmax));
    let err = m.compile(Optimizer::sgd_momentum(0.01, 1.5, false), Loss::CategoricalCrossentropy, vec![]).unwrap_err();
    assert!(err.to_string().contains("sgd's momentum must be in [0, 1], got 1.5"), "{err}");
}
