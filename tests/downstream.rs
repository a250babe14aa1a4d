//! An application crate outside the project, made of the files the README's "Use it from your
//! own crate" section gives (Cargo.toml dependency, `.cargo/config.toml`, `build.rs`,
//! `src/main.rs`), is built and run with no environment variables: it must find LibTorch, train
//! an epoch on MNIST, start without `LD_LIBRARY_PATH` and have `libtorch_cuda` linked.
//!
//! The app is compiled into `target/downstream-app` (kept between runs, so only the first run
//! compiles `torch-sys` and tch-keras once more), from a temporary folder outside the clone
//! (so the clone's own `.cargo/config.toml` does not apply), with the clone's Cargo.lock (the
//! dependency versions this project is tested with).
use std::path::{Path, PathBuf};
use std::process::Command;

/// The code block of the README's "Use it from your own crate" section whose first line is
/// `first_line`, without its fence.
fn readme_block(section: &str, first_line: &str) -> String {
    let mut blocks = section.split("```").skip(1).step_by(2);
    blocks
        .find_map(|block| {
            let body = block.split_once('\n')?.1;
            body.starts_with(first_line).then(|| body.to_string())
        })
        .unwrap_or_else(|| panic!("the README's section has no code block starting with {first_line:?}"))
}

fn readme_section(root: &Path) -> String {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("## Use it from your own crate").expect("README section \"Use it from your own crate\"");
    let rest = &readme[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// Only what a login shell has: cargo's and rustup's homes, the search path, the data cache.
fn bare(cmd: &mut Command) -> &mut Command {
    cmd.env_clear();
    for key in ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "TCH_KERAS_CACHE"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    cmd
}

#[test]
fn an_app_crate_built_from_the_readme_finds_libtorch_trains_and_links_cuda() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let section = readme_section(&root);
    let app = tempfile::Builder::new().prefix("tch-keras-app-").tempdir().unwrap();
    assert!(!app.path().starts_with(&root), "the app must live outside the clone");

    // Cargo.toml: the README's dependency line, pointing at this clone.
    let deps = readme_block(&section, "[dependencies]").replace("/path/to/tch-keras", root.to_str().unwrap());
    assert!(deps.contains(root.to_str().unwrap()), "the README's dependency line names /path/to/tch-keras");
    let manifest = format!("[package]\nname = \"keras-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{deps}");
    std::fs::write(app.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), app.path().join("Cargo.lock")).unwrap();

    // .cargo/config.toml: the README's, with the LibTorch this clone uses (scripts/setup.sh's
    // link, or LIBTORCH) in place of the example path.
    let libtorch = root
        .join(".libtorch")
        .canonicalize()
        .ok()
        .or_else(|| std::env::var_os("LIBTORCH").map(PathBuf::from))
        .expect("no LibTorch: run scripts/setup.sh");
    let config = readme_block(&section, "[env]")
        .replace("/root/.cache/tch-keras/torch-2.11.0/torch", libtorch.to_str().unwrap());
    assert!(config.contains(libtorch.to_str().unwrap()), "the README's config names the cached LibTorch: {config}");
    std::fs::create_dir_all(app.path().join(".cargo")).unwrap();
    std::fs::write(app.path().join(".cargo/config.toml"), config).unwrap();

    std::fs::write(app.path().join("build.rs"), readme_block(&section, "// build.rs")).unwrap();
    std::fs::create_dir_all(app.path().join("src")).unwrap();
    std::fs::write(app.path().join("src/main.rs"), readme_block(&section, "// src/main.rs")).unwrap();

    let target = root.join("target/downstream-app");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = bare(&mut Command::new(cargo))
        .args(["build", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(app.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "the app did not build:\n{}", String::from_utf8_lossy(&out.stderr));

    let exe = target.join("release/keras-app");
    let ldd = Command::new("ldd").arg(&exe).output().expect("ldd");
    let ldd = String::from_utf8_lossy(&ldd.stdout).to_string();
    assert!(!ldd.contains("not found"), "a library is not found without LD_LIBRARY_PATH:\n{ldd}");
    assert!(ldd.contains("libtorch_cpu.so =>"), "{ldd}");
    if libtorch.join("lib/libtorch_cuda.so").exists() {
        assert!(ldd.contains("libtorch_cuda.so =>"), "libtorch_cuda was dropped by the linker:\n{ldd}");
    }

    let run = bare(&mut Command::new(&exe)).current_dir(app.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "the app failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let accuracy: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("accuracy after one epoch: "))
        .unwrap_or_else(|| panic!("no accuracy line in:\n{stdout}"))
        .trim()
        .parse()
        .unwrap();
    // One epoch of a 64-unit MLP on MNIST reaches about 0.9 training accuracy; chance is 0.1.
    assert!(accuracy > 0.8, "accuracy {accuracy} after one epoch");
    let cuda = format!("CUDA available: {}", tch::Cuda::is_available());
    assert!(stdout.contains(&cuda), "the app and this test disagree on CUDA ({cuda}):\n{stdout}");
}
