//! Training curves and benchmark charts as PNG files, drawn with `plotters` and an embedded
//! DejaVu Sans font (assets/fonts/, Bitstream Vera licence), so no system fonts are needed.
//!
//! - [`history`] (or [`History::plot`]): one panel per quantity (loss, then each metric, then
//!   the learning rate when logged), training and validation series per epoch, with a legend.
//! - [`from_csv`]: the same from a [`CsvLogger`](crate::callbacks::CsvLogger) file.
//! - [`from_report`]: the same from the command line's `--report` JSON.
//! - [`bench()`] and [`bench_from_json`]: samples/s against batch size, one line per model.
//! - [`from_file`]: any of the three files above, recognised by their content.
//!
//! Epochs are drawn counted from 1, as the progress bar shows them (`Epoch 1/5`). Values that
//! are not finite or lie beyond 1e300 in size (1e-300 to 1e300 on the benchmark's log axes)
//! are left out of the axes and the curves; a CSV epoch that is not a finite number is an
//! error naming its line.
//!
//! ```no_run
//! # fn main() -> tch_keras::Result<()> {
//! # let history = tch_keras::History::new();
//! history.plot("curves.png", "CNN on MNIST")?;
//! tch_keras::plot::from_csv("log.csv", "log.png", &Default::default())?;
//! # Ok(()) }
//! ```
use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::{Error, History, Result};

const FONT_FAMILY: &str = "sans-serif";
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Size and title of a plot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotOptions {
    /// Width in pixels (default 1000).
    pub width: u32,
    /// Height in pixels (default 600).
    pub height: u32,
    /// The figure's title; `None` picks one from the data (model and data set for a report).
    pub title: Option<String>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self { width: 1000, height: 600, title: None }
    }
}

impl PlotOptions {
    /// Default size with this title.
    pub fn titled(title: impl Into<String>) -> Self {
        Self { title: Some(title.into()), ..Default::default() }
    }

    /// Sets the size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }
}

/// Matplotlib's first colours: training blue, validation orange, then green, red, purple, ...
const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Grid lines.
const GRID: RGBColor = RGBColor(225, 225, 225);

/// The largest magnitude placed on a linear axis: larger values, and non-finite ones, are left
/// out of the axis bounds and the curves, so the bounds and their span stay finite (plotters
/// searches tick marks forever on an infinite axis).
const MAX_DRAWN: f64 = 1e300;

/// Whether `v` can be placed on a linear axis.
fn drawable(v: f64) -> bool {
    v.is_finite() && v.abs() <= MAX_DRAWN
}

/// Whether `v` can be placed on a log axis: positive, within `1e-300..=1e300`.
fn log_drawable(v: f64) -> bool {
    (1.0 / MAX_DRAWN..=MAX_DRAWN).contains(&v)
}

/// Named series over epochs: what every training-curve plot is drawn from.
struct Curves {
    /// Epoch numbers as drawn (from 1).
    epochs: Vec<f64>,
    /// `(key, values)` with Keras's log keys (`loss`, `accuracy`, `val_loss`, ...).
    series: Vec<(String, Vec<f64>)>,
}

impl Curves {
    /// The series with at least one number: a CsvLogger file of a run without validation has
    /// `val_` columns of `NA` only, which get no legend entry or panel.
    fn with_values(&self) -> Curves {
        let series = self.series.iter().filter(|(_, v)| v.iter().any(|x| x.is_finite())).cloned().collect();
        Curves { epochs: self.epochs.clone(), series }
    }
}

fn plot_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Plot { path: path.to_path_buf(), message: message.into() }
}

/// Draws `history` into the PNG at `path`.
///
/// Fails with [`Error::Plot`] when the history has no epochs, and with [`Error::Io`] or
/// [`Error::Plot`] when the file cannot be written.
pub fn history(history: &History, path: impl AsRef<Path>, options: &PlotOptions) -> Result<()> {
    let path = path.as_ref();
    let keys = history.keys();
    let curves = Curves {
        epochs: history.epochs.iter().map(|&e| e as f64 + 1.0).collect(),
        series: keys
            .iter()
            .map(|k| (k.clone(), history.logs.iter().map(|l| l.get(k).unwrap_or(f64::NAN)).collect()))
            .collect(),
    };
    let title = options.title.clone().unwrap_or_else(|| "Training curves".into());
    draw_curves(&curves, path, &title, options)
}

impl History {
    /// Draws the training and validation curves into a PNG (1000x600) titled `title`, such as
    /// "CNN on MNIST". See [`plot::history`](history) for the size and errors.
    pub fn plot(&self, path: impl AsRef<Path>, title: &str) -> Result<()> {
        history(self, path, &PlotOptions::titled(title))
    }
}

/// Draws a [`CsvLogger`](crate::callbacks::CsvLogger) file (`epoch,<keys>` header, one row per
/// epoch, `NA` for missing values; `,` or `;` or tab separated) into the PNG at `png`. The
/// default title is the CSV file's name.
pub fn from_csv(csv: impl AsRef<Path>, png: impl AsRef<Path>, options: &PlotOptions) -> Result<()> {
    let csv = csv.as_ref();
    let text = std::fs::read_to_string(csv).map_err(|e| Error::io(csv, e))?;
    let curves = parse_csv(&text).map_err(|m| plot_error(csv, m))?;
    let title = options.title.clone().unwrap_or_else(|| file_name(csv));
    draw_curves(&curves, png.as_ref(), &title, options)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parse_csv(text: &str) -> std::result::Result<Curves, String> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("the file is empty: train at least one epoch with the CsvLogger first")?;
    let sep = [',', ';', '\t'].into_iter().find(|c| header.contains(*c)).unwrap_or(',');
    let names: Vec<&str> = header.split(sep).map(str::trim).collect();
    if names.first() != Some(&"epoch") {
        return Err(format!("the header '{header}' does not start with 'epoch': expected a CsvLogger file"));
    }
    let mut curves =
        Curves { epochs: Vec::new(), series: names[1..].iter().map(|n| (n.to_string(), Vec::new())).collect() };
    for (number, line) in lines {
        let cells: Vec<&str> = line.split(sep).map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(format!("line {number} has {} fields where the header has {}", cells.len(), names.len()));
        }
        let epoch: f64 = cells[0]
            .parse()
            .ok()
            .filter(|e: &f64| e.is_finite())
            .ok_or_else(|| format!("line {number}: epoch '{}' is not a finite number", cells[0]))?;
        curves.epochs.push(epoch + 1.0);
        for ((_, values), cell) in curves.series.iter_mut().zip(&cells[1..]) {
            values.push(cell.parse().unwrap_or(f64::NAN));
        }
    }
    Ok(curves)
}

/// Draws the command line's `--report` JSON (`model`, `dataset` and
/// `history: {loss, accuracy, val_loss, val_accuracy}`) into the PNG at `png`. The default
/// title is "`<model>` on `<dataset>`".
pub fn from_report(json: impl AsRef<Path>, png: impl AsRef<Path>, options: &PlotOptions) -> Result<()> {
    let json = json.as_ref();
    let value = read_json(json)?;
    let (curves, title) = parse_report(&value).map_err(|m| plot_error(json, m))?;
    let title = options.title.clone().unwrap_or(title);
    draw_curves(&curves, png.as_ref(), &title, options)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| plot_error(path, format!("not valid JSON: {e}")))
}

fn parse_report(value: &serde_json::Value) -> std::result::Result<(Curves, String), String> {
    let history = value
        .get("history")
        .and_then(|h| h.as_object())
        .ok_or("no 'history' object: expected the JSON that tch-keras --report writes")?;
    let mut series = Vec::new();
    let mut epochs = 0;
    for (key, values) in history {
        let values = values.as_array().ok_or(format!("history.{key} is not an array of numbers"))?;
        let values: Vec<f64> = values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect();
        if !values.is_empty() {
            epochs = epochs.max(values.len());
            series.push((key.clone(), values));
        }
    }
    let first = value.get("first_epoch").and_then(|e| e.as_u64()).unwrap_or(0) as f64;
    let curves = Curves { epochs: (0..epochs).map(|e| first + e as f64 + 1.0).collect(), series };
    let text = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let title = match (text("model"), text("dataset")) {
        (m, d) if !m.is_empty() && !d.is_empty() => title_for(&m, &d),
        (m, _) if !m.is_empty() => m.to_uppercase(),
        _ => "Training curves".to_string(),
    };
    Ok((curves, title))
}

/// The title of a run: `title_for("cnn", "mnist")` is "CNN on MNIST" (model names upper-cased,
/// the data sets' usual spelling: MNIST, Fashion-MNIST).
pub fn title_for(model: &str, dataset: &str) -> String {
    format!("{} on {}", model.to_uppercase(), dataset_title(dataset))
}

/// `mnist` -> `MNIST`, `fashion-mnist` -> `Fashion-MNIST`; other names as they are.
fn dataset_title(name: &str) -> String {
    match name {
        "mnist" => "MNIST".into(),
        "fashion-mnist" => "Fashion-MNIST".into(),
        other => other.into(),
    }
}

/// What a benchmark chart shows. The JSON that `tch-keras bench --report` writes deserializes
/// into it (other fields are ignored, so reports of earlier and later versions draw too).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchRuns {
    /// The device timed, such as `cpu` or `cuda:0`.
    pub device: String,
    /// The precision timed, such as `f32` or `bf16`.
    #[serde(default)]
    pub precision: Option<String>,
    /// Whether `fit` ran eagerly (no CUDA graphs).
    #[serde(default)]
    pub run_eagerly: bool,
    /// One row per model and batch size.
    pub rows: Vec<BenchPoint>,
}

/// One timed configuration of a [`BenchRuns`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchPoint {
    /// The model's name.
    pub model: String,
    /// Samples per step.
    pub batch_size: usize,
    /// Training samples per second through `fit`.
    pub samples_per_s: f64,
    /// Milliseconds per step of the hand-written tch loop, when it was timed.
    #[serde(default)]
    pub raw_tch_ms_per_step: Option<f64>,
}

/// Draws a benchmark: samples/s against batch size (both on log scales), one solid line per
/// model through `fit`, and a dashed one per model for the hand-written tch loop where it was
/// timed. The default title names the device and precision. No rows is an [`Error::Plot`].
pub fn bench(runs: &BenchRuns, png: impl AsRef<Path>, options: &PlotOptions) -> Result<()> {
    draw_bench(runs, png.as_ref(), options)
}

/// [`bench()`] from the JSON that `tch-keras bench --report` writes.
pub fn bench_from_json(json: impl AsRef<Path>, png: impl AsRef<Path>, options: &PlotOptions) -> Result<()> {
    let json = json.as_ref();
    let value = read_json(json)?;
    let runs: BenchRuns =
        serde_json::from_value(value).map_err(|e| plot_error(json, format!("not a tch-keras bench report: {e}")))?;
    draw_bench(&runs, png.as_ref(), options)
}

/// One line of the benchmark chart: label, dashed or not, and its points.
type BenchLine = (String, bool, Vec<(f64, f64)>);

/// One line per model and timing (`fit` solid, the hand-written loop dashed): its legend label,
/// whether it is dashed, and its (batch size, samples/s) points.
fn bench_lines(report: &BenchRuns) -> Vec<BenchLine> {
    let mut lines: Vec<BenchLine> = Vec::new();
    for row in &report.rows {
        let raw = row.raw_tch_ms_per_step.filter(|ms| *ms > 0.0).map(|ms| row.batch_size as f64 * 1000.0 / ms);
        for (dashed, value) in [(false, Some(row.samples_per_s)), (true, raw)] {
            let Some(v) = value.filter(|v| log_drawable(*v) && log_drawable(row.batch_size as f64)) else { continue };
            let name = if dashed { format!("{} (tch loop)", row.model) } else { format!("{} (fit)", row.model) };
            match lines.iter_mut().find(|l| l.0 == name) {
                Some(line) => line.2.push((row.batch_size as f64, v)),
                None => lines.push((name, dashed, vec![(row.batch_size as f64, v)])),
            }
        }
    }
    lines
}

// One plotters drawing sequence, kept whole: splitting it would mean spelling out plotters'
// nested chart types in every helper's signature.
fn draw_bench(report: &BenchRuns, png: &Path, options: &PlotOptions) -> Result<()> {
    if report.rows.is_empty() {
        return Err(plot_error(png, "the benchmark report has no rows: time at least one model and batch size"));
    }
    let lines = bench_lines(report);
    let title = options.title.clone().unwrap_or_else(|| {
        let eager = if report.run_eagerly { ", eager" } else { "" };
        let precision = report.precision.as_deref().unwrap_or("f32");
        format!("Training throughput on {} ({precision}{eager})", report.device)
    });
    let points: Vec<(f64, f64)> = lines.iter().flat_map(|l| l.2.iter().copied()).collect();
    let (x0, x1) = log_bounds(points.iter().map(|p| p.0));
    let (y0, y1) = log_bounds(points.iter().map(|p| p.1));
    // Room above the highest line for the legend.
    let y1 = y1 * 2.5;
    let mut batch_sizes: Vec<f64> = points.iter().map(|p| p.0).collect();
    batch_sizes.sort_by(f64::total_cmp);
    batch_sizes.dedup();
    let root = canvas(png, options)?;
    let root = root.titled(&title, font(22)).map_err(|e| plot_error(png, e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(batch_sizes),
            (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
        )
        .map_err(|e| plot_error(png, e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("batch size")
        .y_desc("samples / s")
        .label_style(font(14))
        .axis_desc_style(font(16))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| si(*y))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(|e| plot_error(png, e.to_string()))?;
    let mut models: Vec<String> = Vec::new();
    for (name, dashed, mut pts) in lines {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let model = name.split(' ').next().unwrap_or("").to_string();
        let index = models.iter().position(|m| *m == model).unwrap_or_else(|| {
            models.push(model);
            models.len() - 1
        });
        let color = COLORS[index % COLORS.len()];
        let style = color.stroke_width(2);
        let anno = if dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))
        }
        .map_err(|e| plot_error(png, e.to_string()))?;
        let (gap_from, gap_to) = if dashed { (7, 13) } else { (10, 10) };
        anno.label(name).legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (gap_from, 0)], style)
                + PathElement::new(vec![(gap_to, 0), (20, 0)], style)
        });
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| plot_error(png, e.to_string()))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft, png)?;
    root.present().map_err(|e| plot_error(png, e.to_string()))
}

/// Draws whichever file this is: a CsvLogger file (`.csv`), a bench report (JSON with `rows`)
/// or a training report (JSON with `history`).
pub fn from_file(file: impl AsRef<Path>, png: impl AsRef<Path>, options: &PlotOptions) -> Result<()> {
    let file = file.as_ref();
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    if text.trim_start().starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| plot_error(file, format!("not valid JSON: {e}")))?;
        if value.get("rows").is_some() {
            return bench_from_json(file, png, options);
        }
        return from_report(file, png, options);
    }
    from_csv(file, png, options)
}

fn ensure_font() {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    REGISTERED.get_or_init(|| plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok());
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}

/// A white canvas of the requested size, after checking the size and the output folder.
fn canvas<'a>(path: &'a Path, options: &PlotOptions) -> Result<DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>> {
    ensure_font();
    if !(200..=10_000).contains(&options.width) || !(150..=10_000).contains(&options.height) {
        return Err(plot_error(
            path,
            format!(
                "size {}x{} is out of range: use a width of 200 to 10000 and a height of 150 to 10000 pixels",
                options.width, options.height
            ),
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(Error::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("the folder {} does not exist", dir.display()),
                ),
            ));
        }
    }
    let root = BitMapBackend::new(path, (options.width, options.height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e.to_string()))?;
    Ok(root)
}

/// The panel order: loss first, then the metrics as logged, the learning rate last.
fn panels(curves: &Curves) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (key, _) in &curves.series {
        let base = key.strip_prefix("val_").unwrap_or(key);
        if !names.iter().any(|n| n == base) {
            names.push(base.to_string());
        }
    }
    let rank = |n: &String| match n.as_str() {
        "loss" => 0,
        "learning_rate" | "lr" => 2,
        _ => 1,
    };
    names.sort_by_key(rank); // stable: metrics keep their order
    names
}

fn draw_curves(curves: &Curves, path: &Path, title: &str, options: &PlotOptions) -> Result<()> {
    let curves = &curves.with_values();
    if curves.epochs.is_empty() || curves.series.is_empty() {
        return Err(plot_error(path, "the history has no epochs to draw: train at least one epoch first"));
    }
    let names = panels(curves);
    let n = names.len();
    let cols = if n <= 3 { n } else { (n as f64).sqrt().ceil() as usize };
    let rows = n.div_ceil(cols);
    let root = canvas(path, options)?;
    let root = root.titled(title, font(22)).map_err(|e| plot_error(path, e.to_string()))?;
    let areas = root.split_evenly((rows, cols));
    for (area, name) in areas.iter().zip(&names) {
        let val = format!("val_{name}");
        let get = |k: &str| curves.series.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let lines: Vec<(&str, &Vec<f64>)> = [("training", get(name)), ("validation", get(&val))]
            .into_iter()
            .filter_map(|(l, v)| v.map(|v| (l, v)))
            .collect();
        draw_panel(area, name, &curves.epochs, &lines, path)?;
    }
    root.present().map_err(|e| plot_error(path, e.to_string()))
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    name: &str,
    epochs: &[f64],
    lines: &[(&str, &Vec<f64>)],
    path: &Path,
) -> Result<()> {
    let (y0, y1) = padded(lines.iter().flat_map(|(_, v)| v.iter().copied()), 0.06, 0.0);
    let (x0, x1) = padded(epochs.iter().copied(), 0.04, 0.3);
    let mut chart = ChartBuilder::on(area)
        .caption(name.replace('_', " "), font(18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| plot_error(path, e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(epochs.len().clamp(2, 12))
        .y_labels(8)
        .label_style(font(13))
        .axis_desc_style(font(14))
        .x_label_formatter(&|x| if x.fract().abs() < 1e-9 { format!("{x:.0}") } else { String::new() })
        .y_label_formatter(&|y| axis_number(*y, y1 - y0))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(|e| plot_error(path, e.to_string()))?;
    for (i, (label, values)) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(f64, f64)> =
            epochs.iter().copied().zip(values.iter().copied()).filter(|&(e, v)| drawable(e) && drawable(v)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| plot_error(path, e.to_string()))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| plot_error(path, e.to_string()))?;
    }
    // The legend goes where the curves are not at the last epoch: below them when they end high.
    let ends_high = lines
        .first()
        .and_then(|(_, v)| v.iter().rev().find(|v| drawable(**v)))
        .is_some_and(|last| *last > (y0 + y1) / 2.0);
    let position = if ends_high { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight };
    legend(&mut chart, position, path)
}

fn legend<'a, X, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
    path: &Path,
) -> Result<()>
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(|e| plot_error(path, e.to_string()))
}

/// Bounds of the [`drawable`] `values` with `share` of their span as headroom either side, at
/// least `least` and a millionth of their size (so the span stands well above their rounding);
/// with no `least`, a flat series gets a band around its value. No values give 0 to 1.
fn padded(values: impl Iterator<Item = f64>, share: f64, least: f64) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| drawable(*v)).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let pad = if span > 0.0 || least > 0.0 {
        (span * share).max(least).max(lo.abs().max(hi.abs()) * 1e-6)
    } else if lo != 0.0 {
        lo.abs() * 0.25
    } else {
        1.0
    };
    (lo - pad, hi + pad)
}

/// Bounds for a log axis: a quarter of a factor of two beyond the [`log_drawable`] data.
fn log_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| log_drawable(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (1.0, 10.0);
    }
    (lo / 1.25, hi * 1.25)
}

/// Tick labels with as many decimals as the axis span needs.
fn axis_number(v: f64, span: f64) -> String {
    let decimals = if span >= 10.0 { 0 } else { (2.0 - span.log10().floor()).clamp(1.0, 6.0) as usize };
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// Ticks for a log axis: 1, 2 and 5 times each power of ten within the bounds.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade > 0.0 && decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let t = decade * m;
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
        decade *= 10.0;
    }
    ticks
}

/// 1200 -> 1.2k, 250000 -> 250k, 3400000 -> 3.4M.
fn si(v: f64) -> String {
    let (scaled, unit) = match v.abs() {
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let text =
        if scaled.abs() >= 100.0 || scaled.fract() == 0.0 { format!("{scaled:.0}") } else { format!("{scaled:.1}") };
    format!("{text}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_without_a_value_are_not_drawn() {
        let curves = parse_csv("epoch,loss,val_loss,accuracy\n0,1.0,NA,nan\n1,0.5,NA,0.75\n").unwrap();
        let kept: Vec<String> = curves.with_values().series.into_iter().map(|(k, _)| k).collect();
        assert_eq!(kept, ["loss", "accuracy"]);
        assert_eq!(panels(&curves.with_values()), ["loss", "accuracy"]);
    }
}
