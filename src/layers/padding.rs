//! `Padding`, Keras's padding modes, and the window arithmetic shared by convolutions and pooling.
use serde::{Deserialize, Serialize};

/// Keras's padding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: output `floor((in - k) / s) + 1`.
    #[default]
    Valid,
    /// Zero padding so the output is `ceil(in / s)`, split as TensorFlow does (extra on the
    /// bottom/right).
    Same,
}

/// Output length and (before, after) padding of one spatial axis.
pub(crate) fn axis(input: i64, k: i64, s: i64, padding: Padding) -> (i64, i64, i64) {
    match padding {
        Padding::Valid => ((input - k).div_euclid(s) + 1, 0, 0),
        Padding::Same => {
            // ceil(input / s) for a positive input, without overflow.
            let out = (input - 1) / s + 1;
            let total = ((out - 1) * s + k - input).max(0);
            (out, total / 2, total - total / 2)
        }
    }
}

/// Output height, width and `[left, right, top, bottom]` padding of a 2-D window over
/// `[channels, height, width]` inputs.
pub(crate) fn spatial(
    kind: &str,
    input: &[i64],
    k: [i64; 2],
    s: [i64; 2],
    padding: Padding,
) -> std::result::Result<(i64, i64, [i64; 4]), String> {
    let [_, h, w] = image(kind, input)?;
    let ([oh, ow], pads) = windows(kind, [h, w], k, s, padding)?;
    Ok((oh, ow, torch_pad(pads)))
}

/// `[before, after]` padding along each of `N` axes.
pub(crate) type Pads<const N: usize> = [[i64; 2]; N];

/// Output sizes and `[before, after]` padding per axis of an N-D window `k` with strides `s`
/// over an input of `sizes`, or an error naming `kind`.
pub(crate) fn windows<const N: usize>(
    kind: &str,
    sizes: [i64; N],
    k: [i64; N],
    s: [i64; N],
    padding: Padding,
) -> std::result::Result<([i64; N], Pads<N>), String> {
    if k.iter().chain(s.iter()).any(|&v| v <= 0) {
        return Err(format!("{kind} needs positive kernel sizes and strides, got {k:?} and {s:?}"));
    }
    // LibTorch's pooling takes 32-bit sizes ("integer out of range" on the first batch).
    if k.iter().chain(s.iter()).any(|&v| v > i64::from(i32::MAX)) {
        return Err(format!(
            "{kind}'s kernel sizes and strides must be at most {}, got {k:?} and {s:?}: a stride as large as the \
             input gives one window already",
            i32::MAX
        ));
    }
    let mut out = [0; N];
    let mut pads = [[0; 2]; N];
    for i in 0..N {
        let (o, before, after) = axis(sizes[i], k[i], s[i], padding);
        out[i] = o;
        pads[i] = [before, after];
    }
    if out.iter().any(|&o| o <= 0) || (padding == Padding::Valid && (0..N).any(|i| k[i] > sizes[i])) {
        let cross = |v: [i64; N]| v.map(|n| n.to_string()).join("x");
        return Err(format!(
            "the {} window is larger than the {} input; use a smaller kernel or padding 'same'",
            cross(k),
            cross(sizes)
        ));
    }
    Ok((out, pads))
}

/// The `[before, after]` padding of each axis in the order LibTorch's `constant_pad_nd` takes
/// it: the last axis first.
pub(crate) fn torch_pad<const N: usize, const M: usize>(pads: [[i64; 2]; N]) -> [i64; M] {
    let mut flat = [0; M];
    for (i, [before, after]) in pads.into_iter().rev().enumerate() {
        flat[2 * i] = before;
        flat[2 * i + 1] = after;
    }
    flat
}

/// The shortest window giving the same outputs as a `same`-padded window of `k` with stride
/// `s` over `length` steps (`out` outputs): a window longer than `length + 2 * (out - 1) * s + 2`
/// covers every step of the input from every position, as that length does, so a huge pool
/// runs as that length instead of padding the input to its own.
pub(crate) fn same_window(length: i64, k: i64, s: i64, out: i64) -> i64 {
    // (out - 1) * s < length with padding same, so this cannot overflow.
    k.min(length + 2 * (out - 1) * s + 2)
}

/// [`spatial`] for a pooling window, which has no weights: with padding `same`, the window
/// (returned last) is the shortest one with the same outputs on each axis (see
/// [`same_window`]) and the padding is that window's, so a pool much larger than the input
/// does not pad the input to the pool's size.
pub(crate) fn pool_spatial(
    kind: &str,
    input: &[i64],
    k: [i64; 2],
    s: [i64; 2],
    padding: Padding,
) -> std::result::Result<(i64, i64, [i64; 4], [i64; 2]), String> {
    let [_, h, w] = image(kind, input)?;
    let ([oh, ow], pads, k) = pool_windows(kind, [h, w], k, s, padding)?;
    Ok((oh, ow, torch_pad(pads), k))
}

/// [`windows`] for a pooling window, as [`pool_spatial`]: output sizes, the padding per axis
/// and the window run.
pub(crate) fn pool_windows<const N: usize>(
    kind: &str,
    sizes: [i64; N],
    k: [i64; N],
    s: [i64; N],
    padding: Padding,
) -> std::result::Result<([i64; N], Pads<N>, [i64; N]), String> {
    let (out, mut pads) = windows(kind, sizes, k, s, padding)?;
    if padding == Padding::Valid {
        return Ok((out, pads, k));
    }
    let mut run = k;
    for i in 0..N {
        run[i] = same_window(sizes[i], k[i], s[i], out[i]);
        let (_, before, after) = axis(sizes[i], run[i], s[i], padding);
        pads[i] = [before, after];
    }
    Ok((out, pads, run))
}

/// The `[channels, height, width]` of a per-sample image shape, or an error naming `kind`.
pub(crate) fn image(kind: &str, input: &[i64]) -> std::result::Result<[i64; 3], String> {
    match input {
        &[c, h, w] => Ok([c, h, w]),
        _ => Err(format!(
            "{kind} takes images (None, channels, height, width) but got a {}-D input per sample; \
             reshape the data to [N, C, H, W] or start the model with Reshape",
            input.len()
        )),
    }
}
