//! Small crafted files that once crashed, hung or exhausted the memory of the data readers and
//! the plotter: each must now end in a typed error naming the file (or, for the plots, a
//! finished PNG). The files are built here byte by byte; none is larger than a few MB.
use std::path::Path;

use tch_keras::data::numpy;
use tch_keras::Error;

/// One entry of a hand-built zip archive.
struct ZipEntry<'a> {
    name: &'a str,
    /// Compression method as stored in the central directory (0 stored, 8 deflated, 99 AES).
    method: u16,
    /// General-purpose flags (bit 0: encrypted).
    flags: u16,
    /// The central directory's extra field.
    extra: &'a [u8],
    data: &'a [u8],
    /// The size announced for the data once decompressed.
    unpacked: usize,
}

/// A zip archive of `entries`, laid out as the format describes (local headers and data, the
/// central directory, its end record), with no checksum: the readers must refuse these entries
/// before reading their data.
fn zip_bytes(entries: &[ZipEntry]) -> Vec<u8> {
    let u16le = |v: u16| v.to_le_bytes();
    let u32le = |v: u32| v.to_le_bytes();
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for e in entries {
        let offset = out.len() as u32;
        let (name_len, size, unpacked) = (e.name.len() as u16, e.data.len() as u32, e.unpacked as u32);
        out.extend(u32le(0x0403_4b50));
        for v in [20, e.flags, e.method, 0, 0] {
            out.extend(u16le(v));
        }
        out.extend([u32le(0), u32le(size), u32le(unpacked)].concat());
        out.extend([u16le(name_len), u16le(0)].concat());
        out.extend(e.name.as_bytes());
        out.extend(e.data);
        central.extend(u32le(0x0201_4b50));
        for v in [20, 20, e.flags, e.method, 0, 0] {
            central.extend(u16le(v));
        }
        central.extend([u32le(0), u32le(size), u32le(unpacked)].concat());
        for v in [name_len, e.extra.len() as u16, 0, 0, 0] {
            central.extend(u16le(v));
        }
        central.extend([u32le(0), u32le(offset)].concat());
        central.extend(e.name.as_bytes());
        central.extend(e.extra);
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, entries.len() as u16);
    out.extend(central);
    out.extend(u32le(0x0605_4b50));
    for v in [0, 0, n, n] {
        out.extend(u16le(v));
    }
    out.extend([u32le(cd_size), u32le(cd_offset)].concat());
    out.extend(u16le(0));
    out
}

/// Asserts `err` is a `DataFormat` error whose text holds each of `needles`.
fn assert_data_format(err: Error, needles: &[&str]) {
    let text = err.to_string();
    assert!(matches!(err, Error::DataFormat { .. }), "not a DataFormat error: {text}");
    for needle in needles {
        assert!(text.contains(needle), "'{needle}' missing from: {text}");
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// An entry with an AES extra field (0x9901) but no encryption flag made the zip reader
/// unwrap an "invalid password" result and panic; unsupported methods and encrypted entries are
/// refused by name as well.
#[test]
fn npz_entries_that_are_encrypted_or_oddly_compressed_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let aes = [0x01, 0x99, 0x07, 0x00, 0x01, 0x00, 0x41, 0x45, 0x01, 0x08, 0x00];
    let data = [0u8; 32];
    let cases: [(&str, u16, u16, &[u8], &str); 4] = [
        ("aes.npz", 99, 0, &aes, "AES-encrypted"),
        ("aes_deflated.npz", 8, 0, &aes, "AES-encrypted"),
        ("bzip2.npz", 12, 0, &[], "Bzip2"),
        ("zipcrypto.npz", 0, 1, &[], "encrypted"),
    ];
    for (file, method, flags, extra, why) in cases {
        let bytes = zip_bytes(&[ZipEntry { name: "x.npy", method, flags, extra, data: &data, unpacked: data.len() }]);
        let path = write(tmp.path(), file, &bytes);
        let result = std::panic::catch_unwind(|| numpy::read_npz(&path));
        let err = result.unwrap_or_else(|_| panic!("{file}: read_npz panicked")).unwrap_err();
        assert_data_format(err, &[file, "array 'x.npy'", why]);
    }
}

/// An `.npz` entry whose header announces one float32 value, followed by 4 MB of deflated
/// zeros (a few KB in the file): it is refused as trailing data after reading the header and
/// five data bytes. Reading the whole entry first would also inflate every zero and reach the
/// (deliberately wrong) checksum at its end, which is what it reported before.
#[test]
fn npz_entry_holding_more_than_its_header_announces_is_refused_unread() {
    use std::io::Write;
    let dict = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    let mut npy = [b"\x93NUMPY\x01\x00".as_slice(), &(dict.len() as u16).to_le_bytes(), dict].concat();
    npy.resize(npy.len() + (4 << 20), 0);
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(&npy).unwrap();
    let packed = deflate.finish().unwrap();
    assert!(packed.len() < 64 << 10, "{} bytes", packed.len());
    let tmp = tempfile::tempdir().unwrap();
    let entry = ZipEntry { name: "x.npy", method: 8, flags: 0, extra: &[], data: &packed, unpacked: npy.len() };
    let path = write(tmp.path(), "bomb.npz", &zip_bytes(&[entry]));
    let err = numpy::read_npz(&path).unwrap_err();
    assert_data_format(err, &["bomb.npz", "array 'x'", "trailing bytes", "needs 4 data bytes"]);
}

/// A damaged feature count on the first line of an iris-style file (here a trillion) sized
/// the column list before any row was read, aborting the process; it is now checked against
/// the first row and reported at line 1.
#[test]
fn sklearn_feature_count_beyond_the_rows_is_refused_at_line_1() {
    use tch_keras::data::sklearn::{self, ToyDataset};
    let tmp = tempfile::tempdir().unwrap();
    let rows = "5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n";
    for count in ["1000000000000", "18446744073709551615", "3", "5"] {
        write(tmp.path(), "iris.csv", format!("2,{count},setosa,versicolor,virginica\n{rows}").as_bytes());
        let err = sklearn::load(ToyDataset::Iris, Some(tmp.path())).unwrap_err();
        assert_data_format(err, &["iris.csv", "line 1", &format!("announces {count} features"), "line 2 holds 5"]);
    }
    // The right count loads.
    write(tmp.path(), "iris.csv", format!("2,4,setosa,versicolor,virginica\n{rows}").as_bytes());
    let toy = sklearn::load(ToyDataset::Iris, Some(tmp.path())).unwrap();
    assert_eq!((toy.x.size(), toy.y.size()), (vec![2, 4], vec![2]));
}

/// A PNG chunk: length, type, data and the CRC of type and data.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    [&(data.len() as u32).to_be_bytes(), kind.as_slice(), data, &crc.sum().to_be_bytes()].concat()
}

/// A 1-bit grayscale PNG announcing `width x height` pixels, with a few bytes of image data:
/// a decoder that trusted the header would allocate for every pixel before noticing.
fn png_announcing(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    let ihdr = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[1, 0, 0, 0, 0]].concat();
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&[0; 64]).unwrap();
    let idat = zlib.finish().unwrap();
    let chunks = [png_chunk(b"IHDR", &ihdr), png_chunk(b"IDAT", &idat), png_chunk(b"IEND", &[])];
    [b"\x89PNG\r\n\x1a\n".as_slice(), &chunks.concat()].concat()
}

/// A folder `root/cls/<name>` holding one file.
fn one_image_folder(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("cls")).unwrap();
    write(&tmp.path().join("cls"), name, bytes);
    tmp
}

/// A PNG announcing 23000 x 23000 pixels (a 64 KB 1-bit file can) was decoded into GBs; it is
/// refused from its header, naming the file and its size.
#[test]
fn image_announcing_more_pixels_than_the_bound_is_refused_before_decoding() {
    use tch_keras::data::image_folder::MAX_IMAGE_PIXELS;
    use tch_keras::data::{ImageFolder, ImageFolderOptions};
    let options = ImageFolderOptions::new().image_size(8, 8).shuffle(false);
    for (w, h) in [(23000, 23000), (8192, 8193), (1 << 20, 1 << 20)] {
        assert!(u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS);
        let tmp = one_image_folder("huge.png", &png_announcing(w, h));
        let folder = ImageFolder::open(tmp.path(), &options).unwrap();
        let err = folder.image(0).unwrap_err();
        assert_data_format(err, &["huge.png", &format!("{w} x {h} pixels"), "shrink it"]);
    }
}

/// `image_size` sized `channels * height * width` unchecked: (u32::MAX, u32::MAX) overflowed
/// it. It is bounded by the same pixel count when the folder is opened.
#[test]
fn image_size_beyond_the_pixel_bound_is_refused_when_opening() {
    use tch_keras::data::{ImageFolder, ImageFolderOptions};
    let tmp = one_image_folder("a.png", &png_announcing(2, 2));
    for (h, w) in [(u32::MAX, u32::MAX), (8193, 8192), (1, 1 << 27)] {
        let err = ImageFolder::open(tmp.path(), &ImageFolderOptions::new().image_size(h, w)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidArgument { name: "image_size", .. }), "{text}");
        assert!(text.contains(&format!("({h}, {w})")) && text.contains("pixels"), "{text}");
    }
    let folder = ImageFolder::open(tmp.path(), &ImageFolderOptions::new().image_size(8192, 8192)).unwrap();
    assert_eq!(folder.image_shape(), [3, 8192, 8192]);
}

/// A GIF whose logical screen is 0 x 0 decoded to an empty image, and the resize then
/// underflowed `size - 1` and panicked; it is refused by name.
#[test]
fn image_of_no_pixels_is_refused_by_name() {
    use tch_keras::data::{ImageFolder, ImageFolderOptions};
    let gif: Vec<u8> = (0..70)
        .step_by(2)
        .map(|i| {
            let hex = "47494638396100000000800000ffffff0000002c00000000010001000002024401003b";
            u8::from_str_radix(&hex[i..i + 2], 16).unwrap()
        })
        .collect();
    let tmp = one_image_folder("empty.gif", &gif);
    let folder = ImageFolder::open(tmp.path(), &ImageFolderOptions::new().image_size(4, 4).shuffle(false)).unwrap();
    let result = std::panic::catch_unwind(|| folder.image(0));
    let err = result.unwrap_or_else(|_| panic!("decoding a 0 x 0 GIF panicked")).unwrap_err();
    assert_data_format(err, &["empty.gif", "0 x 0 pixels"]);
}

/// Runs `f` on a thread and waits at most a minute for it, so a drawing that never ends fails
/// the test instead of hanging it.
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    use std::sync::mpsc::RecvTimeoutError;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: did not finish within 60 s"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// Draws `text` (a CSV log, a report or a bench report) with `plot::from_file` under the
/// time guard: a PNG that decodes, or an `Error::Plot` holding `needle`.
fn plot_finishes(name: &str, text: &str, needle: Option<&str>) {
    use tch_keras::plot::{self, PlotOptions};
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), name, text.as_bytes());
    let png = tmp.path().join("out.png");
    let (input_c, png_c) = (input.clone(), png.clone());
    let result = finishes(name, move || plot::from_file(&input_c, &png_c, &PlotOptions::default().size(400, 300)));
    match (result, needle) {
        (Ok(()), None) => {
            let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
            let info = decoder.read_info().unwrap().info().clone();
            assert_eq!((info.width, info.height), (400, 300), "{name}");
        }
        (Err(e), Some(needle)) => {
            let text = e.to_string();
            assert!(matches!(e, Error::Plot { .. }) && text.contains(name) && text.contains(needle), "{name}: {text}");
        }
        (other, _) => panic!("{name}: unexpected {other:?}"),
    }
}

/// Values at the edge of f64 made the axis bounds overflow to infinity, and plotters then
/// looked for tick marks forever: each now draws (leaving out what cannot be placed).
#[test]
fn curves_of_huge_values_finish_drawing() {
    plot_finishes("huge.csv", "epoch,loss\n0,1.7e308\n", None);
    plot_finishes("both_ends.csv", "epoch,loss\n0,-1.7e308\n1,1.7e308\n2,1\n", None);
    plot_finishes("far_epochs.csv", "epoch,loss\n-1e308,1\n1e308,2\n", None);
    plot_finishes("flat_in_ulps.csv", "epoch,loss\n0,1\n1,1.0000000000000002\n", None);
    plot_finishes("report.json", r#"{"history":{"loss":[1.7e308]}}"#, None);
    plot_finishes("report_mixed.json", r#"{"history":{"loss":[1.7e308, -1e308, 2]}}"#, None);
}

/// An epoch of `inf` (or `NaN`) in a CSV log cannot be placed on the axis: a typed error
/// naming its line.
#[test]
fn csv_epoch_that_is_not_finite_is_refused_by_line() {
    plot_finishes("inf_epoch.csv", "epoch,loss\ninf,1\n", Some("line 2"));
    plot_finishes("nan_epoch.csv", "epoch,loss\n0,1\n\nNaN,1\n", Some("line 4"));
}

/// Throughputs at the ends of f64 made the log axis bounds infinite or zero, and the tick
/// search then never ended.
#[test]
fn bench_of_extreme_throughputs_finishes_drawing() {
    let row = |batch: u64, sps: &str| format!(r#"{{"model":"m","batch_size":{batch},"samples_per_s":{sps}}}"#);
    for (name, rows) in [
        ("huge_bench.json", row(64, "1.7e308")),
        ("tiny_bench.json", row(64, "5e-324")),
        ("spread_bench.json", format!("{},{}", row(1, "1e-300"), row(2, "1e300"))),
        ("zero_batch.json", format!("{},{}", row(0, "100"), row(64, "200"))),
    ] {
        plot_finishes(name, &format!(r#"{{"device":"cpu","rows":[{rows}]}}"#), None);
    }
}

/// `prefetch(usize::MAX)` went straight to the queue, which allocates its slots up front and
/// aborted; more than MAX_PREFETCH is refused when an epoch starts, and the bound itself runs.
#[test]
fn loader_prefetch_beyond_its_bound_is_refused() {
    use tch::{Device, Kind, Tensor};
    use tch_keras::data::{DataLoader, TensorDataset, MAX_PREFETCH};
    let dataset = || {
        let x = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([6, 1]);
        TensorDataset::new(x, Tensor::arange(6, (Kind::Int64, Device::Cpu))).unwrap()
    };
    for prefetch in [usize::MAX, MAX_PREFETCH + 1] {
        let loader = DataLoader::new(dataset(), 2).unwrap().prefetch(prefetch);
        let err = loader.epoch(0).err().expect("an epoch with an unbounded prefetch must not start");
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidArgument { name: "prefetch", .. }), "{text}");
        assert!(text.contains(&prefetch.to_string()) && text.contains(&MAX_PREFETCH.to_string()), "{text}");
    }
    let loader = DataLoader::new(dataset(), 2).unwrap().prefetch(MAX_PREFETCH);
    assert_eq!(loader.epoch(0).unwrap().map(|b| b.unwrap().1.size()[0]).sum::<i64>(), 6);
}

/// `decode_threads` was unbounded: a batch of many images then started one thread each, and a
/// failed thread start panicked. It is bounded when the folder is opened.
#[test]
fn decode_threads_beyond_the_bound_is_refused_when_opening() {
    use tch_keras::data::image_folder::MAX_DECODE_THREADS;
    use tch_keras::data::{ImageFolder, ImageFolderOptions};
    let tmp = one_image_folder("a.png", &png_announcing(2, 2));
    for threads in [0, MAX_DECODE_THREADS + 1, usize::MAX] {
        let options = ImageFolderOptions::new().decode_threads(threads);
        let err = ImageFolder::open(tmp.path(), &options).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidArgument { name: "decode_threads", .. }), "{text}");
        assert!(text.contains(&threads.to_string()) && text.contains(&MAX_DECODE_THREADS.to_string()), "{text}");
    }
    assert!(ImageFolder::open(tmp.path(), &ImageFolderOptions::new().decode_threads(MAX_DECODE_THREADS)).is_ok());
}

#[test]
fn weights_of_a_dtype_not_read_say_what_to_save_them_as() {
    use tch::{Device, Kind, Tensor};
    let mut m = tch_keras::Sequential::new().device(Device::Cpu).input_shape([4]).add(tch_keras::Dense::new(3));
    m.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bool.safetensors");
    let as_bool: Vec<(String, Tensor)> = m.variables().unwrap().iter().map(|(n, t)| (n.clone(), t.gt(0.0))).collect();
    Tensor::write_safetensors(&as_bool, &path).unwrap();
    let e = m.load_weights(&path).unwrap_err();
    assert!(matches!(e, Error::Checkpoint { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("BOOL") && text.contains("save it as float32"), "{text}");
    assert_eq!(m.variables().unwrap()[0].1.kind(), Kind::Float);
}
