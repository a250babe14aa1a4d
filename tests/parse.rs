//! String forms accepted at the edges.
use tch_keras::{Activation, Loss, Metric, MetricKind, Optimizer};

#[test]
fn strings_parse_into_typed_values() {
    assert_eq!("adam".parse::<Optimizer>().unwrap(), Optimizer::adam(0.001));
    assert_eq!("SGD".parse::<Optimizer>().unwrap(), Optimizer::sgd(0.01));
    assert_eq!("rmsprop".parse::<Optimizer>().unwrap().name(), "rmsprop");
    assert_eq!("adamw".parse::<Optimizer>().unwrap().name(), "adamw");
    assert_eq!("adagrad".parse::<Optimizer>().unwrap().name(), "adagrad");
    assert_eq!("mse".parse::<Loss>().unwrap(), Loss::MeanSquaredError);
    assert_eq!("mae".parse::<Loss>().unwrap(), Loss::MeanAbsoluteError);
    assert_eq!("categorical_crossentropy".parse::<Loss>().unwrap(), Loss::CategoricalCrossentropy);
    assert_eq!("sparse_categorical_crossentropy".parse::<Loss>().unwrap(), Loss::SparseCategoricalCrossentropy);
    assert_eq!("binary_crossentropy".parse::<Loss>().unwrap(), Loss::BinaryCrossentropy);
    assert_eq!("huber".parse::<Loss>().unwrap(), Loss::Huber { delta: 1.0 });
    assert_eq!("acc".parse::<Metric>().unwrap(), Metric::new(MetricKind::Accuracy, "acc"));
    assert_eq!("accuracy".parse::<Metric>().unwrap(), Metric::accuracy());
    assert_eq!("mae".parse::<Metric>().unwrap(), Metric::mae());
    assert_eq!("mse".parse::<Metric>().unwrap(), Metric::mse());
    assert_eq!("relu".parse::<Activation>().unwrap(), Activation::Relu);
    assert_eq!("softmax".parse::<Activation>().unwrap(), Activation::Softmax);
}

#[test]
fn unknown_strings_list_the_accepted_ones() {
    let e = "adamx".parse::<Optimizer>().unwrap_err().to_string();
    assert!(e.contains("unknown optimizer 'adamx'") && e.contains("adam, adamw, sgd"), "{e}");
    let e = "lovasz_hinge".parse::<Loss>().unwrap_err().to_string();
    assert!(e.contains("unknown loss 'lovasz_hinge'") && e.contains("mse"), "{e}");
    let e = "f1".parse::<Metric>().unwrap_err().to_string();
    assert!(e.contains("unknown metric 'f1'"), "{e}");
    let e = "celu".parse::<Activation>().unwrap_err().to_string();
    assert!(e.contains("celu") && e.contains("gelu"), "{e}");
}
