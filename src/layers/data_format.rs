//! `DataFormat`: which axis of a per-sample sequence or volume holds the channels, for the 1-D
//! and 3-D layers, and the window arithmetic the 1-D poolings share.
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::padding::{axis, same_window};
use super::Padding;
use crate::{Error, Result};

/// Where a 1-D layer finds the channels of its input, spelled as Keras's `data_format`.
///
/// The crate's 1-D layers (`Conv1D`, the 1-D poolings, `Cropping1D`, `ZeroPadding1D`,
/// `UpSampling1D`) default to [`ChannelsFirst`](Self::ChannelsFirst),
/// `(None, channels, length)`, as [`Conv1D`](super::Conv1D) and the 2-D layers (so
/// `Conv1D -> MaxPooling1D -> GlobalMaxPooling1D` needs no option). What `Embedding`, `LSTM`
/// and `GRU` produce is a sequence `(None, timesteps, features)`, Keras's default
/// [`ChannelsLast`](Self::ChannelsLast): give the layer after them
/// `.data_format(DataFormat::ChannelsLast)`, e.g.
/// `LSTM::new(8).return_sequences(true)` then
/// `GlobalAveragePooling1D::new().data_format(DataFormat::ChannelsLast)`.
///
/// The 3-D layers (`Conv3D`, `MaxPooling3D`, `GlobalAveragePooling3D`, ...) take it too: volumes
/// `(None, channels, depth, height, width)` by default, Keras's
/// `(None, depth, height, width, channels)` with [`ChannelsLast`](Self::ChannelsLast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// `(None, channels, length)`: LibTorch's layout, the crate's default.
    #[default]
    ChannelsFirst,
    /// `(None, steps, features)`: Keras's default, the layout of sequences.
    ChannelsLast,
}

impl DataFormat {
    /// Keras's spelling: `channels_first` or `channels_last`.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::ChannelsFirst => "channels_first",
            DataFormat::ChannelsLast => "channels_last",
        }
    }

    /// Whether this is the crate's default (saved files leave the default out).
    pub(crate) fn is_default(&self) -> bool {
        *self == DataFormat::ChannelsFirst
    }

    /// The `(channels, length)` of a per-sample sequence shape, or an error naming `kind`.
    pub(crate) fn split(self, kind: &str, input: &[i64]) -> std::result::Result<(i64, i64), String> {
        match (self, input) {
            (DataFormat::ChannelsFirst, &[c, l]) => Ok((c, l)),
            (DataFormat::ChannelsLast, &[l, c]) => Ok((c, l)),
            (DataFormat::ChannelsFirst, _) => Err(format!(
                "{kind} takes sequences (None, channels, length) (data_format channels_first) but got a {}-D input \
                 per sample; reshape the data to [N, C, L]",
                input.len()
            )),
            (DataFormat::ChannelsLast, _) => Err(format!(
                "{kind} takes sequences (None, steps, features) (data_format channels_last) but got a {}-D input \
                 per sample; reshape the data to [N, steps, features]",
                input.len()
            )),
        }
    }

    /// The per-sample shape of `channels` channels of `length` in this layout.
    pub(crate) fn join(self, channels: i64, length: i64) -> Vec<i64> {
        match self {
            DataFormat::ChannelsFirst => vec![channels, length],
            DataFormat::ChannelsLast => vec![length, channels],
        }
    }

    /// The axis of a batch `[N, .., ..]` that holds the length (the steps).
    pub(crate) fn length_axis(self) -> i64 {
        match self {
            DataFormat::ChannelsFirst => 2,
            DataFormat::ChannelsLast => 1,
        }
    }

    /// Runs `f` on the batch in channels-first layout `[N, C, L]` and returns its result in
    /// this layout (two transposes, views, for channels-last).
    pub(crate) fn channels_first(self, xs: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
        match self {
            DataFormat::ChannelsFirst => f(xs),
            DataFormat::ChannelsLast => Ok(f(&xs.f_transpose(1, 2)?)?.f_transpose(1, 2)?),
        }
    }

    /// The `(channels, [depth, height, width])` of a per-sample volume shape, or an error
    /// naming `kind`.
    pub(crate) fn split_volume(self, kind: &str, input: &[i64]) -> std::result::Result<(i64, [i64; 3]), String> {
        match (self, input) {
            (DataFormat::ChannelsFirst, &[c, d, h, w]) => Ok((c, [d, h, w])),
            (DataFormat::ChannelsLast, &[d, h, w, c]) => Ok((c, [d, h, w])),
            (DataFormat::ChannelsFirst, _) => Err(format!(
                "{kind} takes volumes (None, channels, depth, height, width) (data_format channels_first) but got a \
                 {}-D input per sample; reshape the data to [N, C, D, H, W], or set data_format channels_last for \
                 [N, D, H, W, C]",
                input.len()
            )),
            (DataFormat::ChannelsLast, _) => Err(format!(
                "{kind} takes volumes (None, depth, height, width, channels) (data_format channels_last) but got a \
                 {}-D input per sample; reshape the data to [N, D, H, W, C]",
                input.len()
            )),
        }
    }

    /// The per-sample shape of a volume of `channels` channels of `[depth, height, width]` in
    /// this layout.
    pub(crate) fn join_volume(self, channels: i64, [d, h, w]: [i64; 3]) -> Vec<i64> {
        match self {
            DataFormat::ChannelsFirst => vec![channels, d, h, w],
            DataFormat::ChannelsLast => vec![d, h, w, channels],
        }
    }

    /// Runs `f` on a batch of volumes in channels-first layout `[N, C, D, H, W]` and returns
    /// its result in this layout (two permutes, views, for channels-last).
    pub(crate) fn volume_channels_first(
        self,
        xs: &Tensor,
        f: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        match self {
            DataFormat::ChannelsFirst => f(xs),
            DataFormat::ChannelsLast => Ok(f(&xs.f_permute([0, 4, 1, 2, 3])?)?.f_permute([0, 2, 3, 4, 1])?),
        }
    }
}

impl FromStr for DataFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "channels_first" => Ok(DataFormat::ChannelsFirst),
            "channels_last" => Ok(DataFormat::ChannelsLast),
            _ => Err(Error::Parse {
                what: "data_format",
                value: s.to_string(),
                expected: "channels_first, channels_last".into(),
            }),
        }
    }
}

/// Output length, `[left, right]` padding and the window length to run of a 1-D window of `k`
/// with stride `s` over `length` steps, or an error naming `kind`.
///
/// With padding `same`, the shortest window with the same outputs is run
/// ([`same_window`](super::padding::same_window)), so a huge `pool_size` does not pad the
/// input to its length.
pub(crate) fn window(
    kind: &str,
    length: i64,
    k: i64,
    s: i64,
    padding: Padding,
) -> std::result::Result<(i64, [i64; 2], i64), String> {
    if k <= 0 || s <= 0 {
        return Err(format!("{kind} needs a positive pool size and stride, got {k} and {s}"));
    }
    // LibTorch's pooling takes 32-bit sizes.
    if k > i64::from(i32::MAX) || s > i64::from(i32::MAX) {
        return Err(format!("{kind}'s pool size and stride must be at most {}, got {k} and {s}", i32::MAX));
    }
    let (out, ..) = axis(length, k, s, padding);
    if out <= 0 || (padding == Padding::Valid && k > length) {
        return Err(format!(
            "the pool of {k} is longer than the input length {length}; use a smaller pool_size or padding 'same'"
        ));
    }
    let k = if padding == Padding::Same { same_window(length, k, s, out) } else { k };
    let (_, left, right) = axis(length, k, s, padding);
    Ok((out, [left, right], k))
}
