//! NumPy's legacy `np.random.RandomState(seed).shuffle`, so an image folder's file order and
//! validation split are the files Keras's `image_dataset_from_directory` picks for the same seed.
//!
//! `RandomState(seed)` seeds MT19937 with `init_genrand(seed)` (seeds below 2**32); `shuffle`
//! walks `i = n-1 .. 1` and swaps `x[i]` with `x[random_interval(i)]`, where
//! `random_interval(max)` masks 32-bit outputs to the smallest `2**k - 1 >= max` and rejects
//! values above `max` (numpy/random/src/legacy and distributions.c).

/// The 32-bit Mersenne Twister, as NumPy's `RandomState` uses it.
pub(crate) struct Mt19937 {
    state: [u32; 624],
    pos: usize,
}

impl Mt19937 {
    /// `RandomState(seed)` for a seed below 2**32.
    pub(crate) fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        Self { state, pos: 624 }
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % 624] & 0x7fff_ffff);
            let mut next = self.state[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                next ^= 0x9908_b0df;
            }
            self.state[i] = next;
        }
        self.pos = 0;
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.pos >= 624 {
            self.twist();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// NumPy's `random_interval(max)` for `max < 2**32`: uniform in `0..=max`.
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        loop {
            let value = self.next_u32() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `RandomState.shuffle(items)` for fewer than 2**32 items.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.interval(i as u32) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_output_is_the_reference_implementations() {
        // Matsumoto and Nishimura's mt19937ar.c prints 3499211612 first for init_genrand(5489).
        assert_eq!(Mt19937::new(5489).next_u32(), 3_499_211_612);
    }

    /// The expected orders were printed by NumPy 2.4.6 (tests/reference/image_folder_split.py).
    #[test]
    fn shuffles_as_numpy_random_state() {
        let mut x: Vec<u32> = (0..10).collect();
        Mt19937::new(1337).shuffle(&mut x);
        assert_eq!(x, [6, 3, 0, 4, 5, 2, 1, 9, 8, 7]);
        let mut x: Vec<u32> = (0..300).collect();
        Mt19937::new(u32::MAX).shuffle(&mut x);
        assert_eq!(x[..12], [110, 21, 54, 6, 19, 166, 190, 59, 280, 170, 126, 97]);
    }
}
