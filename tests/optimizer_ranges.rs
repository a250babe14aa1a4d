//! Optimizer arguments out of range are refused with an error naming the argument and the
//! accepted range. SGD's momentum range is Keras's own check (see
//! `tests/reference/keras_optimizer_ranges.py`: 1.5 and -0.1 raise, 0.0 and 1.0 are
//! accepted); the others are the ranges the update rules need.
use tch_keras::{Activation, Dense, Loss, Optimizer, Sequential};

fn refused(opt: Optimizer, arg: &str, range: &str) {
    let err = opt.validate().expect_err(&format!("{opt:?} must be refused")).to_string();
    assert!(err.contains(arg) && err.contains(range), "{opt:?}: {err}");
}

#[test]
fn every_optimizer_argument_is_range_checked() {
    let adam = Optimizer::adam(0.001);
    let Optimizer::Adam { learning_rate, beta_1, beta_2, epsilon, amsgrad } = adam else { unreachable!() };
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        refused(adam.with_learning_rate(lr), "learning_rate", "> 0");
    }
    refused(Optimizer::Adam { beta_1: 1.0, learning_rate, beta_2, epsilon, amsgrad }, "beta_1", "[0, 1)");
    refused(Optimizer::Adam { beta_1: -0.1, learning_rate, beta_2, epsilon, amsgrad }, "beta_1", "[0, 1)");
    refused(Optimizer::Adam { beta_2: 1.0, learning_rate, beta_1, epsilon, amsgrad }, "beta_2", "[0, 1)");
    refused(Optimizer::Adam { epsilon: -1e-7, learning_rate, beta_1, beta_2, amsgrad }, "epsilon", ">= 0");
    assert!(Optimizer::Adam { beta_1: 0.0, epsilon: 0.0, learning_rate, beta_2, amsgrad }.validate().is_ok());

    let Optimizer::AdamW { learning_rate, weight_decay, beta_1, beta_2, epsilon } = Optimizer::adamw(0.001) else {
        unreachable!()
    };
    refused(Optimizer::AdamW { weight_decay: -0.01, learning_rate, beta_1, beta_2, epsilon }, "weight_decay", ">= 0");
    refused(Optimizer::AdamW { beta_2: 1.5, learning_rate, weight_decay, beta_1, epsilon }, "beta_2", "[0, 1)");

    // Keras: SGD(momentum=1.5) and SGD(momentum=-0.1) raise; 0.0 and 1.0 are accepted.
    refused(Optimizer::sgd_momentum(0.01, 1.5, false), "momentum", "[0, 1]");
    refused(Optimizer::sgd_momentum(0.01, -0.1, true), "momentum", "[0, 1]");
    assert!(Optimizer::sgd_momentum(0.01, 1.0, false).validate().is_ok());
    assert!(Optimizer::sgd_momentum(0.01, 0.0, false).validate().is_ok());

    let Optimizer::RmsProp { learning_rate, rho, momentum, epsilon, centered } = Optimizer::rmsprop(0.001) else {
        unreachable!()
    };
    refused(Optimizer::RmsProp { rho: 1.0, learning_rate, momentum, epsilon, centered }, "rho", "[0, 1)");
    refused(Optimizer::RmsProp { momentum: 2.0, learning_rate, rho, epsilon, centered }, "momentum", "[0, 1]");
    refused(Optimizer::RmsProp { epsilon: -1.0, learning_rate, rho, momentum, centered }, "epsilon", ">= 0");

    let Optimizer::Adagrad { learning_rate, epsilon, .. } = Optimizer::adagrad(0.01) else { unreachable!() };
    refused(
        Optimizer::Adagrad { initial_accumulator_value: -0.1, learning_rate, epsilon },
        "initial_accumulator_value",
        ">= 0",
    );
    refused(Optimizer::Adagrad { epsilon: f64::NAN, initial_accumulator_value: 0.1, learning_rate }, "epsilon", ">= 0");
}

#[test]
fn compile_refuses_an_out_of_range_optimizer() {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(2).activation(Activation::Softmax));
    let err = m.compile(Optimizer::sgd_momentum(0.01, 1.5, false), Loss::CategoricalCrossentropy, vec![]).unwrap_err();
    assert!(err.to_string().contains("sgd's momentum must be in [0, 1], got 1.5"), "{err}");
}
