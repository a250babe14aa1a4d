//! The GPU test of a refused CUDA graph capture, in a process of its own (a refused capture
//! leaves LibTorch state behind that the library then cleans up; if that cleanup failed, other
//! tests in the process would fail for it). Ignored unless built with `--features cuda-tests`.
use tch_keras::{recipes, FitConfig, Verbosity};

#[path = "common/gpu.rs"]
mod common;
use common::{gpu, synthetic};

/// A capture LibTorch refuses (here: an autograd graph through the weights, made before `fit`
/// on the default stream, is kept alive) falls back to eager steps with a warning, and leaves
/// CUDA's random generator usable.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn a_failed_capture_falls_back_to_eager_steps() {
    let device = gpu();
    let (x, y) = synthetic(640, &[784]);
    let mut m = recipes::mnist_mlp().device(device);
    recipes::compile_classifier(&mut m, 1e-3, "acc").unwrap();
    m.build().unwrap();
    let kept = m.forward_t(&x.narrow(0, 0, 8).to_device(device), true).unwrap();
    let h = m
        .fit(&x, &y, FitConfig { epochs: 2, batch_size: 64, verbose: Verbosity::Silent, ..Default::default() })
        .unwrap();
    assert_eq!(m.iterations(), 20);
    assert!(h.series("loss").unwrap().iter().all(|l| l.is_finite()));
    drop(kept);
    // Random numbers on the device still work: a new model initialises and shuffles there.
    let mut other = recipes::mnist_mlp().device(device).seed(4);
    recipes::compile_classifier(&mut other, 1e-3, "acc").unwrap();
    other
        .fit(&x, &y, FitConfig { epochs: 1, batch_size: 64, verbose: Verbosity::Silent, ..Default::default() })
        .unwrap();
    assert!(other.cuda_graph_replays() > 0, "graphs should work again once nothing holds the old autograd graph");
}
