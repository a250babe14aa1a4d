//! Process groups on c10d (Gloo) over loopback: collectives between 2 processes, failures that
//! end in bounded time, and the typed errors of bad set-ups.
//!
//! Multi-process tests start this test binary again, running only the ignored `rank` test,
//! with `TK_DIST_ROLE` naming what that rank does and the launcher's variables (`RANK`,
//! `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`) set; each rank prints `RESULT` lines the parent
//! checks.
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};
use tch_keras::distributed::{self, Backend, DistConfig, DistEnv, DistErrorKind, Distributed};
use tch_keras::{Error, GradientReducer};

const ROLE: &str = "TK_DIST_ROLE";
/// A short timeout, so that failure tests end in seconds.
const SHORT: Duration = Duration::from_secs(3);
/// The rendezvous tests' timeout: nothing else has to happen within it.
const RENDEZVOUS: Duration = Duration::from_millis(1500);

/// A TCP port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port").local_addr().unwrap().port()
}

fn kind_of(e: &Error) -> DistErrorKind {
    match e {
        Error::Distributed { kind, .. } => *kind,
        other => panic!("expected a distributed error, got {other}"),
    }
}

/// Starts rank `rank` of `world` with `role`, its output piped.
fn spawn_rank(role: &str, rank: usize, world: usize, port: u16, extra: &[(&str, &str)]) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut c = Command::new(exe);
    c.args(["rank", "--exact", "--ignored", "--nocapture", "--test-threads=1", "-q"])
        .env(ROLE, role)
        .env("RANK", rank.to_string())
        .env("WORLD_SIZE", world.to_string())
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("OMP_NUM_THREADS", "1")
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        c.env(k, v);
    }
    c.spawn().expect("start a rank")
}

/// A rank's `RESULT name value` lines as they arrive, read on a thread.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn of(child: &mut Child) -> Lines {
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                let _ = tx2.send(format!("stderr: {line}"));
            }
        });
        Lines { rx, seen: Vec::new() }
    }

    /// Waits for `RESULT name ...` and returns what follows the name.
    fn wait_for(&mut self, name: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let prefix = format!("RESULT {name} ");
        if let Some(l) = self.seen.iter().find(|l| l.starts_with(&prefix)) {
            return l[prefix.len()..].to_string();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let found = line.strip_prefix(&prefix).map(str::to_string);
                    self.seen.push(line);
                    if let Some(v) = found {
                        return v;
                    }
                }
                Err(_) => panic!("no 'RESULT {name}' within {limit:?}; output so far:\n{}", self.seen.join("\n")),
            }
        }
    }
}

/// Waits for `child` to end within `limit`, killing it otherwise; true when it succeeded.
fn finish(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll a rank") {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a rank did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("tensor values")
}

fn show(v: &[f64]) -> String {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

fn parse(s: &str) -> Vec<f64> {
    s.split(',').map(|x| x.parse().expect("a number")).collect()
}

/// What each rank contributes to the collectives test.
fn contribution(rank: usize) -> Vec<f64> {
    let r = rank as f64;
    vec![r + 1.0, 10.0 * (r + 1.0), -r, 0.5 - 3.0 * r, 7.0]
}

fn rank_config() -> DistConfig {
    DistConfig::new().backend(Backend::Gloo).timeout(SHORT)
}

/// One rank of a multi-process test; started by the tests below, ignored otherwise.
#[test]
#[ignore = "one rank of the multi-process tests, which start it themselves"]
fn rank() {
    let role = std::env::var(ROLE).expect("TK_DIST_ROLE names the rank's role");
    match Distributed::from_env(rank_config()) {
        Err(e) => println!("RESULT join_error {:?} {e}", kind_of(&e)),
        Ok(None) => println!("RESULT join_error none"),
        Ok(Some(mut dist)) => run_role(&role, &mut dist),
    }
}

/// What a rank does for its role, each role's steps one arm of the match.
// One match with an arm per role that the tests above start: each arm is one rank's script, read
// beside the test that checks its output.
fn run_role(role: &str, dist: &mut Distributed) {
    let rank = dist.rank();
    println!("RESULT joined {rank} {} {}", dist.world_size(), dist.backend());
    match role {
        "collectives" => {
            let mine = contribution(rank);
            let mut t = Tensor::from_slice(&mine).to_kind(Kind::Float);
            dist.all_reduce_sum_(&mut t).unwrap();
            println!("RESULT sum {}", show(&values(&t)));
            let mut t = Tensor::from_slice(&mine);
            dist.all_reduce_mean_(&mut t).unwrap();
            println!("RESULT mean {}", show(&values(&t)));
            let mut t = Tensor::from_slice(&mine);
            dist.all_reduce_max_(&mut t).unwrap();
            println!("RESULT max {}", show(&values(&t)));
            let mut t = Tensor::from_slice(&mine).to_kind(Kind::Int64);
            dist.all_reduce_min_(&mut t).unwrap();
            println!("RESULT min {}", show(&values(&t)));
            // A non-contiguous view is reduced through a copy and written back.
            let base = Tensor::from_slice(&mine[..4]).to_kind(Kind::Float).reshape([2, 2]);
            let mut view = base.tr();
            dist.all_reduce_sum_(&mut view).unwrap();
            println!("RESULT sum_transposed {}", show(&values(&base)));
            let mut b = if rank == 0 {
                Tensor::from_slice(&[1.5f32, -2.5, 3.25])
            } else {
                Tensor::zeros([3], (Kind::Float, Device::Cpu))
            };
            dist.broadcast_(&mut b, 0).unwrap();
            println!("RESULT broadcast0 {}", show(&values(&b)));
            let mut b = Tensor::from_slice(&[rank as f64 * 100.0 + 1.0]);
            dist.broadcast_(&mut b, 1).unwrap();
            println!("RESULT broadcast1 {}", show(&values(&b)));
            let mut host = [rank as f64 + 0.25, 1e-3];
            dist.all_reduce_sum_f64(&mut host).unwrap();
            println!("RESULT host_sum {}", show(&host));
            let decided = dist.broadcast_bool(rank == 1, 1).unwrap();
            let any = dist.any(rank == 1).unwrap();
            let none = dist.any(false).unwrap();
            println!("RESULT flags {} {} {}", decided, any, none);
            dist.barrier().unwrap();
            println!("RESULT done ok");
        }
        "reducer" => {
            // The hook fit calls: rank 0's parameters everywhere, the mean gradient, summed logs.
            let reducer: &mut dyn GradientReducer = dist;
            let r = rank as f32;
            let mut flat = Tensor::from_slice(&[r + 0.5, 1.0 - r, 3.0 * r]);
            reducer.sync_parameters(&mut flat).unwrap();
            let mut grad = Tensor::from_slice(&[r + 1.0, 2.0 * r, -4.0]);
            let mut sums = Tensor::from_slice(&[10.0 * (r + 1.0), r]);
            reducer.reduce_step(&mut grad, &mut sums).unwrap();
            let mut eval = Tensor::from_slice(&[r, 1.0]);
            reducer.reduce_sums(&mut eval).unwrap();
            let stop = reducer.agree_to_stop(rank == 0).unwrap();
            let go_on = reducer.agree_to_stop(false).unwrap();
            println!(
                "RESULT reducer {} {} | {} | {} | {} | {stop} {go_on} {}",
                reducer.rank(),
                reducer.world_size(),
                show(&values(&flat)),
                show(&values(&grad)),
                show(&values(&sums)),
                reducer.capturable()
            );
            println!("RESULT reducer_eval {}", show(&values(&eval)));
            // Running statistics of two shapes, averaged in place through one buffer.
            let stats = [Tensor::from_slice(&[r, 2.0 + r]), Tensor::from_slice(&[4.0 * r, 1.0, -r, 8.0]).view([2, 2])];
            reducer.average_buffers(&stats).unwrap();
            let all: Vec<f64> = stats.iter().flat_map(values).collect();
            println!("RESULT reducer_buffers {}", show(&all));
        }
        "survivor" | "victim" => {
            let mut t = Tensor::from_slice(&[1.0f32]);
            dist.all_reduce_sum_(&mut t).unwrap();
            println!("RESULT first {}", show(&values(&t)));
            if role == "victim" {
                // Wait to be killed by the test.
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            let start = Instant::now();
            let mut t = Tensor::from_slice(&[1.0f32]);
            match dist.all_reduce_sum_(&mut t) {
                Ok(()) => println!("RESULT second ok {}", show(&values(&t))),
                Err(e) => println!("RESULT second {:?} {} {e}", kind_of(&e), start.elapsed().as_millis()),
            }
        }
        "hello" => {
            let mut t = Tensor::from_slice(&[rank as f64]);
            dist.all_reduce_sum_(&mut t).unwrap();
            let launcher = std::env::var("TORCHELASTIC_USE_AGENT_STORE").unwrap_or_default();
            println!("RESULT hello {rank} {} {} {launcher}", dist.world_size(), values(&t)[0]);
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn two_processes_all_reduce_and_broadcast() {
    let port = free_port();
    let mut children: Vec<Child> = (0..2).map(|r| spawn_rank("collectives", r, 2, port, &[])).collect();
    let mut lines: Vec<Lines> = children.iter_mut().map(Lines::of).collect();
    let (a, b) = (contribution(0), contribution(1));
    let sum: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let mean: Vec<f64> = sum.iter().map(|s| s / 2.0).collect();
    let max: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect();
    // The minimum is taken over int64 copies, which drop the fractions.
    let min: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x.trunc().min(y.trunc())).collect();
    for (rank, l) in lines.iter_mut().enumerate() {
        let limit = Duration::from_secs(30);
        assert_eq!(l.wait_for("joined", limit), format!("{rank} 2 gloo"));
        assert_eq!(parse(&l.wait_for("sum", limit)), sum, "rank {rank}: sum");
        assert_eq!(parse(&l.wait_for("mean", limit)), mean, "rank {rank}: mean");
        assert_eq!(parse(&l.wait_for("max", limit)), max, "rank {rank}: max");
        assert_eq!(parse(&l.wait_for("min", limit)), min, "rank {rank}: min (int64)");
        // The base tensor [[a0, a1], [a2, a3]] reduced through its transpose: the same sums.
        assert_eq!(parse(&l.wait_for("sum_transposed", limit)), sum[..4].to_vec(), "rank {rank}: view");
        assert_eq!(parse(&l.wait_for("broadcast0", limit)), vec![1.5, -2.5, 3.25], "rank {rank}: broadcast");
        assert_eq!(parse(&l.wait_for("broadcast1", limit)), vec![101.0], "rank {rank}: broadcast from 1");
        assert_eq!(parse(&l.wait_for("host_sum", limit)), vec![0.25 + 1.25, 2e-3], "rank {rank}: host sums");
        assert_eq!(l.wait_for("flags", limit), "true true false", "rank {rank}: agreed flags");
        assert_eq!(l.wait_for("done", limit), "ok");
    }
    for c in &mut children {
        assert!(finish(c, Duration::from_secs(20)), "a rank failed");
    }
}

/// The folder holding the PyTorch wheel's `torch` package (scripts/setup.sh installs it).
fn torch_python_path() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let libtorch =
        std::env::var_os("LIBTORCH").map(std::path::PathBuf::from).unwrap_or_else(|| manifest.join(".libtorch"));
    let libtorch = if libtorch.is_relative() { manifest.join(libtorch) } else { libtorch };
    let candidates = [
        libtorch.canonicalize().ok().and_then(|p| p.parent().map(|p| p.to_path_buf())),
        Some(tch_keras::data::cache_dir().join("torch-2.11.0")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("torch/distributed/run.py").exists())
        .expect("PyTorch's torch package (with torch.distributed.run) not found: run scripts/setup.sh")
}

#[test]
fn the_gradient_reducer_averages_gradients_and_sums_logs() {
    let port = free_port();
    let mut children: Vec<Child> = (0..2).map(|r| spawn_rank("reducer", r, 2, port, &[])).collect();
    let mut lines: Vec<Lines> = children.iter_mut().map(Lines::of).collect();
    for (rank, l) in lines.iter_mut().enumerate() {
        let limit = Duration::from_secs(30);
        // Rank 0's parameters [0.5, 1, 0]; gradients [1, 0, -4] and [2, 2, -4] average to
        // [1.5, 1, -4]; sums [10, 0] and [20, 1] add to [30, 1]; rank 0 asks to stop.
        let expected = format!("{rank} 2 | 0.5,1,0 | 1.5,1,-4 | 30,1 | true false false");
        assert_eq!(l.wait_for("reducer", limit), expected, "rank {rank}");
        assert_eq!(parse(&l.wait_for("reducer_eval", limit)), vec![1.0, 2.0], "rank {rank}: evaluation sums");
        let averaged = parse(&l.wait_for("reducer_buffers", limit));
        assert_eq!(averaged, vec![0.5, 2.5, 2.0, 1.0, -0.5, 8.0], "rank {rank}: averaged buffers, shapes kept");
    }
    for c in &mut children {
        assert!(finish(c, Duration::from_secs(20)), "a rank failed");
    }
}

#[test]
fn torchrun_launches_two_ranks() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let port = free_port().to_string();
    let out = Command::new("python3")
        .args(["-m", "torch.distributed.run", "--no-python", "--nproc-per-node", "2", "--master-port", &port])
        .arg(&exe)
        .args(["rank", "--exact", "--ignored", "--nocapture", "--test-threads=1", "-q"])
        .env("PYTHONPATH", torch_python_path())
        .env(ROLE, "hello")
        .env("OMP_NUM_THREADS", "1")
        .output()
        .expect("run python3 -m torch.distributed.run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "torchrun failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let mut hellos: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("RESULT hello ")).collect();
    hellos.sort();
    // Each rank saw the sum of ranks 0 + 1, and joined the store torchrun hosts.
    assert_eq!(hellos, ["0 2 1 True", "1 2 1 True"], "{stdout}");
}

#[test]
fn a_killed_peer_ends_the_other_rank_in_bounded_time() {
    let port = free_port();
    let mut survivor = spawn_rank("survivor", 0, 2, port, &[]);
    let mut victim = spawn_rank("victim", 1, 2, port, &[]);
    let mut s = Lines::of(&mut survivor);
    let mut v = Lines::of(&mut victim);
    assert_eq!(v.wait_for("first", Duration::from_secs(30)), "2");
    assert_eq!(s.wait_for("first", Duration::from_secs(30)), "2");
    let killed = Instant::now();
    victim.kill().expect("kill rank 1");
    let _ = victim.wait();
    let second = s.wait_for("second", SHORT * 4);
    let waited = killed.elapsed();
    eprintln!("rank 0 after its peer was killed ({waited:?}): {second}");
    let mut parts = second.splitn(3, ' ');
    let (kind, ms, message) = (parts.next().unwrap(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    assert!(kind == "Peer" || kind == "Timeout", "rank 0's all-reduce after its peer died: {second}");
    let ms: u64 = ms.parse().expect("elapsed milliseconds");
    assert!(ms <= (SHORT + Duration::from_secs(2)).as_millis() as u64, "took {ms} ms: {second}");
    assert!(waited < SHORT * 3, "rank 0 reported after {waited:?}");
    assert!(message.contains("rank 0 of 2") && !message.contains("Exception raised from"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(finish(&mut survivor, Duration::from_secs(20)), "rank 0 should end normally after reporting");
}

#[test]
fn a_hung_peer_makes_the_collective_time_out() {
    let port = free_port();
    let mut survivor = spawn_rank("survivor", 0, 2, port, &[]);
    let mut victim = spawn_rank("victim", 1, 2, port, &[]);
    let mut s = Lines::of(&mut survivor);
    let mut v = Lines::of(&mut victim);
    assert_eq!(v.wait_for("first", Duration::from_secs(30)), "2");
    // Rank 1 stops (as a hung process would) without closing its connections.
    let stopped = Command::new("kill").args(["-STOP", &victim.id().to_string()]).status().expect("run kill");
    assert!(stopped.success());
    let second = s.wait_for("second", SHORT * 4);
    eprintln!("rank 0 with a stopped peer: {second}");
    let _ = victim.kill();
    let _ = victim.wait();
    let mut parts = second.splitn(3, ' ');
    let (kind, ms) = (parts.next().unwrap(), parts.next().unwrap_or(""));
    assert_eq!(kind, "Timeout", "{second}");
    let ms: u64 = ms.parse().expect("elapsed milliseconds");
    let short = SHORT.as_millis() as u64;
    assert!(ms + 200 >= short && ms <= short + 2000, "gave up after {ms} ms with a {short} ms timeout: {second}");
    assert!(finish(&mut survivor, Duration::from_secs(20)), "rank 0 should end normally after reporting");
}

#[test]
fn a_rank_that_never_arrives_times_out() {
    let start = Instant::now();
    let config = rank_config().timeout(RENDEZVOUS);
    let e = Distributed::new(0, 2, "127.0.0.1", free_port(), config).expect_err("rank 1 never comes");
    let took = start.elapsed();
    eprintln!("never arrives ({took:?}): {e}");
    assert_eq!(kind_of(&e), DistErrorKind::Timeout, "{e}");
    assert!(took >= RENDEZVOUS && took < RENDEZVOUS * 3, "took {took:?}");
    let text = e.to_string();
    assert!(text.contains("rank 0 of 2") && text.contains("master_port"), "{text}");
    assert!(!text.contains('\n') && !text.contains("Exception raised from"), "{text}");
}

#[test]
fn an_unreachable_master_times_out() {
    // Nobody listens on the port: rank 1 retries until the timeout.
    let start = Instant::now();
    let config = rank_config().timeout(RENDEZVOUS);
    let e = Distributed::new(1, 2, "127.0.0.1", free_port(), config).expect_err("no master");
    let took = start.elapsed();
    eprintln!("unreachable master ({took:?}): {e}");
    assert_eq!(kind_of(&e), DistErrorKind::Timeout, "{e}");
    // The wait stays within the timeout (plus scheduling slack), whatever c10d's own retries do.
    assert!(took >= RENDEZVOUS && took < RENDEZVOUS + Duration::from_millis(1000), "took {took:?}");
    let text = e.to_string();
    assert!(text.contains("master_addr") && text.contains("refused"), "{text}");
}

#[test]
fn a_master_port_in_use_is_refused() {
    let taken = TcpListener::bind("0.0.0.0:0").expect("hold a port");
    let port = taken.local_addr().unwrap().port();
    let start = Instant::now();
    let e = Distributed::new(0, 2, "127.0.0.1", port, rank_config()).expect_err("the port is taken");
    eprintln!("port in use: {e}");
    assert_eq!(kind_of(&e), DistErrorKind::AddressInUse, "{e}");
    assert!(start.elapsed() < SHORT * 3);
    let text = e.to_string();
    assert!(text.contains("in use") && text.contains(&port.to_string()) && text.contains("master_port"), "{text}");
}

#[test]
fn a_bad_environment_is_refused_by_the_launched_process() {
    // RANK >= WORLD_SIZE, read from the real environment by Distributed::from_env.
    let mut child = spawn_rank("collectives", 2, 2, free_port(), &[]);
    let mut lines = Lines::of(&mut child);
    let got = lines.wait_for("join_error", Duration::from_secs(30));
    assert!(got.starts_with("InvalidArgument") && got.contains("RANK=2") && got.contains("WORLD_SIZE=2"), "{got}");
    finish(&mut child, Duration::from_secs(20));
}

fn env_of(pairs: &[(&str, &str)]) -> Result<Option<DistEnv>, Error> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    DistEnv::from_lookup(|k| map.get(k).cloned())
}

/// The error for `pairs`, which must be invalid and name every one of `needles`.
fn assert_env_refused(pairs: &[(&str, &str)], needles: &[&str]) {
    let e = env_of(pairs).expect_err(&format!("{pairs:?} should be refused"));
    assert_eq!(kind_of(&e), DistErrorKind::InvalidArgument, "{e}");
    for n in needles {
        assert!(e.to_string().contains(n), "{pairs:?}: {e} lacks {n}");
    }
}

#[test]
fn environments_are_read_and_bad_ones_name_the_variable() {
    let ok =
        [("RANK", "1"), ("WORLD_SIZE", "4"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "node0"), ("MASTER_PORT", "29500")];
    let env = env_of(&ok).unwrap().expect("a group");
    assert_eq!((env.rank, env.world_size, env.local_rank), (1, 4, 1));
    assert_eq!((env.master_addr.as_str(), env.master_port, env.launcher_store), ("node0", 29500, false));
    assert_eq!(env_of(&[("SLURM_PROCID", "3"), ("SLURM_NTASKS", "4")]).unwrap(), None, "SLURM alone: one process");
    assert_eq!(env_of(&[("PATH", "/bin")]).unwrap(), None);
    // SLURM's variables stand in for torchrun's.
    let slurm = [("SLURM_PROCID", "3"), ("SLURM_NTASKS", "4"), ("SLURM_LOCALID", "1")];
    let with_master = [&slurm[..], &[("MASTER_ADDR", "node0"), ("MASTER_PORT", "29500")]].concat();
    let env = env_of(&with_master).unwrap().expect("a SLURM group");
    assert_eq!((env.rank, env.world_size, env.local_rank), (3, 4, 1));
    // torchrun hosts the store itself and tells the ranks so; restarts get their own keys.
    let agent = [&ok[..], &[("TORCHELASTIC_USE_AGENT_STORE", "True"), ("TORCHELASTIC_RESTART_COUNT", "2")]].concat();
    let env = env_of(&agent).unwrap().expect("a torchrun group");
    assert!(env.launcher_store);
    assert_eq!(env.store_prefix, "tch_keras/2/");

    let base = |skip: &str, extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = ok.iter().copied().filter(|(k, _)| *k != skip).collect();
        v.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        v.extend_from_slice(extra);
        v
    };
    assert_env_refused(&base("", &[("WORLD_SIZE", "0")]), &["WORLD_SIZE=0"]);
    assert_env_refused(&base("", &[("WORLD_SIZE", "two")]), &["WORLD_SIZE", "\"two\"", "not a non-negative integer"]);
    assert_env_refused(&base("WORLD_SIZE", &[]), &["WORLD_SIZE is not set"]);
    assert_env_refused(&base("", &[("RANK", "4")]), &["RANK=4", "WORLD_SIZE=4", "0 to 3"]);
    assert_env_refused(&base("", &[("RANK", "-1")]), &["RANK", "\"-1\""]);
    assert_env_refused(&base("RANK", &[]), &["RANK is not set"]);
    assert_env_refused(&base("", &[("LOCAL_RANK", "x")]), &["LOCAL_RANK"]);
    assert_env_refused(&base("MASTER_ADDR", &[]), &["MASTER_ADDR is not set"]);
    assert_env_refused(&base("MASTER_PORT", &[]), &["MASTER_PORT is not set"]);
    assert_env_refused(&base("", &[("MASTER_PORT", "70000")]), &["MASTER_PORT=\"70000\"", "1 to 65535"]);
    assert_env_refused(&base("", &[("MASTER_PORT", "0")]), &["MASTER_PORT=\"0\""]);
    assert_env_refused(&base("", &[("MASTER_PORT", "http")]), &["MASTER_PORT=\"http\""]);
    assert_env_refused(
        &[("SLURM_PROCID", "4"), ("SLURM_NTASKS", "4"), ("MASTER_ADDR", "n"), ("MASTER_PORT", "1")],
        &["SLURM_PROCID=4", "SLURM_NTASKS=4"],
    );
}

#[test]
fn bad_arguments_are_refused_before_libtorch_sees_them() {
    let port = free_port();
    let cfg = rank_config;
    let cases: Vec<(Result<Distributed, Error>, &str)> = vec![
        (Distributed::new(0, 0, "127.0.0.1", port, cfg()), "world_size is 0"),
        (Distributed::new(2, 2, "127.0.0.1", port, cfg()), "rank 2 is not below world_size 2"),
        (Distributed::new(0, 1, " ", port, cfg()), "master_addr is empty"),
        (Distributed::new(0, 1, "127.0.0.1", 0, cfg()), "master_port is 0"),
        (Distributed::new(0, 1, "127.0.0.1", port, cfg().timeout(Duration::ZERO)), "timeout"),
        (Distributed::new(0, 1, "127.0.0.1", port, cfg().backend(Backend::Nccl)), "nccl needs CUDA tensors"),
    ];
    for (result, needle) in cases {
        let e = result.expect_err(needle);
        assert_eq!(kind_of(&e), DistErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains(needle), "{e} lacks {needle}");
    }
    // Nothing bound the port: it is still free.
    TcpListener::bind(("127.0.0.1", port)).expect("the refused calls left the port alone");
    if !tch::Cuda::is_available() {
        let e = Distributed::new(0, 1, "127.0.0.1", port, cfg().backend(Backend::Nccl).device(Device::Cuda(0)))
            .expect_err("no CUDA here");
        let expected = if distributed::nccl_available() { "needs a CUDA GPU" } else { "no NCCL support" };
        assert_eq!(kind_of(&e), DistErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains(expected), "{e}");
    }
    assert_eq!("NCCL".parse::<Backend>().unwrap(), Backend::Nccl);
    assert!("mpi".parse::<Backend>().is_err());
}

#[test]
fn a_world_of_one_reduces_to_itself_and_checks_tensors() {
    assert!(distributed::gloo_available(), "this build has no Gloo: run scripts/setup.sh and rebuild");
    let dist = Distributed::new(0, 1, "127.0.0.1", free_port(), rank_config()).expect("a world of 1");
    assert_eq!((dist.rank(), dist.world_size(), dist.backend(), dist.is_main()), (0, 1, Backend::Gloo, true));
    let mut t = Tensor::from_slice(&[1.0f32, -2.0, 3.5]);
    dist.all_reduce_sum_(&mut t).unwrap();
    assert_eq!(values(&t), vec![1.0, -2.0, 3.5]);
    dist.broadcast_(&mut t, 0).unwrap();
    dist.barrier().unwrap();
    let e = dist.broadcast_(&mut t, 1).expect_err("root 1 of a world of 1");
    assert_eq!(kind_of(&e), DistErrorKind::InvalidArgument);
    assert!(e.to_string().contains("root 1"), "{e}");
    let mut counts = Tensor::from_slice(&[3i64]);
    let e = dist.all_reduce_mean_(&mut counts).expect_err("the mean of integers");
    assert!(e.to_string().contains("all_reduce_sum_"), "{e}");
    let mut flags = Tensor::from_slice(&[true, false]);
    let e = dist.all_reduce_max_(&mut flags).expect_err("bool tensors");
    assert!(e.to_string().contains("dtype Bool"), "{e}");
}
