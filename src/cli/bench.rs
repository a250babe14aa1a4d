//! Benchmark mode: times training steps of the recipe's models at several batch sizes, through
//! `fit` and through a hand-written loop on raw `tch` (the cost of the frontend), after a
//! warm-up, and reports ms/step, samples/s, the epoch time they imply and peak memory.
//!
//! Timing brackets whole `fit` calls on a slice of the training set (so it includes everything
//! `fit` does), and every timed region ends by reading a value computed on the device, so CUDA
//! timings include the queued work.
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use tch_keras::data::Mnist;
use tch_keras::layers::LayerConfig;
use tch_keras::precision::{Autocast, Precision, Tf32};
use tch_keras::{recipes, to_categorical, Error, FitConfig, Result, Sequential, Verbosity};

use crate::recipe::Recipe;

/// The input shape each recipe model takes, with the batch axis.
fn input(which: Recipe) -> Vec<i64> {
    match which {
        Recipe::Mlp => vec![-1, 784],
        Recipe::Cnn | Recipe::CnnWide => vec![-1, 1, 28, 28],
    }
}

/// What to time.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Models to time.
    pub models: Vec<Recipe>,
    /// Batch sizes to time each model at.
    pub batch_sizes: Vec<usize>,
    /// Where to run.
    pub device: Device,
    /// Untimed steps first.
    pub warmup_steps: usize,
    /// Timed steps (per repeat).
    pub steps: usize,
    /// Also time the raw `tch` loop.
    pub raw: bool,
    /// Timings per configuration, alternating `fit` and the raw loop; the median is reported.
    pub repeats: usize,
    /// Precision of the forward pass, for `fit` and the raw loop alike.
    pub precision: Precision,
    /// Run `fit`'s steps eagerly instead of replaying a CUDA graph (on CUDA).
    pub run_eagerly: bool,
}

/// One timed configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchRow {
    /// `mlp` or `cnn`.
    pub model: String,
    /// Samples per step.
    pub batch_size: usize,
    /// Timed steps (per repeat).
    pub steps: usize,
    /// Milliseconds per training step through `fit`.
    pub ms_per_step: f64,
    /// Training samples per second through `fit`.
    pub samples_per_s: f64,
    /// Seconds for one 60,000-sample epoch at this rate.
    pub epoch_seconds: f64,
    /// Milliseconds per step of the hand-written `tch` loop, when timed.
    pub raw_tch_ms_per_step: Option<f64>,
    /// `ms_per_step / raw_tch_ms_per_step`: the frontend's cost (1.0 = none).
    pub fit_over_raw: Option<f64>,
    /// Peak resident memory of the process so far, in MiB.
    pub peak_rss_mib: Option<f64>,
    /// The CUDA caching allocator's peak allocated MiB during this row (data, model, steps),
    /// as PyTorch's `torch.cuda.max_memory_allocated`; absent on the CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_peak_allocated_mib: Option<f64>,
    /// `fit`'s steps that were CUDA graph replays.
    pub cuda_graph_replays: u64,
    /// Arithmetic of one training step per sample, in GFLOP: three times the forward pass's
    /// multiply-adds, counted as two operations each (the usual estimate: the backward pass
    /// costs twice the forward). The multiply-adds are those of the dense, convolutional
    /// (1D, 2D, transposed, depthwise, separable), recurrent and attention layers, inside
    /// residual blocks too; normalizations, pooling and elementwise layers are left out.
    #[serde(default)]
    pub train_gflop_per_sample: f64,
    /// `train_gflop_per_sample * samples_per_s / 1000`: the arithmetic rate reached.
    #[serde(default)]
    pub tflops: f64,
}

/// [`BenchRow::train_gflop_per_sample`] of a model with an input shape.
pub fn train_gflop_per_sample(model: &Sequential) -> Result<f64> {
    let input = model.get_input_shape().unwrap_or_default().to_vec();
    // Checks the shapes, so that every layer below accepts its input.
    model.output_shapes(&input)?;
    Ok(3.0 * 2.0 * forward_macs(model.layers(), &input) / 1e9)
}

/// Multiply-adds of one sample's forward pass through `layers` from the per-sample shape
/// `input` (which the layers accept), what is inside a `Residual` included.
fn forward_macs(layers: &[LayerConfig], input: &[i64]) -> f64 {
    let mut shape = input.to_vec();
    let mut macs = 0.0;
    for layer in layers {
        let output = layer.spec().output_shape(&shape).unwrap_or_default();
        macs += layer_macs(layer, &shape, &output);
        shape = output;
    }
    macs
}

fn numel(shape: &[i64]) -> f64 {
    shape.iter().product::<i64>() as f64
}

/// Multiply-adds of one layer for one sample: every kernel value meets each position it
/// computes (a Dense layer each step of a sequence, a convolution each output pixel, a
/// transposed convolution each input pixel, a recurrent layer each step), and attention adds
/// its scores and weighted sums. Normalizations, pooling, embeddings (lookups) and elementwise
/// layers do no multiply-adds worth counting, nor do custom layers (unknown): they count 0.
fn layer_macs(layer: &LayerConfig, input: &[i64], output: &[i64]) -> f64 {
    let kernels: f64 = layer
        .spec()
        .variable_shapes(input)
        .iter()
        .filter(|(name, _)| name.contains("weight") || name.ends_with("kernel"))
        .map(|(_, shape)| numel(shape))
        .sum();
    // Output positions of a layer with `channels` outputs per position.
    let per = |shape: &[i64], channels: i64| numel(shape) / channels.max(1) as f64;
    let steps = input.first().copied().unwrap_or(0) as f64;
    match layer {
        LayerConfig::Dense(l) => kernels * per(output, l.units),
        LayerConfig::Conv1D(l) => kernels * per(output, l.filters),
        LayerConfig::Conv2D(l) => kernels * per(output, l.filters),
        LayerConfig::SeparableConv2D(l) => kernels * per(output, l.filters),
        LayerConfig::DepthwiseConv2D(_) => kernels * per(output, output.first().copied().unwrap_or(1)),
        LayerConfig::Conv3D(l) => kernels * per(output, l.filters),
        // A transposed convolution spreads each input position over its kernel: the kernel's
        // `[in, filters, k..]` times the input positions, in either data format.
        LayerConfig::Conv2DTranspose(_) | LayerConfig::Conv1DTranspose(_) | LayerConfig::Conv3DTranspose(_) => {
            kernels * per(input, transposed_inputs(layer, input))
        }
        LayerConfig::LSTM(_) | LayerConfig::GRU(_) | LayerConfig::SimpleRNN(_) | LayerConfig::Bidirectional(_) => {
            kernels * steps
        }
        LayerConfig::MultiHeadAttention(l) => {
            let value = l.value_dim.unwrap_or(l.key_dim);
            kernels * steps + (l.num_heads * (l.key_dim + value)) as f64 * steps * steps
        }
        LayerConfig::Residual(r) => forward_macs(&r.layers, input) + forward_macs(&r.shortcut, input),
        _ => 0.0,
    }
}

/// A transposed convolution's input channels: the first axis of its `weight`.
fn transposed_inputs(layer: &LayerConfig, input: &[i64]) -> i64 {
    let shapes = layer.spec().variable_shapes(input);
    shapes.iter().find(|(name, _)| name == "weight").and_then(|(_, s)| s.first().copied()).unwrap_or(1)
}

/// The whole benchmark.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// LibTorch's intra-op threads.
    pub threads: i32,
    /// Precision of the forward pass.
    pub precision: Precision,
    /// TF32 switches in effect (CUDA only).
    pub tf32: Tf32,
    /// Whether cuDNN's benchmark mode was on.
    pub cudnn_benchmark: bool,
    /// Whether `fit` ran its steps eagerly.
    pub run_eagerly: bool,
    /// One row per model and batch size.
    pub rows: Vec<BenchRow>,
}

/// Peak resident set size of this process in MiB (`VmHWM`), where the OS reports it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Times `steps` steps of `fit` on the first `steps * batch` samples, after a warm-up `fit`.
fn time_fit(model: &mut Sequential, x: &Tensor, y: &Tensor, batch: usize, warmup: usize, steps: usize) -> Result<f64> {
    let run = |model: &mut Sequential, n: usize| -> Result<f64> {
        let n = (n * batch) as i64;
        let (xs, ys) = (x.f_narrow(0, 0, n)?, y.f_narrow(0, 0, n)?);
        let start = Instant::now();
        model.fit(
            &xs,
            &ys,
            FitConfig { batch_size: batch, epochs: 1, verbose: Verbosity::Silent, ..Default::default() },
        )?;
        Ok(start.elapsed().as_secs_f64())
    };
    run(model, warmup.max(1))?;
    run(model, steps)
}

/// The recipe's model as a `tch::nn` sequence under `root`.
fn raw_net(which: Recipe, root: &nn::Path) -> nn::Sequential {
    match which {
        Recipe::Mlp => nn::seq()
            .add(nn::linear(root / "l0", 784, 32, Default::default()))
            .add_fn(|t| t.relu())
            .add(nn::linear(root / "l1", 32, 16, Default::default()))
            .add_fn(|t| t.relu())
            .add(nn::linear(root / "l2", 16, 10, Default::default())),
        Recipe::Cnn => nn::seq()
            .add(nn::conv2d(root / "c0", 1, 25, 4, Default::default()))
            .add_fn(|t| t.relu().max_pool2d_default(2))
            .add(nn::conv2d(root / "c1", 25, 50, 5, Default::default()))
            .add_fn(|t| t.relu().max_pool2d_default(2).flat_view())
            .add(nn::linear(root / "l", 800, 10, Default::default())),
        Recipe::CnnWide => {
            let same = nn::ConvConfig { padding: 1, ..Default::default() };
            nn::seq()
                .add(nn::conv2d(root / "c0", 1, 64, 3, same))
                .add_fn(|t| t.relu())
                .add(nn::conv2d(root / "c1", 64, 64, 3, same))
                .add_fn(|t| t.relu().max_pool2d_default(2))
                .add(nn::conv2d(root / "c2", 64, 128, 3, same))
                .add_fn(|t| t.relu())
                .add(nn::conv2d(root / "c3", 128, 128, 3, same))
                .add_fn(|t| t.relu().max_pool2d_default(2).flat_view())
                .add(nn::linear(root / "l0", 6272, 256, Default::default()))
                .add_fn(|t| t.relu())
                .add(nn::linear(root / "l1", 256, 10, Default::default()))
        }
    }
}

/// The same model, written directly against `tch::nn` with tch's own Adam: the baseline a
/// user would hand-write. Same device-side shuffle and on-device loss/accuracy sums.
fn time_raw(
    which: Recipe,
    precision: Precision,
    (x, y): (&Tensor, &Tensor),
    batch: usize,
    warmup: usize,
    steps: usize,
) -> Result<f64> {
    let device = x.device();
    let vs = nn::VarStore::new(device);
    let root = vs.root();
    let net = raw_net(which, &root);
    let mut opt = nn::Adam { eps: 1e-7, ..Default::default() }.build(&vs, 1e-3)?;
    let mut epoch = |n_steps: usize| -> Result<f64> {
        let n = (n_steps * batch) as i64;
        let start = Instant::now();
        let perm = Tensor::f_randperm(n, (Kind::Int64, device))?;
        let mut sums = Tensor::f_zeros([2], (Kind::Float, device))?;
        for s in 0..n_steps {
            let idx = perm.f_narrow(0, (s * batch) as i64, batch as i64)?;
            let (xb, yb) = (x.f_index_select(0, &idx)?, y.f_index_select(0, &idx)?);
            let autocast = Autocast::enter(precision, device)?;
            let logits = net.forward(&xb);
            drop(autocast);
            let logits = logits.f_to_kind(Kind::Float)?;
            let loss =
                logits.f_log_softmax(-1, Kind::Float)?.f_mul(&yb)?.f_sum(Kind::Float)?.f_div_scalar(-(batch as f64))?;
            opt.zero_grad();
            loss.f_backward()?;
            opt.step();
            tch::no_grad(|| -> Result<()> {
                let acc = logits.f_argmax(-1, false)?.f_eq_tensor(&yb.f_argmax(-1, false)?)?.f_sum(Kind::Float)?;
                let _ = sums.f_add_(&Tensor::f_stack(&[loss.f_mul_scalar(batch as f64)?, acc], 0)?)?;
                Ok(())
            })?;
        }
        let _ = Vec::<f32>::try_from(&sums)?;
        Ok(start.elapsed().as_secs_f64())
    };
    epoch(warmup.max(1))?;
    epoch(steps)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One row: `which` at `batch` on `(x, y)` (already on the device), timed through `fit` and,
/// when asked, the hand-written loop.
fn bench_row(which: Recipe, opts: &BenchOptions, (x, y): (&Tensor, &Tensor), batch: usize) -> Result<BenchRow> {
    let available = (x.size()[0] as usize).checked_div(batch).unwrap_or(0);
    let (steps, warmup) = (opts.steps.min(available), opts.warmup_steps.min(available));
    if steps == 0 {
        return Err(Error::InvalidArgument {
            name: "bench",
            message: format!("batch size {batch} leaves no full step in the training set; use a smaller batch"),
        });
    }
    tch_keras::memory::reset_peak_cuda_memory(opts.device)?;
    let mut model = which.model().device(opts.device).precision(opts.precision).run_eagerly(opts.run_eagerly);
    recipes::compile_classifier(&mut model, 1e-3, "accuracy")?;
    let (mut fit_ms, mut raw_ms) = (Vec::new(), Vec::new());
    for _ in 0..opts.repeats.max(1) {
        fit_ms.push(time_fit(&mut model, x, y, batch, warmup, steps)? * 1e3 / steps as f64);
        if opts.raw {
            raw_ms.push(time_raw(which, opts.precision, (x, y), batch, warmup, steps)? * 1e3 / steps as f64);
        }
    }
    let gflop = train_gflop_per_sample(&model)?;
    let ms = median(&mut fit_ms);
    let raw_ms = (!raw_ms.is_empty()).then(|| median(&mut raw_ms));
    Ok(BenchRow {
        model: which.name().into(),
        batch_size: batch,
        steps,
        ms_per_step: ms,
        samples_per_s: batch as f64 * 1e3 / ms,
        epoch_seconds: 60_000usize.div_ceil(batch) as f64 * ms / 1e3,
        raw_tch_ms_per_step: raw_ms,
        fit_over_raw: raw_ms.map(|r| ms / r),
        peak_rss_mib: peak_rss_mib(),
        gpu_peak_allocated_mib: tch_keras::memory::peak_cuda_mib(opts.device),
        cuda_graph_replays: model.cuda_graph_replays(),
        train_gflop_per_sample: gflop,
        tflops: gflop * batch as f64 / ms,
    })
}

/// Runs the benchmark on `data` (reshaped per model; moved to the device once).
/// TF32 and cuDNN's benchmark mode are read from LibTorch's current settings.
pub fn run(data: &Mnist, opts: &BenchOptions) -> Result<BenchReport> {
    if data.image_shape != [28, 28] {
        return Err(Error::InvalidArgument {
            name: "data",
            message: format!(
                "the recipe's models take 28x28 images but the data set's are {}x{}; pass a --data-dir with MNIST",
                data.image_shape[0], data.image_shape[1]
            ),
        });
    }
    let mut rows = Vec::new();
    let y = to_categorical(&data.train_labels, 10)?.f_to_device(opts.device)?;
    for &which in &opts.models {
        let x = data.train_images.f_reshape(input(which))?.f_to_device(opts.device)?;
        for &batch in &opts.batch_sizes {
            rows.push(bench_row(which, opts, (&x, &y), batch)?);
        }
    }
    Ok(BenchReport {
        device: tch_keras::device_name(opts.device),
        threads: tch::get_num_threads(),
        precision: opts.precision,
        tf32: tch_keras::precision::tf32()?,
        cudnn_benchmark: tch_keras::precision::cudnn_benchmark(),
        run_eagerly: opts.run_eagerly,
        rows,
    })
}

/// The report as a markdown table.
pub fn markdown(report: &BenchReport) -> String {
    let mut s = format!(
        "device: {} ({} LibTorch threads), precision {}, TF32 matmul {} / conv {}, cuDNN benchmark {}, {}\n\n| model | batch | ms/step | samples/s | epoch (s) | raw tch ms/step | fit / raw | peak RSS (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        report.device,
        report.threads,
        report.precision,
        on_off(report.tf32.matmul),
        on_off(report.tf32.conv),
        on_off(report.cudnn_benchmark),
        if report.run_eagerly { "eager steps" } else { "CUDA graphs where possible" }
    );
    let opt = |v: Option<f64>, digits: usize| v.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"));
    for r in &report.rows {
        s.push_str(&format!(
            "| {} | {} | {:.3} | {:.0} | {:.2} | {} | {} | {} |\n",
            r.model,
            r.batch_size,
            r.ms_per_step,
            r.samples_per_s,
            r.epoch_seconds,
            opt(r.raw_tch_ms_per_step, 3),
            opt(r.fit_over_raw, 2),
            opt(r.peak_rss_mib, 0)
        ));
    }
    s
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch_keras::{
        BatchNormalization, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, DataFormat, Dense, DepthwiseConv2D,
        Flatten, MultiHeadAttention, Padding, Residual, SeparableConv2D, LSTM,
    };

    fn gflop(model: Sequential) -> f64 {
        train_gflop_per_sample(&model).unwrap()
    }

    #[test]
    fn flops_count_what_is_inside_residual_blocks() {
        let same = |filters, kernel| Conv2D::new(filters, kernel).padding(Padding::Same);
        let inner = Residual::new().add(SeparableConv2D::new(4, 3).padding(Padding::Same));
        let block = Residual::new()
            .add(same(4, 3).strides(2))
            .add(BatchNormalization::new())
            .add(DepthwiseConv2D::new(3).padding(Padding::Same))
            .add(inner)
            .shortcut_add(Conv2D::new(4, 1).strides(2));
        let model =
            Sequential::new().input_shape([2, 6, 6]).add(same(4, 3)).add(block).add(Flatten::new()).add(Dense::new(5));
        // Kernel values times the positions they compute:
        let stem = (4 * 2 * 3 * 3) * (6 * 6); // Conv2D 2 -> 4 channels, 3x3, 6x6 outputs: 2592
        let strided = (4 * 4 * 3 * 3) * (3 * 3); // block.0, 4 -> 4, stride 2 to 3x3: 1296
        let depthwise = (4 * 3 * 3) * (3 * 3); // block.2, one 3x3 filter per channel: 324
        let separable = (4 * 3 * 3 + 4 * 4) * (3 * 3); // block.3.block.0: depthwise + pointwise: 468
        let projection = (4 * 4) * (3 * 3); // shortcut.0, 1x1: 144
        let dense = 36 * 5; // Flatten's 4 * 3 * 3 to 5 units: 180
        let macs = stem + strided + depthwise + separable + projection + dense;
        assert_eq!(macs, 5004);
        assert!((gflop(model) - 6.0 * macs as f64 / 1e9).abs() < 1e-15);
    }

    #[test]
    fn flops_count_attention_recurrent_and_transposed_layers() {
        // Self-attention on 5 steps of 8 features, 2 heads of size 3: the query, key and value
        // projections (8 * 2 * 3 each) and the output (2 * 3 * 8) per step, then per head the
        // scores (5 * 5 * 3) and the weighted sum (5 * 5 * 3).
        let attention = (3 * 8 * 2 * 3 + 2 * 3 * 8) * 5 + 2 * 5 * 5 * (3 + 3);
        assert_eq!(attention, 1260);
        let m = Sequential::new().input_shape([5, 8]).add(MultiHeadAttention::new(2, 3));
        assert!((gflop(m) - 6.0 * attention as f64 / 1e9).abs() < 1e-15);
        // An LSTM of 3 units: four gates' input (8) and recurrent (3) kernels, each step.
        let lstm = 4 * 3 * (8 + 3) * 5;
        let m = Sequential::new().input_shape([5, 8]).add(LSTM::new(3));
        assert!((gflop(m) - 6.0 * lstm as f64 / 1e9).abs() < 1e-15);
        // A transposed convolution scatters each of the 3x3 input pixels through its
        // [2, 4, 3, 3] kernel.
        let transposed = (2 * 4 * 3 * 3) * (3 * 3);
        let m = Sequential::new().input_shape([2, 3, 3]).add(Conv2DTranspose::new(4, 3).strides(2));
        assert!((gflop(m) - 6.0 * transposed as f64 / 1e9).abs() < 1e-15);
        // The same on channels-last sequences: 7 steps of 3 features through a [3, 2, 4] kernel.
        let transposed_1d = (3 * 2 * 4) * 7;
        let m = Sequential::new()
            .input_shape([7, 3])
            .add(Conv1DTranspose::new(2, 4).strides(2).data_format(DataFormat::ChannelsLast));
        assert!((gflop(m) - 6.0 * transposed_1d as f64 / 1e9).abs() < 1e-15);
    }

    #[test]
    fn flops_count_volume_convolutions() {
        // Conv3D 2 -> 3 channels, 2x2x2 kernel, valid on 3x4x5: 2x3x4 output positions.
        let conv = (3 * 2 * 2 * 2 * 2) * (2 * 3 * 4);
        assert_eq!(conv, 1152);
        let m = Sequential::new().input_shape([2, 3, 4, 5]).add(Conv3D::new(3, 2));
        assert!((gflop(m) - 6.0 * conv as f64 / 1e9).abs() < 1e-15);
    }
}
