//! Training-curve and benchmark PNGs: they decode, have the requested size, follow the data,
//! and the CSV and report routes draw the same picture as the History they came from.
use std::path::Path;

use tch::{Device, Kind, Tensor};
use tch_keras::callbacks::CsvLogger;
use tch_keras::plot::{self, PlotOptions};
use tch_keras::{
    to_categorical, Activation, Dense, Error, FitConfig, History, Logs, Loss, Optimizer, Sequential, Verbosity,
};

/// Decodes a PNG into (width, height, RGB(A) bytes).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn history(epochs: usize, shift: f64) -> History {
    let mut h = History::new();
    for e in 0..epochs {
        let mut l = Logs::new();
        let t = e as f64;
        l.insert("loss", 1.0 / (t + 1.0) + shift);
        l.insert("accuracy", 0.6 + 0.3 * (1.0 - (-t / 2.0).exp()));
        l.insert("val_loss", 1.1 / (t + 1.0) + 0.05);
        l.insert("val_accuracy", 0.55 + 0.3 * (1.0 - (-t / 2.0).exp()));
        h.epochs.push(e);
        h.logs.push(l);
    }
    h
}

#[test]
fn history_png_decodes_at_the_requested_size_and_follows_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c, d) =
        (dir.path().join("a.png"), dir.path().join("b.png"), dir.path().join("c.png"), dir.path().join("d.png"));
    history(6, 0.0).plot(&a, "MLP on MNIST").unwrap();
    history(6, 0.0).plot(&b, "MLP on MNIST").unwrap();
    history(6, 0.2).plot(&c, "MLP on MNIST").unwrap();
    plot::history(&history(6, 0.0), &d, &PlotOptions::titled("MLP on MNIST").size(640, 480)).unwrap();
    let (wa, ha, pa) = decode(&a);
    assert_eq!((wa, ha), (1000, 600));
    assert_eq!(decode(&b).2, pa, "the same data must draw the same picture");
    assert_ne!(decode(&c).2, pa, "a changed loss must change the picture");
    let (wd, hd, _) = decode(&d);
    assert_eq!((wd, hd), (640, 480));
    // Something was drawn: the picture is not a blank canvas.
    assert!(pa.iter().any(|&v| v < 128));
}

#[test]
fn empty_history_and_bad_outputs_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = History::new().plot(dir.path().join("x.png"), "t").unwrap_err();
    assert!(matches!(e, Error::Plot { .. }), "{e}");
    assert!(e.to_string().contains("no epochs"), "{e}");
    assert!(!dir.path().join("x.png").exists());
    let e =
        plot::history(&history(2, 0.0), dir.path().join("x.png"), &PlotOptions::default().size(10, 10)).unwrap_err();
    assert!(matches!(e, Error::Plot { .. }) && e.to_string().contains("10x10"), "{e}");
    let e = history(2, 0.0).plot(dir.path().join("missing/x.png"), "t").unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("does not exist"), "{e}");
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "loss,accuracy\n0.5,0.9\n").unwrap();
    let e = plot::from_csv(&csv, dir.path().join("y.png"), &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Plot { .. }) && e.to_string().contains("'epoch'"), "{e}");
    let json = dir.path().join("bad.json");
    std::fs::write(&json, "{\"model\": \"mlp\"}").unwrap();
    let e = plot::from_report(&json, dir.path().join("y.png"), &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Plot { .. }) && e.to_string().contains("history"), "{e}");
}

/// A real fit with a CsvLogger: the CSV file, and a report written as the command line writes
/// it, draw exactly the picture of the History they record.
#[test]
fn csv_and_report_draw_the_same_picture_as_the_history() {
    tch::manual_seed(0);
    let labels = Tensor::randint(3, [96], (Kind::Int64, Device::Cpu));
    let x = Tensor::randn([3, 6], (Kind::Float, Device::Cpu)).index_select(0, &labels) * 2.0
        + Tensor::randn([96, 6], (Kind::Float, Device::Cpu));
    let y = to_categorical(&labels, 3).unwrap();
    let mut m = Sequential::new()
        .add(Dense::new(8).activation(Activation::Relu))
        .add(Dense::new(3).activation(Activation::Softmax))
        .device(Device::Cpu)
        .seed(2);
    m.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec!["accuracy".parse().unwrap()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    let mut logger = CsvLogger::new(&csv);
    let (vx, vy) = (x.narrow(0, 0, 32), y.narrow(0, 0, 32));
    let h = m
        .fit(
            &x,
            &y,
            FitConfig {
                epochs: 4,
                batch_size: 16,
                validation_data: Some((&vx, &vy)),
                callbacks: vec![&mut logger],
                verbose: Verbosity::Silent,
                ..Default::default()
            },
        )
        .unwrap();
    let from_history = dir.path().join("history.png");
    h.plot(&from_history, "log.csv").unwrap();
    let from_csv = dir.path().join("csv.png");
    plot::from_csv(&csv, &from_csv, &PlotOptions::default()).unwrap();
    assert_eq!(decode(&from_csv).2, decode(&from_history).2);

    let report = serde_json::json!({
        "model": "mlp",
        "dataset": "mnist",
        "epochs": 4,
        "history": {
            "loss": h.series("loss").unwrap(),
            "accuracy": h.series("accuracy").unwrap(),
            "val_loss": h.series("val_loss").unwrap(),
            "val_accuracy": h.series("val_accuracy").unwrap(),
        },
        "test_loss": 0.1,
    });
    let json = dir.path().join("report.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let from_report = dir.path().join("report.png");
    plot::from_file(&json, &from_report, &PlotOptions::default()).unwrap();
    h.plot(&from_history, "MLP on MNIST").unwrap();
    assert_eq!(decode(&from_report).2, decode(&from_history).2);
    // from_file recognises the CSV too.
    plot::from_file(&csv, &from_report, &PlotOptions::default().size(500, 300)).unwrap();
    assert_eq!(decode(&from_report).0, 500);
}

fn bench_json(cnn_256: f64) -> serde_json::Value {
    let row = |model: &str, batch: usize, sps: f64, raw_ms: Option<f64>| {
        serde_json::json!({
            "model": model, "batch_size": batch, "steps": 50, "ms_per_step": batch as f64 * 1000.0 / sps,
            "samples_per_s": sps, "epoch_seconds": 60000.0 / sps, "raw_tch_ms_per_step": raw_ms,
            "fit_over_raw": null, "peak_rss_mib": null, "cuda_graph_replays": 0
        })
    };
    serde_json::json!({
        "device": "cpu", "threads": 2, "precision": "f32", "tf32": {"matmul": false, "conv": true},
        "cudnn_benchmark": false, "run_eagerly": false,
        "rows": [
            row("mlp", 64, 90000.0, Some(0.6)), row("mlp", 256, 250000.0, Some(0.9)), row("mlp", 1024, 400000.0, Some(2.4)),
            row("cnn", 64, 2000.0, None), row("cnn", 256, cnn_256, None), row("cnn", 1024, 2600.0, None),
        ]
    })
}

#[test]
fn bench_png_decodes_and_follows_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let (ja, jb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&ja, bench_json(2400.0).to_string()).unwrap();
    std::fs::write(&jb, bench_json(1200.0).to_string()).unwrap();
    let (pa, pb) = (dir.path().join("a.png"), dir.path().join("b.png"));
    plot::bench_from_json(&ja, &pa, &PlotOptions::default().size(900, 550)).unwrap();
    plot::from_file(&jb, &pb, &PlotOptions::default().size(900, 550)).unwrap();
    let (w, h, a) = decode(&pa);
    assert_eq!((w, h), (900, 550));
    assert_ne!(decode(&pb).2, a);
    let report: plot::BenchRuns = serde_json::from_value(bench_json(2400.0)).unwrap();
    plot::bench(&report, &pb, &PlotOptions::default().size(900, 550)).unwrap();
    assert_eq!(decode(&pb).2, a);
    let empty = plot::BenchRuns { rows: vec![], ..report };
    let e = plot::bench(&empty, &pb, &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Plot { .. }), "{e}");
}
