//! Bad inputs to the metrics, losses and optimizers end in typed errors that name what is wrong
//! and what to do, never in LibTorch's own words or a silently wrong value.
use tch::{Device, Kind, Tensor};
use tch_keras::{
    Activation, Dense, Error, FAverage, FitConfig, Loss, Metric, Optimizer, R2Aggregation, Sequential, Verbosity,
};

fn model(outputs: i64) -> Sequential {
    Sequential::new()
        .device(Device::Cpu)
        .seed(3)
        .input_shape([4])
        .add(Dense::new(outputs).activation(Activation::Softmax))
}

fn config<'a>(batch_size: usize) -> FitConfig<'a> {
    FitConfig { epochs: 1, batch_size, verbose: Verbosity::Silent, ..Default::default() }
}

fn inputs(n: i64) -> Tensor {
    Tensor::randn([n, 4], (Kind::Float, Device::Cpu))
}

/// The error is the crate's own, naming `what`.
fn assert_typed(result: tch_keras::Result<impl std::fmt::Debug>, what: &str) {
    let e = result.expect_err("bad input was accepted");
    assert!(!matches!(e, Error::Torch(_)), "LibTorch's error reached the user: {e}");
    assert!(e.to_string().contains(what), "the error does not name {what}: {e}");
    assert!(!e.to_string().contains("  "), "the error has a run of spaces: {e}");
}

#[test]
fn error_metrics_refuse_sparse_labels_instead_of_broadcasting_them() {
    // 8 classes and batches of 8 (labels [8] broadcast against outputs [8, 8] without an
    // error) or of 4 (LibTorch's size error).
    for metric in ["mse", "mae", "root_mean_squared_error"] {
        for batch in [8, 4] {
            let mut m = model(8);
            m.compile(Optimizer::sgd(0.01), Loss::SparseCategoricalCrossentropy, [metric]).unwrap();
            let y = Tensor::randint(8, [8], (Kind::Int64, Device::Cpu));
            assert_typed(m.fit(&inputs(8), &y, config(batch)), metric);
            assert_typed(m.evaluate(&inputs(8), &y, batch), metric);
        }
    }
}

#[test]
fn score_metrics_refuse_column_counts_no_model_has() {
    let huge = [
        Metric::f1_score(FAverage::Macro { classes: usize::MAX }, None),
        Metric::fbeta_score(FAverage::Weighted { classes: usize::MAX / 4 + 1 }, 2.0, None),
        Metric::r2_score(R2Aggregation::UniformAverage, 0, usize::MAX / 4 + 1),
    ];
    for (metric, what) in huge.into_iter().zip(["classes", "classes", "outputs"]) {
        let mut m = model(3);
        assert_typed(m.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, vec![metric]), what);
    }
    // R2Score made for 3 outputs on a model with 1.
    let mut m = model(1);
    m.compile(
        Optimizer::sgd(0.01),
        Loss::MeanSquaredError,
        vec![Metric::r2_score(R2Aggregation::UniformAverage, 0, 3)],
    )
    .unwrap();
    assert_typed(m.fit(&inputs(8), &Tensor::randn([8, 1], (Kind::Float, Device::Cpu)), config(4)), "R2Score");
}

#[test]
fn an_ignored_class_out_of_range_is_refused_for_metrics_that_index_by_label() {
    let y = Tensor::from_slice(&[0i64, 255, 1, 2, 255, 1, 0, 2]);
    for metric in ["sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy"] {
        for ignore in [255, -1] {
            let mut m = model(3);
            let loss = Loss::sparse_categorical_crossentropy_ignoring(false, ignore);
            m.compile(Optimizer::adam(0.01), loss, [metric]).unwrap();
            let y = y.where_scalarother(&y.ne(255), ignore);
            assert_typed(m.fit(&inputs(8), &y, config(4)), "ignore_class");
            assert_typed(m.evaluate(&inputs(8), &y, 4), "ignore_class");
            assert_typed(m.train_on_batch(&inputs(8), &y), "ignore_class");
        }
        // An ignored class that is a class id reaches the metric as one, as in Keras.
        let mut m = model(3);
        m.compile(Optimizer::adam(0.01), Loss::sparse_categorical_crossentropy_ignoring(false, 2), [metric]).unwrap();
        let logs = m.train_on_batch(&inputs(8), &y.where_scalarother(&y.ne(255), 2)).unwrap();
        assert!(logs.get(metric).unwrap().is_finite());
    }
    // Metrics that compare labels take any ignored class.
    let mut m = model(3);
    m.compile(Optimizer::adam(0.01), Loss::sparse_categorical_crossentropy_ignoring(false, 255), ["accuracy"]).unwrap();
    assert!(m.train_on_batch(&inputs(8), &y).unwrap().get("accuracy").unwrap().is_finite());
}

#[test]
fn a_backup_that_cannot_be_used_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, b"not a directory").unwrap();
    assert_typed(tch_keras::BackupAndRestore::new(&file), "is a file");
    // A damaged backup (truncated, or another program's file) is not restored: the error says
    // how to start afresh.
    let fit = |backup_dir: &std::path::Path| {
        let mut backup = tch_keras::BackupAndRestore::new(backup_dir).unwrap();
        let mut m = model(3);
        m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, ["accuracy"]).unwrap();
        let y = Tensor::from_slice(&[0i64, 1, 2, 1, 0, 2, 1, 0]);
        m.fit(&inputs(8), &y, FitConfig { callbacks: vec![&mut backup], ..config(4) }).map(|_| ())
    };
    let good = dir.path().join("good");
    let mut backup = tch_keras::BackupAndRestore::new(&good).unwrap().delete_checkpoint(false);
    let mut m = model(3);
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, ["accuracy"]).unwrap();
    let y = Tensor::from_slice(&[0i64, 1, 2, 1, 0, 2, 1, 0]);
    m.fit(&inputs(8), &y, FitConfig { callbacks: vec![&mut backup], ..config(4) }).unwrap();
    let bytes = std::fs::read(backup.backup_path()).unwrap();
    for (name, content) in [("truncated", &bytes[..bytes.len() / 2]), ("garbage", &b"garbage, not safetensors"[..])] {
        let damaged = dir.path().join(name);
        std::fs::create_dir_all(&damaged).unwrap();
        std::fs::write(damaged.join("latest.safetensors"), content).unwrap();
        assert_typed(fit(&damaged), "delete its directory");
    }
}
