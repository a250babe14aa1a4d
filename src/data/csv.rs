//! CSV and other delimited text files (plain or gzip-compressed) into feature and label tensors.
//!
//! ```no_run
//! use tch_keras::data::csv::{read_csv, CsvOptions, LabelType};
//!
//! // A file with a header line, features in every column but "species".
//! let data = read_csv("iris.csv", &CsvOptions::new().label("species").label_type(LabelType::Class))?;
//! println!("{:?} {:?}", data.x.size(), data.feature_names);
//! # Ok::<(), tch_keras::Error>(())
//! ```
//!
//! Every malformed input is an [`Error::DataFormat`] naming the file, the line (1-based, as an
//! editor shows it) and the column: rows with another number of fields than the first
//! (ragged rows), cells that are not numbers, columns that do not exist, files without data rows.
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use tch::Tensor;

use crate::{Error, Result};

/// A column chosen by its 0-based position or by its name in the header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 0-based position in the row.
    Index(usize),
    /// Name in the header line (needs [`CsvOptions::has_header`]).
    Name(String),
}

impl From<usize> for Column {
    fn from(i: usize) -> Self {
        Column::Index(i)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_string())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "{i}"),
            Column::Name(n) => write!(f, "\"{n}\""),
        }
    }
}

/// What separates the fields of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// One byte, such as `b','`, `b';'` or `b'\t'`; fields may be quoted as in RFC 4180.
    Byte(u8),
    /// Any run of spaces and tabs (as scikit-learn's `diabetes_data_raw.csv.gz`); no quoting.
    Whitespace,
}

/// How the label column is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelType {
    /// Integer class indices, as an int64 tensor `[N]` (for sparse categorical cross-entropy or
    /// `to_categorical`). A cell that is not a whole number is an error.
    Class,
    /// Real values, as a float32 tensor `[N]` (regression targets).
    Value,
}

/// How to read a delimited text file. Build it with [`CsvOptions::new`] and the setters.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Whether the first line read (after [`skip_lines`](Self::skip_lines)) names the columns.
    /// Default: true.
    pub has_header: bool,
    /// Field separator. Default: `Delimiter::Byte(b',')`.
    pub delimiter: Delimiter,
    /// Lines skipped at the start of the file, before the header or the first data row.
    /// Default: 0.
    pub skip_lines: usize,
    /// The feature columns, in the order they become the columns of `x`. Default (`None`): every
    /// column except the label column.
    pub features: Option<Vec<Column>>,
    /// The label column. Default (`None`): no labels, `y` is `None`.
    pub label: Option<Column>,
    /// How the label column is parsed. Default: [`LabelType::Class`].
    pub label_type: LabelType,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            delimiter: Delimiter::Byte(b','),
            skip_lines: 0,
            features: None,
            label: None,
            label_type: LabelType::Class,
        }
    }
}

impl CsvOptions {
    /// The defaults: a comma-separated file with a header line, every column a feature.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets whether the first line names the columns.
    pub fn has_header(mut self, yes: bool) -> Self {
        self.has_header = yes;
        self
    }

    /// Sets the field separator.
    pub fn delimiter(mut self, delimiter: Delimiter) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Skips `n` lines at the start of the file.
    pub fn skip_lines(mut self, n: usize) -> Self {
        self.skip_lines = n;
        self
    }

    /// Chooses the feature columns, by index or name.
    pub fn features<C: Into<Column>>(mut self, columns: impl IntoIterator<Item = C>) -> Self {
        self.features = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Chooses the label column, by index or name.
    pub fn label(mut self, column: impl Into<Column>) -> Self {
        self.label = Some(column.into());
        self
    }

    /// Sets how the label column is parsed.
    pub fn label_type(mut self, label_type: LabelType) -> Self {
        self.label_type = label_type;
        self
    }
}

/// What [`read_csv`] returns.
#[derive(Debug)]
pub struct CsvData {
    /// Features, float32 `[N, F]`, columns in the order of [`CsvOptions::features`].
    pub x: Tensor,
    /// Labels `[N]` (int64 for [`LabelType::Class`], float32 for [`LabelType::Value`]), when a
    /// label column was chosen.
    pub y: Option<Tensor>,
    /// The feature columns' names from the header, or their indices as text without one.
    pub feature_names: Vec<String>,
    /// The label column's name (or index as text), when one was chosen.
    pub label_name: Option<String>,
}

/// Opens `path` for reading, decompressing it when it starts with gzip's magic bytes
/// (`.csv.gz` files), whatever its name.
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(reader))))
    } else {
        Ok(Box::new(reader))
    }
}

/// One row's fields and the 1-based line it starts on.
struct Row {
    line: u64,
    fields: Vec<String>,
}

/// Reads the rows of a delimited text file after skipping `skip` lines.
struct Rows {
    path: PathBuf,
    inner: RowsInner,
}

enum RowsInner {
    Csv { reader: ::csv::Reader<Box<dyn BufRead>>, record: ::csv::StringRecord, offset: u64 },
    Whitespace { reader: Box<dyn BufRead>, line: u64 },
}

impl Rows {
    fn open(path: &Path, delimiter: Delimiter, skip: usize) -> Result<Rows> {
        let mut reader = open_maybe_gz(path)?;
        let mut skipped = 0u64;
        let mut buf = Vec::new();
        for _ in 0..skip {
            buf.clear();
            if reader.read_until(b'\n', &mut buf).map_err(|e| Error::io(path, e))? == 0 {
                break;
            }
            skipped += 1;
        }
        let inner = match delimiter {
            Delimiter::Byte(d) => RowsInner::Csv {
                reader: ::csv::ReaderBuilder::new()
                    .has_headers(false)
                    .delimiter(d)
                    .flexible(true)
                    .trim(::csv::Trim::All)
                    .from_reader(reader),
                record: ::csv::StringRecord::new(),
                offset: skipped,
            },
            Delimiter::Whitespace => RowsInner::Whitespace { reader, line: skipped },
        };
        Ok(Rows { path: path.to_path_buf(), inner })
    }

    /// The next non-blank row, or `None` at the end of the file.
    fn next_row(&mut self) -> Result<Option<Row>> {
        match &mut self.inner {
            RowsInner::Csv { reader, record, offset } => loop {
                let more = reader.read_record(record).map_err(|e| csv_error(&self.path, *offset, e))?;
                if !more {
                    return Ok(None);
                }
                let line = record.position().map(|p| p.line()).unwrap_or(0) + *offset;
                if record.len() == 1 && record[0].is_empty() {
                    continue;
                }
                return Ok(Some(Row { line, fields: record.iter().map(str::to_string).collect() }));
            },
            RowsInner::Whitespace { reader, line } => {
                let mut text = String::new();
                loop {
                    text.clear();
                    let n = reader.read_line(&mut text).map_err(|e| Error::DataFormat {
                        path: self.path.clone(),
                        line: Some(*line + 1),
                        column: None,
                        message: format!("could not be read: {e}"),
                    })?;
                    if n == 0 {
                        return Ok(None);
                    }
                    *line += 1;
                    let fields: Vec<String> = text.split_whitespace().map(str::to_string).collect();
                    if !fields.is_empty() {
                        return Ok(Some(Row { line: *line, fields }));
                    }
                }
            }
        }
    }
}

fn csv_error(path: &Path, offset: u64, e: ::csv::Error) -> Error {
    let line = e.position().map(|p| p.line() + offset);
    let message = match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8 text".to_string(),
        ::csv::ErrorKind::Io(io) => format!("could not be read: {io}"),
        _ => format!("could not be parsed: {e}"),
    };
    Error::DataFormat { path: path.to_path_buf(), line, column: None, message }
}

/// Describes column `index` for error messages: `3 ("petal_width")` with a header, `3` without.
fn column_label(index: usize, names: Option<&[String]>) -> String {
    match names.and_then(|n| n.get(index)) {
        Some(name) => format!("{index} (\"{name}\")"),
        None => index.to_string(),
    }
}

/// Resolves a column choice to a position among `width` columns.
fn resolve(path: &Path, column: &Column, names: Option<&[String]>, width: usize, role: &str) -> Result<usize> {
    let err = |message: String| Error::DataFormat {
        path: path.to_path_buf(),
        line: None,
        column: Some(column.to_string()),
        message,
    };
    match column {
        Column::Index(i) if *i < width => Ok(*i),
        Column::Index(i) => Err(err(format!(
            "no such {role} column: the file has {width} columns (0 to {}); column {i} does not exist",
            width.saturating_sub(1)
        ))),
        Column::Name(name) => {
            let Some(names) = names else {
                return Err(err(format!(
                    "the {role} column is chosen by name but the file is read without a header; \
                     choose it by index or set has_header(true)"
                )));
            };
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| err(format!("no such {role} column; the header names {}", names.join(", "))))
        }
    }
}

/// Parses one cell as a number, naming the place when it is not one.
fn parse_cell(path: &Path, line: u64, col: usize, names: Option<&[String]>, cell: &str) -> Result<f64> {
    cell.parse::<f64>().map_err(|_| Error::DataFormat {
        path: path.to_path_buf(),
        line: Some(line),
        column: Some(column_label(col, names)),
        message: if cell.is_empty() {
            "empty cell: every chosen column needs a number in every row (fill or drop missing values first)"
                .to_string()
        } else if let Some(sep) = cell.chars().find(|c| [',', ';', '\t', '|', ' '].contains(c)) {
            format!("'{cell}' is not a number: it holds {sep:?}, so the file may use another delimiter; set it with CsvOptions::delimiter")
        } else {
            format!("'{cell}' is not a number; fix the cell, or leave its column out of the features")
        },
    })
}

/// Reads a delimited text file (comma-separated by default, gzip-compressed or not) into a
/// float32 feature tensor `[N, F]` and, when a label column is chosen, a label tensor `[N]`.
///
/// Blank lines are ignored; fields are trimmed; cells are parsed as Rust parses `f64`
/// (`1`, `-2.5`, `1e-3`, `NaN`, `inf`).
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvData> {
    let path = path.as_ref();
    let mut rows = Rows::open(path, options.delimiter, options.skip_lines)?;
    let header = if options.has_header {
        let row = rows.next_row()?.ok_or_else(|| empty_file(path, options))?;
        Some(strip_bom(row).fields)
    } else {
        None
    };
    let first = rows.next_row()?.map(strip_bom);
    let Some(first) = first else {
        return Err(empty_file(path, options));
    };
    let width = header.as_ref().map_or(first.fields.len(), Vec::len);
    let names = header.as_deref();

    let (label, features) = choose_columns(path, options, names, width)?;
    let name_of = |i: usize| names.and_then(|n| n.get(i).cloned()).unwrap_or_else(|| i.to_string());

    let mut x: Vec<f32> = Vec::new();
    let mut y: Vec<f64> = Vec::new();
    let mut n: i64 = 0;
    let what = if header.is_some() { "the header" } else { "the first data row" };
    let first_line = first.line;
    let shape = RowShape { width, what, features: &features, label, label_type: options.label_type, first_line };
    let mut row = Some(first);
    while let Some(r) = row {
        push_row(path, &r, names, &shape, (&mut x, &mut y))?;
        n += 1;
        row = rows.next_row()?;
    }
    let x = Tensor::from_slice(&x).f_view([n, features.len() as i64])?;
    let y = match (label, options.label_type) {
        (None, _) => None,
        (Some(_), LabelType::Class) => Some(Tensor::from_slice(&y.iter().map(|&v| v as i64).collect::<Vec<_>>())),
        (Some(_), LabelType::Value) => Some(Tensor::from_slice(&y.iter().map(|&v| v as f32).collect::<Vec<_>>())),
    };
    Ok(CsvData { x, y, feature_names: features.iter().map(|&i| name_of(i)).collect(), label_name: label.map(name_of) })
}

/// Which columns are the label and the features.
fn choose_columns(
    path: &Path,
    options: &CsvOptions,
    names: Option<&[String]>,
    width: usize,
) -> Result<(Option<usize>, Vec<usize>)> {
    let label = match &options.label {
        Some(c) => Some(resolve(path, c, names, width, "label")?),
        None => None,
    };
    let features: Vec<usize> = match &options.features {
        Some(cols) => cols.iter().map(|c| resolve(path, c, names, width, "feature")).collect::<Result<_>>()?,
        None => (0..width).filter(|&i| Some(i) != label).collect(),
    };
    if features.is_empty() {
        return Err(Error::DataFormat {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message:
                "no feature columns: choose at least one, or leave features unset to use every column but the label"
                    .into(),
        });
    }
    Ok((label, features))
}

/// What every data row must look like.
struct RowShape<'a> {
    width: usize,
    /// What the width was taken from, for the error message.
    what: &'static str,
    features: &'a [usize],
    label: Option<usize>,
    label_type: LabelType,
    /// The line of the first data row.
    first_line: u64,
}

/// Parses one data row's features into `x` and its label into `y`.
fn push_row(
    path: &Path,
    r: &Row,
    names: Option<&[String]>,
    shape: &RowShape<'_>,
    (x, y): (&mut Vec<f32>, &mut Vec<f64>),
) -> Result<()> {
    let (width, what) = (shape.width, shape.what);
    if r.fields.len() != width {
        // The first data row against the header: the "header" is likely a line of counts or notes.
        let hint = if r.line == shape.first_line && what == "the header" {
            format!(
                " (if line {} is not the column names, skip it with CsvOptions::skip_lines and read without a header: has_header(false))",
                r.line - 1
            )
        } else {
            String::new()
        };
        return Err(Error::DataFormat {
            path: path.to_path_buf(),
            line: Some(r.line),
            column: None,
            message: format!(
                "ragged row: {} fields where {what} has {width}; every row needs the same number of fields{hint}",
                r.fields.len()
            ),
        });
    }
    for &c in shape.features {
        x.push(parse_cell(path, r.line, c, names, &r.fields[c])? as f32);
    }
    if let Some(c) = shape.label {
        let v = parse_cell(path, r.line, c, names, &r.fields[c])?;
        if shape.label_type == LabelType::Class && (v.fract() != 0.0 || !v.is_finite()) {
            return Err(Error::DataFormat {
                path: path.to_path_buf(),
                line: Some(r.line),
                column: Some(column_label(c, names)),
                message: format!(
                    "class label '{}' is not a whole number; use LabelType::Value for real-valued targets",
                    r.fields[c]
                ),
            });
        }
        y.push(v);
    }
    Ok(())
}

/// Removes a UTF-8 byte-order mark (as spreadsheet programs write) from a row's first field.
fn strip_bom(mut row: Row) -> Row {
    if let Some(first) = row.fields.first_mut() {
        if let Some(rest) = first.strip_prefix('\u{feff}') {
            *first = rest.trim_start().to_string();
        }
    }
    row
}

fn empty_file(path: &Path, options: &CsvOptions) -> Error {
    let mut message = String::from("no data rows");
    if options.has_header {
        message.push_str(" after the header line");
    }
    if options.skip_lines > 0 {
        message.push_str(&format!(" (after skipping {} lines)", options.skip_lines));
    }
    message.push_str("; check the file, has_header and skip_lines");
    Error::DataFormat { path: path.to_path_buf(), line: None, column: None, message }
}
