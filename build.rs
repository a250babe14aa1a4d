//! Link-time wiring for LibTorch.
//!
//! * An rpath to the LibTorch lib folder, so binaries, tests and examples run without
//!   `LD_LIBRARY_PATH`.
//! * `torch_cuda` linked with `--no-as-needed`: nothing in the binary references its symbols
//!   directly, so without this the linker drops it and `tch::Cuda::is_available()` is false even
//!   on a GPU machine.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        println!("cargo:warning=torch-sys did not report its LibTorch lib folder; no rpath is set");
        return;
    };
    let mut dirs = vec![lib.clone()];
    if let Ok(real) = lib.canonicalize() {
        if real != lib {
            dirs.push(real);
        }
    }
    for dir in &dirs {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
