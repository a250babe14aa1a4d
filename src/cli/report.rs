//! The `--report` JSON of a training run, and the epoch timer it reads.
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use tch_keras::data::DatasetKind;
use tch_keras::precision::{self, Tf32};
use tch_keras::{device_name, Callback, History, Logs, Precision, Sequential};

/// Records each epoch's wall time for the report.
#[derive(Default)]
pub struct EpochTimer {
    started: Option<Instant>,
    /// Seconds per epoch, in order.
    pub seconds: Vec<f64>,
}

impl Callback for EpochTimer {
    fn on_epoch_begin(&mut self, _model: &mut Sequential, _epoch: usize) -> tch_keras::Result<()> {
        self.started = Some(Instant::now());
        Ok(())
    }
    fn on_epoch_end(&mut self, _model: &mut Sequential, _epoch: usize, _logs: &mut Logs) -> tch_keras::Result<()> {
        if let Some(t) = self.started.take() {
            self.seconds.push(t.elapsed().as_secs_f64());
        }
        Ok(())
    }
}

/// The per-epoch series the report keeps.
#[derive(Debug, Serialize)]
struct Series {
    loss: Vec<f64>,
    accuracy: Vec<f64>,
    val_loss: Vec<f64>,
    val_accuracy: Vec<f64>,
}

/// What `--report` writes.
#[derive(Debug, Serialize)]
pub struct Report {
    model: String,
    dataset: &'static str,
    device: String,
    params: i64,
    epochs: usize,
    /// The first epoch this run trained (from 0): a resumed run's history starts there.
    first_epoch: usize,
    batch_size: usize,
    learning_rate: f64,
    seed: u64,
    precision: Precision,
    tf32: Tf32,
    cudnn_benchmark: bool,
    cuda_graph_replays: u64,
    epoch_seconds: Vec<f64>,
    history: Series,
    test_loss: f64,
    test_accuracy: f64,
    peak_rss_mib: Option<f64>,
    /// The CUDA caching allocator's peak allocated MiB on the run's GPU (as PyTorch's
    /// `torch.cuda.max_memory_allocated`); absent on the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_peak_allocated_mib: Option<f64>,
    /// Processes that trained together (1 without a launcher).
    pub world_size: usize,
    /// Their collective backend, in data-parallel training.
    pub backend: Option<String>,
}

impl Report {
    /// The report of a run of `model` whose accuracy is logged under `metric`.
    pub fn new(
        model: &mut Sequential,
        dataset: DatasetKind,
        batch_size: usize,
        history: &History,
        metric: &str,
        epoch_seconds: Vec<f64>,
        (test_loss, test_accuracy): (f64, f64),
    ) -> Result<Self> {
        let series = |k: &str| history.series(k).unwrap_or_default();
        Ok(Self {
            model: model.model_name().to_string(),
            dataset: dataset.name(),
            device: device_name(model.model_device()),
            params: model.count_params()?,
            epochs: history.epochs.len(),
            first_epoch: history.epochs.first().copied().unwrap_or(0),
            batch_size,
            learning_rate: model.learning_rate()?,
            seed: model.model_seed(),
            precision: model.model_precision(),
            tf32: precision::tf32()?,
            cudnn_benchmark: precision::cudnn_benchmark(),
            cuda_graph_replays: model.cuda_graph_replays(),
            epoch_seconds,
            history: Series {
                loss: series("loss"),
                accuracy: series(metric),
                val_loss: series("val_loss"),
                val_accuracy: series(&format!("val_{metric}")),
            },
            test_loss,
            test_accuracy,
            peak_rss_mib: crate::bench::peak_rss_mib(),
            gpu_peak_allocated_mib: tch_keras::memory::peak_cuda_mib(model.model_device()),
            world_size: 1,
            backend: None,
        })
    }

    /// Writes the report as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(path, json).with_context(|| format!("could not write the report to {}", path.display()))
    }
}
