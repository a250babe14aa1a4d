//! `train_on_batch`, `test_on_batch` and `predict_on_batch`: a loop of one's own.
//!
//! Keras numbers come from tests/reference/keras_on_batch.py (Keras 3, torch backend).
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    to_categorical, Activation, Dense, Error, ExponentialDecay, FitConfig, Loss, Metric, Optimizer, Sequential,
    Verbosity,
};

const X: [f32; 24] = [
    0.5, -1.0, 2.0, 0.1, 1.5, 0.2, -0.3, 0.7, -0.4, 0.9, 1.1, -1.2, 0.3, 0.3, 0.3, 0.3, 2.0, -0.5, 0.0, 1.0, -1.0,
    -1.0, 0.5, 0.25,
];
const Y: [f32; 6] = [1.0, 0.0, 2.0, -1.0, 0.5, 1.5];
const W: [f32; 6] = [1.0, 0.0, 2.0, 0.5, 3.0, 1.0];

fn set(model: &Sequential, name: &str, values: &[f32]) {
    let (_, v) = model.variables().unwrap().iter().find(|(n, _)| n == name).unwrap();
    let t = Tensor::from_slice(values).view(v.size().as_slice());
    tch::no_grad(|| v.shallow_clone().copy_(&t));
}

fn values(model: &Sequential, name: &str) -> Vec<f32> {
    let (_, v) = model.variables().unwrap().iter().find(|(n, _)| n == name).unwrap();
    Vec::<f32>::try_from(v.flatten(0, -1)).unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-5 * want.abs().max(1.0), "{what}: got {got}, Keras {want}");
}

fn regression(optimizer: Optimizer) -> Sequential {
    let mut m = Sequential::new().device(Device::Cpu).input_shape([4]).add(Dense::new(1));
    m.compile(optimizer, Loss::MeanSquaredError, vec![Metric::mae()]).unwrap();
    set(&m, "layers.0.weight", &[0.1, -0.2, 0.3, 0.05]);
    set(&m, "layers.0.bias", &[0.1]);
    m
}

fn data() -> (Tensor, Tensor, Tensor) {
    (Tensor::from_slice(&X).view([6, 4]), Tensor::from_slice(&Y).view([6, 1]), Tensor::from_slice(&W))
}

#[test]
fn on_batch_calls_match_keras() {
    let (x, y, w) = data();
    let mut m = regression(Optimizer::adam(0.05));
    // keras_on_batch.py: first, second, weighted (each call's own batch: metrics reset).
    let first = m.train_on_batch(&x.narrow(0, 0, 4), &y.narrow(0, 0, 4)).unwrap();
    close(first["loss"], 1.2072937488555908, "first loss");
    close(first["mae"], 0.8062499761581421, "first mae");
    let second = m.train_on_batch(&x.narrow(0, 4, 2), &y.narrow(0, 4, 2)).unwrap();
    close(second["loss"], 0.5931258797645569, "second loss");
    close(second["mae"], 0.625, "second mae");
    let weighted = m.train_on_batch_weighted(&x, &y, Some(&w)).unwrap();
    close(weighted["loss"], 1.0591156482696533, "weighted loss");
    close(weighted["mae"], 0.6868662238121033, "weighted mae: plain metrics ignore weights");
    let kernel = [-0.046744029968976974, -0.16934359073638916, 0.44641461968421936, -0.0507451668381691];
    for (g, k) in values(&m, "layers.0.weight").iter().zip(kernel) {
        close(*g as f64, k, "kernel after three steps");
    }
    close(values(&m, "layers.0.bias")[0] as f64, 0.2401232123374939, "bias after three steps");
    assert_eq!(m.epochs_done(), 0, "train_on_batch counts no epochs");
    // test, test_weighted, predict.
    let test = m.test_on_batch(&x, &y).unwrap();
    close(test["loss"], 0.7244837880134583, "test loss");
    close(test["mae"], 0.6825831532478333, "test mae");
    let test_w = m.test_on_batch_weighted(&x, &y, Some(&w)).unwrap();
    close(test_w["loss"], 0.9187753796577454, "weighted test loss");
    let p = Vec::<f32>::try_from(m.predict_on_batch(&x.narrow(0, 0, 3)).unwrap().flatten(0, -1)).unwrap();
    for (g, k) in p.iter().zip([1.2738494873046875, -0.033307552337646484, 0.6583619117736816]) {
        close(*g as f64, k, "predict_on_batch");
    }
}

#[test]
fn train_on_batch_is_one_fit_step() {
    let (x, y, w) = data();
    let (mut a, mut b) = (regression(Optimizer::sgd(0.1)), regression(Optimizer::sgd(0.1)));
    let logs = a.train_on_batch_weighted(&x, &y, Some(&w)).unwrap();
    let config = FitConfig {
        batch_size: 6,
        shuffle: false,
        verbose: Verbosity::Silent,
        sample_weight: Some(&w),
        ..Default::default()
    };
    let history = b.fit(&x, &y, config).unwrap();
    assert_eq!(values(&a, "layers.0.weight"), values(&b, "layers.0.weight"));
    assert_eq!(values(&a, "layers.0.bias"), values(&b, "layers.0.bias"));
    assert_eq!(logs["loss"], history.series("loss").unwrap()[0]);
    assert_eq!(logs["mae"], history.series("mae").unwrap()[0]);
}

#[test]
fn schedules_advance_with_each_call() {
    let (x, y, _) = data();
    let mut m = regression(Optimizer::sgd(ExponentialDecay::new(0.1, 1, 0.5)));
    for _ in 0..3 {
        m.train_on_batch(&x, &y).unwrap();
    }
    let lr = m.learning_rate().unwrap();
    assert!((lr - 0.1 * 0.5f64.powi(3)).abs() < 1e-9, "after three updates the schedule is at step 3, got {lr}");
}

#[test]
fn a_loop_of_train_on_batch_learns_mnist() {
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let x = ds.train_images.narrow(0, 0, 6400);
    let y = ds.train_labels.narrow(0, 0, 6400);
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .seed(3)
        .add(Dense::new(32).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.001), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    let mut last = None;
    for epoch in 0..3 {
        for i in 0..100 {
            let logs = m.train_on_batch(&x.narrow(0, i * 64, 64), &y.narrow(0, i * 64, 64)).unwrap();
            assert!(logs["loss"].is_finite(), "epoch {epoch} batch {i}: {logs}");
            last = Some(logs);
        }
    }
    let test = m.test_on_batch(&ds.test_images.narrow(0, 0, 2000), &ds.test_labels.narrow(0, 0, 2000)).unwrap();
    assert!(test["accuracy"] > 0.85, "held-out accuracy after 300 steps: {test}, last batch {:?}", last);
    let probs = m.predict_on_batch(&ds.test_images.narrow(0, 0, 5)).unwrap();
    assert_eq!(probs.size(), [5, 10]);
    let sums = probs.sum_dim_intlist(1, false, Kind::Float);
    assert!(sums.allclose(&Tensor::ones([5], (Kind::Float, Device::Cpu)), 1e-5, 1e-5, false));
    // One-hot targets go through the same conversion as fit's.
    let y_hot = to_categorical(&y.narrow(0, 0, 64), 10).unwrap();
    let mut c = Sequential::new().device(Device::Cpu).seed(3).add(Dense::new(10).activation(Activation::Softmax));
    c.compile(Optimizer::adam(0.001), Loss::CategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    assert!(c.train_on_batch(&x.narrow(0, 0, 64), &y_hot).unwrap()["loss"].is_finite());
}

#[test]
fn bad_calls_are_typed_errors() {
    let (x, y, w) = data();
    let mut unc = Sequential::new().device(Device::Cpu).input_shape([4]).add(Dense::new(1));
    assert!(matches!(unc.train_on_batch(&x, &y), Err(Error::NotCompiled { .. })));
    let mut m = regression(Optimizer::sgd(0.1));
    let e = m.train_on_batch(&x, &y.narrow(0, 0, 5)).unwrap_err().to_string();
    assert!(e.contains("6 samples") && e.contains("one target per sample"), "{e}");
    let e = m.train_on_batch_weighted(&x, &y, Some(&w.narrow(0, 0, 5))).unwrap_err().to_string();
    assert!(e.contains("one weight per sample"), "{e}");
    let e = m.train_on_batch(&x.narrow(1, 0, 3), &y).unwrap_err().to_string();
    assert!(e.contains("shape"), "{e}");
    let e = m.test_on_batch(&x.narrow(0, 0, 0), &y.narrow(0, 0, 0)).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    let e = m.predict_on_batch(&x.narrow(0, 0, 0)).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    assert_eq!(values(&m, "layers.0.bias"), [0.1], "failed calls leave the weights alone");
}
