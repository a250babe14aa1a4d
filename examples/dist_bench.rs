//! Times one all-reduce (sum) of a float32 buffer between the ranks of a group, as a data-parallel
//! step would reduce its flat gradient. Default size: 39,735 floats, the gradient of the recipe
//! CNN. Run it under a launcher, e.g.
//!
//! ```text
//! PYTHONPATH=$HOME/.cache/tch-keras/torch-2.11.0 python3 -m torch.distributed.run \
//!     --no-python --nproc-per-node 2 target/release/examples/dist_bench [FLOATS] [ITERATIONS]
//! ```
//!
//! Rank 0 prints the median, mean and 90th percentile over the timed iterations.
use std::time::Instant;

use tch::{Kind, Tensor};
use tch_keras::distributed::{DistConfig, Distributed};

fn run() -> tch_keras::Result<()> {
    let mut args = std::env::args().skip(1);
    let floats: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(39_735);
    let iterations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let Some(dist) = Distributed::from_env(DistConfig::new())? else {
        println!("not part of a process group: start it with torchrun");
        return Ok(());
    };
    let mut buffer = Tensor::f_ones([floats], (Kind::Float, tch::Device::Cpu))?;
    for _ in 0..20 {
        dist.all_reduce_sum_(&mut buffer)?;
    }
    dist.barrier()?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations.max(1) {
        let start = Instant::now();
        dist.all_reduce_sum_(&mut buffer)?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    if dist.is_main() {
        println!(
            "{} all-reduce (sum) of {floats} float32 ({:.1} KiB) over {} processes: median {:.1} us, mean {:.1} us, \
             p90 {:.1} us ({} iterations)",
            dist.backend(),
            floats as f64 * 4.0 / 1024.0,
            dist.world_size(),
            times[times.len() / 2],
            mean,
            times[times.len() * 9 / 10],
            times.len()
        );
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
