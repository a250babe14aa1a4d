//! The command line: bad inputs, provisioning checks and one real training run on MNIST.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tch_keras::data::DatasetKind;

/// The binary, with one LibTorch thread: tests run in parallel on few cores, and competing
/// OpenMP pools slow each other down many times over.
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tch-keras"));
    c.env("OMP_NUM_THREADS", "1");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with a clear message, without a panic or backtrace.
fn assert_refused(args: &[&str], needles: &[&str]) {
    let o = run(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr lacks {n:?}:\n{err}");
    }
}

#[test]
fn bad_flags_exit_non_zero_with_one_clear_message() {
    assert_refused(&["--model", "resnet"], &["--model", "resnet", "mlp", "cnn"]);
    assert_refused(&["--dataset", "cifar"], &["--dataset", "cifar", "fashion-mnist"]);
    assert_refused(&["--device", "tpu"], &["--device", "'tpu' is not a device"]);
    assert_refused(&["--batch-size", "0"], &["--batch-size", "0"]);
    assert_refused(&["--lr=-0.1"], &["--lr", "positive"]);
    assert_refused(&["--precision", "fp8"], &["--precision", "'fp8' is not a precision", "bf16"]);
    assert_refused(&["--tf32", "maybe"], &["--tf32", "maybe", "default", "on", "off"]);
    assert_refused(&["bench", "--precision", "half"], &["--precision", "'half'"]);
    assert_refused(&["--lr", "0"], &["--lr", "positive"]);
    assert_refused(&["--epochs", "x"], &["--epochs"]);
    assert_refused(&["--tensorboard", "tb", "--tensorboard-update-freq", "often"], &["often", "epoch, batch"]);
}

#[test]
fn cuda_without_a_gpu_is_refused() {
    if tch::Cuda::is_available() {
        assert_refused(&["--device", "cuda:99"], &["cuda:99", "CUDA device"]);
    } else {
        assert_refused(
            &["--device", "cuda", "--model", "mlp"],
            &["--device cuda", "CUDA is not available", "--device cpu"],
        );
        assert_refused(&["--device", "cuda:1"], &["CUDA is not available"]);
    }
}

fn mnist_dir() -> PathBuf {
    let dir = DatasetKind::Mnist.default_dir();
    assert!(
        dir.join("train-images-idx3-ubyte").exists(),
        "MNIST is not provisioned at {}: run scripts/setup.sh",
        dir.display()
    );
    dir
}

fn copy_mnist(to: &Path) {
    for name in
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    {
        std::fs::copy(mnist_dir().join(name), to.join(name)).unwrap();
    }
}

#[test]
fn missing_or_truncated_data_names_the_file_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    assert_refused(&["--data-dir", missing.to_str().unwrap()], &["nothing-here", "no such folder", "scripts/setup.sh"]);

    let dir = tmp.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    copy_mnist(&dir);
    let labels = dir.join("t10k-labels-idx1-ubyte");
    let bytes = std::fs::read(&labels).unwrap();
    std::fs::write(&labels, &bytes[..bytes.len() - 100]).unwrap();
    assert_refused(
        &["--model", "mlp", "--data-dir", dir.to_str().unwrap()],
        &["t10k-labels-idx1-ubyte", "truncated", "scripts/setup.sh"],
    );
    std::fs::remove_file(&labels).unwrap();
    assert_refused(&["--model", "mlp", "--data-dir", dir.to_str().unwrap()], &["t10k-labels-idx1-ubyte", "missing"]);
}

#[test]
fn provisioning_refuses_files_whose_md5_does_not_match() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup.sh");
    let ok = Command::new("bash").arg(&script).arg("verify-mnist").arg(mnist_dir()).output().unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    let tmp = tempfile::tempdir().unwrap();
    copy_mnist(tmp.path());
    let images = tmp.path().join("train-images-idx3-ubyte");
    let mut bytes = std::fs::read(&images).unwrap();
    bytes[5000] ^= 0xff;
    std::fs::write(&images, bytes).unwrap();
    let bad = Command::new("bash").arg(&script).arg("verify-mnist").arg(tmp.path()).output().unwrap();
    assert!(!bad.status.success());
    let err = stderr(&bad);
    assert!(err.contains("md5 mismatch") && err.contains("train-images-idx3-ubyte"), "{err}");
}

#[test]
fn one_epoch_of_the_mlp_learns_mnist_and_writes_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("r.json");
    let (tb, curves) = (tmp.path().join("tb"), tmp.path().join("curves.png"));
    let o = run(&[
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--verbose",
        "2",
        "--report",
        report.to_str().unwrap(),
        "--tensorboard",
        tb.to_str().unwrap(),
        "--tensorboard-update-freq",
        "500",
        "--histogram-freq",
        "1",
        "--plot",
        curves.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("Epoch 1/1") && err.contains("1875/1875 - "), "{err}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["model"], "mlp");
    assert_eq!(r["dataset"], "mnist");
    assert_eq!(r["device"], "cpu");
    assert_eq!(r["params"], 25_818);
    assert_eq!(r["epochs"], 1);
    assert_eq!(r["epoch_seconds"].as_array().unwrap().len(), 1);
    assert_eq!(r["history"]["loss"].as_array().unwrap().len(), 1);
    assert_eq!(r["history"]["accuracy"].as_array().unwrap().len(), 1);
    assert!(r["history"]["val_loss"].as_array().is_some());
    let acc = r["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.9, "test accuracy {acc}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("test accuracy: {acc:.4}")), "{stdout}");

    // --tensorboard: the epoch loss equals the report's; batch scalars every 500 steps.
    let files = tch_keras::tensorboard::event_files(tb.join("train")).unwrap();
    let events = tch_keras::tensorboard::read_events(&files[0]).unwrap();
    let scalars: Vec<(String, f32)> = events.iter().flat_map(|e| e.scalars()).collect();
    let loss = r["history"]["loss"][0].as_f64().unwrap() as f32;
    assert!(scalars.contains(&("epoch_loss".to_string(), loss)), "{scalars:?}");
    assert_eq!(scalars.iter().filter(|(t, _)| t == "batch_loss").count(), 1875 / 500);
    assert!(events.iter().any(|e| !e.histograms().is_empty()));
    // --plot, and `tch-keras plot` on the report: PNGs of the requested size.
    assert_eq!(png_size(&curves), (1000, 600));
    let drawn = tmp.path().join("report.png");
    let o =
        run(&["plot", report.to_str().unwrap(), "-o", drawn.to_str().unwrap(), "--width", "640", "--height", "400"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(png_size(&drawn), (640, 400));
    assert_refused(&["plot", tmp.path().join("absent.csv").to_str().unwrap()], &["absent.csv"]);
}

fn png_size(path: &Path) -> (u32, u32) {
    let info = png::Decoder::new(std::fs::File::open(path).unwrap()).read_info().unwrap().info().clone();
    (info.width, info.height)
}

#[test]
fn a_saved_model_reloads_with_the_same_test_accuracy() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let (model, a, b) = (p("m.safetensors"), p("a.json"), p("b.json"));
    let o = run(&["--model", "mlp", "--epochs", "1", "--verbose", "0", "--save", &model, "--report", &a]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["--load", &model, "--epochs", "0", "--verbose", "0", "--report", &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |f: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap() };
    let (ra, rb) = (read(&a), read(&b));
    assert_eq!(ra["test_accuracy"], rb["test_accuracy"]);
    assert_eq!(ra["test_loss"], rb["test_loss"]);
    assert_eq!(rb["epochs"], 0);
    assert_eq!(rb["params"], 25_818);
    assert_refused(&["--load", &p("absent.safetensors")], &["absent.safetensors"]);
}

#[test]
fn checkpoints_resume_an_interrupted_run_and_csv_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ckpt");
    let csv = tmp.path().join("log.csv");
    let (d, c) = (dir.to_str().unwrap(), csv.to_str().unwrap());
    // A run of 2 epochs "interrupted" after the first, then resumed to 2.
    let o = run(&["--model", "mlp", "--epochs", "1", "--verbose", "0", "--checkpoint-dir", d, "--csv", c]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("last.safetensors").exists() && dir.join("best.safetensors").exists());
    // An interruption after epoch 1's row was written but before its checkpoint: the resumed
    // run (from epoch 1) replaces that row instead of adding a second one.
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("1,7.0,7.0,NA,NA\n");
    std::fs::write(&csv, text).unwrap();
    let report = tmp.path().join("r.json");
    let r = report.to_str().unwrap();
    let o = run(&["--epochs", "2", "--verbose", "2", "--resume", d, "--csv", c, "--report", r]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Epoch 2/2") && !stderr(&o).contains("Epoch 1/2"), "{}", stderr(&o));
    // The report says where its history starts, so its curves are drawn at epoch 2.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!((json["first_epoch"].as_u64(), json["epochs"].as_u64()), (Some(1), Some(1)), "{json}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with("0,") && lines[2].starts_with("1,") && !lines[2].contains("7.0,7.0"), "{text}");
    let resumed = tch_keras::load_model(dir.join("last.safetensors"), tch::Device::Cpu).unwrap();
    assert_eq!(resumed.epochs_done(), 2);
    assert_eq!(resumed.iterations(), 2 * 1875);
    // --early-stopping is accepted and training still reports.
    let o = run(&["--model", "mlp", "--epochs", "1", "--verbose", "0", "--early-stopping", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn bench_mode_reports_its_fields_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("bench.json");
    let o = run(&[
        "bench",
        "--models",
        "mlp",
        "--batch-sizes",
        "32,64",
        "--steps",
        "5",
        "--warmup",
        "2",
        "--repeats",
        "1",
        "--device",
        "cpu",
        "--report",
        report.to_str().unwrap(),
        "--plot",
        tmp.path().join("bench.png").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(png_size(&tmp.path().join("bench.png")), (1000, 600));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("| model | batch | ms/step |") && stdout.contains("| mlp | 64 |"), "{stdout}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["device"], "cpu");
    assert!(r["threads"].as_i64().unwrap() >= 1);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, batch) in rows.iter().zip([32, 64]) {
        assert_eq!(row["model"], "mlp");
        assert_eq!(row["batch_size"], batch);
        assert_eq!(row["steps"], 5);
        let ms = row["ms_per_step"].as_f64().unwrap();
        assert!(ms > 0.0);
        let sps = row["samples_per_s"].as_f64().unwrap();
        assert!((sps - batch as f64 * 1000.0 / ms).abs() < 1e-6 * sps);
        let epoch = row["epoch_seconds"].as_f64().unwrap();
        assert!((epoch - (60_000f64 / batch as f64).ceil() * ms / 1000.0).abs() < 1e-9 + 1e-9 * epoch);
        assert!(row["raw_tch_ms_per_step"].as_f64().unwrap() > 0.0);
        assert!(row["fit_over_raw"].as_f64().unwrap() > 0.0);
        assert!(row["peak_rss_mib"].as_f64().unwrap() > 10.0);
        assert!(row.get("gpu_peak_allocated_mib").is_none(), "no GPU memory on the CPU: {row}");
        // 784*32 + 32*16 + 16*10 multiply-adds forward; x2 operations, x3 for a training step.
        let gflop = row["train_gflop_per_sample"].as_f64().unwrap();
        assert!((gflop - 6.0 * 25_760.0 / 1e9).abs() < 1e-12, "{gflop}");
        assert!((row["tflops"].as_f64().unwrap() - gflop * sps / 1e3).abs() < 1e-9 * gflop * sps, "{row}");
    }
    assert_refused(&["bench", "--batch-sizes", "0"], &["--batch-sizes"]);
    // The wide CNN, for compute-bound GPU runs: one short row, its arithmetic counted from its
    // layers (74,313,216 multiply-adds forward per sample).
    let wide = tmp.path().join("wide.json");
    let args = ["--models", "cnn-wide", "--batch-sizes", "4", "--steps", "1", "--warmup", "1", "--repeats", "1"];
    let o = run(&[&["bench"][..], &args, &["--device", "cpu", "--report", wide.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&wide).unwrap()).unwrap();
    let gflop = r["rows"][0]["train_gflop_per_sample"].as_f64().unwrap();
    assert!((gflop - 6.0 * 74_313_216.0 / 1e9).abs() < 1e-12, "{gflop}");
}
