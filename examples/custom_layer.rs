//! A user-written layer: a learnable scaled residual `y = x + gamma * relu(x A^T) B^T` (a
//! bottleneck of `hidden` units, `gamma` a learned scalar starting small), defined here as in
//! any user's crate, trained on MNIST between two `Dense` layers, saved as a whole model, and
//! loaded back with its constructor registered. Prints the summary, the test accuracy, the
//! learned `gamma`, and checks that the loaded model predicts exactly what the trained one did.
//!
//! Expected (CPU, seed 0, 2 epochs of batch 64): test accuracy 0.9647, learned gamma 0.5055.
//!
//! Run with `cargo run --release --example custom_layer` after `scripts/setup.sh`.
use serde::{Deserialize, Serialize};
use tch::Tensor;
use tch_keras::data::{self, DatasetKind};
use tch_keras::layers::{register_layer, Initializer, Layer, LayerModule, LayerVars};
use tch_keras::{load_model, to_categorical, Activation, Dense, FitConfig, Loss, Metric, Optimizer, Sequential};

/// The layer's configuration: what `save` stores as JSON and `load_model` reads back.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ScaledResidual {
    hidden: i64,
    init_gamma: f64,
}

/// The built layer: its variables.
#[derive(Debug)]
struct ScaledResidualModule {
    a: Tensor,
    b: Tensor,
    gamma: Tensor,
}

impl LayerModule for ScaledResidualModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> tch_keras::Result<Tensor> {
        let h = xs.f_linear::<&Tensor>(&self.a, None)?.f_relu()?.f_linear::<&Tensor>(&self.b, None)?;
        Ok(xs.f_add(&h.f_mul(&self.gamma)?)?)
    }
}

impl Layer for ScaledResidual {
    fn class_name(&self) -> &'static str {
        "ScaledResidual"
    }

    fn output_shape(&self, input: &[i64]) -> Result<Vec<i64>, String> {
        if self.hidden <= 0 {
            return Err(format!("hidden must be positive, got {}", self.hidden));
        }
        match input {
            [_] => Ok(input.to_vec()),
            _ => Err(format!("ScaledResidual takes flat inputs (None, features), got {} axes", input.len())),
        }
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let f = input[0];
        vec![("a", vec![self.hidden, f]), ("b", vec![f, self.hidden]), ("gamma", vec![1])]
    }

    fn build(&self, vars: &mut LayerVars<'_>, input: &[i64]) -> tch_keras::Result<Box<dyn LayerModule>> {
        let (f, h) = (input[0], self.hidden);
        Ok(Box::new(ScaledResidualModule {
            a: vars.weight("a", &[h, f], Initializer::GlorotUniform { fan_in: f, fan_out: h })?,
            b: vars.weight("b", &[f, h], Initializer::GlorotUniform { fan_in: h, fan_out: f })?,
            gamma: vars.weight("gamma", &[1], Initializer::Constant(self.init_gamma))?,
        }))
    }
}

fn main() -> anyhow::Result<()> {
    let mnist = data::load(DatasetKind::Mnist, None)?;
    let y = to_categorical(&mnist.train_labels, 10)?;
    let y_test = to_categorical(&mnist.test_labels, 10)?;

    let mut model = Sequential::new()
        .name("residual_mlp")
        .input_shape([784])
        .add(Dense::new(64).activation(Activation::Relu))
        .add(ScaledResidual { hidden: 32, init_gamma: 0.1 })
        .add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Optimizer::adam(0.001), Loss::CategoricalCrossentropy, vec![Metric::accuracy()])?;
    println!("{}", model.summary()?);
    model.fit(&mnist.train_images, &y, FitConfig { epochs: 2, batch_size: 64, ..Default::default() })?;
    let test = model.evaluate(&mnist.test_images, &y_test, 1024)?;
    let gamma = model.variables()?.iter().find(|(n, _)| n == "layers.1.gamma").map(|(_, t)| t.double_value(&[0]));
    println!("learned gamma: {:.4}", gamma.unwrap_or(f64::NAN));

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("residual_mlp.safetensors");
    model.save(&path)?;
    register_layer::<ScaledResidual>("ScaledResidual");
    let mut loaded = load_model(&path, tch::Device::Cpu)?;
    let same = model.predict(&mnist.test_images, 1024)?.equal(&loaded.predict(&mnist.test_images, 1024)?);
    println!("test accuracy: {:.4}", test.get("accuracy").unwrap_or(f64::NAN));
    println!("test loss: {:.4}", test.get("loss").unwrap_or(f64::NAN));
    println!("loaded model predicts the same: {same}");
    anyhow::ensure!(same, "the loaded model predicts differently");
    Ok(())
}
