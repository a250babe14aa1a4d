//! Keras 3's activation functions (`"elu"`, `"gelu"`, `"swish"`, ...): values and gradients
//! against Keras, and the model's shortcuts (a ReLU moved after max pooling, a softmax's
//! logits given to the loss) kept to where they are exact.
//!
//! Reference numbers come from `tests/reference/activations.py` (Keras 3, torch backend).
//! Inputs there and here are `X` or `vals(shape, offset, scale)`: `sin(0.7 * i + offset) * scale`.
use tch::{Device, Kind, Tensor};
use tch_keras::{Activation, Conv2D, LayerConfig, Loss, MaxPooling2D, Sequential};

const X: [f32; 11] = [-30.0, -5.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.9, 6.5, 25.0];

fn vals(shape: &[i64], offset: f64, scale: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.7 + offset)
        .sin()
        .g_mul_scalar(scale)
        .to_kind(Kind::Float)
        .reshape(shape)
}

fn x_row() -> Tensor {
    Tensor::from_slice(&X).reshape([1, 11])
}

/// Element-wise close: `|got - want| <= 1e-6 + 2e-5 * |want|`.
fn assert_close(what: &str, got: &Tensor, want: &[f64]) {
    let got = Vec::<f64>::try_from(got.reshape([-1]).to_kind(Kind::Double)).unwrap();
    assert_eq!(got.len(), want.len(), "{what}: {} values, Keras has {}", got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-6 + 2e-5 * w.abs(), "{what}[{i}]: got {g}, Keras {w}\n{got:?}");
    }
}

/// `f(x)` and the gradient of `sum(f(x) * vals(f(x).shape, 0.5))` with respect to `x`.
fn value_and_grad(x: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> (Tensor, Tensor) {
    let x = x.detach().set_requires_grad(true);
    let y = f(&x);
    (&y * vals(&y.size(), 0.5, 1.0)).sum(Kind::Float).backward();
    (y.detach(), x.grad())
}

/// A built model of one layer on per-sample `input`.
fn one_layer(layer: impl Into<LayerConfig>, input: &[i64]) -> Sequential {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    m.build().unwrap();
    m
}

fn set_var(m: &Sequential, name: &str, value: &Tensor) {
    let vars = m.variables().unwrap();
    let (_, var) = vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variable {name}"));
    tch::no_grad(|| var.shallow_clone().copy_(value));
}

/// `(name, values, gradients)` of each activation on `X`, from tests/reference/activations.py.
#[rustfmt::skip]
const FUNCTIONS: &[(&str, &[f64], &[f64])] = &[
    ("relu", &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
    ("sigmoid", &[9.35762359e-14, 6.69285096e-03, 7.58581758e-02, 2.68941432e-01, 4.25557494e-01, 5.00000000e-01, 5.98687649e-01, 7.31058598e-01, 9.47846472e-01, 9.98498797e-01, 1.00000000e+00], &[4.48628392e-14, 6.19624881e-03, 6.63391501e-02, 1.01353735e-01, -3.85622457e-02, -1.89200625e-01, -2.40242302e-01, -1.51934713e-01, -9.00493748e-03, 7.40650750e-04, 0.00000000e+00]),
    ("tanh", &[-1.00000000e+00, -9.99909222e-01, -9.86614287e-01, -7.61594176e-01, -2.91312635e-01, 0.00000000e+00, 3.79948974e-01, 7.61594176e-01, 9.93963182e-01, 9.99995470e-01, 1.00000000e+00], &[0.00000000e+00, 1.69209379e-04, 2.51642484e-02, 2.16497332e-01, -1.44358903e-01, -7.56802499e-01, -8.55573118e-01, -3.24541241e-01, -2.19272519e-03, 4.47661023e-06, 0.00000000e+00]),
    ("softmax", &[1.29958149e-24, 9.35762291e-14, 1.13999186e-12, 5.10908893e-12, 1.02884498e-11, 1.38879437e-11, 2.07183697e-11, 3.77513437e-11, 2.52401405e-10, 9.23744992e-09, 1.00000000e+00], &[-5.95954832e-25, -5.57796819e-16, 9.46207546e-15, -2.15858277e-12, -1.12735246e-11, -2.35373214e-11, -4.01506085e-11, -6.45836579e-11, -2.82730589e-10, -4.10038048e-09, 0.00000000e+00]),
    ("elu", &[-1.00000000e+00, -9.93262053e-01, -9.17914987e-01, -6.32120550e-01, -2.59181798e-01, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[4.48628358e-14, 6.28003012e-03, 7.76770413e-02, 1.89642370e-01, -1.16860881e-01, -7.56802499e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
    ("selu", &[-1.75809932e+00, -1.74625337e+00, -1.61378574e+00, -1.11133075e+00, -4.55667347e-01, 0.00000000e+00, 4.20280427e-01, 1.05070102e+00, 3.04703307e+00, 6.82955647e+00, 2.62675247e+01], &[7.88733228e-14, 1.10409167e-02, 1.36563957e-01, 3.33410114e-01, -2.05453023e-01, -1.33053398e+00, -1.05062032e+00, -8.11944425e-01, -1.91398337e-01, 5.19165397e-01, 9.85557497e-01]),
    ("gelu", &[-0.00000000e+00, -1.19209290e-06, -1.55241787e-02, -1.58655256e-01, -1.14626579e-01, 0.00000000e+00, 2.62168705e-01, 8.41344714e-01, 2.89458919e+00, 6.50000000e+00, 2.50000000e+01], &[0.00000000e+00, -6.63868605e-06, -3.55913565e-02, -4.29492220e-02, -4.22241464e-02, -3.78401250e-01, -8.02668095e-01, -8.37147653e-01, -1.84967175e-01, 4.94113356e-01, 9.37999964e-01]),
    ("softplus", &[9.35762291e-14, 6.71534846e-03, 7.88897350e-02, 3.13261688e-01, 5.54355264e-01, 6.93147182e-01, 9.13015246e-01, 1.31326163e+00, 2.95356274e+00, 6.50150251e+00, 2.50000000e+01], &[4.48628358e-14, 6.23799860e-03, 7.17846006e-02, 1.38639688e-01, -6.71298578e-02, -3.78401250e-01, -5.98641694e-01, -5.64936101e-01, -1.72662094e-01, 4.93371576e-01, 9.37999964e-01]),
    ("softsign", &[-9.67741907e-01, -8.33333313e-01, -7.14285731e-01, -5.00000000e-01, -2.30769247e-01, 0.00000000e+00, 2.85714298e-01, 5.00000000e-01, 7.43589759e-01, 8.66666675e-01, 9.61538434e-01], &[4.98883426e-04, 2.58899927e-02, 7.72489905e-02, 1.28875345e-01, -9.33406502e-02, -7.56802499e-01, -5.10164917e-01, -1.93191126e-01, -1.19764954e-02, 8.78423825e-03, 1.38757750e-03]),
    ("silu", &[-2.80728695e-12, -3.34642529e-02, -1.89645454e-01, -2.68941432e-01, -1.27667248e-01, 0.00000000e+00, 2.39475071e-01, 7.31058598e-01, 2.74875474e+00, 6.49024200e+00, 2.50000000e+01], &[-1.30102233e-12, -2.47432441e-02, -9.40632820e-02, 3.72859500e-02, -5.55611849e-02, -3.78401250e-01, -6.94738626e-01, -7.16870904e-01, -1.98776409e-01, 4.98185813e-01, 9.37999964e-01]),
    ("swish", &[-2.80728695e-12, -3.34642529e-02, -1.89645454e-01, -2.68941432e-01, -1.27667248e-01, 0.00000000e+00, 2.39475071e-01, 7.31058598e-01, 2.74875474e+00, 6.49024200e+00, 2.50000000e+01], &[-1.30102233e-12, -2.47432441e-02, -9.40632820e-02, 3.72859500e-02, -5.55611849e-02, -3.78401250e-01, -6.94738626e-01, -7.16870904e-01, -1.98776409e-01, 4.98185813e-01, 9.37999964e-01]),
    ("hard_sigmoid", &[0.00000000e+00, 0.00000000e+00, 8.33333358e-02, 3.33333343e-01, 4.50000018e-01, 5.00000000e-01, 5.66666663e-01, 6.66666687e-01, 9.83333349e-01, 1.00000000e+00, 1.00000000e+00], &[0.00000000e+00, 0.00000000e+00, 1.57716691e-01, 8.59168991e-02, -2.62909494e-02, -1.26133755e-01, -1.66653872e-01, -1.28794089e-01, -3.03604193e-02, 0.00000000e+00, 0.00000000e+00]),
    ("hard_silu", &[-0.00000000e+00, -0.00000000e+00, -2.08333328e-01, -3.33333343e-01, -1.35000005e-01, 0.00000000e+00, 2.26666674e-01, 6.66666687e-01, 2.85166669e+00, 6.50000000e+00, 2.50000000e+01], &[0.00000000e+00, 0.00000000e+00, -3.15433353e-01, 8.59168917e-02, -6.30982742e-02, -3.78401250e-01, -6.33284688e-01, -6.43970430e-01, -2.67171681e-01, 4.94113356e-01, 9.37999964e-01]),
    ("hard_swish", &[-0.00000000e+00, -0.00000000e+00, -2.08333328e-01, -3.33333343e-01, -1.35000005e-01, 0.00000000e+00, 2.26666674e-01, 6.66666687e-01, 2.85166669e+00, 6.50000000e+00, 2.50000000e+01], &[0.00000000e+00, 0.00000000e+00, -3.15433353e-01, 8.59168917e-02, -6.30982742e-02, -3.78401250e-01, -6.33284688e-01, -6.43970430e-01, -2.67171681e-01, 4.94113356e-01, 9.37999964e-01]),
    ("leaky_relu", &[-6.00000000e+00, -1.00000000e+00, -5.00000000e-01, -2.00000003e-01, -6.00000024e-02, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[9.58851129e-02, 1.86407819e-01, 1.89260021e-01, 1.03100277e-01, -3.15491371e-02, -1.51360497e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
    ("relu6", &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.00000000e+00, 6.00000000e+00], &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 0.00000000e+00, 0.00000000e+00]),
    ("mish", &[-2.80728695e-12, -3.35762352e-02, -1.96816206e-01, -3.03401470e-01, -1.51133180e-01, 0.00000000e+00, 2.89030522e-01, 8.65098357e-01, 2.88426685e+00, 6.49997044e+00, 2.50000000e+01], &[-1.30102222e-12, -2.49297116e-02, -1.03850365e-01, 3.05263102e-02, -6.44408315e-02, -4.54081506e-01, -8.36953223e-01, -8.10657918e-01, -1.86592519e-01, 4.94140178e-01, 9.37999964e-01]),
    ("log_softmax", &[-5.50000000e+01, -3.00000000e+01, -2.75000000e+01, -2.60000000e+01, -2.52999992e+01, -2.50000000e+01, -2.46000004e+01, -2.40000000e+01, -2.21000004e+01, -1.85000000e+01, 0.00000000e+00], &[4.79425550e-01, 9.32039082e-01, 9.46300089e-01, 5.15501380e-01, -1.57745689e-01, -7.56802499e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, -4.97981191e-01]),
    ("exponential", &[9.35762291e-14, 6.73794700e-03, 8.20849985e-02, 3.67879450e-01, 7.40818202e-01, 1.00000000e+00, 1.49182475e+00, 2.71828175e+00, 1.81741467e+01, 6.65141663e+02, 7.20049029e+10], &[4.48628358e-14, 6.28003012e-03, 7.76770413e-02, 1.89642370e-01, -1.16860881e-01, -7.56802499e-01, -1.49171019e+00, -2.10059166e+00, -3.31064820e+00, 3.28655365e+02, 6.75405947e+10]),
    ("linear", &[-3.00000000e+01, -5.00000000e+00, -2.50000000e+00, -1.00000000e+00, -3.00000012e-01, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[4.79425550e-01, 9.32039082e-01, 9.46300089e-01, 5.15501380e-01, -1.57745689e-01, -7.56802499e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
];

#[test]
fn every_activation_matches_keras_values_and_gradients() {
    for &(name, values, grads) in FUNCTIONS {
        let act: Activation = name.parse().unwrap();
        let (y, g) = value_and_grad(&x_row(), |x| act.apply(x).unwrap());
        assert_close(&format!("{name} values"), &y, values);
        assert_close(&format!("{name} gradients"), &g, grads);
    }
    // Every activation is covered, and each name reads back as itself.
    for act in Activation::ALL {
        assert!(FUNCTIONS.iter().any(|(n, ..)| *n == act.name()), "{act} has no Keras numbers");
        assert_eq!(act.to_string().parse::<Activation>().unwrap(), act);
        let json = serde_json::to_string(&act).unwrap();
        assert_eq!(json, format!("\"{}\"", act.name()));
        assert_eq!(serde_json::from_str::<Activation>(&json).unwrap(), act);
    }
}

#[test]
fn keras_aliases_parse_and_unknown_names_list_the_choices() {
    assert_eq!("swish".parse::<Activation>().unwrap(), Activation::Silu);
    assert_eq!("hard_swish".parse::<Activation>().unwrap(), Activation::HardSilu);
    assert_eq!("GELU".parse::<Activation>().unwrap(), Activation::Gelu);
    assert_eq!(serde_json::from_str::<Activation>("\"swish\"").unwrap(), Activation::Silu);
    assert_eq!(serde_json::from_str::<Activation>("\"hard_swish\"").unwrap(), Activation::HardSilu);
    assert_eq!(Activation::Silu.to_string(), "silu");
    let e = "gelu_tanh".parse::<Activation>().unwrap_err().to_string();
    assert!(e.contains("gelu_tanh") && e.contains("leaky_relu") && e.contains("swish"), "{e}");
}

/// `Conv2D(1, 1)` with weight 1 and bias 0 (the identity on one channel) and `conv_act`, then
/// `layer` if any, then `MaxPooling2D(2)`: the model's output and input gradient, and those
/// of `max_pool(layer(conv_act(x)))` computed step by step.
fn conv_then_pool(layer: Option<LayerConfig>, conv_act: Activation, x: &Tensor) -> [(Tensor, Tensor); 2] {
    let mut m = Sequential::new().input_shape([1, 6, 6]).add(Conv2D::new(1, 1).activation(conv_act));
    if let Some(layer) = layer.clone() {
        m = m.add(layer);
    }
    let mut m = m.add(MaxPooling2D::new(2));
    m.build().unwrap();
    set_var(&m, "layers.0.weight", &Tensor::ones([1, 1, 1, 1], (Kind::Float, Device::Cpu)));
    set_var(&m, "layers.0.bias", &Tensor::zeros([1], (Kind::Float, Device::Cpu)));
    let model = value_and_grad(x, |x| m.forward_t(x, false).unwrap());
    let alone = layer.map(|l| one_layer(l, &[1, 6, 6]));
    let direct = value_and_grad(x, |x| {
        let mut y = conv_act.apply(x).unwrap();
        if let Some(alone) = &alone {
            y = alone.forward_t(&y, false).unwrap();
        }
        y.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
    });
    [model, direct]
}

#[test]
fn activations_before_max_pooling_give_what_keras_computes() {
    // Inputs around the activations' bends, with ties in some windows.
    let x = (vals(&[1, 1, 6, 6], 0.4, 3.0) * 4.0).round() / 4.0;
    for act in Activation::ALL.into_iter().filter(|a| !matches!(a, Activation::Softmax | Activation::LogSoftmax)) {
        let [model, direct] = conv_then_pool(None, act, &x);
        assert!(model.0.allclose(&direct.0, 1e-6, 1e-6, false), "{act}: {} vs {}", model.0, direct.0);
        assert!(model.1.allclose(&direct.1, 1e-6, 1e-6, false), "{act} gradients: {} vs {}", model.1, direct.1);
    }
    // Pooling first would differ for a non-monotone activation: the check above can fail.
    let pooled_first = Activation::Gelu.apply(&x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)).unwrap();
    let [model, _] = conv_then_pool(None, Activation::Gelu, &x);
    assert!(!model.0.allclose(&pooled_first, 1e-4, 1e-4, false));
}

#[test]
fn only_softmax_outputs_give_their_logits_to_the_loss() {
    for loss in [Loss::CategoricalCrossentropy, Loss::SparseCategoricalCrossentropy] {
        assert!(loss.uses_logits(Activation::Softmax));
        for act in Activation::ALL.into_iter().filter(|&a| a != Activation::Softmax) {
            assert!(!loss.uses_logits(act), "{loss:?} takes {act}'s inputs as logits");
        }
    }
    assert!(!Loss::BinaryCrossentropy.uses_logits(Activation::HardSigmoid));
}
