//! Data-parallel `fit` on Gloo over loopback: the exact gradient average, and the command
//! line's failures. Worker processes are this test binary again, running the ignored `worker`
//! test with `TK_FIT_ROLE` set, or the `tch-keras` binary with the launcher's variables.
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};
use tch_keras::distributed::{Backend, DistConfig, Distributed};
use tch_keras::{
    Activation, Dense, FitConfig, GradientReducer, LambdaCallback, Loss, Metric, MetricKind, Optimizer, Regularizer,
    Sequential, Verbosity,
};

const ROLE: &str = "TK_FIT_ROLE";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// 256 samples of a 3-class problem, the same in every process: drawn from a generator of the
/// test's own, since LibTorch's process-wide one is reseeded by the tests running alongside.
fn data() -> (Tensor, Tensor) {
    let mut state = 42u64.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let normal = (0..256 * 6)
        .map(|_| ((-2.0 * (1.0 - uniform()).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos()) as f32)
        .collect::<Vec<f32>>();
    let x = Tensor::from_slice(&normal).view([256, 6]);
    let y = x.narrow(1, 0, 3).argmax(1, false);
    (x, y)
}

/// What a run of [`train_on`] varies.
#[derive(Clone, Copy, Default)]
struct Variant {
    /// Samples carry weights (they travel with each process's shard) and a weighted metric is
    /// logged too (its sums are all-reduced).
    weighted: bool,
    /// The first layer is frozen and each rank starts from its own weights: rank 0's, frozen
    /// ones included, must reach every process.
    frozen: bool,
    /// Rank 1 alone asks to stop within the first epoch.
    rank1_stops: bool,
    /// Kernel and bias regularizers: each process adds the same penalty to its batch mean.
    regularized: bool,
    /// Each sample is a sequence of 2 timesteps of 3 features, labelled per timestep, with one
    /// weight per timestep (0 on some), and the weighted metric (with `weighted`).
    per_step: bool,
}

impl Variant {
    const ENV: [&str; 5] =
        ["TK_FIT_WEIGHTED", "TK_FIT_FROZEN", "TK_FIT_RANK1_STOPS", "TK_FIT_REGULARIZED", "TK_FIT_PER_STEP"];

    fn flags(self) -> [bool; 5] {
        [self.weighted, self.frozen, self.rank1_stops, self.regularized, self.per_step]
    }

    fn from_env() -> Self {
        let [weighted, frozen, rank1_stops, regularized, per_step] = Self::ENV.map(|v| std::env::var(v).is_ok());
        Self { weighted, frozen, rank1_stops, regularized, per_step }
    }
}

/// Trains 2 epochs (16 steps of `batch` per process) from the same initial weights; returns
/// the weights, the loss history (and the weighted metric's, when weighted) and the number of
/// CUDA-graph replays.
// Long: one model set up for every variant (weights, frozen layers, regularizers, per-timestep
// data), so the single and multi-process runs of each variant share one definition.
fn train_on(
    device: Device,
    batch: usize,
    reducer: Option<&mut dyn GradientReducer>,
    variant: Variant,
) -> (Vec<Tensor>, Vec<f64>, u64) {
    let (x, y) = data();
    let rank = reducer.as_ref().map_or(0, |r| r.rank()) as u64;
    let w = x.narrow(1, 3, 1).view([-1]).gt(0.0).to_kind(Kind::Float) * 2.0 + 0.5;
    // Per timestep: the first feature of each timestep decides its label's weight, 0 or 2.
    let (x, y, w, input) = if variant.per_step {
        let steps = x.view([256, 2, 3]);
        let w = steps.select(2, 0).gt(0.0).to_kind(Kind::Float) * 2.0;
        (steps.shallow_clone(), steps.argmax(2, false), w, vec![2, 3])
    } else {
        (x, y, w, vec![6])
    };
    let (mut first, mut second) = (Dense::new(8).activation(Activation::Relu), Dense::new(3));
    if variant.regularized {
        first = first.kernel_regularizer(Regularizer::l2(0.05));
        second = second.bias_regularizer(Regularizer::l1(0.1));
    }
    let mut m = Sequential::new()
        .device(device)
        .seed(7)
        .input_shape(input)
        .add(first)
        .add(second.activation(Activation::Softmax));
    if variant.frozen {
        m.set_trainable(0, false).unwrap();
    }
    let mut metrics: Vec<Metric> = vec!["accuracy".parse().unwrap()];
    if variant.weighted {
        metrics.push(Metric::new(MetricKind::Accuracy, "weighted_accuracy").weighted());
    }
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, metrics).unwrap();
    if variant.frozen {
        // Ranks other than 0 start from other values (as from a rank-local checkpoint).
        for (_, v) in m.variables().unwrap() {
            tch::no_grad(|| drop(v.shallow_clone().f_add_scalar_(rank as f64).unwrap()));
        }
    }
    let mut stop = LambdaCallback::new().on_train_batch_end(|m, step, _| {
        m.stop_training |= variant.rank1_stops && rank == 1 && step == 2;
        Ok(())
    });
    let config = FitConfig {
        batch_size: batch,
        epochs: 2,
        verbose: Verbosity::Silent,
        // A shorter borrow of the reducer, to share the config's lifetime with the weights.
        reducer: reducer.map(|r| r as &mut dyn GradientReducer),
        sample_weight: variant.weighted.then_some(&w),
        callbacks: vec![&mut stop],
        ..Default::default()
    };
    let h = m.fit(&x, &y, config).unwrap();
    let weights = m.get_weights().unwrap().iter().map(|w| w.to_device(Device::Cpu)).collect();
    let mut logs = h.series("loss").unwrap();
    if variant.weighted {
        logs.extend(h.series("weighted_accuracy").unwrap());
    }
    (weights, logs, m.cuda_graph_replays())
}

/// The device the workers train on (`TK_FIT_DEVICE=cuda` for the GPU variant).
fn worker_device() -> Device {
    if std::env::var("TK_FIT_DEVICE").as_deref() == Ok("cuda") {
        Device::Cuda(0)
    } else {
        Device::Cpu
    }
}

/// One rank of the 2-process run: trains with batch 16 and writes its weights.
#[test]
#[ignore = "one rank of the multi-process tests, which start it themselves"]
fn worker() {
    let Ok(out) = std::env::var(ROLE) else { return };
    let device = worker_device();
    let config = DistConfig::new().timeout(Duration::from_secs(30)).backend(Backend::Gloo).device(device);
    let mut group = Distributed::from_env(config).unwrap().unwrap();
    let (weights, loss, _) = train_on(device, 16, Some(&mut group), Variant::from_env());
    let mut all: Vec<(String, Tensor)> = weights.into_iter().enumerate().map(|(i, w)| (format!("w{i}"), w)).collect();
    all.push(("loss".into(), Tensor::from_slice(&loss)));
    let path = format!("{out}.rank{}", group.rank());
    tch_keras::saving::write_safetensors(Path::new(&path), &all, Default::default()).unwrap();
}

fn spawn_worker(rank: usize, port: u16, out: &Path, device: &str, variant: Variant) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    for (name, on) in Variant::ENV.into_iter().zip(variant.flags()) {
        if on {
            command.env(name, "1");
        }
    }
    command
        .env("TK_FIT_DEVICE", device)
        .args(["worker", "--exact", "--ignored", "--nocapture", "--test-threads=1", "-q"])
        .env(ROLE, out)
        .env("RANK", rank.to_string())
        .env("WORLD_SIZE", "2")
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("OMP_NUM_THREADS", "1")
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Two processes with batch 16 each end with the weights (and logs) of one process with batch
/// 32 on the same sample order: the gradient average is exact.
#[test]
fn two_processes_train_like_one_with_the_doubled_batch() {
    doubled_batch_equivalence("cpu", Variant::default());
}

/// The same with a frozen layer and ranks that start from different weights: every process
/// starts from rank 0's, frozen weights included, and they stay rank 0's.
#[test]
fn ranks_with_their_own_initial_weights_train_from_rank_0s_frozen_layers_included() {
    doubled_batch_equivalence("cpu", Variant { frozen: true, ..Default::default() });
}

/// One rank asking to stop within an epoch (a user callback with its own reason): the ranks
/// finish the epoch together and stop at its end, instead of one waiting on the other's
/// collectives.
#[test]
fn a_stop_asked_by_one_rank_within_an_epoch_ends_every_rank_at_the_epochs_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    let port = free_port();
    let variant = Variant { rank1_stops: true, ..Default::default() };
    let children: Vec<Child> = (0..2).map(|r| spawn_worker(r, port, &out, "cpu", variant)).collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "a worker failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    for rank in 0..2 {
        let (tensors, _) =
            tch_keras::saving::read_safetensors(Path::new(&format!("{}.rank{rank}", out.display()))).unwrap();
        let loss = tensors.iter().find(|(k, _)| k == "loss").unwrap().1.shallow_clone();
        assert_eq!(loss.size(), [1], "rank {rank}: one epoch logged, then both stopped");
    }
}

/// The same with sample weights: each process's shard carries its samples' weights, and the
/// weighted metric's sums are all-reduced with the loss's.
#[test]
fn two_processes_with_sample_weights_train_like_one_with_the_doubled_batch() {
    doubled_batch_equivalence("cpu", Variant { weighted: true, ..Default::default() });
}

/// The same with one weight per timestep of sequences labelled per timestep: the loss's and
/// the weighted metric's sums still add up across processes.
#[test]
fn two_processes_with_per_timestep_weights_train_like_one_with_the_doubled_batch() {
    doubled_batch_equivalence("cpu", Variant { weighted: true, per_step: true, ..Default::default() });
}

/// The same with regularizers: every process adds the same penalty, so the averaged gradient
/// and the logged loss (sums all-reduced, divided by the whole batch) carry it once.
#[test]
fn two_processes_with_regularizers_train_like_one_with_the_doubled_batch() {
    doubled_batch_equivalence("cpu", Variant { regularized: true, ..Default::default() });
}

/// The same with Gloo on CUDA tensors (two processes sharing one GPU; steps run eagerly).
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn gloo_on_one_gpu_trains_like_one_process() {
    doubled_batch_equivalence("cuda", Variant::default());
}

/// A world of one on NCCL: the all-reduce is captured with the step, and training matches a
/// plain fit.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn nccl_world_of_one_captures_its_steps() {
    let device = Device::Cuda(0);
    let config = DistConfig::new().backend(Backend::Nccl).device(device).timeout(Duration::from_secs(30));
    let mut group = Distributed::new(0, 1, "127.0.0.1", free_port(), config).unwrap();
    assert!(group.capturable());
    let (with_group, loss_group, replays) = train_on(device, 32, Some(&mut group), Variant::default());
    assert!(replays > 0, "the steps with NCCL's all-reduce were captured and replayed");
    let (plain, loss_plain, _) = train_on(device, 32, None, Variant::default());
    for (a, b) in with_group.iter().zip(&plain) {
        assert!((a - b).abs().max().double_value(&[]) < 1e-5);
    }
    for (a, b) in loss_group.iter().zip(&loss_plain) {
        assert!((a - b).abs() < 1e-5);
    }
}

fn doubled_batch_equivalence(device: &str, variant: Variant) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    let port = free_port();
    let children: Vec<Child> = (0..2).map(|r| spawn_worker(r, port, &out, device, variant)).collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "a worker failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    let single_device = if device == "cuda" { Device::Cuda(0) } else { Device::Cpu };
    let (single, single_loss, _) = train_on(single_device, 32, None, variant);
    for rank in 0..2 {
        let (tensors, _) =
            tch_keras::saving::read_safetensors(Path::new(&format!("{}.rank{rank}", out.display()))).unwrap();
        let get = |n: &str| tensors.iter().find(|(k, _)| k == n).unwrap().1.shallow_clone();
        for (i, w) in single.iter().enumerate() {
            let d = (w - get(&format!("w{i}"))).abs().max().double_value(&[]);
            assert!(d < 1e-5, "rank {rank}: weight {i} differs from the single process by {d}");
        }
        let loss = Vec::<f64>::try_from(get("loss")).unwrap();
        for (a, b) in loss.iter().zip(&single_loss) {
            assert!((a - b).abs() < 1e-5, "rank {rank}: logged loss {loss:?} vs {single_loss:?}");
        }
    }
}

fn cli(envs: &[(&str, String)], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tch-keras"));
    c.env("OMP_NUM_THREADS", "1").env_remove("TORCHELASTIC_USE_AGENT_STORE").args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c
}

fn refused(envs: &[(&str, String)], args: &[&str], needles: &[&str]) {
    let o: Output = cli(envs, args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{envs:?} {args:?} succeeded");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    assert!(!err.contains("frame #") && !err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{envs:?}: stderr lacks {n:?}:\n{err}");
    }
}

#[test]
fn bad_environments_are_one_clear_error_each() {
    let env = |rank: &str, world: &str, port: String| {
        vec![
            ("RANK", rank.to_string()),
            ("WORLD_SIZE", world.to_string()),
            ("MASTER_ADDR", "127.0.0.1".into()),
            ("MASTER_PORT", port),
        ]
    };
    let args = ["--model", "mlp", "--epochs", "1", "--dist-timeout", "2"];
    refused(&env("0", "0", free_port().to_string()), &args, &["WORLD_SIZE"]);
    refused(&env("2", "2", free_port().to_string()), &args, &["RANK", "WORLD_SIZE"]);
    refused(&env("0", "2", "abc".into()), &args, &["MASTER_PORT"]);
    // Rank 1 looks for a master that is not there.
    let start = Instant::now();
    refused(&env("1", "2", free_port().to_string()), &args, &["distributed"]);
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    // Rank 0 cannot listen on a port that is taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    refused(&env("0", "2", taken.local_addr().unwrap().port().to_string()), &args, &["MASTER_PORT"]);
    // NCCL on CPU tensors.
    let mut nccl = args.to_vec();
    nccl.extend(["--dist-backend", "nccl", "--device", "cpu"]);
    refused(&env("0", "1", free_port().to_string()), &nccl, &["nccl"]);
}

/// Killing one rank mid-epoch ends the other with an error, well within the timeout.
#[test]
fn a_killed_rank_ends_the_other_with_an_error() {
    let port = free_port().to_string();
    let start = |rank: &str| {
        let envs = [
            ("RANK", rank.to_string()),
            ("WORLD_SIZE", "2".into()),
            ("MASTER_ADDR", "127.0.0.1".into()),
            ("MASTER_PORT", port.clone()),
        ];
        cli(&envs, &["--model", "mlp", "--epochs", "20", "--verbose", "0", "--dist-timeout", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (survivor, mut victim) = (start("0"), start("1"));
    std::thread::sleep(Duration::from_secs(4));
    victim.kill().unwrap();
    let killed_at = Instant::now();
    let o = survivor.wait_with_output().unwrap();
    let _ = victim.wait();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "rank 0 succeeded: {err}");
    assert!(killed_at.elapsed() < Duration::from_secs(25), "rank 0 took {:?} to fail", killed_at.elapsed());
    assert!(err.contains("error:") && !err.contains("frame #"), "{err}");
}

/// The recipe's CNN trained by 2 processes under PyTorch's launcher (batch 64 each) reaches
/// the single-process accuracy band (0.9880 +- 0.0009 over 8 seeds, BENCHMARKS.md).
#[test]
fn torchrun_trains_the_recipe_cnn_into_the_single_process_band() {
    let cache = tch_keras::data::cache_dir();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let o = Command::new("python3")
        .env("PYTHONPATH", cache.join("torch-2.11.0"))
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .args([
            "-m",
            "torch.distributed.run",
            "--no-python",
            "--nproc-per-node",
            "2",
            "--master-port",
            &free_port().to_string(),
        ])
        .arg(env!("CARGO_BIN_EXE_tch-keras"))
        .args(["--verbose", "0", "--report", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["world_size"], 2);
    assert_eq!(r["backend"], "gloo");
    assert_eq!(r["epochs"], 3);
    let acc = r["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.985, "2 processes reached {acc}");
}

/// Starts `world` ranks of the command line by hand with `args`, and waits for all.
fn run_ranks(world: usize, args: &[&str]) {
    let port = free_port().to_string();
    let children: Vec<Child> = (0..world)
        .map(|rank| {
            let envs = [
                ("RANK", rank.to_string()),
                ("WORLD_SIZE", world.to_string()),
                ("MASTER_ADDR", "127.0.0.1".into()),
                ("MASTER_PORT", port.clone()),
            ];
            cli(&envs, args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A checkpoint written by a distributed run resumes in one process, and that one in a
/// distributed run again.
#[test]
fn distributed_checkpoints_resume_in_one_process_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let d = ck.to_str().unwrap();
    let epochs_done = || tch_keras::load_model(ck.join("last.safetensors"), Device::Cpu).unwrap().epochs_done();
    run_ranks(2, &["--model", "mlp", "--batch-size", "300", "--epochs", "1", "--verbose", "0", "--checkpoint-dir", d]);
    assert_eq!(epochs_done(), 1);
    let o = cli(&[], &["--resume", d, "--epochs", "2", "--verbose", "0"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(epochs_done(), 2);
    run_ranks(2, &["--resume", d, "--epochs", "3", "--verbose", "0"]);
    assert_eq!(epochs_done(), 3);
}
