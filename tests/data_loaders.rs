//! The data loaders on real files: scikit-learn's data sets (provisioned by scripts/setup.sh),
//! NumPy files written by numpy (tests/data/npy/make_npy.py), image folders written here from
//! the digits data, and the prefetching batch loader.
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tch::{Kind, Tensor};
use tch_keras::data::csv::{read_csv, Column, CsvOptions, Delimiter, LabelType};
use tch_keras::data::sklearn::{self, ToyDataset};
use tch_keras::data::{
    numpy, ColorMode, DataLoader, Dataset, ImageFolder, ImageFolderOptions, Standardizer, Subset, TensorDataset,
};
use tch_keras::{
    Activation, BatchSource, Conv2D, Dense, Error, FitConfig, Flatten, Loss, Metric, Optimizer, Sequential, Verbosity,
};

fn sklearn_dir() -> PathBuf {
    let dir = sklearn::default_dir();
    assert!(dir.join(".complete").is_file(), "{} is not provisioned: run scripts/setup.sh", dir.display());
    dir
}

/// The `n_samples,n_features,class names...` line of an iris-style file, read independently
/// of the library.
fn header_counts(name: &str) -> (i64, i64, usize) {
    let text = std::fs::read_to_string(sklearn_dir().join(name)).unwrap();
    let first: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    (first[0].parse().unwrap(), first[1].parse().unwrap(), first.len() - 2)
}

/// Counts of each value of the last comma-separated field, rows after `skip` lines, read
/// independently of the library.
fn last_column_counts(lines: impl Iterator<Item = String>, skip: usize) -> BTreeMap<i64, i64> {
    let mut counts = BTreeMap::new();
    for line in lines.skip(skip).filter(|l| !l.trim().is_empty()) {
        let label: f64 = line.trim().rsplit(',').next().unwrap().parse().unwrap();
        *counts.entry(label as i64).or_insert(0) += 1;
    }
    counts
}

fn label_counts(y: &Tensor) -> BTreeMap<i64, i64> {
    let mut counts = BTreeMap::new();
    for v in Vec::<i64>::try_from(y).unwrap() {
        *counts.entry(v).or_insert(0) += 1;
    }
    counts
}

fn gz_lines(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines().map(Result::unwrap).collect()
}

fn row(t: &Tensor, i: i64) -> Vec<f32> {
    Vec::<f32>::try_from(t.get(i)).unwrap()
}

#[test]
fn sklearn_classification_sets_match_their_header_counts() {
    for (which, file) in [
        (ToyDataset::Iris, "iris.csv"),
        (ToyDataset::Wine, "wine_data.csv"),
        (ToyDataset::BreastCancer, "breast_cancer.csv"),
    ] {
        let (n, f, classes) = header_counts(file);
        let toy = sklearn::load(which, None).unwrap();
        assert_eq!(toy.x.size(), [n, f], "{file}");
        assert_eq!(toy.x.kind(), Kind::Float);
        assert_eq!(toy.y.size(), [n], "{file}");
        assert_eq!(toy.y.kind(), Kind::Int64);
        assert_eq!(toy.class_names.len(), classes, "{file}");
        let text = std::fs::read_to_string(sklearn_dir().join(file)).unwrap();
        let expected = last_column_counts(text.lines().map(str::to_string), 1);
        assert_eq!(expected.len(), classes);
        assert_eq!(label_counts(&toy.y), expected, "{file}");
    }
    let iris = sklearn::load(ToyDataset::Iris, None).unwrap();
    assert_eq!(iris.class_names, ["setosa", "versicolor", "virginica"]);
    assert_eq!(row(&iris.x, 0), [5.1, 3.5, 1.4, 0.2]);
    assert_eq!(row(&iris.x, 149), [5.9, 3.0, 5.1, 1.8]);
    assert_eq!(label_counts(&iris.y).values().copied().collect::<Vec<_>>(), [50, 50, 50]);
}

#[test]
fn sklearn_digits_are_1797_images_of_ten_digits() {
    let digits = sklearn::load(ToyDataset::Digits, None).unwrap();
    assert_eq!(digits.x.size(), [1797, 64]);
    let lines = gz_lines(&sklearn_dir().join("digits.csv.gz"));
    assert_eq!(lines.len(), 1797);
    assert_eq!(label_counts(&digits.y), last_column_counts(lines.iter().cloned(), 0));
    assert_eq!(label_counts(&digits.y).len(), 10);
    let first: Vec<f32> = lines[0].split(',').take(64).map(|v| v.parse().unwrap()).collect();
    assert_eq!(row(&digits.x, 0), first);
    assert_eq!((digits.x.min().double_value(&[]), digits.x.max().double_value(&[])), (0.0, 16.0));
}

#[test]
fn sklearn_diabetes_is_442_rows_of_10_with_real_targets() {
    let dir = sklearn_dir();
    let diabetes = sklearn::load(ToyDataset::Diabetes, None).unwrap();
    assert_eq!(diabetes.x.size(), [442, 10]);
    assert_eq!(diabetes.y.size(), [442]);
    assert_eq!(diabetes.y.kind(), Kind::Float);
    assert_eq!(diabetes.feature_names.len(), 10);
    let lines = gz_lines(&dir.join("diabetes_data_raw.csv.gz"));
    let first: Vec<f32> = lines[0].split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(row(&diabetes.x, 0), first);
    let targets: Vec<f32> = gz_lines(&dir.join("diabetes_target.csv.gz")).iter().map(|v| v.parse().unwrap()).collect();
    assert_eq!(Vec::<f32>::try_from(&diabetes.y).unwrap(), targets);
}

#[test]
fn sklearn_folder_missing_names_the_file_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let err = sklearn::load(ToyDataset::Wine, Some(tmp.path())).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Data { .. }), "{text}");
    assert!(text.contains("wine_data.csv") && text.contains("scripts/setup.sh"), "{text}");
}

#[test]
fn csv_reads_the_raw_files_with_explicit_options() {
    let dir = sklearn_dir();
    // iris.csv by hand: skip the counts line, no header, features by index, label last.
    let iris = read_csv(
        dir.join("iris.csv"),
        &CsvOptions::new().has_header(false).skip_lines(1).features([2, 0]).label(4).label_type(LabelType::Class),
    )
    .unwrap();
    assert_eq!(iris.x.size(), [150, 2]);
    assert_eq!(row(&iris.x, 0), [1.4, 5.1]);
    assert_eq!(iris.feature_names, ["2", "0"]);
    assert_eq!(iris.label_name.as_deref(), Some("4"));
    // The diabetes target file: one column of real values in scientific notation.
    let target = read_csv(
        dir.join("diabetes_target.csv.gz"),
        &CsvOptions::new().has_header(false).delimiter(Delimiter::Whitespace),
    )
    .unwrap();
    assert_eq!(target.x.size(), [442, 1]);
    assert_eq!(target.x.double_value(&[0, 0]), 151.0);
    // A label-only selection has no features: an error saying so.
    let options = CsvOptions::new().has_header(false).label(0).label_type(LabelType::Value);
    let (_, _, text) = place(read_csv(dir.join("diabetes_target.csv.gz"), &options).unwrap_err());
    assert!(text.contains("no feature columns"), "{text}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn csv_header_names_delimiters_and_gzip() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "# exported 2024\nheight;weight;kind\n1.5;60;1\n\n1.8; 80.5 ;0\n\"2.0\";90;1\n";
    let path = write(tmp.path(), "people.txt", text);
    let options = CsvOptions::new().skip_lines(1).delimiter(Delimiter::Byte(b';')).label("kind");
    let data = read_csv(&path, &options).unwrap();
    assert_eq!(data.feature_names, ["height", "weight"]);
    assert_eq!(data.label_name.as_deref(), Some("kind"));
    assert_eq!(Vec::<f32>::try_from(data.x.flatten(0, -1)).unwrap(), [1.5, 60.0, 1.8, 80.5, 2.0, 90.0]);
    assert_eq!(Vec::<i64>::try_from(data.y.unwrap()).unwrap(), [1, 0, 1]);
    // Features by name in a chosen order, the same file gzip-compressed under any name.
    let gz = tmp.path().join("people.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let data = read_csv(&gz, &options.features(["weight"]).label_type(LabelType::Value)).unwrap();
    assert_eq!(Vec::<f32>::try_from(data.x.flatten(0, -1)).unwrap(), [60.0, 80.5, 90.0]);
    assert_eq!(data.y.unwrap().kind(), Kind::Float);
    // A byte-order mark (spreadsheet exports) is not part of the first column's name.
    let bom = write(tmp.path(), "bom.csv", "\u{feff}a,b\n1,2\n");
    let data = read_csv(&bom, &CsvOptions::new().features(["a"])).unwrap();
    assert_eq!(Vec::<f32>::try_from(data.x.flatten(0, -1)).unwrap(), [1.0]);
    // No label: every column is a feature.
    let all = read_csv(&path, &CsvOptions::new().skip_lines(1).delimiter(Delimiter::Byte(b';'))).unwrap();
    assert_eq!(all.x.size(), [3, 3]);
    assert!(all.y.is_none());
}

/// The `(line, column)` of a DataFormat error, or a failure showing what came instead.
fn place(err: Error) -> (Option<u64>, Option<String>, String) {
    let text = err.to_string();
    match err {
        Error::DataFormat { line, column, .. } => (line, column, text),
        other => panic!("expected a DataFormat error, got {other:?}"),
    }
}

#[test]
fn csv_bad_input_is_a_typed_error_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let opts = CsvOptions::new().label("y");

    let ragged = write(dir, "ragged.csv", "a,b,y\n1,2,0\n3,4\n5,6,1\n");
    let (line, column, text) = place(read_csv(&ragged, &opts).unwrap_err());
    assert_eq!((line, column), (Some(3), None));
    assert!(text.contains("ragged.csv") && text.contains("ragged row") && text.contains("2 fields"), "{text}");

    // scikit-learn's layout, read with the defaults: a line of counts where the header would be.
    let counts = write(dir, "counts.csv", "2,3,class_0,class_1,class_2\n1,2,3,0\n4,5,6,1\n");
    let (line, _, text) = place(read_csv(&counts, &CsvOptions::new()).unwrap_err());
    assert_eq!(line, Some(2));
    assert!(text.contains("line 1 is not the column names") && text.contains("skip_lines"), "{text}");

    // A semicolon-separated file read as comma-separated: the cell shows the other delimiter.
    let semis = write(dir, "semis.csv", "a;b;y\n1;2;0\n");
    let (_, _, text) = place(read_csv(&semis, &CsvOptions::new().has_header(false)).unwrap_err());
    assert!(text.contains("'a;b;y' is not a number") && text.contains("CsvOptions::delimiter"), "{text}");

    let nan = write(dir, "cells.csv", "a,b,y\n1,2,0\n3,four,1\n");
    let (line, column, text) = place(read_csv(&nan, &opts).unwrap_err());
    assert_eq!((line, column.as_deref()), (Some(3), Some("1 (\"b\")")));
    assert!(text.contains("cells.csv") && text.contains("'four' is not a number"), "{text}");

    let empty_cell = write(dir, "holes.csv", "a,b,y\n1,,0\n");
    let (line, column, text) = place(read_csv(&empty_cell, &opts).unwrap_err());
    assert_eq!((line, column.as_deref()), (Some(2), Some("1 (\"b\")")));
    assert!(text.contains("empty cell"), "{text}");

    let ok = write(dir, "ok.csv", "a,b,y\n1,2,0\n");
    let (line, column, text) = place(read_csv(&ok, &CsvOptions::new().label("target")).unwrap_err());
    assert_eq!((line, column.as_deref()), (None, Some("\"target\"")));
    assert!(text.contains("no such label column") && text.contains("a, b, y"), "{text}");
    let (_, column, text) = place(read_csv(&ok, &opts.clone().features([Column::Index(7)])).unwrap_err());
    assert_eq!(column.as_deref(), Some("7"));
    assert!(text.contains("3 columns"), "{text}");
    let (_, _, text) = place(read_csv(&ok, &CsvOptions::new().has_header(false).label("y")).unwrap_err());
    assert!(text.contains("without a header"), "{text}");

    let fractional = write(dir, "classes.csv", "a,y\n1,0\n2,0.5\n");
    let (line, column, text) = place(read_csv(&fractional, &opts).unwrap_err());
    assert_eq!((line, column.as_deref()), (Some(3), Some("1 (\"y\")")));
    assert!(text.contains("LabelType::Value"), "{text}");

    for (name, contents) in [("empty.csv", ""), ("header_only.csv", "a,b,y\n"), ("blank.csv", "\n\n")] {
        let path = write(dir, name, contents);
        let (line, column, text) = place(read_csv(&path, &opts).unwrap_err());
        assert_eq!((line, column), (None, None));
        assert!(text.contains(name) && text.contains("no data rows"), "{text}");
    }
    let missing = read_csv(dir.join("nope.csv"), &opts).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
}

fn npy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npy")
}

/// The values tests/data/npy/make_npy.py saves as x: arange(12) / 4 - 1 in a 3x4 array.
fn expected_x() -> Vec<f32> {
    (0..12).map(|i| i as f32 / 4.0 - 1.0).collect()
}

#[test]
fn npy_files_written_by_numpy_load_with_their_types_and_values() {
    let dir = npy_dir();
    let x = numpy::read_npy(dir.join("x_f32.npy")).unwrap();
    assert_eq!((x.size(), x.kind()), (vec![3, 4], Kind::Float));
    assert_eq!(Vec::<f32>::try_from(x.flatten(0, -1)).unwrap(), expected_x());
    let y = numpy::read_npy(dir.join("y_i64.npy")).unwrap();
    assert_eq!(Vec::<i64>::try_from(&y).unwrap(), [2, 0, 1]);
    let fortran = numpy::read_npy(dir.join("x_f64_fortran.npy")).unwrap();
    assert_eq!((fortran.size(), fortran.kind()), (vec![3, 4], Kind::Double));
    assert_eq!(Vec::<f32>::try_from(fortran.to_kind(Kind::Float).flatten(0, -1)).unwrap(), expected_x());
    let mask = numpy::read_npy(dir.join("mask_bool.npy")).unwrap();
    assert_eq!(Vec::<bool>::try_from(&mask).unwrap(), [true, false, true]);
    let pixels = numpy::read_npy(dir.join("pixels_u8.npy")).unwrap();
    assert_eq!((pixels.size(), pixels.kind()), (vec![2, 3, 4], Kind::Uint8));
    assert_eq!(pixels.int64_value(&[1, 2, 3]), 23);
    for name in ["xy.npz", "xy_compressed.npz"] {
        let npz = numpy::read_npz(dir.join(name)).unwrap();
        assert_eq!(npz.names(), ["x", "y"]);
        assert_eq!(Vec::<f32>::try_from(npz.get("x").unwrap().flatten(0, -1)).unwrap(), expected_x());
        assert_eq!(Vec::<i64>::try_from(npz.get("y").unwrap()).unwrap(), [2, 0, 1]);
        let err = npz.get("labels").unwrap_err().to_string();
        assert!(err.contains("no array 'labels'") && err.contains("x, y"), "{err}");
    }
}

#[test]
fn npy_round_trip_through_files_written_here() {
    let tmp = tempfile::tempdir().unwrap();
    let x = Tensor::from_slice(&expected_x()).view([3, 4]);
    let y = Tensor::from_slice(&[2i64, 0, 1]);
    numpy::write_npy(&x.tr(), tmp.path().join("xt.npy")).unwrap();
    let back = numpy::read_npy(tmp.path().join("xt.npy")).unwrap();
    assert_eq!(back.size(), [4, 3]);
    assert!(back.equal(&x.tr()));
    numpy::write_npz(&[("x", &x), ("y", &y)], tmp.path().join("xy.npz")).unwrap();
    let npz = numpy::read_npz(tmp.path().join("xy.npz")).unwrap();
    assert!(npz.get("x").unwrap().equal(&x) && npz.get("y").unwrap().equal(&y));
    // Written here and written by numpy: the same array (the headers' padding differs).
    numpy::write_npy(&x, tmp.path().join("x.npy")).unwrap();
    let ours = numpy::read_npy(tmp.path().join("x.npy")).unwrap();
    assert!(ours.equal(&numpy::read_npy(npy_dir().join("x_f32.npy")).unwrap()));
    // Kinds the writer cannot encode say what to convert to; an npz with a name given twice
    // (which numpy cannot tell apart) is refused before anything is written.
    for (kind, name) in [(Kind::Bool, "bool.npy"), (Kind::BFloat16, "bf16.npy"), (Kind::ComplexFloat, "c.npy")] {
        let path = tmp.path().join(name);
        let err = numpy::write_npy(&x.to_kind(kind), &path).unwrap_err().to_string();
        assert!(err.contains(&format!("{kind:?}")) && err.contains("to_kind(Kind::Float)"), "{err}");
        assert!(!path.exists(), "{name} was written");
    }
    let path = tmp.path().join("twice.npz");
    let err = numpy::write_npz(&[("x", &x), ("x", &y)], &path).unwrap_err().to_string();
    assert!(err.contains("\"x\" is given twice"), "{err}");
    let err = numpy::write_npz(&[("x", &x), ("m", &x.gt(0.5))], &path).unwrap_err().to_string();
    assert!(err.contains("array \"m\" has kind Bool"), "{err}");
    assert!(!path.exists());
}

#[test]
fn npy_damaged_files_are_typed_errors_not_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read(npy_dir().join("x_f32.npy")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.npy", good[..good.len() - 5].to_vec(), "truncated"),
        ("padded.npy", [good.clone(), vec![0; 4]].concat(), "trailing bytes"),
        ("header_cut.npy", good[..20].to_vec(), "truncated in the header"),
        ("text.npy", b"x,y\n1,2\n".to_vec(), "not a .npy array"),
        ("empty.npy", Vec::new(), "not a .npy array"),
        ("version.npy", [&good[..6], &[9u8, 0], &good[8..]].concat(), "version 9"),
    ];
    for (name, bytes, expected) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = numpy::read_npy(&path).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::DataFormat { .. }), "{name}: {text}");
        assert!(text.contains(name) && text.contains(expected), "{name}: {text}");
    }
    let err = numpy::read_npy(npy_dir().join("x_f32_bigendian.npy")).unwrap_err().to_string();
    assert!(err.contains("big-endian") && err.contains("newbyteorder"), "{err}");
    std::fs::write(tmp.path().join("bad.npz"), &good).unwrap();
    let err = numpy::read_npz(tmp.path().join("bad.npz")).unwrap_err();
    assert!(matches!(err, Error::DataFormat { .. }) && err.to_string().contains("not an .npz archive"), "{err}");
    // An archive whose array is cut short names the array.
    let mut zip = zip::ZipWriter::new(std::fs::File::create(tmp.path().join("cut.npz")).unwrap());
    zip.start_file("x.npy", zip::write::FileOptions::default()).unwrap();
    zip.write_all(&good[..good.len() - 4]).unwrap();
    zip.finish().unwrap();
    let err = numpy::read_npz(tmp.path().join("cut.npz")).unwrap_err().to_string();
    assert!(err.contains("array 'x'") && err.contains("truncated"), "{err}");
}

/// Writes digit `i` of sklearn's digits (8x8, 0..16) as an 8-bit grayscale PNG, pixel value
/// `v * 255 / 16` rounded down; returns the pixel bytes written.
fn write_digit_png(path: &Path, digits: &Tensor, i: i64) -> Vec<u8> {
    let pixels: Vec<u8> = row(digits, i).iter().map(|&v| (v as u32 * 255 / 16) as u8).collect();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_raw(8, 8, pixels.clone()).unwrap().save(path).unwrap();
    pixels
}

/// The first `per_class` digits of each class, written under `root/<digit name>/`.
fn digits_folder(root: &Path, per_class: usize) -> BTreeMap<PathBuf, (i64, Vec<u8>)> {
    let digits = sklearn::load(ToyDataset::Digits, None).unwrap();
    let labels = Vec::<i64>::try_from(&digits.y).unwrap();
    let names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    let mut written = BTreeMap::new();
    let mut count = [0usize; 10];
    for (i, &label) in labels.iter().enumerate() {
        if count[label as usize] == per_class {
            continue;
        }
        count[label as usize] += 1;
        let path = root.join(names[label as usize]).join(format!("digit_{i:04}.png"));
        let pixels = write_digit_png(&path, &digits.x, i as i64);
        written.insert(path, (label, pixels));
    }
    written
}

/// Labels of a class folder in sorted order: eight(0) five(1) four(2) nine(3) one(4) seven(5)
/// six(6) three(7) two(8) zero(9).
fn sorted_label(digit: i64) -> i64 {
    [9, 4, 8, 7, 2, 1, 6, 5, 0, 3][digit as usize]
}

#[test]
fn image_folder_loads_what_was_written_with_sorted_folder_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let written = digits_folder(tmp.path(), 6);
    let options = ImageFolderOptions::new().image_size(8, 8).color_mode(ColorMode::Grayscale).seed(3);
    let folder = ImageFolder::open(tmp.path(), &options).unwrap();
    assert_eq!(folder.len(), 60);
    assert_eq!(folder.class_names(), ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]);
    let (x, y) = folder.load_all().unwrap();
    assert_eq!((x.size(), x.kind(), y.kind()), (vec![60, 1, 8, 8], Kind::Float, Kind::Int64));
    let labels = Vec::<i64>::try_from(&y).unwrap();
    for (i, path) in folder.files().iter().enumerate() {
        let (digit, pixels) = &written[path];
        assert_eq!(labels[i], sorted_label(*digit), "{}", path.display());
        let expected: Vec<f32> = pixels.iter().map(|&p| p as f32 / 255.0).collect();
        assert_eq!(row(&x.flatten(1, -1), i as i64), expected, "{}", path.display());
    }
    // Shuffled once with the seed: not in listing order, same order when opened again.
    let again = ImageFolder::open(tmp.path(), &options).unwrap();
    assert_eq!(folder.files(), again.files());
    let unshuffled = ImageFolder::open(tmp.path(), &options.clone().shuffle(false)).unwrap();
    assert_ne!(folder.files(), unshuffled.files());
    assert!(unshuffled.labels().windows(2).all(|w| w[0] <= w[1]));

    // RGB repeats the gray channel; a resize keeps the range and the mean roughly.
    let rgb = ImageFolder::open(tmp.path(), &options.clone().color_mode(ColorMode::Rgb)).unwrap();
    let (x3, _) = rgb.get(&[0, 1]).unwrap();
    assert_eq!(x3.size(), [2, 3, 8, 8]);
    assert!(x3.select(1, 0).equal(&x3.select(1, 2)) && x3.select(1, 1).equal(&x.narrow(0, 0, 2).select(1, 0)));
    // Decoding on several threads gives the same batch.
    let parallel = ImageFolder::open(tmp.path(), &options.clone().decode_threads(4)).unwrap();
    let some = [7i64, 3, 59, 0, 12, 44, 8];
    let (xp, yp) = parallel.get(&some).unwrap();
    let (xs, ys) = folder.get(&some).unwrap();
    assert!(xp.equal(&xs) && yp.equal(&ys));
    let big = ImageFolder::open(tmp.path(), &options.clone().image_size(16, 12)).unwrap();
    let (x16, _) = big.get(&[5]).unwrap();
    assert_eq!(x16.size(), [1, 1, 16, 12]);
    let (lo, hi) = (x16.min().double_value(&[]), x16.max().double_value(&[]));
    assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi) && hi > lo);
    let (mean_big, mean_src) = (x16.mean(Kind::Float).double_value(&[]), x.get(5).mean(Kind::Float).double_value(&[]));
    assert!((mean_big - mean_src).abs() < 0.05, "{mean_big} vs {mean_src}");
}

/// The file layout of tests/reference/image_folder_split.py.
const SPLIT_LAYOUT: [(&str, &[&str]); 4] = [
    ("ankle_boot", &["img0.png", "img1.png", "img10.png", "img2.png", "Img3.PNG", "img4.png", "notes.txt"]),
    ("bag", &["b0.png", "b1.png", "b2.png", "sub/b3.png", "sub/b4.png", "sub2/b5.png"]),
    ("coat", &["c0.png", "c1.png", "c2.png", "c3.png", "c4.png", "c5.png", "c6.png"]),
    (".hidden", &["h0.png"]),
];

fn relative(folder: &ImageFolder, root: &Path) -> Vec<(String, i64)> {
    folder
        .files()
        .iter()
        .zip(folder.labels())
        .map(|(p, &l)| (p.strip_prefix(root).unwrap().to_string_lossy().into_owned(), l))
        .collect()
}

#[test]
fn image_folder_split_picks_the_files_keras_picks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (class, names) in SPLIT_LAYOUT {
        for (i, name) in names.iter().enumerate() {
            let path = root.join(class).join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if name.ends_with(".txt") {
                std::fs::write(&path, "not an image").unwrap();
            } else {
                image::GrayImage::from_pixel(4, 4, image::Luma([i as u8 * 20]))
                    .save_with_format(&path, image::ImageFormat::Png)
                    .unwrap();
            }
        }
    }
    let opts = |subset| ImageFolderOptions::new().image_size(4, 4).seed(1337).validation_split(0.25, subset);
    let training = ImageFolder::open(root, &opts(Subset::Training)).unwrap();
    let validation = ImageFolder::open(root, &opts(Subset::Validation)).unwrap();
    // Printed by tests/reference/image_folder_split.py (Keras 3.15.1's index_directory and
    // get_training_or_validation_split, NumPy 2.4.6).
    let keras_training = [
        ("coat/c0.png", 2),
        ("bag/sub2/b5.png", 1),
        ("coat/c4.png", 2),
        ("ankle_boot/img4.png", 0),
        ("ankle_boot/img10.png", 0),
        ("ankle_boot/img0.png", 0),
        ("ankle_boot/Img3.PNG", 0),
        ("coat/c1.png", 2),
        ("coat/c3.png", 2),
        ("bag/b0.png", 1),
        ("bag/sub/b3.png", 1),
        ("coat/c6.png", 2),
        ("ankle_boot/img2.png", 0),
        ("coat/c2.png", 2),
        ("ankle_boot/img1.png", 0),
    ];
    let keras_validation = [("bag/sub/b4.png", 1), ("coat/c5.png", 2), ("bag/b1.png", 1), ("bag/b2.png", 1)];
    let owned = |v: &[(&str, i64)]| v.iter().map(|(p, l)| (p.to_string(), *l)).collect::<Vec<_>>();
    assert_eq!(relative(&training, root), owned(&keras_training));
    assert_eq!(relative(&validation, root), owned(&keras_validation));
    assert_eq!(training.class_names(), ["ankle_boot", "bag", "coat"]);
    // Disjoint, and together every image once; another seed gives another split.
    let t: HashSet<_> = training.files().iter().collect();
    assert!(validation.files().iter().all(|f| !t.contains(f)));
    assert_eq!(training.len() + validation.len(), 19);
    let other =
        ImageFolder::open(root, &ImageFolderOptions::new().seed(7).validation_split(0.25, Subset::Validation)).unwrap();
    assert_ne!(relative(&other, root), owned(&keras_validation));

    // Keras's argument checks.
    let no_seed = ImageFolderOptions { seed: None, ..opts(Subset::Training) };
    assert!(matches!(ImageFolder::open(root, &no_seed), Err(Error::InvalidArgument { name: "seed", .. })));
    let tiny = opts(Subset::Training).validation_split(0.01, Subset::Training);
    assert!(matches!(ImageFolder::open(root, &tiny), Err(Error::InvalidArgument { name: "validation_split", .. })));
    let classes = ImageFolderOptions::new().seed(1).class_names(["coat", "bag"]);
    let two = ImageFolder::open(root, &classes).unwrap();
    assert_eq!(two.len(), 13);
    assert!(two.files().iter().zip(two.labels()).all(|(f, &l)| f.starts_with(root.join(["coat", "bag"][l as usize]))));
    let wrong = ImageFolderOptions::new().seed(1).class_names(["cat"]);
    assert!(ImageFolder::open(root, &wrong).unwrap_err().to_string().contains("'cat'"));
}

#[test]
fn image_folder_reads_jpeg_photos_and_reports_broken_files() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = sklearn_dir().join("images");
    for name in ["china", "flower"] {
        std::fs::create_dir_all(tmp.path().join(name)).unwrap();
        std::fs::copy(photos.join(format!("{name}.jpg")), tmp.path().join(name).join(format!("{name}.jpg"))).unwrap();
    }
    let folder = ImageFolder::open(tmp.path(), &ImageFolderOptions::new().image_size(64, 96).shuffle(false)).unwrap();
    let (x, y) = folder.load_all().unwrap();
    assert_eq!(x.size(), [2, 3, 64, 96]);
    assert_eq!(Vec::<i64>::try_from(&y).unwrap(), [0, 1]);
    // The two photos differ and use the range: the china photo is mostly sky and buildings,
    // the flower photo mostly dark leaves.
    let means: Vec<f64> = (0..2).map(|i| x.get(i).mean(Kind::Float).double_value(&[])).collect();
    assert!(means.iter().all(|m| (0.05..0.95).contains(m)) && (means[0] - means[1]).abs() > 0.05, "{means:?}");
    // Full size without resizing: 640x427.
    let full = ImageFolder::open(tmp.path(), &ImageFolderOptions::new().image_size(427, 640).shuffle(false)).unwrap();
    assert_eq!(full.image(0).unwrap().size(), [3, 427, 640]);

    std::fs::write(tmp.path().join("flower").join("broken.png"), b"not a png").unwrap();
    let folder = ImageFolder::open(tmp.path(), &ImageFolderOptions::new().image_size(8, 8).shuffle(false)).unwrap();
    assert_eq!(folder.len(), 3);
    let err = folder.get(&[0, 1, 2]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::DataFormat { .. }) && text.contains("broken.png"), "{text}");
    let threads = ImageFolderOptions::new().image_size(8, 8).shuffle(false).decode_threads(3);
    let err = ImageFolder::open(tmp.path(), &threads).unwrap().get(&[2, 0, 1]).unwrap_err();
    assert!(matches!(&err, Error::DataFormat { path, .. } if path.ends_with("broken.png")), "{err}");
    let err = ImageFolder::open(tmp.path().join("none"), &ImageFolderOptions::new()).unwrap_err();
    assert!(err.to_string().contains("no such folder"), "{err}");
}

fn indexed(n: i64) -> TensorDataset {
    let x = Tensor::arange(n, (Kind::Float, tch::Device::Cpu)).view([n, 1]);
    TensorDataset::new(x, Tensor::arange(n, (Kind::Int64, tch::Device::Cpu))).unwrap()
}

fn visit_order(loader: &DataLoader<TensorDataset>, epoch: usize) -> Vec<i64> {
    let mut order = Vec::new();
    for batch in loader.epoch(epoch).unwrap() {
        let (x, y) = batch.unwrap();
        assert!(x.squeeze_dim(1).to_kind(Kind::Int64).equal(&y));
        order.extend(Vec::<i64>::try_from(&y).unwrap());
    }
    order
}

#[test]
fn loader_visits_every_index_once_per_epoch_in_a_seeded_order() {
    let loader = DataLoader::new(indexed(103), 10).unwrap().seed(42);
    assert_eq!(loader.num_batches(), 11);
    let epoch0 = visit_order(&loader, 0);
    let mut sorted = epoch0.clone();
    sorted.sort();
    assert_eq!(sorted, (0..103).collect::<Vec<_>>());
    assert_ne!(epoch0, sorted, "shuffled");
    assert_eq!(epoch0, visit_order(&loader, 0), "same seed and epoch, same order");
    assert_eq!(epoch0, loader.order(0));
    let epoch1 = visit_order(&loader, 1);
    assert_ne!(epoch0, epoch1);
    let again = DataLoader::new(indexed(103), 10).unwrap().seed(42);
    assert_eq!(visit_order(&again, 1), epoch1, "a new loader with the same seed");
    assert_ne!(visit_order(&DataLoader::new(indexed(103), 10).unwrap().seed(43), 0), epoch0);
    let plain = DataLoader::new(indexed(103), 10).unwrap().shuffle(false).prefetch(0);
    assert_eq!(visit_order(&plain, 5), sorted);
    // Batch sizes: ten of 10 and one of 3.
    let sizes: Vec<i64> = loader.epoch(0).unwrap().map(|b| b.unwrap().1.size()[0]).collect();
    assert_eq!(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    assert!(matches!(loader.epoch_in_order(vec![0, 103]), Err(Error::InvalidArgument { .. })));
}

/// Sample i is (i, i); `get` fails (or panics) on the batch containing `bad`, and counts calls.
struct Faulty {
    n: usize,
    bad: i64,
    panic: bool,
    calls: Arc<AtomicUsize>,
    delay: Duration,
}

impl Dataset for Faulty {
    fn len(&self) -> usize {
        self.n
    }
    fn get(&self, indices: &[i64]) -> tch_keras::Result<(Tensor, Tensor)> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        if indices.contains(&self.bad) {
            if self.panic {
                panic!("sample {} is corrupt", self.bad);
            }
            return Err(Error::DataFormat {
                path: PathBuf::from("shard-3.bin"),
                line: None,
                column: None,
                message: format!("sample {} is corrupt", self.bad),
            });
        }
        let (x, y) = indexed(self.n as i64).get(indices)?;
        Ok((x, y.to_kind(Kind::Float)))
    }
}

fn faulty(bad: i64, panic: bool, delay_ms: u64) -> (Faulty, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (Faulty { n: 50, bad, panic, calls: calls.clone(), delay: Duration::from_millis(delay_ms) }, calls)
}

#[test]
fn loader_yields_the_datasets_error_then_stops() {
    let (ds, calls) = faulty(25, false, 0);
    let loader = DataLoader::new(ds, 10).unwrap().shuffle(false);
    let results: Vec<_> = loader.epoch(0).unwrap().collect();
    assert_eq!(results.len(), 3, "two good batches, the error, nothing after");
    assert!(results[0].is_ok() && results[1].is_ok());
    match &results[2] {
        Err(Error::DataFormat { path, message, .. }) => {
            assert_eq!(path, Path::new("shard-3.bin"));
            assert!(message.contains("sample 25"));
        }
        other => panic!("expected the data set's own error, got {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3, "no batch is prepared after the error");
    // The loader is still usable: the next epoch starts again (and fails again at the same place).
    assert_eq!(loader.epoch(1).unwrap().filter(Result::is_ok).count(), 2);
}

#[test]
fn loader_turns_a_panicking_dataset_into_an_error() {
    let (ds, _) = faulty(0, true, 0);
    let loader = DataLoader::new(ds, 10).unwrap().shuffle(false);
    let results: Vec<_> = loader.epoch(0).unwrap().collect();
    assert_eq!(results.len(), 1);
    let text = results[0].as_ref().unwrap_err().to_string();
    assert!(matches!(results[0], Err(Error::Loader { .. })) && text.contains("sample 0 is corrupt"), "{text}");
    // The lock is not poisoned: another epoch runs and fails the same way.
    assert!(matches!(loader.epoch(1).unwrap().next(), Some(Err(Error::Loader { .. }))));
}

#[test]
fn loader_reports_batches_of_the_wrong_size() {
    struct Short;
    impl Dataset for Short {
        fn len(&self) -> usize {
            8
        }
        fn get(&self, indices: &[i64]) -> tch_keras::Result<(Tensor, Tensor)> {
            let n = indices.len() as i64 - 1;
            Ok((
                Tensor::zeros([n, 2], (Kind::Float, tch::Device::Cpu)),
                Tensor::zeros([n], (Kind::Int64, tch::Device::Cpu)),
            ))
        }
    }
    let results: Vec<_> = DataLoader::new(Short, 4).unwrap().epoch(0).unwrap().collect();
    assert_eq!(results.len(), 1);
    let text = results[0].as_ref().unwrap_err().to_string();
    assert!(text.contains("one row per index"), "{text}");
}

#[test]
fn loader_dropped_early_stops_its_thread_promptly() {
    let (ds, calls) = faulty(-1, false, 20);
    let loader = DataLoader::new(ds, 5).unwrap().prefetch(2);
    let mut batches = loader.epoch(0).unwrap();
    assert_eq!(batches.remaining(), 10);
    assert!(batches.next().unwrap().is_ok());
    let started = Instant::now();
    drop(batches);
    assert!(started.elapsed() < Duration::from_secs(2), "drop waited {:?}", started.elapsed());
    let after_drop = calls.load(Ordering::SeqCst);
    // One consumed, at most two queued and one in preparation when the queue closed.
    assert!((1..=4).contains(&after_drop), "{after_drop} batches prepared");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(calls.load(Ordering::SeqCst), after_drop, "the thread is gone: no more batches");
    // Two epochs' iterators alive at once do not block each other.
    let mut a = loader.epoch(1).unwrap();
    let mut b = loader.epoch(2).unwrap();
    assert!(b.next().unwrap().is_ok() && a.next().unwrap().is_ok());
}

#[test]
fn streaming_image_folder_gives_the_batches_of_the_same_data_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    digits_folder(tmp.path(), 4);
    let options = ImageFolderOptions::new().image_size(8, 8).color_mode(ColorMode::Grayscale).seed(11);
    let folder = ImageFolder::open(tmp.path(), &options).unwrap();
    let (x, y) = folder.load_all().unwrap();
    let streamed = DataLoader::new(folder, 7).unwrap().seed(5);
    let memory = DataLoader::new(TensorDataset::new(x, y).unwrap(), 7).unwrap().seed(5);
    for epoch in 0..2 {
        let a: Vec<_> = streamed.epoch(epoch).unwrap().map(Result::unwrap).collect();
        let b: Vec<_> = memory.epoch(epoch).unwrap().map(Result::unwrap).collect();
        assert_eq!(a.len(), 6);
        for ((xa, ya), (xb, yb)) in a.iter().zip(&b) {
            assert!(xa.equal(xb) && ya.equal(yb));
        }
    }
}

#[test]
fn standardizer_uses_the_statistics_it_was_fitted_on() {
    let wine = sklearn::load(ToyDataset::Wine, None).unwrap();
    let train = wine.x.narrow(0, 0, 140);
    let scaler = Standardizer::fit(&train).unwrap();
    let z = scaler.transform(&train).unwrap();
    let mean = z.mean_dim(0, false, Kind::Float).abs().max().double_value(&[]);
    let std = (z.std_dim(0, false, false) - 1.0).abs().max().double_value(&[]);
    assert!(mean < 1e-5 && std < 1e-4, "{mean} {std}");
    let test = scaler.transform(&wine.x.narrow(0, 140, 38)).unwrap();
    let test_mean = test.mean_dim(0, false, Kind::Float).abs().max().double_value(&[]);
    assert!(test_mean > 0.1, "the test rows are scaled with the training statistics, not their own");
    assert!(scaler.transform(&wine.x.narrow(1, 0, 5)).is_err());
}

#[test]
fn sharded_loaders_split_one_global_order() {
    let whole = DataLoader::new(indexed(11), 3).unwrap().seed(9);
    let global = whole.order(4);
    let mut seen = Vec::new();
    for rank in 0..3 {
        let mut shard = DataLoader::new(indexed(11), 3).unwrap().seed(9);
        BatchSource::shard(&mut shard, rank, 3).unwrap();
        assert_eq!(shard.num_batches(), 2, "4 samples each (11 padded to 12)");
        let order = visit_order(&shard, 4);
        assert_eq!(order, (rank..12).step_by(3).map(|i| global[i % 11]).collect::<Vec<_>>());
        seen.extend(order);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, (0..11).collect::<Vec<_>>());
    let mut bad = DataLoader::new(indexed(2), 1).unwrap();
    assert!(BatchSource::shard(&mut bad, 3, 3).is_err() && BatchSource::shard(&mut bad, 0, 3).is_err());
}

fn digits_cnn() -> Sequential {
    let mut model = Sequential::new()
        .seed(3)
        .input_shape([1, 8, 8])
        .add(Conv2D::new(8, 3).activation(Activation::Relu))
        .add(Flatten::new())
        .add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    model
}

fn quiet(epochs: usize, batch_size: usize, shuffle: bool) -> FitConfig<'static> {
    FitConfig { epochs, batch_size, shuffle, verbose: Verbosity::Silent, ..Default::default() }
}

#[test]
fn fit_from_a_streamed_image_folder_equals_fit_on_the_same_data_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    digits_folder(tmp.path(), 12);
    let options = ImageFolderOptions::new().image_size(8, 8).color_mode(ColorMode::Grayscale).seed(11);
    let folder = ImageFolder::open(tmp.path(), &options).unwrap();
    let (x, y) = folder.load_all().unwrap();

    // In order: the streamed batches are fit's own tensor batches.
    let mut memory = digits_cnn();
    let expected = memory.fit(&x, &y, quiet(4, 16, false)).unwrap();
    let mut loader = DataLoader::new(folder.clone(), 16).unwrap().shuffle(false);
    let mut streamed = digits_cnn();
    let history = streamed.fit_source(&mut loader, quiet(4, 16, false)).unwrap();
    let losses = history.series("loss").unwrap();
    assert_eq!(losses, expected.series("loss").unwrap());
    assert!(losses[3] < 0.5 * losses[0], "the CNN learns the digits: {losses:?}");
    assert!(streamed.predict(&x, 64).unwrap().equal(&memory.predict(&x, 64).unwrap()));

    // Shuffled with a seed: streaming from disk and from the same tensors train alike.
    let mut from_disk = DataLoader::new(folder, 16).unwrap().seed(21);
    let mut from_memory = DataLoader::new(TensorDataset::new(x.shallow_clone(), y).unwrap(), 16).unwrap().seed(21);
    let (mut a, mut b) = (digits_cnn(), digits_cnn());
    let ha = a.fit_source(&mut from_disk, quiet(3, 16, true)).unwrap();
    let hb = b.fit_source(&mut from_memory, quiet(3, 16, true)).unwrap();
    assert_eq!(ha.series("loss"), hb.series("loss"));
    assert_ne!(ha.series("loss"), expected.series("loss").map(|l| l[..3].to_vec()), "another order");
    assert!(a.predict(&x, 64).unwrap().equal(&b.predict(&x, 64).unwrap()));
}

#[test]
fn fit_from_a_failing_dataset_returns_its_error() {
    let (ds, _) = faulty(25, false, 0);
    let mut loader = DataLoader::new(ds, 10).unwrap();
    let mut model = Sequential::new().input_shape([1]).add(Dense::new(1));
    model.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, vec![]).unwrap();
    let err = model.fit_source(&mut loader, quiet(2, 10, true)).unwrap_err();
    assert!(matches!(&err, Error::DataFormat { message, .. } if message.contains("sample 25")), "{err}");
}

#[test]
fn loader_resumes_a_pass_without_reading_the_skipped_batches() {
    let loader = DataLoader::new(indexed(103), 10).unwrap().seed(7);
    let whole: Vec<i64> = visit_order(&loader, 3);
    let rest: Vec<i64> =
        loader.epoch_from(3, 4).unwrap().flat_map(|b| Vec::<i64>::try_from(&b.unwrap().1).unwrap()).collect();
    assert_eq!(rest, whole[40..], "batches 4.. of the same epoch's order");
    assert_eq!(loader.epoch_from(3, 11).unwrap().count(), 0, "past the end: nothing");
    assert_eq!(loader.epoch_from(3, usize::MAX).unwrap().count(), 0);
    // Through the BatchSource trait `fit` uses, as Batch values.
    let mut source = DataLoader::new(indexed(103), 10).unwrap().seed(7);
    let firsts: Vec<i64> = BatchSource::epoch_from(&mut source, 3, 10)
        .unwrap()
        .flat_map(|b| Vec::<i64>::try_from(b.unwrap().y().unwrap().unwrap()).unwrap())
        .collect();
    assert_eq!(firsts, whole[100..]);
    // Skipped batches are never prepared; errors keep the epoch's batch numbers.
    let (ds, calls) = faulty(25, true, 0);
    let loader = DataLoader::new(ds, 10).unwrap().shuffle(false);
    let results: Vec<_> = loader.epoch_from(0, 2).unwrap().collect();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "only batch 2 was read");
    let text = results[0].as_ref().unwrap_err().to_string();
    assert!(text.contains("batch 2"), "{text}");
}

/// A `DataLoader` shuffles by default, so `predict_source` on one would return outputs that do
/// not line up with the data set: it warns (on standard error here: the test runs itself in a
/// child process, which has no logger), and not for a loader in index order.
#[test]
fn predict_source_warns_about_a_shuffling_loader() {
    const CHILD: &str = "TCH_KERAS_TEST_SHUFFLED_PREDICT_CHILD";
    let x = Tensor::arange(12, (Kind::Float, tch::Device::Cpu)).view([6, 2]);
    let y = Tensor::zeros([6], (Kind::Int64, tch::Device::Cpu));
    let loader = || DataLoader::new(TensorDataset::new(x.copy(), y.copy()).unwrap(), 4).unwrap();
    assert!(loader().shuffles() && !loader().shuffle(false).shuffles());
    if let Some(which) = std::env::var_os(CHILD) {
        let mut m = Sequential::new().device(tch::Device::Cpu).input_shape([2]).add(Dense::new(1));
        let mut source = if which == "shuffled" { loader() } else { loader().shuffle(false) };
        assert_eq!(m.predict_source(&mut source, vec![]).unwrap().size(), [6, 1]);
        return;
    }
    let stderr_of = |which: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "predict_source_warns_about_a_shuffling_loader", "--nocapture", "--test-threads=1"])
            .env(CHILD, which)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "the child failed: {stderr}");
        stderr
    };
    let warned = stderr_of("shuffled");
    assert!(warned.contains("shuffled order") && warned.contains("shuffle(false)"), "{warned}");
    let quiet = stderr_of("in order");
    assert!(!quiet.contains("shuffled order"), "{quiet}");
}
