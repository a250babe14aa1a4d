//! Callback behaviours that once differed from Keras 3, checked against what Keras does. The
//! expected outcomes come from `tests/reference/keras_callbacks.py` (Keras 3.15.1, torch
//! backend), which drives Keras's callbacks the same way.
use tch::{Kind, Tensor};
use tch_keras::callbacks::{
    CsvLogger, EarlyStopping, Mode, ModelCheckpoint, PathTemplate, ReduceLROnPlateau, TerminateOnNaN,
};
use tch_keras::{
    Activation, AucCurve, AucSummation, Callback, Dense, Error, FitConfig, Logs, Loss, Metric, MetricKind, Optimizer,
    Sequential, Verbosity,
};

fn model() -> Sequential {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(3).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    m.build().unwrap();
    m
}

/// As the reference script: each epoch sets every weight to `epoch + 1`, then `on_epoch_end`
/// with `val_loss = values[epoch]`; another callback may stop training after `external_stop`;
/// `on_train_end` closes. Returns (epochs run, the final weights' common value, stopped epoch).
fn drive(es: &mut EarlyStopping, values: &[f64], external_stop: Option<usize>) -> (usize, f64, Option<usize>) {
    let mut m = model();
    m.stop_training = false;
    es.on_train_begin(&mut m).unwrap();
    let mut ran = 0;
    for (epoch, v) in values.iter().enumerate() {
        let w: Vec<Tensor> = m.get_weights().unwrap().iter().map(|t| t.ones_like() * (epoch as f64 + 1.0)).collect();
        m.set_weights(&w).unwrap();
        let mut logs = Logs::new();
        logs.insert("loss", 1.0);
        logs.insert("val_loss", *v);
        es.on_epoch_end(&mut m, epoch, &mut logs).unwrap();
        ran += 1;
        if external_stop == Some(epoch) {
            m.stop_training = true;
        }
        if m.stop_training {
            break;
        }
    }
    es.on_train_end(&mut m, &Logs::new()).unwrap();
    let values: Vec<f64> = m.get_weights().unwrap().iter().map(|w| w.mean(Kind::Double).double_value(&[])).collect();
    assert!(values.iter().all(|v| *v == values[0]), "all weights come from one epoch: {values:?}");
    (ran, values[0], es.stopped_epoch())
}

#[test]
fn early_stopping_restores_the_best_weights_however_training_ends() {
    let es = || EarlyStopping::new("val_loss", 10).restore_best_weights(true);
    // Keras: (4, {2.0}, 0): every epoch ran, the best epoch's (1) weights are restored.
    assert_eq!(drive(&mut es(), &[1.0, 0.5, 0.7, 0.8], None), (4, 2.0, None));
    // Keras: (3, {2.0}, 2): stopped by itself at epoch 2, restored at the end.
    let mut own = EarlyStopping::new("val_loss", 1).restore_best_weights(true);
    assert_eq!(drive(&mut own, &[1.0, 0.5, 0.7, 0.8], None), (3, 2.0, Some(2)));
    // Keras: (4, {3.0}, 0): another callback stopped training after epoch 3; best was epoch 2.
    assert_eq!(drive(&mut es(), &[1.0, 0.5, 0.4, 0.8, 0.3], Some(3)), (4, 3.0, None));
    // Keras: (5, {4.0}, 0): epochs before start_from_epoch 2 are not candidates.
    let mut late = EarlyStopping::new("val_loss", 10).restore_best_weights(true).start_from_epoch(2);
    assert_eq!(drive(&mut late, &[0.1, 0.2, 0.9, 0.8, 0.85], None), (5, 4.0, None));
    // Without restore_best_weights the last weights stay.
    let mut keep = EarlyStopping::new("val_loss", 10);
    assert_eq!(drive(&mut keep, &[1.0, 0.5, 0.7, 0.8], None).1, 4.0);
}

/// Three clusters of 30 points in 4-D with their labels, drawn from a generator of the test's
/// own: LibTorch's process-wide one is reseeded by the tests that run alongside.
fn blobs() -> (Tensor, Tensor) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    // Box-Muller: a standard normal from two uniforms.
    let mut normal = move || (-2.0 * (1.0 - uniform()).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
    let centers: Vec<f64> = (0..12).map(|_| normal() * 3.0).collect();
    let labels: Vec<i64> = (0..90).map(|i| (i * 7 % 3) as i64).collect();
    let points: Vec<f32> = labels
        .iter()
        .flat_map(|&c| (0..4).map(|d| (centers[c as usize * 4 + d] + normal()) as f32).collect::<Vec<_>>())
        .collect();
    (Tensor::from_slice(&points).view([90, 4]), Tensor::from_slice(&labels))
}

/// Records the weights and the monitored value at each epoch end.
#[derive(Default)]
struct Snapshots {
    epochs: Vec<(f64, Vec<Tensor>)>,
}

impl Callback for Snapshots {
    fn on_epoch_end(&mut self, model: &mut Sequential, _epoch: usize, logs: &mut Logs) -> tch_keras::Result<()> {
        self.epochs.push((logs.get("val_loss").unwrap(), model.get_weights()?));
        Ok(())
    }
}

#[test]
fn a_full_fit_ends_with_the_best_epochs_weights() {
    let (x, y) = blobs();
    // Validation labels unrelated to the inputs: the validation loss rises as the model fits
    // the training data, so the best epoch is an early one.
    let vx = x.narrow(0, 0, 30);
    let vy = (y.narrow(0, 0, 30) + 1).remainder(3);
    let mut m = model();
    let mut es = EarlyStopping::new("val_loss", 100).restore_best_weights(true);
    let mut snaps = Snapshots::default();
    m.fit(
        &x.narrow(0, 30, 60),
        &y.narrow(0, 30, 60),
        FitConfig {
            epochs: 8,
            validation_data: Some((&vx, &vy)),
            verbose: Verbosity::Silent,
            callbacks: vec![&mut snaps, &mut es],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(snaps.epochs.len(), 8, "all epochs ran");
    let best = (0..8).min_by(|&a, &b| snaps.epochs[a].0.total_cmp(&snaps.epochs[b].0)).unwrap();
    assert_eq!(es.best_epoch(), Some(best));
    assert_ne!(best, 7, "the test needs a best epoch other than the last");
    for (got, want) in m.get_weights().unwrap().iter().zip(&snaps.epochs[best].1) {
        assert!(got.equal(want), "weights of epoch {best} restored");
    }
}

#[test]
fn model_checkpoint_saves_every_epoch_when_the_monitor_is_missing() {
    let (x, y) = blobs();
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/w-{{epoch:02d}}.safetensors", dir.path().display());
    let mut m = model();
    let mut ck = ModelCheckpoint::new(&template)
        .unwrap()
        .monitor("val_missing")
        .mode(Mode::Min)
        .save_best_only(true)
        .save_weights_only(true);
    m.fit(&x, &y, FitConfig { epochs: 3, verbose: Verbosity::Silent, callbacks: vec![&mut ck], ..Default::default() })
        .unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    // Keras: ['w-01.weights.h5', 'w-02.weights.h5', 'w-03.weights.h5'] (and a warning).
    assert_eq!(names, ["w-01.safetensors", "w-02.safetensors", "w-03.safetensors"]);
}

/// Records whether `on_train_end` ran.
#[derive(Default)]
struct Ends(bool);

impl Callback for Ends {
    fn on_train_end(&mut self, _model: &mut Sequential, _logs: &Logs) -> tch_keras::Result<()> {
        self.0 = true;
        Ok(())
    }
}

/// 100 samples with a NaN in sample 40, as the reference script's data.
fn with_nan() -> (Tensor, Tensor) {
    let (x, y) = blobs();
    let x = Tensor::cat(&[&x, &x.narrow(0, 0, 10)], 0);
    let y = Tensor::cat(&[&y, &y.narrow(0, 0, 10)], 0);
    let _ = x.get(40).fill_(f64::NAN);
    (x, y)
}

fn config<'a>(callbacks: Vec<&'a mut dyn Callback>) -> FitConfig<'a> {
    FitConfig { epochs: 5, batch_size: 10, shuffle: false, verbose: Verbosity::Silent, callbacks, ..Default::default() }
}

#[test]
fn terminate_on_nan_raises_a_typed_error_when_asked() {
    let (x, y) = with_nan();
    // Keras: RuntimeError "NaN or Inf loss encountered at batch 4", on_train_end not called,
    // 5 iterations.
    let mut m = model();
    let (mut t, mut ends) = (TerminateOnNaN::new().raise_error(true), Ends::default());
    let err = m.fit(&x, &y, config(vec![&mut t, &mut ends])).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 0, batch: 4, loss } if loss.is_nan()), "{err}");
    assert!(err.to_string().contains("NaN or Inf loss encountered at batch 4"), "{err}");
    assert!(!ends.0, "on_train_end is skipped");
    assert_eq!(m.iterations(), 5);
    // Keras: epochs [0], on_train_end called, 5 iterations.
    let mut m = model();
    let (mut t, mut ends) = (TerminateOnNaN::new(), Ends::default());
    let h = m.fit(&x, &y, config(vec![&mut t, &mut ends])).unwrap();
    assert_eq!((h.epochs.as_slice(), ends.0, m.iterations()), (&[0][..], true, 5));
    assert_eq!(t.stopped_at, Some((0, 4)));
}

#[test]
fn auto_mode_maximises_the_metrics_keras_marks_as_going_up() {
    // Keras's Precision, Recall and AUC have `_direction = "up"`; losses and errors go down.
    for key in ["val_precision", "recall", "val_auc", "binary_accuracy", "val_top_k_categorical_accuracy"] {
        assert_eq!(Mode::Auto.resolve(key), Mode::Max, "{key}");
    }
    for key in ["val_loss", "mae", "val_mse"] {
        assert_eq!(Mode::Auto.resolve(key), Mode::Min, "{key}");
    }
}

fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn model_checkpoint_saves_every_n_batches_across_epochs() {
    let (x, y) = blobs();
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/b-{{epoch:02d}}-{{batch:02d}}-{{loss:.2f}}.safetensors", dir.path().display());
    let mut m = model();
    let mut ck = ModelCheckpoint::new(&template).unwrap().save_every_batches(4).save_weights_only(true);
    let config = FitConfig {
        epochs: 3,
        batch_size: 10,
        verbose: Verbosity::Silent,
        callbacks: vec![&mut ck],
        ..Default::default()
    };
    m.fit(&x, &y, config).unwrap();
    // Keras, 9 batches per epoch: b-01-04, b-01-08, b-02-03, b-02-07, b-03-02, b-03-06.
    let names: Vec<String> = file_names(dir.path()).iter().map(|n| n[..7].to_string()).collect();
    assert_eq!(names, ["b-01-04", "b-01-08", "b-02-03", "b-02-07", "b-03-02", "b-03-06"]);
    // The running loss of the epoch so far is in the name.
    assert!(file_names(dir.path()).iter().all(|n| n.ends_with(".safetensors") && n.len() > 20));
    // A frequency of 0 batches is refused when training starts.
    let mut zero = ModelCheckpoint::new(&template).unwrap().save_every_batches(0);
    let config = FitConfig { epochs: 1, verbose: Verbosity::Silent, callbacks: vec![&mut zero], ..Default::default() };
    assert!(m.fit(&x, &y, config).unwrap_err().to_string().contains("save_freq"));
}

#[test]
fn model_checkpoint_initial_threshold_and_best_kept_across_fits() {
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/t-{{epoch:02d}}.safetensors", dir.path().display());
    let mut m = model();
    let mut ck = ModelCheckpoint::new(&template)
        .unwrap()
        .save_best_only(true)
        .save_weights_only(true)
        .mode(Mode::Min)
        .initial_value_threshold(0.6);
    let mut saved = Vec::new();
    for values in [&[0.9, 0.7, 0.5, 0.55, 0.4][..], &[0.45, 0.3]] {
        ck.on_train_begin(&mut m).unwrap();
        for (epoch, v) in values.iter().enumerate() {
            ck.on_epoch_begin(&mut m, epoch).unwrap();
            let mut logs = Logs::new();
            logs.insert("loss", 1.0);
            logs.insert("val_loss", *v);
            ck.on_epoch_end(&mut m, epoch, &mut logs).unwrap();
        }
        saved.push(ck.saved().iter().map(|p| p.file_name().unwrap().to_str().unwrap().to_string()).collect::<Vec<_>>());
    }
    // Keras: fit 1 ['t-03', 't-05']; fit 2 adds only 't-02' (0.45 does not beat fit 1's 0.4).
    assert_eq!(saved[0], ["t-03.safetensors", "t-05.safetensors"]);
    assert_eq!(saved[1], ["t-03.safetensors", "t-05.safetensors", "t-02.safetensors"]);
    assert_eq!(ck.best(), 0.3);
}

#[test]
fn model_checkpoint_keeps_a_nan_first_value_as_its_best() {
    // Keras 3.15.1 starts from no best value: the first epoch is saved even when its value is
    // NaN, and nothing compares better than NaN afterwards ("checkpoint save_best_only,
    // val_loss [nan, 0.9, 0.5] saves: ['n-01.weights.h5'] best: nan").
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/n-{{epoch:02d}}.safetensors", dir.path().display());
    let mut m = model();
    let mut ck = ModelCheckpoint::new(&template).unwrap().save_best_only(true).save_weights_only(true);
    ck.on_train_begin(&mut m).unwrap();
    for (epoch, v) in [f64::NAN, 0.9, 0.5].into_iter().enumerate() {
        ck.on_epoch_begin(&mut m, epoch).unwrap();
        let mut logs = Logs::new();
        logs.insert("loss", 1.0);
        logs.insert("val_loss", v);
        ck.on_epoch_end(&mut m, epoch, &mut logs).unwrap();
    }
    assert_eq!(file_names(dir.path()), ["n-01.safetensors"]);
    assert!(ck.best().is_nan());
}

#[test]
fn early_stopping_that_never_sees_enough_improvement_stops_as_keras_does() {
    // tests/reference/keras_callbacks.py, "Never improving enough" (restore_best_weights on):
    // (epochs run, the restored weights' epoch + 1, stopped epoch; Keras's 0 is None here).
    let es = |patience| EarlyStopping::new("val_loss", patience).restore_best_weights(true);
    // Improvements that never beat the baseline do not reset the wait, but an improving epoch
    // never stops training: "(4, {3.0}, 3)".
    assert_eq!(drive(&mut es(2).baseline(0.5), &[1.0, 0.9, 0.8, 0.85, 0.86, 0.87], None), (4, 3.0, Some(3)));
    // "(2, {1.0}, 1)".
    assert_eq!(drive(&mut es(1).baseline(0.5), &[1.0, 1.1, 1.2], None), (2, 1.0, Some(1)));
    // 0.95 is not 0.05 better than 1.0: "(2, {1.0}, 1)".
    assert_eq!(drive(&mut es(1).min_delta(0.05), &[1.0, 0.95, 0.91, 0.85, 0.84, 0.83], None), (2, 1.0, Some(1)));
    // 0.6 beats 0.5 by more than 0.05, 0.62 does not beat 0.6: "(3, {2.0}, 2)".
    let mut max = es(1).min_delta(0.05).mode(Mode::Max);
    assert_eq!(drive(&mut max, &[0.5, 0.6, 0.62, 0.7, 0.69, 0.68], None), (3, 2.0, Some(2)));
    // Epoch 3 is the first monitored and the best; epoch 4 stops: "(5, {4.0}, 4)".
    assert_eq!(drive(&mut es(0).start_from_epoch(3), &[1.0; 5], None), (5, 4.0, Some(4)));
}

#[test]
fn early_stopping_and_reduce_lr_keep_a_nan_first_value_as_their_best() {
    // Keras 3.15.1: with no best value yet, the first value is an improvement even when it is
    // NaN, and nothing compares better than NaN afterwards. EarlyStopping (patience 2,
    // restore_best_weights): "(3, {1.0}, 2)": stopped at epoch 2 with epoch 0's weights.
    let values = [f64::NAN, 0.9, 0.5, 0.4, 0.3];
    let mut es = EarlyStopping::new("val_loss", 2).restore_best_weights(true);
    assert_eq!(drive(&mut es, &values, None), (3, 1.0, Some(2)));
    assert!(es.best().is_nan());
    // ReduceLROnPlateau(factor 0.5, patience 1) from 0.01: the NaN epoch does not wait, each
    // later one reduces: "[0.01, 0.005, 0.0025, 0.00125, 0.000625]".
    let mut m = model();
    m.set_learning_rate(0.01).unwrap();
    let mut plateau = ReduceLROnPlateau::new("val_loss", 0.5, 1);
    plateau.on_train_begin(&mut m).unwrap();
    let mut rates = Vec::new();
    for (epoch, v) in values.into_iter().enumerate() {
        let mut logs = Logs::new();
        logs.insert("loss", 1.0);
        logs.insert("val_loss", v);
        plateau.on_epoch_end(&mut m, epoch, &mut logs).unwrap();
        rates.push(m.learning_rate().unwrap());
    }
    let keras = [0.01, 0.005, 0.0025, 0.00125, 0.000625];
    assert!(rates.iter().zip(keras).all(|(r, k)| (r - k).abs() < 1e-12), "rates {rates:?}, Keras {keras:?}");
}

/// The direction `Mode::Auto` takes for `monitor` once training starts, seen through
/// EarlyStopping: after a first value of 1.0, does 2.0 count as an improvement?
fn auto_maximises(monitor: &str, metrics: Vec<Metric>) -> bool {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile(Optimizer::sgd(0.01), Loss::BinaryCrossentropy, metrics).unwrap();
    let mut es = EarlyStopping::new(monitor, 0);
    es.on_train_begin(&mut m).unwrap();
    for (epoch, v) in [1.0, 2.0].into_iter().enumerate() {
        let mut logs = Logs::new();
        logs.insert(monitor, v);
        es.on_epoch_end(&mut m, epoch, &mut logs).unwrap();
    }
    es.best() == 2.0
}

#[test]
fn auto_mode_follows_the_compiled_metric_of_that_name() {
    // Keras 3.15.1 (tests/reference/keras_callbacks.py, "auto mode"): the compiled metric's
    // direction decides, whatever its name: AUC "auc_pr" greater, MeanSquaredError "score"
    // less, BinaryAccuracy "hits_loss" greater, Precision "p" greater; loss and val_loss less.
    let metrics = || {
        vec![
            Metric::new(
                MetricKind::Auc {
                    num_thresholds: 200,
                    curve: AucCurve::Pr,
                    summation_method: AucSummation::Interpolation,
                },
                "auc_pr",
            ),
            Metric::new(MetricKind::MeanSquaredError, "score"),
            Metric::new(MetricKind::BinaryAccuracy { threshold: 0.5 }, "hits_loss"),
            Metric::new(MetricKind::Precision { threshold: 0.5 }, "p"),
        ]
    };
    for (monitor, keras_max) in [
        ("val_auc_pr", true),
        ("auc_pr", true),
        ("score", false),
        ("val_hits_loss", true),
        ("val_p", true),
        ("loss", false),
        ("val_loss", false),
    ] {
        assert_eq!(auto_maximises(monitor, metrics()), keras_max, "{monitor}");
    }
    // With metrics ['accuracy', 'mae']: val_accuracy greater, val_mae less. (Keras raises a
    // ValueError for val_acc and val_unknown; here the key's suffix decides: acc up, else down.)
    let metrics = || vec![Metric::accuracy(), Metric::mae()];
    for (monitor, max) in [("val_accuracy", true), ("val_mae", false), ("val_acc", true), ("val_unknown", false)] {
        assert_eq!(auto_maximises(monitor, metrics()), max, "{monitor}");
    }
    let mode = Mode::Auto.resolve_for("val_auc_pr", &metrics());
    assert_eq!(mode, Mode::Min, "no metric named auc_pr: the suffix rule");
    assert_eq!(Mode::Min.resolve_for("val_accuracy", &metrics()), Mode::Min, "an explicit mode stays");
}

#[test]
fn reduce_lr_on_plateau_refuses_a_factor_of_one_or_more() {
    // Keras 3.15.1: factor 1.0 and 1.5 raise "ReduceLROnPlateau does not support a factor >= 1.0";
    // 0.99 and 0.0 are accepted.
    let mut m = model();
    for factor in [1.0, 1.5, f64::NAN] {
        let err = ReduceLROnPlateau::new("loss", factor, 2).on_train_begin(&mut m).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { name: "factor", .. }), "{err}");
        assert!(err.to_string().contains("factor >= 1.0"), "{err}");
    }
    for factor in [0.99, 0.0] {
        ReduceLROnPlateau::new("loss", factor, 2).on_train_begin(&mut m).unwrap();
    }
}

#[test]
fn csv_logger_adds_validation_columns_and_writes_values_as_keras() {
    // Keras 3.15.1 ("csv_logger validation_freq=2"): the first epoch has no val_ keys, so a
    // val_ column follows each key; missing values are NA; floats as Python writes them.
    let keras =
        "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.25,1.0,NA,NA\n1,1e+16,nan,0.5,1e-05\n2,inf,2.5e-07,NA,NA\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    let mut m = model();
    let mut csv = CsvLogger::new(&path);
    csv.on_train_begin(&mut m).unwrap();
    let rows: [&[(&str, f64)]; 3] = [
        &[("loss", 1.0), ("accuracy", 0.25)],
        &[("loss", f64::NAN), ("accuracy", 1e16), ("val_loss", 1e-5), ("val_accuracy", 0.5)],
        &[("loss", 2.5e-7), ("accuracy", f64::INFINITY)],
    ];
    for (epoch, row) in rows.iter().enumerate() {
        let mut logs = Logs::new();
        for (k, v) in *row {
            logs.insert(*k, *v);
        }
        csv.on_epoch_end(&mut m, epoch, &mut logs).unwrap();
    }
    csv.on_train_end(&mut m, &Logs::new()).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), keras);

    // Resumed at epoch 2 after an interruption that wrote epoch 2's row but not its
    // checkpoint: the row is replaced, not repeated.
    let mut csv = CsvLogger::new(&path).resume_at(2);
    csv.on_train_begin(&mut m).unwrap();
    let mut logs = Logs::new();
    logs.insert("loss", 0.5);
    logs.insert("accuracy", 0.75);
    csv.on_epoch_end(&mut m, 2, &mut logs).unwrap();
    csv.on_train_end(&mut m, &Logs::new()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let expected = format!("{}2,0.75,0.5,NA,NA\n", &keras[..keras.find("2,inf").unwrap()]);
    assert_eq!(text, expected);
}

#[test]
fn checkpoint_file_names_write_log_values_as_python_does() {
    // tests/reference/keras_callbacks.py, "checkpoint file names from logs": Keras formats the
    // path with str.format, so a log value without a format is a Python float.
    let t = PathTemplate::parse("m-{epoch:02d}-{loss}-{accuracy}-{val_loss:.3f}-{tiny}-{big}.safetensors").unwrap();
    let logs = |values: [f64; 5]| {
        let mut l = Logs::new();
        for (key, v) in ["loss", "accuracy", "val_loss", "tiny", "big"].into_iter().zip(values) {
            l.insert(key, v);
        }
        l
    };
    let first = t.format(0, &logs([1.0, 1.0, f64::NAN, 1e-5, 1e16])).unwrap();
    assert_eq!(first.to_str().unwrap(), "m-01-1.0-1.0-nan-1e-05-1e+16.safetensors");
    let second = t.format(1, &logs([0.25, 0.5, f64::INFINITY, 2.5e-7, 123456.0])).unwrap();
    assert_eq!(second.to_str().unwrap(), "m-02-0.25-0.5-inf-2.5e-07-123456.0.safetensors");
}
