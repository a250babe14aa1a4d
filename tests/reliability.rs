//! Crafted and damaged files end in typed errors naming what is wrong, never in a panic, a C++
//! backtrace or a large allocation; counts out of range are refused; non-finite weights warn;
//! idx files are read raw or gzip-compressed.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;

use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};
use tch_keras::data::load_mnist_dir;
use tch_keras::{
    load_model, Activation, BatchNormalization, Conv1D, Conv2D, Dense, Dropout, Embedding, Error, Flatten,
    LayerNormalization, MaxPooling2D, Padding, Reshape, Sequential, GRU, LSTM,
};

#[path = "common/files.rs"]
mod files;
use files::*;

/// Messages logged by the library (`log::warn!`), captured for the tests that check warnings.
static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOGGED.lock().unwrap().push(record.args().to_string());
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
    });
}

fn logged_about(path: &Path) -> Vec<String> {
    let p = path.display().to_string();
    LOGGED.lock().unwrap().iter().filter(|m| m.contains(&p)).cloned().collect()
}

/// `load_model` on `path`, failing the test on a panic.
fn load_no_panic(path: &Path) -> tch_keras::Result<Sequential> {
    catch_unwind(AssertUnwindSafe(|| load_model(path, Device::Cpu)))
        .unwrap_or_else(|_| panic!("load_model panicked on {}", path.display()))
}

type Edit = fn(&mut Value);

#[test]
fn crafted_model_descriptions_are_typed_errors_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let good = save_small_model(dir.path());
    // The small model: [1, 6, 6] -> Conv2D(2, 3x3) -> BatchNorm -> MaxPool(2) -> Flatten -> Dense(3).
    let cases: [(&str, Edit, &[&str]); 12] = [
        // tch's VarStore panics on this allocation.
        (
            "units_1e12",
            |j| j["layers"][4]["config"]["units"] = json!(1_000_000_000_000i64),
            &["layers[4]", "units", "1000000000000"],
        ),
        ("units_negative", |j| j["layers"][4]["config"]["units"] = json!(-5), &["layers[4]", "units -5"]),
        // 3 x 18M weights: ~430 MB allocated before the mismatch was noticed.
        ("input_6000", |j| j["input_shape"] = json!([1, 6000, 6000]), &["layers.4.weight", "[3, 8]", "[3, 17988002]"]),
        ("input_1e13", |j| j["input_shape"] = json!([1, 10_000_000_000_000i64, 6]), &["input_shape", "10000000000000"]),
        ("input_empty", |j| j["input_shape"] = json!([]), &["input_shape"]),
        (
            "filters_1e6",
            |j| j["layers"][0]["config"]["filters"] = json!(1_000_000),
            &["layers.0.weight", "[1000000, 1, 3, 3]"],
        ),
        (
            "kernel_huge",
            |j| j["layers"][0]["config"]["kernel_size"] = json!([3, 4_000_000_000i64]),
            &["layers[0]", "kernel_size"],
        ),
        ("no_layers", |j| j["layers"] = json!([]), &["no layers"]),
        ("epochs_done_max", |j| j["epochs_done"] = json!(u64::MAX), &["epochs_done", "18446744073709551615"]),
        ("iterations_negative", |j| j["compile"]["iterations"] = json!(-3), &["iterations", "-3", "negative"]),
        ("batch_size_zero", |j| j["compile"]["fit"]["batch_size"] = json!(0), &["fit.batch_size", "0"]),
        ("dense_removed", |j| drop(j["layers"].as_array_mut().unwrap().pop()), &["layers.4.weight", "no layer"]),
    ];
    let before = peak_rss_kib();
    for (name, edit, expected) in cases {
        let path = dir.path().join(format!("{name}.safetensors"));
        edit_description(&good, &path, edit);
        let e = load_no_panic(&path).err().unwrap_or_else(|| panic!("{name}: loaded"));
        let text = e.to_string();
        assert!(matches!(e, Error::Checkpoint { .. }), "{name}: {e:?}");
        assert!(text.contains(&path.display().to_string()), "{name}: the file is not named: {text}");
        for part in expected {
            assert!(text.contains(part), "{name}: '{part}' missing from: {text}");
        }
    }
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 100, "loading the crafted files raised the peak memory by {grown_mib} MiB");
    // The untouched file still loads.
    assert!(load_no_panic(&good).is_ok());
}

#[test]
fn every_layer_declares_the_variables_it_builds() {
    // `load_model` checks a file against `param_shapes` before building: they must agree.
    let m = Sequential::new()
        .input_shape([12])
        .add(Dense::new(36).use_bias(false))
        .add(BatchNormalization::new())
        .add(Reshape::new([1, 6, 6]))
        .add(Conv2D::new(3, 3).padding(Padding::Same).activation(Activation::Relu))
        .add(Conv2D { use_bias: false, ..Conv2D::new(2, 2) })
        .add(BatchNormalization::new())
        .add(MaxPooling2D::new(2))
        .add(Dropout::new(0.1))
        .add(Flatten::new())
        .add(Activation::Tanh)
        .add(Dense::new(4));
    assert_declared_variables_are_built(m, &[12]);
    let sequences = Sequential::new()
        .input_shape([6])
        .add(Embedding::new(20, 5))
        .add(LSTM::new(4).return_sequences(true))
        .add(LayerNormalization::new())
        .add(GRU::new(3).return_sequences(true))
        .add(LSTM { use_bias: false, ..LSTM::new(2) })
        .add(Reshape::new([1, 2]))
        .add(Conv1D::new(3, 1))
        .add(GRU { use_bias: false, ..GRU::new(2) });
    assert_declared_variables_are_built(sequences, &[6]);
}

fn assert_declared_variables_are_built(mut m: Sequential, input: &[i64]) {
    m.build().unwrap();
    let shapes = m.output_shapes(input).unwrap();
    let mut declared = Vec::new();
    let mut input = input.to_vec();
    for (index, layer) in m.layers().iter().enumerate() {
        for (name, shape) in layer.spec().param_shapes(&input) {
            declared.push((format!("layers.{index}.{name}"), shape));
        }
        input.clone_from(&shapes[index]);
    }
    let built: Vec<(String, Vec<i64>)> = m.variables().unwrap().iter().map(|(n, t)| (n.clone(), t.size())).collect();
    assert_eq!(declared, built);
}

#[test]
fn layers_too_large_to_allocate_are_errors_not_panics() {
    // Outputs within the 2^31 values per sample a model may hold, variables beyond 64 bits.
    let mut m = Sequential::new().input_shape([1 << 40]).add(Dense::new(1 << 30));
    let built = catch_unwind(AssertUnwindSafe(|| m.build())).expect("building panicked");
    let e = built.unwrap_err().to_string();
    assert!(!e.contains("frame #") && !e.contains("Exception raised from"), "{e}");
    // The error names the layer and what to do, and comes before LibTorch's "Storage size
    // calculation overflowed" when a variable's size does not fit in 64 bits.
    assert!(e.contains("layer 0 (Dense)") && e.contains("fewer units"), "{e}");
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(2)).add(Dense::new(i64::MAX / 2));
    let e = m.count_params().unwrap_err().to_string();
    assert!(e.contains("layer 1 (Dense)") && e.contains("64 bits") && !e.contains("LibTorch"), "{e}");
    let mut m = Sequential::new().input_shape([8]).add(Embedding::new(1 << 40, 1 << 28));
    let e = m.build().unwrap_err().to_string();
    assert!(e.contains("layer 0 (Embedding)") && e.contains("fewer units"), "{e}");
}

#[test]
fn a_cuda_device_libtorch_cannot_see_is_a_device_error_when_building() {
    let mut m = Sequential::new().device(Device::Cuda(99)).input_shape([4]).add(Dense::new(2));
    let e = m.build().unwrap_err();
    assert!(matches!(e, Error::Device { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("cuda:99") && text.contains("Device::C"), "{text}");
    assert!(!m.is_built());
}

#[test]
fn non_finite_weights_warn_when_saved_and_loaded_and_still_load() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut m = small_model();
    let mut weights = m.get_weights().unwrap();
    let _ = weights[0].fill_(f64::NAN);
    m.set_weights(&weights).unwrap();
    let path = dir.path().join("diverged.safetensors");
    m.save(&path).unwrap();
    let saved = logged_about(&path);
    assert!(saved.iter().any(|w| w.contains("saving") && w.contains("NaN")), "no warning on save: {saved:?}");
    let loaded = load_no_panic(&path).expect("a file with NaN weights loads (as in Keras)");
    let warnings = logged_about(&path);
    assert!(
        warnings.iter().any(|w| w.contains("loading") && w.contains("layers.0.")),
        "no warning on load: {warnings:?}"
    );
    assert!(loaded.get_weights().unwrap()[0].isnan().all().int64_value(&[]) == 1);
    // A healthy model saves without a warning.
    let healthy = dir.path().join("healthy.safetensors");
    small_model().save(&healthy).unwrap();
    assert!(logged_about(&healthy).is_empty());
}

#[test]
fn gzipped_idx_files_are_read_like_raw_ones() {
    let (raw, gz) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_mnist_dir(raw.path(), 12, 5, 28, 28, false);
    write_mnist_dir(gz.path(), 12, 5, 28, 28, true);
    let a = load_mnist_dir(raw.path()).unwrap();
    let b = load_mnist_dir(gz.path()).unwrap();
    assert_eq!(a.train_images.size(), [12, 784]);
    assert_eq!(a.image_shape, [28, 28]);
    assert!(a.train_images.equal(&b.train_images) && a.test_labels.equal(&b.test_labels));
    // Values as tch::vision::mnist reads them: pixels / 255, labels as int64.
    let (x, _) = images_and_labels(12, 28, 28);
    let expected = Tensor::from_slice(&x[16..]).to_kind(Kind::Float).view([12, 784]) / 255.0;
    assert!(a.train_images.equal(&expected));
    assert_eq!(Vec::<i64>::try_from(&b.test_labels).unwrap(), [0, 1, 2, 3, 4]);
    // A gzipped file under the raw name is read too.
    let renamed = tempfile::tempdir().unwrap();
    write_mnist_dir(renamed.path(), 12, 5, 28, 28, true);
    for entry in std::fs::read_dir(renamed.path()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::rename(&p, p.with_extension("")).unwrap();
    }
    assert!(load_mnist_dir(renamed.path()).unwrap().train_images.equal(&a.train_images));
}

/// The error `load_mnist_dir` gives after `damage` is applied to a fresh 28x28 set.
fn idx_error(damage: impl FnOnce(&Path)) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_dir(dir.path(), 12, 5, 28, 28, false);
    damage(dir.path());
    let e = catch_unwind(AssertUnwindSafe(|| load_mnist_dir(dir.path()))).expect("panicked").unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn idx_errors_name_the_file_and_what_is_wrong() {
    let e = idx_error(|d| std::fs::write(d.join("train-labels-idx1-ubyte"), idx_bytes(&[11], &[1; 11])).unwrap());
    assert!(e.contains("train-labels-idx1-ubyte") && e.contains("11 labels") && e.contains("12 images"), "{e}");
    let e =
        idx_error(|d| std::fs::write(d.join("t10k-labels-idx1-ubyte"), idx_bytes(&[5], &[0, 1, 10, 3, 4])).unwrap());
    assert!(e.contains("t10k-labels-idx1-ubyte") && e.contains("label 10"), "{e}");
    let e = idx_error(|d| {
        let (x, _) = images_and_labels(5, 32, 32);
        std::fs::write(d.join("t10k-images-idx3-ubyte"), x).unwrap()
    });
    assert!(e.contains("t10k-images-idx3-ubyte") && e.contains("32x32") && e.contains("28x28"), "{e}");
    // Sizes whose product overflows 64 bits, in a file of a few bytes.
    let e = idx_error(|d| {
        std::fs::write(d.join("train-images-idx3-ubyte"), idx_bytes(&[u32::MAX, u32::MAX, u32::MAX], &[0; 64])).unwrap()
    });
    assert!(e.contains("train-images-idx3-ubyte") && e.contains("damaged"), "{e}");
    let e = idx_error(|d| {
        let bytes = std::fs::read(d.join("train-images-idx3-ubyte")).unwrap();
        std::fs::write(d.join("train-images-idx3-ubyte.gz"), gzip(&bytes[..bytes.len() - 9])).unwrap();
        std::fs::remove_file(d.join("train-images-idx3-ubyte")).unwrap();
    });
    assert!(e.contains("train-images-idx3-ubyte.gz") && e.contains("truncated"), "{e}");
    let e = idx_error(|d| {
        std::fs::remove_file(d.join("train-images-idx3-ubyte")).unwrap();
        std::fs::write(d.join("train-images-idx3-ubyte.gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]).unwrap()
    });
    assert!(e.contains("train-images-idx3-ubyte.gz") && e.contains("gzip"), "{e}");
}
