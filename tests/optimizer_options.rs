//! Optimizer options (Keras 3's base-optimizer arguments): gradient clipping, weight decay and
//! learning-rate schedules, through `compile` and `fit`, saved with the model.
//!
//! Keras's numbers come from tests/reference/keras_optimizer_options.py (Keras 3, torch
//! backend); the rules themselves are tested on known gradients in src/optimizers.rs.
use tch::{Device, Tensor};
use tch_keras::callbacks::{LearningRateScheduler, ReduceLROnPlateau};
use tch_keras::{
    load_model, CosineDecay, Error, ExponentialDecay, FitConfig, GradientReducer, Optimizer, PiecewiseConstantDecay,
    Sequential, Verbosity,
};
#[path = "common/optimizer_fixture.rs"]
mod optimizer_fixture;
use optimizer_fixture::{data, dense};

fn fit(m: &mut Sequential, epochs: usize, initial_epoch: usize) {
    let (x, y) = data();
    let config = FitConfig {
        epochs,
        initial_epoch,
        batch_size: 2,
        shuffle: false,
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    m.fit(&x, &y, config).unwrap();
}

/// The kernel (as [out, in]) then the bias, flat.
fn weights(m: &Sequential) -> Vec<f32> {
    let vars = m.variables().unwrap();
    let get = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.reshape([-1]);
    [get("layers.0.weight"), get("layers.0.bias")].iter().flat_map(|t| Vec::<f32>::try_from(t).unwrap()).collect()
}

/// Two epochs of three steps with a schedule and a clipping option each: the weights, the
/// update count and the current (scheduled) learning rate are Keras's.
#[test]
fn fit_with_schedules_clipping_and_weight_decay_matches_keras() {
    // (optimizer, Keras's kernel [out, in] then bias, Keras's learning rate after 6 updates)
    let cases: [(Optimizer, [f64; 8], f64); 3] = [
        (
            Optimizer::adam(ExponentialDecay::new(0.05, 2, 0.5)).clipnorm(0.1),
            [
                -0.0807772502,
                0.0101643065,
                0.0970430076,
                0.139562413,
                0.232146934,
                0.32969293,
                0.132644475,
                -0.0701832324,
            ],
            0.00625000009,
        ),
        (
            Optimizer::sgd_momentum(CosineDecay::new(0.0, 4).warmup(0.2, 2), 0.5, false)
                .global_clipnorm(0.5)
                .weight_decay(0.01),
            [
                -0.121230744,
                -0.00180366542,
                0.0717217848,
                0.0593092479,
                0.14085646,
                0.249656796,
                0.0439826585,
                -0.131109044,
            ],
            0.0,
        ),
        (
            Optimizer::rmsprop(PiecewiseConstantDecay::new(vec![1, 3], vec![0.01, 0.005, 0.001])).clipvalue(0.1),
            [
                -0.152083859,
                -0.073290959,
                0.0267090518,
                0.104578197,
                0.223905489,
                0.326709062,
                0.104578182,
                -0.0954218209,
            ],
            0.00100000005,
        ),
    ];
    for (optimizer, keras, keras_lr) in cases {
        let mut m = dense(optimizer.clone());
        assert_eq!(m.learning_rate().unwrap(), optimizer.learning_rate_at(0));
        fit(&mut m, 2, 0);
        assert_eq!(m.iterations(), 6);
        let got = weights(&m);
        for (g, k) in got.iter().zip(&keras) {
            assert!((*g as f64 - k).abs() <= 2e-5, "{optimizer:?}: got {got:?}, Keras {keras:?}");
        }
        let lr = m.learning_rate().unwrap();
        assert!((lr - keras_lr).abs() <= 1e-8, "{optimizer:?}: learning rate {lr}, Keras {keras_lr}");
    }
}

/// A scheduled learning rate cannot be set, by hand or by a callback: a typed error that names
/// the schedule (Keras raises too).
#[test]
fn setting_a_scheduled_learning_rate_is_a_typed_error() {
    let mut m = dense(Optimizer::sgd(ExponentialDecay::new(0.1, 10, 0.5)));
    let err = m.set_learning_rate(0.01).unwrap_err();
    assert!(matches!(err, Error::ScheduledLearningRate { schedule: "ExponentialDecay", .. }), "{err}");
    let (x, y) = data();
    let mut halve = LearningRateScheduler::new(|_, lr| lr * 0.5);
    let config = FitConfig {
        epochs: 1,
        batch_size: 2,
        callbacks: vec![&mut halve],
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let err = m.fit(&x, &y, config).unwrap_err();
    assert!(err.to_string().contains("ExponentialDecay schedule"), "{err}");
    // ReduceLROnPlateau says so when training begins, not at the first plateau.
    let mut plateau = ReduceLROnPlateau::new("loss", 0.5, 1);
    let config = FitConfig {
        epochs: 1,
        batch_size: 2,
        callbacks: vec![&mut plateau],
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let err = m.fit(&x, &y, config).unwrap_err();
    assert!(matches!(err, Error::ScheduledLearningRate { schedule: "ExponentialDecay" }), "{err}");
    assert_eq!(m.iterations(), 0, "no update should have run");
    // A constant learning rate is still settable.
    let mut constant = dense(Optimizer::sgd(0.1));
    constant.set_learning_rate(0.01).unwrap();
    assert_eq!(constant.learning_rate().unwrap(), 0.01);
}

/// A whole-model file keeps the schedule and the options; training resumed from it continues
/// the schedule at the saved update count and gives the same weights as training straight on.
#[test]
fn a_saved_scheduled_clipped_optimizer_resumes_identically() {
    let optimizer =
        Optimizer::adam(CosineDecay::new(0.001, 8).warmup(0.05, 3).alpha(0.1)).clipnorm(0.2).weight_decay(0.01);
    let mut straight = dense(optimizer.clone());
    fit(&mut straight, 4, 0);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scheduled.safetensors");
    let mut first = dense(optimizer.clone());
    fit(&mut first, 2, 0);
    first.save(&path).unwrap();
    let lr_at_save = first.learning_rate().unwrap();
    drop(first);
    let mut resumed = load_model(&path, Device::Cpu).unwrap();
    let (restored, _, _) = resumed.compiled().unwrap();
    assert_eq!(restored, optimizer, "the schedule or options were not restored");
    assert_eq!(resumed.iterations(), 6);
    assert_eq!(resumed.learning_rate().unwrap(), lr_at_save);
    let done = resumed.epochs_done();
    assert_eq!(done, 2);
    fit(&mut resumed, 4, done);

    assert_eq!(resumed.iterations(), straight.iterations());
    assert_eq!(resumed.learning_rate().unwrap(), straight.learning_rate().unwrap());
    for ((name, a), (_, b)) in straight.variables().unwrap().iter().zip(resumed.variables().unwrap()) {
        assert!(a.equal(b), "{name} differs after resuming");
    }
    // The schedule mattered: a constant rate ends elsewhere.
    let mut constant = dense(Optimizer::adam(0.001).clipnorm(0.2).weight_decay(0.01));
    fit(&mut constant, 4, 0);
    assert_ne!(weights(&constant), weights(&straight));
}

/// Multiplies the gradient as a sum over many processes would (the reduced gradient).
struct Scaling(f64);

impl GradientReducer for Scaling {
    fn reduce_step(&mut self, grad: &mut Tensor, _sums: &mut Tensor) -> tch_keras::Result<()> {
        let _ = grad.f_mul_scalar_(self.0)?;
        Ok(())
    }
}

/// Clipping applies to the gradient the reducer hands on (Keras clips the aggregated
/// gradient): clipped to a norm below the gradient's, a 1000 times larger reduced gradient
/// gives the same update; unclipped, it does not.
#[test]
fn clipping_sees_the_reduced_gradient() {
    let run = |optimizer: Optimizer, scale: f64| {
        let mut m = dense(optimizer);
        let (x, y) = data();
        let mut reducer = Scaling(scale);
        let config = FitConfig {
            epochs: 1,
            batch_size: 2,
            shuffle: false,
            reducer: Some(&mut reducer),
            verbose: Verbosity::Silent,
            ..Default::default()
        };
        m.fit(&x, &y, config).unwrap();
        weights(&m)
    };
    for clipped in [Optimizer::sgd(0.1).global_clipnorm(1e-3), Optimizer::sgd(0.1).clipnorm(1e-3)] {
        let (one, many) = (run(clipped.clone(), 1.0), run(clipped.clone(), 1000.0));
        for (a, b) in one.iter().zip(&many) {
            assert!((a - b).abs() <= 1e-6, "{clipped:?}: {one:?} vs {many:?}");
        }
    }
    let (one, many) = (run(Optimizer::sgd(0.001), 1.0), run(Optimizer::sgd(0.001), 1000.0));
    assert!(one.iter().zip(&many).any(|(a, b)| (a - b).abs() > 1e-3), "unclipped runs should differ");
}
