//! `tch-keras`: trains the cookbook recipe's models on MNIST or Fashion-MNIST from the command
//! line, through the library's Keras-shaped API.
mod bench;
mod recipe;
mod report;
mod run_callbacks;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tch::{Device, Tensor};
use tch_keras::data::{self, DatasetKind, Mnist};
use tch_keras::distributed::{Backend, DistConfig, DistEnv, Distributed};
use tch_keras::plot::{self, PlotOptions};
use tch_keras::precision::{self, Tf32};
use tch_keras::tensorboard::{TensorBoard, UpdateFreq};
use tch_keras::{
    device_name, load_model, recipes, to_categorical, Callback, FitConfig, GradientReducer, Precision, Sequential,
    Verbosity,
};

use crate::bench::BenchOptions;
use crate::recipe::Recipe;
use crate::report::{EpochTimer, Report};
use crate::run_callbacks::{Flags, RunCallbacks};

/// Train the Keras cookbook's MNIST models from Rust on LibTorch.
///
/// With no arguments, trains the recipe's CNN for 3 epochs (batch 64, Adam 0.001, validation on
/// the test set) on the best device available, then prints the test loss and accuracy.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Opts {
    #[command(subcommand)]
    command: Option<Command>,
    /// Which recipe model to train [default: cnn].
    #[arg(long, value_enum)]
    model: Option<Recipe>,
    /// Which data set to train on.
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    dataset: DatasetArg,
    /// Epochs to train (default: 5 for mlp, 3 for cnn).
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per gradient update (default: 32 for mlp, as Keras; 64 for cnn, as the recipe).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: Option<u64>,
    /// Adam's learning rate [default: 0.001]. With --load, sets the loaded model's rate.
    #[arg(long, value_parser = positive_f64)]
    lr: Option<f64>,
    /// Where to train: auto (CUDA if available, else CPU), cpu, cuda, or cuda:N.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceArg,
    /// Seed for weight initialisation, shuffling and dropout [default: 0]. New models only.
    #[arg(long)]
    seed: Option<u64>,
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
    /// Write one CSV row of logs per epoch to this file (replacing it; appending with --resume).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write TensorBoard event files under DIR (DIR/train, DIR/validation), as Keras's
    /// TensorBoard callback does; view them with `tensorboard --logdir DIR`.
    #[arg(long, value_name = "DIR")]
    tensorboard: Option<PathBuf>,
    /// With --tensorboard: epoch (epoch scalars only), batch, or N: also write batch_* scalars
    /// every N training batches (each write waits for the device).
    #[arg(long, value_name = "epoch|batch|N", default_value = "epoch", value_parser = parse_update_freq, requires = "tensorboard")]
    tensorboard_update_freq: UpdateFreq,
    /// With --tensorboard: write weight histograms every N epochs (0: none, as Keras).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "tensorboard")]
    histogram_freq: usize,
    /// Draw the training and validation curves (loss and accuracy per epoch) into this PNG.
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
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
    #[command(flatten)]
    dist: DistArgs,
}

/// Data-parallel training, when started by torchrun or another launcher that sets RANK,
/// WORLD_SIZE, MASTER_ADDR and MASTER_PORT.
#[derive(Debug, Args)]
struct DistArgs {
    /// Collective backend: auto (NCCL on CUDA, Gloo on the CPU), gloo or nccl.
    #[arg(long, default_value = "auto", value_parser = parse_backend)]
    dist_backend: Backend,
    /// Seconds a process waits for the others (to join, and in each collective) before failing.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    dist_timeout: u64,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse().map_err(|_| format!("'{s}' is not a backend: use auto, gloo or nccl"))
}

/// Joins the process group the launcher's variables describe (None: a single process). On
/// CUDA each process takes the GPU of its local rank unless `--device cuda:N` names one.
fn join_group(opts: &Opts, device: Device) -> Result<(Option<Distributed>, Device)> {
    let Some(env) = DistEnv::from_env()? else { return Ok((None, device)) };
    let device = match (opts.device, device) {
        (DeviceArg::Cuda(n), _) if n > 0 => device,
        (_, Device::Cuda(_)) => resolve_device(DeviceArg::Cuda(env.local_rank))?,
        _ => device,
    };
    let config = DistConfig::new()
        .backend(opts.dist.dist_backend)
        .timeout(std::time::Duration::from_secs(opts.dist.dist_timeout))
        .device(device);
    let group = Distributed::join(&env, config)?;
    Ok((Some(group), device))
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

fn parse_update_freq(s: &str) -> Result<UpdateFreq, String> {
    s.parse().map_err(|e: tch_keras::Error| e.to_string())
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse().map_err(|_| format!("'{s}' is not a precision: use f32 or bf16"))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Time training steps of the recipe's models at several batch sizes, through fit and
    /// through a hand-written tch loop, and report ms/step, samples/s, epoch time and memory.
    Bench(BenchArgs),
    /// Draw a PNG from a --csv file, a --report JSON or a bench --report JSON.
    Plot(PlotArgs),
}

#[derive(Debug, Args)]
struct PlotArgs {
    /// The CSV log, training report or bench report to draw.
    file: PathBuf,
    /// The PNG to write (default: FILE with the extension .png).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1000)]
    width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = 600)]
    height: u32,
    /// The title (default: from the file: model and data set for a report).
    #[arg(long)]
    title: Option<String>,
}

fn plot_file(args: PlotArgs) -> Result<()> {
    let png = args.output.clone().unwrap_or_else(|| args.file.with_extension("png"));
    let options = PlotOptions { width: args.width, height: args.height, title: args.title };
    plot::from_file(&args.file, &png, &options)?;
    println!("wrote {}", png.display());
    Ok(())
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Models to time.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mlp,cnn")]
    models: Vec<Recipe>,
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
    /// Draw samples/s against batch size per model into this PNG.
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    speed: SpeedArgs,
}

fn bench(args: BenchArgs) -> Result<()> {
    let device = resolve_device(args.device)?;
    args.speed.apply()?;
    let ds = data::load(DatasetKind::Mnist, args.data_dir.as_deref())?;
    let opts = BenchOptions {
        models: args.models.clone(),
        batch_sizes: args.batch_sizes.iter().map(|&b| b as usize).collect(),
        device,
        warmup_steps: args.warmup as usize,
        steps: args.steps as usize,
        raw: !args.no_raw,
        repeats: args.repeats as usize,
        precision: args.speed.precision.unwrap_or_default(),
        run_eagerly: args.speed.run_eagerly,
    };
    let report = bench::run(&ds, &opts)?;
    print!("{}", bench::markdown(&report));
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        std::fs::write(path, json).with_context(|| format!("could not write the report to {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let runs: plot::BenchRuns = serde_json::from_value(serde_json::to_value(&report)?)?;
        plot::bench(&runs, path, &PlotOptions::default())?;
    }
    Ok(())
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

/// How a training run goes: where its epochs start and end, its batch size, whether it
/// validates.
#[derive(Debug)]
struct Plan {
    initial_epoch: usize,
    total_epochs: usize,
    batch_size: usize,
    validate: bool,
}

impl Plan {
    /// What callbacks watch: `val_loss` with validation, else `loss`.
    fn monitor(&self) -> &'static str {
        if self.validate {
            "val_loss"
        } else {
            "loss"
        }
    }
}

/// The model to train and its plan: a recipe's fresh model, or one loaded with --load or
/// --resume (whose defaults are those of the run that saved it).
fn prepare_model(opts: &Opts, device: Device) -> Result<(Sequential, Plan)> {
    let resume_file = opts.resume.as_ref().map(|d| d.join("last.safetensors"));
    let (mut model, batch, validate, epochs) = match opts.load.as_ref().or(resume_file.as_ref()) {
        Some(path) => {
            refuse_for_loaded(opts)?;
            let mut model = load_model(path, device).with_context(|| format!("could not load {}", path.display()))?;
            if model.compiled().is_none() {
                bail!("{} holds no compile settings; save it with --save after training", path.display());
            }
            if let Some(lr) = opts.lr {
                eprintln!("note: --lr {lr} replaces the loaded model's learning rate {}", model.learning_rate()?);
                model.set_learning_rate(lr)?;
            }
            let last = model.last_fit();
            let batch = last.map_or(32, |f| f.batch_size);
            let epochs = if opts.resume.is_some() { last.map_or(0, |f| f.epochs) } else { 0 };
            (model, batch, last.is_none_or(|f| f.validation), epochs)
        }
        None => {
            let recipe = opts.model.unwrap_or(Recipe::Cnn);
            let mut model = recipe.model().device(device).seed(opts.seed.unwrap_or(0));
            recipes::compile_classifier(&mut model, opts.lr.unwrap_or(0.001), "accuracy")?;
            (model, recipe.batch_size(), recipe.validates(), recipe.epochs())
        }
    };
    if let Some(p) = opts.speed.precision {
        model.set_precision(p);
    }
    model.set_run_eagerly(opts.speed.run_eagerly);
    let requested = opts.epochs.unwrap_or(epochs);
    if requested == 0 && opts.load.is_none() && opts.resume.is_none() {
        bail!("--epochs 0 trains nothing: give at least 1, or --load a saved model to only evaluate it");
    }
    // --resume trains up to the requested total; --load trains that many more epochs.
    let initial_epoch = model.epochs_done();
    let total_epochs = if opts.resume.is_some() {
        requested.max(initial_epoch)
    } else {
        initial_epoch.checked_add(requested).with_context(|| format!("--epochs {requested} is too large"))?
    };
    let batch_size = opts.batch_size.map_or(Ok(batch), usize::try_from).context("--batch-size is too large")?;
    let validate = validate && !opts.no_validation;
    Ok((model, Plan { initial_epoch, total_epochs, batch_size, validate }))
}

/// Flags that would silently not apply to a loaded model are refused.
fn refuse_for_loaded(opts: &Opts) -> Result<()> {
    let how = if opts.resume.is_some() { "--resume" } else { "--load" };
    if let Some(m) = opts.model {
        bail!("--model {} does not apply with {how}: the file holds the architecture", m.name());
    }
    if opts.seed.is_some() {
        bail!("--seed does not apply with {how}: a loaded model keeps the seed it was built with");
    }
    if opts.resume.is_some() && (opts.lr.is_some() || opts.batch_size.is_some()) {
        bail!("--resume continues the run with its own learning rate and batch size: drop --lr and --batch-size (or use --load to train on with new ones)");
    }
    Ok(())
}

/// Output paths are checked before training, so a bad one does not cost a whole run.
fn check_outputs(opts: &Opts) -> Result<()> {
    let files = [("--report", &opts.report), ("--save", &opts.save), ("--csv", &opts.csv), ("--plot", &opts.plot)];
    for (flag, path) in files.iter().filter_map(|(f, p)| p.as_ref().map(|p| (f, p))) {
        if path.is_dir() {
            bail!("{flag} {}: is a folder; give a file path", path.display());
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            bail!("{flag} {}: the folder {} does not exist; create it first", path.display(), dir.display());
        }
        let probe = dir.join(format!(".tch-keras-probe-{}", std::process::id()));
        std::fs::File::create(&probe)
            .and_then(|_| std::fs::remove_file(&probe))
            .with_context(|| format!("{flag} {}: cannot write in {}", path.display(), dir.display()))?;
    }
    Ok(())
}

/// The data set's images in the model's input shape, and one-hot labels.
fn model_data(ds: &Mnist, model: &Sequential) -> Result<[Tensor; 4]> {
    let input: Vec<i64> = model.get_input_shape().map(<[i64]>::to_vec).unwrap_or_default();
    let shape = |t: &Tensor| -> Result<Tensor> {
        let mut s = vec![t.size()[0]];
        s.extend_from_slice(&input);
        Ok(t.f_reshape(s)?)
    };
    Ok([
        shape(&ds.train_images)?,
        to_categorical(&ds.train_labels, 10)?,
        shape(&ds.test_images)?,
        to_categorical(&ds.test_labels, 10)?,
    ])
}

fn run(mut opts: Opts) -> Result<()> {
    match opts.command.take() {
        Some(Command::Bench(args)) => return bench(args),
        Some(Command::Plot(args)) => return plot_file(args),
        None => {}
    }
    let (mut group, device) = join_group(&opts, resolve_device(opts.device)?)?;
    if !group.as_ref().is_none_or(Distributed::is_main) {
        // Only the first process prints and writes files.
        (opts.verbose, opts.report, opts.save, opts.csv, opts.checkpoint_dir) = (0, None, None, None, None);
        (opts.tensorboard, opts.plot) = (None, None);
    }
    opts.speed.apply()?;
    let kind = DatasetKind::from(opts.dataset);
    let ds = data::load(kind, opts.data_dir.as_deref())?;
    check_outputs(&opts)?;
    let (mut model, plan) = prepare_model(&opts, device)?;
    let data = model_data(&ds, &model)?;
    if data[2].size()[0] == 0 || data[2].size()[0] != data[3].size()[0] {
        bail!("the test set has {} images and {} labels: it cannot be evaluated", data[2].size()[0], data[3].size()[0]);
    }
    if opts.verbose > 0 {
        announce(&mut model, kind, &plan, group.as_ref())?;
    }
    let mut timer = EpochTimer::default();
    let history = train(&opts, &mut model, &plan, &data, &mut timer, group.as_mut())?;
    let [_, _, x_test, y_test] = &data;
    let test = model.evaluate(x_test, y_test, 1024)?;
    let metric = model.compiled().and_then(|(_, _, m)| m.first().map(|m| m.name.clone())).unwrap_or_default();
    let (test_loss, test_accuracy) = (test.get("loss").unwrap_or(f64::NAN), test.get(&metric).unwrap_or(f64::NAN));
    if group.as_ref().is_none_or(Distributed::is_main) {
        println!("test loss: {test_loss:.4} - test accuracy: {test_accuracy:.4}");
    }
    if let Some(path) = &opts.plot {
        let title = plot::title_for(model.model_name(), kind.name());
        history.plot(path, &title).with_context(|| format!("could not draw {}", path.display()))?;
    }
    if let Some(path) = &opts.save {
        model.save(path).with_context(|| format!("could not save the model to {}", path.display()))?;
    }
    if let Some(path) = &opts.report {
        let test = (test_loss, test_accuracy);
        let mut report = Report::new(&mut model, kind, plan.batch_size, &history, &metric, timer.seconds, test)?;
        report.world_size = group.as_ref().map_or(1, |g| g.world_size());
        report.backend = group.as_ref().map(|g| g.backend().to_string());
        report.write(path)?;
    }
    Ok(())
}

/// The line that opens a run.
fn announce(model: &mut Sequential, kind: DatasetKind, plan: &Plan, group: Option<&Distributed>) -> Result<()> {
    let params = model.count_params()?;
    eprintln!(
        "Training the recipe's {} ({params} parameters) on {kind} on {}{}{}",
        model.model_name(),
        device_name(model.model_device()),
        if model.model_precision() == Precision::Bf16 { " in bf16 mixed precision" } else { "" },
        group.map_or(String::new(), |g| format!(
            " in {} processes ({}, batch {} each)",
            g.world_size(),
            g.backend(),
            plan.batch_size
        ))
    );
    Ok(())
}

/// Trains as planned, with the flags' callbacks; a non-finite loss is an error.
fn train(
    opts: &Opts,
    model: &mut Sequential,
    plan: &Plan,
    [x_train, y_train, x_test, y_test]: &[Tensor; 4],
    timer: &mut EpochTimer,
    group: Option<&mut Distributed>,
) -> Result<tch_keras::History> {
    if plan.total_epochs <= plan.initial_epoch {
        return Ok(tch_keras::History::new());
    }
    let flags = Flags {
        checkpoint_dir: opts.checkpoint_dir.as_deref().or(opts.resume.as_deref()),
        csv: opts.csv.as_deref(),
        early_stopping: opts.early_stopping,
        resume: opts.resume.is_some(),
        monitor: plan.monitor(),
    };
    let mut run_callbacks = RunCallbacks::new(&flags, model)?;
    let mut tensorboard = opts
        .tensorboard
        .as_ref()
        .map(|dir| TensorBoard::new(dir).update_freq(opts.tensorboard_update_freq).histogram_freq(opts.histogram_freq));
    let mut callbacks: Vec<&mut dyn Callback> = vec![timer, &mut run_callbacks];
    if let Some(tb) = tensorboard.as_mut() {
        callbacks.push(tb);
    }
    let config = FitConfig {
        batch_size: plan.batch_size,
        epochs: plan.total_epochs,
        initial_epoch: plan.initial_epoch,
        validation_data: plan.validate.then_some((x_test, y_test)),
        callbacks,
        verbose: Verbosity::from(opts.verbose),
        reducer: group.map(|g| g as &mut dyn GradientReducer),
        ..Default::default()
    };
    let history = model.fit(x_train, y_train, config)?;
    if let Some((epoch, key)) = &run_callbacks.non_finite {
        bail!("training diverged: {key} was not finite at epoch {}; try a smaller --lr", epoch + 1);
    }
    Ok(history)
}

/// Prints the library's warnings on standard error, as `warning: ...` lines.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{}: {}", record.level().as_str().to_lowercase(), record.args());
        }
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    static LOGGER: StderrLogger = StderrLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let opts = Opts::parse();
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
