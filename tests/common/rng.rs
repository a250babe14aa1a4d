//! A deterministic random generator for test data. LibTorch's generator is process-wide and
//! the tests running alongside reseed it (`fit` does at every epoch) and draw from it, so data
//! drawn there after `tch::manual_seed` can differ from run to run; data drawn here cannot.
#![allow(dead_code)]
use tch::Tensor;

/// xorshift64 seeded through SplitMix64, with uniform, normal and integer draws.
pub struct Rng(u64);

impl Rng {
    /// A generator whose draws depend only on `seed`.
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // xorshift never leaves the all-zero state.
        Rng((z ^ (z >> 31)).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal (Box-Muller on two uniforms).
    pub fn normal(&mut self) -> f64 {
        (-2.0 * (1.0 - self.uniform()).ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }

    /// Standard normal float32 values of `shape`, as `Tensor::randn` gives.
    pub fn randn(&mut self, shape: &[i64]) -> Tensor {
        let values: Vec<f32> = (0..shape.iter().product::<i64>()).map(|_| self.normal() as f32).collect();
        Tensor::from_slice(&values).view(shape)
    }

    /// Uniform float32 values on [0, 1) of `shape`, as `Tensor::rand` gives.
    pub fn rand(&mut self, shape: &[i64]) -> Tensor {
        let values: Vec<f32> = (0..shape.iter().product::<i64>()).map(|_| self.uniform() as f32).collect();
        Tensor::from_slice(&values).view(shape)
    }

    /// Uniform int64 values in 0..`high` of `shape`, as `Tensor::randint` gives.
    pub fn randint(&mut self, high: i64, shape: &[i64]) -> Tensor {
        let values: Vec<i64> =
            (0..shape.iter().product::<i64>()).map(|_| (self.uniform() * high as f64) as i64).collect();
        Tensor::from_slice(&values).view(shape)
    }
}
