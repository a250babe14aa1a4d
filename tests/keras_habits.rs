//! Keras spellings that compile and behave as a Keras user expects: `logs["acc"]`, tuple kernel
//! and pool sizes, metric names in `compile`, callbacks at the crate root, closures that borrow
//! locals, error messages from `fn main() -> Result`, layout hints, the default device, the
//! file extension of `save`.
use tch::{Device, Kind, Tensor};
use tch_keras::{
    data, load_model, to_categorical, AveragePooling2D, Conv2D, CsvLogger, Dense, EarlyStopping, Error, FitConfig,
    Flatten, LambdaCallback, LearningRateScheduler, Logs, Loss, MaxPooling2D, Metric, ModelCheckpoint, Optimizer,
    ReduceLROnPlateau, Reshape, Sequential, TensorBoard, TerminateOnNaN, UpSampling2D, Verbosity,
};

/// The first `n` MNIST training images `[n, 784]` and their one-hot labels.
fn mnist(n: i64) -> (Tensor, Tensor) {
    let m = data::load(data::DatasetKind::Mnist, None).expect("MNIST: run scripts/setup.sh");
    let x = m.train_images.narrow(0, 0, n);
    let y = to_categorical(&m.train_labels.narrow(0, 0, n), 10).unwrap();
    (x, y)
}

fn quiet<'a>() -> FitConfig<'a> {
    FitConfig { epochs: 2, batch_size: 64, verbose: Verbosity::Silent, ..Default::default() }
}

#[test]
fn logs_index_by_name_like_a_dict() {
    let mut logs = Logs::new();
    logs.insert("loss", 0.5);
    logs.insert("acc", 0.75);
    assert_eq!(logs["acc"], 0.75);
    assert_eq!(logs["loss"], 0.5);
    assert_eq!(logs.get("val_acc"), None);
}

#[test]
#[should_panic(expected = "no 'accuracy' in these logs (keys: loss, acc)")]
fn logs_index_of_a_missing_key_panics_naming_the_keys() {
    let mut logs = Logs::new();
    logs.insert("loss", 0.5);
    logs.insert("acc", 0.75);
    let _ = logs["accuracy"];
}

#[test]
fn kernel_and_pool_sizes_take_keras_tuples() {
    assert_eq!(Conv2D::new(25, (4, 4)), Conv2D::new(25, 4));
    assert_eq!(Conv2D::new(8, (3, 5)).kernel_size, [3, 5]);
    assert_eq!(Conv2D::new(8, [3, 5]).strides((1, 2)).strides, [1, 2]);
    assert_eq!(MaxPooling2D::new((2, 2)), MaxPooling2D::new(2));
    assert_eq!(MaxPooling2D::new((2, 3)).strides, [2, 3]);
    assert_eq!(AveragePooling2D::new((3, 1)).pool_size, [3, 1]);
    assert_eq!(UpSampling2D::new((2, 3)).size, [2, 3]);

    // A non-square kernel and pool give Keras's output shape: 28x28 -> conv (3, 5) -> 26x24
    // -> pool (2, 3) -> 13x8.
    let mut model = Sequential::new()
        .device(Device::Cpu)
        .input_shape([1, 28, 28])
        .add(Conv2D::new(4, (3, 5)))
        .add(MaxPooling2D::new((2, 3)));
    let out = model.predict(&Tensor::zeros([2, 1, 28, 28], (Kind::Float, Device::Cpu)), 32).unwrap();
    assert_eq!(out.size(), [2, 4, 13, 8]);
}

#[test]
fn compile_takes_metric_names_and_refuses_unknown_ones() {
    let (x, y) = mnist(512);
    let mut model =
        Sequential::new().device(Device::Cpu).add(Dense::new(10).activation(tch_keras::Activation::Softmax));
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, ["accuracy", "mse"]).unwrap();
    let history = model.fit(&x, &y, quiet()).unwrap();
    let last = history.last().unwrap();
    assert!(last["accuracy"] > 0.5, "{last}");
    assert!(last.get("mse").is_some(), "{last}");

    let err = model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, ["acuracy"]).unwrap_err();
    assert!(err.to_string().contains("acuracy"), "{err}");

    // The forms that worked before still compile.
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec!["acc".parse().unwrap()]).unwrap();
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, vec![]).unwrap();
    let names: &[&str] = &["acc"]; // a slice of names, e.g. from a command line
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, names).unwrap();
    assert_eq!(model.compiled().unwrap().2[0].name, "acc");
}

#[test]
fn callbacks_are_at_the_crate_root_and_closures_borrow_locals() {
    let dir = tempfile::tempdir().unwrap();
    let _ = (
        EarlyStopping::new("loss", 2),
        ModelCheckpoint::new(dir.path().join("m.safetensors").to_str().unwrap()).unwrap(),
        CsvLogger::new(dir.path().join("log.csv")),
        LearningRateScheduler::new(|_epoch, lr| lr),
        ReduceLROnPlateau::new("loss", 0.5, 2),
        TerminateOnNaN::new(),
        TensorBoard::new(dir.path().join("tb")),
    );

    let (x, y) = mnist(512);
    let mut model =
        Sequential::new().device(Device::Cpu).add(Dense::new(10).activation(tch_keras::Activation::Softmax));
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, ["acc"]).unwrap();
    let mut losses: Vec<f64> = Vec::new(); // a local, not 'static
    let mut record = LambdaCallback::new().on_epoch_end(|_model, _epoch, logs| {
        losses.push(logs["loss"]);
        Ok(())
    });
    let history = model.fit(&x, &y, FitConfig { callbacks: vec![&mut record], ..quiet() }).unwrap();
    drop(record);
    assert_eq!(Some(losses), history.series("loss"));
}

#[test]
fn errors_print_their_message_under_debug_as_main_shows_them() {
    let err = Sequential::new().save_weights("/nonexistent-dir/x.safetensors").unwrap_err();
    assert_eq!(format!("{err:?}"), err.to_string());
    assert!(!format!("{err:?}").contains('{'), "{err:?}");
}

#[test]
fn predict_on_one_sample_says_to_add_the_batch_axis() {
    let mut model = Sequential::new().device(Device::Cpu).input_shape([784]).add(Dense::new(10));
    let err = model.predict(&Tensor::zeros([784], (Kind::Float, Device::Cpu)), 32).unwrap_err();
    assert!(matches!(err, Error::DataShape { .. }), "{err}");
    assert!(err.to_string().contains("add the batch axis (unsqueeze(0))"), "{err}");
}

#[test]
fn forward_t_checks_and_converts_its_input_as_predict_does() {
    let mut model = Sequential::new().device(Device::Cpu).input_shape([4]).add(Dense::new(3));
    model.build().unwrap();
    // A wrong feature count reached LibTorch's matmul ("mat1 and mat2 shapes cannot be multiplied").
    let err = model.forward_t(&Tensor::zeros([2, 5], (Kind::Float, Device::Cpu)), false).unwrap_err();
    assert!(matches!(err, Error::DataShape { .. }), "{err}");
    assert!(err.to_string().contains("(None, 4)") && err.to_string().contains("(2, 5)"), "{err}");
    let err = model.forward_t(&Tensor::zeros([4], (Kind::Float, Device::Cpu)), false).unwrap_err();
    assert!(err.to_string().contains("unsqueeze(0)"), "{err}");
    // float64 and integer inputs ("mat1 and mat2 must have the same dtype") compute in float32.
    let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0]).reshape([1, 4]);
    let want = model.forward_t(&x.to_kind(Kind::Float), false).unwrap();
    for kind in [Kind::Double, Kind::Int64] {
        let got = model.forward_t(&x.to_kind(kind), false).unwrap();
        assert_eq!(got.kind(), Kind::Float);
        assert!(got.allclose(&want, 1e-6, 1e-6, false), "{kind:?}");
    }
}

#[test]
fn channels_last_images_say_tch_keras_is_channels_first() {
    let mut model = Sequential::new()
        .device(Device::Cpu)
        .input_shape([1, 28, 28])
        .add(Conv2D::new(4, 3))
        .add(Flatten::new())
        .add(Dense::new(10));
    let err = model.predict(&Tensor::zeros([5, 28, 28, 1], (Kind::Float, Device::Cpu)), 32).unwrap_err();
    assert!(err.to_string().contains("tch-keras is channels-first: permute to [5, 1, 28, 28]"), "{err}");
    let err = model.predict(&Tensor::zeros([28, 28, 1], (Kind::Float, Device::Cpu)), 32).unwrap_err();
    assert!(err.to_string().contains("channels-first: permute to [1, 28, 28]"), "{err}");
    assert!(err.to_string().contains("unsqueeze(0)"), "{err}");

    // fit on channels-last images says the same.
    let (x, y) = mnist(64);
    let x = x.reshape([64, 28, 28, 1]);
    model.compile(Optimizer::adam(0.01), Loss::CategoricalCrossentropy, ["acc"]).unwrap();
    let err = model.fit(&x, &y, quiet()).unwrap_err();
    assert!(err.to_string().contains("tch-keras is channels-first: permute to [64, 1, 28, 28]"), "{err}");
}

#[test]
fn the_default_device_is_cuda_when_usable() {
    assert_eq!(Sequential::new().model_device(), Device::cuda_if_available());
}

#[test]
fn save_refuses_another_formats_extension_and_load_model_picks_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut model =
        Sequential::new().device(Device::Cpu).input_shape([4]).add(Reshape::new([2, 2])).add(Flatten::new());
    model.push(Dense::new(3));
    model.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    for name in ["model.keras", "weights.h5", "model.pt"] {
        let path = dir.path().join(name);
        let err = model.save(&path).unwrap_err();
        assert!(matches!(err, Error::FileExtension { .. }), "{err}");
        assert!(err.to_string().contains(".safetensors"), "{err}");
        assert!(!path.exists());
        assert!(matches!(model.save_weights(&path).unwrap_err(), Error::FileExtension { .. }));
    }
    let path = dir.path().join("model.safetensors");
    model.save(&path).unwrap();
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 4]);
    let expected = model.predict(&x, 1).unwrap();
    let mut auto = load_model(&path, None).unwrap();
    assert_eq!(auto.model_device(), Device::cuda_if_available());
    assert!(auto.predict(&x, 1).unwrap().to_device(Device::Cpu).allclose(&expected, 1e-6, 1e-6, false));
    let mut cpu = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(cpu.predict(&x, 1).unwrap(), expected);
}

#[test]
fn to_categorical_takes_the_label_shapes_and_float_labels_keras_takes() {
    // tests/reference/keras_habits.py (Keras 3.15.1): float labels, (N, 1) labels and (N, T)
    // labels are one-hot encoded along a new last axis.
    let cpu = Device::Cpu;
    let cases: [(Tensor, Vec<i64>, Vec<f32>); 3] = [
        (Tensor::from_slice(&[1.0f32, 0.0, 2.0]), vec![3, 3], vec![0., 1., 0., 1., 0., 0., 0., 0., 1.]),
        (Tensor::from_slice(&[1i64, 0, 2]).view([3, 1]), vec![3, 3], vec![0., 1., 0., 1., 0., 0., 0., 0., 1.]),
        (
            Tensor::from_slice(&[0i64, 1, 2, 0]).view([2, 2]),
            vec![2, 2, 3],
            vec![1., 0., 0., 0., 1., 0., 0., 0., 1., 1., 0., 0.],
        ),
    ];
    for (labels, shape, keras) in cases {
        let y = to_categorical(&labels.to_device(cpu), 3).unwrap();
        assert_eq!((y.size(), y.kind()), (shape, Kind::Float), "{labels:?}");
        assert_eq!(Vec::<f32>::try_from(y.flatten(0, -1)).unwrap(), keras, "{labels:?}");
    }
    // Keras truncates [1.7, -0.5, 2.2] to [1, 0, 2]; here a fractional label is an error naming
    // it, as is a label outside 0..num_classes.
    let err = to_categorical(&Tensor::from_slice(&[1.0f32, 1.7, 2.0]), 3).unwrap_err().to_string();
    assert!(err.contains("label 1") && err.contains("1.7") && err.contains("round"), "{err}");
    let err = to_categorical(&Tensor::from_slice(&[0i64, 3]), 3).unwrap_err().to_string();
    assert!(err.contains("[0, 3]") && err.contains("0..3"), "{err}");
    assert!(to_categorical(&Tensor::from(1i64), 3).is_err());
    assert!(to_categorical(&Tensor::from_slice(&[0.0f32, f32::NAN]), 3).is_err());
}

#[test]
fn set_weights_in_keras_order_says_which_order_and_layout_to_use() {
    // Keras's get_weights order is [kernel (in, out), bias]; here it is variables() order.
    let mut model = Sequential::new().device(Device::Cpu).input_shape([3]).add(Dense::new(2));
    model.build().unwrap();
    let cpu = (Kind::Float, Device::Cpu);
    let keras_order = [Tensor::ones([3, 2], cpu), Tensor::zeros([2], cpu)];
    let err = model.set_weights(&keras_order).unwrap_err().to_string();
    assert!(err.contains("layers.0.bias") && err.contains("variables() order") && err.contains("[out, in]"), "{err}");
    model.set_weights(&[Tensor::zeros([2], cpu), Tensor::ones([2, 3], cpu)]).unwrap();
}

#[test]
fn history_len_counts_the_epochs_run() {
    let x = Tensor::randn([32, 3], (Kind::Float, Device::Cpu));
    let y = Tensor::randn([32, 1], (Kind::Float, Device::Cpu));
    let mut model = Sequential::new().device(Device::Cpu).add(Dense::new(1));
    model.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    let mut stop_after_third = LambdaCallback::new().on_epoch_end(|m: &mut Sequential, epoch, _: &Logs| {
        m.stop_training = epoch == 2;
        Ok(())
    });
    let history =
        model.fit(&x, &y, FitConfig { epochs: 10, callbacks: vec![&mut stop_after_third], ..quiet() }).unwrap();
    assert_eq!(history.len(), 3);
    assert!(!history.is_empty());
    let none = model.fit(&x, &y, FitConfig { epochs: 0, ..quiet() }).unwrap();
    assert_eq!(none.len(), 0);
    assert!(none.is_empty());
}
