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

/// Runs `f` on one buffer holding all of `tensors` (of one kind), then copies the results back
/// into them: one collective for many small tensors.
pub(crate) fn through_one_buffer(tensors: &[Tensor], f: impl FnOnce(&mut Tensor) -> Result<()>) -> Result<()> {
    if tensors.is_empty() {
        return Ok(());
    }
    let parts: Vec<Tensor> = tensors.iter().map(|t| t.f_reshape([-1])).collect::<std::result::Result<_, _>>()?;
    let mut all = Tensor::f_cat(&parts, 0)?;
    f(&mut all)?;
    let mut offset = 0;
    for t in tensors {
        let n = t.numel() as i64;
        t.shallow_clone().f_copy_(&all.f_narrow(0, offset, n)?.f_view_as(t)?)?;
        offset += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_views_of_one_buffer_with_their_values() {
        let dense = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([2, 3]).set_requires_grad(true);
        let conv = Tensor::arange(24, (Kind::Float, Device::Cpu)).view([2, 3, 2, 2]).set_requires_grad(true);
        let (before_d, before_c) = (dense.copy(), conv.copy());
        let (flat, orders) = flatten(&[dense.shallow_clone(), conv.shallow_clone()], Device::Cpu).unwrap();
        assert_eq!(flat.size(), [30]);
        assert_eq!(orders, [None, Some([0, 2, 3, 1])]);
        assert!(dense.equal(&before_d) && conv.equal(&before_c), "values changed");
        assert!(dense.requires_grad() && conv.requires_grad());
        // Writing the buffer changes the parameters: they share its storage.
        let _ = tch::no_grad(|| flat.shallow_clone().fill_(1.0));
        assert!(dense.equal(&Tensor::ones([2, 3], (Kind::Float, Device::Cpu))));
        assert!(conv.equal(&Tensor::ones([2, 3, 2, 2], (Kind::Float, Device::Cpu))));
    }

    #[test]
    fn channels_last_views_round_trip_through_the_memory_order() {
        let t = Tensor::arange(24, (Kind::Float, Device::Cpu)).view([2, 3, 2, 2]);
        let order = memory_order(&t.size(), Device::Cpu);
        let flat = in_memory_order(&t, order).unwrap();
        // Memory holds [out, kh, kw, in]: the first four numbers are out 0, kh 0, kw 0, in 0..3.
        assert_eq!(Vec::<f32>::try_from(flat.narrow(0, 0, 3)).unwrap(), [0.0, 4.0, 8.0]);
        assert!(view_of(&flat, &t.size(), order).unwrap().equal(&t));
        assert_eq!(memory_order(&[3, 4], Device::Cpu), None);
    }

    #[test]
    fn the_flat_gradient_follows_each_parameters_layout() {
        let grads = [
            Tensor::ones([2], (Kind::Float, Device::Cpu)),
            Tensor::arange(24, (Kind::Float, Device::Cpu)).view([2, 3, 2, 2]),
        ];
        let orders = [None, Some([0, 2, 3, 1])];
        let g = flat_gradient(&grads, &orders).unwrap();
        assert_eq!(g.size(), [26]);
        assert!(g.narrow(0, 2, 24).equal(&in_memory_order(&grads[1], orders[1]).unwrap()));
    }
}
