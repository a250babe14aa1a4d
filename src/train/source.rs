//! Batch sources: where `fit`, `evaluate` and `predict` draw their batches from.
//!
//! A [`BatchSource`] turns data into batches, one epoch at a time; the loop only iterates. The
//! fastest source, [`TensorSource`], keeps the whole data set on the model's device and draws
//! each batch there (a seeded permutation per epoch, then `index_select`), so no batch crosses
//! from the host. A source may not know its length (a stream): the progress bar then shows
//! Keras's unknown-length form. Sources shard by `(rank, world)` for data-parallel training.
use tch::{Kind, Tensor};

use crate::train::seed::epoch_permutation;
use crate::{Error, Result};

/// Where one part (inputs or targets) of a batch is: its own tensor, or rows of a larger
/// tensor not yet gathered (so a CUDA-graph step can gather straight into its input buffer).
#[derive(Debug)]
enum Part {
    Owned(Tensor),
    Rows { all: Tensor, index: Tensor },
    Range { all: Tensor, start: i64, len: i64 },
}

impl Part {
    fn tensor(&self) -> Result<Tensor> {
        Ok(match self {
            Part::Owned(t) => t.shallow_clone(),
            Part::Rows { all, index } => all.f_index_select(0, index)?,
            Part::Range { all, start, len } => all.f_narrow(0, *start, *len)?,
        })
    }

    fn write_into(&self, out: &Tensor) -> Result<()> {
        match self {
            Part::Rows { all, index } => drop(all.f_index_select_out(out, 0, index)?),
            other => drop(out.shallow_clone().f_copy_(&other.tensor()?)?),
        }
        Ok(())
    }

    fn feature_size(&self) -> Vec<i64> {
        match self {
            Part::Owned(t) => t.size(),
            Part::Rows { all, .. } | Part::Range { all, .. } => all.size(),
        }
        .into_iter()
        .skip(1)
        .collect()
    }

    fn kind(&self) -> Kind {
        match self {
            Part::Owned(t) | Part::Rows { all: t, .. } | Part::Range { all: t, .. } => t.kind(),
        }
    }
}

/// The per-sample shape and kind of a batch part.
pub(crate) type PartSignature = (Vec<i64>, Kind);

/// The per-sample shapes and kinds of a batch's parts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BatchSignature {
    pub(crate) x: PartSignature,
    pub(crate) y: Option<PartSignature>,
    pub(crate) w: Option<PartSignature>,
}

/// One batch: inputs, and targets unless it is for `predict`, and optionally one weight per
/// sample (Keras's `sample_weight`, or `class_weight` turned into sample weights).
#[derive(Debug)]
pub struct Batch {
    x: Part,
    y: Option<Part>,
    w: Option<Part>,
    len: i64,
}

impl Batch {
    /// A batch of inputs `x` and targets `y` (one row per sample in each).
    pub fn new(x: Tensor, y: Tensor) -> Result<Self> {
        let len = check_nonempty(check_rows(&x, Some(&y))?)?;
        Ok(Self { x: Part::Owned(x), y: Some(Part::Owned(y)), w: None, len })
    }

    /// The batch with one weight per sample (`[N]` or `[N, 1]`, converted to float32 `[N]`): the loss becomes
    /// `sum(loss_i * w_i) / N` and weighted metrics weigh each sample, as Keras's `sample_weight`.
    /// For per-timestep outputs `[N, T, C]` (or `[N, T, D]`) the weights may be one per timestep,
    /// `[N, T]` (or `[N, T, 1]`; converted to float32, checked against the outputs by the step):
    /// the loss becomes the mean over the `N * T` timesteps of `loss * w`.
    pub fn with_sample_weight(mut self, w: Tensor) -> Result<Self> {
        self.w = Some(Part::Owned(check_weights(&w, self.len)?));
        Ok(self)
    }

    /// A batch of inputs only (for `predict`).
    pub fn inputs(x: Tensor) -> Result<Self> {
        let len = check_nonempty(check_rows(&x, None)?)?;
        Ok(Self { x: Part::Owned(x), y: None, w: None, len })
    }

    /// Samples in the batch.
    pub fn len(&self) -> i64 {
        self.len
    }

    /// Whether the batch is empty (never: an empty batch is refused when it is made).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The inputs.
    pub fn x(&self) -> Result<Tensor> {
        self.x.tensor()
    }

    /// The targets, if the batch has them.
    pub fn y(&self) -> Result<Option<Tensor>> {
        self.y.as_ref().map(Part::tensor).transpose()
    }

    /// The sample weights (`[N]`, or per timestep `[N, T]`, float32), if the batch has them.
    pub fn sample_weight(&self) -> Result<Option<Tensor>> {
        self.w.as_ref().map(Part::tensor).transpose()
    }

    /// Per-sample shapes and kinds of inputs, targets and sample weights: what a captured
    /// step's buffers need.
    pub(crate) fn signature(&self) -> BatchSignature {
        let sig = |p: &Part| (p.feature_size(), p.kind());
        BatchSignature { x: sig(&self.x), y: self.y.as_ref().map(sig), w: self.w.as_ref().map(sig) }
    }

    /// Writes the batch into preallocated tensors of its exact size (a captured step's inputs).
    pub(crate) fn write_into(&self, x: &Tensor, y: Option<&Tensor>, w: Option<&Tensor>) -> Result<()> {
        self.x.write_into(x)?;
        if let (Some(part), Some(out)) = (&self.y, y) {
            part.write_into(out)?;
        }
        if let (Some(part), Some(out)) = (&self.w, w) {
            part.write_into(out)?;
        }
        Ok(())
    }
}

fn check_rows(x: &Tensor, y: Option<&Tensor>) -> Result<i64> {
    let Some(&n) = x.size().first() else {
        return Err(Error::invalid(
            "x",
            "is a scalar (no dimensions): give one row per sample, with the samples along the first axis",
        ));
    };
    if let Some(y) = y {
        if y.size().first() != Some(&n) {
            return Err(Error::invalid(
                "batch",
                format!("x has {n} rows but y has shape {:?}: give one target per sample", y.size()),
            ));
        }
    }
    Ok(n)
}

/// A batch a source yields holds at least one sample: an empty one would give a NaN loss and
/// still count as an optimizer step.
fn check_nonempty(n: i64) -> Result<i64> {
    if n == 0 {
        return Err(Error::invalid(
            "batch",
            "has no samples (0 rows): a batch source must yield only batches of at least one sample; skip empty ones",
        ));
    }
    Ok(n)
}

/// Sample weights must be one finite-or-not number per row, shape `[n]` (or `[n, 1]`), or one
/// per timestep, `[n, T, ...]` (checked against the model's outputs by the step, which knows them).
fn check_weights(w: &Tensor, n: i64) -> Result<Tensor> {
    let size = w.size();
    let per_step = size.len() > 1 && size[0] == n;
    if size != [n] && !per_step {
        return Err(Error::invalid(
            "sample_weight",
            format!(
                "expected one weight per sample, shape [{n}] (or [{n}, 1]), or one per timestep \
                 [{n}, T] for outputs [{n}, T, C], got {size:?}: give a 1-D tensor of length {n}"
            ),
        ));
    }
    if !w.is_floating_point() && w.kind() != Kind::Int64 && w.kind() != Kind::Int && w.kind() != Kind::Bool {
        return Err(Error::invalid("sample_weight", format!("has kind {:?}: give float weights", w.kind())));
    }
    let w = if size == [n, 1] { w.f_reshape([n])? } else { w.shallow_clone() };
    Ok(w.f_to_kind(Kind::Float)?)
}

/// The batches of one epoch, in order.
pub type Batches<'a> = Box<dyn Iterator<Item = Result<Batch>> + 'a>;

/// Where a training loop gets its batches from, one epoch at a time.
///
/// Implement it for data that does not fit in memory or that you generate on the fly; for
/// tensors, `fit(&x, &y, ..)` builds a [`TensorSource`] itself.
pub trait BatchSource {
    /// Batches in one epoch (for this process's shard), when known in advance. `None` makes
    /// the progress bar show Keras's unknown-length form.
    fn num_batches(&self) -> Option<usize>;

    /// The batches of epoch `epoch` (from 0). A shuffling source should draw its order from
    /// its seed and `epoch`, so a resumed run sees what an uninterrupted one would.
    fn epoch(&mut self, epoch: usize) -> Result<Batches<'_>>;

    /// The batches of epoch `epoch` after its first `skip`: where `fit` with `steps_per_epoch`
    /// continues a pass that an earlier epoch began. The default draws and drops the skipped
    /// batches; a source that can seek (a stream, a file reader) should override it, since a
    /// long run with `steps_per_epoch` over a source of unknown length skips ever more.
    fn epoch_from(&mut self, epoch: usize, skip: usize) -> Result<Batches<'_>> {
        Ok(Box::new(self.epoch(epoch)?.skip(skip)))
    }

    /// Whether the source visits its samples in a shuffled order, so that `predict_source`'s
    /// outputs would come in that order: `predict_source` warns then. Default: no.
    fn shuffles(&self) -> bool {
        false
    }

    /// Restricts the source to shard `rank` of `world` for data-parallel training. Every
    /// process must then yield the same number of batches of the same size per epoch. The
    /// default accepts only a world of one.
    fn shard(&mut self, rank: usize, world: usize) -> Result<()> {
        if world > 1 {
            return Err(Error::invalid(
                "batch source",
                format!(
                    "this source cannot be split across {world} processes (rank {rank}): implement BatchSource::shard"
                ),
            ));
        }
        Ok(())
    }
}

/// How a [`TensorSource`] covers its data when sharded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardMode {
    /// As PyTorch's `DistributedSampler` (training): the epoch's order is padded by repeating
    /// its first samples to a multiple of the world size, then rank `r` takes every
    /// `world`-th sample from position `r`, so every process has the same number of samples.
    Padded,
    /// Every sample exactly once across processes (evaluation): rank `r` takes every
    /// `world`-th sample from position `r`, without padding.
    Exact,
}

/// In-memory data on the model's device, batched on the device.
#[derive(Debug)]
pub struct TensorSource {
    x: Tensor,
    y: Option<Tensor>,
    w: Option<Tensor>,
    batch_size: i64,
    shuffle: bool,
    seed: u64,
    rank: i64,
    world: i64,
    mode: ShardMode,
}

impl TensorSource {
    /// Batches of `batch_size` rows of `x` and `y` (the last one partial), in order.
    pub fn new(x: Tensor, y: Option<Tensor>, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        let batch_size = i64::try_from(batch_size)
            .map_err(|_| Error::invalid("batch_size", format!("{batch_size} is too large")))?;
        check_rows(&x, y.as_ref())?;
        Ok(Self { x, y, w: None, batch_size, shuffle: false, seed: 0, rank: 0, world: 1, mode: ShardMode::Padded })
    }

    /// Gives every row a sample weight (`[rows]` or `[rows, 1]`), or one per timestep (`[rows, T]`
    /// for outputs `[rows, T, C]`): batches carry their rows' weights, gathered on the device like
    /// `x` and `y` (and sharded with them).
    pub fn with_sample_weight(mut self, w: Tensor) -> Result<Self> {
        self.w = Some(check_weights(&w, self.rows())?.f_to_device(self.x.device())?);
        Ok(self)
    }

    /// Reshuffles the rows every epoch, with an order fixed by `seed` and the epoch.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.shuffle = true;
        self.seed = seed;
        self
    }

    /// Sets how sharding covers the data (default [`ShardMode::Padded`]).
    pub fn shard_mode(mut self, mode: ShardMode) -> Self {
        self.mode = mode;
        self
    }

    /// Rows in the whole data set.
    pub fn rows(&self) -> i64 {
        self.x.size().first().copied().unwrap_or(0)
    }

    /// Rows this process visits per epoch.
    fn shard_rows(&self) -> i64 {
        let (n, w, r) = (self.rows(), self.world, self.rank);
        match self.mode {
            ShardMode::Padded => ceil_div(n, w),
            ShardMode::Exact => ceil_div(n - r, w),
        }
    }

    /// This process's rows of the epoch, in order: `None` when that is simply `0..n`.
    fn epoch_index(&self, epoch: usize) -> Result<Option<Tensor>> {
        let n = self.rows();
        let device = self.x.device();
        let order = if self.shuffle { Some(epoch_permutation(n, self.seed, epoch, device)?) } else { None };
        if self.world == 1 {
            return Ok(order);
        }
        let order = match order {
            Some(o) => o,
            None => Tensor::f_arange(n, (Kind::Int64, device))?,
        };
        let total = self.shard_rows() * self.world;
        let order = if self.mode == ShardMode::Padded && total > n {
            // Repeat the order's first samples (cyclically) to fill the last round.
            let pad = Tensor::f_arange(total - n, (Kind::Int64, device))?.f_remainder(n)?;
            Tensor::f_cat(&[order.shallow_clone(), order.f_index_select(0, &pad)?], 0)?
        } else {
            order
        };
        Ok(Some(order.f_slice(0, Some(self.rank), None, self.world)?.f_contiguous()?))
    }

    fn part(all: &Tensor, index: Option<&Tensor>, start: i64, len: i64) -> Result<Part> {
        Ok(match index {
            Some(i) => Part::Rows { all: all.shallow_clone(), index: i.f_narrow(0, start, len)? },
            None => Part::Range { all: all.shallow_clone(), start, len },
        })
    }
}

impl BatchSource for TensorSource {
    fn shuffles(&self) -> bool {
        self.shuffle
    }

    fn num_batches(&self) -> Option<usize> {
        Some(ceil_div(self.shard_rows(), self.batch_size) as usize)
    }

    fn epoch(&mut self, epoch: usize) -> Result<Batches<'_>> {
        self.epoch_from(epoch, 0)
    }

    fn epoch_from(&mut self, epoch: usize, skip: usize) -> Result<Batches<'_>> {
        let index = self.epoch_index(epoch)?;
        let rows = self.shard_rows();
        let bs = self.batch_size;
        let first = i64::try_from(skip).unwrap_or(i64::MAX);
        let batches = (first.min(ceil_div(rows, bs))..ceil_div(rows, bs)).map(move |k| {
            let (start, len) = (k * bs, bs.min(rows - k * bs));
            let x = Self::part(&self.x, index.as_ref(), start, len)?;
            let y = self.y.as_ref().map(|y| Self::part(y, index.as_ref(), start, len)).transpose()?;
            let w = self.w.as_ref().map(|w| Self::part(w, index.as_ref(), start, len)).transpose()?;
            Ok(Batch { x, y, w, len })
        });
        Ok(Box::new(batches))
    }

    fn shard(&mut self, rank: usize, world: usize) -> Result<()> {
        if world == 0 || rank >= world {
            return Err(Error::invalid("shard", format!("rank {rank} is not in a world of {world} processes")));
        }
        if self.rows() == 0 {
            return Err(Error::invalid("data", "the tensors have no samples (0 rows): give at least one sample"));
        }
        if (world as i64) > self.rows() {
            return Err(Error::invalid(
                "shard",
                format!(
                    "{} samples cannot be split across {world} processes: give at least one sample per process",
                    self.rows()
                ),
            ));
        }
        (self.rank, self.world) = (rank as i64, world as i64);
        Ok(())
    }
}

/// `a / b` rounded up, for `a >= 0` and positive `b`, without overflowing when `b` is near
/// `i64::MAX`.
fn ceil_div(a: i64, b: i64) -> i64 {
    a / b + i64::from(a % b != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn rows_of(source: &mut TensorSource, epoch: usize) -> Vec<Vec<i64>> {
        source
            .epoch(epoch)
            .unwrap()
            .map(|b| Vec::<i64>::try_from(b.unwrap().x().unwrap().f_view([-1]).unwrap()).unwrap())
            .collect()
    }

    fn source(n: i64, batch: usize) -> TensorSource {
        let x = Tensor::arange(n, (Kind::Int64, Device::Cpu)).view([n, 1]);
        TensorSource::new(x, None, batch).unwrap()
    }

    #[test]
    fn in_order_batches_cover_the_data_with_a_partial_last_batch() {
        let mut s = source(10, 4);
        assert_eq!(s.num_batches(), Some(3));
        assert_eq!(rows_of(&mut s, 0), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
    }

    #[test]
    fn epoch_from_skips_the_first_batches_of_the_same_order() {
        let mut s = source(10, 3).shuffled(4);
        let all = rows_of(&mut s, 1);
        let rest: Vec<Vec<i64>> = s
            .epoch_from(1, 2)
            .unwrap()
            .map(|b| Vec::<i64>::try_from(b.unwrap().x().unwrap().f_view([-1]).unwrap()).unwrap())
            .collect();
        assert_eq!(rest, all[2..]);
        assert_eq!(s.epoch_from(1, 9).unwrap().count(), 0);
    }

    #[test]
    fn weights_travel_with_their_rows() {
        let x = Tensor::arange(6, (Kind::Int64, Device::Cpu)).view([6, 1]);
        let w = Tensor::arange(6, (Kind::Float, Device::Cpu)) * 10.0;
        let mut s = TensorSource::new(x, None, 4).unwrap().with_sample_weight(w).unwrap().shuffled(1);
        s.shard(1, 2).unwrap();
        for batch in s.epoch(3).unwrap() {
            let batch = batch.unwrap();
            let rows = batch.x().unwrap().f_view([-1]).unwrap().to_kind(Kind::Float) * 10.0;
            assert!(batch.sample_weight().unwrap().unwrap().equal(&rows));
        }
        let bad = TensorSource::new(Tensor::zeros([3, 1], (Kind::Float, Device::Cpu)), None, 1);
        assert!(bad.unwrap().with_sample_weight(Tensor::ones([2], (Kind::Float, Device::Cpu))).is_err());
    }

    #[test]
    fn padded_shards_interleave_and_repeat_the_first_samples() {
        let mut r0 = source(5, 2);
        r0.shard(0, 2).unwrap();
        let mut r1 = source(5, 2);
        r1.shard(1, 2).unwrap();
        assert_eq!(r0.num_batches(), Some(2));
        assert_eq!(rows_of(&mut r0, 0), vec![vec![0, 2], vec![4]]);
        assert_eq!(rows_of(&mut r1, 0), vec![vec![1, 3], vec![0]]);
    }

    #[test]
    fn exact_shards_cover_every_sample_once() {
        let mut seen = Vec::new();
        for rank in 0..3 {
            let mut s = source(7, 2).shard_mode(ShardMode::Exact);
            s.shard(rank, 3).unwrap();
            seen.extend(rows_of(&mut s, 0).into_iter().flatten());
        }
        seen.sort();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn shuffled_shards_split_one_global_order() {
        let mut whole = source(8, 4).shuffled(3);
        let global: Vec<i64> = rows_of(&mut whole, 2).concat();
        let mut r0 = source(8, 2).shuffled(3);
        r0.shard(0, 2).unwrap();
        let mut r1 = source(8, 2).shuffled(3);
        r1.shard(1, 2).unwrap();
        let (a, b) = (rows_of(&mut r0, 2), rows_of(&mut r1, 2));
        // Step k of the two processes together is step k of one process with twice the batch.
        for k in 0..2 {
            let mut together = [a[k].clone(), b[k].clone()].concat();
            together.sort();
            let mut single = global[4 * k..4 * k + 4].to_vec();
            single.sort();
            assert_eq!(together, single);
        }
        assert_ne!(rows_of(&mut whole, 3).concat(), global, "same order in another epoch");
    }

    #[test]
    fn bad_shards_and_sizes_are_errors() {
        assert!(TensorSource::new(Tensor::zeros([3, 1], (Kind::Float, Device::Cpu)), None, 0).is_err());
        let mut s = source(3, 1);
        assert!(s.shard(2, 2).is_err());
        assert!(s.shard(0, 4).is_err());
        let y = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        assert!(TensorSource::new(Tensor::zeros([3, 1], (Kind::Float, Device::Cpu)), Some(y), 1).is_err());
    }
}
