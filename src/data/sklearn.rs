//! scikit-learn's small real data sets, as `scripts/setup.sh` provisions them from its wheel
//! into `<cache>/data/sklearn` (no Python needed to read them).
//!
//! | data set | file | samples x features | target |
//! |---|---|---|---|
//! | iris | `iris.csv` | 150 x 4 | 3 classes |
//! | wine | `wine_data.csv` | 178 x 13 | 3 classes |
//! | breast cancer | `breast_cancer.csv` | 569 x 30 | 2 classes (malignant, benign) |
//! | digits | `digits.csv.gz` | 1797 x 64 (8x8 pixels, 0-16) | 10 classes |
//! | diabetes | `diabetes_data_raw.csv.gz` + `diabetes_target.csv.gz` | 442 x 10 | a real value |
//!
//! The three plain `.csv` files start with a line `n_samples,n_features,class names...`, then
//! `n_samples` rows of the features and the class index; [`load`] checks the rows against
//! those counts. `digits.csv.gz` has no header (64 pixels then the digit per row). The diabetes
//! features are space-separated without a header (age, sex, bmi, bp, s1-s6, unscaled, unlike
//! `sklearn.datasets.load_diabetes`'s default `scaled=True`), the target file one number per
//! line.
use std::io::BufRead;
use std::path::{Path, PathBuf};

use tch::Tensor;

use super::csv::{open_maybe_gz, read_csv, CsvOptions, Delimiter, LabelType};
use super::{cache_dir, FETCH_COMMAND};
use crate::{Error, Result};

/// scikit-learn's bundled data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToyDataset {
    /// Fisher's iris flowers: 150 x 4, 3 classes.
    Iris,
    /// Wine recognition: 178 x 13, 3 classes.
    Wine,
    /// Wisconsin diagnostic breast cancer: 569 x 30, 2 classes.
    BreastCancer,
    /// Handwritten digits, 8x8 pixels (0-16): 1797 x 64, 10 classes.
    Digits,
    /// Diabetes progression: 442 x 10, real-valued target.
    Diabetes,
}

impl ToyDataset {
    /// The data file's name in the folder.
    pub fn file_name(self) -> &'static str {
        match self {
            ToyDataset::Iris => "iris.csv",
            ToyDataset::Wine => "wine_data.csv",
            ToyDataset::BreastCancer => "breast_cancer.csv",
            ToyDataset::Digits => "digits.csv.gz",
            ToyDataset::Diabetes => "diabetes_data_raw.csv.gz",
        }
    }
}

/// A loaded table: features float32 `[N, F]`, targets `[N]` (int64 classes, or float32 for
/// diabetes).
#[derive(Debug)]
pub struct Toy {
    /// Features.
    pub x: Tensor,
    /// Class indices (int64) or values (float32).
    pub y: Tensor,
    /// Class names indexed by label (empty for diabetes).
    pub class_names: Vec<String>,
    /// Feature names where scikit-learn's files or documentation give them (diabetes), else
    /// empty.
    pub feature_names: Vec<String>,
}

/// Where `scripts/setup.sh` puts the files: `<cache>/data/sklearn`.
pub fn default_dir() -> PathBuf {
    cache_dir().join("data").join("sklearn")
}

fn missing(path: &Path) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        message: format!(
            "missing; run {FETCH_COMMAND} to fetch scikit-learn's data sets, or pass the folder that holds them"
        ),
    }
}

/// Reads the `n_samples,n_features,class names...` line of an iris-style file, and checks
/// `n_features` against the first data row (features then the label), so a damaged count
/// never sizes the column list.
fn counts_line(path: &Path) -> Result<(usize, usize, Vec<String>)> {
    let mut input = open_maybe_gz(path)?;
    let (mut line, mut row) = (String::new(), String::new());
    input.read_line(&mut line).map_err(|e| Error::io(path, e))?;
    input.read_line(&mut row).map_err(|e| Error::io(path, e))?;
    let fields: Vec<&str> = line.trim().split(',').map(str::trim).collect();
    let error = |message: String| Error::DataFormat { path: path.to_path_buf(), line: Some(1), column: None, message };
    let bad = || error(format!("expected 'n_samples,n_features,class names...', got '{}'", line.trim()));
    if fields.len() < 3 {
        return Err(bad());
    }
    let n = fields[0].parse().map_err(|_| bad())?;
    let f: usize = fields[1].parse().map_err(|_| bad())?;
    let width = if row.trim().is_empty() { 0 } else { row.trim().split(',').count() };
    if f.checked_add(1) != Some(width) {
        return Err(error(format!(
            "announces {f} features, but line 2 holds {width} fields where {f} features and the label were expected; \
             the file is damaged: run {FETCH_COMMAND} to fetch it again"
        )));
    }
    Ok((n, f, fields[2..].iter().map(|s| s.to_string()).collect()))
}

fn count_error(path: &Path, message: String) -> Error {
    Error::DataFormat { path: path.to_path_buf(), line: None, column: None, message }
}

/// Loads one of the data sets from `dir`, or from [`default_dir`].
pub fn load(which: ToyDataset, dir: Option<&Path>) -> Result<Toy> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_dir);
    let path = dir.join(which.file_name());
    if !path.is_file() {
        return Err(missing(&path));
    }
    match which {
        ToyDataset::Iris | ToyDataset::Wine | ToyDataset::BreastCancer => {
            let (n, f, class_names) = counts_line(&path)?;
            let options = CsvOptions::new().has_header(false).skip_lines(1).features(0..f).label(f);
            let data = read_csv(&path, &options)?;
            let rows = data.x.size()[0] as usize;
            if rows != n {
                return Err(count_error(
                    &path,
                    format!("the first line announces {n} samples, the file has {rows} rows"),
                ));
            }
            check_classes(&path, &data.y, class_names.len())?;
            Ok(Toy { x: data.x, y: data.y.unwrap_or_else(Tensor::new), class_names, feature_names: Vec::new() })
        }
        ToyDataset::Digits => {
            let data = read_csv(&path, &CsvOptions::new().has_header(false).features(0..64).label(64))?;
            check_classes(&path, &data.y, 10)?;
            let class_names = (0..10).map(|d| d.to_string()).collect();
            Ok(Toy { x: data.x, y: data.y.unwrap_or_else(Tensor::new), class_names, feature_names: Vec::new() })
        }
        ToyDataset::Diabetes => {
            let x = read_csv(&path, &CsvOptions::new().has_header(false).delimiter(Delimiter::Whitespace))?.x;
            let target_path = dir.join("diabetes_target.csv.gz");
            if !target_path.is_file() {
                return Err(missing(&target_path));
            }
            let options = CsvOptions::new().has_header(false).delimiter(Delimiter::Whitespace);
            let t = read_csv(&target_path, &options.label(0).label_type(LabelType::Value).features([0]))?;
            let y = t.y.unwrap_or_else(Tensor::new);
            if y.size()[0] != x.size()[0] {
                return Err(count_error(
                    &target_path,
                    format!("has {} targets for the {} rows of {}", y.size()[0], x.size()[0], path.display()),
                ));
            }
            let feature_names =
                ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"].iter().map(|s| s.to_string()).collect();
            Ok(Toy { x, y, class_names: Vec::new(), feature_names })
        }
    }
}

/// Checks that every label is a class index below `classes`.
fn check_classes(path: &Path, y: &Option<Tensor>, classes: usize) -> Result<()> {
    let Some(y) = y else { return Ok(()) };
    let (lo, hi) = (y.f_min()?.int64_value(&[]), y.f_max()?.int64_value(&[]));
    if lo < 0 || hi >= classes as i64 {
        return Err(count_error(path, format!("labels range over [{lo}, {hi}] but the file names {classes} classes")));
    }
    Ok(())
}
