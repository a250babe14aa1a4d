//! A post-norm transformer encoder block built from `Residual` blocks in a `Sequential`
//! (self-attention and a feed-forward pair, each added to its input, each followed by
//! `LayerNormalization`) against the same block written with Keras's functional API.
//!
//! Reference numbers come from `tests/reference/keras_transformer_block.py` (Keras 3.15.1,
//! torch backend). Inputs and weights there and here are `vals(shape, offset, scale)`:
//! `sin(0.7 * i + offset) * scale`, in Keras's layout (Dense kernels transposed here).
use tch::{Device, Tensor};
use tch_keras::{
    Activation, Dense, FitConfig, Flatten, LayerNormalization, Loss, MultiHeadAttention, Optimizer, Residual,
    Sequential, Verbosity,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

fn assert_close(what: &str, got: &Tensor, expected: &[f32]) {
    let got = Vec::<f32>::try_from(got.contiguous().reshape([-1])).unwrap();
    assert_eq!(got.len(), expected.len(), "{what}: sizes");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 1e-5 + 2e-4 * e.abs(), "{what} element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// What the weight is in Keras: its offset index and how to draw it.
enum Draw {
    Kernel,
    Bias,
    Gamma,
}

/// The block of the reference script, its weights set as the script sets them.
fn block(causal: bool) -> Sequential {
    let mut m = Sequential::new()
        .device(Device::Cpu)
        .input_shape([5, 4])
        .add(Residual::new().add(MultiHeadAttention::new(2, 3).use_causal_mask(causal)))
        .add(LayerNormalization::new())
        .add(Residual::new().add(Dense::new(8).activation(Activation::Relu)).add(Dense::new(4)))
        .add(LayerNormalization::new())
        .add(Flatten::new())
        .add(Dense::new(3));
    m.build().unwrap();
    // Keras's weight order (the script's index k), our name, Keras's shape, and whether our
    // variable is the transpose (a Dense kernel).
    let mut keras: Vec<(String, Vec<i64>, Draw, bool)> = Vec::new();
    for (name, kernel, bias) in [
        ("query", vec![4, 2, 3], vec![2, 3]),
        ("key", vec![4, 2, 3], vec![2, 3]),
        ("value", vec![4, 2, 3], vec![2, 3]),
        ("output", vec![2, 3, 4], vec![4]),
    ] {
        keras.push((format!("layers.0.block.0.{name}_kernel"), kernel, Draw::Kernel, false));
        keras.push((format!("layers.0.block.0.{name}_bias"), bias, Draw::Bias, false));
    }
    let norm = |i: usize| {
        [
            (format!("layers.{i}.weight"), vec![4], Draw::Gamma, false),
            (format!("layers.{i}.bias"), vec![4], Draw::Bias, false),
        ]
    };
    keras.extend(norm(1));
    keras.push(("layers.2.block.0.weight".into(), vec![4, 8], Draw::Kernel, true));
    keras.push(("layers.2.block.0.bias".into(), vec![8], Draw::Bias, false));
    keras.push(("layers.2.block.1.weight".into(), vec![8, 4], Draw::Kernel, true));
    keras.push(("layers.2.block.1.bias".into(), vec![4], Draw::Bias, false));
    keras.extend(norm(3));
    keras.push(("layers.5.weight".into(), vec![20, 3], Draw::Kernel, true));
    keras.push(("layers.5.bias".into(), vec![3], Draw::Bias, false));

    let vars = m.variables().unwrap();
    assert_eq!(vars.len(), keras.len(), "variables: {:?}", vars.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (k, (name, shape, draw, transposed)) in keras.into_iter().enumerate() {
        let offset = 0.2 + 0.3 * k as f64;
        let mut value = match draw {
            Draw::Kernel => vals(&shape, offset, 0.5),
            Draw::Bias => vals(&shape, offset, 0.1),
            Draw::Gamma => vals(&shape, offset, 0.1) + 1.0,
        };
        if transposed {
            value = value.transpose(0, 1);
        }
        let (_, var) = vars.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no variable {name}"));
        assert_eq!(var.size(), value.size(), "{name}");
        tch::no_grad(|| var.shallow_clone().copy_(&value));
    }
    m
}

fn var(m: &Sequential, name: &str) -> Tensor {
    let vars = m.variables().unwrap();
    vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variable {name}")).1.shallow_clone()
}

/// Keras's numbers for one block: predictions, the two epochs' losses, predictions after,
/// and the query and final Dense kernels after.
struct Expected {
    predict: &'static [f32],
    losses: [f32; 2],
    predict_after: &'static [f32],
    query_kernel: &'static [f32],
    last_kernel: &'static [f32],
}

fn check(causal: bool, e: Expected) {
    let x = vals(&[2, 5, 4], 0.1, 1.0);
    let y = vals(&[2, 3], 0.9, 1.0);
    let mut m = block(causal);
    assert_eq!(m.count_params().unwrap(), 273);
    assert_close("predict", &m.predict(&x, 2).unwrap(), e.predict);
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    let config =
        FitConfig { epochs: 2, batch_size: 2, shuffle: false, verbose: Verbosity::Silent, ..Default::default() };
    let losses = m.fit(&x, &y, config).unwrap().series("loss").unwrap();
    assert_close("losses", &Tensor::from_slice(&losses), &e.losses);
    assert_close("predict after fit", &m.predict(&x, 2).unwrap(), e.predict_after);
    assert_close("query kernel", &var(&m, "layers.0.block.0.query_kernel"), e.query_kernel);
    // Ours is [3, 20], Keras's (20, 3).
    assert_close("last kernel", &var(&m, "layers.5.weight").transpose(0, 1), e.last_kernel);
}

// Long: Keras's numbers as the script prints them; `check` does the work.
#[test]
fn encoder_block_matches_keras_functional_model() {
    check(
        false,
        Expected {
            predict: &[1.562888, 1.630889, 0.931857, -2.15177, -0.3230191, 1.657653],
            losses: [2.191_543, 0.049_973_614],
            predict_after: &[0.6373845, 0.8869373, 0.7193494, -0.2150602, -0.8604031, -1.101085],
            query_kernel: &[
                0.09945266, 0.3917027, 0.4997289, 0.3726371, 0.07037774, -0.2649814, -0.4755732, -0.4628534,
                -0.2324464, 0.1077082, 0.3969997, 0.499576, 0.367429, 0.06227043, -0.272175, -0.4778753, -0.4592285,
                -0.2245993, 0.1158797, 0.4019044, 0.4989072, 0.3619689, 0.05437772, -0.2787881,
            ],
            last_kernel: &[
                -0.3617731,
                -0.2593258,
                -0.03491359,
                0.38619,
                0.4905594,
                0.364211,
                0.04888005,
                -0.2438837,
                -0.4219452,
                -0.5716696,
                -0.2537589,
                0.1834987,
                0.2755018,
                0.484287,
                0.4653045,
                0.04046678,
                -0.222698,
                -0.3811244,
                -0.4471357,
                -0.2415226,
                0.07768238,
                0.518393,
                0.4866264,
                0.2259919,
                0.1609528,
                -0.2248635,
                -0.504923,
                -0.4009216,
                -0.2559652,
                0.009375594,
                0.3691702,
                0.4859317,
                0.3741519,
                -0.05909423,
                -0.2477792,
                -0.3199297,
                -0.4230409,
                -0.2903122,
                -0.02104517,
                0.3254156,
                0.5030687,
                0.4441207,
                0.02065327,
                -0.2330129,
                -0.3770895,
                -0.3917685,
                -0.2142417,
                0.06404631,
                0.3185276,
                0.5406829,
                0.5085465,
                0.108021,
                -0.2637581,
                -0.5114877,
                -0.4054182,
                -0.253024,
                0.0183712,
                0.3712587,
                0.4813061,
                0.3649877,
            ],
        },
    );
}

// Long: Keras's numbers as the script prints them; `check` does the work.
#[test]
fn causal_encoder_block_matches_keras_functional_model() {
    check(
        true,
        Expected {
            predict: &[1.594715, 1.654143, 0.9356026, -2.134916, -0.3085811, 1.662885],
            losses: [2.197_951_6, 0.047_559_08],
            predict_after: &[0.7682706, 0.9836373, 0.7363845, -0.06260227, -0.7198899, -1.038602],
            query_kernel: &[
                0.09957953, 0.3916743, 0.4995584, 0.3723243, 0.07010804, -0.2650811, -0.4756601, -0.4629127,
                -0.2324502, 0.1068221, 0.3962039, 0.4992448, 0.3671693, 0.06220824, -0.2720104, -0.4789179, -0.4601761,
                -0.2250063, 0.1155692, 0.4018686, 0.4991628, 0.3612602, 0.05372394, -0.2790795,
            ],
            last_kernel: &[
                -0.3727366,
                -0.2663928,
                -0.03476035,
                0.3943012,
                0.4934017,
                0.3604477,
                0.05646193,
                -0.2404427,
                -0.4242633,
                -0.5795433,
                -0.2545863,
                0.1901067,
                0.2840251,
                0.4897708,
                0.4651696,
                0.04015583,
                -0.223297,
                -0.3817298,
                -0.4490725,
                -0.2431367,
                0.07715002,
                0.5089106,
                0.4814315,
                0.2275276,
                0.1471032,
                -0.231839,
                -0.5017437,
                -0.3991878,
                -0.255455,
                0.008422395,
                0.3741725,
                0.4880883,
                0.3724484,
                -0.05318465,
                -0.2444564,
                -0.3207566,
                -0.4143763,
                -0.2840362,
                -0.0201095,
                0.3255056,
                0.5036612,
                0.4449369,
                0.01989293,
                -0.2335708,
                -0.3771826,
                -0.4034428,
                -0.2230873,
                0.06218975,
                0.3076347,
                0.5341275,
                0.5094118,
                0.1076808,
                -0.2634923,
                -0.5107408,
                -0.4033604,
                -0.2516264,
                0.0184514,
                0.3795828,
                0.4853928,
                0.362915,
            ],
        },
    );
}
