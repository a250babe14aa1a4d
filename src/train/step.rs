//! Step runners: how one training step (forward, loss, metrics, backward, reduce, update) runs.
//!
//! The loop hands each batch to a [`StepRunner`] and gets back the step's sums
//! (`[loss * n, metric states...]`, on the device). [`EagerStep`] runs the step op by op;
//! [`GraphStep`] captures it in a CUDA graph after warm-up steps and replays it (one launch per
//! step), falling back to eager steps for batches of another size and when a capture is refused.
use tch::{Device, Kind, Tensor};

use crate::graph::CudaGraph;
use crate::train::reducer::GradientReducer;
use crate::train::source::{Batch, BatchSignature};
use crate::{Error, Loss, Result, Sequential};

/// Eager steps before a training step is captured in a CUDA graph: they initialise what the
/// capture must not (cuBLAS and cuDNN handles and workspaces, cuDNN's algorithm choice).
const GRAPH_WARMUP_STEPS: usize = 2;

/// Runs training steps.
pub(crate) trait StepRunner {
    /// One training step on `batch`; returns the step's sums on the model's device.
    fn step(&mut self, model: &mut Sequential, batch: &Batch, reducer: &mut dyn GradientReducer) -> Result<Tensor>;
}

/// Every step op by op.
pub(crate) struct EagerStep {
    /// The loss the step computes (the compiled one, or its sparse equivalent).
    pub(crate) loss: Loss,
}

impl StepRunner for EagerStep {
    fn step(&mut self, model: &mut Sequential, batch: &Batch, reducer: &mut dyn GradientReducer) -> Result<Tensor> {
        let y = batch.y()?.ok_or_else(|| Error::invalid("batch", "a training batch needs targets"))?;
        let w = batch.sample_weight()?;
        let (mut sums, mut grad) = model.batch_gradient(&batch.x()?, &y, w.as_ref(), &self.loss)?;
        // The update runs after the reducer: clipping sees the gradient aggregated over
        // processes, as Keras clips the aggregated gradient.
        reducer.reduce_step(&mut grad, &mut sums)?;
        let flat = model.flat("fit")?;
        model.train_state_mut("fit")?.optimizer.step(&flat, &grad)?;
        Ok(sums)
    }
}

/// A training step captured in a CUDA graph, with the tensors it reads and writes.
struct Captured {
    graph: CudaGraph,
    /// The batch inputs the graph reads: filled before each replay.
    x: Tensor,
    y: Tensor,
    /// The sample weights the graph reads, when it was captured for weighted batches.
    w: Option<Tensor>,
    /// The shapes and kinds of the batches the graph serves.
    signature: BatchSignature,
    /// The step's sums, written by each replay.
    sums: Tensor,
    /// Addresses of the parameter buffer and optimizer state the graph updates: the capture is
    /// valid while they are the same.
    addresses: Vec<usize>,
}

/// CUDA-graph steps: warm-up, capture, replay, and eager steps where a replay cannot serve.
pub(crate) struct GraphStep {
    eager: EagerStep,
    device: usize,
    /// The batch size the graph is captured for (that of the first batch).
    size: Option<i64>,
    warmed_up: usize,
    captured: Option<Captured>,
    /// Set when a capture was refused: the rest of the fit runs eagerly.
    refused: bool,
}

impl GraphStep {
    pub(crate) fn new(loss: Loss, device: usize) -> Self {
        Self { eager: EagerStep { loss }, device, size: None, warmed_up: 0, captured: None, refused: false }
    }

    /// Captures one step on `batch`-sized inputs shaped like the batch (nothing runs until
    /// the graph is replayed).
    fn capture(
        &mut self,
        model: &mut Sequential,
        batch: &Batch,
        reducer: &mut dyn GradientReducer,
    ) -> Result<Captured> {
        let flat = model.flat("fit")?;
        model.train_state_mut("fit")?.optimizer.prepare_capture(&flat)?;
        let addresses = graph_addresses(model)?;
        let signature = batch.signature();
        let (x_size, x_kind) = signature.x.clone();
        let (y_size, y_kind) =
            signature.y.clone().ok_or_else(|| Error::invalid("batch", "a training batch needs targets"))?;
        let device = Device::Cuda(self.device);
        let buffer = |size: &[i64], kind: Kind| -> Result<Tensor> {
            let full: Vec<i64> = std::iter::once(batch.len()).chain(size.iter().copied()).collect();
            Ok(Tensor::f_zeros(full.as_slice(), (kind, device))?)
        };
        let (x, y) = (buffer(&x_size, x_kind)?, buffer(&y_size, y_kind)?);
        let w = signature.w.as_ref().map(|(size, kind)| buffer(size, *kind)).transpose()?;
        let loss = &self.eager.loss;
        let (graph, sums) = CudaGraph::capture(self.device, || -> Result<Tensor> {
            let (mut sums, mut grad) = model.batch_gradient(&x, &y, w.as_ref(), loss)?;
            reducer.reduce_step(&mut grad, &mut sums)?;
            model.train_state_mut("fit")?.optimizer.step_captured(&flat, &grad)?;
            Ok(sums)
        })?;
        Ok(Captured { graph, x, y, w, signature, sums, addresses })
    }
}

/// Addresses of the tensors a captured step updates in place.
fn graph_addresses(model: &Sequential) -> Result<Vec<usize>> {
    let mut out = vec![model.flat("fit")?.data_ptr() as usize];
    out.extend(model.train_state("fit")?.optimizer.addresses());
    Ok(out)
}

impl StepRunner for GraphStep {
    fn step(&mut self, model: &mut Sequential, batch: &Batch, reducer: &mut dyn GradientReducer) -> Result<Tensor> {
        let size = *self.size.get_or_insert(batch.len());
        if self.refused || batch.len() != size || self.warmed_up < GRAPH_WARMUP_STEPS {
            if batch.len() == size {
                self.warmed_up += 1;
            }
            return self.eager.step(model, batch, reducer);
        }
        if let Some(c) = &self.captured {
            if c.signature != batch.signature() {
                // Batches unlike the captured ones (other shapes or kinds, with or without
                // sample weights) run eagerly.
                return self.eager.step(model, batch, reducer);
            }
        }
        let valid = match &self.captured {
            Some(c) => c.addresses == graph_addresses(model)?,
            None => false,
        };
        if !valid {
            // Free the old graph's memory before capturing the new one.
            self.captured = None;
            match self.capture(model, batch, reducer) {
                Ok(c) => {
                    self.captured = Some(c);
                    model.train_state_mut("fit")?.graph_captures += 1;
                }
                Err(Error::CudaGraph { message }) => {
                    crate::warn(&format!("training without CUDA graphs: {message}"));
                    self.refused = true;
                    return self.eager.step(model, batch, reducer);
                }
                Err(e) => return Err(e),
            }
        }
        let Some(c) = &self.captured else { return self.eager.step(model, batch, reducer) };
        batch.write_into(&c.x, Some(&c.y), c.w.as_ref())?;
        let flat = model.flat("fit")?;
        let state = model.train_state_mut("fit")?;
        state.optimizer.before_replay(&flat)?;
        c.graph.replay()?;
        state.optimizer.count_replayed_step();
        state.graph_replays += 1;
        // The graph's own output, rewritten by the next replay: the loop adds it to the epoch's
        // sums right away (in stream order, before that replay).
        Ok(c.sums.shallow_clone())
    }
}
