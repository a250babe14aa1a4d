//! Indexed data sets: data read a batch at a time, by sample index, for data too large to hold
//! in memory at once (an image folder) as well as for tensors that are.
use tch::{Kind, Tensor};

use crate::error::full_shape;
use crate::{Error, Result};

/// An indexed data set of `len()` samples: `get` returns the samples at `indices` as one batch
/// `(x, y)`, each tensor with `indices.len()` rows, in the order of `indices`.
///
/// Implement it for your own data (files, a database, generated samples). A
/// [`DataLoader`](crate::data::DataLoader) calls `get` on a background thread, hence `Send`;
/// errors returned by `get` reach the consumer of the batches unchanged.
///
/// ```
/// use tch_keras::tch::{Kind, Tensor};
/// use tch_keras::data::Dataset;
///
/// /// Sample i is x = [i, 2i], y = i % 2.
/// struct Pairs(usize);
///
/// impl Dataset for Pairs {
///     fn len(&self) -> usize {
///         self.0
///     }
///     fn get(&self, indices: &[i64]) -> tch_keras::Result<(Tensor, Tensor)> {
///         let i = Tensor::from_slice(indices).to_kind(Kind::Float);
///         let x = Tensor::stack(&[&i, &(&i * 2.0)], 1);
///         Ok((x, Tensor::from_slice(indices).remainder(2)))
///     }
/// }
///
/// let (x, y) = Pairs(10).get(&[3, 4])?;
/// assert_eq!(x.size(), [2, 2]);
/// assert_eq!(Vec::<i64>::try_from(&y).unwrap(), [1, 0]);
/// # Ok::<(), tch_keras::Error>(())
/// ```
pub trait Dataset: Send {
    /// Number of samples.
    fn len(&self) -> usize;

    /// The samples at `indices` (each in `0..len()`), as `(x, y)` with one row per index.
    fn get(&self, indices: &[i64]) -> Result<(Tensor, Tensor)>;

    /// Whether the data set has no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<D: Dataset + ?Sized> Dataset for Box<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, indices: &[i64]) -> Result<(Tensor, Tensor)> {
        (**self).get(indices)
    }
}

/// Checks that every index is in `0..len`, naming the first that is not.
pub(crate) fn check_indices(indices: &[i64], len: usize) -> Result<()> {
    match indices.iter().find(|&&i| i < 0 || i as usize >= len) {
        Some(i) => Err(Error::invalid("indices", format!("index {i} is outside the data set's {len} samples"))),
        None => Ok(()),
    }
}

/// A [`Dataset`] over two in-memory tensors with the same number of rows: sample `i` is
/// `(x[i], y[i])`.
#[derive(Debug)]
pub struct TensorDataset {
    x: Tensor,
    y: Tensor,
}

impl TensorDataset {
    /// Pairs `x` and `y`; both need at least one dimension and the same number of rows.
    pub fn new(x: Tensor, y: Tensor) -> Result<Self> {
        if x.dim() == 0 || y.dim() == 0 || x.size()[0] != y.size()[0] {
            return Err(Error::invalid(
                "tensors",
                format!(
                    "x {} and y {} need the same number of rows (their first dimension)",
                    full_shape(&x.size()),
                    full_shape(&y.size())
                ),
            ));
        }
        Ok(Self { x, y })
    }

    /// The features.
    pub fn x(&self) -> &Tensor {
        &self.x
    }

    /// The targets.
    pub fn y(&self) -> &Tensor {
        &self.y
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.x.size()[0] as usize
    }

    fn get(&self, indices: &[i64]) -> Result<(Tensor, Tensor)> {
        check_indices(indices, self.len())?;
        let idx = Tensor::from_slice(indices).f_to_device(self.x.device())?;
        let x = self.x.f_index_select(0, &idx)?;
        let idx = idx.f_to_device(self.y.device())?.f_to_kind(Kind::Int64)?;
        Ok((x, self.y.f_index_select(0, &idx)?))
    }
}
