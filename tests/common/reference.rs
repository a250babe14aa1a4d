//! What the tests against Keras's numbers share: the `vals` inputs and weights the reference
//! scripts in `tests/reference/` also compute, the comparison, and a model with set variables.
#![allow(dead_code)]
use tch::{Device, Kind, Tensor};
use tch_keras::{LayerConfig, Sequential};

/// `sin(0.7 * i + offset) * scale` over the flattened `shape`, as the reference scripts' `vals`.
pub fn vals(shape: &[i64], offset: f64, scale: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset)
        .sin()
        .g_mul_scalar(scale)
        .to_kind(Kind::Float)
        .reshape(shape)
}

/// Asserts `got` is Keras's `expected` within 1e-5 plus 1e-4 of the value.
pub fn assert_close(what: &str, got: &Tensor, expected: &[f32]) {
    let got = Vec::<f32>::try_from(got.contiguous().reshape([-1])).unwrap();
    assert_eq!(got.len(), expected.len(), "{what}: sizes");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 1e-5 + 1e-4 * e.abs(), "{what} element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// A model of `layers` on per-sample `input`, built on the CPU, with the named variables set.
pub fn model(layers: Vec<LayerConfig>, input: &[i64], weights: &[(&str, Tensor)]) -> Sequential {
    let mut m = Sequential::new().device(Device::Cpu).input_shape(input.to_vec());
    for l in layers {
        m = m.add(l);
    }
    m.build().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(vars.len(), weights.len(), "variables: {:?}", vars.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (name, value) in weights {
        let (_, var) = vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variable {name}"));
        assert_eq!(var.size(), value.size(), "{name}");
        tch::no_grad(|| var.shallow_clone().copy_(value));
    }
    m
}

/// The model's variable `name`.
pub fn var(m: &Sequential, name: &str) -> Tensor {
    let vars = m.variables().unwrap();
    vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variable {name}")).1.shallow_clone()
}

/// Asserts each model fails to build with a `LayerShape` error for its first layer, the
/// named `layer`, whose text contains `needle`.
pub fn assert_layer_errors(cases: Vec<(Sequential, &str, &str)>) {
    for (mut m, layer, needle) in cases {
        let err = m.build().unwrap_err();
        match &err {
            tch_keras::Error::LayerShape { index: 0, layer: l, .. } => assert_eq!(*l, layer),
            other => panic!("{layer}: expected a LayerShape error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&format!("layer 0 ({layer})")) && text.contains(needle), "{text}");
    }
}
