//! Batches from a [`Dataset`], prepared on a background thread while the consumer trains.
//!
//! [`DataLoader::epoch`] draws the epoch's sample order on the caller's thread (a seeded
//! SplitMix64 generator of this module, never LibTorch's process-wide generator), then starts
//! a thread that calls [`Dataset::get`] batch after batch and hands the batches over through a
//! bounded queue (`std::sync::mpsc::sync_channel`), so at most `prefetch` batches wait in
//! memory. The returned [`EpochBatches`] iterator yields `Result<(Tensor, Tensor)>`:
//!
//! - an error from the data set is yielded as is, then the iterator ends;
//! - a panic in the data set, or a batch with the wrong number of rows, is an
//!   [`Error::Loader`], then the iterator ends;
//! - dropping the iterator early stops the thread (it finishes the batch it is preparing, then
//!   sees the queue closed) and waits for it, so no thread outlives the iterator.
//!
//! A `DataLoader` is a [`BatchSource`], so `Sequential::fit_source` trains from it (and
//! `evaluate_source` / `predict_source` read it: turn shuffling off for those, since predictions
//! come back in the loader's order). Sharded for data-parallel training, each process takes
//! every `world`-th sample of the one global order, padded as PyTorch's `DistributedSampler`.
//!
//! ```
//! use tch_keras::tch::{Device, Kind, Tensor};
//! use tch_keras::data::{DataLoader, TensorDataset};
//!
//! let x = Tensor::arange(10, (Kind::Float, Device::Cpu)).view([10, 1]);
//! let y = Tensor::arange(10, (Kind::Int64, Device::Cpu));
//! let loader = DataLoader::new(TensorDataset::new(x, y)?, 4)?.seed(7);
//! let mut seen = 0;
//! for batch in loader.epoch(0)? {
//!     let (xb, yb) = batch?;
//!     seen += yb.size()[0];
//! }
//! assert_eq!(seen, 10); // batches of 4, 4 and 2
//! # Ok::<(), tch_keras::Error>(())
//! ```
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tch::Tensor;

use super::dataset::{check_indices, Dataset};
use crate::train::{Batch, BatchSource, Batches};
use crate::{Error, Result};

/// The most batches [`DataLoader::prefetch`] may queue; starting an epoch with more is an
/// [`Error::InvalidArgument`] (the queue's slots are allocated up front).
pub const MAX_PREFETCH: usize = 1024;

/// SplitMix64: a small, fast generator with good statistical quality for shuffling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (`bound > 0`), without modulo bias (Lemire's method).
    fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = (self.next() as u128) * (bound as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// The order in which a [`DataLoader`] visits `n` samples at `epoch` with `seed`: a permutation
/// of `0..n` (Fisher-Yates over a SplitMix64 stream seeded from `seed` and `epoch`), the same on
/// every machine for the same arguments, different from epoch to epoch.
pub fn shuffled_indices(n: usize, seed: u64, epoch: usize) -> Vec<i64> {
    let mut mix = SplitMix64(seed);
    let mut rng = SplitMix64(mix.next() ^ (epoch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut order: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

/// Hands a [`Dataset`]'s samples out in batches, shuffled per epoch, prepared on a background
/// thread (see the [module documentation](self)).
pub struct DataLoader<D: Dataset + 'static> {
    dataset: Arc<Mutex<D>>,
    len: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    prefetch: usize,
    rank: usize,
    world: usize,
}

impl<D: Dataset + 'static> DataLoader<D> {
    /// A loader of batches of `batch_size` samples (the last batch of an epoch may be
    /// smaller), shuffled with seed 0, with 2 batches prefetched.
    pub fn new(dataset: D, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        let len = dataset.len();
        Ok(Self {
            dataset: Arc::new(Mutex::new(dataset)),
            len,
            batch_size,
            shuffle: true,
            seed: 0,
            prefetch: 2,
            rank: 0,
            world: 1,
        })
    }

    /// Whether each epoch visits the samples in a shuffled order (default) or in index order.
    pub fn shuffle(mut self, yes: bool) -> Self {
        self.shuffle = yes;
        self
    }

    /// The seed of the shuffled orders (default 0); the same seed and epoch give the same order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many prepared batches may wait in the queue (default 2; 0 hands each batch over as
    /// soon as the consumer asks, still prepared one ahead), at most [`MAX_PREFETCH`]: starting
    /// an epoch with more is an error.
    pub fn prefetch(mut self, batches: usize) -> Self {
        self.prefetch = batches;
        self
    }

    /// Number of samples per epoch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the data set has no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Samples this process visits per epoch: all of them, or its shard's share (padded).
    pub fn shard_len(&self) -> usize {
        self.len.div_ceil(self.world)
    }

    /// Number of batches per epoch (of this process's shard), the last one partial when
    /// `batch_size` does not divide the number of samples.
    pub fn num_batches(&self) -> usize {
        self.shard_len().div_ceil(self.batch_size)
    }

    /// The sample order of `epoch` for this process: [`shuffled_indices`] when shuffling, else
    /// `0..len`; when sharded, every `world`-th entry of that order from position `rank`, the
    /// order first padded by repeating its first entries to a multiple of `world`.
    pub fn order(&self, epoch: usize) -> Vec<i64> {
        let order: Vec<i64> =
            if self.shuffle { shuffled_indices(self.len, self.seed, epoch) } else { (0..self.len as i64).collect() };
        if self.world == 1 {
            return order;
        }
        let total = self.shard_len() * self.world;
        (0..total).skip(self.rank).step_by(self.world).map(|i| order[i % self.len]).collect()
    }

    /// Starts preparing the batches of `epoch` in the loader's order.
    pub fn epoch(&self, epoch: usize) -> Result<EpochBatches> {
        self.epoch_in_order(self.order(epoch))
    }

    /// Starts preparing batches of the samples at `order` (each in `0..len`, e.g. a
    /// permutation drawn elsewhere), `batch_size` at a time.
    pub fn epoch_in_order(&self, order: Vec<i64>) -> Result<EpochBatches> {
        self.start(order, 0)
    }

    /// Starts preparing the batches of `epoch` from batch `skip` on: the samples of the
    /// skipped batches are never read.
    pub fn epoch_from(&self, epoch: usize, skip: usize) -> Result<EpochBatches> {
        let mut order = self.order(epoch);
        order.drain(..skip.saturating_mul(self.batch_size).min(order.len()));
        self.start(order, skip)
    }

    /// Starts the thread preparing the batches of `order`; `first` numbers the first batch in
    /// error messages.
    fn start(&self, order: Vec<i64>, first: usize) -> Result<EpochBatches> {
        check_indices(&order, self.len)?;
        if self.prefetch > MAX_PREFETCH {
            return Err(Error::invalid(
                "prefetch",
                format!("{} batches is more than the {MAX_PREFETCH} a loader queues: choose fewer", self.prefetch),
            ));
        }
        let (tx, rx) = sync_channel(self.prefetch);
        let stop = Arc::new(AtomicBool::new(false));
        let batches = order.len().div_ceil(self.batch_size);
        let worker = Worker {
            dataset: Arc::clone(&self.dataset),
            order,
            batch_size: self.batch_size,
            first,
            stop: stop.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("tch-keras-loader".into())
            .spawn(move || worker.run(tx))
            .map_err(|e| Error::Loader { message: format!("could not start the loader thread: {e}") })?;
        Ok(EpochBatches { rx: Some(rx), handle: Some(handle), stop, remaining: batches, done: false })
    }
}

impl<D: Dataset + 'static> BatchSource for DataLoader<D> {
    fn num_batches(&self) -> Option<usize> {
        Some(DataLoader::num_batches(self))
    }

    fn shuffles(&self) -> bool {
        self.shuffle
    }

    fn epoch(&mut self, epoch: usize) -> Result<Batches<'_>> {
        let batches = DataLoader::epoch(self, epoch)?;
        Ok(Box::new(batches.map(|batch| batch.and_then(|(x, y)| Batch::new(x, y)))))
    }

    fn epoch_from(&mut self, epoch: usize, skip: usize) -> Result<Batches<'_>> {
        let batches = DataLoader::epoch_from(self, epoch, skip)?;
        Ok(Box::new(batches.map(|batch| batch.and_then(|(x, y)| Batch::new(x, y)))))
    }

    fn shard(&mut self, rank: usize, world: usize) -> Result<()> {
        if world == 0 || rank >= world {
            return Err(Error::invalid("shard", format!("rank {rank} is not in a world of {world} processes")));
        }
        if self.len == 0 {
            return Err(Error::invalid("data", "the data set has no samples (len() is 0): give at least one sample"));
        }
        if world > self.len {
            return Err(Error::invalid(
                "shard",
                format!(
                    "{} samples cannot be split across {world} processes: give at least one sample per process",
                    self.len
                ),
            ));
        }
        (self.rank, self.world) = (rank, world);
        Ok(())
    }
}

struct Worker<D: Dataset> {
    dataset: Arc<Mutex<D>>,
    order: Vec<i64>,
    batch_size: usize,
    /// The epoch's number of the first batch in `order` (for error messages).
    first: usize,
    stop: Arc<AtomicBool>,
}

impl<D: Dataset> Worker<D> {
    fn run(self, tx: SyncSender<Result<(Tensor, Tensor)>>) {
        for (b, indices) in self.order.chunks(self.batch_size).enumerate() {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            let batch = self.batch(self.first + b, indices);
            let failed = batch.is_err();
            if tx.send(batch).is_err() || failed {
                return;
            }
        }
    }

    /// One batch, with a panic in the data set turned into an error. The lock is held only
    /// while `get` runs, so two epochs' iterators alive at once never wait on each other.
    fn batch(&self, b: usize, indices: &[i64]) -> Result<(Tensor, Tensor)> {
        let dataset = self.dataset.lock().unwrap_or_else(|e| e.into_inner());
        let (x, y) = match catch_unwind(AssertUnwindSafe(|| dataset.get(indices))) {
            Ok(result) => result?,
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                return Err(Error::Loader {
                    message: format!("the data set panicked preparing batch {b}: {what}; fix its get()"),
                });
            }
        };
        let n = indices.len() as i64;
        let rows = |t: &Tensor| if t.dim() == 0 { 0 } else { t.size()[0] };
        if rows(&x) != n || rows(&y) != n {
            return Err(Error::Loader {
                message: format!(
                    "the data set's get() returned x with shape {:?} and y with shape {:?} for {n} indices \
                     (batch {b}); both need one row per index",
                    x.size(),
                    y.size()
                ),
            });
        }
        Ok((x, y))
    }
}

/// The batches of one epoch, prepared on a background thread (see [`DataLoader::epoch`]).
/// Yields `Ok((x, y))` per batch; after an error it yields nothing more.
pub struct EpochBatches {
    rx: Option<Receiver<Result<(Tensor, Tensor)>>>,
    handle: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    remaining: usize,
    done: bool,
}

impl EpochBatches {
    /// Number of batches not yet yielded.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// Closes the queue and waits for the thread; reports a panic that escaped it.
    fn finish(&mut self) -> Option<Error> {
        self.stop.store(true, Ordering::Release);
        self.rx = None;
        match self.handle.take().map(JoinHandle::join) {
            Some(Err(_)) => Some(Error::Loader { message: "the loader thread panicked".into() }),
            _ => None,
        }
    }
}

impl Iterator for EpochBatches {
    type Item = Result<(Tensor, Tensor)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.remaining == 0 {
            self.done = true;
            return self.finish().map(Err);
        }
        let received = self.rx.as_ref().map(Receiver::recv);
        match received {
            Some(Ok(Ok(batch))) => {
                self.remaining -= 1;
                Some(Ok(batch))
            }
            Some(Ok(Err(e))) => {
                self.done = true;
                self.finish();
                Some(Err(e))
            }
            _ => {
                self.done = true;
                let missing = self.remaining;
                Some(Err(self.finish().unwrap_or_else(|| Error::Loader {
                    message: format!("the loader thread stopped with {missing} batches left"),
                })))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(self.remaining + 1))
        }
    }
}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_permutations_and_depend_on_seed_and_epoch() {
        let a = shuffled_indices(1000, 3, 0);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<i64>>());
        assert_eq!(a, shuffled_indices(1000, 3, 0));
        assert_ne!(a, shuffled_indices(1000, 3, 1));
        assert_ne!(a, shuffled_indices(1000, 4, 0));
        assert!(shuffled_indices(0, 1, 0).is_empty());
    }

    #[test]
    fn below_is_uniform_enough() {
        let mut rng = SplitMix64(42);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[rng.below(3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
    }
}
