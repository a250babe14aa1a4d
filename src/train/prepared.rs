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
    /// Keras's `class_weight`, turned into each batch's sample weights; empty: none.
    class_weight: Vec<(i64, f64)>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(inner: &'a mut dyn BatchSource, prep: BatchPrep) -> Self {
        Self { inner, prep, targets: None, class_weight: Vec::new() }
    }

    /// Weighs each training sample by its class's weight, as `fit` on tensors does.
    pub(crate) fn with_class_weight(mut self, class_weight: Vec<(i64, f64)>) -> Self {
        self.class_weight = class_weight;
        self
    }
}

/// The batch's sample weights: the source's own, or its targets' class weights.
fn batch_weights(
    batch: &Batch,
    y: Option<&Tensor>,
    class_weight: &[(i64, f64)],
    device: Device,
) -> Result<Option<Tensor>> {
    let own = batch.sample_weight()?;
    match (own, y) {
        (Some(_), _) if !class_weight.is_empty() => Err(Error::invalid(
            "class_weight",
            "the source's batches carry sample weights too: give either class_weight or sample weights, not both",
        )),
        (Some(w), _) => Ok(Some(w.f_to_device(device)?)),
        (None, Some(y)) if !class_weight.is_empty() => Ok(Some(crate::class_weight_to_sample_weight(y, class_weight)?)),
        (None, _) => Ok(None),
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
    crate::model::check_real(x, "a batch's x")?;
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
            if crate::losses::is_complex(y.kind()) {
                // Refused with the message the first batch gets.
                return prep.loss.prepare_targets(y, &prep.output);
            }
            let y = y.f_reshape(full.as_slice())?;
            if prep.loss.is_sparse() && y.device() == Device::Cpu {
                // On the CPU the range check costs no device sync: every batch's labels are
                // checked, not only the first batch's.
                prep.loss.check_labels(&y, prep.output.last().copied().unwrap_or(1))?;
            }
            Ok(y.f_to_device(prep.device)?.f_to_kind(*kind)?)
        }
    }
}

impl BatchSource for Prepared<'_> {
    fn num_batches(&self) -> Option<usize> {
        self.inner.num_batches()
    }

    fn shuffles(&self) -> bool {
        self.inner.shuffles()
    }

    fn epoch(&mut self, epoch: usize) -> Result<Batches<'_>> {
        self.epoch_from(epoch, 0)
    }

    fn epoch_from(&mut self, epoch: usize, skip: usize) -> Result<Batches<'_>> {
        let (prep, class_weight) = (&self.prep, &self.class_weight);
        let targets = &mut self.targets;
        // Skipped batches are dropped before they are prepared (moved to the device).
        let batches = self.inner.epoch_from(epoch, skip)?.map(move |batch| {
            let batch = batch?;
            let x = prepare_x(prep, &batch.x()?)?;
            let y = batch.y()?.map(|y| prepare_y(prep, targets, &y)).transpose()?;
            if let (Some(y), false) = (&y, class_weight.is_empty()) {
                crate::losses::check_class_weight_targets(&prep.loss, y)?;
            }
            let weights = batch_weights(&batch, y.as_ref(), class_weight, prep.device)?;
            let out = match y {
                Some(y) => Batch::new(x, y)?,
                None => Batch::inputs(x)?,
            };
            match weights {
                Some(w) => out.with_sample_weight(w),
                None => Ok(out),
            }
        });
        Ok(Box::new(batches))
    }

    fn shard(&mut self, rank: usize, world: usize) -> Result<()> {
        self.inner.shard(rank, world)
    }
}
