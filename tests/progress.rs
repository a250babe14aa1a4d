//! The progress display's text, rendered into an in-memory terminal and into a plain writer.
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{InMemoryTerm, ProgressDrawTarget};
use tch::{Device, Kind, Tensor};
use tch_keras::{
    callbacks::progress_line, Activation, Dense, FitConfig, Logs, Loss, Metric, Optimizer, ProgbarLogger, Sequential,
    Verbosity,
};

fn logs() -> Logs {
    let mut l = Logs::new();
    l.insert("loss", 0.0604);
    l.insert("acc", 0.98161);
    l.insert("val_loss", 0.0390);
    l.insert("val_acc", 0.9874);
    l
}

#[test]
fn finished_line_matches_the_keras_format() {
    let line = progress_line(938, 938, Duration::from_millis(26_300), &logs(), true);
    assert_eq!(
        line,
        "938/938 [==============================] - 26s 28ms/step - loss: 0.0604 - acc: 0.9816 - val_loss: 0.0390 - val_acc: 0.9874"
    );
}

#[test]
fn running_line_shows_the_bar_head_and_eta() {
    let mut l = Logs::new();
    l.insert("loss", 0.25);
    let line = progress_line(469, 938, Duration::from_secs(10), &l, true);
    assert_eq!(line, "469/938 [==============>...............] - ETA: 10s - loss: 0.2500");
    let line = progress_line(1, 938, Duration::from_secs(1), &Logs::new(), true);
    assert_eq!(line, "  1/938 [..............................] - ETA: 15:37");
    let line = progress_line(938, 938, Duration::from_millis(400), &l, false);
    assert_eq!(line, "938/938 - 0s - 426us/step - loss: 0.2500");
    let mut tiny = Logs::new();
    tiny.insert("loss", 0.000_012_3);
    assert!(progress_line(1, 1, Duration::from_secs(1), &tiny, true).ends_with("loss: 1.2300e-05"));
}

#[test]
fn logged_numbers_are_written_as_keras_writes_them() {
    // Keras 3's Progbar: tests/reference/progbar_numbers.py.
    let keras = [
        (0.25, "0.2500"),
        (1.23e-5, "1.2300e-05"),
        (0.0, "0.0000e+00"),
        (1e-3, "1.0000e-03"),
        (0.0011, "0.0011"),
        (-5e-4, "-5.0000e-04"),
        (-0.5, "-0.5000"),
        (1.5e-12, "1.5000e-12"),
        (f64::NAN, "nan"),
        (f64::INFINITY, "inf"),
    ];
    for (value, text) in keras {
        let mut l = Logs::new();
        l.insert("loss", value);
        assert_eq!(l.to_string(), format!("loss: {text}"), "{value}");
        let line = progress_line(1, 1, Duration::from_secs(1), &l, true);
        assert!(line.ends_with(&format!(" - loss: {text}")), "{value}: {line}");
    }
}

fn model() -> (Sequential, Tensor, Tensor) {
    let mut m = Sequential::new().add(Dense::new(2).activation(Activation::Softmax));
    m.compile(
        Optimizer::sgd(0.1),
        Loss::SparseCategoricalCrossentropy,
        vec![Metric::new(tch_keras::MetricKind::Accuracy, "acc")],
    )
    .unwrap();
    let x = Tensor::randn([50, 3], (Kind::Float, Device::Cpu));
    let y = x.select(1, 0).gt(0.0).to_kind(Kind::Int64);
    (m, x, y)
}

#[test]
fn terminal_output_shows_epochs_and_final_bars() {
    let term = InMemoryTerm::new(20, 160);
    let t = term.clone();
    let bar =
        ProgbarLogger::to_terminal(Verbosity::ProgressBar, move || ProgressDrawTarget::term_like(Box::new(t.clone())));
    let (mut m, x, y) = model();
    let (vx, vy) = (x.narrow(0, 0, 10), y.narrow(0, 0, 10));
    m.fit(
        &x,
        &y,
        FitConfig {
            epochs: 2,
            batch_size: 10,
            validation_data: Some((&vx, &vy)),
            progress: Some(bar),
            ..Default::default()
        },
    )
    .unwrap();
    let screen = term.contents();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{screen}");
    assert_eq!(lines[0], "Epoch 1/2");
    assert_eq!(lines[2], "Epoch 2/2");
    for l in [lines[1], lines[3]] {
        assert!(l.starts_with("5/5 [==============================] - 0s "), "{l}");
        assert!(
            l.contains("/step - loss: ")
                && l.contains(" - acc: ")
                && l.contains(" - val_loss: ")
                && l.contains(" - val_acc: "),
            "{l}"
        );
    }
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn piped_output_is_one_line_per_epoch() {
    for (verbose, bar) in [(Verbosity::ProgressBar, true), (Verbosity::EpochLine, false)] {
        let out = Shared::default();
        let (mut m, x, y) = model();
        let progress = ProgbarLogger::to_writer(verbose, out.clone());
        m.fit(&x, &y, FitConfig { epochs: 3, batch_size: 16, progress: Some(progress), ..Default::default() }).unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert_eq!(lines[4], "Epoch 3/3");
        let prefix = if bar { "4/4 [==============================] - " } else { "4/4 - " };
        assert!(
            lines[5].starts_with(prefix) && lines[5].contains(" - loss: ") && lines[5].contains(" - acc: "),
            "{text}"
        );
    }
}
