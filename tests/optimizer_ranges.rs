//! Optimizer arguments out of range are refused with an error naming the argument and the
//! accepted range. SGD's momentum range is Keras's own check (see
//! `tests/reference/keras_optimizer_ranges.py`: 1.5 and -0.1 raise, 0.0 and 1.0 are
//! accepted), as is Lion's beta_1 (`tests/reference/keras_more_optimizers.py`: (0, 1]);
//! the others are the ranges the update rules need. A learning rate of 0 is
//! accepted, as Keras accepts it; a negative or non-finite one is refused (Keras does not check).
use tch::{Kind, Tensor};
use tch_keras::{
    Activation, CosineDecay, Dense, Error, FitConfig, LearningRate, Loss, Optimizer, PiecewiseConstantDecay,
    Sequential, Verbosity,
};

fn refused(opt: Optimizer, arg: &str, range: &str) {
    let err = opt.validate().expect_err(&format!("{opt:?} must be refused")).to_string();
    assert!(err.contains(arg) && err.contains(range), "{opt:?}: {err}");
}

/// `opt` with `change` applied to its fields.
fn with(mut opt: Optimizer, change: impl FnOnce(&mut Optimizer)) -> Optimizer {
    change(&mut opt);
    opt
}

// Long: one refusal per optimizer argument, a checklist read against Keras's arguments.
#[test]
fn every_optimizer_argument_is_range_checked() {
    let adam = Optimizer::adam(0.001);
    for lr in [-0.1, f64::NAN, f64::INFINITY] {
        refused(adam.clone().with_learning_rate(lr), "learning_rate", ">= 0");
    }
    assert!(adam.clone().with_learning_rate(0.0).validate().is_ok());
    let piecewise = |values: Vec<f64>| Optimizer::adam(PiecewiseConstantDecay::new(vec![2], values));
    assert!(piecewise(vec![0.0, 0.1]).validate().is_ok());
    refused(piecewise(vec![-0.1, 0.1]), "values", ">= 0");
    refused(piecewise(vec![0.1, f64::NAN]), "values", ">= 0");
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

    let betas = |opt: Optimizer, b1: f64, b2: f64, eps: f64| {
        with(opt, |o| match o {
            Optimizer::Nadam { beta_1, beta_2, epsilon, .. } | Optimizer::Adamax { beta_1, beta_2, epsilon, .. } => {
                (*beta_1, *beta_2, *epsilon) = (b1, b2, eps)
            }
            Optimizer::Lion { beta_1, beta_2, .. } => (*beta_1, *beta_2) = (b1, b2),
            _ => unreachable!(),
        })
    };
    let nadam = Optimizer::nadam(0.001);
    refused(betas(nadam.clone(), 1.0, 0.999, 1e-7), "beta_1", "[0, 1)");
    refused(betas(nadam.clone(), 0.9, -0.5, 1e-7), "beta_2", "[0, 1)");
    refused(betas(nadam.clone(), 0.9, 0.999, -1e-7), "epsilon", ">= 0");
    refused(nadam.clone().clipnorm(-1.0), "clipnorm", "> 0");
    refused(Optimizer::nadam(-0.001), "learning_rate", ">= 0");
    let adamax = Optimizer::adamax(0.001);
    refused(betas(adamax.clone(), 1.0, 0.999, 1e-7), "beta_1", "[0, 1)");
    refused(betas(adamax.clone(), 0.9, 1.5, 1e-7), "beta_2", "[0, 1]");
    refused(betas(adamax.clone(), 0.9, 0.999, f64::INFINITY), "epsilon", ">= 0");
    assert!(betas(adamax, 0.9, 1.0, 1e-7).validate().is_ok());
    let adadelta = |r: f64, e: f64| {
        with(Optimizer::adadelta(0.001), |o| {
            if let Optimizer::Adadelta { rho, epsilon, .. } = o {
                (*rho, *epsilon) = (r, e);
            }
        })
    };
    refused(adadelta(1.5, 1e-7), "rho", "[0, 1]");
    refused(adadelta(-0.1, 1e-7), "rho", "[0, 1]");
    // Without epsilon Adadelta's first update is 0 / 0.
    refused(adadelta(0.95, 0.0), "epsilon", "> 0");
    refused(Optimizer::adadelta(0.001).weight_decay(-0.1), "weight_decay", ">= 0");
    // Keras (tests/reference/keras_more_optimizers.py): Lion(beta_1=0) and Lion(beta_1=1.5)
    // raise, Lion(beta_1=1) is accepted.
    let lion = Optimizer::lion(0.001);
    refused(betas(lion.clone(), 0.0, 0.99, 0.0), "beta_1", "(0, 1]");
    refused(betas(lion.clone(), 1.5, 0.99, 0.0), "beta_1", "(0, 1]");
    refused(betas(lion.clone(), 0.9, 1.01, 0.0), "beta_2", "[0, 1]");
    assert!(betas(lion, 1.0, 0.99, 0.0).validate().is_ok());
    // Keras (tests/reference/keras_more_optimizers.py): Ftrl refuses a positive
    // learning_rate_power and negative accumulator or regularization strengths.
    let ftrl = |change: fn(&mut Optimizer)| with(Optimizer::ftrl(0.001), change);
    refused(
        ftrl(|o| {
            if let Optimizer::Ftrl { learning_rate_power, .. } = o {
                *learning_rate_power = 0.5;
            }
        }),
        "learning_rate_power",
        "in (-inf, 0]",
    );
    refused(
        ftrl(|o| {
            if let Optimizer::Ftrl { initial_accumulator_value, .. } = o {
                *initial_accumulator_value = -0.1;
            }
        }),
        "initial_accumulator_value",
        ">= 0",
    );
    refused(
        ftrl(|o| {
            if let Optimizer::Ftrl { l1_regularization_strength, .. } = o {
                *l1_regularization_strength = -0.1;
            }
        }),
        "l1_regularization_strength",
        ">= 0",
    );
    refused(
        ftrl(|o| {
            if let Optimizer::Ftrl { l2_regularization_strength, .. } = o {
                *l2_regularization_strength = -0.1;
            }
        }),
        "l2_regularization_strength",
        ">= 0",
    );
    refused(
        ftrl(|o| {
            if let Optimizer::Ftrl { l2_shrinkage_regularization_strength, .. } = o {
                *l2_shrinkage_regularization_strength = -0.1;
            }
        }),
        "l2_shrinkage_regularization_strength",
        ">= 0",
    );
    refused(
        ftrl(|o| {
            if let Optimizer::Ftrl { beta, .. } = o {
                *beta = -0.1;
            }
        }),
        "beta",
        ">= 0",
    );
    let power_zero = ftrl(|o| {
        if let Optimizer::Ftrl { learning_rate_power, .. } = o {
            *learning_rate_power = 0.0;
        }
    });
    assert!(power_zero.validate().is_ok());
    // FTRL divides by the learning rate: 0 is refused for it alone, as is a schedule reaching 0.
    refused(Optimizer::ftrl(0.0), "learning_rate", "> 0");
    refused(Optimizer::ftrl(CosineDecay::new(0.1, 2)), "learning_rate", "alpha 0");
    refused(Optimizer::ftrl(CosineDecay::new(0.0, 2).alpha(0.5).warmup(0.1, 2)), "learning_rate", "warm-up from 0");
    refused(Optimizer::ftrl(PiecewiseConstantDecay::new(vec![2], vec![0.1, 0.0])), "learning_rate", "a value of 0");
    assert!(Optimizer::adam(CosineDecay::new(0.1, 2)).validate().is_ok());
    let err = Optimizer::lion(0.001).clipvalue(0.0).validate().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { name: "clipvalue", .. }), "{err}");
}

#[test]
fn compile_refuses_an_out_of_range_optimizer() {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(2).activation(Activation::Softmax));
    let err = m.compile(Optimizer::sgd_momentum(0.01, 1.5, false), Loss::CategoricalCrossentropy, vec![]).unwrap_err();
    assert!(err.to_string().contains("sgd's momentum must be in [0, 1], got 1.5"), "{err}");
    let mut lion = Optimizer::lion(0.001);
    if let Optimizer::Lion { beta_1, .. } = &mut lion {
        *beta_1 = 0.0;
    }
    let err = m.compile(lion, Loss::CategoricalCrossentropy, vec![]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { name: "beta_1", .. }), "{err}");
    assert!(err.to_string().contains("lion's beta_1 must be in (0, 1], got 0"), "{err}");
}

/// The weights of Dense(1) (kernel ones, bias zero) after `steps` full-batch MSE steps on the
/// reference script's two samples: [kernel, bias].
fn weights_after(optimizer: Optimizer, steps: usize) -> Vec<Vec<f32>> {
    let mut m = Sequential::new().input_shape([2]).add(Dense::new(1));
    m.compile(optimizer, Loss::MeanSquaredError, vec![]).unwrap();
    let w = m.get_weights().unwrap();
    // get_weights: [bias, kernel].
    m.set_weights(&[w[0].zeros_like(), w[1].ones_like()]).unwrap();
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, -1.0]).reshape([2, 2]);
    let y = Tensor::from_slice(&[1.0f32, 0.5]).reshape([2, 1]);
    let config =
        FitConfig { epochs: steps, batch_size: 2, shuffle: false, verbose: Verbosity::Silent, ..Default::default() };
    m.fit(&x, &y, config).unwrap();
    let w = m.get_weights().unwrap();
    [&w[1], &w[0]].iter().map(|t| Vec::<f32>::try_from(t.reshape([-1]).to_kind(Kind::Float)).unwrap()).collect()
}

#[test]
fn a_learning_rate_of_zero_trains_as_keras_does() {
    // Keras 3 (tests/reference/keras_optimizer_ranges.py): Adam(learning_rate=0.0) and a
    // PiecewiseConstantDecay with value 0 are accepted; setting the rate to 0 is accepted.
    // Two steps at rate 0 leave the weights as they were.
    assert_eq!(weights_after(Optimizer::adam(0.0), 2), [vec![1.0, 1.0], vec![0.0]]);
    // PiecewiseConstantDecay([2], [0, 0.1]): rate 0 for steps 0-2 (the moments still
    // accumulate), then 0.1; Keras after 4 steps: kernel 0.9000009894371033 (both), bias
    // -0.09999900311231613. Keras's float32 bias correction (1 - 0.999^4 loses digits) moves
    // the step by about 1e-5 of itself; moments that had not accumulated would give 0.942.
    let w = weights_after(Optimizer::adam(PiecewiseConstantDecay::new(vec![2], vec![0.0, 0.1])), 4);
    for (got, keras) in w.concat().iter().zip([0.9000009894371033f64, 0.9000009894371033, -0.09999900311231613]) {
        assert!((f64::from(*got) - keras).abs() < 3e-6, "{w:?}");
    }
    let mut m = Sequential::new().input_shape([2]).add(Dense::new(1));
    m.compile(Optimizer::adam(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    m.set_learning_rate(0.0).unwrap();
    assert_eq!(m.learning_rate().unwrap(), 0.0);
    assert!(m.set_learning_rate(-0.1).unwrap_err().to_string().contains(">= 0"));
    assert!(matches!(m.compiled().unwrap().0.learning_rate_config(), LearningRate::Constant(lr) if *lr == 0.0));
}
