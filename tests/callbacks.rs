//! Built-in callbacks driven by scripted logs, and by real fits where the interplay matters.
use tch::{Device, Kind, Tensor};
use tch_keras::callbacks::{
    CsvLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, Mode, ModelCheckpoint, PathTemplate,
    ReduceLROnPlateau, TerminateOnNaN,
};
use tch_keras::{Activation, Callback, Dense, FitConfig, Logs, Loss, Metric, Optimizer, Sequential, Verbosity};

fn model() -> Sequential {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(3).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    m.build().unwrap();
    m
}

fn logs(key: &str, v: f64) -> Logs {
    let mut l = Logs::new();
    l.insert("loss", 1.0);
    l.insert(key, v);
    l
}

/// Runs `cb` over scripted values of `key`, as `fit` would; returns the epoch where training
/// was stopped, if any.
fn drive(cb: &mut dyn Callback, m: &mut Sequential, key: &str, values: &[f64]) -> Option<usize> {
    m.stop_training = false;
    cb.on_train_begin(m).unwrap();
    for (epoch, v) in values.iter().enumerate() {
        cb.on_epoch_begin(m, epoch).unwrap();
        cb.on_epoch_end(m, epoch, &mut logs(key, *v)).unwrap();
        if m.stop_training {
            return Some(epoch);
        }
    }
    None
}

#[test]
fn early_stopping_stops_where_keras_does() {
    let mut m = model();
    // Best 0.9 at epoch 1; epochs 2 and 3 do not improve; patience 2 stops at epoch 3.
    let mut es = EarlyStopping::new("val_loss", 2);
    assert_eq!(drive(&mut es, &mut m, "val_loss", &[1.0, 0.9, 0.95, 0.93, 0.5]), Some(3));
    assert_eq!((es.stopped_epoch(), es.best_epoch(), es.best()), (Some(3), Some(1), 0.9));
    // min_delta 0.05: 0.88 and 0.86 are not improvements on 0.9.
    let mut es = EarlyStopping::new("val_loss", 2).min_delta(0.05);
    assert_eq!(drive(&mut es, &mut m, "val_loss", &[1.0, 0.9, 0.88, 0.86, 0.5]), Some(3));
    // Accuracy is maximised in auto mode.
    let mut es = EarlyStopping::new("val_accuracy", 1);
    assert_eq!(drive(&mut es, &mut m, "val_accuracy", &[0.5, 0.6, 0.7, 0.65, 0.9]), Some(3));
    let mut es = EarlyStopping::new("val_accuracy", 1).mode(Mode::Min);
    assert_eq!(drive(&mut es, &mut m, "val_accuracy", &[0.5, 0.6, 0.7]), Some(1));
    // Patience 0 stops at the first non-improvement, but never at epoch 0.
    let mut es = EarlyStopping::new("loss", 0);
    assert_eq!(drive(&mut es, &mut m, "loss", &[1.0, 1.0]), Some(1));
    // A baseline that is never beaten: improvements do not reset the wait, so the first
    // epoch without improvement stops training; without the baseline it would not.
    let mut es = EarlyStopping::new("val_loss", 2).baseline(0.1);
    assert_eq!(drive(&mut es, &mut m, "val_loss", &[1.0, 0.9, 0.8, 0.85]), Some(3));
    let mut es = EarlyStopping::new("val_loss", 2);
    assert_eq!(drive(&mut es, &mut m, "val_loss", &[1.0, 0.9, 0.8, 0.85]), None);
    // start_from_epoch: the first two epochs are ignored.
    let mut es = EarlyStopping::new("val_loss", 1).start_from_epoch(2);
    assert_eq!(drive(&mut es, &mut m, "val_loss", &[0.1, 0.2, 0.9, 0.8, 0.85]), Some(4));
    // A missing key warns and never stops.
    let mut es = EarlyStopping::new("val_missing", 0);
    assert_eq!(drive(&mut es, &mut m, "val_loss", &[1.0, 2.0, 3.0]), None);
}

#[test]
fn early_stopping_restores_the_best_weights() {
    let mut m = model();
    let mut es = EarlyStopping::new("val_loss", 1).restore_best_weights(true);
    es.on_train_begin(&mut m).unwrap();
    let values = [1.0, 0.5, 0.7, 0.8];
    let mut stopped = None;
    for (epoch, v) in values.iter().enumerate() {
        // Each epoch "trains" the weights to the constant epoch + 1.
        let w: Vec<Tensor> = m.get_weights().unwrap().iter().map(|t| t.ones_like() * (epoch as f64 + 1.0)).collect();
        m.set_weights(&w).unwrap();
        es.on_epoch_end(&mut m, epoch, &mut logs("val_loss", *v)).unwrap();
        if m.stop_training {
            stopped = Some(epoch);
            break;
        }
    }
    assert_eq!(stopped, Some(2));
    // As in Keras 3, the weights are restored when training ends.
    es.on_train_end(&mut m, &Logs::new()).unwrap();
    for w in m.get_weights().unwrap() {
        assert_eq!(w.mean(Kind::Float).double_value(&[]), 2.0, "weights of epoch 1 restored");
    }
}

#[test]
fn model_checkpoint_with_save_best_only_writes_only_on_improvement() {
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/w-{{epoch:02d}}-{{val_loss:.2f}}.safetensors", dir.path().display());
    let mut m = model();
    let mut ck = ModelCheckpoint::new(&template).unwrap().save_best_only(true).save_weights_only(true);
    drive(&mut ck, &mut m, "val_loss", &[0.9, 0.95, 0.5, 0.6, 0.4]);
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["w-01-0.90.safetensors", "w-03-0.50.safetensors", "w-05-0.40.safetensors"]);
    assert_eq!(ck.saved().len(), 3);
    // Without save_best_only every epoch is written, as whole models.
    let mut every = ModelCheckpoint::new(&format!("{}/all-{{epoch}}.safetensors", dir.path().display())).unwrap();
    drive(&mut every, &mut m, "val_loss", &[0.9, 0.95]);
    assert!(tch_keras::load_model(dir.path().join("all-2.safetensors"), Device::Cpu).is_ok());
}

#[test]
fn path_templates_format_and_reject_unknown_keys() {
    let t = PathTemplate::parse("m-{epoch:03d}-{val_acc:.3f}-{loss}.st").unwrap();
    let mut l = logs("val_acc", 0.98765);
    l.insert("loss", 0.5);
    assert_eq!(t.format(6, &l).unwrap().to_str().unwrap(), "m-007-0.988-0.5.st");
    let e = PathTemplate::parse("m-{val_los}.st").unwrap().format(0, &l).unwrap_err().to_string();
    assert!(e.contains("'val_los'") && e.contains("val_acc"), "{e}");
    assert!(PathTemplate::parse("m-{epoch.st").is_err());
    assert!(PathTemplate::parse("m-{epoch:x}.st").unwrap_err().to_string().contains("unsupported format"));
    // Widths and decimals beyond what a file name holds are refused when parsing: Rust's
    // formatting panics on widths over 65535.
    for f in ["m-{epoch:099999999999d}.st", "m-{loss:.99999999999f}.st", "m-{epoch:101d}.st"] {
        let e = PathTemplate::parse(f).unwrap_err().to_string();
        assert!(e.contains("digits") && e.contains("at most 100"), "{f}: {e}");
    }
    assert_eq!(PathTemplate::parse("{epoch:0100d}").unwrap().format(0, &l).unwrap().to_str().unwrap().len(), 100);
    // The error surfaces from fit.
    let mut m = model();
    let dir = tempfile::tempdir().unwrap();
    let mut ck = ModelCheckpoint::new(&format!("{}/{{nope}}.st", dir.path().display())).unwrap();
    let x = Tensor::randn([8, 4], (Kind::Float, Device::Cpu));
    let y = Tensor::zeros([8], (Kind::Int64, Device::Cpu));
    let e = m
        .fit(&x, &y, FitConfig { verbose: Verbosity::Silent, callbacks: vec![&mut ck], ..Default::default() })
        .unwrap_err();
    assert!(e.to_string().contains("'nope'"), "{e}");
}

#[test]
fn reduce_lr_on_plateau_respects_patience_cooldown_and_min_lr() {
    let mut m = model();
    let mut cb = ReduceLROnPlateau::new("val_loss", 0.5, 2).cooldown(2).min_lr(0.002);
    let mut rates = Vec::new();
    cb.on_train_begin(&mut m).unwrap();
    for (epoch, v) in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0].iter().enumerate() {
        cb.on_epoch_end(&mut m, epoch, &mut logs("val_loss", *v)).unwrap();
        rates.push(m.learning_rate().unwrap());
    }
    // Epoch 0 sets the best; epochs 1-2 wait and 2 reduces; epoch 3 is cooling down; as in
    // Keras, the epoch that ends the cooldown (4) already counts as waiting, so 5 reduces; then
    // 8 reduces to the floor 0.002 (not 0.00125). Without the cooldown, 4 and 6 would reduce.
    assert_eq!(rates, [0.01, 0.01, 0.005, 0.005, 0.005, 0.0025, 0.0025, 0.0025, 0.002]);
    // An improvement resets the wait.
    let mut m = model();
    let mut cb = ReduceLROnPlateau::new("val_loss", 0.1, 2);
    cb.on_train_begin(&mut m).unwrap();
    for (epoch, v) in [1.0, 1.0, 0.5, 0.5].iter().enumerate() {
        cb.on_epoch_end(&mut m, epoch, &mut logs("val_loss", *v)).unwrap();
    }
    assert_eq!(m.learning_rate().unwrap(), 0.01);
}

fn blobs() -> (Tensor, Tensor) {
    tch::manual_seed(3);
    let y = Tensor::randint(3, [90], (Kind::Int64, Device::Cpu));
    let x = Tensor::randn([3, 4], (Kind::Float, Device::Cpu)).index_select(0, &y) * 3.0
        + Tensor::randn([90, 4], (Kind::Float, Device::Cpu));
    (x, y)
}

#[test]
fn learning_rate_scheduler_sets_the_rate_each_epoch() {
    let (x, y) = blobs();
    let mut m = model();
    let mut sched = LearningRateScheduler::new(|epoch, lr| if epoch == 0 { lr } else { lr * 0.5 });
    m.fit(
        &x,
        &y,
        FitConfig { epochs: 3, verbose: Verbosity::Silent, callbacks: vec![&mut sched], ..Default::default() },
    )
    .unwrap();
    assert_eq!(sched.rates, [0.01, 0.005, 0.0025]);
    assert_eq!(m.learning_rate().unwrap(), 0.0025);
}

#[test]
fn csv_logger_rows_equal_the_history() {
    let (x, y) = blobs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    let mut m = model();
    let mut csv = CsvLogger::new(&path);
    let (vx, vy) = (x.narrow(0, 0, 20), y.narrow(0, 0, 20));
    let h = m
        .fit(
            &x,
            &y,
            FitConfig {
                epochs: 3,
                validation_data: Some((&vx, &vy)),
                verbose: Verbosity::Silent,
                callbacks: vec![&mut csv],
                ..Default::default()
            },
        )
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]);
    assert_eq!(rows.len(), 4);
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        for (j, key) in rows[0][1..].iter().enumerate() {
            let v: f64 = row[j + 1].parse().unwrap();
            assert_eq!(v, h.series(key).unwrap()[i], "{key} epoch {i}");
        }
    }
    // Appending adds rows without a second header.
    let mut csv = CsvLogger::new(&path).append(true).separator(';');
    m.fit(&x, &y, FitConfig { epochs: 1, verbose: Verbosity::Silent, callbacks: vec![&mut csv], ..Default::default() })
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().last().unwrap().starts_with("0;"));
    // A separator found in the values broke the rows, and resuming then dropped rows by
    // misreading their epochs: refused before the file is touched.
    for sep in ['1', 'e', '.', '-', '\n', '"'] {
        let mut csv = CsvLogger::new(&path).resume_at(0).separator(sep);
        let config =
            FitConfig { epochs: 1, verbose: Verbosity::Silent, callbacks: vec![&mut csv], ..Default::default() };
        let e = m.fit(&x, &y, config).unwrap_err().to_string();
        assert!(e.contains("separator") && e.contains("use ','"), "{sep:?}: {e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{sep:?} changed the file");
    }
    let mut tab = CsvLogger::new(path.with_file_name("tab.csv")).separator('\t');
    m.fit(&x, &y, FitConfig { epochs: 1, verbose: Verbosity::Silent, callbacks: vec![&mut tab], ..Default::default() })
        .unwrap();
}

#[test]
fn terminate_on_nan_stops_at_the_bad_batch() {
    let (x, y) = blobs();
    let _ = x.get(40).fill_(f64::NAN);
    let mut m = model();
    let mut t = TerminateOnNaN::new();
    let h = m
        .fit(
            &x,
            &y,
            FitConfig {
                epochs: 5,
                batch_size: 10,
                shuffle: false,
                verbose: Verbosity::Silent,
                callbacks: vec![&mut t],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(t.stopped_at, Some((0, 4)));
    assert_eq!(h.epochs, [0]);
    assert_eq!(m.iterations(), 5);
}

#[test]
fn lambda_callback_runs_its_closures() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let (x, y) = blobs();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let s2 = seen.clone();
    let mut cb = LambdaCallback::new()
        .on_epoch_end(move |_, epoch, logs| {
            s.borrow_mut().push(format!("end {epoch} {}", logs.get("loss").is_some()));
            Ok(())
        })
        .on_train_end(move |m, _| {
            s2.borrow_mut().push(format!("done {}", m.iterations()));
            Ok(())
        });
    let mut m = model();
    m.fit(
        &x,
        &y,
        FitConfig {
            epochs: 2,
            batch_size: 45,
            verbose: Verbosity::Silent,
            callbacks: vec![&mut cb],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(*seen.borrow(), ["end 0 true", "end 1 true", "done 4"]);
}

/// A lambda may add keys to the epoch logs as a class-based callback can: History records them
/// and a CsvLogger after it writes them.
#[test]
fn lambda_callback_on_epoch_end_mut_adds_keys_to_the_logs() {
    let (x, y) = blobs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("double.csv");
    let mut m = model();
    let mut double = LambdaCallback::new().on_epoch_end_mut(|_, epoch, logs| {
        let loss = logs.get("loss").expect("loss in the epoch logs");
        logs.insert("double_loss", 2.0 * loss);
        logs.insert("epoch_index", epoch as f64);
        Ok(())
    });
    let mut csv = CsvLogger::new(&path);
    let h = m
        .fit(
            &x,
            &y,
            FitConfig {
                epochs: 3,
                verbose: Verbosity::Silent,
                callbacks: vec![&mut double, &mut csv],
                ..Default::default()
            },
        )
        .unwrap();
    let loss = h.series("loss").unwrap();
    assert_eq!(h.series("double_loss").unwrap(), loss.iter().map(|l| 2.0 * l).collect::<Vec<_>>());
    assert_eq!(h.series("epoch_index").unwrap(), [0.0, 1.0, 2.0]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().next().unwrap().split(',').any(|k| k == "double_loss"), "{text}");
}

/// Keras's learning-rate callbacks add `learning_rate` to the epoch logs (the rate the epoch
/// trained with), so History and CSVLogger record it.
#[test]
fn learning_rate_callbacks_put_the_rate_in_history_and_csv() {
    let (x, y) = blobs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lr.csv");
    let mut m = model();
    let mut sched = LearningRateScheduler::new(|epoch, lr| if epoch == 0 { lr } else { lr * 0.5 });
    let mut csv = CsvLogger::new(&path);
    let h = m
        .fit(
            &x,
            &y,
            FitConfig {
                epochs: 3,
                verbose: Verbosity::Silent,
                callbacks: vec![&mut sched, &mut csv],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(h.series("learning_rate").unwrap(), [0.01, 0.005, 0.0025]);
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let column = rows[0].iter().position(|k| *k == "learning_rate").expect("no learning_rate column");
    let logged: Vec<f64> = rows[1..].iter().map(|r| r[column].parse().unwrap()).collect();
    assert_eq!(logged, [0.01, 0.005, 0.0025]);

    // ReduceLROnPlateau logs the rate before reducing it: never improving by 10, patience 1.
    let mut m = model();
    let mut plateau = ReduceLROnPlateau::new("loss", 0.5, 1).min_delta(10.0);
    let h = m
        .fit(
            &x,
            &y,
            FitConfig { epochs: 3, verbose: Verbosity::Silent, callbacks: vec![&mut plateau], ..Default::default() },
        )
        .unwrap();
    assert_eq!(h.series("learning_rate").unwrap(), [0.01, 0.01, 0.005]);
    assert_eq!(m.learning_rate().unwrap(), 0.0025);
}

/// A program without a logger still sees a misspelt `monitor`'s warning, on standard error (as
/// Keras's Python warnings): the test runs itself in a child process, where no logger is set.
#[test]
fn a_missing_monitor_key_warns_on_stderr_without_a_logger() {
    const CHILD: &str = "TCH_KERAS_TEST_WARNING_CHILD";
    let name = "a_missing_monitor_key_warns_on_stderr_without_a_logger";
    if std::env::var_os(CHILD).is_some() {
        let mut m = model();
        let x = Tensor::randn([8, 4], (Kind::Float, Device::Cpu));
        let y = Tensor::zeros([8], (Kind::Int64, Device::Cpu));
        let mut stopper = EarlyStopping::new("val_acc", 1);
        let config =
            FitConfig { epochs: 2, callbacks: vec![&mut stopper], verbose: Verbosity::Silent, ..Default::default() };
        m.fit(&x, &y, config).unwrap();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child failed: {stderr}");
    assert_eq!(stderr.matches("conditioned on metric `val_acc`").count(), 1, "warned once: {stderr}");
    assert!(stderr.contains("warning: ") && stderr.contains("loss,accuracy"), "{stderr}");
}

#[test]
fn odd_callback_settings_are_refused_when_training_starts() {
    // Every comparison with NaN is false: these callbacks never saw an improvement, stopping,
    // reducing or never saving without a word.
    let (x, y) = blobs();
    let mut m = model();
    let mut run = |cb: &mut dyn tch_keras::Callback, needle: &str| {
        let config = FitConfig { epochs: 1, verbose: Verbosity::Silent, callbacks: vec![cb], ..Default::default() };
        let before = m.iterations();
        let e = m.fit(&x, &y, config).unwrap_err().to_string();
        assert!(e.contains(needle), "{needle}: {e}");
        assert_eq!(m.iterations(), before, "{needle}: refused only after training");
    };
    run(&mut EarlyStopping::new("loss", 1).min_delta(f64::NAN), "EarlyStopping's min_delta is NaN");
    run(&mut EarlyStopping::new("loss", 1).baseline(f64::NAN), "EarlyStopping's baseline is NaN");
    run(&mut ReduceLROnPlateau::new("loss", 0.5, 1).min_delta(f64::NAN), "ReduceLROnPlateau's min_delta is NaN");
    run(&mut ReduceLROnPlateau::new("loss", 0.5, 1).min_lr(f64::NAN), "min_lr must be a number >= 0");
    run(&mut ReduceLROnPlateau::new("loss", 0.5, 1).min_lr(-1.0), "min_lr must be a number >= 0");
    let dir = tempfile::tempdir().unwrap();
    let mut ck = ModelCheckpoint::literal(dir.path().join("m.safetensors")).initial_value_threshold(f64::NAN);
    run(&mut ck, "initial_value_threshold is NaN");
    // Resumed best weights that do not fit the model failed only when restored, after the
    // last epoch: refused before the first.
    let state = EarlyStopping::new("loss", 1).state();
    let wrong = vec![Tensor::zeros([7], (Kind::Float, Device::Cpu))];
    let mut es = EarlyStopping::new("loss", 1).restore_best_weights(true).resume_from(state, Some(wrong));
    run(&mut es, "shapes [[7]]");
    // A negative min_delta is still its magnitude, as in Keras.
    let mut es = EarlyStopping::new("loss", 1).min_delta(-0.1);
    let config = FitConfig { epochs: 1, verbose: Verbosity::Silent, callbacks: vec![&mut es], ..Default::default() };
    m.fit(&x, &y, config).unwrap();
}
