//! Preprocessing of in-memory feature tables.
use tch::{Kind, Tensor};

use crate::{Error, Result};

/// Per-feature standardisation with statistics of one data set (scikit-learn's
/// `StandardScaler`, Keras's `Normalization` layer after `adapt`): `(x - mean) / std`, with the
/// population standard deviation, and features of zero spread left centred but unscaled.
#[derive(Debug)]
pub struct Standardizer {
    mean: Tensor,
    std: Tensor,
}

impl Standardizer {
    /// Computes the mean and standard deviation of each column of `x` `[N, F]` (typically the
    /// training split only, so no test statistics leak into training).
    pub fn fit(x: &Tensor) -> Result<Self> {
        if crate::losses::is_complex(x.kind()) {
            return Err(Error::invalid("x", format!("has kind {:?}: give real (float or integer) features", x.kind())));
        }
        if x.dim() != 2 || x.size()[0] == 0 {
            return Err(Error::invalid(
                "x",
                format!("Standardizer::fit takes a non-empty [N, F] tensor, got {:?}", x.size()),
            ));
        }
        let x = x.f_to_kind(Kind::Double)?;
        let mean = x.f_mean_dim(0, true, Kind::Double)?;
        let var = x.f_sub(&mean)?.f_square()?.f_mean_dim(0, true, Kind::Double)?;
        let std = var.f_sqrt()?;
        let std = std.f_where_scalarother(&std.f_gt(0.0)?, 1.0)?;
        Ok(Self { mean: mean.f_to_kind(Kind::Float)?, std: std.f_to_kind(Kind::Float)? })
    }

    /// `(x - mean) / std`, float32.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        if crate::losses::is_complex(x.kind()) {
            return Err(Error::invalid("x", format!("has kind {:?}: give real (float or integer) features", x.kind())));
        }
        if x.dim() != 2 || x.size()[1] != self.mean.size()[1] {
            return Err(Error::invalid(
                "x",
                format!("expected [N, {}] like the fitted data, got {:?}", self.mean.size()[1], x.size()),
            ));
        }
        Ok(x.f_to_kind(Kind::Float)?.f_sub(&self.mean)?.f_div(&self.std)?)
    }

    /// The per-feature means `[1, F]`.
    pub fn mean(&self) -> &Tensor {
        &self.mean
    }

    /// The per-feature standard deviations `[1, F]` (1 where a feature does not vary).
    pub fn std(&self) -> &Tensor {
        &self.std
    }
}
