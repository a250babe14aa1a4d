//! `Size1`, `Size2` and `Size3`: a window, kernel or stride size as Keras takes it.

/// A size along height and width: one integer for both (`3`), or Keras's tuple `(3, 5)`, or
/// an array `[3, 5]`. Layer constructors and setters take `impl Into<Size2>`, so
/// `Conv2D::new(32, 3)`, `Conv2D::new(32, (3, 5))` and `MaxPooling2D::new((2, 2))` all work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size2(pub [i64; 2]);

impl From<i64> for Size2 {
    fn from(n: i64) -> Self {
        Size2([n, n])
    }
}

impl From<(i64, i64)> for Size2 {
    fn from((h, w): (i64, i64)) -> Self {
        Size2([h, w])
    }
}

impl From<[i64; 2]> for Size2 {
    fn from(hw: [i64; 2]) -> Self {
        Size2(hw)
    }
}

/// A size along depth, height and width, as [`Size2`] for the 3-D layers: one integer for all
/// three (`3`), Keras's tuple `(1, 3, 3)`, or an array `[1, 3, 3]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size3(pub [i64; 3]);

impl From<i64> for Size3 {
    fn from(n: i64) -> Self {
        Size3([n, n, n])
    }
}

impl From<(i64, i64, i64)> for Size3 {
    fn from((d, h, w): (i64, i64, i64)) -> Self {
        Size3([d, h, w])
    }
}

impl From<[i64; 3]> for Size3 {
    fn from(dhw: [i64; 3]) -> Self {
        Size3(dhw)
    }
}

/// A size along a sequence's one axis, as [`Size2`] for the 1-D layers declared like the 2-D
/// ones (`Conv1DTranspose`): an integer (`3`) or Keras's one-element tuple as an array (`[3]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size1(pub [i64; 1]);

impl From<i64> for Size1 {
    fn from(n: i64) -> Self {
        Size1([n])
    }
}

impl From<[i64; 1]> for Size1 {
    fn from(n: [i64; 1]) -> Self {
        Size1(n)
    }
}
