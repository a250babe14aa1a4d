//! fit / evaluate / predict mechanics on small synthetic tensors.
use std::cell::RefCell;
use std::rc::Rc;

use tch::{Device, Kind, Tensor};
use tch_keras::{
    to_categorical, Activation, BatchLogs, Callback, Dense, Error, FitConfig, Logs, Loss, Metric, Optimizer,
    Sequential, Verbosity,
};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// Two well separated Gaussian blobs per class, 3 classes, 8 features, drawn from a generator
/// of the test's own (LibTorch's process-wide one is reseeded by the tests running alongside).
fn blobs(n: i64, seed: u64) -> (Tensor, Tensor) {
    let mut rng = Rng::new(seed);
    let labels = rng.randint(3, &[n]);
    let centers = rng.randn(&[3, 8]) * 3.0;
    let x = centers.index_select(0, &labels) + rng.randn(&[n, 8]);
    (x, labels)
}

fn classifier(metric: &str) -> Sequential {
    let mut m = Sequential::new()
        .add(Dense::new(16).activation(Activation::Relu))
        .add(Dense::new(3).activation(Activation::Softmax))
        .seed(1);
    m.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec![metric.parse().unwrap()]).unwrap();
    m
}

fn quiet<'a>() -> FitConfig<'a> {
    FitConfig { verbose: Verbosity::Silent, batch_size: 16, ..Default::default() }
}

#[test]
fn history_has_every_key_for_every_epoch() {
    let (x, labels) = blobs(200, 0);
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = classifier("acc");
    let (vx, vy) = (x.narrow(0, 0, 50), y.narrow(0, 0, 50));
    let h = m.fit(&x, &y, FitConfig { epochs: 4, validation_data: Some((&vx, &vy)), ..quiet() }).unwrap();
    assert_eq!(h.keys(), ["loss", "acc", "val_loss", "val_acc"]);
    assert_eq!(h.epochs, [0, 1, 2, 3]);
    for k in h.keys() {
        assert_eq!(h.series(&k).unwrap().len(), 4, "{k}");
    }
    let loss = h.series("loss").unwrap();
    assert!(loss[3] < loss[0], "loss did not fall: {loss:?}");
    assert!(h.series("acc").unwrap()[3] > 0.9);
    // Keras 3: "accuracy" logs under "accuracy".
    let mut m = classifier("accuracy");
    let h = m.fit(&x, &y, FitConfig { epochs: 1, ..quiet() }).unwrap();
    assert_eq!(h.keys(), ["loss", "accuracy"]);
}

type Events = Rc<RefCell<Vec<String>>>;

struct Recorder(Events);

impl Callback for Recorder {
    fn set_params(&mut self, p: &tch_keras::TrainParams) {
        self.0.borrow_mut().push(format!("params {} {:?}", p.epochs, p.steps));
    }
    fn on_train_begin(&mut self, _: &mut Sequential) -> tch_keras::Result<()> {
        self.0.borrow_mut().push("train_begin".into());
        Ok(())
    }
    fn on_train_end(&mut self, _: &mut Sequential, _: &Logs) -> tch_keras::Result<()> {
        self.0.borrow_mut().push("train_end".into());
        Ok(())
    }
    fn on_epoch_begin(&mut self, _: &mut Sequential, e: usize) -> tch_keras::Result<()> {
        self.0.borrow_mut().push(format!("epoch_begin {e}"));
        Ok(())
    }
    fn on_epoch_end(&mut self, _: &mut Sequential, e: usize, logs: &mut Logs) -> tch_keras::Result<()> {
        let keys: Vec<&str> = logs.keys().collect();
        self.0.borrow_mut().push(format!("epoch_end {e} {}", keys.join(",")));
        Ok(())
    }
    fn on_train_batch_begin(&mut self, _: &mut Sequential, s: usize) -> tch_keras::Result<()> {
        self.0.borrow_mut().push(format!("batch_begin {s}"));
        Ok(())
    }
    fn on_train_batch_end(&mut self, _: &mut Sequential, s: usize, logs: &BatchLogs<'_>) -> tch_keras::Result<()> {
        self.0.borrow_mut().push(format!("batch_end {s} {}", logs.samples()));
        Ok(())
    }
    fn on_test_begin(&mut self, _: &mut Sequential) -> tch_keras::Result<()> {
        self.0.borrow_mut().push("test_begin".into());
        Ok(())
    }
    fn on_test_end(&mut self, _: &mut Sequential, _: &Logs) -> tch_keras::Result<()> {
        self.0.borrow_mut().push("test_end".into());
        Ok(())
    }
    fn on_predict_begin(&mut self, _: &mut Sequential) -> tch_keras::Result<()> {
        self.0.borrow_mut().push("predict_begin".into());
        Ok(())
    }
    fn on_predict_end(&mut self, _: &mut Sequential) -> tch_keras::Result<()> {
        self.0.borrow_mut().push("predict_end".into());
        Ok(())
    }
}

#[test]
fn callbacks_see_hooks_in_the_documented_order() {
    let (x, labels) = blobs(20, 1);
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = classifier("acc");
    let events: Events = Default::default();
    let mut rec = Recorder(events.clone());
    let (vx, vy) = (x.narrow(0, 0, 4), y.narrow(0, 0, 4));
    m.fit(
        &x,
        &y,
        FitConfig { epochs: 2, batch_size: 8, validation_data: Some((&vx, &vy)), callbacks: vec![&mut rec], ..quiet() },
    )
    .unwrap();
    let mut expected = vec!["params 2 Some(3)".to_string(), "train_begin".into()];
    for e in 0..2 {
        expected.push(format!("epoch_begin {e}"));
        for (s, seen) in [(0, 8), (1, 16), (2, 20)] {
            expected.push(format!("batch_begin {s}"));
            expected.push(format!("batch_end {s} {seen}"));
        }
        expected.push("test_begin".into());
        expected.push("test_end".into());
        expected.push(format!("epoch_end {e} loss,acc,val_loss,val_acc"));
    }
    expected.push("train_end".into());
    assert_eq!(*events.borrow(), expected);

    events.borrow_mut().clear();
    let _ = m.predict_with(&x, 8, vec![&mut rec]).unwrap();
    m.evaluate_with(&x, &y, 8, vec![&mut rec]).unwrap();
    assert_eq!(*events.borrow(), ["predict_begin", "predict_end", "test_begin", "test_end"]);
}

struct StopAfter(usize);

impl Callback for StopAfter {
    fn on_epoch_end(&mut self, model: &mut Sequential, epoch: usize, _: &mut Logs) -> tch_keras::Result<()> {
        if epoch + 1 == self.0 {
            model.stop_training = true;
        }
        Ok(())
    }
}

#[test]
fn stop_training_ends_after_the_epoch() {
    let (x, labels) = blobs(64, 2);
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = classifier("acc");
    let mut stop = StopAfter(2);
    let h = m.fit(&x, &y, FitConfig { epochs: 10, callbacks: vec![&mut stop], ..quiet() }).unwrap();
    assert_eq!(h.epochs, [0, 1]);
    assert_eq!(m.iterations(), 2 * 4);
}

#[test]
fn second_fit_continues_from_trained_weights_with_clean_callbacks() {
    let (x, labels) = blobs(128, 3);
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = classifier("acc");
    let first = m.fit(&x, &y, FitConfig { epochs: 3, ..quiet() }).unwrap();
    let before = m.evaluate(&x, &y, 64).unwrap().idx("loss");
    let events: Events = Default::default();
    let mut rec = Recorder(events.clone());
    let second = m.fit(&x, &y, FitConfig { epochs: 1, callbacks: vec![&mut rec], ..quiet() }).unwrap();
    // The new History holds only the new epoch, and it starts from the trained weights.
    assert_eq!(second.epochs, [0]);
    assert!(second.series("loss").unwrap()[0] < first.series("loss").unwrap()[0]);
    assert!(second.series("loss").unwrap()[0] < 2.0 * before + 0.05);
    assert_eq!(events.borrow().iter().filter(|e| e.starts_with("epoch_end")).count(), 1);
    assert_eq!(m.iterations(), 4 * 8);
}

trait Get {
    fn idx(&self, k: &str) -> f64;
}
impl Get for Logs {
    fn idx(&self, k: &str) -> f64 {
        self.get(k).unwrap_or_else(|| panic!("no {k} in {self}"))
    }
}

#[test]
fn validation_split_holds_out_the_last_fraction() {
    let (x, labels) = blobs(100, 4);
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = classifier("acc");
    let h = m.fit(&x, &y, FitConfig { epochs: 1, validation_split: 0.2, ..quiet() }).unwrap();
    // 80 training samples: 5 steps of 16.
    assert_eq!(m.iterations(), 5);
    let held_out = m.evaluate(&x.narrow(0, 80, 20), &y.narrow(0, 80, 20), 7).unwrap();
    let first = m.evaluate(&x.narrow(0, 0, 20), &y.narrow(0, 0, 20), 7).unwrap();
    let val_loss = h.series("val_loss").unwrap()[0];
    assert!((val_loss - held_out.idx("loss")).abs() < 1e-5, "{val_loss} vs {}", held_out.idx("loss"));
    assert!((val_loss - first.idx("loss")).abs() > 1e-4);
}

#[test]
fn predict_rows_of_a_softmax_model_sum_to_one() {
    let (x, _) = blobs(37, 5);
    let mut m = classifier("acc");
    m.build_for(&[8]).unwrap();
    let p = m.predict(&x, 10).unwrap();
    assert_eq!(p.size(), [37, 3]);
    let sums = p.sum_dim_intlist(1, false, Kind::Float);
    assert!((sums - 1.0).abs().max().double_value(&[]) < 1e-5);
    assert!(p.min().double_value(&[]) >= 0.0);
}

#[test]
fn evaluate_equals_a_hand_computation() {
    let mut m = Sequential::new().input_shape([2]).add(Dense::new(2).activation(Activation::Softmax)).seed(7);
    m.compile(Optimizer::sgd(0.1), Loss::CategoricalCrossentropy, vec![Metric::accuracy(), Metric::mae()]).unwrap();
    m.build().unwrap();
    let x = Tensor::from_slice(&[1.0f32, 2.0, -1.0, 0.5, 0.0, -3.0]).reshape([3, 2]);
    let y = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 0.0, 1.0]).reshape([3, 2]);
    let vars = m.variables().unwrap();
    let (b, w) = (&vars[0].1, &vars[1].1);
    let p = Vec::<f32>::try_from(x.matmul(&w.tr()).f_add(b).unwrap().softmax(-1, Kind::Float).reshape([-1])).unwrap();
    let yv = [1.0f32, 0.0, 0.0, 1.0, 0.0, 1.0];
    let (mut loss, mut acc, mut mae) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..3 {
        let (p0, p1) = (p[2 * i] as f64, p[2 * i + 1] as f64);
        let (y0, y1) = (yv[2 * i] as f64, yv[2 * i + 1] as f64);
        loss -= y0 * p0.ln() + y1 * p1.ln();
        acc += f64::from(((p1 > p0) as u8 as f64 - y1).abs() < 0.5);
        mae += ((p0 - y0).abs() + (p1 - y1).abs()) / 2.0;
    }
    // Batches of 2 and 1: means weighted by batch size equal the full-data means.
    let logs = m.evaluate(&x, &y, 2).unwrap();
    assert!((logs.idx("loss") - loss / 3.0).abs() < 1e-5, "{logs} vs {}", loss / 3.0);
    assert!((logs.idx("accuracy") - acc / 3.0).abs() < 1e-6);
    assert!((logs.idx("mae") - mae / 3.0).abs() < 1e-5);
}

#[test]
fn regression_with_mse_and_mae_learns() {
    let x = Rng::new(0).rand(&[256, 3]);
    let y = (x.matmul(&Tensor::from_slice(&[1.0f32, -2.0, 0.5]).reshape([3, 1])) + 0.3).reshape([256]);
    let mut m = Sequential::new().add(Dense::new(8).activation(Activation::Tanh)).add(Dense::new(1));
    m.compile(Optimizer::adam(0.01), "mse".parse().unwrap(), vec!["mae".parse().unwrap()]).unwrap();
    let h = m.fit(&x, &y, FitConfig { epochs: 30, ..quiet() }).unwrap();
    let mae = h.series("mae").unwrap();
    assert!(mae[29] < 0.5 * mae[0], "{mae:?}");
}

#[test]
fn every_optimizer_reduces_the_loss() {
    let (x, labels) = blobs(128, 6);
    for opt in [
        Optimizer::adam(0.01),
        {
            let mut amsgrad = Optimizer::adam(0.01);
            if let Optimizer::Adam { amsgrad: on, .. } = &mut amsgrad {
                *on = true;
            }
            amsgrad
        },
        Optimizer::adamw(0.01),
        Optimizer::sgd(0.1),
        Optimizer::sgd_momentum(0.05, 0.9, true),
        Optimizer::sgd_momentum(0.05, 0.9, false),
        Optimizer::rmsprop(0.01),
        {
            let mut centered = Optimizer::rmsprop(0.01);
            if let Optimizer::RmsProp { momentum, centered: on, .. } = &mut centered {
                (*momentum, *on) = (0.5, true);
            }
            centered
        },
        Optimizer::adagrad(0.1),
    ] {
        let mut m = Sequential::new()
            .add(Dense::new(16).activation(Activation::Relu))
            .add(Dense::new(3).activation(Activation::Softmax));
        m.compile(opt.clone(), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
        let h = m.fit(&x, &labels, FitConfig { epochs: 5, ..quiet() }).unwrap();
        let loss = h.series("loss").unwrap();
        assert!(loss[4] < 0.7 * loss[0], "{opt:?}: {loss:?}");
    }
}

#[test]
fn adam_matches_keras_update_rule() {
    // One step of Adam on f(w) = w (gradient 1): Keras moves w by lr * 1 / (1 + eps) on the
    // first step, whatever the betas.
    let mut m = Sequential::new().input_shape([1]).add(Dense::new(1).use_bias(false));
    m.compile(Optimizer::adam(0.1), Loss::MeanAbsoluteError, vec![]).unwrap();
    m.build().unwrap();
    let w0 = m.variables().unwrap()[0].1.double_value(&[0, 0]);
    let x = Tensor::from_slice(&[1.0f32]).reshape([1, 1]);
    let y = Tensor::from_slice(&[-100.0f32]).reshape([1, 1]);
    m.fit(&x, &y, FitConfig { epochs: 1, batch_size: 1, ..quiet() }).unwrap();
    let w1 = m.variables().unwrap()[0].1.double_value(&[0, 0]);
    assert!((w0 - w1 - 0.1 / (1.0 + 1e-7)).abs() < 1e-6, "{w0} -> {w1}");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (x, labels) = blobs(32, 7);
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = Sequential::new().add(Dense::new(3).activation(Activation::Softmax));
    let e = m.fit(&x, &y, quiet()).unwrap_err();
    assert!(matches!(e, Error::NotCompiled { .. }), "{e}");
    assert!(e.to_string().contains("compile"));

    let mut m = classifier("acc");
    let e = m.fit(&x, &y, FitConfig { batch_size: 0, ..quiet() }).unwrap_err();
    assert!(e.to_string().contains("batch_size"), "{e}");
    let empty = Tensor::zeros([0, 8], (Kind::Float, Device::Cpu));
    let e = m.fit(&empty, &empty, quiet()).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = m.fit(&x, &y.narrow(0, 0, 10), quiet()).unwrap_err();
    assert!(e.to_string().contains("32 samples") && e.to_string().contains("(10, 3)"), "{e}");
    let e = m.fit(&x, &labels, quiet()).unwrap_err();
    assert!(matches!(e, Error::Targets { .. }), "{e}");
    assert!(
        e.to_string().contains("sparse_categorical_crossentropy") && e.to_string().contains("to_categorical"),
        "{e}"
    );
    let e = m.fit(&x, &to_categorical(&labels, 4).unwrap(), quiet()).unwrap_err();
    assert!(e.to_string().contains("(None, 3)"), "{e}");

    // Feature shape mismatch once the model is built.
    m.fit(&x, &y, FitConfig { epochs: 1, ..quiet() }).unwrap();
    let e = m.fit(&x.narrow(1, 0, 5), &y, quiet()).unwrap_err();
    assert!(matches!(e, Error::DataShape { .. }), "{e}");
    assert!(e.to_string().contains("(None, 8)") && e.to_string().contains("(32, 5)"), "{e}");
    let e = m.predict(&x, 0).unwrap_err();
    assert!(e.to_string().contains("batch_size"), "{e}");

    let mut sparse = Sequential::new().add(Dense::new(3).activation(Activation::Softmax));
    sparse.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![]).unwrap();
    let e = sparse.fit(&x, &(labels + 5), quiet()).unwrap_err();
    assert!(e.to_string().contains("3 outputs"), "{e}");
    let e = Sequential::new().compile(Optimizer::adam(-1.0), Loss::MeanSquaredError, vec![]).unwrap_err();
    assert!(e.to_string().contains("learning_rate"), "{e}");
    let e = classifier("acc").evaluate(&x, &y, 8).unwrap_err();
    assert!(matches!(e, Error::NotBuilt { .. }), "{e}");
}

#[test]
fn nan_labels_complex_data_and_sparse_loss_on_images_are_typed_errors() {
    let (x, labels) = blobs(32, 7);
    let sparse = || {
        let mut m = Sequential::new().add(Dense::new(3).activation(Activation::Softmax));
        m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![]).unwrap();
        m
    };
    // NaN labels passed the range check (every comparison with NaN is false) and reached
    // LibTorch as the class id i64::MIN.
    let nan_labels = labels.to_kind(Kind::Float).index_fill(0, &Tensor::from_slice(&[5i64]), f64::NAN);
    let e = sparse().fit(&x, &nan_labels, quiet()).unwrap_err();
    assert!(matches!(e, Error::Targets { .. }) && e.to_string().contains("NaN"), "{e}");
    assert!(e.to_string().contains("[0, 3)"), "{e}");
    let e = sparse().fit(&x, &(labels.to_kind(Kind::Float) - f64::INFINITY), quiet()).unwrap_err();
    assert!(e.to_string().contains("[0, 3)"), "{e}");
    // Complex targets or inputs: refused, not cut to their real part or sent to LibTorch.
    let e = sparse().fit(&x, &labels.to_kind(Kind::ComplexFloat), quiet()).unwrap_err();
    assert!(matches!(e, Error::Targets { .. }) && e.to_string().contains("complex"), "{e}");
    let e = classifier("acc").fit(&x.to_kind(Kind::ComplexFloat), &to_categorical(&labels, 3).unwrap(), quiet());
    let e = e.unwrap_err();
    assert!(matches!(e, Error::DataShape { .. }) && e.to_string().contains("real"), "{e}");
    // Complex sample weights, weights, features and class-weight targets were cut to their
    // real part with only a LibTorch warning.
    let complex_w = Tensor::ones([32], (Kind::ComplexFloat, Device::Cpu));
    let e = sparse().fit(&x, &labels, FitConfig { sample_weight: Some(&complex_w), ..quiet() }).unwrap_err();
    assert!(e.to_string().contains("sample_weight") && e.to_string().contains("ComplexFloat"), "{e}");
    let mut m = sparse();
    m.fit(&x, &labels, FitConfig { epochs: 1, ..quiet() }).unwrap();
    let w: Vec<Tensor> = m.get_weights().unwrap().iter().map(|t| t.to_kind(Kind::ComplexFloat)).collect();
    let e = m.set_weights(&w).unwrap_err();
    assert!(e.to_string().contains("complex values"), "{e}");
    let e = tch_keras::data::Standardizer::fit(&x.to_kind(Kind::ComplexFloat)).unwrap_err();
    assert!(e.to_string().contains("ComplexFloat"), "{e}");
    let e = tch_keras::class_weight_to_sample_weight(&labels.to_kind(Kind::ComplexFloat), &[(0, 2.0)]).unwrap_err();
    assert!(e.to_string().contains("real targets"), "{e}");
    // The sparse loss on per-pixel outputs (None, 3, 4, 4) failed inside LibTorch.
    let mut conv = Sequential::new().input_shape([1, 4, 4]).add(tch_keras::Conv2D::new(3, 1));
    conv.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![]).unwrap();
    let images = Tensor::zeros([32, 1, 4, 4], (Kind::Float, Device::Cpu));
    let e = conv.fit(&images, &labels, quiet()).unwrap_err();
    assert!(e.to_string().contains("(None, 3, 4, 4)") && e.to_string().contains("Flatten"), "{e}");
}
