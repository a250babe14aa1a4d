//! The command line refuses what would fail late or silently, and resumes runs exactly.
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tch-keras")).env("OMP_NUM_THREADS", "1").args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails at once with one `error:` line naming `needles`, without training.
fn refused_before_training(args: &[&str], needles: &[&str]) {
    let o = run(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!err.contains("Epoch 1/"), "{args:?} trained before failing: {err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    assert!(!err.contains("panicked") && !err.contains("frame #"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr lacks {n:?}:\n{err}");
    }
}

#[test]
fn output_paths_and_conflicting_flags_are_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let base = ["--model", "mlp", "--epochs", "1", "--verbose", "2"];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let check = |extra: &[&str], needles: &[&str]| {
        let args = with(extra);
        refused_before_training(&args.iter().map(String::as_str).collect::<Vec<_>>(), needles);
    };
    check(&["--report", &t("missing/r.json")], &["--report", "does not exist"]);
    check(&["--save", tmp.path().to_str().unwrap()], &["--save", "is a folder"]);
    check(&["--csv", &t("no/such/log.csv")], &["--csv"]);
    refused_before_training(&["--model", "mlp", "--epochs", "0"], &["--epochs 0", "--load"]);

    // A saved model: flags that would silently not apply to it are refused.
    let model = t("m.safetensors");
    let o = run(&["--model", "mlp", "--epochs", "1", "--verbose", "0", "--batch-size", "600", "--save", &model]);
    assert!(o.status.success(), "{}", stderr(&o));
    refused_before_training(&["--load", &model, "--seed", "3"], &["--seed", "--load"]);
    refused_before_training(&["--load", &model, "--model", "cnn"], &["--model", "--load"]);
    refused_before_training(&["--load", &model, "--epochs", &u64::MAX.to_string()], &["--epochs", "too large"]);
    // --lr applies to a loaded model, and says so.
    let report = t("r.json");
    let o = run(&["--load", &model, "--lr", "0.0005", "--epochs", "0", "--verbose", "0", "--report", &report]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("--lr 0.0005 replaces"), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["learning_rate"], 0.0005);
    // The stored batch size is the loaded model's default.
    assert_eq!(r["batch_size"], 600);
}

#[test]
fn a_checkpoint_folder_is_a_literal_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ck_{epoch}");
    let d = dir.to_str().unwrap();
    let o = run(&["--model", "mlp", "--epochs", "1", "--batch-size", "600", "--verbose", "0", "--checkpoint-dir", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("last.safetensors").exists(), "{:?}", std::fs::read_dir(tmp.path()).unwrap().collect::<Vec<_>>());
    assert!(!tmp.path().join("ck_1").exists());
    let o = run(&["--resume", d, "--epochs", "2", "--verbose", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(tch_keras::load_model(dir.join("last.safetensors"), tch::Device::Cpu).unwrap().epochs_done(), 2);
}

/// Two checkpoints hold the same tensors (weights, optimizer state) and the same training
/// position and run state; only the settings of the fit that wrote them may differ (the first
/// part of an interrupted run was asked for fewer epochs).
fn same_checkpoint(a: &Path, b: &Path) -> Result<(), String> {
    let (ta, ma) = tch_keras::saving::read_safetensors(a).unwrap();
    let (tb, mb) = tch_keras::saving::read_safetensors(b).unwrap();
    if ta.len() != tb.len() {
        return Err(format!("{} vs {} tensors", ta.len(), tb.len()));
    }
    for ((na, x), (nb, y)) in ta.iter().zip(&tb) {
        if na != nb || !x.equal(y) {
            return Err(format!("tensor {na} differs"));
        }
    }
    let config = |m: &std::collections::HashMap<String, String>| {
        let mut v: serde_json::Value = serde_json::from_str(&m[tch_keras::saving::MODEL_KEY]).unwrap();
        v["compile"]["fit"] = serde_json::Value::Null;
        v
    };
    if config(&ma) != config(&mb) {
        return Err(format!("configs differ: {} vs {}", config(&ma), config(&mb)));
    }
    Ok(())
}

/// A run interrupted after 2 epochs and resumed to 4, with checkpoints, early stopping and a
/// non-default batch size, ends with the same files as the uninterrupted run: the same weights,
/// optimizer state, best checkpoint and early-stopping counters.
#[test]
fn a_resumed_run_with_callbacks_ends_identical_to_the_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let common = ["--model", "mlp", "--batch-size", "200", "--lr", "0.02", "--early-stopping", "1", "--verbose", "0"];
    let with = |dir: &Path, epochs: &str| -> Vec<String> {
        let mut v: Vec<String> = common.iter().map(|s| s.to_string()).collect();
        v.extend(["--epochs".into(), epochs.into(), "--checkpoint-dir".into(), dir.to_str().unwrap().into()]);
        v
    };
    let go = |args: Vec<String>| {
        let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    go(with(&whole, "4"));
    go(with(&parts, "2"));
    go(vec![
        "--resume".into(),
        parts.to_str().unwrap().into(),
        "--epochs".into(),
        "4".into(),
        "--verbose".into(),
        "0".into(),
    ]);
    for name in ["last.safetensors", "best.safetensors"] {
        if let Err(e) = same_checkpoint(&whole.join(name), &parts.join(name)) {
            panic!("{name} differs after resuming: {e}");
        }
    }
}
