//! User-written layers: defined here as a user's crate would, trained on real MNIST, shown in
//! `summary`, saved and loaded with their constructors registered (and refused without).
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::layers::{register_layer, Initializer, Layer, LayerModule, LayerRegistry, LayerVars};
use tch_keras::saving::{read_safetensors, write_safetensors, MODEL_KEY};
use tch_keras::{load_model, load_model_with, to_categorical, Activation, Dense, Error, FitConfig, Sequential};
use tch_keras::{Loss, Metric, Optimizer, Verbosity};

/// A learnable per-feature scale: `y = x * w`, `w` starting at ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Scale;

#[derive(Debug)]
struct ScaleModule {
    w: Tensor,
}

impl LayerModule for ScaleModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> tch_keras::Result<Tensor> {
        Ok(xs.f_mul(&self.w)?)
    }
}

impl Layer for Scale {
    fn class_name(&self) -> &'static str {
        "Scale"
    }
    fn output_shape(&self, input: &[i64]) -> Result<Vec<i64>, String> {
        match input {
            [_] => Ok(input.to_vec()),
            _ => Err(format!("Scale takes flat inputs, got {} axes", input.len())),
        }
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        vec![("w", input.to_vec())]
    }
    fn build(&self, vars: &mut LayerVars<'_>, input: &[i64]) -> tch_keras::Result<Box<dyn LayerModule>> {
        Ok(Box::new(ScaleModule { w: vars.weight("w", input, Initializer::Ones)? }))
    }
}

/// A learnable scaled residual through a bottleneck: `y = x + gamma * relu(x A^T) B^T`, with
/// `A: [hidden, f]`, `B: [f, hidden]` and a scalar `gamma` starting at `init_gamma`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ScaledResidual {
    hidden: i64,
    init_gamma: f64,
}

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
            _ => Err(format!("ScaledResidual takes flat inputs, got {} axes", input.len())),
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

/// A layer no test registers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Unregistered;

impl Layer for Unregistered {
    fn class_name(&self) -> &'static str {
        "Unregistered"
    }
    fn output_shape(&self, input: &[i64]) -> Result<Vec<i64>, String> {
        Ok(input.to_vec())
    }
    fn build(&self, _vars: &mut LayerVars<'_>, _input: &[i64]) -> tch_keras::Result<Box<dyn LayerModule>> {
        Ok(Box::new(Identity))
    }
}

#[derive(Debug)]
struct Identity;

impl LayerModule for Identity {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> tch_keras::Result<Tensor> {
        Ok(xs.shallow_clone())
    }
}

/// Declares one variable but creates another, and returns a shape it did not declare.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Inconsistent {
    create_declared: bool,
}

impl Layer for Inconsistent {
    fn class_name(&self) -> &'static str {
        "Inconsistent"
    }
    fn output_shape(&self, input: &[i64]) -> Result<Vec<i64>, String> {
        Ok(input.to_vec())
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        vec![("w", input.to_vec())]
    }
    fn build(&self, vars: &mut LayerVars<'_>, input: &[i64]) -> tch_keras::Result<Box<dyn LayerModule>> {
        let name = if self.create_declared { "w" } else { "v" };
        let _w = vars.weight(name, input, Initializer::Zeros)?;
        Ok(Box::new(Halve))
    }
}

#[derive(Debug)]
struct Halve;

impl LayerModule for Halve {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> tch_keras::Result<Tensor> {
        let n = xs.size()[1] / 2;
        Ok(xs.f_narrow(1, 0, n)?)
    }
}

fn model() -> Sequential {
    Sequential::new()
        .input_shape([784])
        .add(Dense::new(64).activation(Activation::Relu))
        .add(ScaledResidual { hidden: 16, init_gamma: 0.1 })
        .add(Scale)
        .add(Dense::new(10).activation(Activation::Softmax))
}

fn compile(model: &mut Sequential) {
    model.compile(Optimizer::adam(0.002), Loss::CategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
}

fn value(model: &Sequential, name: &str) -> Tensor {
    let vars = model.variables().unwrap();
    vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variable {name}")).1.detach().copy()
}

#[test]
fn a_custom_layer_trains_on_mnist_and_loads_with_its_constructor_registered() {
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let x = ds.train_images.narrow(0, 0, 3000);
    let y = to_categorical(&ds.train_labels.narrow(0, 0, 3000), 10).unwrap();
    let x_test = ds.test_images.narrow(0, 0, 1000);
    let y_test = to_categorical(&ds.test_labels.narrow(0, 0, 1000), 10).unwrap();
    let mut model = model();
    compile(&mut model);
    // 3000 / 32 = 94 steps per epoch: 376 steps.
    let cfg = FitConfig { epochs: 4, batch_size: 32, verbose: Verbosity::Silent, ..Default::default() };
    model.fit(&x, &y, cfg).unwrap();
    assert_eq!(model.iterations(), 4 * 94);
    let acc = model.evaluate(&x_test, &y_test, 500).unwrap().get("accuracy").unwrap();
    assert!(acc > 0.85, "test accuracy {acc}");
    // The custom layers' own variables were trained.
    let gamma = value(&model, "layers.1.gamma").double_value(&[0]);
    assert!((gamma - 0.1).abs() > 1e-3, "gamma stayed at {gamma}");
    let w = value(&model, "layers.2.w");
    assert!(w.f_sub_scalar(1.0).unwrap().abs().max().double_value(&[]) > 1e-3, "Scale's w stayed at ones");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.safetensors");
    model.save(&path).unwrap();
    let (tensors, meta) = read_safetensors(&path).unwrap();
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).filter(|n| !n.starts_with("optimizer.")).collect();
    assert!(names.contains(&"layers.1.gamma") && names.contains(&"layers.2.w"), "{names:?}");
    let json = &meta[MODEL_KEY];
    assert!(json.contains(r#""class_name":"ScaledResidual","config":{"hidden":16,"init_gamma":0.1}"#), "{json}");

    register_layer::<ScaledResidual>("ScaledResidual");
    register_layer::<Scale>("Scale");
    let mut loaded = load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), model.layers());
    assert_eq!(loaded.iterations(), model.iterations());
    let p0 = model.predict(&x_test, 256).unwrap();
    let p1 = loaded.predict(&x_test, 256).unwrap();
    assert!(p0.equal(&p1), "predictions differ after loading");
    // Training goes on from the loaded state exactly as from the original.
    let cfg =
        || FitConfig { epochs: 5, initial_epoch: 4, batch_size: 32, verbose: Verbosity::Silent, ..Default::default() };
    model.fit(&x, &y, cfg()).unwrap();
    loaded.fit(&x, &y, cfg()).unwrap();
    let (q0, q1) = (model.predict(&x_test, 256).unwrap(), loaded.predict(&x_test, 256).unwrap());
    assert!(q0.equal(&q1), "resumed training differs after loading");
}

#[test]
fn loading_an_unregistered_custom_layer_fails_naming_it_and_a_registry_fixes_it() {
    let mut model = Sequential::new().input_shape([4]).add(Dense::new(3)).add(Unregistered);
    model.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    model.save(&path).unwrap();
    let err = load_model(&path, Device::Cpu).unwrap_err();
    assert!(matches!(&err, Error::UnknownLayer { name } if name == "Unregistered"), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(r#"register_layer::<YourType>("Unregistered")"#), "{message}");

    let registry = LayerRegistry::new().with::<Unregistered>("Unregistered");
    let loaded = load_model_with(&path, Device::Cpu, &registry).unwrap();
    let x = Tensor::randn([5, 4], (Kind::Float, Device::Cpu));
    assert!(loaded.forward_t(&x, false).unwrap().equal(&model.forward_t(&x, false).unwrap()));
}

#[test]
fn summary_shows_custom_layers_with_their_names_and_parameter_counts() {
    let mut model = Sequential::new()
        .input_shape([784])
        .add(Dense::new(64))
        .add(ScaledResidual { hidden: 16, init_gamma: 0.1 })
        .add(Scale)
        .add(Scale)
        .add(Dense::new(10));
    let summary = model.summary().unwrap();
    // 16*64 + 64*16 + 1 = 2049; 64.
    let line = |label: &str| summary.lines().find(|l| l.trim_start().starts_with(label)).map(str::to_string);
    let residual = line("scaled_residual (ScaledResidual)").unwrap_or_else(|| panic!("{summary}"));
    assert!(residual.contains("(ScaledResidual) (None, 64)") && residual.trim_end().ends_with(" 2,049"), "{residual}");
    let scale = line("scale (Scale)").unwrap_or_else(|| panic!("{summary}"));
    assert!(scale.trim_end().ends_with(" 64"), "{scale}");
    assert!(line("scale_1 (Scale)").is_some(), "{summary}");
    let total = 784 * 64 + 64 + 2049 + 64 + 64 + 64 * 10 + 10;
    assert_eq!(model.count_params().unwrap(), total);
    assert!(summary.contains(&format!("Total params: {}", group(total))), "{summary}");
}

fn group(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn a_custom_layer_must_create_the_variables_and_shapes_it_declares() {
    let mut model = Sequential::new().input_shape([4]).add(Inconsistent { create_declared: false });
    let err = model.build().unwrap_err().to_string();
    assert!(err.contains("layer 0 (Inconsistent)") && err.contains("param_shapes declares"), "{err}");

    let model = Sequential::new().input_shape([4]).add(Inconsistent { create_declared: true });
    let mut model = model;
    model.build().unwrap();
    let err = model.forward_t(&Tensor::ones([2, 4], (Kind::Float, Device::Cpu)), false).unwrap_err().to_string();
    assert!(err.contains("Inconsistent") && err.contains("output_shape declared (None, 4)"), "{err}");
}

#[test]
fn an_edited_custom_layer_config_is_refused_before_anything_is_built() {
    register_layer::<ScaledResidual>("ScaledResidual");
    let mut model = Sequential::new().input_shape([8]).add(ScaledResidual { hidden: 4, init_gamma: 0.5 });
    model.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    model.save(&path).unwrap();
    let (tensors, mut meta) = read_safetensors(&path).unwrap();
    // A hidden size that would need 8 * 10^9 floats per matrix if it were built.
    let json = meta[MODEL_KEY].replace(r#""hidden":4"#, r#""hidden":1000000000"#);
    assert_ne!(json, meta[MODEL_KEY]);
    meta.insert(MODEL_KEY.into(), json);
    write_safetensors(&path, &tensors, meta.clone()).unwrap();
    let err = load_model(&path, Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("does not match the tensors in the file") && err.contains("layers.0.a"), "{err}");

    // A config its type cannot read names the layer.
    let json = meta[MODEL_KEY].replace(r#""hidden":1000000000"#, r#""hidden":"four""#);
    meta.insert(MODEL_KEY.into(), json);
    write_safetensors(&path, &tensors, meta).unwrap();
    let err = load_model(&path, Device::Cpu).unwrap_err();
    assert!(matches!(&err, Error::CustomLayerConfig { name, .. } if name == "ScaledResidual"), "{err:?}");
}

/// Adds Gaussian noise in training: draws random numbers each step.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Jitter;

#[derive(Debug)]
struct JitterModule;

impl LayerModule for JitterModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> tch_keras::Result<Tensor> {
        if train {
            Ok(xs.f_add(&xs.f_randn_like()?.f_mul_scalar(0.1)?)?)
        } else {
            Ok(xs.shallow_clone())
        }
    }
}

impl Layer for Jitter {
    fn class_name(&self) -> &'static str {
        "Jitter"
    }
    fn output_shape(&self, input: &[i64]) -> Result<Vec<i64>, String> {
        Ok(input.to_vec())
    }
    fn build(&self, _vars: &mut LayerVars<'_>, _input: &[i64]) -> tch_keras::Result<Box<dyn LayerModule>> {
        Ok(Box::new(JitterModule))
    }
    fn stochastic(&self) -> bool {
        true
    }
}

#[test]
fn a_stochastic_custom_layer_counts_as_drawing_random_numbers() {
    use tch_keras::{Dropout, LayerConfig};
    assert!(LayerConfig::from(Jitter).draws_random());
    assert!(LayerConfig::from(Dropout::new(0.5)).draws_random());
    assert!(!LayerConfig::from(Scale).draws_random());
    assert!(!LayerConfig::from(Dense::new(2)).draws_random());
    // Its train flag reaches the module: noise in training, identity otherwise.
    let mut model = Sequential::new().input_shape([3]).add(Jitter);
    model.build().unwrap();
    let x = Tensor::ones([4, 3], (Kind::Float, Device::Cpu));
    assert!(model.forward_t(&x, false).unwrap().equal(&x));
    assert!(!model.forward_t(&x, true).unwrap().equal(&x));
}
