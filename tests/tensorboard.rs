//! The TensorBoard callback's event files, read back by TensorBoard's own reader
//! (tests/reference/read_tfevents.py, with the `tensorboard` package that scripts/py-deps.sh
//! installs into the cache) and by the library's CRC-checking reader.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tch::{Device, Kind, Tensor};
use tch_keras::tensorboard::{event_files, read_events, EventWriter, TensorBoard, UpdateFreq};
use tch_keras::{to_categorical, Activation, Dense, Error, FitConfig, History, Loss, Optimizer, Sequential, Verbosity};

const EPOCHS: usize = 3;
const SAMPLES: i64 = 120;
const BATCH: usize = 16; // 8 batches per epoch, the last one of 8 samples
const STEPS: usize = 8;

/// Three Gaussian blobs in 8 features.
fn blobs(n: i64) -> (Tensor, Tensor) {
    tch::manual_seed(3);
    let labels = Tensor::randint(3, [n], (Kind::Int64, Device::Cpu));
    let centers = Tensor::randn([3, 8], (Kind::Float, Device::Cpu)) * 3.0;
    let x = centers.index_select(0, &labels) + Tensor::randn([n, 8], (Kind::Float, Device::Cpu));
    (x, to_categorical(&labels, 3).unwrap())
}

fn fit_with(tb: &mut TensorBoard) -> (Sequential, History) {
    let (x, y) = blobs(SAMPLES);
    let (vx, vy) = blobs(40);
    let mut m = Sequential::new()
        .add(Dense::new(16).activation(Activation::Relu))
        .add(Dense::new(3).activation(Activation::Softmax))
        .device(Device::Cpu)
        .seed(1);
    m.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec!["accuracy".parse().unwrap()]).unwrap();
    let h = m
        .fit(
            &x,
            &y,
            FitConfig {
                epochs: EPOCHS,
                batch_size: BATCH,
                validation_data: Some((&vx, &vy)),
                callbacks: vec![tb],
                verbose: Verbosity::Silent,
                ..Default::default()
            },
        )
        .unwrap();
    (m, h)
}

/// Runs TensorBoard's EventAccumulator over `runs`; installs `tensorboard` into the cache first.
fn tensorboard_read(runs: &[PathBuf]) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let deps = Command::new("bash").arg(root.join("scripts/py-deps.sh")).arg("tensorboard").output().unwrap();
    assert!(
        deps.status.success(),
        "scripts/py-deps.sh tensorboard failed (it needs python3 and PyPI): {}",
        String::from_utf8_lossy(&deps.stderr)
    );
    let pythonpath = String::from_utf8(deps.stdout).unwrap().trim().to_string();
    let out = Command::new("python3")
        .env("PYTHONPATH", pythonpath)
        .arg(root.join("tests/reference/read_tfevents.py"))
        .args(runs)
        .output()
        .unwrap();
    assert!(out.status.success(), "read_tfevents.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `tag -> [(step, value)]` from the reader's JSON for one run.
fn scalars(json: &Value, run: &Path) -> BTreeMap<String, Vec<(i64, f32)>> {
    let run = &json[run.to_str().unwrap()]["scalars"];
    run.as_object()
        .unwrap()
        .iter()
        .map(|(tag, points)| {
            let points = points
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32))
                .collect();
            (tag.clone(), points)
        })
        .collect()
}

fn epoch_series(h: &History, key: &str) -> Vec<(i64, f32)> {
    h.series(key).unwrap().iter().enumerate().map(|(e, v)| (e as i64, *v as f32)).collect()
}

#[test]
fn tensorboard_reads_back_exactly_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut tb = TensorBoard::new(dir.path().join("logs")).update_freq(UpdateFreq::Batches(3)).histogram_freq(2);
    let (m, h) = fit_with(&mut tb);
    let (train, val) = (tb.train_dir(), tb.validation_dir());
    assert_eq!(event_files(&train).unwrap().len(), 1);
    assert_eq!(event_files(&val).unwrap().len(), 1);
    let json = tensorboard_read(&[train.clone(), val.clone()]);

    let t = scalars(&json, &train);
    assert_eq!(t["epoch_loss"], epoch_series(&h, "loss"));
    assert_eq!(t["epoch_accuracy"], epoch_series(&h, "accuracy"));
    let lr: Vec<(i64, f32)> = (0..EPOCHS as i64).map(|e| (e, 0.01)).collect();
    assert_eq!(t["epoch_learning_rate"], lr);
    // Batch scalars every 3 global steps, counted from 1 as Keras does; the last batch's running
    // mean is the epoch's loss.
    let steps: Vec<i64> = t["batch_loss"].iter().map(|p| p.0).collect();
    let expected: Vec<i64> = (1..=(EPOCHS * STEPS) as i64).filter(|s| s % 3 == 0).collect();
    assert_eq!(steps, expected);
    let epoch_end = t["batch_loss"].iter().find(|p| p.0 == STEPS as i64 * 3).unwrap().1;
    assert_eq!(epoch_end, h.series("loss").unwrap()[2] as f32);
    assert_eq!(t["batch_accuracy"].len(), expected.len());

    let v = scalars(&json, &val);
    assert_eq!(v["epoch_loss"], epoch_series(&h, "val_loss"));
    assert_eq!(v["epoch_accuracy"], epoch_series(&h, "val_accuracy"));
    assert!(!v.contains_key("epoch_val_loss") && !t.contains_key("epoch_val_loss"));
    let evals: Vec<i64> = v["evaluation_loss_vs_iterations"].iter().map(|p| p.0).collect();
    assert_eq!(evals, [8, 16, 24]);
    assert_eq!(v["evaluation_loss_vs_iterations"][2].1, h.series("val_loss").unwrap()[2] as f32);

    // Histograms of every variable at epochs 0 and 2, over all of its values.
    let hist = json[train.to_str().unwrap()]["histograms"].as_object().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(hist.len(), vars.len());
    for (name, tensor) in vars {
        let entries = hist[&format!("{name}/histogram")].as_array().unwrap();
        let steps: Vec<i64> = entries.iter().map(|e| e["step"].as_i64().unwrap()).collect();
        assert_eq!(steps, [0, 2], "{name}");
        let last = &entries[1];
        assert_eq!(last["num"].as_f64().unwrap(), tensor.numel() as f64, "{name}");
        let counted: f64 = last["bucket"].as_array().unwrap().iter().map(|c| c.as_f64().unwrap()).sum();
        assert_eq!(counted, tensor.numel() as f64, "{name}");
        assert_eq!(last["max"].as_f64().unwrap(), tensor.max().double_value(&[]), "{name}");
    }
}

#[test]
fn epoch_update_freq_writes_no_batch_scalars_and_no_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let mut tb = TensorBoard::new(dir.path());
    let (_, h) = fit_with(&mut tb);
    let events = read_events(&event_files(tb.train_dir()).unwrap()[0]).unwrap();
    assert_eq!(events[0].file_version(), Some("brain.Event:2"));
    let tags: Vec<String> = events.iter().flat_map(|e| e.scalars()).map(|(t, _)| t).collect();
    assert!(tags.iter().all(|t| t.starts_with("epoch_")), "{tags:?}");
    assert_eq!(tags.iter().filter(|t| *t == "epoch_loss").count(), EPOCHS);
    assert!(events.iter().all(|e| e.histograms().is_empty()));
    let losses: Vec<f32> =
        events.iter().flat_map(|e| e.scalars()).filter(|(t, _)| t == "epoch_loss").map(|(_, v)| v).collect();
    let expected: Vec<f32> = h.series("loss").unwrap().iter().map(|v| *v as f32).collect();
    assert_eq!(losses, expected);
}

#[test]
fn a_corrupted_record_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let mut w = EventWriter::create(dir.path()).unwrap();
        for step in 0..5 {
            w.add_scalar("epoch_loss", 1.0 / (step + 1) as f32, step).unwrap();
        }
        w.path().to_path_buf()
    }; // dropped: flushed
    assert_eq!(read_events(&path).unwrap().len(), 6);
    let good = std::fs::read(&path).unwrap();
    // Flip one bit in the data of the last event, then in the first length field.
    let record = good.len() / 6;
    for at in [good.len() - record / 2, 3] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        std::fs::write(&path, &bad).unwrap();
        let e = read_events(&path).unwrap_err();
        assert!(matches!(e, Error::EventFile { .. }), "{e}");
        assert!(e.to_string().contains("CRC does not match"), "{e}");
    }
    // A cut file is reported as truncated.
    std::fs::write(&path, &good[..good.len() - 3]).unwrap();
    let e = read_events(&path).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
    // A length with a valid CRC but near 2^64 is reported, not an overflow or an out-of-range slice.
    for len in [u64::MAX - 13, u64::MAX, 1 << 40] {
        let mut huge = len.to_le_bytes().to_vec();
        huge.extend(tch_keras::tensorboard::masked_crc32c(&huge).to_le_bytes());
        std::fs::write(&path, &huge).unwrap();
        let e = read_events(&path).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains(&len.to_string()), "{e}");
    }
    // TensorBoard's own reader stops at the corrupted record: it sees fewer values.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - record / 2] ^= 0x40;
    std::fs::write(&path, &bad).unwrap();
    let json = tensorboard_read(&[dir.path().to_path_buf()]);
    let read = scalars(&json, dir.path());
    assert!(read.get("epoch_loss").map_or(0, |v| v.len()) < 5, "{read:?}");
}

#[test]
fn histograms_of_any_bucket_count_are_made_without_panicking() {
    use tch_keras::tensorboard::{Histogram, MAX_HISTOGRAM_BUCKETS};
    // usize::MAX buckets overflowed the bucket vector's capacity.
    let h = std::panic::catch_unwind(|| Histogram::from_values(&[1.0, 2.0, 4.0], usize::MAX)).expect("panicked");
    assert_eq!(h.bucket.len(), MAX_HISTOGRAM_BUCKETS);
    assert_eq!(h.bucket.iter().sum::<f64>(), 3.0);
    assert_eq!(h.bucket_limit.last(), Some(&4.0));
}
