//! `fit_source`, `evaluate_source` and `predict_source` with a user-written batch source.
use std::sync::{Arc, Mutex};

use tch::{Device, Kind, Tensor};
use tch_keras::{
    Activation, Batch, BatchSource, Batches, Dense, Error, FitConfig, Loss, Optimizer, ProgbarLogger, Sequential,
    Verbosity,
};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// Batches cut from two tensors in order, of unknown length (like a stream), on the CPU.
struct Stream {
    x: Tensor,
    y: Tensor,
    batch: i64,
}

impl BatchSource for Stream {
    fn num_batches(&self) -> Option<usize> {
        None
    }
    fn epoch(&mut self, _epoch: usize) -> tch_keras::Result<Batches<'_>> {
        let n = self.x.size()[0];
        let (x, y, b) = (self.x.shallow_clone(), self.y.shallow_clone(), self.batch);
        Ok(Box::new((0..n).step_by(b as usize).map(move |s| {
            let len = b.min(n - s);
            Batch::new(x.narrow(0, s, len), y.narrow(0, s, len))
        })))
    }
}

fn problem() -> (Tensor, Tensor) {
    let x = Rng::new(1).randn(&[200, 4]);
    // An integer target for a regression loss: the source's targets are converted for it.
    let y = (x.narrow(1, 0, 1) * 3.0).round().to_kind(Kind::Int64);
    (x, y)
}

fn model() -> Sequential {
    let mut m = Sequential::new().input_shape([4]).add(Dense::new(8).activation(Activation::Relu)).add(Dense::new(1));
    m.compile(Optimizer::adam(0.02), Loss::MeanSquaredError, vec!["mae".parse().unwrap()]).unwrap();
    m
}

/// Collects what a progress display writes.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_stream_of_unknown_length_trains_like_the_same_tensors() {
    let (x, y) = problem();
    let mut streamed = model();
    let mut source = Stream { x: x.shallow_clone(), y: y.shallow_clone(), batch: 50 };
    let sink = Sink::default();
    let progress = ProgbarLogger::to_writer(Verbosity::EpochLine, sink.clone());
    let config = FitConfig { epochs: 5, verbose: Verbosity::EpochLine, progress: Some(progress), ..Default::default() };
    let h = streamed.fit_source(&mut source, config).unwrap();
    let mut tensors = model();
    let config =
        FitConfig { epochs: 5, batch_size: 50, shuffle: false, verbose: Verbosity::Silent, ..Default::default() };
    let h2 = tensors.fit(&x, &y, config).unwrap();
    assert_eq!(h.series("loss").unwrap(), h2.series("loss").unwrap());
    let loss = h.series("loss").unwrap();
    assert!(loss[4] < loss[0] * 0.5, "{loss:?}");
    // The length is learnt from the first epoch: the epoch line shows 4/4 steps.
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("4/4 - "), "{text}");
    // evaluate_source and predict_source see the same numbers as the tensor forms.
    let logs = streamed.evaluate_source(&mut source, vec![]).unwrap();
    let logs2 = tensors.evaluate(&x, &y, 50).unwrap();
    assert!((logs.get("loss").unwrap() - logs2.get("loss").unwrap()).abs() < 1e-6);
    let p = streamed.predict_source(&mut source, vec![]).unwrap();
    let q = streamed.predict(&x, 50).unwrap();
    assert!((p - q).abs().max().double_value(&[]) < 1e-6);
}

#[test]
fn a_source_with_batches_of_the_wrong_shape_is_a_typed_error() {
    let (x, y) = problem();
    let mut m = model();
    let mut source = Stream { x: x.narrow(1, 0, 3), y, batch: 50 };
    let err = m.fit_source(&mut source, FitConfig { verbose: Verbosity::Silent, ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::DataShape { .. }), "{err}");
    assert!(err.to_string().contains("(None, 4)"), "{err}");
}

/// As `fit` on tensors, `fit_source` builds a model given no input shape from the data: the
/// first batch's per-sample shape; it then trains as the same model given that shape.
#[test]
fn fit_source_builds_a_model_without_an_input_shape_from_the_first_batch() {
    let (x, y) = problem();
    let mut shaped = model();
    let mut unshaped = Sequential::new().add(Dense::new(8).activation(Activation::Relu)).add(Dense::new(1));
    unshaped.compile(Optimizer::adam(0.02), Loss::MeanSquaredError, vec!["mae".parse().unwrap()]).unwrap();
    let config = || FitConfig { epochs: 3, verbose: Verbosity::Silent, ..Default::default() };
    let mut source = Stream { x: x.shallow_clone(), y: y.shallow_clone(), batch: 50 };
    let h = unshaped.fit_source(&mut source, config()).unwrap();
    assert_eq!(unshaped.get_input_shape(), Some(&[4i64][..]));
    let h2 = shaped.fit_source(&mut source, config()).unwrap();
    assert_eq!(h.series("loss").unwrap(), h2.series("loss").unwrap(), "the same 4 steps per epoch");
    assert_eq!(unshaped.iterations(), 12);
    // A source with no batches at all has nothing to build from: a typed error.
    let mut empty = Sequential::new().add(Dense::new(1));
    empty.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, vec![]).unwrap();
    let err = empty.fit_source(&mut Listed(vec![]), config()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }) && err.to_string().contains("no batches"), "{err}");
}

/// Yields `batches` as they are, then nothing.
struct Listed(Vec<(Tensor, Tensor)>);

impl BatchSource for Listed {
    fn num_batches(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn epoch(&mut self, _epoch: usize) -> tch_keras::Result<Batches<'_>> {
        Ok(Box::new(self.0.iter().map(|(x, y)| Batch::new(x.shallow_clone(), y.shallow_clone()))))
    }
}

#[test]
fn empty_batches_and_scalar_inputs_are_refused() {
    let opts = (Kind::Float, Device::Cpu);
    let e = Batch::new(Tensor::zeros([0, 4], opts), Tensor::zeros([0, 1], opts)).unwrap_err();
    assert!(e.to_string().contains("0 rows"), "{e}");
    assert!(Batch::inputs(Tensor::zeros([0, 4], opts)).is_err());
    let e = tch_keras::TensorSource::new(Tensor::from(1.0f32), None, 4).unwrap_err();
    assert!(e.to_string().contains("scalar"), "{e}");
    // A source that yields an empty batch: a typed error, no NaN loss, no optimizer step counted.
    let mut m = model();
    let mut source = Listed(vec![
        (Tensor::ones([4, 4], opts), Tensor::ones([4, 1], opts)),
        (Tensor::zeros([0, 4], opts), Tensor::zeros([0, 1], opts)),
    ]);
    let err = m.fit_source(&mut source, FitConfig { verbose: Verbosity::Silent, ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }) && err.to_string().contains("0 rows"), "{err}");
    assert_eq!(m.iterations(), 1, "only the non-empty batch stepped");
}

#[test]
fn a_source_of_no_samples_says_so_and_a_batch_size_near_i64_max_takes_one_batch() {
    let opts = (Kind::Float, Device::Cpu);
    let quiet = || FitConfig { verbose: Verbosity::Silent, ..Default::default() };
    let mut empty =
        tch_keras::TensorSource::new(Tensor::zeros([0, 4], opts), Some(Tensor::zeros([0, 1], opts)), 4).unwrap();
    let e = model().fit_source(&mut empty, quiet()).unwrap_err().to_string();
    assert!(e.contains("no samples") && !e.contains("processes"), "{e}");
    let data = tch_keras::data::TensorDataset::new(Tensor::zeros([0, 4], opts), Tensor::zeros([0, 1], opts)).unwrap();
    let mut loader = tch_keras::data::DataLoader::new(data, 4).unwrap();
    let e = model().fit_source(&mut loader, quiet()).unwrap_err().to_string();
    assert!(e.contains("no samples") && !e.contains("processes"), "{e}");
    // `a + b - 1` overflowed for such a batch size: the source then yielded no batch at all.
    let (x, y) = problem();
    let mut m = model();
    let h = m.fit(&x, &y, FitConfig { batch_size: i64::MAX as usize, ..quiet() }).unwrap();
    assert_eq!((m.iterations(), h.series("loss").map(|l| l.len())), (1, Some(1)));
    let mut whole = tch_keras::TensorSource::new(x, Some(y), i64::MAX as usize).unwrap();
    assert_eq!(whole.num_batches(), Some(1));
    assert_eq!(whole.epoch(0).unwrap().count(), 1);
}

#[test]
fn labels_out_of_range_in_a_later_batch_are_a_typed_error() {
    // Only the first batch's targets were checked: the third batch's label 5 reached LibTorch.
    let opts = (Kind::Float, Device::Cpu);
    let labels = |v: &[i64]| Tensor::from_slice(v);
    let mut source = Listed(vec![
        (Tensor::ones([2, 4], opts), labels(&[0, 1])),
        (Tensor::ones([2, 4], opts), labels(&[2, 1])),
        (Tensor::ones([2, 4], opts), labels(&[1, 5])),
    ]);
    let mut m = classifier();
    let e = m.fit_source(&mut source, FitConfig { verbose: Verbosity::Silent, ..Default::default() }).unwrap_err();
    assert!(matches!(e, Error::Targets { .. }), "{e}");
    assert!(e.to_string().contains("[1, 5]") && e.to_string().contains("[0, 3)"), "{e}");
    assert_eq!(m.iterations(), 2, "the two good batches stepped");
}

fn classifier() -> Sequential {
    let mut m =
        Sequential::new().seed(3).input_shape([4]).add(Dense::new(8).activation(Activation::Relu)).add(Dense::new(3));
    m.compile(Optimizer::adam(0.02), Loss::SparseCategoricalCrossentropyWith { from_logits: true }, vec![]).unwrap();
    m
}

#[test]
fn class_weight_applies_to_a_source_as_to_tensors_and_whole_data_settings_are_refused() {
    let (x, _) = problem();
    let y = x.argmax(-1, false).remainder(3);
    let config = |cw: Vec<(i64, f64)>| FitConfig {
        batch_size: 40,
        epochs: 2,
        shuffle: false,
        class_weight: cw,
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let weights = vec![(0, 5.0), (2, 0.25)];
    let mut on_tensors = classifier();
    let a = on_tensors.fit(&x, &y, config(weights.clone())).unwrap();
    let mut on_source = classifier();
    let mut source = Stream { x: x.shallow_clone(), y: y.shallow_clone(), batch: 40 };
    let b = on_source.fit_source(&mut source, config(weights.clone())).unwrap();
    assert_eq!(a.series("loss"), b.series("loss"), "the same weighted losses");
    let mut unweighted = classifier();
    let c = unweighted.fit_source(&mut source, config(vec![])).unwrap();
    assert_ne!(b.series("loss"), c.series("loss"), "class_weight changes training");
    let probe = Rng::new(2).randn(&[5, 4]);
    assert!(on_tensors.predict(&probe, 32).unwrap().equal(&on_source.predict(&probe, 32).unwrap()));

    // Settings that need the data in memory are refused, naming the setting.
    let w = Tensor::ones([200], (Kind::Float, Device::Cpu));
    let err = on_source.fit_source(&mut source, FitConfig { sample_weight: Some(&w), ..config(vec![]) }).unwrap_err();
    assert!(err.to_string().contains("sample_weight"), "{err}");
    let err = on_source.fit_source(&mut source, FitConfig { validation_split: 0.2, ..config(vec![]) }).unwrap_err();
    assert!(err.to_string().contains("validation_split"), "{err}");
    // class_weight with batches that carry their own weights: refused, as Keras does.
    let mut weighted = tch_keras::TensorSource::new(x.shallow_clone(), Some(y.shallow_clone()), 40)
        .unwrap()
        .with_sample_weight(w.shallow_clone())
        .unwrap();
    let err = on_source.fit_source(&mut weighted, config(weights)).unwrap_err();
    assert!(err.to_string().contains("class_weight"), "{err}");
}

/// Sample weights `[N, 1]` (as Keras takes them) weigh a source's batches as `[N]` ones do.
#[test]
fn sample_weights_of_shape_n_by_1_weigh_source_batches_as_n_weights_do() {
    let (x, _) = problem();
    let y = x.argmax(-1, false).remainder(3);
    let w = Rng::new(5).rand(&[200]).f_mul_scalar(2.0).unwrap();
    let mut model = classifier();
    let mut eval = |w: &Tensor| {
        let mut source = tch_keras::TensorSource::new(x.shallow_clone(), Some(y.shallow_clone()), 64)
            .unwrap()
            .with_sample_weight(w.shallow_clone())
            .unwrap();
        model.evaluate_source(&mut source, vec![]).unwrap()["loss"]
    };
    let (flat, column, unweighted) =
        (eval(&w), eval(&w.view([200, 1])), eval(&Tensor::ones([200], (Kind::Float, Device::Cpu))));
    assert_eq!(flat, column);
    assert_ne!(flat, unweighted, "the weights change the loss");
    let batch = tch_keras::Batch::new(x.narrow(0, 0, 4), y.narrow(0, 0, 4)).unwrap();
    assert!(batch.with_sample_weight(Tensor::ones([4, 1], (Kind::Float, Device::Cpu))).is_ok());
    // Two columns are neither one weight per sample nor one per timestep of these outputs
    // [N, 3]: a batch may carry per-timestep weights, so the step, which knows the outputs,
    // refuses them.
    let mut source = tch_keras::TensorSource::new(x.narrow(0, 0, 4), Some(y.narrow(0, 0, 4)), 4)
        .unwrap()
        .with_sample_weight(Tensor::ones([4, 2], (Kind::Float, Device::Cpu)))
        .unwrap();
    let err = model.evaluate_source(&mut source, vec![]).unwrap_err().to_string();
    assert!(err.contains("[4] (or [4, 1])") && err.contains("[4, 2]"), "{err}");
}
