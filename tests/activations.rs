//! Keras 3's activation functions (`"elu"`, `"gelu"`, `"swish"`, ...) and activation layers
//! (`LeakyReLU`, `ELU`, `PReLU`, `ReLU`, `Softmax`): values and gradients against Keras,
//! names, parameter counts, training, saving, bf16, and the model's shortcuts (a ReLU moved
//! after max pooling, a softmax's logits given to the loss) kept to where they are exact.
//!
//! Reference numbers come from `tests/reference/activations.py` (Keras 3, torch backend).
//! Inputs there and here are `X` or `vals(shape, offset, scale)`: `sin(0.7 * i + offset) * scale`.
use tch::{Device, Kind, Tensor};
use tch_keras::{
    Activation, Conv2D, Dense, FitConfig, LayerConfig, LeakyReLU, Loss, MaxPooling2D, Optimizer, PReLU, ReLU,
    Sequential, Softmax, ELU,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

const X: [f32; 11] = [-30.0, -5.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.9, 6.5, 25.0];

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

/// `(layer, values, gradients)` on `X`, from tests/reference/activations.py.
#[rustfmt::skip]
fn layer_cases() -> Vec<(LayerConfig, &'static [f64], &'static [f64])> {
    vec![
        // Keras: LeakyReLU()
        (LeakyReLU::new().into(), &[-9.00000000e+00, -1.50000000e+00, -7.50000000e-01, -3.00000012e-01, -9.00000036e-02, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[1.43827677e-01, 2.79611737e-01, 2.83890039e-01, 1.54650420e-01, -4.73237075e-02, -2.27040753e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: LeakyReLU(0.1)
        (LeakyReLU::new().negative_slope(0.1).into(), &[-3.00000000e+00, -5.00000000e-01, -2.50000000e-01, -1.00000001e-01, -3.00000012e-02, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[4.79425564e-02, 9.32039097e-02, 9.46300104e-02, 5.15501387e-02, -1.57745685e-02, -7.56802484e-02, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: ELU()
        (ELU::new().into(), &[-1.00000000e+00, -9.93262053e-01, -9.17914987e-01, -6.32120550e-01, -2.59181798e-01, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[4.48628358e-14, 6.28003012e-03, 7.76770413e-02, 1.89642370e-01, -1.16860881e-01, -7.56802499e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: ELU(0.5)
        (ELU::new().alpha(0.5).into(), &[-5.00000000e-01, -4.96631026e-01, -4.58957493e-01, -3.16060275e-01, -1.29590899e-01, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[2.24314179e-14, 3.14001506e-03, 3.88385206e-02, 9.48211849e-02, -5.84304407e-02, -3.78401250e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: ReLU()
        (ReLU::new().into(), &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: ReLU(max_value=6)
        (ReLU::new().max_value(6.0).into(), &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.00000000e+00, 6.00000000e+00], &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 0.00000000e+00, 0.00000000e+00]),
        // Keras: ReLU(max_value=2.5)
        (ReLU::new().max_value(2.5).into(), &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.50000000e+00, 2.50000000e+00, 2.50000000e+00], &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, -9.99923229e-01, -7.72764504e-01, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00]),
        // Keras: ReLU(negative_slope=0.2)
        (ReLU::new().negative_slope(0.2).into(), &[-6.00000000e+00, -1.00000000e+00, -5.00000000e-01, -2.00000003e-01, -6.00000024e-02, 0.00000000e+00, 4.00000006e-01, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[9.58851129e-02, 1.86407819e-01, 1.89260021e-01, 1.03100277e-01, -3.15491371e-02, -1.51360497e-01, -9.99923229e-01, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: ReLU(threshold=1)
        (ReLU::new().threshold(1.0).into(), &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: ReLU(4, 0.1, 0.5)
        (ReLU::new().max_value(4.0).negative_slope(0.1).threshold(0.5).into(), &[-3.04999995e+00, -5.50000012e-01, -3.00000012e-01, -1.50000006e-01, -8.00000057e-02, -5.00000007e-02, -9.99999978e-03, 1.00000000e+00, 2.90000010e+00, 4.00000000e+00, 4.00000000e+00], &[4.79425564e-02, 9.32039097e-02, 9.46300104e-02, 5.15501387e-02, -1.57745685e-02, -7.56802484e-02, -9.99923274e-02, -7.72764504e-01, -1.82162508e-01, 0.00000000e+00, 0.00000000e+00]),
        // Keras: ReLU(None, 0.1, 0.5)
        (ReLU::new().negative_slope(0.1).threshold(0.5).into(), &[-3.04999995e+00, -5.50000012e-01, -3.00000012e-01, -1.50000006e-01, -8.00000057e-02, -5.00000007e-02, -9.99999978e-03, 1.00000000e+00, 2.90000010e+00, 6.50000000e+00, 2.50000000e+01], &[4.79425564e-02, 9.32039097e-02, 9.46300104e-02, 5.15501387e-02, -1.57745685e-02, -7.56802484e-02, -9.99923274e-02, -7.72764504e-01, -1.82162508e-01, 4.94113356e-01, 9.37999964e-01]),
        // Keras: Softmax()
        (Softmax::new().into(), &[1.29958149e-24, 9.35762291e-14, 1.13999186e-12, 5.10908893e-12, 1.02884498e-11, 1.38879437e-11, 2.07183697e-11, 3.77513437e-11, 2.52401405e-10, 9.23744992e-09, 1.00000000e+00], &[-5.95954832e-25, -5.57796819e-16, 9.46207546e-15, -2.15858277e-12, -1.12735246e-11, -2.35373214e-11, -4.01506085e-11, -6.45836579e-11, -2.82730589e-10, -4.10038048e-09, 0.00000000e+00]),
    ]
}
// Softmax(axis=1) on vals([2, 3, 4], 0.1, 3.0)
#[rustfmt::skip]
const SOFTMAX_AXIS1: (&[f64], &[f64]) = (&[3.75749201e-01, 8.36317539e-01, 6.89635575e-01, 3.60555708e-01, 5.70874631e-01, 2.57743206e-02, 2.21484038e-03, 1.79568084e-03, 5.33762053e-02, 1.37908116e-01, 3.08149576e-01, 6.37648642e-01, 3.53128850e-01, 1.52554944e-01, 7.03499690e-02, 6.59118500e-03, 1.83916930e-03, 1.56291276e-02, 4.13966924e-01, 9.67956841e-01, 6.45031929e-01, 8.31815958e-01, 5.15683115e-01, 2.54519824e-02], &[1.49945691e-01, 8.69120508e-02, 4.73658508e-03, -9.69294608e-02, -1.35932848e-01, -4.08502147e-02, -4.29536216e-03, -2.79605342e-03, -1.40128611e-02, -4.60617840e-02, -4.41233948e-04, 9.97254923e-02, -9.80073065e-02, -8.38652924e-02, -5.80968075e-02, -1.24378633e-02, -2.83332169e-03, -8.45560431e-03, 1.86501056e-01, 5.48257977e-02, 1.00840680e-01, 9.23208892e-02, -1.28404260e-01, -4.23879065e-02]);
// PReLU(shared_axes=[2, 3]) on vals([2, 3, 4, 5], 0.1, 2.0), alpha vals([3, 1, 1], 0.3)
#[rustfmt::skip]
const PRELU_SHARED: (&[f64], &[f64]) = (&[1.99666828e-01, 1.43471217e+00, 1.99498999e+00, 1.61699283e+00, 4.78498667e-01, -2.61547476e-01, -5.41491091e-01, -5.66763043e-01, -3.25477421e-01, 2.33098403e-01, 1.45793808e+00, 1.99708664e+00, 1.59697425e+00, 4.45779830e-01, -2.70422220e-01, -5.45397580e-01, -5.63863933e-01, -3.17136288e-01, 2.66464084e-01, 1.48075175e+00, 1.99861872e+00, 1.57650411e+00, 4.12934959e-01, -7.95058727e-01, -1.56366169e+00, -1.59685016e+00, -8.79015028e-01, 2.99754411e-01, 1.50314689e+00, 1.99958575e+00, 1.55558836e+00, 3.79973352e-01, -8.19886386e-01, -1.57390404e+00, -1.58768988e+00, -8.54760468e-01, 3.32960010e-01, 1.52511692e+00, 1.99998748e+00, 1.53423274e+00, 3.46904308e-01, -9.95213568e-01, -1.86637545e+00, -1.85975182e+00, -9.78457808e-01, 3.66071463e-01, 1.54665577e+00, 1.99982369e+00, 1.51244330e+00, 3.13737184e-01, -1.02391815e+00, -1.87739372e+00, -1.84790170e+00, -9.49312627e-01, 3.99079412e-01, 1.56775737e+00, 1.99909461e+00, 1.49022627e+00, 2.80481368e-01, -1.05233324e+00, -5.62596440e-01, -5.46995282e-01, -2.74133712e-01, 4.31974530e-01, 1.58841574e+00, 1.99780023e+00, 1.46758795e+00, 2.47146249e-01, -3.21978807e-01, -5.65562665e-01, -5.43153584e-01, -2.65290856e-01, 4.64747518e-01, 1.60862494e+00, 1.99594092e+00, 1.44453478e+00, 2.13741243e-01, -3.30266923e-01, -5.68369031e-01, -5.39158285e-01, -7.30002165e-01, 4.97389108e-01, 1.62837946e+00, 1.99351752e+00, 1.42107308e+00, 1.80275828e-01, -9.63743448e-01, -1.62592018e+00, -1.52340114e+00, -7.04402864e-01, 5.29890060e-01, 1.64767349e+00, 1.99053037e+00, 1.39720964e+00, 1.46759421e-01, -9.86804783e-01, -1.63299370e+00, -1.51116014e+00, -6.78604364e-01, 5.62241256e-01, 1.66650176e+00, 1.98698044e+00, 1.37295115e+00, 1.13201536e-01, -1.18978810e+00, -1.93225825e+00, -1.76595724e+00, -7.69098818e-01, 5.94433427e-01, 1.68485880e+00, 1.98286879e+00, 1.34830451e+00, 7.96116367e-02, -1.21630061e+00, -1.93950403e+00, -1.75052845e+00, -7.38251984e-01, 6.26457572e-01, 1.70273948e+00, 1.97819650e+00], &[4.79425550e-01, 9.32039082e-01, 9.46300089e-01, 5.15501380e-01, -1.57745689e-01, -2.23650441e-01, -2.95497537e-01, -2.28367537e-01, -5.38327023e-02, 4.94113356e-01, 9.37999964e-01, 9.40730572e-01, 5.01020849e-01, -1.74326777e-01, -2.26866677e-01, -2.95517325e-01, -2.25181550e-01, -4.89393808e-02, 5.08661449e-01, 9.43695664e-01, 9.34895039e-01, 4.86398697e-01, -1.90858588e-01, -6.54960692e-01, -8.41281176e-01, -6.31933928e-01, -1.25378355e-01, 5.23065746e-01, 9.49124575e-01, 9.28795218e-01, 4.71639007e-01, -2.07336426e-01, -6.63750827e-01, -8.40861738e-01, -6.22502208e-01, -1.11370161e-01, 5.37322164e-01, 9.54285085e-01, 9.22432840e-01, 4.56745982e-01, -2.23755643e-01, -7.92361498e-01, -9.90172386e-01, -7.22289741e-01, -1.14702947e-01, 5.51426709e-01, 9.59175825e-01, 9.15809631e-01, 4.41723794e-01, -2.40111604e-01, -8.02275479e-01, -9.89117980e-01, -7.10762918e-01, -9.81248915e-02, 5.65375268e-01, 9.63795364e-01, 9.08927441e-01, 4.26576763e-01, -2.56399661e-01, -8.11962605e-01, -2.94363678e-01, -2.08315343e-01, -2.42930278e-02, 5.79164028e-01, 9.68142450e-01, 9.01788354e-01, 4.11309093e-01, -2.72615254e-01, -2.44786605e-01, -2.93882936e-01, -2.04761520e-01, -1.93375628e-02, 5.92789054e-01, 9.72215772e-01, 8.94394279e-01, 3.95925164e-01, -2.88753748e-01, -2.47535780e-01, -2.93319046e-01, -2.01149777e-01, -4.09363471e-02, 6.06246412e-01, 9.76014256e-01, 8.86747301e-01, 3.80429268e-01, -3.04810613e-01, -7.12467849e-01, -8.33361626e-01, -5.62312424e-01, -2.67989021e-02, 6.19532466e-01, 9.79536772e-01, 8.78849685e-01, 3.64825815e-01, -3.20781320e-01, -7.19895184e-01, -8.31284285e-01, -5.51707387e-01, -1.26538826e-02, 6.32643282e-01, 9.82782364e-01, 8.70703518e-01, 3.49119246e-01, -3.36661309e-01, -8.56902301e-01, -9.76934910e-01, -6.37499750e-01, 1.76150701e-03, 6.45575285e-01, 9.85750079e-01, 8.62311244e-01, 3.33313942e-01, -3.52446109e-01, -8.65173221e-01, -9.73933578e-01, -6.24637783e-01, 1.84349865e-02, 6.58324718e-01, 9.88439143e-01, 8.53675127e-01]);
// PReLU fit: alpha after 2 epochs
const PRELU_ALPHA_AFTER_FIT: &[f64] = &[-3.26866135e-02, -4.23342735e-02, 2.32875384e-02];

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

#[test]
fn activation_layers_match_keras_values_and_gradients() {
    for (layer, values, grads) in layer_cases() {
        let what = format!("{layer:?}");
        let m = one_layer(layer, &[11]);
        let (y, g) = value_and_grad(&x_row(), |x| m.forward_t(x, false).unwrap());
        assert_close(&format!("{what} values"), &y, values);
        assert_close(&format!("{what} gradients"), &g, grads);
    }
    let m = one_layer(Softmax::new().axis(1), &[3, 4]);
    let (y, g) = value_and_grad(&vals(&[2, 3, 4], 0.1, 3.0), |x| m.forward_t(x, false).unwrap());
    assert_close("Softmax(axis=1) values", &y, SOFTMAX_AXIS1.0);
    assert_close("Softmax(axis=1) gradients", &g, SOFTMAX_AXIS1.1);
    let m = one_layer(PReLU::new().shared_axes([2, 3]), &[3, 4, 5]);
    set_var(&m, "layers.0.alpha", &vals(&[3, 1, 1], 0.3, 1.0));
    let (y, g) = value_and_grad(&vals(&[2, 3, 4, 5], 0.1, 2.0), |x| m.forward_t(x, false).unwrap());
    assert_close("PReLU values", &y, PRELU_SHARED.0);
    assert_close("PReLU gradients", &g, PRELU_SHARED.1);
}

#[test]
fn layer_names_and_parameter_counts_are_keras_s() {
    // Keras: [leaky_re_lu, p_re_lu 60, re_lu, elu, softmax, p_re_lu_1 3, leaky_re_lu_1], 63
    // parameters (tests/reference/activations.py; its names carry the script's earlier counts).
    let mut m = Sequential::new()
        .input_shape([3, 4, 5])
        .add(LeakyReLU::new())
        .add(PReLU::new())
        .add(ReLU::new())
        .add(ELU::new())
        .add(Softmax::new())
        .add(PReLU::new().shared_axes([2, 3]))
        .add(LeakyReLU::new());
    assert_eq!(m.count_params().unwrap(), 63);
    assert_eq!(m.layer_names(), ["leaky_re_lu", "p_re_lu", "re_lu", "elu", "softmax", "p_re_lu_1", "leaky_re_lu_1"]);
    let summary = m.summary().unwrap();
    assert!(summary.contains("p_re_lu (PReLU)") && summary.contains("leaky_re_lu (LeakyReLU)"), "{summary}");
    let alpha: Vec<_> = m.variables().unwrap().iter().map(|(n, t)| (n.clone(), t.size())).collect();
    assert_eq!(alpha, [("layers.1.alpha".to_string(), vec![3, 4, 5]), ("layers.5.alpha".to_string(), vec![3, 1, 1])]);
}

#[test]
fn prelu_learns_its_alpha_as_keras_does() {
    // Keras: Dense(3) -> PReLU, SGD(0.1), mse, 2 epochs of one batch of 5; losses
    // [8.204889297485352, 5.041463375091553] (tests/reference/activations.py).
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(3)).add(PReLU::new());
    m.build().unwrap();
    set_var(&m, "layers.0.weight", &vals(&[3, 4], 0.2, 1.0));
    set_var(&m, "layers.0.bias", &vals(&[3], 0.3, 1.0));
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    let config = FitConfig {
        epochs: 2,
        batch_size: 5,
        shuffle: false,
        verbose: tch_keras::Verbosity::Silent,
        ..Default::default()
    };
    let h = m.fit(&vals(&[5, 4], 0.1, 2.0), &vals(&[5, 3], 0.9, 1.0), config).unwrap();
    let losses = h.series("loss").unwrap();
    assert_close("losses", &Tensor::from_slice(&losses), &[8.204889297485352, 5.041463375091553]);
    let alpha = &m.variables().unwrap().iter().find(|(n, _)| n == "layers.1.alpha").unwrap().1;
    assert_close("alpha after fit", alpha, PRELU_ALPHA_AFTER_FIT);
}

/// A model with every new layer and some new activation strings.
fn mixed_model() -> Sequential {
    Sequential::new()
        .input_shape([2, 6, 6])
        .add(Conv2D::new(3, 3).activation("elu".parse().unwrap()))
        .add(PReLU::new().shared_axes([2, 3]).alpha_initializer(0.25))
        .add(MaxPooling2D::new(2))
        .add(ReLU::new().max_value(4.0).negative_slope(0.1).threshold(0.2))
        .add(LeakyReLU::new())
        .add(ELU::new().alpha(0.7))
        .add(Softmax::new().axis(1))
        .add(tch_keras::Flatten::new())
        .add(Dense::new(5).activation("swish".parse().unwrap()))
        .add(Dense::new(4).activation(Activation::Mish))
        .add(Softmax::new())
}

#[test]
fn models_with_activation_layers_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = mixed_model();
    m.build().unwrap();
    let x = vals(&[3, 2, 6, 6], 0.1, 1.5);
    let before = m.forward_t(&x, false).unwrap();
    let path = dir.path().join("acts.safetensors");
    m.save(&path).unwrap();
    let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    assert!(loaded.forward_t(&x, false).unwrap().equal(&before));
    // The configuration is Keras's class names and fields.
    let json = serde_json::to_string(&m.layers()).unwrap();
    for part in
        ["\"PReLU\"", "\"shared_axes\":[2,3]", "\"LeakyReLU\"", "\"negative_slope\":0.3", "\"swish\"", "\"silu\""]
    {
        assert_eq!(json.contains(part), part != "\"swish\"", "{part} in {json}");
    }
}

#[test]
fn activation_layers_refuse_bad_options_naming_them() {
    let cases: [(LayerConfig, &str); 5] = [
        (ReLU::new().max_value(-1.0).into(), "max_value"),
        (ReLU::new().threshold(-0.5).into(), "threshold"),
        (LeakyReLU::new().negative_slope(-0.1).into(), "negative_slope"),
        (PReLU::new().shared_axes([3]).into(), "shared axis 3"),
        (Softmax::new().axis(0).into(), "axis 0"),
    ];
    for (layer, part) in cases {
        let mut m = Sequential::new().input_shape([4, 5]).add(layer);
        let e = m.build().unwrap_err().to_string();
        assert!(e.contains(part), "{e}");
    }
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
    // The same through the activation layers.
    let layers: [LayerConfig; 5] = [
        ReLU::new().into(),
        ReLU::new().max_value(6.0).into(),
        ReLU::new().negative_slope(0.1).threshold(0.5).into(),
        LeakyReLU::new().into(),
        PReLU::new().into(),
    ];
    for layer in layers {
        let what = format!("{layer:?}");
        let [model, direct] = conv_then_pool(Some(layer), Activation::Linear, &x);
        assert!(model.0.allclose(&direct.0, 1e-6, 1e-6, false), "{what}: {} vs {}", model.0, direct.0);
        assert!(model.1.allclose(&direct.1, 1e-6, 1e-6, false), "{what} gradients: {} vs {}", model.1, direct.1);
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
    // A final Softmax layer (last axis) is the softmax activation; over another axis it is not.
    use tch_keras::layers::LayerSpec;
    assert_eq!(Softmax::new().activation(), Activation::Softmax);
    assert_eq!(Softmax::new().axis(1).activation(), Activation::Linear);
    // Trained with categorical cross-entropy, a Dense + Softmax layer model and a
    // Dense(.., "softmax") model with the same weights give the same losses.
    let x = vals(&[8, 4], 0.1, 2.0);
    let y = tch_keras::to_categorical(&Tensor::from_slice(&[0i64, 2, 1, 2, 0, 1, 1, 0]), 3).unwrap();
    let mut losses = Vec::new();
    for m in [
        Sequential::new().input_shape([4]).add(Dense::new(3)).add(Softmax::new()),
        Sequential::new().input_shape([4]).add(Dense::new(3).activation(Activation::Softmax)),
    ] {
        let mut m = m;
        m.build().unwrap();
        set_var(&m, "layers.0.weight", &vals(&[3, 4], 0.2, 1.0));
        set_var(&m, "layers.0.bias", &vals(&[3], 0.3, 1.0));
        m.compile(Optimizer::sgd(0.5), Loss::CategoricalCrossentropy, ["accuracy"]).unwrap();
        let config = FitConfig {
            epochs: 3,
            batch_size: 4,
            shuffle: false,
            verbose: tch_keras::Verbosity::Silent,
            ..Default::default()
        };
        losses.push(m.fit(&x, &y, config).unwrap().series("loss").unwrap());
    }
    assert_eq!(losses[0], losses[1]);
}

#[test]
fn activations_run_under_bf16_autocast() {
    let mut m = mixed_model();
    m.build().unwrap();
    let x = vals(&[3, 2, 6, 6], 0.1, 1.5);
    let full = m.forward_t(&x, false).unwrap();
    m.set_precision(tch_keras::Precision::Bf16);
    let mixed = m.forward_t(&x, false).unwrap();
    assert_eq!(mixed.kind(), Kind::Float);
    let diff = f64::try_from((&mixed - &full).abs().max()).unwrap();
    assert!(diff < 0.05, "bf16 differs from float32 by {diff}");
    for act in Activation::ALL {
        let mut m = Sequential::new().input_shape([11]).add(Dense::new(11).activation(act));
        m.build().unwrap();
        m.set_precision(tch_keras::Precision::Bf16);
        let y = m.forward_t(&(x_row() / 10.0), false).unwrap();
        assert!(bool::try_from(y.isfinite().all()).unwrap(), "{act} under bf16: {y}");
    }
}
