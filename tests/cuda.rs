//! GPU-only tests. They compile everywhere and are ignored unless built with
//! `--features cuda-tests`, for a machine with CUDA, where they fail if CUDA cannot be used.
use std::process::Command;

use tch::{Device, Kind, Tensor};
use tch_keras::{recipes, to_categorical, BatchSource, FitConfig, TensorSource, Verbosity};

#[path = "common/gpu.rs"]
mod common;
use common::{gpu, synthetic};

/// CUDA graph captures are process-wide events for CUDA (another thread's device-wide sync
/// breaks a capture): the GPU tests run one at a time, whatever `--test-threads` says.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn cuda_is_available_after_linking() {
    let _serial = serial();
    gpu();
    assert!(tch::Cuda::device_count() >= 1);
    assert!(tch::Cuda::cudnn_is_available());
    let t = Tensor::ones([4], (Kind::Float, Device::Cuda(0)));
    assert_eq!(t.sum(Kind::Float).double_value(&[]), 4.0);
}

/// The allocator's counts follow a tensor's life: its bytes while it lives, the peak after,
/// and a reset peak drops to what is still held.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn gpu_memory_counts_follow_the_allocator() {
    use tch_keras::memory::{cuda_memory, reset_peak_cuda_memory};
    let _serial = serial();
    gpu();
    let dev = Device::Cuda(0);
    let before = reset_peak_cuda_memory(dev).unwrap().expect("a CUDA build counts GPU memory");
    let mib = 1u64 << 20;
    let t = Tensor::zeros([64 << 18], (Kind::Float, dev)); // 64 MiB
    let during = cuda_memory(dev).unwrap().unwrap();
    assert!(during.allocated_bytes >= before.allocated_bytes + 64 * mib, "{before:?} {during:?}");
    drop(t);
    let after = cuda_memory(dev).unwrap().unwrap();
    assert!(after.allocated_bytes + 64 * mib <= during.allocated_bytes, "{after:?}");
    assert!(after.peak_allocated_bytes >= during.allocated_bytes, "{after:?}");
    reset_peak_cuda_memory(dev).unwrap();
    let reset = cuda_memory(dev).unwrap().unwrap();
    assert!(reset.peak_allocated_bytes < during.allocated_bytes, "{reset:?}");
    assert!(tch_keras::memory::cuda_memory(Device::Cuda(99)).is_err(), "a GPU that does not exist");
}

/// The recipe's MLP trained for a few epochs on the same synthetic data from `start` weights.
fn train(device: Device, start: &[Tensor]) -> (Vec<f64>, Vec<Tensor>) {
    tch::manual_seed(0);
    let x = Tensor::rand([512, 784], (Kind::Float, Device::Cpu));
    let y = to_categorical(&Tensor::randint(10, [512], (Kind::Int64, Device::Cpu)), 10).unwrap();
    let mut m = recipes::mnist_mlp().device(device).seed(3);
    recipes::compile_classifier(&mut m, 1e-3, "acc").unwrap();
    m.build().unwrap();
    m.set_weights(start).unwrap();
    let h = m
        .fit(
            &x,
            &y,
            FitConfig { epochs: 3, batch_size: 64, shuffle: false, verbose: Verbosity::Silent, ..Default::default() },
        )
        .unwrap();
    let weights = m.get_weights().unwrap().iter().map(|w| w.to_device(Device::Cpu)).collect();
    (h.series("loss").unwrap(), weights)
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn training_on_cuda_matches_the_cpu() {
    let _serial = serial();
    let device = gpu();
    // Initial weights are drawn on the model's device, so start both from the CPU's. The
    // shuffles differ between the CPU's and CUDA's generators, so train without shuffling.
    let mut init = recipes::mnist_mlp().seed(3);
    init.build().unwrap();
    let start = init.get_weights().unwrap();
    let (cpu_loss, cpu_w) = train(Device::Cpu, &start);
    let (gpu_loss, gpu_w) = train(device, &start);
    for (c, g) in cpu_loss.iter().zip(&gpu_loss) {
        assert!((c - g).abs() < 1e-3 * c.abs().max(1.0), "cpu {cpu_loss:?} vs cuda {gpu_loss:?}");
    }
    for (c, g) in cpu_w.iter().zip(&gpu_w) {
        assert!((c - g).abs().max().double_value(&[]) < 1e-3);
    }
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn data_and_shuffles_stay_on_the_gpu() {
    let _serial = serial();
    let device = gpu();
    let rows = Tensor::arange(1000, (Kind::Int64, device)).view([1000, 1]);
    let mut source = TensorSource::new(rows, None, 1000).unwrap().shuffled(0);
    let p = source.epoch(0).unwrap().next().unwrap().unwrap().x().unwrap();
    assert_eq!(p.device(), device);
    let mut m = recipes::mnist_mlp().device(device);
    recipes::compile_classifier(&mut m, 1e-3, "acc").unwrap();
    m.build().unwrap();
    for (name, v) in m.variables().unwrap() {
        assert_eq!(v.device(), device, "{name}");
    }
    let x = Tensor::rand([256, 784], (Kind::Float, device));
    let y = to_categorical(&Tensor::randint(10, [256], (Kind::Int64, device)), 10).unwrap();
    m.fit(&x, &y, FitConfig { epochs: 1, verbose: Verbosity::Silent, ..Default::default() }).unwrap();
    assert_eq!(m.predict(&x, 64).unwrap().size(), [256, 10]);
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn device_flags_select_and_refuse_cuda_devices() {
    let _serial = serial();
    gpu();
    let n = tch::Cuda::device_count();
    // On a GPU machine the binary may sit elsewhere than where it was built.
    let bin = std::env::var("TCH_KERAS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_tch-keras").to_string());
    let out = Command::new(bin).args(["--device", &format!("cuda:{n}"), "--model", "mlp"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cuda:{n}")) && err.contains("CUDA device"), "{err}");
    let m = recipes::mnist_mlp().device(Device::Cuda((n - 1) as usize));
    let mut m = m;
    m.build().unwrap();
    assert_eq!(m.variables().unwrap()[0].1.device(), Device::Cuda((n - 1) as usize));
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn tf32_switch_changes_cublas_results() {
    let _serial = serial();
    use tch_keras::precision::{self, Tf32};
    let device = gpu();
    tch::manual_seed(0);
    let a = Tensor::randn([1024, 1024], (Kind::Float, device));
    let b = Tensor::randn([1024, 1024], (Kind::Float, device));
    let exact = a.to_kind(Kind::Double).matmul(&b.to_kind(Kind::Double));
    let err = |t: &Tensor| (t.to_kind(Kind::Double) - &exact).abs().max().double_value(&[]);
    let before = precision::tf32().unwrap();
    precision::set_tf32(Tf32 { matmul: false, conv: false }).unwrap();
    let ieee = err(&a.matmul(&b));
    precision::set_tf32(Tf32 { matmul: true, conv: true }).unwrap();
    let tf32 = err(&a.matmul(&b));
    precision::set_tf32(before).unwrap();
    // TF32 keeps 10 mantissa bits: errors about a thousand times float32's.
    assert!(ieee < 1e-2, "float32 matmul error {ieee}");
    assert!(tf32 > 10.0 * ieee, "TF32 on did not change cuBLAS: error {tf32} vs {ieee}");
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn bf16_training_on_cuda_tracks_float32() {
    let _serial = serial();
    use tch_keras::Precision;
    let device = gpu();
    let mut init = recipes::mnist_cnn().seed(5);
    init.build().unwrap();
    let start = init.get_weights().unwrap();
    tch::manual_seed(0);
    let x = Tensor::rand([512, 1, 28, 28], (Kind::Float, Device::Cpu));
    let y = to_categorical(&Tensor::randint(10, [512], (Kind::Int64, Device::Cpu)), 10).unwrap();
    let run = |precision: Precision| {
        let mut m = recipes::mnist_cnn().device(device).precision(precision);
        recipes::compile_classifier(&mut m, 1e-3, "acc").unwrap();
        m.build().unwrap();
        m.set_weights(&start).unwrap();
        // Without gradients: an autograd graph kept alive across `fit` would stop the CUDA graph
        // capture (see a_failed_capture_falls_back_to_eager_steps).
        let out = tch::no_grad(|| m.forward_t(&x.to_device(device), false).unwrap());
        assert_eq!(out.kind(), Kind::Float);
        let h = m
            .fit(
                &x,
                &y,
                FitConfig {
                    epochs: 2,
                    batch_size: 64,
                    shuffle: false,
                    verbose: Verbosity::Silent,
                    ..Default::default()
                },
            )
            .unwrap();
        for (name, v) in m.variables().unwrap() {
            assert_eq!(v.kind(), Kind::Float, "{name}");
        }
        (out.to_device(Device::Cpu), h.series("loss").unwrap())
    };
    let (f32_out, f32_loss) = run(Precision::F32);
    let (bf16_out, bf16_loss) = run(Precision::Bf16);
    let d = (&f32_out - &bf16_out).abs().max().double_value(&[]);
    assert!(d > 0.0 && d < 0.05, "bf16 outputs differ from float32 by {d}");
    for (a, b) in f32_loss.iter().zip(&bf16_loss) {
        assert!((a - b).abs() < 0.02 * a.abs(), "losses {f32_loss:?} vs {bf16_loss:?}");
    }
}

/// Compiled only with `cuda-tests`: it compares against internals that feature exposes.
#[test]
#[cfg(feature = "cuda-tests")]
fn fused_adam_on_cuda_matches_the_reference_rule() {
    let _serial = serial();
    use tch_keras::testing::OptimizerState;
    use tch_keras::Optimizer;
    let device = gpu();
    tch::manual_seed(3);
    let start = Tensor::randn([5000], (Kind::Float, device));
    let (p, q) = (start.copy(), start.copy());
    let mut fused = OptimizerState::new(Optimizer::adam(0.01));
    let mut reference = OptimizerState::new(Optimizer::adam(0.01));
    for _ in 0..10 {
        let g = Tensor::randn([5000], (Kind::Float, device));
        fused.step(&p, &g).unwrap();
        reference.step_unfused(&q, &g).unwrap();
    }
    assert!((&p - &q).abs().max().double_value(&[]) < 1e-5);
    assert!((&p - &start).abs().max().double_value(&[]) > 1e-2);
}

/// `fit` on CUDA with graph replay and with eager steps, from the same start: the same losses
/// and weights, with a learning-rate change mid-run (a recapture) and a partial last batch.
fn graph_vs_eager(
    shuffle: bool,
    model: fn() -> tch_keras::Sequential,
    optimizer: tch_keras::Optimizer,
    precision: tch_keras::Precision,
    x: &Tensor,
    y: &Tensor,
) {
    use tch_keras::callbacks::LearningRateScheduler;
    let device = gpu();
    let mut init = model().seed(11);
    init.build_for(&x.size()[1..]).unwrap();
    let start = init.get_weights().unwrap();
    let run = |eager: bool| {
        let mut m = model().device(device).precision(precision).run_eagerly(eager);
        m.compile(optimizer.clone(), tch_keras::Loss::CategoricalCrossentropy, vec!["accuracy".parse().unwrap()])
            .unwrap();
        m.build_for(&x.size()[1..]).unwrap();
        m.set_weights(&start).unwrap();
        let mut schedule = LearningRateScheduler::new(|epoch, lr| if epoch == 2 { lr * 0.5 } else { lr });
        let h = m
            .fit(
                x,
                y,
                FitConfig {
                    epochs: 3,
                    batch_size: 64,
                    shuffle,
                    callbacks: vec![&mut schedule],
                    verbose: Verbosity::Silent,
                    ..Default::default()
                },
            )
            .unwrap();
        let w: Vec<Tensor> = m.get_weights().unwrap().iter().map(|w| w.to_device(Device::Cpu)).collect();
        (h.series("loss").unwrap(), w, m.cuda_graph_replays(), m.iterations())
    };
    let (eager_loss, eager_w, eager_replays, eager_iters) = run(true);
    let (graph_loss, graph_w, replays, iters) = run(false);
    assert_eq!(eager_replays, 0);
    let steps_per_epoch = (x.size()[0] as u64).div_ceil(64);
    // Two warm-up steps, then every full batch is a replay; the partial last batch is eager.
    assert_eq!(replays, 3 * (steps_per_epoch - 1) - 2, "graph replays");
    assert_eq!(iters, eager_iters);
    let tol = if precision == tch_keras::Precision::Bf16 { 2e-2 } else { 1e-4 };
    for (a, b) in eager_loss.iter().zip(&graph_loss) {
        assert!((a - b).abs() <= tol * a.abs(), "eager {eager_loss:?} vs graph {graph_loss:?}");
    }
    for (a, b) in eager_w.iter().zip(&graph_w) {
        let d = (a - b).abs().max().double_value(&[]);
        assert!(d <= 10.0 * tol, "weights differ by {d}");
    }
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn cuda_graph_training_matches_eager_steps() {
    let _serial = serial();
    use tch_keras::{Optimizer, Precision};
    let (x, y) = synthetic(1000, &[784]);
    graph_vs_eager(true, recipes::mnist_mlp, Optimizer::adam(1e-3), Precision::F32, &x, &y);
    graph_vs_eager(false, recipes::mnist_mlp, Optimizer::adam(1e-3), Precision::F32, &x, &y);
    graph_vs_eager(true, recipes::mnist_mlp, Optimizer::adamw(1e-3), Precision::F32, &x, &y);
    graph_vs_eager(true, recipes::mnist_mlp, Optimizer::sgd_momentum(1e-2, 0.9, true), Precision::F32, &x, &y);
    let (x, y) = synthetic(700, &[1, 28, 28]);
    graph_vs_eager(true, recipes::mnist_cnn, Optimizer::adam(1e-3), Precision::F32, &x, &y);
    graph_vs_eager(true, recipes::mnist_cnn, Optimizer::adam(1e-3), Precision::Bf16, &x, &y);
}

/// A learning rate changed before every batch (a per-batch schedule) is read by the captured
/// step from the device: one capture, a replay for every full batch after warm-up, and the
/// same weights as eager steps under the same schedule.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn a_per_batch_schedule_replays_one_capture() {
    let _serial = serial();
    use tch_keras::callbacks::LambdaCallback;
    let device = gpu();
    let (x, y) = synthetic(1024, &[784]);
    let mut init = recipes::mnist_mlp().seed(5);
    init.build().unwrap();
    let start = init.get_weights().unwrap();
    let run = |eager: bool| {
        let mut m = recipes::mnist_mlp().device(device).run_eagerly(eager);
        recipes::compile_classifier(&mut m, 1e-3, "accuracy").unwrap();
        m.set_weights(&start).unwrap();
        let mut schedule = LambdaCallback::new().on_train_batch_begin(|m, _step| {
            let lr = 1e-3 * 0.97f64.powi(m.iterations() as i32);
            m.set_learning_rate(lr)
        });
        let h = m
            .fit(
                &x,
                &y,
                FitConfig {
                    epochs: 2,
                    batch_size: 128,
                    callbacks: vec![&mut schedule],
                    verbose: Verbosity::Silent,
                    ..Default::default()
                },
            )
            .unwrap();
        let w: Vec<Tensor> = m.get_weights().unwrap().iter().map(|w| w.to_device(Device::Cpu)).collect();
        (h.series("loss").unwrap(), w, m.cuda_graph_replays(), m.cuda_graph_captures(), m.learning_rate().unwrap())
    };
    let (eager_loss, eager_w, _, eager_captures, eager_lr) = run(true);
    let (graph_loss, graph_w, replays, captures, graph_lr) = run(false);
    assert_eq!(eager_captures, 0);
    assert_eq!(captures, 1, "the schedule caused new captures");
    // 8 full batches per epoch, 2 epochs, 2 warm-up steps.
    assert_eq!(replays, 16 - 2);
    assert_eq!(eager_lr, graph_lr);
    for (a, b) in eager_loss.iter().zip(&graph_loss) {
        assert!((a - b).abs() <= 1e-4 * a.abs(), "eager {eager_loss:?} vs graph {graph_loss:?}");
    }
    for (a, b) in eager_w.iter().zip(&graph_w) {
        let d = (a - b).abs().max().double_value(&[]);
        assert!(d <= 1e-3, "weights differ by {d}");
    }
}

/// A learning-rate schedule with clipping and weight decay on CUDA: the captured step computes
/// the rate from the on-device step count, so one capture replays every full batch after
/// warm-up (with an eager partial batch in between), and the weights match eager steps.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn a_scheduled_clipped_fit_captures_once_and_replays_every_step() {
    let _serial = serial();
    use tch_keras::{CosineDecay, ExponentialDecay, Optimizer};
    let device = gpu();
    let (x, y) = synthetic(1000, &[784]);
    let mut init = recipes::mnist_mlp().seed(9);
    init.build().unwrap();
    let start = init.get_weights().unwrap();
    for optimizer in [
        Optimizer::adam(CosineDecay::new(1e-4, 12).warmup(2e-3, 4).alpha(0.1)).clipnorm(0.5).weight_decay(1e-3),
        Optimizer::sgd_momentum(ExponentialDecay::new(0.05, 3, 0.7).staircase(true), 0.9, true).global_clipnorm(1.0),
    ] {
        let run = |eager: bool| {
            let mut m = recipes::mnist_mlp().device(device).run_eagerly(eager);
            m.compile(optimizer.clone(), tch_keras::Loss::CategoricalCrossentropy, vec![]).unwrap();
            m.set_weights(&start).unwrap();
            let fit = FitConfig { epochs: 2, batch_size: 128, verbose: Verbosity::Silent, ..Default::default() };
            let h = m.fit(&x, &y, fit).unwrap();
            let w: Vec<Tensor> = m.get_weights().unwrap().iter().map(|w| w.to_device(Device::Cpu)).collect();
            (h.series("loss").unwrap(), w, m.cuda_graph_replays(), m.cuda_graph_captures(), m.learning_rate().unwrap())
        };
        let (eager_loss, eager_w, _, eager_captures, eager_lr) = run(true);
        let (graph_loss, graph_w, replays, captures, graph_lr) = run(false);
        assert_eq!(eager_captures, 0);
        assert_eq!(captures, 1, "{optimizer:?}: the schedule caused new captures");
        // 7 full batches and a partial one per epoch, 2 epochs, 2 warm-up steps.
        assert_eq!(replays, 14 - 2, "{optimizer:?}");
        assert_eq!(eager_lr, graph_lr);
        for (a, b) in eager_loss.iter().zip(&graph_loss) {
            assert!((a - b).abs() <= 1e-4 * a.abs(), "{optimizer:?}: eager {eager_loss:?} vs graph {graph_loss:?}");
        }
        for (a, b) in eager_w.iter().zip(&graph_w) {
            let d = (a - b).abs().max().double_value(&[]);
            assert!(d <= 1e-3, "{optimizer:?}: weights differ by {d}");
        }
        let moved = (&eager_w[0] - &start[0]).abs().max().double_value(&[]);
        assert!(moved > 1e-3, "{optimizer:?}: the weights did not move");
    }
}

/// Sample weights on CUDA: the captured step reads them from a static buffer of its own, and
/// training with graph replays matches eager steps (losses, weighted metric, weights).
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn cuda_graph_training_with_sample_weights_matches_eager_steps() {
    let _serial = serial();
    let device = gpu();
    let (x, y) = synthetic(1000, &[784]);
    let w = x.narrow(1, 0, 1).view([-1]) * 3.0 + 0.1;
    let metrics = vec![
        tch_keras::Metric::accuracy(),
        tch_keras::Metric::new(tch_keras::MetricKind::Accuracy, "w_acc").weighted(),
    ];
    let run = |eager: bool| {
        let mut m = recipes::mnist_mlp().seed(5).device(device).run_eagerly(eager);
        m.compile(tch_keras::Optimizer::adam(1e-3), tch_keras::Loss::CategoricalCrossentropy, metrics.clone()).unwrap();
        let config = FitConfig {
            epochs: 2,
            batch_size: 64,
            sample_weight: Some(&w),
            verbose: Verbosity::Silent,
            ..Default::default()
        };
        let h = m.fit(&x, &y, config).unwrap();
        let weights: Vec<Tensor> = m.get_weights().unwrap().iter().map(|t| t.to_device(Device::Cpu)).collect();
        (h.series("loss").unwrap(), h.series("w_acc").unwrap(), weights, m.cuda_graph_replays())
    };
    let (eager_loss, eager_acc, eager_w, eager_replays) = run(true);
    let (graph_loss, graph_acc, graph_w, replays) = run(false);
    assert_eq!(eager_replays, 0);
    // 16 batches per epoch, the last partial: two warm-up steps, then every full batch replays.
    assert_eq!(replays, 2 * 15 - 2, "graph replays");
    for (a, b) in eager_loss.iter().zip(&graph_loss).chain(eager_acc.iter().zip(&graph_acc)) {
        assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "eager {eager_loss:?} vs graph {graph_loss:?}");
    }
    for (a, b) in eager_w.iter().zip(&graph_w) {
        assert!((a - b).abs().max().double_value(&[]) < 1e-3);
    }
}

/// A small ResNet: a strided block with a projected shortcut and batch normalization.
fn small_resnet() -> tch_keras::Sequential {
    use tch_keras::{Activation, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, Padding, Residual};
    let conv = |filters, strides| Conv2D::new(filters, 3).strides(strides).padding(Padding::Same);
    tch_keras::Sequential::new()
        .add(conv(8, 1).activation(Activation::Relu))
        .add(
            Residual::new()
                .add(conv(16, 2))
                .add(BatchNormalization::new())
                .add(Activation::Relu)
                .add(conv(16, 1))
                .add(BatchNormalization::new())
                .shortcut_add(Conv2D::new(16, 1).strides(2))
                .shortcut_add(BatchNormalization::new())
                .activation(Activation::Relu),
        )
        .add(GlobalAveragePooling2D::new())
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// A post-norm transformer encoder block over 28 steps of 28 features.
fn small_transformer() -> tch_keras::Sequential {
    use tch_keras::{Activation, DataFormat, Dense, GlobalAveragePooling1D, LayerNormalization};
    use tch_keras::{MultiHeadAttention, Residual};
    tch_keras::Sequential::new()
        .add(Dense::new(32))
        .add(Residual::new().add(MultiHeadAttention::new(4, 8).use_causal_mask(true)))
        .add(LayerNormalization::new())
        .add(Residual::new().add(Dense::new(64).activation(Activation::Relu)).add(Dense::new(32)))
        .add(LayerNormalization::new())
        .add(GlobalAveragePooling1D::new().data_format(DataFormat::ChannelsLast))
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// Residual blocks (with batch normalization) and self-attention train the same from a CUDA
/// graph as from eager steps.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn cuda_graph_training_of_residual_and_attention_models_matches_eager_steps() {
    let _serial = serial();
    use tch_keras::{Optimizer, Precision};
    let (x, y) = synthetic(700, &[1, 28, 28]);
    graph_vs_eager(true, small_resnet, Optimizer::adam(1e-3), Precision::F32, &x, &y);
    let (x, y) = synthetic(700, &[28, 28]);
    graph_vs_eager(true, small_transformer, Optimizer::adam(1e-3), Precision::F32, &x, &y);
    graph_vs_eager(true, small_transformer, Optimizer::adam(1e-3), Precision::Bf16, &x, &y);
}

/// A masked LSTM (padded rows of zeros) with an activity penalty, then a 3-D convolution
/// model: recipes of this release's masking, activity regularization and volume layers.
fn masked_lstm_with_activity_penalty() -> tch_keras::Sequential {
    use tch_keras::{Activation, ActivityRegularization, Dense, Masking, Regularizer, LSTM};
    tch_keras::Sequential::new()
        .add(Masking::new(0.0))
        .add(LSTM::new(32).activity_regularizer(Regularizer::l2(1e-3)))
        .add(ActivityRegularization::new(1e-4, 0.0))
        .add(Dense::new(10).activation(Activation::Softmax))
}

fn small_volume_cnn() -> tch_keras::Sequential {
    use tch_keras::{Activation, Conv3D, Dense, GlobalAveragePooling3D, MaxPooling3D, Padding};
    tch_keras::Sequential::new()
        .add(Conv3D::new(8, 3).padding(Padding::Same).activation(Activation::Relu))
        .add(MaxPooling3D::new(2))
        .add(GlobalAveragePooling3D::new())
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// Masked recurrent steps, activity penalties and 3-D convolutions train the same from a CUDA
/// graph as from eager steps.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn cuda_graph_training_of_masked_and_volume_models_matches_eager_steps() {
    let _serial = serial();
    use tch_keras::{Optimizer, Precision};
    let (x, y) = synthetic(700, &[28, 28]);
    // Every other sample is padded after a length between 10 and 27 steps.
    for i in (0..700).step_by(2) {
        let len = 10 + i % 18;
        let _ = x.get(i).narrow(0, len, 28 - len).fill_(0.0);
    }
    graph_vs_eager(true, masked_lstm_with_activity_penalty, Optimizer::adam(1e-3), Precision::F32, &x, &y);
    let (x, y) = synthetic(700, &[1, 4, 14, 14]);
    graph_vs_eager(true, small_volume_cnn, Optimizer::adam(1e-3), Precision::F32, &x, &y);
}
