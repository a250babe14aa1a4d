//! The optimizer tests' fixture, as the Keras scripts `keras_more_optimizers.py` and
//! `keras_optimizer_options.py` build it: a Dense(2) on 3 features with fixed weights and six
//! samples.
#![allow(dead_code)]
use tch::{Device, Kind, Tensor};
use tch_keras::{Dense, Loss, Optimizer, Sequential};

/// The script's data: x[i] = sin(0.7 i) as [6, 3], y[i] = cos(0.3 i) as [6, 2].
pub fn data() -> (Tensor, Tensor) {
    let x = (Tensor::arange(18, (Kind::Float, Device::Cpu)) * 0.7).sin().view([6, 3]);
    let y = (Tensor::arange(12, (Kind::Float, Device::Cpu)) * 0.3).cos().view([6, 2]);
    (x, y)
}

/// Dense(2) on 3 features with the script's weights: kernel (as [out, in]) 0.1 i - 0.2, bias
/// [0.1, -0.1].
pub fn dense(optimizer: Optimizer) -> Sequential {
    let mut m = Sequential::new().input_shape([3]).add(Dense::new(2)).seed(1);
    m.compile(optimizer, Loss::MeanSquaredError, vec![]).unwrap();
    let kernel = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([2, 3]) * 0.1 - 0.2;
    let bias = Tensor::from_slice(&[0.1f32, -0.1]);
    let names: Vec<String> = m.variables().unwrap().iter().map(|(n, _)| n.clone()).collect();
    let ordered: Vec<Tensor> = names
        .iter()
        .map(|n| match n.as_str() {
            "layers.0.weight" => kernel.shallow_clone(),
            "layers.0.bias" => bias.shallow_clone(),
            other => panic!("unexpected variable {other}"),
        })
        .collect();
    m.set_weights(&ordered).unwrap();
    m
}
