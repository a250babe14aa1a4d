//! `ProgbarLogger`: Keras's progress display.
//!
//! On a terminal the bar is redrawn in place (at most ten times a second) with an ETA:
//! `123/938 [===>..........................] - ETA: 10s - loss: 0.2011 - acc: 0.9410`,
//! and each epoch ends with
//! `938/938 [==============================] - 12s 13ms/step - loss: 0.0604 - acc: 0.9816 - val_loss: 0.0390 - val_acc: 0.9874`.
//! When the output is not a terminal, or with [`Verbosity::EpochLine`], only one line is printed
//! per epoch. `Epoch 1/3` precedes each epoch.
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{BatchLogs, Callback, TrainParams};
use crate::{Error, Logs, Result, Sequential};

/// How much `fit` prints (Keras's `verbose` 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Nothing.
    Silent,
    /// A progress bar (one line per epoch when not on a terminal).
    #[default]
    ProgressBar,
    /// One line per epoch.
    EpochLine,
}

impl From<u8> for Verbosity {
    fn from(v: u8) -> Self {
        match v {
            0 => Verbosity::Silent,
            1 => Verbosity::ProgressBar,
            _ => Verbosity::EpochLine,
        }
    }
}

const WIDTH: usize = 30;
const REFRESH: Duration = Duration::from_millis(100);

fn format_eta(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else if s >= 60 {
        format!("{}:{:02}", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn format_per_step(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.0}s/step")
    } else if secs >= 1e-3 {
        format!("{:.0}ms/step", secs * 1e3)
    } else {
        format!("{:.0}us/step", secs * 1e6)
    }
}

/// One progress line in Keras's format. With `bar` false it is the verbose-2 form
/// (`938/938 - 12s - 13ms/step - loss: ...`).
pub fn progress_line(step: usize, total: usize, elapsed: Duration, logs: &Logs, bar: bool) -> String {
    let digits = total.to_string().len();
    let mut line = format!("{step:>digits$}/{total}");
    let secs = elapsed.as_secs_f64();
    let per_step = if step > 0 { secs / step as f64 } else { 0.0 };
    if bar {
        let filled = (WIDTH * step.min(total)).checked_div(total).unwrap_or(WIDTH);
        let mut b = String::with_capacity(WIDTH + 2);
        b.push('[');
        if filled > 0 {
            b.push_str(&"=".repeat(filled - 1));
            b.push(if step < total { '>' } else { '=' });
        }
        b.push_str(&".".repeat(WIDTH - filled));
        b.push(']');
        line.push(' ');
        line.push_str(&b);
        if step < total {
            line.push_str(&format!(" - ETA: {}", format_eta(per_step * (total - step) as f64)));
        } else {
            line.push_str(&format!(" - {secs:.0}s {}", format_per_step(per_step)));
        }
    } else {
        line.push_str(&format!(" - {secs:.0}s - {}", format_per_step(per_step)));
    }
    if !logs.is_empty() {
        line.push_str(" - ");
        line.push_str(&logs.to_string());
    }
    line
}

/// The live line for a source of unknown length (Keras: `    123/Unknown 5s 40ms/step - ...`).
fn unknown_length_line(step: usize, elapsed: Duration, logs: &Logs) -> String {
    let secs = elapsed.as_secs_f64();
    let per_step = if step > 0 { secs / step as f64 } else { 0.0 };
    let mut line = format!("{step:>7}/Unknown {secs:.0}s {}", format_per_step(per_step));
    if !logs.is_empty() {
        line.push_str(" - ");
        line.push_str(&logs.to_string());
    }
    line
}

enum Output {
    Terminal(Box<dyn Fn() -> ProgressDrawTarget + Send>),
    Lines(Box<dyn Write + Send>),
}

/// The progress display. `fit` adds one itself unless `verbose` is silent.
pub struct ProgbarLogger {
    verbose: Verbosity,
    output: Output,
    params: Option<TrainParams>,
    started: Instant,
    last_draw: Option<Instant>,
    bar: Option<ProgressBar>,
    /// Steps finished in the current epoch.
    seen: usize,
}

impl std::fmt::Debug for ProgbarLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgbarLogger").field("verbose", &self.verbose).finish_non_exhaustive()
    }
}

impl ProgbarLogger {
    /// Draws on standard error: a live bar on a terminal, epoch lines otherwise.
    pub fn new(verbose: Verbosity) -> Self {
        let output = if std::io::stderr().is_terminal() && verbose == Verbosity::ProgressBar {
            Output::Terminal(Box::new(ProgressDrawTarget::stderr))
        } else {
            Output::Lines(Box::new(std::io::stderr()))
        };
        Self::with_output(verbose, output)
    }

    /// Draws a live bar into a terminal-like target made by `target` (for example an
    /// `indicatif::InMemoryTerm`).
    pub fn to_terminal(verbose: Verbosity, target: impl Fn() -> ProgressDrawTarget + Send + 'static) -> Self {
        Self::with_output(verbose, Output::Terminal(Box::new(target)))
    }

    /// Writes one line per epoch to `writer`.
    pub fn to_writer(verbose: Verbosity, writer: impl Write + Send + 'static) -> Self {
        Self::with_output(verbose, Output::Lines(Box::new(writer)))
    }

    fn with_output(verbose: Verbosity, output: Output) -> Self {
        Self { verbose, output, params: None, started: Instant::now(), last_draw: None, bar: None, seen: 0 }
    }

    fn write_line(&mut self, line: &str) -> Result<()> {
        match &mut self.output {
            Output::Lines(w) => {
                writeln!(w, "{line}").and_then(|_| w.flush()).map_err(|e| Error::io("<progress output>", e))
            }
            Output::Terminal(_) => {
                if let Some(bar) = &self.bar {
                    bar.println(line);
                }
                Ok(())
            }
        }
    }

    fn live(&self) -> bool {
        self.verbose == Verbosity::ProgressBar && matches!(self.output, Output::Terminal(_))
    }
}

impl Callback for ProgbarLogger {
    fn set_params(&mut self, params: &TrainParams) {
        self.params = Some(*params);
    }

    fn on_epoch_begin(&mut self, _model: &mut Sequential, epoch: usize) -> Result<()> {
        if self.verbose == Verbosity::Silent {
            return Ok(());
        }
        let (epochs, steps) = self.params.map_or((0, None), |p| (p.epochs, p.steps));
        self.started = Instant::now();
        self.last_draw = None;
        self.seen = 0;
        if let Output::Terminal(target) = &self.output {
            let bar = ProgressBar::with_draw_target(steps.map(|s| s as u64), target());
            bar.set_style(ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
            self.bar = Some(bar);
        }
        self.write_line(&format!("Epoch {}/{}", epoch + 1, epochs))
    }

    fn on_train_batch_end(&mut self, _model: &mut Sequential, step: usize, logs: &BatchLogs<'_>) -> Result<()> {
        self.seen = step + 1;
        if !self.live() {
            return Ok(());
        }
        let steps = self.params.and_then(|p| p.steps);
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now - t < REFRESH) || steps.is_some_and(|s| step + 1 >= s) {
            return Ok(());
        }
        self.last_draw = Some(now);
        let line = match steps {
            Some(total) => progress_line(step + 1, total, now - self.started, &logs.logs()?, true),
            None => unknown_length_line(step + 1, now - self.started, &logs.logs()?),
        };
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64 + 1);
            bar.set_message(line);
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, _model: &mut Sequential, _epoch: usize, logs: &mut Logs) -> Result<()> {
        if self.verbose == Verbosity::Silent {
            return Ok(());
        }
        // A source of unknown length has its length now (Keras: the steps seen).
        let steps = self.params.and_then(|p| p.steps).unwrap_or(self.seen);
        let line = progress_line(steps, steps, self.started.elapsed(), logs, self.verbose == Verbosity::ProgressBar);
        match (&self.output, self.bar.take()) {
            (Output::Terminal(_), Some(bar)) => {
                bar.set_position(steps as u64);
                bar.finish_with_message(line);
                Ok(())
            }
            _ => self.write_line(&line),
        }
    }
}
