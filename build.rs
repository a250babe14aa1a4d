//! Link-time wiring for LibTorch.
//!
//! * An rpath to the LibTorch lib folder, so binaries, tests and examples run without
//!   `LD_LIBRARY_PATH`.
//! * `torch_cuda` linked with `--no-as-needed`: nothing in the binary references its symbols
//!   directly, so without this the linker drops it and `tch::Cuda::is_available()` is false even
//!   on a GPU machine.
//! * Both exported to applications (`links = "tch_keras"`): `DEP_TCH_KERAS_LINK_ARGS` holds the
//!   linker arguments ('|'-separated) an application's build.rs passes on, `DEP_TCH_KERAS_LIB`
//!   the LibTorch lib folder.
//! * `csrc/tch_keras.cpp`, the LibTorch switches tch does not expose (autocast dtype, TF32,
//!   fused Adam), compiled against LibTorch's headers.
//! * `csrc/c10d.cpp`, process groups on LibTorch's c10d (TCPStore, Gloo, NCCL), compiled with
//!   `USE_C10D_GLOO` when Gloo's headers are found (`TCH_KERAS_GLOO_INCLUDE`, or the
//!   `.gloo-include` link scripts/setup.sh makes) and `USE_C10D_NCCL` when the wheel's `nccl.h`,
//!   the CUDA headers and `libtorch_cuda` are there. The code itself is in LibTorch's libraries.
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/tch_keras.cpp");
    println!("cargo:rerun-if-changed=csrc/c10d.cpp");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        panic!("torch-sys did not report its LibTorch lib folder (DEP_TCH_LIBTORCH_LIB): run scripts/setup.sh or set LIBTORCH");
    };
    let mut dirs = vec![lib.clone()];
    if let Ok(real) = lib.canonicalize() {
        if real != lib {
            dirs.push(real);
        }
    }
    let mut link_args: Vec<String> = dirs.iter().map(|dir| format!("-Wl,-rpath,{}", dir.display())).collect();
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        link_args.extend([
            format!("-L{}", lib.display()),
            "-Wl,--no-as-needed".into(),
            "-ltorch_cuda".into(),
            "-Wl,--as-needed".into(),
        ]);
    }
    for arg in &link_args {
        println!("cargo:rustc-link-arg={arg}");
    }
    // `cargo:rustc-link-arg` reaches only this crate's own binaries: an application depending on
    // tch-keras reads these (`links = "tch_keras"`) as DEP_TCH_KERAS_LIB and
    // DEP_TCH_KERAS_LINK_ARGS (separated by '|') in its build.rs (README: "Use it from your own
    // crate").
    println!("cargo:lib={}", lib.display());
    println!("cargo:link-args={}", link_args.join("|"));
    let cuda = compile_shim(&lib);
    compile_c10d(&lib, cuda.as_ref());
}

/// The include folders CUDA code needs: the CUDA runtime headers and, when they lack it, the
/// `crt/` folder.
struct CudaIncludes {
    runtime: PathBuf,
    crt: Option<PathBuf>,
}

/// Compiles the C++ shim against the headers next to the lib folder (`<libtorch>/include`);
/// returns the CUDA include folders when CUDA support was built.
fn compile_shim(lib: &Path) -> Option<CudaIncludes> {
    let root = lib.parent().unwrap_or(lib);
    let include = root.join("include");
    if !include.join("ATen/Context.h").exists() {
        panic!(
            "LibTorch's headers are not at {}: point LIBTORCH at a LibTorch 2.11 folder with include/ and lib/ \
             (scripts/setup.sh provides one)",
            include.display()
        );
    }
    let mut build = cc::Build::new();
    // CUDA graphs need LibTorch's CUDA library and the CUDA runtime headers: the PyTorch wheel's
    // nvidia packages sit next to its torch folder; a system CUDA is used otherwise.
    let cuda_include = [root.join("../nvidia/cu13/include"), root.join("../nvidia/cuda_runtime/include")]
        .into_iter()
        .chain(std::env::var_os("CUDA_HOME").map(|h| PathBuf::from(h).join("include")))
        .chain([PathBuf::from("/usr/local/cuda/include")])
        .find(|d| d.join("cuda_runtime_api.h").exists());
    // The wheel's CUDA headers include crt/ headers they do not ship: scripts/setup.sh links
    // NVIDIA's nvidia-cuda-crt package as .cuda-crt (or set TCH_KERAS_CUDA_CRT).
    println!("cargo:rerun-if-env-changed=TCH_KERAS_CUDA_CRT");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let crt = std::env::var_os("TCH_KERAS_CUDA_CRT").map(PathBuf::from).unwrap_or_else(|| manifest.join(".cuda-crt"));
    let has_crt = |dir: &Path| dir.join("crt/host_config.h").exists();
    let cuda = match cuda_include {
        Some(dir) if lib.join("libtorch_cuda.so").exists() && (has_crt(&dir) || has_crt(&crt)) => {
            build.define("TK_CUDA", None).include(&dir);
            let crt = if has_crt(&crt) { Some(crt) } else { None };
            if let Some(crt) = &crt {
                build.include(crt);
            }
            println!("cargo:rustc-link-lib=c10_cuda");
            Some(CudaIncludes { runtime: dir, crt })
        }
        _ => {
            println!(
                "cargo:warning=CUDA runtime headers (with crt/) or libtorch_cuda not found: building without CUDA graphs \
                 (scripts/setup.sh installs the headers)"
            );
            None
        }
    };
    compile_against_libtorch(build, "csrc/tch_keras.cpp", &include, "tch_keras_shim");
    cuda
}

/// Compiles `csrc/c10d.cpp`: Gloo when its headers are found, NCCL when LibTorch has CUDA and
/// the wheel ships `nccl.h`. Without either the file still builds, and joining a group returns
/// an error that says how to get the missing part.
fn compile_c10d(lib: &Path, cuda: Option<&CudaIncludes>) {
    let root = lib.parent().unwrap_or(lib);
    let include = root.join("include");
    println!("cargo:rerun-if-env-changed=TCH_KERAS_GLOO_INCLUDE");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let gloo = std::env::var_os("TCH_KERAS_GLOO_INCLUDE")
        .map(PathBuf::from)
        .into_iter()
        .chain([manifest.join(".gloo-include")])
        .find(|d| d.join("gloo/context.h").exists());
    let mut build = cc::Build::new();
    match &gloo {
        Some(dir) => {
            println!("cargo:rerun-if-changed={}", dir.join("gloo/context.h").display());
            build.define("USE_C10D_GLOO", None).include(dir);
        }
        None => println!(
            "cargo:warning=Gloo's headers not found (.gloo-include or TCH_KERAS_GLOO_INCLUDE): building without \
             distributed training on Gloo (scripts/setup.sh fetches them; then `touch build.rs` and rebuild)"
        ),
    }
    // LibTorch's CUDA event headers reach CCCL's nv/target through cuda_fp16.h: the wheel does
    // not ship it; scripts/setup.sh links PyPI's nvidia-cuda-cccl as .cuda-cccl (or set
    // TCH_KERAS_CUDA_CCCL).
    println!("cargo:rerun-if-env-changed=TCH_KERAS_CUDA_CCCL");
    let cccl =
        std::env::var_os("TCH_KERAS_CUDA_CCCL").map(PathBuf::from).unwrap_or_else(|| manifest.join(".cuda-cccl"));
    let nccl = root.join("../nvidia/nccl/include");
    match cuda {
        Some(cuda) if nccl.join("nccl.h").exists() && cccl.join("nv/target").exists() => {
            build.define("USE_C10D_NCCL", None).include(&nccl).include(&cuda.runtime).include(&cccl);
            if let Some(crt) = &cuda.crt {
                build.include(crt);
            }
        }
        _ => {
            if lib.join("libtorch_cuda.so").exists() {
                println!(
                    "cargo:warning=NCCL's nccl.h, the CUDA headers or CCCL's nv/target not found: building without \
                     distributed training on NCCL (scripts/setup.sh installs the headers)"
                );
            }
        }
    }
    compile_against_libtorch(build, "csrc/c10d.cpp", &include, "tch_keras_c10d");
}

/// Compiles one C++ file against LibTorch's headers (`include`) with LibTorch's ABI settings.
fn compile_against_libtorch(mut build: cc::Build, file: &str, include: &Path, name: &str) {
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    build
        .cpp(true)
        .file(file)
        .include(include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile(name);
}
