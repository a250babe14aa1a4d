//! Weights and whole-model files: round trips, PyTorch interoperability, resume, crash safety
//! and bad files.
use std::path::{Path, PathBuf};
use std::process::Command;

use tch::{Device, Kind, Tensor};
use tch_keras::data::cache_dir;
use tch_keras::{
    load_model, Activation, BatchNormalization, Conv2D, Dense, Dropout, Error, FitConfig, Flatten, Loss, MaxPooling2D,
    Metric, Optimizer, Sequential, Verbosity,
};

fn cnn() -> Sequential {
    Sequential::new()
        .input_shape([1, 8, 8])
        .add(Conv2D::new(4, 3).activation(Activation::Relu))
        .add(BatchNormalization::new())
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .add(Dropout::new(0.3))
        .add(Dense::new(3).activation(Activation::Softmax))
        .seed(5)
}

fn data() -> (Tensor, Tensor) {
    tch::manual_seed(11);
    let x = Tensor::randn([64, 1, 8, 8], (Kind::Float, Device::Cpu));
    let y = x.mean_dim(&[2i64, 3][..], false, Kind::Float).reshape([64]).gt(0.0).to_kind(Kind::Int64)
        + x.select(3, 0).mean_dim(&[1i64, 2][..], false, Kind::Float).gt(0.0).to_kind(Kind::Int64);
    (x, y)
}

fn compiled(opt: Optimizer) -> Sequential {
    let mut m = cnn();
    m.compile(opt, Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    m
}

fn fit(m: &mut Sequential, x: &Tensor, y: &Tensor, initial_epoch: usize, epochs: usize) {
    m.fit(x, y, FitConfig { epochs, initial_epoch, batch_size: 16, verbose: Verbosity::Silent, ..Default::default() })
        .unwrap();
}

/// LibTorch's random generator is process-wide, and these tests check exact reproducibility:
/// they run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn load_model_round_trip_predicts_identical_outputs() {
    let _serial = serial();
    let (x, y) = data();
    let mut m = compiled(Optimizer::rmsprop(0.01));
    fit(&mut m, &x, &y, 0, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    m.save(&path).unwrap();
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    assert_eq!(loaded.compiled().unwrap().1, Loss::SparseCategoricalCrossentropy);
    assert_eq!(loaded.epochs_done(), 2);
    assert_eq!(loaded.iterations(), m.iterations());
    let (a, b) = (m.predict(&x, 16).unwrap(), loaded.predict(&x, 16).unwrap());
    assert!(a.equal(&b), "predictions differ");
    assert_eq!(loaded.summary().unwrap(), m.summary().unwrap());
}

/// A model without weights (preprocessing layers only) saves and loads: its file holds only
/// the metadata.
#[test]
fn a_model_without_weights_round_trips() {
    let norm = tch_keras::Normalization::new().with_statistics([1.0, 2.0], [4.0, 9.0]);
    let mut m = Sequential::new().input_shape([2, 1]).add(Flatten::new()).add(norm);
    m.build().unwrap();
    assert_eq!(m.count_params().unwrap(), 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.safetensors");
    m.save(&path).unwrap();
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    let x = Tensor::from_slice(&[3f32, 8., 1., 2.]).reshape([2, 2, 1]);
    let out = loaded.predict(&x, 2).unwrap();
    assert!(out.equal(&m.predict(&x, 2).unwrap()));
    assert_eq!(Vec::<f32>::try_from(out.reshape([-1])).unwrap(), [1.0, 2.0, 0.0, 0.0]);
}

#[test]
fn weights_round_trip_and_mismatches_are_listed() {
    let _serial = serial();
    let (x, y) = data();
    let mut m = compiled(Optimizer::adam(0.01));
    fit(&mut m, &x, &y, 0, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    m.save_weights(&path).unwrap();
    let mut fresh = cnn().seed(99);
    fresh.build().unwrap();
    assert!(!fresh.predict(&x, 64).unwrap().equal(&m.predict(&x, 64).unwrap()));
    fresh.load_weights(&path).unwrap();
    assert!(fresh.predict(&x, 64).unwrap().equal(&m.predict(&x, 64).unwrap()));

    let mut other =
        Sequential::new().input_shape([1, 8, 8]).add(Conv2D::new(5, 3)).add(Flatten::new()).add(Dense::new(3));
    other.build().unwrap();
    let before = other.get_weights().unwrap();
    let e = other.load_weights(&path).unwrap_err();
    assert!(matches!(e, Error::Checkpoint { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("w.safetensors") && text.contains("does not match"), "{text}");
    assert!(
        text.contains("layers.0.weight has shape [4, 1, 3, 3] in the file but [5, 1, 3, 3] in the model"),
        "{text}"
    );
    assert!(text.contains("layers.1.running_mean is in the file but not in the model"), "{text}");
    for (a, b) in before.iter().zip(other.get_weights().unwrap()) {
        assert!(a.equal(&b), "a failed load changed the weights");
    }
    // A weights-only file has no architecture.
    let e = load_model(&path, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("no model architecture") && e.contains("load_weights"), "{e}");
}

#[test]
fn bad_files_are_typed_errors() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.safetensors");
    let e = load_model(&missing, Device::Cpu).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("missing.safetensors"), "{e}");

    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"this is not a safetensors file at all").unwrap();
    let e = load_model(&junk, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("junk.safetensors") && e.contains("not a readable safetensors file"), "{e}");

    let (x, y) = data();
    let mut m = compiled(Optimizer::adam(0.01));
    fit(&mut m, &x, &y, 0, 1);
    let good = dir.path().join("good.safetensors");
    m.save(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_model(&cut, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("cut.safetensors") && e.contains("truncated"), "{e}");

    let e = m.save(Path::new("/nonexistent-folder/m.safetensors")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent-folder/m.safetensors"), "{e}");
    let e = Sequential::new().add(Dense::new(1)).save_weights(dir.path().join("x")).unwrap_err();
    assert!(matches!(e, Error::NotBuilt { .. }), "{e}");
    // A model with an input shape is not built until something builds it: the error says how,
    // rather than asking for the input shape it has.
    let e = Sequential::new().input_shape([3]).add(Dense::new(1)).save(dir.path().join("y.safetensors")).unwrap_err();
    assert!(matches!(e, Error::NotBuilt { .. }) && e.to_string().contains("Sequential::build"), "{e}");
}

/// `PYTHONPATH` for PyTorch (the wheel scripts/setup.sh unpacked, whose `torch/` folder is the
/// LibTorch `.libtorch` links to) and the Python `safetensors` package, which this test installs
/// into the cache itself (`scripts/py-deps.sh safetensors`).
fn python_path() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let torch = root
        .join(".libtorch")
        .canonicalize()
        .ok()
        .and_then(|lib| lib.parent().map(Path::to_path_buf))
        .filter(|site| site.join("torch/__init__.py").exists())
        .unwrap_or_else(|| cache_dir().join("torch-2.11.0"));
    assert!(
        torch.join("torch/__init__.py").exists(),
        "PyTorch for Python is not at {} (scripts/setup.sh installs the wheel)",
        torch.display()
    );
    let deps = Command::new("bash").arg(root.join("scripts/py-deps.sh")).arg("safetensors").output().unwrap();
    assert!(
        deps.status.success(),
        "scripts/py-deps.sh safetensors failed (it needs python3 and PyPI): {}",
        String::from_utf8_lossy(&deps.stderr)
    );
    let st = String::from_utf8(deps.stdout).unwrap().trim().to_string();
    format!("{}:{st}", torch.display())
}

#[test]
fn pytorch_reads_saved_weights_with_the_same_names_and_values() {
    let _serial = serial();
    let pythonpath = python_path();
    let (x, y) = data();
    let mut m = compiled(Optimizer::adam(0.01));
    fit(&mut m, &x, &y, 0, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    m.save_weights(&path).unwrap();
    let script = r#"
import sys, json, safetensors.torch as st
d = st.load_file(sys.argv[1])
print(json.dumps({k: {"shape": list(v.shape), "dtype": str(v.dtype), "values": v.flatten().tolist()} for k, v in d.items()}))
"#;
    let out = Command::new("python3").env("PYTHONPATH", pythonpath).arg("-c").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let obj = json.as_object().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(obj.len(), vars.len());
    for (name, t) in vars {
        let entry = &obj[name.as_str()];
        assert_eq!(entry["dtype"], "torch.float32", "{name}");
        let shape: Vec<i64> = entry["shape"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(shape, t.size(), "{name}");
        let values: Vec<f32> = entry["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert_eq!(values, Vec::<f32>::try_from(t.reshape([-1])).unwrap(), "{name}");
    }
    assert!(obj.contains_key("layers.1.running_var") && obj.contains_key("layers.5.weight"));
}

#[test]
fn resuming_after_epoch_one_of_three_gives_bitwise_the_same_weights() {
    let _serial = serial();
    let (x, y) = data();
    for opt in [Optimizer::adam(0.01), Optimizer::sgd_momentum(0.05, 0.9, true), Optimizer::adagrad(0.05)] {
        let mut straight = compiled(opt.clone());
        fit(&mut straight, &x, &y, 0, 3);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.safetensors");
        let mut first = compiled(opt.clone());
        fit(&mut first, &x, &y, 0, 1);
        first.save(&path).unwrap();
        drop(first);
        let mut resumed = load_model(&path, Device::Cpu).unwrap();
        let start = resumed.epochs_done();
        assert_eq!(start, 1);
        fit(&mut resumed, &x, &y, start, 3);

        assert_eq!(resumed.iterations(), straight.iterations());
        for ((name, a), (_, b)) in straight.variables().unwrap().iter().zip(resumed.variables().unwrap()) {
            assert!(a.equal(b), "{opt:?}: {name} differs after resuming");
        }
    }
}

fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect()
}

#[test]
fn a_save_killed_before_the_rename_leaves_the_old_file_loadable() {
    let _serial = serial();
    let mut m = tch_keras::recipes::mnist_mlp();
    tch_keras::recipes::compile_classifier(&mut m, 0.001, "accuracy").unwrap();
    m.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    m.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // The binary trains the checkpoint one more epoch and saves over it; the hook aborts it
    // after writing the temporary file, before the rename, as a crash would.
    let out = Command::new(env!("CARGO_BIN_EXE_tch-keras"))
        .env(tch_keras::saving::CRASH_BEFORE_RENAME_ENV, "1")
        .args(["--load", path.to_str().unwrap(), "--epochs", "1", "--verbose", "0", "--save", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("error:"), "the run failed before saving: {err}");
    assert!(!out.status.success(), "the save was expected to be killed");
    let tmp = tmp_files(dir.path());
    assert_eq!(tmp.len(), 1, "the interrupted temporary file is left beside the checkpoint");
    assert!(std::fs::metadata(&tmp[0]).unwrap().len() > before.len() as u64, "the new file holds optimizer state too");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the old checkpoint was changed");
    let x = Tensor::rand([5, 784], (Kind::Float, Device::Cpu));
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.epochs_done(), 0);
    assert!(loaded.predict(&x, 64).unwrap().equal(&m.predict(&x, 64).unwrap()));
    // The next save to the same target removes the killed process's temporary.
    loaded.save(&path).unwrap();
    assert_eq!(tmp_files(dir.path()), Vec::<PathBuf>::new(), "the stale temporary is left behind");
}

#[cfg(unix)]
#[test]
fn saves_never_follow_planted_symlinks_and_remove_stale_temporaries() {
    use std::os::unix::fs::symlink;
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    // Symlinks to the victim at the temporary name a save of this process used to take.
    let planted = dir.path().join(format!(".m.safetensors.tmp-{}", std::process::id()));
    symlink(&victim, &planted).unwrap();
    // Temporaries of killed processes (no process has these ids: above Linux's pid_max), one
    // of them a symlink; and another target's temporary, which is not this save's business.
    let stale = dir.path().join(".m.safetensors.tmp-4294967295-x1Yz9q");
    std::fs::write(&stale, "half a model").unwrap();
    let stale_link = dir.path().join(".m.safetensors.tmp-4294967294-Q2w3e4");
    symlink(&victim, &stale_link).unwrap();
    let other = dir.path().join(".other.safetensors.tmp-4294967295-x1Yz9q");
    std::fs::write(&other, "another target").unwrap();

    let m = compiled(Optimizer::adam(0.01));
    m.save(&path).unwrap();
    m.save_weights(&path).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "a planted symlink was followed");
    assert!(std::fs::symlink_metadata(&path).unwrap().file_type().is_file(), "the saved file is not a plain file");
    assert!(m.get_weights().unwrap()[0].equal(&{
        let mut fresh = cnn();
        fresh.load_weights(&path).unwrap();
        fresh.get_weights().unwrap().remove(0)
    }));
    assert!(!stale.exists() && std::fs::symlink_metadata(&stale_link).is_err(), "stale temporaries are left");
    assert!(other.exists(), "another target's temporary was removed");
    // The saved file has the permissions of any new file (0666 less the umask), not 0600.
    use std::os::unix::fs::PermissionsExt;
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), mode(&plain));
}

#[test]
fn write_safetensors_refuses_a_name_given_twice_and_kinds_it_cannot_store() {
    use tch_keras::saving::write_safetensors;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.safetensors");
    let t = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
    // The safetensors serializer panicked ("index out of bounds") on the repeated name.
    let twice = [("w".to_string(), t.shallow_clone()), ("w".to_string(), t.shallow_clone())];
    let e = std::panic::catch_unwind(|| write_safetensors(&path, &twice, Default::default())).expect("panicked");
    let e = e.unwrap_err();
    assert!(matches!(e, tch_keras::Error::Checkpoint { .. }) && e.to_string().contains("w is given twice"), "{e}");
    let e = write_safetensors(&path, &[("m".to_string(), t.gt(0.0))], Default::default()).unwrap_err();
    assert!(e.to_string().contains("kind Bool") && e.to_string().contains("to_kind(Kind::Float)"), "{e}");
    assert!(!path.exists());
}
