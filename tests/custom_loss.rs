//! User-written losses and metrics, defined here as a user's crate would: trained against the
//! built-ins they reimplement, checked against hand computations, saved and loaded with their
//! constructors registered (and refused without), and refused when they return the wrong thing.
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};
use tch_keras::layers::LayerRegistry;
use tch_keras::{load_model, load_model_with, register_loss, Activation, Dense, Error, FitConfig, Sequential};
use tch_keras::{Loss, LossFn, Metric, Optimizer, Verbosity};

/// Mean squared error written by hand: each sample's mean of `(p - y)^2` over its outputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HandMse {
    scale: f64,
}

impl LossFn for HandMse {
    fn name(&self) -> &str {
        "HandMse"
    }
    fn loss(&self, y_pred: &Tensor, y_true: &Tensor) -> tch_keras::Result<Tensor> {
        Ok(y_pred.f_sub(y_true)?.f_square()?.f_mean_dim(-1, false, Kind::Float)?.f_mul_scalar(self.scale)?)
    }
}

/// Returns `[N, outputs]` instead of `[N]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct NoReduce;

impl LossFn for NoReduce {
    fn name(&self) -> &str {
        "NoReduce"
    }
    fn loss(&self, y_pred: &Tensor, y_true: &Tensor) -> tch_keras::Result<Tensor> {
        Ok(y_pred.f_sub(y_true)?.f_square()?)
    }
}

/// Small synthetic regression data: 40 samples, 3 features, 2 targets.
fn data() -> (Tensor, Tensor) {
    tch::manual_seed(7);
    let x = Tensor::randn([40, 3], (Kind::Float, Device::Cpu));
    let w = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.25, -0.75, 1.5]).reshape([3, 2]);
    let y = x.matmul(&w) + Tensor::randn([40, 2], (Kind::Float, Device::Cpu)) * 0.1;
    (x, y)
}

fn model() -> Sequential {
    Sequential::new()
        .device(Device::Cpu)
        .seed(3)
        .input_shape([3])
        .add(Dense::new(4).activation(Activation::Tanh))
        .add(Dense::new(2))
}

fn cfg<'a>(w: Option<&'a Tensor>) -> FitConfig<'a> {
    FitConfig { epochs: 3, batch_size: 7, sample_weight: w, verbose: Verbosity::Silent, ..Default::default() }
}

/// The model's weights after training with `loss` (sample weights `w` if given).
fn trained(loss: Loss, w: Option<&Tensor>) -> (Vec<Tensor>, f64) {
    let (x, y) = data();
    let mut m = model();
    // SGD, not Adam: Adam's update does not change when the loss is scaled.
    m.compile(Optimizer::sgd(0.05), loss, vec![]).unwrap();
    let history = m.fit(&x, &y, cfg(w)).unwrap();
    let last = *history.series("loss").unwrap().last().unwrap();
    (m.get_weights().unwrap(), last)
}

fn max_diff(a: &[Tensor], b: &[Tensor]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(a, b)| (a - b).abs().max().double_value(&[])).fold(0.0, f64::max)
}

#[test]
fn hand_written_mse_trains_like_the_built_in() {
    let weights = Tensor::from_slice(&(0..40).map(|i| (i % 5) as f32 * 0.5).collect::<Vec<_>>());
    for w in [None, Some(&weights)] {
        let (builtin, builtin_loss) = trained(Loss::MeanSquaredError, w);
        let (custom, custom_loss) = trained(Loss::custom(HandMse { scale: 1.0 }).unwrap(), w);
        let closure = Loss::from_fn("mse_fn", |p: &Tensor, y: &Tensor| {
            Ok(p.f_sub(y)?.f_square()?.f_mean_dim(-1, false, Kind::Float)?)
        });
        let (from_fn, _) = trained(closure, w);
        assert!(max_diff(&builtin, &custom) < 1e-6, "weights differ by {}", max_diff(&builtin, &custom));
        assert!(max_diff(&builtin, &from_fn) < 1e-6, "weights differ by {}", max_diff(&builtin, &from_fn));
        assert!((builtin_loss - custom_loss).abs() < 1e-6, "{builtin_loss} vs {custom_loss}");
        // A different loss trains to different weights: the comparison can fail.
        let (scaled, _) = trained(Loss::custom(HandMse { scale: 3.0 }).unwrap(), w);
        assert!(max_diff(&builtin, &scaled) > 1e-4);
    }
}

#[test]
fn wrong_return_is_a_typed_error_naming_the_function() {
    let (x, y) = data();
    let mut m = model();
    m.compile(Optimizer::sgd(0.1), Loss::custom(NoReduce).unwrap(), vec![]).unwrap();
    let err = m.fit(&x, &y, cfg(None)).unwrap_err();
    assert!(matches!(&err, Error::CustomFunction { name, .. } if name == "NoReduce"), "{err}");
    assert!(err.to_string().contains("[7, 2]"), "{err}");
    // An integer return, and a scalar where sample weights need each sample's loss.
    let int =
        Loss::from_fn("counts", |p: &Tensor, _: &Tensor| Ok(p.f_gt(0.0)?.f_sum_dim_intlist(-1, false, Kind::Int64)?));
    let mut m = model();
    m.compile(Optimizer::sgd(0.1), int, vec![]).unwrap();
    let err = m.fit(&x, &y, cfg(None)).unwrap_err();
    assert!(matches!(&err, Error::CustomFunction { name, .. } if name == "counts"), "{err}");
    let mean = Loss::from_fn("mean_only", |p: &Tensor, y: &Tensor| Ok(p.f_sub(y)?.f_square()?.f_mean(Kind::Float)?));
    let mut m = model();
    m.compile(Optimizer::sgd(0.1), mean.clone(), vec![]).unwrap();
    m.fit(&x, &y, cfg(None)).unwrap(); // a scalar is the batch mean without weights
    let w = Tensor::ones([40], (Kind::Float, Device::Cpu));
    let err = m.fit(&x, &y, cfg(Some(&w))).unwrap_err();
    assert!(matches!(&err, Error::CustomFunction { name, .. } if name == "mean_only"), "{err}");
    assert!(err.to_string().contains("[7]"), "{err}");
}

#[test]
fn custom_loss_saves_and_loads_through_the_registry() {
    let (x, y) = data();
    let mut m = model();
    m.compile(Optimizer::adam(0.01), Loss::custom(HandMse { scale: 2.0 }).unwrap(), vec![]).unwrap();
    m.fit(&x, &y, cfg(None)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let expected = m.evaluate(&x, &y, 16).unwrap().get("loss").unwrap();

    // Not registered: a typed error saying what to register (the process-wide registry has
    // no HandMse yet; this test is the only one in this binary that registers it, below).
    let err = load_model_with(&path, Device::Cpu, &LayerRegistry::new()).unwrap_err();
    assert!(matches!(&err, Error::UnknownCustom { what: "loss", name, .. } if name == "HandMse"), "{err}");
    assert!(err.to_string().contains("register_loss::<YourType>(\"HandMse\")"), "{err}");

    let registry = LayerRegistry::new().with_loss::<HandMse>("HandMse");
    let mut loaded = load_model_with(&path, Device::Cpu, &registry).unwrap();
    let (_, loss, _) = loaded.compiled().unwrap();
    assert_eq!(loss, Loss::custom(HandMse { scale: 2.0 }).unwrap());
    let got = loaded.evaluate(&x, &y, 16).unwrap().get("loss").unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");

    register_loss::<HandMse>("HandMse");
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    let got = loaded.evaluate(&x, &y, 16).unwrap().get("loss").unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
}

#[test]
fn closure_loss_needs_the_closure_again_to_load() {
    let (x, y) = data();
    let f = |p: &Tensor, y: &Tensor| -> tch_keras::Result<Tensor> {
        Ok(p.f_sub(y)?.f_abs()?.f_mean_dim(-1, false, Kind::Float)?)
    };
    let mut m = model();
    m.compile(Optimizer::sgd(0.05), Loss::from_fn("abs_fn", f), vec![]).unwrap();
    m.fit(&x, &y, cfg(None)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let err = load_model(&path, Device::Cpu).unwrap_err();
    assert!(matches!(&err, Error::UnknownCustom { name, .. } if name == "abs_fn"), "{err}");
    assert!(err.to_string().contains("Loss::from_fn") && err.to_string().contains("register_loss_fn"), "{err}");
    let mut loaded = load_model_with(&path, Device::Cpu, &LayerRegistry::new().with_loss_fn("abs_fn", f)).unwrap();
    let (a, b) = (m.evaluate(&x, &y, 16).unwrap(), loaded.evaluate(&x, &y, 16).unwrap());
    assert!((a.get("loss").unwrap() - b.get("loss").unwrap()).abs() < 1e-6);
    // Its mean is the built-in mean absolute error.
    let mut builtin = load_model_with(&path, Device::Cpu, &LayerRegistry::new().with_loss_fn("abs_fn", f)).unwrap();
    builtin.compile(Optimizer::sgd(0.05), Loss::MeanAbsoluteError, vec![Metric::mae()]).unwrap();
    let logs = builtin.evaluate(&x, &y, 16).unwrap();
    assert!((logs.get("loss").unwrap() - b.get("loss").unwrap()).abs() < 1e-6);
}
