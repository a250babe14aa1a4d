//! What a library user compiles and what set-up installs: the command-line program's
//! dependencies sit behind the default `cli` feature, and scripts/setup.sh installs only what
//! the build and the data need on this machine.
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The direct dependencies (`cargo tree --depth 1`), names only, with the given extra flags.
fn direct_dependencies(extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-e", "normal", "--depth", "1", "--prefix", "none", "-p", "tch-keras"])
        .args(extra)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect()
}

#[test]
fn a_library_user_does_not_compile_the_command_lines_dependencies() {
    let lib_only = direct_dependencies(&["--no-default-features"]);
    assert!(lib_only.iter().any(|d| d == "tch"), "{lib_only:?}");
    for cli_only in ["clap", "anyhow"] {
        assert!(!lib_only.iter().any(|d| d == cli_only), "{cli_only} without the cli feature: {lib_only:?}");
    }
    let with_cli = direct_dependencies(&[]);
    assert!(with_cli.iter().any(|d| d == "clap") && with_cli.iter().any(|d| d == "anyhow"), "{with_cli:?}");

    // indicatif's in-memory terminal (and its vt100 dependency) is for the progress-bar tests.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none", "--no-default-features", "-p", "tch-keras"])
        .current_dir(root())
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && tree.contains("indicatif"), "{tree}");
    assert!(!tree.contains("vt100"), "vt100 in the library's dependencies:\n{tree}");
}

/// Links `name` in `cache` to the same entry of the real cache, when there is one.
fn link_from(real: &Path, cache: &Path, name: &str) {
    let from = real.join(name);
    if from.exists() {
        std::fs::create_dir_all(cache.join(name).parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&from, cache.join(name)).unwrap();
    }
}

/// scripts/setup.sh run in a copy of the clone against a cache whose entries link to the real
/// one (so nothing is downloaded): it no longer installs the Python `safetensors` package (the
/// interoperability test installs it itself), and it installs the CUDA headers only where an
/// NVIDIA driver makes CUDA usable.
#[test]
fn setup_installs_only_what_this_machine_uses() {
    let real = tch_keras::data::cache_dir();
    let clone = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(clone.path().join("scripts")).unwrap();
    std::fs::copy(root().join("scripts/setup.sh"), clone.path().join("scripts/setup.sh")).unwrap();
    for name in
        ["torch-2.11.0", "data/mnist", "data/fashion-mnist", "data/sklearn", "cuda-crt-13.0.88", "cuda-cccl-13.0.85"]
    {
        link_from(&real, cache.path(), name);
    }
    for entry in std::fs::read_dir(&real).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("gloo-headers-") {
            link_from(&real, cache.path(), &name);
        }
    }
    assert!(
        cache.path().join("torch-2.11.0/.complete").exists(),
        "no LibTorch in {}: run scripts/setup.sh",
        real.display()
    );

    let out = Command::new("bash")
        .arg(clone.path().join("scripts/setup.sh"))
        .env("TCH_KERAS_CACHE", cache.path())
        .env_remove("LIBTORCH")
        .env_remove("TCH_KERAS_CUDA_HEADERS")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "setup.sh failed:\n{log}");
    assert!(log.contains("ready"), "{log}");
    assert!(!cache.path().join("py-safetensors").exists(), "setup.sh installed Python safetensors:\n{log}");
    assert!(!log.contains("safetensors"), "{log}");

    let driver = Path::new("/proc/driver/nvidia/version").exists()
        || Command::new("nvidia-smi").arg("-L").output().is_ok_and(|o| o.status.success());
    let crt = clone.path().join(".cuda-crt");
    if driver {
        assert!(crt.exists(), "CUDA is usable but setup.sh did not set up the CUDA headers:\n{log}");
    } else {
        assert!(!crt.exists() && !clone.path().join(".cuda-cccl").exists(), "CUDA headers without a driver:\n{log}");
        assert!(log.contains("CUDA headers skipped"), "{log}");
    }
}
