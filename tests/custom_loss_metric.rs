//! User-written losses and metrics, defined here as a user's crate would: trained against the
//! built-ins they reimplement, checked against hand computations, saved and loaded with their
//! constructors registered (and refused without), and refused when they return the wrong thing.
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};
use tch_keras::layers::LayerRegistry;
use tch_keras::saving::{read_safetensors, MODEL_KEY};
use tch_keras::{load_model, load_model_with, register_loss, register_metric, Activation, Dense, Error, FitConfig};
use tch_keras::{Loss, LossFn, Metric, Optimizer, Verbosity};
use tch_keras::{MetricFn, Sequential};

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

/// Small synthetic regression data: 40 samples, 3 features, 2 targets (no random numbers).
fn data() -> (Tensor, Tensor) {
    let x = Tensor::arange(120, (Kind::Float, Device::Cpu)).f_mul_scalar(0.37).unwrap().sin().reshape([40, 3]);
    let w = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.25, -0.75, 1.5]).reshape([3, 2]);
    let noise = Tensor::arange(80, (Kind::Float, Device::Cpu)).f_mul_scalar(1.3).unwrap().cos().reshape([40, 2]);
    (x.shallow_clone(), x.matmul(&w) + noise * 0.1)
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
fn class_weights_apply_to_a_custom_loss_as_to_the_built_in() {
    let (x, y) = data();
    let run = |loss: Loss, class_weight: Vec<(i64, f64)>| {
        let mut m = model();
        m.compile(Optimizer::sgd(0.05), loss, vec![]).unwrap();
        // Two target columns: each sample's class is the arg-max of its row.
        m.fit(&x, &y, FitConfig { class_weight, ..cfg(None) }).unwrap();
        m.get_weights().unwrap()
    };
    let classes = vec![(0, 0.2), (1, 3.0)];
    let builtin = run(Loss::MeanSquaredError, classes.clone());
    let custom = run(Loss::custom(HandMse { scale: 1.0 }).unwrap(), classes);
    assert!(max_diff(&builtin, &custom) < 1e-6, "weights differ by {}", max_diff(&builtin, &custom));
    let unweighted = run(Loss::custom(HandMse { scale: 1.0 }).unwrap(), vec![]);
    assert!(max_diff(&builtin, &unweighted) > 1e-4, "class weights must change the result");
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
    // The file stores the loss's name and serde JSON configuration.
    let (_, meta) = read_safetensors(&path).unwrap();
    let config: serde_json::Value = serde_json::from_str(&meta[MODEL_KEY]).unwrap();
    assert_eq!(config["compile"]["loss"], serde_json::json!({"custom": {"name": "HandMse", "config": {"scale": 2.0}}}));

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

/// Mean absolute percentage error as a metric: state `[sum(w * ape), sum(w)]`, weights 1
/// when the metric is unweighted.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mape;

impl MetricFn for Mape {
    fn name(&self) -> &str {
        "Mape"
    }
    fn state_len(&self) -> usize {
        2
    }
    fn batch_state(&self, p: &Tensor, y: &Tensor, w: Option<&Tensor>) -> tch_keras::Result<Tensor> {
        let ape = y.f_sub(p)?.f_div(&y.f_abs()?.f_clamp_min(1e-7)?)?.f_abs()?.f_mean_dim(-1, false, Kind::Float)?;
        let w = match w {
            Some(w) => w.shallow_clone(),
            None => ape.f_ones_like()?,
        };
        Ok(Tensor::f_stack(&[ape.f_mul(&w)?.f_sum(Kind::Float)?.f_mul_scalar(100.0)?, w.f_sum(Kind::Float)?], 0)?)
    }
    fn result(&self, state: &[f64], _count: i64) -> f64 {
        state[0] / state[1]
    }
}

/// How many samples have their first output above `threshold` (a count, not a mean).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Above {
    threshold: f64,
}

impl MetricFn for Above {
    fn name(&self) -> &str {
        "above"
    }
    fn batch_state(&self, p: &Tensor, _y: &Tensor, _w: Option<&Tensor>) -> tch_keras::Result<Tensor> {
        Ok(p.f_select(1, 0)?.f_gt(self.threshold)?.f_sum(Kind::Float)?.f_reshape([1])?)
    }
    fn result(&self, state: &[f64], _count: i64) -> f64 {
        state[0]
    }
    fn higher_is_better(&self) -> bool {
        true
    }
}

/// Returns a state of the wrong length.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BadState;

impl MetricFn for BadState {
    fn name(&self) -> &str {
        "BadState"
    }
    fn batch_state(&self, p: &Tensor, _y: &Tensor, _w: Option<&Tensor>) -> tch_keras::Result<Tensor> {
        Ok(p.f_sum_dim_intlist(0, false, Kind::Float)?)
    }
    fn result(&self, state: &[f64], _count: i64) -> f64 {
        state[0]
    }
}

fn metrics() -> Vec<Metric> {
    vec![
        Metric::custom(Mape).unwrap(),
        Metric::custom(Above { threshold: 0.0 }).unwrap(),
        Metric::custom(Mape).unwrap().weighted(),
    ]
}

/// The hand-computed `(mape, weighted mape, above)` of the model's predictions on all of `x`.
fn by_hand(m: &mut Sequential, x: &Tensor, y: &Tensor, w: &Tensor) -> (f64, f64, f64) {
    let p = m.predict(x, 40).unwrap();
    let (p, y, w) = (
        Vec::<f32>::try_from(p.reshape([-1])).unwrap(),
        Vec::<f32>::try_from(y.reshape([-1])).unwrap(),
        Vec::<f32>::try_from(w).unwrap(),
    );
    let (mut plain, mut weighted, mut wsum, mut above) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..40 {
        let ape: f64 =
            (0..2).map(|j| ((y[2 * i + j] - p[2 * i + j]) / y[2 * i + j].abs().max(1e-7)).abs() as f64).sum::<f64>()
                * 50.0;
        plain += ape / 40.0;
        weighted += ape * w[i] as f64;
        wsum += w[i] as f64;
        above += f64::from(u8::from(p[2 * i] > 0.0));
    }
    (plain, weighted / wsum, above)
}

#[test]
fn custom_metrics_equal_hand_computations_across_unequal_batches() {
    let (x, y) = data();
    let w = Tensor::from_slice(&(0..40).map(|i| ((i * 7) % 4) as f32 * 0.75).collect::<Vec<_>>());
    let mut m = model();
    m.compile(Optimizer::sgd(0.05), Loss::MeanSquaredError, metrics()).unwrap();
    let history = m.fit(&x, &y, cfg(None)).unwrap();
    assert_eq!(history.series("above").unwrap().len(), 3);
    // 40 samples in batches of 7 (five of 7, one of 5), with sample weights.
    let logs = m.evaluate_weighted(&x, &y, Some(&w), 7, vec![]).unwrap();
    let (plain, weighted, above) = by_hand(&mut m, &x, &y, &w);
    let got = (logs.get("Mape").unwrap(), logs.get("weighted_Mape").unwrap(), logs.get("above").unwrap());
    assert!((got.0 - plain).abs() < 1e-3 * plain, "{got:?} vs {plain}");
    assert!((got.1 - weighted).abs() < 1e-3 * weighted, "{got:?} vs {weighted}");
    assert_eq!(got.2, above);
    assert!((plain - weighted).abs() > 1e-2, "the weights must change the value: {plain} vs {weighted}");
    // One batch gives the same values.
    let one = m.evaluate_weighted(&x, &y, Some(&w), 40, vec![]).unwrap();
    assert!((one.get("weighted_Mape").unwrap() - got.1).abs() < 1e-3 * weighted);
}

#[test]
fn custom_metrics_save_and_load_through_the_registry() {
    let (x, y) = data();
    let mut m = model();
    m.compile(Optimizer::sgd(0.05), Loss::MeanSquaredError, metrics()).unwrap();
    m.fit(&x, &y, cfg(None)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let err = load_model(&path, Device::Cpu).unwrap_err();
    assert!(matches!(&err, Error::UnknownCustom { what: "metric", name, .. } if name == "Mape"), "{err}");
    assert!(err.to_string().contains("register_metric::<YourType>(\"Mape\")"), "{err}");
    let registry = LayerRegistry::new().with_metric::<Mape>("Mape").with_metric::<Above>("above");
    let mut loaded = load_model_with(&path, Device::Cpu, &registry).unwrap();
    assert_eq!(loaded.compiled().unwrap().2, m.compiled().unwrap().2);
    let (a, b) = (m.evaluate(&x, &y, 9).unwrap(), loaded.evaluate(&x, &y, 9).unwrap());
    for key in ["Mape", "above", "weighted_Mape"] {
        assert_eq!(a.get(key), b.get(key), "{key}");
    }
    register_metric::<Mape>("Mape");
    register_metric::<Above>("above");
    assert!(load_model(&path, Device::Cpu).is_ok());
}

#[test]
fn wrong_metric_state_is_a_typed_error() {
    let (x, y) = data();
    let mut m = model();
    m.compile(Optimizer::sgd(0.05), Loss::MeanSquaredError, vec![Metric::custom(BadState).unwrap()]).unwrap();
    let err = m.evaluate(&x, &y, 8).unwrap_err();
    assert!(matches!(&err, Error::CustomFunction { name, .. } if name == "BadState"), "{err}");
    assert!(err.to_string().contains("[2]") && err.to_string().contains("[1]"), "{err}");
}
