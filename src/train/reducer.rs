//! The gradient reducer: a hook between a step's gradient and the optimizer's update.
//!
//! A single process needs none. Data-parallel training averages the flat gradient across
//! processes here (one all-reduce of one buffer) and sums the step's loss and metric states,
//! so every process applies the same update and logs the same values.
use tch::Tensor;

use crate::Result;

/// Combines each step's gradient and log sums across replicas before the update.
pub trait GradientReducer {
    /// Processes taking part (1 for a single process).
    fn world_size(&self) -> usize {
        1
    }

    /// This process's index among them.
    fn rank(&self) -> usize {
        0
    }

    /// Called after the backward pass with the flat gradient (laid out like the parameter
    /// buffer) and the step's `[loss * n, metric states...]`; changes both in place, e.g.
    /// averages the gradient and sums the states across processes.
    fn reduce_step(&mut self, grad: &mut Tensor, sums: &mut Tensor) -> Result<()>;

    /// Sums evaluation sums (`[loss * n, metric states...]`) across processes in place.
    fn reduce_sums(&mut self, sums: &mut Tensor) -> Result<()> {
        let _ = sums;
        Ok(())
    }

    /// Makes every process start from the same parameters (e.g. rank 0's), in place.
    fn sync_parameters(&mut self, flat: &mut Tensor) -> Result<()> {
        let _ = flat;
        Ok(())
    }

    /// Whether any process asked to stop training (all processes must agree to stop). Called
    /// at each epoch's end.
    fn agree_to_stop(&mut self, local: bool) -> Result<bool> {
        Ok(local)
    }

    /// Averages non-trained state (batch normalization's running statistics) across processes
    /// in place, at each epoch's end.
    fn average_buffers(&mut self, buffers: &[Tensor]) -> Result<()> {
        let _ = buffers;
        Ok(())
    }

    /// Whether [`Self::reduce_step`] may be captured in a CUDA graph (NCCL can; host-side
    /// collectives cannot). Steps then run eagerly.
    fn capturable(&self) -> bool {
        false
    }
}
