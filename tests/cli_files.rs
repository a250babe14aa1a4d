//! The command line on crafted and damaged files: one `error:` line without a C++ backtrace or
//! a repeated system message, exit status 1 (never a panic's 101); gzipped idx files train.
use std::path::Path;
use std::process::{Command, Output};

use tch_keras::recipes;

#[path = "common/files.rs"]
mod files;
use files::*;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tch-keras")).env("OMP_NUM_THREADS", "1").args(args).output().expect("runs")
}

/// Checks a refused run: exit status 1 and one line on standard error, starting `error:`.
fn assert_one_error_line(o: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() == 1 && lines[0].starts_with("error: "), "not one error line:\n{err}");
    assert!(!err.contains("frame #") && !err.contains("Exception raised from"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    err
}

fn tiny_mnist(dir: &Path, rows: u32, cols: u32, gz: bool) -> String {
    std::fs::create_dir_all(dir).unwrap();
    write_mnist_dir(dir, 12, 6, rows, cols, gz);
    dir.to_str().unwrap().to_string()
}

#[test]
fn a_crafted_model_file_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_mnist(&dir.path().join("data"), 28, 28, false);
    let mut m = recipes::mnist_mlp();
    recipes::compile_classifier(&mut m, 0.001, "accuracy").unwrap();
    let good = dir.path().join("mlp.safetensors");
    m.save(&good).unwrap();
    let crafted = dir.path().join("crafted.safetensors");
    edit_description(&good, &crafted, |j| j["layers"][0]["config"]["units"] = serde_json::json!(1_000_000_000_000i64));
    let o = run(&["--load", crafted.to_str().unwrap(), "--epochs", "1", "--verbose", "0", "--data-dir", &data]);
    assert_one_error_line(&o, &["crafted.safetensors", "units", "1000000000000"]);
}

#[test]
fn a_missing_file_states_the_system_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_mnist(&dir.path().join("data"), 28, 28, false);
    let missing = dir.path().join("missing.safetensors");
    let o = run(&["--load", missing.to_str().unwrap(), "--verbose", "0", "--data-dir", &data]);
    let err = assert_one_error_line(&o, &["missing.safetensors"]);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn gzipped_idx_files_train() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_mnist(&dir.path().join("data"), 28, 28, true);
    let o = run(&["--model", "mlp", "--epochs", "1", "--verbose", "0", "--device", "cpu", "--data-dir", &data]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("test accuracy"), "{out}");
}
