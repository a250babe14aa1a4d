//! Mixed precision (bf16 autocast over float32 master weights), the TF32 switches and the fused
//! Adam update, on small synthetic tensors on the CPU.
use tch::{Device, Kind, Tensor};
use tch_keras::precision::{self, Tf32};
use tch_keras::{
    load_model, Activation, BatchNormalization, Dense, FitConfig, Loss, Optimizer, Precision, Sequential, Verbosity,
};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

fn dense_model(precision: Precision) -> Sequential {
    let mut m = Sequential::new().input_shape([16]).seed(1).precision(precision).add(Dense::new(4));
    m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    m.build().unwrap();
    m
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn bf16_runs_the_forward_pass_in_bf16_and_returns_float32() {
    let x = Rng::new(3).randn(&[8, 16]);
    let bf16_model = dense_model(Precision::Bf16);
    // The same weights (other tests draw from LibTorch's process-wide generator meanwhile).
    let mut f32_model = dense_model(Precision::F32);
    f32_model.set_weights(&bf16_model.get_weights().unwrap()).unwrap();
    let (w, b) = (&bf16_model.get_weights().unwrap()[1], &bf16_model.get_weights().unwrap()[0]);
    let ours = bf16_model.forward_t(&x, false).unwrap();
    assert_eq!(ours.kind(), Kind::Float);
    // What a bf16 linear layer computes, cast back to float32.
    let bf = |t: &Tensor| t.to_kind(Kind::BFloat16);
    let by_hand = bf(&x).linear(&bf(w), Some(&bf(b))).to_kind(Kind::Float);
    assert!(max_diff(&ours, &by_hand) < 1e-6, "not the bf16 result: {}", max_diff(&ours, &by_hand));
    let full = f32_model.forward_t(&x, false).unwrap();
    let d = max_diff(&ours, &full);
    assert!(d > 1e-4 && d < 0.1, "bf16 output should differ from float32 by rounding only, got {d}");
    // Autocast is switched off again after the forward pass.
    assert!(!precision::autocast_enabled(Device::Cpu));
}

#[test]
fn bf16_training_keeps_float32_master_weights_and_learns() {
    let mut rng = Rng::new(0);
    let x = rng.randn(&[256, 16]);
    let true_w = rng.randn(&[16, 4]);
    let y = x.matmul(&true_w);
    let mut m = dense_model(Precision::Bf16);
    let h = m
        .fit(&x, &y, FitConfig { epochs: 30, batch_size: 32, verbose: Verbosity::Silent, ..Default::default() })
        .unwrap();
    let loss = h.series("loss").unwrap();
    assert!(loss[29] < 0.2 * loss[0], "bf16 training did not learn: {loss:?}");
    for (name, v) in m.variables().unwrap() {
        assert_eq!(v.kind(), Kind::Float, "{name}");
    }
    // Updates smaller than bf16's resolution still accumulate in the float32 master weights.
    let before = m.get_weights().unwrap();
    m.set_learning_rate(1e-6).unwrap();
    m.fit(&x, &y, FitConfig { epochs: 1, batch_size: 256, verbose: Verbosity::Silent, ..Default::default() }).unwrap();
    let after = m.get_weights().unwrap();
    let moved = max_diff(&before[1], &after[1]);
    assert!(moved > 0.0 && moved < 1e-5, "a 1e-6 step moved the weights by {moved}");
}

#[test]
fn bf16_batch_normalization_keeps_float32_moving_statistics() {
    let mut rng = Rng::new(1);
    let x = rng.randn(&[64, 16]) * 3.0 + 1.0;
    let y = rng.randn(&[64, 4]);
    let mut m = Sequential::new()
        .input_shape([16])
        .seed(1)
        .precision(Precision::Bf16)
        .add(BatchNormalization::new())
        .add(Dense::new(4));
    m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    m.fit(&x, &y, FitConfig { epochs: 1, batch_size: 64, verbose: Verbosity::Silent, ..Default::default() }).unwrap();
    let vars = m.variables().unwrap();
    let stat = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.shallow_clone();
    let (mean, var) = (stat("layers.0.running_mean"), stat("layers.0.running_var"));
    assert_eq!((mean.kind(), var.kind()), (Kind::Float, Kind::Float));
    // One update with momentum 0.99 from (0, 1) toward the batch's mean and biased variance
    // (bf16 inputs to the statistics are only rounded, not the float32 input: compare loosely).
    let expected_mean = x.mean_dim(0, false, Kind::Float) * 0.01;
    let expected_var = x.var_correction([0i64].as_slice(), 0i64, false) * 0.01 + 0.99;
    assert!(max_diff(&mean, &expected_mean) < 1e-3, "{mean:?} vs {expected_mean:?}");
    assert!(max_diff(&var, &expected_var) < 1e-2, "{var:?} vs {expected_var:?}");
}

#[test]
fn precision_is_saved_with_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    dense_model(Precision::Bf16).save(&path).unwrap();
    assert_eq!(load_model(&path, Device::Cpu).unwrap().model_precision(), Precision::Bf16);
    dense_model(Precision::F32).save(&path).unwrap();
    assert_eq!(load_model(&path, Device::Cpu).unwrap().model_precision(), Precision::F32);
}

#[test]
fn precision_names_parse_and_unknown_ones_are_refused() {
    assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
    assert_eq!("mixed_bfloat16".parse::<Precision>().unwrap(), Precision::Bf16);
    assert_eq!("F32".parse::<Precision>().unwrap(), Precision::F32);
    let err = "fp8".parse::<Precision>().unwrap_err().to_string();
    assert!(err.contains("fp8") && err.contains("bf16"), "{err}");
}

#[test]
fn tf32_switches_are_set_and_read_back() {
    let before = precision::tf32().unwrap();
    for setting in
        [Tf32 { matmul: true, conv: false }, Tf32 { matmul: false, conv: true }, Tf32 { matmul: true, conv: true }]
    {
        precision::set_tf32(setting).unwrap();
        assert_eq!(precision::tf32().unwrap(), setting);
    }
    precision::set_tf32(before).unwrap();
}

#[test]
fn a_mixed_precision_model_trains_with_activations_and_metrics() {
    let x = Rng::new(2).randn(&[128, 8]);
    let y = x.narrow(1, 0, 3).argmax(1, false).one_hot(3).to_kind(Kind::Float);
    let mut m = Sequential::new()
        .precision(Precision::Bf16)
        .add(Dense::new(16).activation(Activation::Relu))
        .add(Dense::new(3).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec!["accuracy".parse().unwrap()]).unwrap();
    let h = m
        .fit(&x, &y, FitConfig { epochs: 20, batch_size: 16, verbose: Verbosity::Silent, ..Default::default() })
        .unwrap();
    let acc = h.series("accuracy").unwrap();
    assert!(acc[19] > 0.9, "{acc:?}");
    let p = m.predict(&x, 64).unwrap();
    assert_eq!(p.kind(), Kind::Float);
    assert!(
        max_diff(&p.sum_dim_intlist(1, false, Kind::Float), &Tensor::ones([128], (Kind::Float, Device::Cpu))) < 1e-5
    );
}
