//! `tch-keras`: trains the cookbook recipe's models on MNIST or Fashion-MNIST from the command
//! line, through the library's Keras-shaped API.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use tch::{Device, Tensor};
use tch_keras::bench::{BenchModel, BenchOptions};
use tch_keras::callbacks::{CsvLogger, EarlyStopping, ModelCheckpoint};
use tch_keras::data::{self, DatasetKind};
use tch_keras::precision::{self, Tf32};
use tch_keras::{
    device_name, load_model, recipes, to_categorical, Callback, FitConfig, Logs, Precision, Sequential, Verbosity,
};

/// Train the Keras cookbook's MNIST models from Rust on LibTorch.
///
/// With no arguments, trains the recipe's CNN for 3 epochs (batch 64, Adam 0.001, validation on
/// the test set) on the best device available, then prints the test loss and accuracy.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Opts {
    #[command(subcommand)]
    command: Option<Command>,
    /// Which recipe model to train.
    #[arg(long, value_enum, default_value_t = ModelArg::Cnn)]
    model: ModelArg,
    /// Which data set to train on.
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    dataset: DatasetArg,
    /// Epochs to train (default: 5 for mlp, 3 for cnn).
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per gradient update (default: 32 for mlp, as Keras; 64 for cnn, as the recipe).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: Option<u64>,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.001, value_parser = positive_f64)]
    lr: f64,
    /// Where to train: auto (CUDA if available, else CPU), cpu, cuda, or cuda:N.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceArg,
    /// Seed for weight initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Folder holding the data set's idx files (default: the folder scripts/setup.sh fills).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write a JSON report of the run (history, timings, test results) to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Save the whole model (architecture, weights, optimizer state) here after training.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Start from a model saved with --save or a checkpoint (its architecture replaces
    /// --model); with --epochs 0 it is only evaluated.
    #[arg(long, conflicts_with = "resume")]
    load: Option<PathBuf>,
    /// Write last.safetensors (every epoch) and best.safetensors (on improvement) here.
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Resume an interrupted run from DIR/last.safetensors up to the requested total epochs,
    /// checkpointing into DIR again.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Append one CSV row of logs per epoch to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Stop when the monitored loss (val_loss with validation, else loss) has not improved for
    /// this many epochs, restoring the best weights.
    #[arg(long, value_name = "PATIENCE")]
    early_stopping: Option<usize>,
    /// Train without validating on the test set each epoch (the CNN validates by default).
    #[arg(long)]
    no_validation: bool,
    /// 0: silent, 1: progress bar, 2: one line per epoch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    verbose: u8,
    #[command(flatten)]
    speed: SpeedArgs,
}

/// Numeric precision and CUDA speed switches.
#[derive(Debug, Args)]
struct SpeedArgs {
    /// Forward-pass precision: f32 (default), or bf16 (mixed precision: bf16 autocast, float32
    /// weights and loss; meant for CUDA). A loaded model keeps its own unless this is given.
    #[arg(long, value_parser = parse_precision)]
    precision: Option<Precision>,
    /// TF32 for float32 CUDA work: default (LibTorch's: convolutions only), on (matmuls and
    /// convolutions), off.
    #[arg(long, value_enum, default_value_t = Tf32Arg::Default)]
    tf32: Tf32Arg,
    /// Let cuDNN time its convolution algorithms for each new shape and keep the fastest.
    #[arg(long)]
    cudnn_benchmark: bool,
    /// Run every training step op by op; by default, on CUDA, the step is captured in a CUDA
    /// graph and replayed (same results, far fewer launches).
    #[arg(long)]
    run_eagerly: bool,
}

impl SpeedArgs {
    /// Sets LibTorch's process-wide switches.
    fn apply(&self) -> Result<()> {
        match self.tf32 {
            Tf32Arg::Default => {}
            Tf32Arg::On => precision::set_tf32(Tf32 { matmul: true, conv: true })?,
            Tf32Arg::Off => precision::set_tf32(Tf32 { matmul: false, conv: false })?,
        }
        if self.cudnn_benchmark {
            precision::set_cudnn_benchmark(true);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Tf32Arg {
    /// LibTorch's defaults: TF32 for convolutions, not for matmuls.
    Default,
    /// TF32 for matmuls and convolutions.
    On,
    /// Full float32 everywhere.
    Off,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse().map_err(|_| format!("'{s}' is not a precision: use f32 or bf16"))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Time training steps of the recipe's models at several batch sizes, through fit and
    /// through a hand-written tch loop, and report ms/step, samples/s, epoch time and memory.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Models to time.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mlp,cnn")]
    models: Vec<ModelArg>,
    /// Batch sizes to time.
    #[arg(long, value_delimiter = ',', default_value = "64,256,1024", value_parser = clap::value_parser!(u64).range(1..))]
    batch_sizes: Vec<u64>,
    /// Where to run: auto, cpu, cuda, or cuda:N.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceArg,
    /// Timed steps per configuration.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Untimed warm-up steps before each timing.
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Timings per configuration (fit and raw loop alternate); medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    repeats: u64,
    /// Skip the hand-written tch loop.
    #[arg(long)]
    no_raw: bool,
    /// Folder holding MNIST's idx files (default: the folder scripts/setup.sh fills).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    speed: SpeedArgs,
}

fn bench(args: BenchArgs) -> Result<()> {
    let device = resolve_device(args.device)?;
    args.speed.apply()?;
    let ds = data::load(DatasetKind::Mnist, args.data_dir.as_deref())?;
    let opts = BenchOptions {
        models: args
            .models
            .iter()
            .map(|m| match m {
                ModelArg::Mlp => BenchModel::Mlp,
                ModelArg::Cnn => BenchModel::Cnn,
            })
            .collect(),
        batch_sizes: args.batch_sizes.iter().map(|&b| b as usize).collect(),
        device,
        warmup_steps: args.warmup as usize,
        steps: args.steps as usize,
        raw: !args.no_raw,
        repeats: args.repeats as usize,
        precision: args.speed.precision.unwrap_or_default(),
        run_eagerly: args.speed.run_eagerly,
    };
    let report = tch_keras::bench::run(&ds, &opts)?;
    print!("{}", tch_keras::bench::markdown(&report));
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        std::fs::write(path, json).with_context(|| format!("could not write the report to {}", path.display()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    /// Dense(32, relu) -> Dense(16, relu) -> Dense(10, softmax).
    Mlp,
    /// Conv2D(25, 4x4) -> MaxPool -> Conv2D(50, 5x5) -> MaxPool -> Flatten -> Dense(10).
    Cnn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DatasetArg {
    /// Handwritten digits.
    Mnist,
    /// Zalando's clothing images.
    FashionMnist,
}

impl From<DatasetArg> for DatasetKind {
    fn from(d: DatasetArg) -> Self {
        match d {
            DatasetArg::Mnist => DatasetKind::Mnist,
            DatasetArg::FashionMnist => DatasetKind::FashionMnist,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceArg {
    Auto,
    Cpu,
    Cuda(usize),
}

fn parse_device(s: &str) -> Result<DeviceArg, String> {
    match s {
        "auto" => Ok(DeviceArg::Auto),
        "cpu" => Ok(DeviceArg::Cpu),
        "cuda" => Ok(DeviceArg::Cuda(0)),
        _ => s
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(DeviceArg::Cuda)
            .ok_or_else(|| format!("'{s}' is not a device: use auto, cpu, cuda or cuda:N")),
    }
}

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a positive number, got {v}")),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

/// Resolves the device flag, refusing CUDA devices LibTorch cannot see.
fn resolve_device(arg: DeviceArg) -> Result<Device> {
    match arg {
        DeviceArg::Cpu => Ok(Device::Cpu),
        DeviceArg::Auto => Ok(Device::cuda_if_available()),
        DeviceArg::Cuda(n) => {
            let count = tch::Cuda::device_count() as usize;
            if count == 0 {
                bail!("--device cuda: CUDA is not available here (LibTorch sees no GPU); use --device cpu or --device auto");
            }
            if n >= count {
                bail!("--device cuda:{n}: this machine has {count} CUDA device(s), numbered 0 to {}", count - 1);
            }
            Ok(Device::Cuda(n))
        }
    }
}

/// Records each epoch's wall time for the report.
#[derive(Default)]
struct EpochTimer {
    started: Option<Instant>,
    seconds: Vec<f64>,
}

impl Callback for EpochTimer {
    fn on_epoch_begin(&mut self, _model: &mut Sequential, _epoch: usize) -> tch_keras::Result<()> {
        self.started = Some(Instant::now());
        Ok(())
    }
    fn on_epoch_end(&mut self, _model: &mut Sequential, _epoch: usize, _logs: &Logs) -> tch_keras::Result<()> {
        if let Some(t) = self.started.take() {
            self.seconds.push(t.elapsed().as_secs_f64());
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
struct History {
    loss: Vec<f64>,
    accuracy: Vec<f64>,
    val_loss: Vec<f64>,
    val_accuracy: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    model: String,
    dataset: &'static str,
    device: String,
    params: i64,
    epochs: usize,
    batch_size: u64,
    learning_rate: f64,
    seed: u64,
    precision: Precision,
    tf32: Tf32,
    cudnn_benchmark: bool,
    cuda_graph_replays: u64,
    epoch_seconds: Vec<f64>,
    history: History,
    test_loss: f64,
    test_accuracy: f64,
    peak_rss_mib: Option<f64>,
}

fn path_str(p: &std::path::Path) -> Result<&str> {
    p.to_str().with_context(|| format!("{} is not valid UTF-8", p.display()))
}

fn run(mut opts: Opts) -> Result<()> {
    if let Some(Command::Bench(args)) = opts.command.take() {
        return bench(args);
    }
    let device = resolve_device(opts.device)?;
    opts.speed.apply()?;
    let kind = DatasetKind::from(opts.dataset);
    let ds = data::load(kind, opts.data_dir.as_deref())?;
    let resume_file = opts.resume.as_ref().map(|d| d.join("last.safetensors"));
    let (mut model, default_epochs, default_batch) = match (&opts.load, &resume_file) {
        (Some(path), _) | (None, Some(path)) => {
            let model = load_model(path, device).with_context(|| format!("could not load {}", path.display()))?;
            if model.compiled().is_none() {
                bail!("{} holds no compile settings; save it with --save after training", path.display());
            }
            let mlp = model.get_input_shape().is_some_and(|s| s.len() == 1);
            (model, if mlp { 5 } else { 3 }, if mlp { 32 } else { 64 })
        }
        (None, None) => {
            let (model, epochs, batch) = match opts.model {
                ModelArg::Mlp => (recipes::mnist_mlp(), 5, 32),
                ModelArg::Cnn => (recipes::mnist_cnn(), 3, 64),
            };
            let mut model = model.device(device).seed(opts.seed);
            recipes::compile_classifier(&mut model, opts.lr, "accuracy")?;
            (model, epochs, batch)
        }
    };
    if let Some(p) = opts.speed.precision {
        model.set_precision(p);
    }
    model.set_run_eagerly(opts.speed.run_eagerly);
    let batch_size = opts.batch_size.unwrap_or(default_batch);
    let requested = opts.epochs.unwrap_or(if opts.load.is_some() { 0 } else { default_epochs });
    // --resume trains up to the requested total; --load trains that many more epochs.
    let initial_epoch = model.epochs_done();
    let total_epochs = if opts.resume.is_some() { requested.max(initial_epoch) } else { initial_epoch + requested };

    let input: Vec<i64> = model.get_input_shape().map(<[i64]>::to_vec).unwrap_or_default();
    let shape = |t: &Tensor| -> Result<Tensor> {
        let mut s = vec![t.size()[0]];
        s.extend_from_slice(&input);
        Ok(t.f_reshape(s)?)
    };
    let (x_train, x_test) = (shape(&ds.train_images)?, shape(&ds.test_images)?);
    let y_train = to_categorical(&ds.train_labels, 10)?;
    let y_test = to_categorical(&ds.test_labels, 10)?;
    let params = model.count_params()?;
    let name = model.model_name().to_string();
    let metric = model.compiled().and_then(|(_, _, m)| m.first().map(|m| m.name.clone())).unwrap_or_default();
    if opts.verbose > 0 {
        eprintln!(
            "Training the recipe's {name} ({params} parameters) on {kind} on {}{}",
            device_name(device),
            if model.model_precision() == Precision::Bf16 { " in bf16 mixed precision" } else { "" }
        );
    }
    let validate = name != "mlp" && !opts.no_validation;
    let monitor = if validate { "val_loss" } else { "loss" };

    let mut timer = EpochTimer::default();
    let mut extra: Vec<Box<dyn Callback>> = Vec::new();
    if let Some(dir) = opts.checkpoint_dir.as_ref().or(opts.resume.as_ref()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create the checkpoint folder {}", dir.display()))?;
        extra.push(Box::new(ModelCheckpoint::new(path_str(&dir.join("last.safetensors"))?)?));
        extra.push(Box::new(
            ModelCheckpoint::new(path_str(&dir.join("best.safetensors"))?)?.monitor(monitor).save_best_only(true),
        ));
    }
    if let Some(path) = &opts.csv {
        extra.push(Box::new(CsvLogger::new(path).append(opts.resume.is_some())));
    }
    if let Some(patience) = opts.early_stopping {
        extra.push(Box::new(EarlyStopping::new(monitor, patience).restore_best_weights(true)));
    }
    let mut callbacks: Vec<&mut dyn Callback> = vec![&mut timer];
    callbacks.extend(extra.iter_mut().map(|c| &mut **c as &mut dyn Callback));
    let history = if total_epochs > initial_epoch {
        model.fit(
            &x_train,
            &y_train,
            FitConfig {
                batch_size: batch_size as usize,
                epochs: total_epochs,
                initial_epoch,
                validation_data: validate.then_some((&x_test, &y_test)),
                callbacks,
                verbose: Verbosity::from(opts.verbose),
                ..Default::default()
            },
        )?
    } else {
        drop(callbacks);
        tch_keras::History::new()
    };
    let test = model.evaluate(&x_test, &y_test, 1024)?;
    let (test_loss, test_accuracy) = (test.get("loss").unwrap_or(f64::NAN), test.get(&metric).unwrap_or(f64::NAN));
    println!("test loss: {test_loss:.4} - test accuracy: {test_accuracy:.4}");
    if let Some(path) = &opts.save {
        model.save(path).with_context(|| format!("could not save the model to {}", path.display()))?;
    }
    if let Some(path) = &opts.report {
        let series = |k: &str| history.series(k).unwrap_or_default();
        let report = Report {
            model: name,
            dataset: kind.name(),
            device: device_name(device),
            params,
            epochs: history.epochs.len(),
            batch_size,
            learning_rate: model.learning_rate()?,
            seed: model.model_seed(),
            precision: model.model_precision(),
            tf32: precision::tf32()?,
            cudnn_benchmark: precision::cudnn_benchmark(),
            cuda_graph_replays: model.cuda_graph_replays(),
            epoch_seconds: timer.seconds,
            history: History {
                loss: series("loss"),
                accuracy: series(&metric),
                val_loss: series("val_loss"),
                val_accuracy: series(&format!("val_{metric}")),
            },
            test_loss,
            test_accuracy,
            peak_rss_mib: tch_keras::bench::peak_rss_mib(),
        };
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("could not write the report to {}", path.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let opts = Opts::parse();
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
