//! `Size2`: a 2-D window, kernel or stride size as Keras takes it.

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
