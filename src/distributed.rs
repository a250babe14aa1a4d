//! Process groups for data-parallel training on LibTorch's own distributed engine, c10d: the
//! `TCPStore` rendezvous PyTorch's `torchrun` uses, then Gloo (CPU and CUDA tensors) or NCCL (CUDA
//! tensors) for the collectives.
//!
//! A [`Distributed`] value is one process's membership of a group of `world_size` processes,
//! ranked `0..world_size`. Join one from the launcher's environment with
//! [`Distributed::from_env`] (`torchrun`'s `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`,
//! `MASTER_PORT`; SLURM's `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID` stand in for the first
//! three), or from arguments with [`Distributed::new`]. Every rank must then call the same
//! collectives ([`all_reduce_sum_`](Distributed::all_reduce_sum_),
//! [`broadcast_`](Distributed::broadcast_), [`barrier`](Distributed::barrier), ...) in the same
//! order with tensors of the same shape and dtype.
//!
//! ```no_run
//! use tch_keras::distributed::{DistConfig, Distributed};
//!
//! // None when the process was not started by a launcher: run as a single process.
//! if let Some(dist) = Distributed::from_env(DistConfig::new())? {
//!     let mut t = tch_keras::tch::Tensor::from_slice(&[dist.rank() as f32]);
//!     dist.all_reduce_sum_(&mut t)?;
//!     println!("rank {} of {}: sum of ranks {}", dist.rank(), dist.world_size(), t.double_value(&[0]));
//! }
//! # Ok::<(), tch_keras::Error>(())
//! ```
//!
//! Failures are bounded in time: the rendezvous and every Gloo collective give up after the
//! configured timeout ([`DistConfig::timeout`], default [`DEFAULT_TIMEOUT`]), and a peer whose
//! process ends makes Gloo collectives fail at once. NCCL collectives do not block the host:
//! c10d's watchdog ends the process when one outlives the timeout. Errors are [`Error::Distributed`] with a
//! [`DistErrorKind`] telling a timeout from a lost peer or a bad set-up, on one line: c10d's
//! own error logs (with C++ backtraces) are silenced once a group is made, unless
//! `TORCH_CPP_LOG_LEVEL` is set.
//!
//! Gloo's connections use the network interfaces `GLOO_SOCKET_IFNAME` names (comma-separated),
//! as in PyTorch; without it, loopback when the master is a loopback address, else the address
//! this machine's host name resolves to.
//!
//! # In a training loop
//!
//! * Gloo collectives are synchronous: the call returns when the result is in the tensor.
//!   Gloo takes CUDA tensors too (staged through host memory), but cannot be captured in a
//!   CUDA graph.
//! * NCCL collectives are stream-ordered, like CUDA kernels: the call queues the collective
//!   and makes the current stream wait for it, and returns before it completes. They can be
//!   captured in a CUDA graph once the communicator exists (NCCL creates it lazily at the first
//!   collective: run one eagerly before capturing); c10d's watchdog does not follow captured
//!   collectives, so a captured step that hangs is not timed out. Do not capture
//!   [`barrier`](Distributed::barrier) (it synchronises the device).
//! * Every rank must make the same calls in the same order: a rank that skips a collective
//!   (an early `break`, a decision only it made) leaves the others waiting until the timeout.
//!   Agree first with [`broadcast_bool`](Distributed::broadcast_bool) or
//!   [`any`](Distributed::any).
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tch::{Device, Kind, Tensor};

use crate::{Error, GradientReducer, Result};

mod ffi {
    use std::ffi::{c_char, c_int, c_void};
    use torch_sys::C_tensor;

    extern "C" {
        pub fn tk_free_error(e: *mut c_char);
        pub fn tk_dist_gloo_available() -> c_int;
        pub fn tk_dist_nccl_available() -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn tk_dist_new(
            backend: c_int,
            addr: *const c_char,
            port: c_int,
            rank: c_int,
            world: c_int,
            store_server: c_int,
            prefix: *const c_char,
            timeout_ms: i64,
            cuda_device: c_int,
            gloo_ifaces: *const c_char,
            out: *mut *mut c_void,
            kind: *mut c_int,
        ) -> *mut c_char;
        pub fn tk_dist_all_reduce(g: *mut c_void, t: *mut C_tensor, op: c_int, kind: *mut c_int) -> *mut c_char;
        pub fn tk_dist_broadcast(g: *mut c_void, t: *mut C_tensor, root: c_int, kind: *mut c_int) -> *mut c_char;
        pub fn tk_dist_barrier(g: *mut c_void, kind: *mut c_int) -> *mut c_char;
        pub fn tk_dist_free(g: *mut c_void);
    }
}

/// How long the rendezvous and each collective may wait for the other ranks when
/// [`DistConfig::timeout`] is not set: 5 minutes. Long enough for ranks that start or reach a
/// collective some minutes apart (data loading, rank 0 writing a checkpoint); short enough
/// that a hung peer ends the job in minutes, not PyTorch's 30. A peer whose process dies is
/// noticed at once on Gloo, whatever the timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Which c10d backend carries the collectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// NCCL when the group's device is CUDA and this build has NCCL, Gloo otherwise.
    #[default]
    Auto,
    /// Gloo: CPU tensors, and CUDA tensors staged through the host (cannot be captured in a
    /// CUDA graph).
    Gloo,
    /// NCCL: CUDA tensors only, one GPU per rank.
    Nccl,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Gloo => "gloo",
            Backend::Nccl => "nccl",
        })
    }
}

impl FromStr for Backend {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "gloo" => Ok(Backend::Gloo),
            "nccl" => Ok(Backend::Nccl),
            _ => {
                Err(Error::Parse { what: "distributed backend", value: s.into(), expected: "auto, gloo, nccl".into() })
            }
        }
    }
}

/// What kind of distributed failure an [`Error::Distributed`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistErrorKind {
    /// The other ranks did not arrive within the timeout: the master is unreachable, a rank was
    /// never started, or a peer hangs.
    Timeout,
    /// A connection failed or a peer left the group (its process crashed or was killed).
    Peer,
    /// The configuration or a tensor is invalid (bad rank, world size, port, device, dtype);
    /// found before LibTorch sees anything.
    InvalidArgument,
    /// Rank 0 could not host the rendezvous: the master port is in use.
    AddressInUse,
    /// This build or machine cannot do it (no Gloo headers at build time, NCCL without CUDA).
    Unsupported,
    /// Any other c10d failure.
    Other,
}

impl DistErrorKind {
    fn from_code(code: c_int) -> Self {
        match code {
            1 => DistErrorKind::Timeout,
            2 => DistErrorKind::Peer,
            3 => DistErrorKind::InvalidArgument,
            4 => DistErrorKind::AddressInUse,
            5 => DistErrorKind::Unsupported,
            _ => DistErrorKind::Other,
        }
    }
}

impl fmt::Display for DistErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DistErrorKind::Timeout => "timeout",
            DistErrorKind::Peer => "peer failure",
            DistErrorKind::InvalidArgument => "invalid argument",
            DistErrorKind::AddressInUse => "address in use",
            DistErrorKind::Unsupported => "unsupported",
            DistErrorKind::Other => "c10d error",
        })
    }
}

fn dist_error(kind: DistErrorKind, message: impl Into<String>) -> Error {
    Error::Distributed { kind, message: message.into() }
}

fn invalid(message: impl Into<String>) -> Error {
    dist_error(DistErrorKind::InvalidArgument, message)
}

/// How to join a group: backend, timeout and the device the collectives' tensors live on.
#[derive(Debug, Clone, PartialEq)]
pub struct DistConfig {
    /// Which backend; [`Backend::Auto`] by default.
    pub backend: Backend,
    /// How long the rendezvous and each collective may wait; [`DEFAULT_TIMEOUT`] by default.
    pub timeout: Duration,
    /// Where the tensors handed to the collectives live: picks the backend under
    /// [`Backend::Auto`], and is NCCL's GPU. CPU by default.
    pub device: Device,
}

impl Default for DistConfig {
    fn default() -> Self {
        DistConfig { backend: Backend::Auto, timeout: DEFAULT_TIMEOUT, device: Device::Cpu }
    }
}

impl DistConfig {
    /// The defaults: automatic backend, [`DEFAULT_TIMEOUT`], CPU tensors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Sets how long the rendezvous and each collective may wait for the other ranks.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the device of the tensors the collectives will get.
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }
}

/// The group a launcher describes in the environment (`torchrun`, SLURM, or by hand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistEnv {
    /// This process's rank, from `RANK` (or `SLURM_PROCID`).
    pub rank: usize,
    /// The number of processes, from `WORLD_SIZE` (or `SLURM_NTASKS`).
    pub world_size: usize,
    /// This process's rank on its machine, from `LOCAL_RANK` (or `SLURM_LOCALID`); 0 when
    /// neither is set.
    pub local_rank: usize,
    /// The rendezvous host, from `MASTER_ADDR`.
    pub master_addr: String,
    /// The rendezvous port, from `MASTER_PORT`.
    pub master_port: u16,
    /// Whether the launcher hosts the rendezvous store itself (`torchrun` sets
    /// `TORCHELASTIC_USE_AGENT_STORE=True`): then every rank, rank 0 included, connects to it.
    pub launcher_store: bool,
    /// Keys this group puts in the store are under this prefix (`torchrun`'s restart count
    /// keeps restarted groups apart).
    pub store_prefix: String,
    names: Names,
}

/// The variable or parameter each value came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Names {
    rank: &'static str,
    world: &'static str,
    addr: &'static str,
    port: &'static str,
}

const ARG_NAMES: Names = Names { rank: "rank", world: "world_size", addr: "master_addr", port: "master_port" };

const STORE_PREFIX: &str = "tch_keras/";

/// The rendezvous address and port from `MASTER_ADDR` and `MASTER_PORT`.
fn master(get: &dyn Fn(&str) -> Option<String>) -> Result<(String, u16)> {
    let master_addr = match get("MASTER_ADDR") {
        Some(a) if !a.is_empty() => a,
        _ => {
            return Err(invalid("MASTER_ADDR is not set: give the host name or address of the machine running rank 0"))
        }
    };
    let Some(port) = get("MASTER_PORT") else {
        return Err(invalid("MASTER_PORT is not set: give a free TCP port on the master, such as 29500"));
    };
    let master_port = match port.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => p as u16,
        _ => return Err(invalid(format!("MASTER_PORT={port:?} is not a TCP port (1 to 65535)"))),
    };
    Ok((master_addr, master_port))
}

impl DistEnv {
    /// Reads the process's environment: `None` when none of `RANK`, `WORLD_SIZE`,
    /// `MASTER_ADDR`, `MASTER_PORT` is set (a single-process run), an error naming the variable
    /// when one is missing or invalid. SLURM's `SLURM_PROCID`/`SLURM_NTASKS`/`SLURM_LOCALID`
    /// stand in for `RANK`/`WORLD_SIZE`/`LOCAL_RANK` when those are absent, once `MASTER_ADDR`
    /// or `MASTER_PORT` asks for a group (a SLURM job alone stays single-process).
    pub fn from_env() -> Result<Option<DistEnv>> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `var` (for tests and
    /// launchers that pass their own map).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Option<DistEnv>> {
        let get = |name: &str| var(name).map(|v| v.trim().to_string());
        let triggers = ["RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"];
        if triggers.iter().all(|n| get(n).is_none()) {
            return Ok(None);
        }
        // (variable, value) of the first of `names` that is set.
        let pick = |names: [&'static str; 2]| names.into_iter().find_map(|n| get(n).map(|v| (n, v)));
        let number = |name: &'static str, value: &str| -> Result<usize> {
            value.parse::<usize>().map_err(|_| invalid(format!("{name}={value:?} is not a non-negative integer")))
        };
        let Some((world_name, world)) = pick(["WORLD_SIZE", "SLURM_NTASKS"]) else {
            return Err(invalid(
                "WORLD_SIZE is not set: a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT \
                 (torchrun sets them)",
            ));
        };
        let world_size = number(world_name, &world)?;
        if world_size == 0 {
            return Err(invalid(format!("{world_name}=0: the world size must be at least 1")));
        }
        let Some((rank_name, rank)) = pick(["RANK", "SLURM_PROCID"]) else {
            return Err(invalid(format!(
                "RANK is not set: each of the {world_size} processes needs its own RANK in 0..{world_size}"
            )));
        };
        let rank = number(rank_name, &rank)?;
        if rank >= world_size {
            return Err(invalid(format!(
                "{rank_name}={rank} is not below {world_name}={world_size}: ranks run from 0 to {}",
                world_size - 1
            )));
        }
        let local_rank = match pick(["LOCAL_RANK", "SLURM_LOCALID"]) {
            Some((name, v)) => number(name, &v)?,
            None => 0,
        };
        let (master_addr, master_port) = master(&get)?;
        let launcher_store = get("TORCHELASTIC_USE_AGENT_STORE").is_some_and(|v| v == "True");
        let store_prefix = match get("TORCHELASTIC_RESTART_COUNT") {
            Some(n) if !n.is_empty() => format!("{STORE_PREFIX}{n}/"),
            _ => STORE_PREFIX.to_string(),
        };
        Ok(Some(DistEnv {
            rank,
            world_size,
            local_rank,
            master_addr,
            master_port,
            launcher_store,
            store_prefix,
            names: Names { rank: rank_name, world: world_name, addr: "MASTER_ADDR", port: "MASTER_PORT" },
        }))
    }
}

/// One process's membership of a c10d process group. Collectives block until every rank has
/// made the same call (or the timeout passes) and leave the result in the tensor given.
///
/// `Send` (it may move to another thread), not `Sync`: the ranks must issue collectives in one
/// agreed order, which calls from several threads at once would not keep.
pub struct Distributed {
    group: *mut c_void,
    rank: usize,
    world_size: usize,
    local_rank: usize,
    backend: Backend,
    device: Device,
    timeout: Duration,
    master: String,
}

// SAFETY: the group is a heap object owned by this value alone; c10d's backends may be used from
// any thread, one call at a time, which `&self` methods on a `!Sync` value guarantee.
unsafe impl Send for Distributed {}

impl fmt::Debug for Distributed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Distributed")
            .field("rank", &self.rank)
            .field("world_size", &self.world_size)
            .field("local_rank", &self.local_rank)
            .field("backend", &self.backend)
            .field("device", &self.device)
            .field("master", &self.master)
            .finish()
    }
}

impl Drop for Distributed {
    fn drop(&mut self) {
        // SAFETY: `group` came from tk_dist_new and is freed once, here.
        unsafe { ffi::tk_dist_free(self.group) };
    }
}

/// Whether this build can use Gloo (Gloo's headers were found when it was compiled).
pub fn gloo_available() -> bool {
    // SAFETY: no arguments; reads a compile-time constant.
    unsafe { ffi::tk_dist_gloo_available() != 0 }
}

/// Whether this build can use NCCL (LibTorch with CUDA, `nccl.h` and the CUDA headers were
/// found when it was compiled). A GPU is still needed at run time.
pub fn nccl_available() -> bool {
    // SAFETY: no arguments; reads a compile-time constant.
    unsafe { ffi::tk_dist_nccl_available() != 0 }
}

/// Takes the shim's error string: (kind, one-line message), or None on success.
fn take_error(e: *mut c_char, kind: c_int) -> Option<(DistErrorKind, String)> {
    if e.is_null() {
        return None;
    }
    // SAFETY: a non-null return is a NUL-terminated string malloc'd by the shim; freed once here.
    let message = unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned();
    unsafe { ffi::tk_free_error(e) };
    Some((DistErrorKind::from_code(kind), message))
}

/// The reduction an all-reduce applies.
#[derive(Clone, Copy)]
enum Op {
    Sum = 0,
    Max = 1,
    Min = 2,
}

/// Checks a join's environment and settings before LibTorch sees them; returns the timeout in
/// milliseconds.
fn check_join(env: &DistEnv, config: &DistConfig) -> Result<i64> {
    let n = env.names;
    let limit = i32::MAX as usize;
    if env.world_size == 0 || env.world_size > limit {
        return Err(invalid(format!("{}={} is out of range", n.world, env.world_size)));
    }
    if env.rank >= env.world_size {
        return Err(invalid(format!("{}={} is not below {}={}", n.rank, env.rank, n.world, env.world_size)));
    }
    if env.master_port == 0 {
        return Err(invalid(format!("{}=0 is not a TCP port (1 to 65535)", n.port)));
    }
    let timeout_ms = config.timeout.as_millis();
    if timeout_ms == 0 || timeout_ms > i64::MAX as u128 {
        return Err(invalid(format!("timeout {:?} must be at least 1 ms", config.timeout)));
    }
    Ok(timeout_ms as i64)
}

/// Waits until something accepts TCP connections at the master's address, or `timeout` passes.
///
/// c10d's own client retries with a growing, jittered back-off and once more after its first
/// timeout, so an unreachable master could hold a rank for several timeouts; probing here keeps
/// the wait within the configured one. `Err` carries the last connection error. An address that
/// does not resolve is left to c10d, which names it.
fn wait_for_master(host: &str, port: u16, timeout: Duration) -> std::result::Result<(), String> {
    use std::net::{TcpStream, ToSocketAddrs};
    let Ok(addrs) = (host, port).to_socket_addrs().map(|a| a.collect::<Vec<_>>()) else {
        return Ok(());
    };
    let deadline = std::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    let mut last = String::from("no address to try");
    loop {
        for addr in &addrs {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(last);
            }
            match TcpStream::connect_timeout(addr, left.min(Duration::from_secs(1))) {
                Ok(_) => return Ok(()),
                Err(e) => last = format!("connecting to {addr}: {e}"),
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// The message for a failed join, naming the variables to check.
fn join_failure(
    env: &DistEnv,
    config: &DistConfig,
    backend: Backend,
    (kind, message): (DistErrorKind, &str),
    waited: f64,
) -> String {
    let n = env.names;
    let master = format!("{}:{}", env.master_addr, env.master_port);
    let (rank, world) = (env.rank, env.world_size);
    let secs = config.timeout.as_secs_f64();
    match kind {
        DistErrorKind::AddressInUse => format!(
            "rank 0 cannot host the rendezvous on {master} ({}/{}): the port is in use; choose a free {} \
             (c10d: {message})",
            n.addr, n.port, n.port
        ),
        DistErrorKind::Timeout => format!(
            "rank {rank} of {world}: the rendezvous at {master} ({}/{}) did not complete (gave up after \
             {waited:.1} s; timeout {secs} s): \
             the master is unreachable or not every rank was started; check {} and {}, that all {world} \
             processes run, and the firewall ({message})",
            n.addr, n.port, n.addr, n.port
        ),
        DistErrorKind::Peer => format!(
            "rank {rank} of {world}: could not connect the group through {master} ({}/{}): check {} and \
             that every rank can reach it (c10d: {message})",
            n.addr, n.port, n.addr
        ),
        _ => format!("rank {rank} of {world}: joining the {backend} group at {master} failed: {message}"),
    }
}

impl Distributed {
    /// Joins the group the environment describes (see [`DistEnv::from_env`]); `Ok(None)` when
    /// the process was not started as part of one. Errors name the variable at fault.
    pub fn from_env(config: DistConfig) -> Result<Option<Distributed>> {
        match DistEnv::from_env()? {
            Some(env) => Ok(Some(Self::join(&env, config)?)),
            None => Ok(None),
        }
    }

    /// Joins the group `env` describes.
    pub fn join(env: &DistEnv, config: DistConfig) -> Result<Distributed> {
        Self::connect(env, config)
    }

    /// Joins a group of `world_size` processes as `rank`, meeting at `master_addr:master_port`
    /// where rank 0 hosts the rendezvous store. Blocks until every rank has joined, or fails
    /// after `config.timeout`. The local rank is taken to be 0; use [`Distributed::join`] with
    /// a [`DistEnv`] to give another.
    pub fn new(
        rank: usize,
        world_size: usize,
        master_addr: &str,
        master_port: u16,
        config: DistConfig,
    ) -> Result<Distributed> {
        if world_size == 0 {
            return Err(invalid("world_size is 0: a group has at least one process"));
        }
        if rank >= world_size {
            return Err(invalid(format!(
                "rank {rank} is not below world_size {world_size}: ranks run from 0 to {}",
                world_size - 1
            )));
        }
        if master_addr.trim().is_empty() {
            return Err(invalid("master_addr is empty: give the host name or address of rank 0's machine"));
        }
        if master_port == 0 {
            return Err(invalid("master_port is 0: give the TCP port rank 0 listens on, such as 29500"));
        }
        let env = DistEnv {
            rank,
            world_size,
            local_rank: 0,
            master_addr: master_addr.trim().to_string(),
            master_port,
            launcher_store: false,
            store_prefix: STORE_PREFIX.to_string(),
            names: ARG_NAMES,
        };
        Self::connect(&env, config)
    }

    fn resolve_backend(config: &DistConfig) -> Result<Backend> {
        let backend = match config.backend {
            Backend::Auto if config.device.is_cuda() && nccl_available() => Backend::Nccl,
            Backend::Auto => Backend::Gloo,
            b => b,
        };
        match backend {
            Backend::Nccl => {
                let Device::Cuda(_) = config.device else {
                    return Err(invalid(format!(
                        "backend nccl needs CUDA tensors but the device is {}: use backend gloo for CPU tensors, or \
                         a CUDA device",
                        crate::device_name(config.device)
                    )));
                };
                if !nccl_available() {
                    return Err(dist_error(
                        DistErrorKind::Unsupported,
                        "backend nccl: this build has no NCCL support (it needs LibTorch with CUDA and the headers \
                         scripts/setup.sh installs); use backend gloo",
                    ));
                }
                if !tch::Cuda::is_available() {
                    return Err(dist_error(
                        DistErrorKind::Unsupported,
                        "backend nccl needs a CUDA GPU, and none is available: use backend gloo",
                    ));
                }
            }
            _ => {
                if !gloo_available() {
                    return Err(dist_error(
                        DistErrorKind::Unsupported,
                        "backend gloo: this build has no Gloo support, because Gloo's headers were missing when it \
                         was compiled: run scripts/setup.sh (it fetches Debian's libgloo-dev headers into the \
                         cache) or set TCH_KERAS_GLOO_INCLUDE to a folder holding gloo/, then `touch build.rs` and rebuild",
                    ));
                }
                if let Device::Cuda(_) = config.device {
                    if !tch::Cuda::is_available() {
                        return Err(invalid(format!(
                            "device {} is not available: no CUDA GPU",
                            crate::device_name(config.device)
                        )));
                    }
                }
            }
        }
        Ok(backend)
    }

    fn connect(env: &DistEnv, config: DistConfig) -> Result<Distributed> {
        let n = env.names;
        let timeout_ms = check_join(env, &config)?;
        let backend = Self::resolve_backend(&config)?;
        let cuda_device = match config.device {
            Device::Cuda(i) => i as c_int,
            _ => -1,
        };
        let master = format!("{}:{}", env.master_addr, env.master_port);
        let addr = CString::new(env.master_addr.as_str())
            .map_err(|_| invalid(format!("{}={:?} contains a NUL byte", n.addr, env.master_addr)))?;
        let prefix = CString::new(env.store_prefix.as_str())
            .map_err(|_| invalid(format!("store prefix {:?} contains a NUL byte", env.store_prefix)))?;
        let store_server = env.rank == 0 && !env.launcher_store;
        // PyTorch's variable for the network interfaces Gloo uses; unset: see csrc/c10d.cpp.
        let ifaces = std::env::var("GLOO_SOCKET_IFNAME").unwrap_or_default();
        let ifaces = CString::new(ifaces.trim()).map_err(|_| invalid("GLOO_SOCKET_IFNAME contains a NUL byte"))?;
        let mut group: *mut c_void = std::ptr::null_mut();
        let mut kind: c_int = 0;
        let start = std::time::Instant::now();
        if !store_server {
            if let Err(message) = wait_for_master(&env.master_addr, env.master_port, config.timeout) {
                let waited = start.elapsed().as_secs_f64();
                let failure = (DistErrorKind::Timeout, message.as_str());
                return Err(dist_error(DistErrorKind::Timeout, join_failure(env, &config, backend, failure, waited)));
            }
        }
        // SAFETY: the strings live across the call; `group` and `kind` are valid out-pointers.
        let e = unsafe {
            ffi::tk_dist_new(
                if backend == Backend::Nccl { 1 } else { 0 },
                addr.as_ptr(),
                env.master_port as c_int,
                env.rank as c_int,
                env.world_size as c_int,
                store_server as c_int,
                prefix.as_ptr(),
                timeout_ms as i64,
                cuda_device,
                ifaces.as_ptr(),
                &mut group,
                &mut kind,
            )
        };
        if let Some((kind, message)) = take_error(e, kind) {
            let waited = start.elapsed().as_secs_f64();
            return Err(dist_error(kind, join_failure(env, &config, backend, (kind, &message), waited)));
        }
        Ok(Distributed {
            group,
            rank: env.rank,
            world_size: env.world_size,
            local_rank: env.local_rank,
            backend,
            device: config.device,
            timeout: config.timeout,
            master,
        })
    }

    /// This process's rank, `0..world_size`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of processes in the group.
    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// This process's rank on its machine (`LOCAL_RANK`): the GPU index to use with NCCL.
    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    /// The backend in use, [`Backend::Gloo`] or [`Backend::Nccl`] (never `Auto`).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The device the group was configured for.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The timeout of the rendezvous and of each collective.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether this is rank 0, the rank that prints and writes files.
    pub fn is_main(&self) -> bool {
        self.rank == 0
    }

    /// Replaces `tensor` on every rank with the element-wise sum over the ranks.
    pub fn all_reduce_sum_(&self, tensor: &mut Tensor) -> Result<()> {
        self.all_reduce(tensor, Op::Sum, "all-reduce (sum)")
    }

    /// Replaces `tensor` on every rank with the element-wise mean over the ranks: the sum,
    /// then a division by the world size (Gloo has no averaging reduction). Floating-point
    /// tensors only. This is how data-parallel training averages a gradient.
    pub fn all_reduce_mean_(&self, tensor: &mut Tensor) -> Result<()> {
        let floating = [Kind::Float, Kind::Double, Kind::Half, Kind::BFloat16];
        if tensor.defined() && !floating.contains(&tensor.f_kind()?) {
            return Err(invalid(format!(
                "all-reduce (mean): dtype {:?} is not a floating-point type: use all_reduce_sum_ for integers",
                tensor.f_kind()?
            )));
        }
        self.all_reduce(tensor, Op::Sum, "all-reduce (mean)")?;
        if self.world_size > 1 {
            let _ = tch::no_grad(|| tensor.f_div_scalar_(self.world_size as f64))?;
        }
        Ok(())
    }

    /// Replaces `tensor` on every rank with the element-wise maximum over the ranks.
    pub fn all_reduce_max_(&self, tensor: &mut Tensor) -> Result<()> {
        self.all_reduce(tensor, Op::Max, "all-reduce (max)")
    }

    /// Replaces `tensor` on every rank with the element-wise minimum over the ranks.
    pub fn all_reduce_min_(&self, tensor: &mut Tensor) -> Result<()> {
        self.all_reduce(tensor, Op::Min, "all-reduce (min)")
    }

    /// Copies rank `root`'s `tensor` into `tensor` on every other rank.
    pub fn broadcast_(&self, tensor: &mut Tensor, root: usize) -> Result<()> {
        if root >= self.world_size {
            return Err(invalid(format!(
                "broadcast root {root} is not a rank of this group of {} (0 to {})",
                self.world_size,
                self.world_size - 1
            )));
        }
        self.check_tensor(tensor, "broadcast")?;
        self.in_place(tensor, "broadcast", |g, t, kind| {
            // SAFETY: `g` is this group, `t` a live tensor handle borrowed for the call.
            unsafe { ffi::tk_dist_broadcast(g, t, root as c_int, kind) }
        })
    }

    /// Sums `values` element-wise over the ranks, in place, in float64 (for loss and metric
    /// sums kept on the host). The values travel on the group's device.
    pub fn all_reduce_sum_f64(&self, values: &mut [f64]) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let mut t = Tensor::from_slice(values).f_to_device(self.device)?;
        self.all_reduce_sum_(&mut t)?;
        let summed = Vec::<f64>::try_from(t.f_to_device(Device::Cpu)?)?;
        values.copy_from_slice(&summed);
        Ok(())
    }

    /// Rank `root`'s `value`, on every rank: how the ranks agree on a decision one of them makes
    /// (such as rank 0's early stopping).
    pub fn broadcast_bool(&self, value: bool, root: usize) -> Result<bool> {
        let mut t = Tensor::from_slice(&[value as i32]).f_to_device(self.device)?;
        self.broadcast_(&mut t, root)?;
        Ok(t.f_to_device(Device::Cpu)?.f_int64_value(&[0])? != 0)
    }

    /// Whether `value` is true on any rank (all ranks get the same answer): how they agree to
    /// stop when any of them must (a NaN loss on one shard).
    pub fn any(&self, value: bool) -> Result<bool> {
        let mut t = Tensor::from_slice(&[value as i32]).f_to_device(self.device)?;
        self.all_reduce_max_(&mut t)?;
        Ok(t.f_to_device(Device::Cpu)?.f_int64_value(&[0])? != 0)
    }

    /// Returns once every rank has called it.
    pub fn barrier(&self) -> Result<()> {
        let mut kind: c_int = 0;
        // SAFETY: `group` is this group; `kind` a valid out-pointer.
        let e = unsafe { ffi::tk_dist_barrier(self.group, &mut kind) };
        self.result(e, kind, "barrier")
    }

    fn all_reduce(&self, tensor: &mut Tensor, op: Op, what: &'static str) -> Result<()> {
        self.check_tensor(tensor, what)?;
        self.in_place(tensor, what, |g, t, kind| {
            // SAFETY: `g` is this group, `t` a live tensor handle borrowed for the call.
            unsafe { ffi::tk_dist_all_reduce(g, t, op as c_int, kind) }
        })
    }

    /// Runs `call` on `tensor` itself when it is contiguous, else on a contiguous copy that is
    /// then copied back.
    fn in_place(
        &self,
        tensor: &mut Tensor,
        what: &'static str,
        call: impl Fn(*mut c_void, *mut torch_sys::C_tensor, *mut c_int) -> *mut c_char,
    ) -> Result<()> {
        let mut kind: c_int = 0;
        if tensor.is_contiguous() {
            let e = call(self.group, tensor.as_mut_ptr(), &mut kind);
            return self.result(e, kind, what);
        }
        let mut copy = tensor.f_contiguous()?;
        let e = call(self.group, copy.as_mut_ptr(), &mut kind);
        self.result(e, kind, what)?;
        tch::no_grad(|| tensor.f_copy_(&copy))?;
        Ok(())
    }

    /// Checks what c10d would reject (or mishandle) before it sees the tensor.
    fn check_tensor(&self, tensor: &Tensor, what: &str) -> Result<()> {
        if !tensor.defined() {
            return Err(invalid(format!("{what}: the tensor is undefined")));
        }
        let kind = tensor.f_kind()?;
        let supported =
            [Kind::Float, Kind::Double, Kind::Half, Kind::BFloat16, Kind::Int, Kind::Int64, Kind::Int8, Kind::Uint8];
        if !supported.contains(&kind) {
            return Err(invalid(format!(
                "{what}: dtype {kind:?} is not supported: use float32, float64, float16, bfloat16, int32, int64, \
                 int8 or uint8"
            )));
        }
        let device = tensor.device();
        match (self.backend, device) {
            (Backend::Nccl, Device::Cuda(i)) if Device::Cuda(i) != self.device => Err(invalid(format!(
                "{what}: the tensor is on {} but this NCCL group uses {}",
                crate::device_name(device),
                crate::device_name(self.device)
            ))),
            (Backend::Nccl, Device::Cuda(_)) => Ok(()),
            (Backend::Nccl, other) => Err(invalid(format!(
                "{what}: backend nccl takes CUDA tensors only, and this one is on {}: move it to {} or use backend \
                 gloo",
                crate::device_name(other),
                crate::device_name(self.device)
            ))),
            (_, Device::Cpu | Device::Cuda(_)) => Ok(()),
            (_, other) => Err(invalid(format!(
                "{what}: backend gloo takes CPU or CUDA tensors, and this one is on {}",
                crate::device_name(other)
            ))),
        }
    }

    fn result(&self, e: *mut c_char, kind: c_int, what: &str) -> Result<()> {
        let Some((kind, message)) = take_error(e, kind) else {
            return Ok(());
        };
        let (rank, world) = (self.rank, self.world_size);
        let text = match kind {
            DistErrorKind::Timeout => format!(
                "rank {rank} of {world}: {what} did not complete within {} s: a peer hangs or stopped calling \
                 collectives (c10d: {message})",
                self.timeout.as_secs_f64()
            ),
            DistErrorKind::Peer => format!(
                "rank {rank} of {world}: {what} failed because a peer left the group (its process ended or lost \
                 its connection) (c10d: {message})"
            ),
            _ => format!("rank {rank} of {world}: {what} failed: {message}"),
        };
        Err(dist_error(kind, text))
    }
}

/// Data-parallel training's reducer, as PyTorch's DDP does it: rank 0's parameters to every
/// rank before training, the mean of the ranks' gradients and the sum of their log sums after
/// each backward pass, and a stop when any rank asks for one.
impl GradientReducer for Distributed {
    fn world_size(&self) -> usize {
        self.world_size
    }

    fn rank(&self) -> usize {
        self.rank
    }

    /// One all-reduce of the gradient and the log sums together: the gradient averaged, the
    /// sums added.
    fn reduce_step(&mut self, grad: &mut Tensor, sums: &mut Tensor) -> Result<()> {
        let (n, m) = (grad.numel() as i64, sums.numel() as i64);
        let mut buffer = Tensor::f_cat(&[grad.f_reshape([-1])?, sums.f_reshape([-1])?.f_to_kind(grad.kind())?], 0)?;
        self.all_reduce_sum_(&mut buffer)?;
        let mut mean = buffer.f_narrow(0, 0, n)?;
        let _ = mean.f_div_scalar_(self.world_size as f64)?;
        *grad = mean.f_view_as(grad)?;
        *sums = buffer.f_narrow(0, n, m)?.f_to_kind(sums.kind())?;
        Ok(())
    }

    fn reduce_sums(&mut self, sums: &mut Tensor) -> Result<()> {
        self.all_reduce_sum_(sums)
    }

    fn sync_parameters(&mut self, flat: &mut Tensor) -> Result<()> {
        self.broadcast_(flat, 0)
    }

    fn agree_to_stop(&mut self, local: bool) -> Result<bool> {
        self.any(local)
    }

    fn average_buffers(&mut self, buffers: &[Tensor]) -> Result<()> {
        crate::flat::through_one_buffer(buffers, |all| self.all_reduce_mean_(all))
    }

    /// NCCL's collectives can be captured in a CUDA graph; Gloo's run on the host.
    fn capturable(&self) -> bool {
        self.backend == Backend::Nccl
    }
}
