//! The flat parameter buffer: every trainable parameter is a view into one contiguous tensor,
//! so an optimizer update is a few element-wise kernels whatever the number of layers.
//!
//! On the CPU, convolution kernels (4-D parameters) are laid out channels-last inside the
//! buffer (`[out, kh, kw, in]` in memory, `[out, in, kh, kw]` as seen): LibTorch then runs the
//! convolutions, and the pooling and activations after them, on its channels-last path, which
//! measured faster for the recipe's CNN. Values and shapes seen by users are unchanged.
use tch::{Device, Kind, Tensor};

use crate::Result;

/// The order of a parameter's axes in memory, when it is not the logical order.
pub(crate) type MemoryOrder = Option<[i64; 4]>;

/// Channels-last for 4-D parameters on the CPU, the logical order otherwise.
fn memory_order(size: &[i64], device: Device) -> MemoryOrder {
    (size.len() == 4 && device == Device::Cpu).then_some([0, 2, 3, 1])
}

/// The parameter of logical shape `size` stored in the 1-D `slice` with `order`.
pub(crate) fn view_of(slice: &Tensor, size: &[i64], order: MemoryOrder) -> Result<Tensor> {
    Ok(match order {
        None => slice.f_view(size)?,
        Some(o) => {
            let memory: Vec<i64> = o.iter().map(|&d| size[d as usize]).collect();
            let mut inverse = [0i64; 4];
            for (i, &d) in o.iter().enumerate() {
                inverse[d as usize] = i as i64;
            }
            slice.f_view(memory.as_slice())?.f_permute(inverse)?
        }
    })
}

/// `t` (logical shape) flattened in the memory order of its parameter: what the flat buffer,
/// its gradient and the optimizer slots hold for it.
pub(crate) fn in_memory_order(t: &Tensor, order: MemoryOrder) -> Result<Tensor> {
    Ok(match order {
        None => t.f_reshape([-1])?,
        Some(o) => t.f_permute(o)?.f_reshape([-1])?,
    })
}

/// Moves `params` into one buffer and makes each a view of it (same values, same autograd
/// leaf). Returns the buffer and each parameter's memory order.
pub(crate) fn flatten(params: &[Tensor], device: Device) -> Result<(Tensor, Vec<MemoryOrder>)> {
    let total: i64 = params.iter().map(|t| t.numel() as i64).sum();
    let flat = Tensor::f_zeros([total], (Kind::Float, device))?;
    let mut orders = Vec::with_capacity(params.len());
    let mut offset = 0;
    tch::no_grad(|| -> Result<()> {
        for p in params {
            let n = p.numel() as i64;
            let order = memory_order(&p.size(), device);
            let mut view = view_of(&flat.f_narrow(0, offset, n)?, &p.size(), order)?;
            view.f_copy_(p)?;
            p.shallow_clone().f_set_data(&view)?;
            orders.push(order);
            offset += n;
        }
        Ok(())
    })?;
    Ok((flat, orders))
}

/// The gradients of the parameters laid end to end like the buffer.
pub(crate) fn flat_gradient(grads: &[Tensor], orders: &[MemoryOrder]) -> Result<Tensor> {
    let parts = grads.iter().zip(orders).map(|(g, &o)| in_memory_order(g, o)).collect::<Result<Vec<_>>>()?;
    Ok(Tensor::f_cat(&parts, 0)?)
}
