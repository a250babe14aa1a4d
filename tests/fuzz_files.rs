//! Fuzz-style robustness of the file loaders: a few hundred deterministic mutations each of a
//! valid model file (bit flips, truncations, edited JSON descriptions, edited tensor shapes in
//! the safetensors header) and of valid idx files (raw and gzip-compressed) are fed to
//! `load_model`, `load_weights` and the idx readers. Every one must end in `Ok` or a typed
//! error without a C++ backtrace, none may panic, and together they may raise the process's
//! peak memory (VmHWM) by at most [`MEMORY_BOUND_MIB`].
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};
use tch_keras::saving::MODEL_KEY;
use tch_keras::{load_model, Sequential};

#[path = "common/files.rs"]
mod files;
use files::*;

/// The most the mutated files may raise the peak resident memory, in MiB. A valid file is a
/// few KB; a loader that trusts a size in a damaged file allocates gigabytes.
const MEMORY_BOUND_MIB: u64 = 256;
const MODEL_MUTATIONS: usize = 400;
const IDX_MUTATIONS: usize = 400;

/// xorshift64*: a small deterministic generator, so every run tries the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn flip_bits(rng: &mut Rng, bytes: &mut [u8], range: std::ops::Range<usize>) {
    for _ in 0..1 + rng.below(8) {
        let i = range.start + rng.below(range.len());
        bytes[i] ^= 1 << rng.below(8);
    }
}

/// Values a damaged or hostile description might hold.
fn extreme(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!(0),
        json!(-1),
        json!(-1_000_000),
        json!(1),
        json!(3),
        json!(1_000_000),
        json!(1_000_000_000_000i64),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(2_147_483_648i64),
        json!(1e300),
        json!(-0.5),
        json!(0.5),
        json!(null),
        json!("Dense"),
        json!([]),
        json!([1, 2]),
        json!([0, -1, 7]),
        json!({}),
        json!(true),
    ])
    .clone()
}

/// The description's fields that hold sizes or counts.
const SIZE_KEYS: [&str; 11] = [
    "units",
    "filters",
    "kernel_size",
    "strides",
    "pool_size",
    "target_shape",
    "input_shape",
    "epochs_done",
    "iterations",
    "batch_size",
    "epochs",
];

/// Sizes and counts a damaged or hostile description might hold.
const SIZES: [i128; 14] = [
    0,
    -1,
    -7,
    1,
    2,
    1000,
    1_000_000,
    1_000_000_000,
    1 << 31,
    1_000_000_000_000,
    10_000_000_000_000,
    i64::MAX as i128,
    i64::MIN as i128,
    u64::MAX as i128,
];

/// Every path (object keys and array indices) to a value inside `v`.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                prefix.push(json!(k));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(json!(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, key| match key {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

/// One random edit of a JSON document: a value replaced, a key removed, a layer's kind
/// changed, a layer duplicated or dropped.
fn edit_json(rng: &mut Rng, doc: &mut Value) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    // Sizes and counts: what a loader that trusts the description allocates or loops over.
    let sizes: Vec<Vec<Value>> =
        all.iter().filter(|p| p.iter().any(|k| SIZE_KEYS.contains(&k.as_str().unwrap_or_default()))).cloned().collect();
    match rng.below(7) {
        0 => {
            let path = rng.pick(&all[1..]).clone();
            *at(doc, &path) = extreme(rng);
        }
        1 | 5 | 6 => {
            let path = rng.pick(&sizes).clone();
            *at(doc, &path) = json!(*rng.pick(&SIZES));
        }
        2 => {
            let path = rng.pick(&all[1..]).clone();
            let (last, parent) = path.split_last().unwrap();
            match (at(doc, parent), last) {
                (Value::Object(map), Value::String(k)) => drop(map.remove(k)),
                (Value::Array(items), Value::Number(i)) => drop(items.remove(i.as_u64().unwrap() as usize)),
                _ => {}
            }
        }
        3 => {
            if let Some(layers) = doc.get_mut("layers").and_then(Value::as_array_mut) {
                let i = rng.below(layers.len());
                let kind = rng.pick(&[
                    "Dense",
                    "Conv2D",
                    "MaxPooling2D",
                    "Flatten",
                    "Reshape",
                    "Dropout",
                    "Activation",
                    "Lstm",
                ]);
                layers[i]["class_name"] = json!(kind);
            }
        }
        _ => {
            if let Some(layers) = doc.get_mut("layers").and_then(Value::as_array_mut) {
                let i = rng.below(layers.len());
                if rng.below(2) == 0 {
                    let copy = layers[i].clone();
                    layers.insert(i, copy);
                } else {
                    layers.remove(i);
                }
            }
        }
    }
}

fn header_len(bytes: &[u8]) -> usize {
    8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

/// One mutation of a safetensors model file.
fn mutate_model(rng: &mut Rng, good: &[u8]) -> Vec<u8> {
    let mut bytes = good.to_vec();
    match rng.below(6) {
        0 => {
            let n = bytes.len();
            flip_bits(rng, &mut bytes, 0..n);
        }
        1 => flip_bits(rng, &mut bytes, 8..header_len(good)),
        2 => bytes.truncate(rng.below(good.len())),
        3 | 4 => {
            bytes = edit_header(good, |h| {
                let text = h["__metadata__"][MODEL_KEY].as_str().unwrap().to_string();
                let mut doc: Value = serde_json::from_str(&text).unwrap();
                for _ in 0..1 + rng.below(2) {
                    edit_json(rng, &mut doc);
                }
                h["__metadata__"][MODEL_KEY] = json!(doc.to_string());
            })
        }
        _ => {
            bytes = edit_header(good, |h| {
                let names: Vec<String> =
                    h.as_object().unwrap().keys().filter(|k| *k != "__metadata__").cloned().collect();
                let name = rng.pick(&names).clone();
                let shape: Vec<u64> = serde_json::from_value(h[&name]["shape"].clone()).unwrap();
                let numel: u64 = shape.iter().product();
                let new = match rng.below(4) {
                    // Same number of values, other shape: passes the safetensors checks.
                    0 => vec![numel],
                    1 => shape.iter().rev().copied().collect(),
                    2 => vec![0, u64::MAX],
                    _ => vec![rng.next() % 1_000_000_000_000, rng.next() % 100],
                };
                h[&name]["shape"] = json!(new);
            })
        }
    }
    bytes
}

fn check_error(what: &str, e: &tch_keras::Error) {
    let text = e.to_string();
    assert!(!text.contains("frame #") && !text.contains("Exception raised from"), "{what}: backtrace in: {text}");
}

#[test]
fn mutated_model_files_end_in_ok_or_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let good_path = save_small_model(dir.path());
    let good = std::fs::read(&good_path).unwrap();
    let mut target = small_model();
    let x = Tensor::rand([2, 1, 6, 6], (Kind::Float, Device::Cpu));
    let mut rng = Rng(0x5EED_F11E_0000_0001);
    let before = peak_rss_kib();
    let (mut loaded, mut refused) = (0, 0);
    for i in 0..MODEL_MUTATIONS {
        let bytes = mutate_model(&mut rng, &good);
        let path = dir.path().join(format!("m{i}.safetensors"));
        std::fs::write(&path, &bytes).unwrap();
        let what = format!("mutation {i} ({})", path.display());
        let result = catch_unwind(AssertUnwindSafe(|| load_model(&path, Device::Cpu)))
            .unwrap_or_else(|_| panic!("{what}: load_model panicked"));
        match result {
            Ok(model) => {
                loaded += 1;
                // A file that loads gives a model that runs (or says why not).
                let run = catch_unwind(AssertUnwindSafe(|| predict_if_small(&model, &x)))
                    .unwrap_or_else(|_| panic!("{what}: the loaded model panicked"));
                if let Err(e) = run {
                    check_error(&what, &e);
                }
            }
            Err(e) => {
                refused += 1;
                check_error(&what, &e);
            }
        }
        let weights = catch_unwind(AssertUnwindSafe(|| target.load_weights(&path)))
            .unwrap_or_else(|_| panic!("{what}: load_weights panicked"));
        if let Err(e) = weights {
            check_error(&what, &e);
        }
        std::fs::remove_file(&path).unwrap();
    }
    let grown = peak_rss_kib().saturating_sub(before) / 1024;
    eprintln!("model files: {loaded} loaded, {refused} refused; peak memory +{grown} MiB");
    assert!(grown <= MEMORY_BOUND_MIB, "peak memory grew by {grown} MiB (bound {MEMORY_BOUND_MIB})");
    // The mutations reach both outcomes (a generator that only produced junk would test little).
    assert!(loaded > 10 && refused > MODEL_MUTATIONS / 2, "loaded {loaded}, refused {refused}");
}

/// Predicts on `x` when the loaded model still takes `[1, 6, 6]` samples.
fn predict_if_small(model: &Sequential, x: &Tensor) -> tch_keras::Result<()> {
    if model.get_input_shape() == Some(&[1, 6, 6][..]) {
        let _ = model.forward_t(x, false)?;
    }
    Ok(())
}

/// One mutation of an idx file (`raw` is the uncompressed file).
fn mutate_idx(rng: &mut Rng, raw: &[u8], dims: usize) -> Vec<u8> {
    let mut bytes = raw.to_vec();
    match rng.below(6) {
        0 => {
            let n = bytes.len();
            flip_bits(rng, &mut bytes, 0..n);
        }
        1 => flip_bits(rng, &mut bytes, 0..4 + 4 * dims),
        2 => bytes.truncate(rng.below(raw.len())),
        3 => {
            // A random size in the header, from tiny to the largest u32.
            let i = 1 + rng.below(dims);
            let random = rng.next() as u32;
            let size = *rng.pick(&[0u32, 1, 2, 27, 29, 1 << 16, 1 << 31, u32::MAX, random]);
            bytes[4 * i..4 * i + 4].copy_from_slice(&size.to_be_bytes());
        }
        4 => bytes.extend_from_slice(&[7; 5]),
        _ => bytes = gzip(&bytes),
    }
    // Half of them stored gzip-compressed (and some compressed files damaged after).
    if rng.below(2) == 0 {
        bytes = gzip(&bytes);
        if rng.below(3) == 0 {
            let n = bytes.len();
            if rng.below(2) == 0 {
                flip_bits(rng, &mut bytes, 0..n);
            } else {
                bytes.truncate(rng.below(n));
            }
        }
    }
    bytes
}

#[test]
fn mutated_idx_files_end_in_ok_or_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = images_and_labels(20, 28, 28);
    let mut rng = Rng(0x1D_F11E_0000_0002);
    let before = peak_rss_kib();
    let (mut loaded, mut refused) = (0, 0);
    for i in 0..IDX_MUTATIONS {
        let is_images = rng.below(2) == 0;
        let (raw, dims) = if is_images { (&images, 3) } else { (&labels, 1) };
        let bytes = mutate_idx(&mut rng, raw, dims);
        let path = dir.path().join(format!("f{i}"));
        std::fs::write(&path, &bytes).unwrap();
        let what = format!("mutation {i} ({})", path.display());
        let result = catch_unwind(AssertUnwindSafe(|| {
            if is_images {
                tch_keras::idx::read_images(&path, "fuzz").map(|_| ())
            } else {
                tch_keras::idx::read_labels(&path, "fuzz").map(|_| ())
            }
        }))
        .unwrap_or_else(|_| panic!("{what}: the idx reader panicked"));
        match result {
            Ok(()) => loaded += 1,
            Err(e) => {
                refused += 1;
                check_error(&what, &e);
                assert!(e.to_string().contains(&path.display().to_string()), "{what}: the file is not named: {e}");
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
    // A whole folder with one damaged file goes through the same checks.
    for i in 0..40 {
        let set = dir.path().join(format!("set{i}"));
        std::fs::create_dir(&set).unwrap();
        write_mnist_dir(&set, 20, 10, 28, 28, i % 2 == 0);
        let name = *rng.pick(&["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"]);
        let (raw, dims) = if name.contains("images") { (&images, 3) } else { (&labels, 1) };
        for entry in std::fs::read_dir(&set).unwrap() {
            let p = entry.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with(name) {
                std::fs::remove_file(p).unwrap();
            }
        }
        std::fs::write(set.join(name), mutate_idx(&mut rng, raw, dims)).unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| tch_keras::data::load_mnist_dir(&set)))
            .unwrap_or_else(|_| panic!("folder {i}: load_mnist_dir panicked"));
        if let Err(e) = result {
            check_error(&format!("folder {i}"), &e);
        }
    }
    let grown = peak_rss_kib().saturating_sub(before) / 1024;
    eprintln!("idx files: {loaded} loaded, {refused} refused; peak memory +{grown} MiB");
    assert!(grown <= MEMORY_BOUND_MIB, "peak memory grew by {grown} MiB (bound {MEMORY_BOUND_MIB})");
    assert!(loaded > 10 && refused > IDX_MUTATIONS / 2, "loaded {loaded}, refused {refused}");
}
