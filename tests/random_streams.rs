//! Random streams under `steps_per_epoch`. Alone in its test binary: it reads LibTorch's
//! process-wide generator, which tests running in parallel would reseed.
use tch::{Device, Kind, Tensor};
use tch_keras::{Dense, Dropout, FitConfig, LambdaCallback, Loss, Optimizer, Sequential, Verbosity};

fn data(n: i64) -> (Tensor, Tensor) {
    let x = Tensor::arange(n * 4, (Kind::Float, Device::Cpu)).view([n, 4]) / (n * 4) as f64;
    let y = x.sum_dim_intlist(1, true, Kind::Float);
    (x, y)
}

fn values(model: &Sequential, name: &str) -> Vec<f32> {
    let (_, v) = model.variables().unwrap().iter().find(|(n, _)| n == name).unwrap();
    Vec::<f32>::try_from(v.flatten(0, -1)).unwrap()
}

fn silent<'a>() -> FitConfig<'a> {
    FitConfig { verbose: Verbosity::Silent, shuffle: false, ..Default::default() }
}

fn dropout_model() -> Sequential {
    let mut m =
        Sequential::new().seed(5).input_shape([4]).add(Dense::new(16)).add(Dropout::new(0.5)).add(Dense::new(1));
    m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    m
}

#[test]
fn epochs_that_share_a_pass_draw_their_own_dropout_masks_and_resume_exactly() {
    let (x, y) = data(12); // 3 batches of 4 per pass; one step per epoch
    let config = |epochs, initial_epoch| FitConfig {
        epochs,
        initial_epoch,
        batch_size: 4,
        steps_per_epoch: Some(1),
        shuffle: true,
        ..silent()
    };
    // What the random generator gives at each step's start: what the step's dropout draws from.
    let draws = std::cell::RefCell::new(Vec::new());
    let mut whole = dropout_model();
    {
        let mut probe = LambdaCallback::new().on_train_batch_begin(|_, _| {
            draws.borrow_mut().push(Vec::<f32>::try_from(Tensor::rand([4], (Kind::Float, Device::Cpu))).unwrap());
            Ok(())
        });
        let with_probe = FitConfig {
            epochs: 3,
            batch_size: 4,
            steps_per_epoch: Some(1),
            shuffle: true,
            callbacks: vec![&mut probe],
            ..silent()
        };
        whole.fit(&x, &y, with_probe).unwrap();
    }
    let draws = draws.into_inner();
    assert_eq!(draws.len(), 3);
    assert!(draws[0] != draws[1] && draws[1] != draws[2] && draws[0] != draws[2], "{draws:?}");
    // Stopped after one epoch and resumed: the same weights as the uninterrupted run (one
    // without the probe, whose draws move the generator).
    let mut whole = dropout_model();
    whole.fit(&x, &y, config(3, 0)).unwrap();
    let mut resumed = dropout_model();
    resumed.fit(&x, &y, config(1, 0)).unwrap();
    resumed.fit(&x, &y, config(3, 1)).unwrap();
    for name in ["layers.0.weight", "layers.2.weight"] {
        assert_eq!(values(&whole, name), values(&resumed, name), "{name}");
    }
}
