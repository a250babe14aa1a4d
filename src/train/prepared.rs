//! A user's batch source seen through the checks `fit` on tensors makes once: each batch's
//! inputs are checked against the model's input shape and moved to its device in the kind it
//! computes with; targets are checked and converted for the loss (fully on the first batch,
//! by kind, shape and device afterwards, so a CUDA run does not wait for the host per batch).
use tch::{Device, Kind, Tensor};

use crate::error::{batch_shape, full_shape};
use crate::layers::LayerConfig;
use crate::train::source::{Batch, BatchSource, Batches};
use crate::{Error, Loss, Result, Sequential};

/// What preparing a batch needs from the model.
#[derive(Debug, Clone)]
pub(crate) struct BatchPrep {
    device: Device,
    input: Vec<i64>,
    integer_inputs: bool,
    loss: Loss,
    output: Vec<i64>,
}

impl Sequential {
    pub(crate) fn batch_prep(&self, loss: Loss) -> Result<BatchPrep> {
        Ok(BatchPrep {
            device: self.device,
            input: self.input_shape.clone().unwrap_or_default(),
            integer_inputs: matches!(self.layers.first(), Some(LayerConfig::Embedding(_))),
            loss,
            output: self.output_shape()?,
        })
    }
}

/// A source whose batches are prepared for the model.
pub(crate) struct Prepared<'a> {
    inner: &'a mut dyn BatchSource,
    prep: BatchPrep,
    /// The targets' kind and per-sample shape, once the first batch was checked.
    targets: Option<(Kind, Vec<i64>)>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(inner: &'a mut dyn BatchSource, prep: BatchPrep) -> Self {
        Self { inner, prep, targets: None }
    }
}

fn prepare_x(prep: &BatchPrep, x: &Tensor) -> Result<Tensor> {
    let size = x.size();
    if size.get(1..) != Some(prep.input.as_slice()) {
        return Err(Error::DataShape {
            what: "a batch's x".into(),
            expected: batch_shape(&prep.input),
            got: full_shape(&size),
            hint: crate::error::layout_hint(&prep.input, &size).unwrap_or_else(|| {
                "make the source yield inputs of the model's input shape (images as [N, C, H, W])".into()
            }),
        });
    }
    let integer = !x.is_floating_point() && x.kind() != Kind::Bool;
    let kind = if prep.integer_inputs && integer { Kind::Int64 } else { Kind::Float };
    Ok(x.f_to_device(prep.device)?.f_to_kind(kind)?)
}

fn prepare_y(prep: &BatchPrep, targets: &mut Option<(Kind, Vec<i64>)>, y: &Tensor) -> Result<Tensor> {
    match targets {
        None => {
            let y = prep.loss.prepare_targets(y, &prep.output)?.f_to_device(prep.device)?;
            *targets = Some((y.kind(), y.size()[1..].to_vec()));
            Ok(y)
        }
        Some((kind, shape)) => {
            let n = y.size().first().copied().unwrap_or(0);
            let full: Vec<i64> = std::iter::once(n).chain(shape.iter().copied()).collect();
            if y.numel() as i64 != full.iter().product::<i64>() {
                return Err(Error::Targets {
                    loss: prep.loss.name().into(),
                    message: format!(
                        "a batch's targets have shape {} but the first batch's were {}",
                        full_shape(&y.size()),
                        batch_shape(shape)
                    ),
                });
            }
            Ok(y.f_reshape(full.as_slice())?.f_to_device(prep.device)?.f_to_kind(*kind)?)
        }
    }
}

impl BatchSource for Prepared<'_> {
    fn num_batches(&self) -> Option<usize> {
        self.inner.num_batches()
    }

    fn epoch(&mut self, epoch: usize) -> Result<Batches<'_>> {
        self.epoch_from(epoch, 0)
    }

    fn epoch_from(&mut self, epoch: usize, skip: usize) -> Result<Batches<'_>> {
        let prep = &self.prep;
        let targets = &mut self.targets;
        // Skipped batches are dropped before they are prepared (moved to the device).
        let batches = self.inner.epoch_from(epoch, skip)?.map(move |batch| {
            let batch = batch?;
            let x = prepare_x(prep, &batch.x()?)?;
            let out = match batch.y()? {
                Some(y) => Batch::new(x, prepare_y(prep, targets, &y)?)?,
                None => Batch::inputs(x)?,
            };
            match batch.sample_weight()? {
                Some(w) => out.with_sample_weight(w.f_to_device(prep.device)?),
                None => Ok(out),
            }
        });
        Ok(Box::new(batches))
    }

    fn shard(&mut self, rank: usize, world: usize) -> Result<()> {
        self.inner.shard(rank, world)
    }
}
