//! fit/evaluate/predict options: sample and class weights, validation_freq, steps_per_epoch,
//! test and predict batch hooks with early stops, and frozen layers.
//!
//! Keras numbers come from tests/reference/keras_fit_options.py (Keras 3, torch backend).
use tch::{Device, Kind, Tensor};
use tch_keras::{
    load_model, Activation, BatchLogs, BatchNormalization, Callback, Dense, FitConfig, Logs, Loss, Metric, Optimizer,
    Result, Sequential, Verbosity,
};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

const X: [[f32; 4]; 6] = [
    [0.5, -1.0, 2.0, 0.1],
    [1.5, 0.2, -0.3, 0.7],
    [-0.4, 0.9, 1.1, -1.2],
    [0.3, 0.3, 0.3, 0.3],
    [2.0, -0.5, 0.0, 1.0],
    [-1.0, -1.0, 0.5, 0.25],
];
const Y: [f32; 6] = [1.0, 0.0, 2.0, -1.0, 0.5, 1.5];
const W: [f32; 6] = [1.0, 0.0, 2.0, 0.5, 3.0, 1.0];

fn t2(rows: &[[f32; 4]]) -> Tensor {
    Tensor::from_slice(&rows.concat()).view([rows.len() as i64, 4])
}

/// Sets a variable of the model (PyTorch layout: Dense weights are `[out, in]`).
fn set(model: &Sequential, name: &str, values: &[f32]) {
    let (_, v) = model.variables().unwrap().iter().find(|(n, _)| n == name).unwrap();
    let t = Tensor::from_slice(values).view(v.size().as_slice());
    tch::no_grad(|| v.shallow_clone().copy_(&t));
}

fn values(model: &Sequential, name: &str) -> Vec<f32> {
    let (_, v) = model.variables().unwrap().iter().find(|(n, _)| n == name).unwrap();
    Vec::<f32>::try_from(v.flatten(0, -1)).unwrap()
}

fn close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!((*g as f64 - w).abs() < tol, "{what}: got {got:?}, Keras {want:?}");
    }
}

fn regression() -> Sequential {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(1));
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![Metric::mae(), Metric::mse().weighted()]).unwrap();
    set(&m, "layers.0.weight", &[0.1, -0.2, 0.3, 0.05]);
    set(&m, "layers.0.bias", &[0.1]);
    m
}

fn silent<'a>() -> FitConfig<'a> {
    FitConfig { verbose: Verbosity::Silent, shuffle: false, ..Default::default() }
}

#[test]
fn weighted_fit_step_matches_keras() {
    let (x, y, w) = (t2(&X), Tensor::from_slice(&Y).view([6, 1]), Tensor::from_slice(&W));
    let mut m = regression();
    let h = m.fit(&x, &y, FitConfig { batch_size: 6, sample_weight: Some(&w), ..silent() }).unwrap();
    // keras_fit_options.py: weighted_fit_logs, weighted_fit_kernel, weighted_fit_bias.
    assert!((h.series("loss").unwrap()[0] - 1.4731240272521973).abs() < 1e-5);
    assert!((h.series("mae").unwrap()[0] - 0.7354166507720947).abs() < 1e-5, "plain metrics ignore weights");
    assert!((h.series("mse").unwrap()[0] - 1.1784992218017578).abs() < 1e-5, "weighted metric");
    let kernel = [0.017624998465180397, -0.1367916762828827, 0.4517500102519989, -0.08924585580825806];
    close(&values(&m, "layers.0.weight"), &kernel, 1e-5, "kernel");
    close(&values(&m, "layers.0.bias"), &[0.24816666543483734], 1e-5, "bias");
}

#[test]
fn weighted_evaluate_matches_keras() {
    let (x, y, w) = (t2(&X), Tensor::from_slice(&Y).view([6, 1]), Tensor::from_slice(&W));
    let mut m = regression();
    // keras_fit_options.py: weighted_evaluate / unweighted_evaluate (batches of 4 and 2).
    let logs = m.evaluate_weighted(&x, &y, Some(&w), 4, vec![]).unwrap();
    assert!((logs.get("loss").unwrap() - 1.4731240272521973).abs() < 1e-5, "{logs}");
    assert!((logs.get("mae").unwrap() - 0.7354166507720947).abs() < 1e-5, "{logs}");
    assert!((logs.get("mse").unwrap() - 1.1784992218017578).abs() < 1e-5, "{logs}");
    let plain = m.evaluate(&x, &y, 4).unwrap();
    assert!((plain.get("loss").unwrap() - 1.0209301710128784).abs() < 1e-5, "{plain}");
    assert!((plain.get("mse").unwrap() - 1.0209301710128784).abs() < 1e-5, "{plain}");
    assert!(m.evaluate_weighted(&x, &y, Some(&Tensor::ones([5], (Kind::Float, Device::Cpu))), 4, vec![]).is_err());
}

#[test]
fn sample_weights_of_shape_n_by_1_are_taken_as_keras_takes_them() {
    // keras_fit_options.py, section 6: column_weights_fit_logs / _kernel / _evaluate.
    let (x, y, w) = (t2(&X), Tensor::from_slice(&Y).view([6, 1]), Tensor::from_slice(&W).view([6, 1]));
    let mut m = regression();
    let h = m.fit(&x, &y, FitConfig { batch_size: 6, sample_weight: Some(&w), ..silent() }).unwrap();
    assert!((h.series("loss").unwrap()[0] - 1.4731240272521973).abs() < 1e-5);
    assert!((h.series("mse").unwrap()[0] - 1.1784992218017578).abs() < 1e-5);
    let kernel = [0.017624998465180397, -0.1367916762828827, 0.4517500102519989, -0.08924585580825806];
    close(&values(&m, "layers.0.weight"), &kernel, 1e-5, "kernel");
    let logs = regression().evaluate_weighted(&x, &y, Some(&w), 4, vec![]).unwrap();
    assert!((logs["loss"] - 1.4731240272521973).abs() < 1e-5, "{logs}");
    assert!((logs["mse"] - 1.1784992218017578).abs() < 1e-5, "{logs}");
    // Two columns are not one weight per sample.
    let e = regression().evaluate_weighted(&x, &y, Some(&Tensor::ones([6, 2], (Kind::Float, Device::Cpu))), 4, vec![]);
    assert!(e.unwrap_err().to_string().contains("[6] (or [6, 1])"));
}

#[test]
fn class_weight_on_an_imbalanced_set_matches_keras() {
    let xb =
        Tensor::from_slice(&[0.2f32, 1.0, 1.0, -0.5, -0.3, 0.4, 0.8, 0.8, -1.0, 0.1, 0.5, -1.5, 0.0, 0.3, 1.2, 0.6])
            .view([8, 2]);
    let yb = Tensor::from_slice(&[0f32, 0., 0., 0., 0., 0., 1., 1.]).view([8, 1]);
    let mut m = Sequential::new().input_shape([2]).add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile(Optimizer::sgd(0.5), Loss::BinaryCrossentropy, vec![]).unwrap();
    set(&m, "layers.0.weight", &[0.3, -0.4]);
    set(&m, "layers.0.bias", &[0.05]);
    let config = FitConfig { batch_size: 8, class_weight: vec![(0, 1.0), (1, 3.0)], ..silent() };
    let h = m.fit(&xb, &yb, config).unwrap();
    // keras_fit_options.py: class_weight_loss, class_weight_kernel, class_weight_bias.
    assert!((h.series("loss").unwrap()[0] - 1.0739728212356567).abs() < 1e-5);
    close(&values(&m, "layers.0.weight"), &[0.34698110818862915, -0.30021339654922485], 1e-5, "kernel");
    close(&values(&m, "layers.0.bias"), &[0.037656303495168686], 1e-5, "bias");
    let w = Tensor::ones([8], (Kind::Float, Device::Cpu));
    let both = FitConfig { class_weight: vec![(1, 2.0)], sample_weight: Some(&w), ..silent() };
    assert!(m.fit(&xb, &yb, both).is_err(), "Keras refuses class_weight with sample_weight");
}

fn series_close(h: &tch_keras::History, keras: &[(&str, [f64; 2])]) {
    for (key, want) in keras {
        let got = h.series(key).unwrap_or_else(|| panic!("no {key}"));
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 2e-6), "{key}: got {got:?}, Keras {want:?}");
    }
}

#[test]
fn validation_split_with_sample_weights_and_partial_batches_matches_keras() {
    // keras_fit_options.py, section 5: 13 samples, the last 4 held out, batches 4, 4, 1.
    let (x, y) = (vals(&[13, 3], 0.1, 1.0), vals(&[13, 2], 0.5, 1.0));
    let w = Tensor::arange(13, (Kind::Int64, Device::Cpu)).remainder(4).to_kind(Kind::Float) * 0.5;
    let mut m = Sequential::new().input_shape([3]).add(Dense::new(2));
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![Metric::mae(), Metric::mse().weighted()]).unwrap();
    let kernel = Vec::<f32>::try_from(vals(&[3, 2], 0.9, 0.5).tr().flatten(0, -1)).unwrap();
    set(&m, "layers.0.weight", &kernel);
    set(&m, "layers.0.bias", &Vec::<f32>::try_from(vals(&[2], 1.3, 0.1)).unwrap());
    let config = FitConfig { batch_size: 4, epochs: 2, validation_split: 0.3, sample_weight: Some(&w), ..silent() };
    let h = m.fit(&x, &y, config).unwrap();
    series_close(
        &h,
        &[
            ("loss", [0.655067742, 0.570595205]),
            ("mae", [0.676915884, 0.6568169]),
            ("mse", [0.982601643, 0.855892837]),
            ("val_loss", [0.211634859, 0.232407004]),
            ("val_mae", [0.568006873, 0.558598399]),
            ("val_mse", [0.282179803, 0.309875995]),
        ],
    );
    // split_weighted_kernel is (in, out); tch-keras's weight is (out, in).
    let keras_kernel = [0.272347450, 0.268809915, -0.304754525, 0.396960586, 0.0258516241, -0.441364527];
    close(&values(&m, "layers.0.weight"), &keras_kernel, 1e-6, "kernel");
    close(&values(&m, "layers.0.bias"), &[-0.000343333435, -0.0598047562], 1e-6, "bias");
}

#[test]
fn validation_split_with_class_weights_and_evaluate_in_partial_batches_match_keras() {
    // keras_fit_options.py, section 5. Class weights weigh the training part only; validation
    // is unweighted.
    let x = vals(&[13, 3], 0.1, 1.0);
    let w = Tensor::arange(13, (Kind::Int64, Device::Cpu)).remainder(4).to_kind(Kind::Float) * 0.5;
    let yb = vals(&[13, 1], 2.0, 1.0).gt(0.0).to_kind(Kind::Float);
    let mut mb = Sequential::new().input_shape([3]).add(Dense::new(1).activation(Activation::Sigmoid));
    let weighted_accuracy = Metric::new(tch_keras::MetricKind::BinaryAccuracy { threshold: 0.5 }, "weighted_accuracy");
    let metrics = vec![Metric::accuracy(), Metric::auc(), weighted_accuracy.weighted()];
    mb.compile(Optimizer::sgd(0.5), Loss::BinaryCrossentropy, metrics).unwrap();
    set(&mb, "layers.0.weight", &Vec::<f32>::try_from(vals(&[3], 2.1, 0.5)).unwrap());
    set(&mb, "layers.0.bias", &[0.05]);
    let config = FitConfig {
        batch_size: 4,
        epochs: 2,
        validation_split: 0.3,
        class_weight: vec![(0, 1.0), (1, 3.0)],
        ..silent()
    };
    let h = mb.fit(&x, &yb, config).unwrap();
    series_close(
        &h,
        &[
            ("accuracy", [0.555555582, 0.555555582]),
            ("auc", [0.549999952, 0.424999952]),
            ("loss", [1.28921938, 1.32335329]),
            ("weighted_accuracy", [0.647058845, 0.764705896]),
            ("val_accuracy", [0.5, 0.5]),
            ("val_auc", [0.5, 0.5]),
            ("val_loss", [1.01969194, 1.02301621]),
            ("val_weighted_accuracy", [0.5, 0.5]),
        ],
    );
    close(&values(&mb, "layers.0.weight"), &[-0.225626588, -0.579711378, -0.661148727], 1e-6, "kernel");
    close(&values(&mb, "layers.0.bias"), &[1.28697252], 1e-6, "bias");

    // evaluate in batches of 5 (5, 5, 3), without and with sample weights.
    let logs = mb.evaluate(&x, &yb, 5).unwrap();
    let keras =
        [("loss", 1.02721965), ("accuracy", 0.461538464), ("auc", 0.488095254), ("weighted_accuracy", 0.461538464)];
    for (key, want) in keras {
        assert!((logs[key] - want).abs() < 2e-6, "{key}: {logs}");
    }
    let logs = mb.evaluate_weighted(&x, &yb, Some(&w), 5, vec![]).unwrap();
    let keras =
        [("loss", 0.80292809), ("accuracy", 0.461538464), ("auc", 0.488095254), ("weighted_accuracy", 0.388888896)];
    for (key, want) in keras {
        assert!((logs[key] - want).abs() < 2e-6, "{key}: {logs}");
    }
}

/// Data where every sample has the same input: a zero weight removes a sample from the loss.
#[test]
fn zero_weights_remove_samples_from_training() {
    let x = Tensor::ones([8, 1], (Kind::Float, Device::Cpu));
    let y = Tensor::from_slice(&[1f32, 1., 1., 1., 5., 5., 5., 5.]).view([8, 1]);
    let w = Tensor::from_slice(&[1f32, 1., 1., 1., 0., 0., 0., 0.]);
    let mut m = Sequential::new().input_shape([1]).add(Dense::new(1));
    m.compile(Optimizer::adam(0.05), Loss::MeanSquaredError, vec![]).unwrap();
    m.fit(&x, &y, FitConfig { epochs: 300, batch_size: 4, sample_weight: Some(&w), ..silent() }).unwrap();
    let p = m.predict(&x.narrow(0, 0, 1), 1).unwrap().double_value(&[0, 0]);
    assert!((p - 1.0).abs() < 0.1, "prediction {p} should fit only the weighted samples (1)");
}

#[derive(Default)]
struct Recorder {
    events: Vec<String>,
    stop_test_after: Option<usize>,
    stop_predict_after: Option<usize>,
}

impl Callback for Recorder {
    fn on_epoch_end(&mut self, _: &mut Sequential, epoch: usize, logs: &mut Logs) -> Result<()> {
        self.events.push(format!("epoch_end {epoch} {}", logs.keys().collect::<Vec<_>>().join(",")));
        Ok(())
    }
    fn on_train_batch_begin(&mut self, _: &mut Sequential, step: usize) -> Result<()> {
        self.events.push(format!("train_batch {step}"));
        Ok(())
    }
    fn on_test_begin(&mut self, _: &mut Sequential) -> Result<()> {
        self.events.push("test_begin".into());
        Ok(())
    }
    fn on_test_batch_begin(&mut self, _: &mut Sequential, step: usize) -> Result<()> {
        self.events.push(format!("test_batch_begin {step}"));
        Ok(())
    }
    fn on_test_batch_end(&mut self, model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        self.events.push(format!("test_batch_end {step} {}", logs.samples()));
        assert!(logs.logs()?.get("loss").is_some());
        if self.stop_test_after == Some(step) {
            model.stop_evaluating = true;
        }
        Ok(())
    }
    fn on_test_end(&mut self, _: &mut Sequential, _: &Logs) -> Result<()> {
        self.events.push("test_end".into());
        Ok(())
    }
    fn on_predict_begin(&mut self, _: &mut Sequential) -> Result<()> {
        self.events.push("predict_begin".into());
        Ok(())
    }
    fn on_predict_batch_begin(&mut self, _: &mut Sequential, step: usize) -> Result<()> {
        self.events.push(format!("predict_batch_begin {step}"));
        Ok(())
    }
    fn on_predict_batch_end(&mut self, model: &mut Sequential, step: usize, outputs: &Tensor) -> Result<()> {
        self.events.push(format!("predict_batch_end {step} {}", outputs.size()[0]));
        if self.stop_predict_after == Some(step) {
            model.stop_predicting = true;
        }
        Ok(())
    }
    fn on_predict_end(&mut self, _: &mut Sequential) -> Result<()> {
        self.events.push("predict_end".into());
        Ok(())
    }
}

fn data(n: i64) -> (Tensor, Tensor) {
    let x = Tensor::arange(n * 4, (Kind::Float, Device::Cpu)).view([n, 4]) / (n * 4) as f64;
    let y = x.sum_dim_intlist(1, true, Kind::Float);
    (x, y)
}

#[test]
fn evaluate_calls_test_batch_hooks_and_stops_when_asked() {
    let (x, y) = data(10);
    let mut m = regression();
    let mut rec = Recorder { stop_test_after: Some(1), ..Default::default() };
    let stopped = m.evaluate_with(&x, &y, 3, vec![&mut rec]).unwrap();
    assert_eq!(
        rec.events,
        [
            "test_begin",
            "test_batch_begin 0",
            "test_batch_end 0 3",
            "test_batch_begin 1",
            "test_batch_end 1 6",
            "test_end"
        ]
    );
    // The logs cover the six samples evaluated.
    let first_six = m.evaluate(&x.narrow(0, 0, 6), &y.narrow(0, 0, 6), 3).unwrap();
    assert!((stopped.get("loss").unwrap() - first_six.get("loss").unwrap()).abs() < 1e-6);
    let all = m.evaluate(&x, &y, 3).unwrap();
    assert!((all.get("loss").unwrap() - first_six.get("loss").unwrap()).abs() > 1e-6);
}

#[test]
fn predict_calls_batch_hooks_and_stops_when_asked() {
    let (x, _) = data(10);
    let mut m = regression();
    let mut rec = Recorder::default();
    assert_eq!(m.predict_with(&x, 4, vec![&mut rec]).unwrap().size(), [10, 1]);
    assert_eq!(
        rec.events,
        [
            "predict_begin",
            "predict_batch_begin 0",
            "predict_batch_end 0 4",
            "predict_batch_begin 1",
            "predict_batch_end 1 4",
            "predict_batch_begin 2",
            "predict_batch_end 2 2",
            "predict_end"
        ]
    );
    let mut rec = Recorder { stop_predict_after: Some(0), ..Default::default() };
    assert_eq!(m.predict_with(&x, 4, vec![&mut rec]).unwrap().size(), [4, 1]);
    assert_eq!(m.predict(&x, 4).unwrap().size(), [10, 1], "the flag is cleared by the next predict");
}

#[test]
fn validation_freq_validates_every_n_epochs_with_test_batch_hooks() {
    let (x, y) = data(12);
    let (vx, vy) = data(5);
    let mut m = regression();
    let mut rec = Recorder::default();
    let config = FitConfig {
        epochs: 4,
        batch_size: 6,
        validation_data: Some((&vx, &vy)),
        validation_batch_size: Some(3),
        validation_freq: 2,
        callbacks: vec![&mut rec],
        ..silent()
    };
    let h = m.fit(&x, &y, config).unwrap();
    let epoch_ends: Vec<&String> = rec.events.iter().filter(|e| e.starts_with("epoch_end")).collect();
    assert_eq!(
        epoch_ends,
        [
            "epoch_end 0 loss,mae,mse",
            "epoch_end 1 loss,mae,mse,val_loss,val_mae,val_mse",
            "epoch_end 2 loss,mae,mse",
            "epoch_end 3 loss,mae,mse,val_loss,val_mae,val_mse"
        ]
    );
    let second: Vec<&str> = rec
        .events
        .iter()
        .skip_while(|e| *e != "epoch_end 0 loss,mae,mse")
        .skip(1)
        .map(|s| s.as_str())
        .take(9)
        .collect();
    assert_eq!(
        second,
        [
            "train_batch 0",
            "train_batch 1",
            "test_begin",
            "test_batch_begin 0",
            "test_batch_end 0 3",
            "test_batch_begin 1",
            "test_batch_end 1 5",
            "test_end",
            "epoch_end 1 loss,mae,mse,val_loss,val_mae,val_mse"
        ]
    );
    assert_eq!(h.series("val_loss").map(|v| v.len()), Some(2));
    let bad = FitConfig { validation_freq: 0, ..silent() };
    assert!(m.fit(&x, &y, bad).is_err());
}

/// Counts training batches and the samples each epoch saw.
#[derive(Default)]
struct Steps {
    per_epoch: Vec<usize>,
    params: Option<Option<usize>>,
}

impl Callback for Steps {
    fn set_params(&mut self, params: &tch_keras::TrainParams) {
        self.params = Some(params.steps);
    }
    fn on_epoch_begin(&mut self, _: &mut Sequential, _: usize) -> Result<()> {
        self.per_epoch.push(0);
        Ok(())
    }
    fn on_train_batch_begin(&mut self, _: &mut Sequential, _: usize) -> Result<()> {
        *self.per_epoch.last_mut().unwrap() += 1;
        Ok(())
    }
}

#[test]
fn steps_per_epoch_takes_the_next_batches_and_wraps_to_a_new_pass() {
    let (x, y) = data(10); // batches of 4: 4 + 4 + 2 per pass
    let mut m = regression();
    let mut steps = Steps::default();
    let config =
        FitConfig { epochs: 3, batch_size: 4, steps_per_epoch: Some(2), callbacks: vec![&mut steps], ..silent() };
    m.fit(&x, &y, config).unwrap();
    assert_eq!(steps.per_epoch, [2, 2, 2]);
    assert_eq!(steps.params, Some(Some(2)), "the progress bar knows the step count");
    assert_eq!(m.iterations(), 6);

    // Epochs cut one sequence of shuffled passes (4 + 4 + 2 samples each): 3 epochs of 5 steps
    // and 5 epochs of 3 steps both train on passes 0 to 4 in order.
    let mut a = regression();
    let mut b = regression();
    let config = FitConfig { epochs: 3, batch_size: 4, steps_per_epoch: Some(5), shuffle: true, ..silent() };
    a.fit(&x, &y, config).unwrap();
    let config = FitConfig { epochs: 5, batch_size: 4, steps_per_epoch: Some(3), shuffle: true, ..silent() };
    b.fit(&x, &y, config).unwrap();
    // a: 15 steps = passes 0..5 exactly; b: 15 steps too, cut into epochs differently.
    assert_eq!(a.iterations(), 15);
    assert_eq!(b.iterations(), 15);
    assert!(values(&a, "layers.0.weight").iter().zip(values(&b, "layers.0.weight")).all(|(p, q)| (p - q).abs() < 1e-6));
    assert!(m.fit(&x, &y, FitConfig { steps_per_epoch: Some(0), ..silent() }).is_err());
}

fn frozen_model() -> Sequential {
    let mut m = Sequential::new()
        .input_shape([8])
        .add(Dense::new(16).activation(Activation::Relu))
        .add(BatchNormalization::new())
        .add(Dense::new(4));
    m.set_trainable(0, false).unwrap();
    m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    m
}

#[test]
fn fitting_with_no_trainable_weights_says_to_unfreeze_a_layer() {
    // LibTorch's backward refused the empty list of variables ("grad requires non-empty inputs").
    let x = Rng::new(4).randn(&[16, 8]);
    let y = x.narrow(1, 0, 4);
    let mut m = frozen_model();
    for layer in [1, 2] {
        m.set_trainable(layer, false).unwrap();
    }
    let e = m.fit(&x, &y, silent()).unwrap_err();
    assert!(matches!(e, tch_keras::Error::InvalidArgument { .. }), "{e}");
    assert!(e.to_string().contains("no trainable weights") && e.to_string().contains("set_trainable"), "{e}");
    assert_eq!(m.iterations(), 0);
    // Evaluating still works, and unfreezing one layer trains again.
    m.evaluate(&x, &y, 8).unwrap();
    m.set_trainable(2, true).unwrap();
    m.fit(&x, &y, silent()).unwrap();
    assert!(m.iterations() > 0);
}

#[test]
fn summary_counts_frozen_layers_as_keras() {
    let mut m = frozen_model();
    let s = m.summary().unwrap();
    // keras_fit_options.py: frozen_counts.
    assert!(s.contains("Total params: 276\n"), "{s}");
    assert!(s.contains("Trainable params: 100\n"), "{s}");
    assert!(s.contains("Non-trainable params: 176\n"), "{s}");
    assert_eq!(m.is_trainable(0), Some(false));
    assert_eq!(m.is_trainable(2), Some(true));
    assert_eq!(m.is_trainable(3), None);
    assert!(m.set_trainable(3, false).is_err());
}

#[test]
fn frozen_weights_stay_during_fit_while_others_train_and_unfreezing_trains_them() {
    let x = Rng::new(1).randn(&[64, 8]);
    let y = x.narrow(1, 0, 4).sin();
    let mut m = frozen_model();
    let before0 = values(&m, "layers.0.weight");
    let before2 = values(&m, "layers.2.weight");
    let h = m.fit(&x, &y, FitConfig { epochs: 5, batch_size: 16, ..silent() }).unwrap();
    let loss = h.series("loss").unwrap();
    assert!(loss[4] < loss[0], "the rest of the model learns: {loss:?}");
    assert_eq!(values(&m, "layers.0.weight"), before0, "frozen weights changed");
    assert_ne!(values(&m, "layers.2.weight"), before2, "trainable weights did not change");

    // Unfreezing after training keeps every value and trains the layer again.
    let after2 = values(&m, "layers.2.weight");
    let out = m.predict(&x, 64).unwrap();
    m.set_trainable(0, true).unwrap();
    assert_eq!(values(&m, "layers.0.weight"), before0);
    assert_eq!(values(&m, "layers.2.weight"), after2);
    assert!(m.predict(&x, 64).unwrap().allclose(&out, 0.0, 0.0, false));
    assert_eq!(m.iterations(), 0, "the optimizer starts over, as after Keras's recompile");
    m.fit(&x, &y, FitConfig { epochs: 1, batch_size: 16, ..silent() }).unwrap();
    assert_ne!(values(&m, "layers.0.weight"), before0);
}

#[test]
fn unfreezing_from_a_callback_keeps_per_variable_clipping() {
    let x = Rng::new(2).randn(&[32, 8]);
    let y = x.narrow(1, 0, 4).sin() * 10.0;
    let clipped = |m: &mut Sequential| {
        m.compile(Optimizer::sgd(0.1).clipnorm(0.05), Loss::MeanSquaredError, vec![]).unwrap();
    };
    let mut split = frozen_model();
    clipped(&mut split);
    let mut inside = frozen_model();
    inside.variables().unwrap().iter().zip(split.variables().unwrap()).for_each(|((_, a), (_, b))| {
        tch::no_grad(|| a.shallow_clone().copy_(b));
    });
    clipped(&mut inside);
    // Two fits with the layer unfrozen in between...
    split.fit(&x, &y, FitConfig { epochs: 1, batch_size: 8, ..silent() }).unwrap();
    split.set_trainable(0, true).unwrap();
    split.fit(&x, &y, FitConfig { epochs: 2, initial_epoch: 1, batch_size: 8, ..silent() }).unwrap();
    // ...train as one fit that unfreezes it when epoch 1 begins.
    let mut unfreeze = tch_keras::LambdaCallback::new().on_epoch_begin(|m, epoch| {
        if epoch == 1 {
            m.set_trainable(0, true)?;
        }
        Ok(())
    });
    let config = FitConfig { epochs: 2, batch_size: 8, callbacks: vec![&mut unfreeze], ..silent() };
    inside.fit(&x, &y, config).unwrap();
    for name in ["layers.0.weight", "layers.2.weight"] {
        assert_eq!(values(&inside, name), values(&split, name), "{name}");
    }
}

#[test]
fn save_and_load_keep_the_frozen_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frozen.safetensors");
    let x = Rng::new(3).randn(&[32, 8]);
    let y = x.narrow(1, 0, 4).cos();
    let mut m = frozen_model();
    m.fit(&x, &y, FitConfig { epochs: 1, batch_size: 8, ..silent() }).unwrap();
    m.save(&path).unwrap();
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.is_trainable(0), Some(false));
    assert!(loaded.summary().unwrap().contains("Non-trainable params: 176\n"));
    assert!(loaded.predict(&x, 32).unwrap().allclose(&m.predict(&x, 32).unwrap(), 1e-6, 1e-6, false));
    let frozen = values(&loaded, "layers.0.weight");
    loaded.fit(&x, &y, FitConfig { epochs: 1, batch_size: 8, ..silent() }).unwrap();
    assert_eq!(values(&loaded, "layers.0.weight"), frozen);
}

/// Keras's transfer learning: `pop` a trained model's head, `push` a new one, freeze the base.
/// The base keeps its trained weights (BatchNormalization's statistics too) and its frozen flag.
#[test]
fn pop_and_push_replace_a_trained_head_keeping_the_base() {
    let x = Rng::new(5).randn(&[32, 8]);
    let y = x.narrow(1, 0, 4).cos();
    let mut m = frozen_model();
    m.set_trainable(0, true).unwrap();
    m.fit(&x, &y, FitConfig { epochs: 2, batch_size: 8, ..silent() }).unwrap();
    let base: Vec<(String, Vec<f32>)> = ["layers.0.weight", "layers.1.weight", "layers.1.running_mean"]
        .iter()
        .map(|n| (n.to_string(), values(&m, n)))
        .collect();
    m.set_trainable(1, false).unwrap();
    let head = m.pop().expect("a layer to pop");
    assert!(matches!(head, tch_keras::LayerConfig::Dense(_)), "{head:?}");
    assert_eq!(m.layers().len(), 2);
    m.push(Dense::new(2));
    // Rebuilt at once, as Keras's `add` rebuilds: saved and read before any compile or fit.
    let dir = tempfile::tempdir().unwrap();
    m.save_weights(dir.path().join("with_new_head.safetensors")).unwrap();
    assert_eq!(values(&m, "layers.0.weight"), base[0].1);
    m.set_trainable(0, false).unwrap();
    m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    for (name, before) in &base {
        assert_eq!(&values(&m, name), before, "{name} lost its trained value");
    }
    assert_eq!((m.is_trainable(1), m.output_shape().unwrap()), (Some(false), vec![2]));
    let head_before = values(&m, "layers.2.weight");
    m.fit(&x, &y.narrow(1, 0, 2), FitConfig { epochs: 1, batch_size: 8, ..silent() }).unwrap();
    assert_eq!(values(&m, "layers.0.weight"), base[0].1, "the frozen base trained");
    assert_ne!(values(&m, "layers.2.weight"), head_before, "the new head did not train");
    // A popped layer's weights are not handed to a new layer at its place.
    let trained_head = values(&m, "layers.2.weight");
    m.pop();
    m.push(Dense::new(2));
    m.build().unwrap();
    assert_ne!(values(&m, "layers.2.weight"), trained_head);
    assert!(Sequential::new().pop().is_none());
}

#[test]
fn a_frozen_batch_normalization_runs_in_inference_mode() {
    // Every feature in [2, 5): each batch's mean is above 2, so a moving mean that updates
    // leaves 0 after the first step.
    let x = Rng::new(4).rand(&[64, 3]) * 3.0 + 2.0;
    let y = x.sum_dim_intlist(1, true, Kind::Float);
    let run = |freeze: bool| {
        let mut m = Sequential::new().input_shape([3]).add(BatchNormalization::new()).add(Dense::new(1));
        m.set_trainable(0, !freeze).unwrap();
        m.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, vec![]).unwrap();
        m.fit(&x, &y, FitConfig { epochs: 2, batch_size: 16, ..silent() }).unwrap();
        (values(&m, "layers.0.running_mean"), values(&m, "layers.0.weight"))
    };
    let (frozen_mean, frozen_gamma) = run(true);
    assert_eq!(frozen_mean, [0.0; 3], "a frozen BatchNormalization updated its moving mean");
    assert_eq!(frozen_gamma, [1.0; 3], "a frozen BatchNormalization trained its scale");
    let (mean, gamma) = run(false);
    assert!(mean.iter().all(|m| *m > 0.1), "moving mean {mean:?}");
    assert_ne!(gamma, [1.0; 3]);
}

/// An endless stream of weighted batches (no known length).
struct Endless {
    weight: f32,
    opened: usize,
}

impl tch_keras::BatchSource for Endless {
    fn num_batches(&self) -> Option<usize> {
        None
    }
    fn epoch(&mut self, _epoch: usize) -> Result<tch_keras::Batches<'_>> {
        self.opened += 1;
        let weight = self.weight;
        Ok(Box::new((0..).map(move |k| {
            let (x, y) = data(4);
            let x = x + k as f64;
            let y = y + 1.0;
            tch_keras::Batch::new(x, y)?.with_sample_weight(Tensor::full(
                [4],
                weight as f64,
                (Kind::Float, Device::Cpu),
            ))
        })))
    }
}

#[test]
fn steps_per_epoch_bounds_an_endless_source_of_weighted_batches() {
    let mut m = regression();
    let before = values(&m, "layers.0.weight");
    let mut steps = Steps::default();
    let mut source = Endless { weight: 0.0, opened: 0 };
    let config = FitConfig { epochs: 2, steps_per_epoch: Some(3), callbacks: vec![&mut steps], ..silent() };
    let h = m.fit_source(&mut source, config).unwrap();
    assert_eq!(steps.per_epoch, [3, 3]);
    assert_eq!(steps.params, Some(Some(3)));
    // Each epoch opens the pass once and skips the batches earlier epochs took.
    assert_eq!(source.opened, 2);
    // Zero weights: Keras's weighted loss is 0 and nothing moves.
    assert_eq!(h.series("loss").unwrap(), [0.0, 0.0]);
    assert_eq!(values(&m, "layers.0.weight"), before);
    let mut source = Endless { weight: 1.0, opened: 0 };
    let h = m.fit_source(&mut source, FitConfig { steps_per_epoch: Some(2), ..silent() }).unwrap();
    assert!(h.series("loss").unwrap()[0] > 0.0);
    assert_ne!(values(&m, "layers.0.weight"), before);
}

#[test]
fn a_run_resumed_with_steps_per_epoch_takes_the_batches_an_uninterrupted_one_would() {
    let (x, y) = data(10); // 3 batches per pass: epochs of 2 steps straddle passes
    let config = |epochs, initial_epoch| FitConfig {
        epochs,
        initial_epoch,
        batch_size: 4,
        steps_per_epoch: Some(2),
        shuffle: true,
        ..silent()
    };
    let mut whole = regression();
    whole.fit(&x, &y, config(3, 0)).unwrap();
    let mut resumed = regression();
    resumed.fit(&x, &y, config(1, 0)).unwrap();
    resumed.fit(&x, &y, config(3, 1)).unwrap();
    assert_eq!(values(&resumed, "layers.0.weight"), values(&whole, "layers.0.weight"));
    // Starting the second run from the first pass instead gives other weights.
    let mut restarted = regression();
    restarted.fit(&x, &y, config(1, 0)).unwrap();
    restarted.fit(&x, &y, config(2, 0)).unwrap();
    assert_ne!(values(&restarted, "layers.0.weight"), values(&whole, "layers.0.weight"));
}
