//! Learning on real MNIST through the library API.
use tch_keras::data::{self, DatasetKind};
use tch_keras::{recipes, to_categorical, FitConfig, Verbosity};

#[test]
fn the_recipe_mlp_learns_mnist_in_one_epoch() {
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    assert_eq!(ds.train_images.size(), [60_000, 784]);
    assert_eq!(ds.test_labels.size(), [10_000]);
    let y = to_categorical(&ds.train_labels, 10).unwrap();
    let y_test = to_categorical(&ds.test_labels, 10).unwrap();
    let mut model = recipes::mnist_mlp();
    recipes::compile_classifier(&mut model, 0.001, "acc").unwrap();
    let h = model
        .fit(&ds.train_images, &y, FitConfig { epochs: 1, verbose: Verbosity::Silent, ..Default::default() })
        .unwrap();
    assert_eq!(model.iterations(), 1875);
    assert!(h.series("acc").unwrap()[0] > 0.8);
    let test = model.evaluate(&ds.test_images, &y_test, 1000).unwrap();
    let acc = test.get("acc").unwrap();
    assert!(acc > 0.9, "test accuracy {acc}");
    let p = model.predict(&ds.test_images.narrow(0, 0, 100), 64).unwrap();
    assert_eq!(p.size(), [100, 10]);
}

#[test]
fn fashion_mnist_loads_through_the_same_reader() {
    let ds = data::load(DatasetKind::FashionMnist, None).expect("Fashion-MNIST is provisioned by scripts/setup.sh");
    assert_eq!(ds.train_images.size(), [60_000, 784]);
    assert_eq!(ds.test_images.size(), [10_000, 784]);
    let max = ds.train_images.max().double_value(&[]);
    assert!(max <= 1.0 && max > 0.9);
    assert_eq!(ds.train_labels.max().int64_value(&[]), 9);
}

#[test]
fn to_categorical_one_hot_encodes_and_checks_its_input() {
    let labels = tch::Tensor::from_slice(&[0i64, 2, 1]);
    let y = to_categorical(&labels, 3).unwrap();
    assert_eq!(Vec::<f32>::try_from(y.reshape([-1])).unwrap(), [1., 0., 0., 0., 0., 1., 0., 1., 0.]);
    assert!(to_categorical(&labels, 2).unwrap_err().to_string().contains("outside 0..2"));
    assert!(to_categorical(&tch::Tensor::from_slice(&[0.0f32, 0.5]), 3).is_err());
    // A num_classes far beyond the labels failed inside LibTorch ("Storage size calculation
    // overflowed"), without saying what to give instead.
    for classes in [i64::MAX, 1 << 61] {
        let e = to_categorical(&labels, classes).unwrap_err().to_string();
        assert!(e.contains("num_classes") && e.contains("64 bits") && e.contains("at least 3"), "{classes}: {e}");
    }
}

/// Keras's `to_categorical` drops a last axis of 1, so a label column `[N, 1]` (as read from a
/// table) encodes as `[N, C]`, like the labels `[N]`.
#[test]
fn to_categorical_takes_a_label_column_as_keras() {
    let labels = tch::Tensor::from_slice(&[0i64, 2, 1]);
    let column = to_categorical(&labels.unsqueeze(1), 3).unwrap();
    // Keras 3: keras.utils.to_categorical(np.array([[0], [2], [1]]), 3).
    assert_eq!(column.size(), [3, 3]);
    assert_eq!(Vec::<f32>::try_from(column.reshape([-1])).unwrap(), [1., 0., 0., 0., 0., 1., 0., 1., 0.]);
}
