//! The lean training step gives the results of the straightforward loop, and the device-side
//! shuffle is a permutation.
use tch::{Device, Kind, Tensor};
use tch_keras::{Activation, BatchSource, Dense, FitConfig, Loss, Optimizer, Sequential, TensorSource, Verbosity};

/// Plain per-parameter Keras Adam with `.backward()`, as one would write it by hand.
fn straightforward_adam(params: &[Tensor], x: &Tensor, y: &Tensor, batch: i64, lr: f64) {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-7);
    let mut m: Vec<Tensor> = params.iter().map(|p| p.zeros_like()).collect();
    let mut v: Vec<Tensor> = params.iter().map(|p| p.zeros_like()).collect();
    let n = x.size()[0];
    for (step, start) in (0..n).step_by(batch as usize).enumerate() {
        let len = batch.min(n - start);
        let (xb, yb) = (x.narrow(0, start, len), y.narrow(0, start, len));
        // params: [b0, w0, b1, w1] as the model orders them.
        let h = xb.linear(&params[1], Some(&params[0])).relu();
        let logits = h.linear(&params[3], Some(&params[2]));
        let loss =
            -(logits.log_softmax(-1, Kind::Float) * &yb).sum_dim_intlist(-1, false, Kind::Float).mean(Kind::Float);
        for p in params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        loss.backward();
        let t = step as i32 + 1;
        tch::no_grad(|| {
            let alpha = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
            for (i, p) in params.iter().enumerate() {
                let g = p.grad();
                m[i] = &m[i] + (&g - &m[i]) * (1.0 - b1);
                v[i] = &v[i] + (&g * &g - &v[i]) * (1.0 - b2);
                let update = &m[i] * alpha / (v[i].sqrt() + eps);
                let mut q = p.shallow_clone();
                q -= &update;
            }
        });
    }
}

/// LibTorch's random generator is process-wide, and these tests check exact reproducibility:
/// they run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn fit_matches_the_straightforward_loop() {
    let _serial = serial();
    tch::manual_seed(0);
    let x = Tensor::randn([100, 6], (Kind::Float, Device::Cpu));
    let labels = x.narrow(1, 0, 3).argmax(1, false);
    let y = labels.one_hot(3).to_kind(Kind::Float);
    let mut model = Sequential::new()
        .input_shape([6])
        .add(Dense::new(8).activation(Activation::Relu))
        .add(Dense::new(3).activation(Activation::Softmax));
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec![]).unwrap();
    model.build().unwrap();
    let params: Vec<Tensor> = model.get_weights().unwrap().into_iter().map(|t| t.set_requires_grad(true)).collect();
    straightforward_adam(&params, &x, &y, 16, 0.01);
    model
        .fit(
            &x,
            &y,
            FitConfig { epochs: 1, batch_size: 16, shuffle: false, verbose: Verbosity::Silent, ..Default::default() },
        )
        .unwrap();
    assert_eq!(model.iterations(), 7);
    for ((name, ours), theirs) in model.variables().unwrap().iter().zip(&params) {
        let diff = (ours - theirs).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "{name} differs by {diff}");
        assert!((ours - theirs.detach()).abs().max().double_value(&[]) < 1e-5);
    }
    // And training moved the weights, so the comparison means something.
    let fresh = {
        let mut m = Sequential::new()
            .input_shape([6])
            .add(Dense::new(8).activation(Activation::Relu))
            .add(Dense::new(3).activation(Activation::Softmax));
        m.build().unwrap();
        m.get_weights().unwrap()
    };
    assert!((&fresh[1] - &params[1]).abs().max().double_value(&[]) > 1e-3);
}

/// The rows of one epoch of a shuffled in-memory source, in the order it visits them.
fn epoch_order(seed: u64, epoch: usize) -> Tensor {
    let rows = Tensor::arange(1000, (Kind::Int64, Device::Cpu)).view([1000, 1]);
    let mut source = TensorSource::new(rows, None, 300).unwrap().shuffled(seed);
    let batches: Vec<Tensor> = source.epoch(epoch).unwrap().map(|b| b.unwrap().x().unwrap()).collect();
    assert_eq!(batches.len(), 4);
    Tensor::cat(&batches, 0).view([-1])
}

#[test]
fn the_device_side_shuffle_is_a_seeded_permutation() {
    let _serial = serial();
    let p = epoch_order(7, 3);
    assert_eq!(p.device(), Device::Cpu);
    let sorted = p.sort(0, false).0;
    assert!(sorted.equal(&Tensor::arange(1000, (Kind::Int64, Device::Cpu))), "not a permutation");
    assert!(!p.equal(&Tensor::arange(1000, (Kind::Int64, Device::Cpu))), "not shuffled");
    assert!(p.equal(&epoch_order(7, 3)), "not reproducible");
    assert!(!p.equal(&epoch_order(7, 4)), "same order every epoch");
    assert!(!p.equal(&epoch_order(8, 3)), "seed ignored");
}

#[test]
fn conv_kernels_live_channels_last_in_the_flat_buffer_on_the_cpu() {
    let _serial = serial();
    let mut m = tch_keras::recipes::mnist_cnn();
    m.build().unwrap();
    let vars = m.variables().unwrap();
    let w = &vars.iter().find(|(n, _)| n == "layers.2.weight").unwrap().1;
    // Seen as [out, in, kh, kw]; stored as [out, kh, kw, in].
    assert_eq!(w.size(), [50, 25, 5, 5]);
    assert_eq!(w.stride(), [625, 1, 125, 25]);
    // Dense kernels keep the row-major layout.
    let d = &vars.iter().find(|(n, _)| n == "layers.5.weight").unwrap().1;
    assert_eq!(d.stride(), [800, 1]);
    // The layout is invisible: weights round-trip through get/set and keep their values.
    let before = m.get_weights().unwrap();
    m.set_weights(&before).unwrap();
    for (a, b) in before.iter().zip(m.get_weights().unwrap()) {
        assert!(a.equal(&b));
    }
}
