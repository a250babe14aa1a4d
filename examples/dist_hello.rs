//! Joins the process group a launcher describes in the environment, all-reduces each rank's
//! number and prints the sum. With PyTorch's launcher, from the repository root:
//!
//! ```text
//! cargo build --release --example dist_hello
//! PYTHONPATH=$HOME/.cache/tch-keras/torch-2.11.0 python3 -m torch.distributed.run \
//!     --no-python --nproc-per-node 2 target/release/examples/dist_hello
//! ```
//!
//! or by hand, one shell per rank: `RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1
//! MASTER_PORT=29500 target/release/examples/dist_hello` (and `RANK=1` in the other).
use tch::Tensor;
use tch_keras::distributed::{DistConfig, Distributed};

fn run() -> tch_keras::Result<()> {
    let Some(dist) = Distributed::from_env(DistConfig::new())? else {
        println!(
            "not part of a process group: start it with torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT"
        );
        return Ok(());
    };
    let mut t = Tensor::from_slice(&[dist.rank() as f64]);
    dist.all_reduce_sum_(&mut t)?;
    let world = dist.world_size();
    println!(
        "rank {} of {world} (local rank {}, {}): sum of ranks = {} (expected {})",
        dist.rank(),
        dist.local_rank(),
        dist.backend(),
        t.double_value(&[0]),
        world * (world - 1) / 2
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
