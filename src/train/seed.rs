//! Seeding: each epoch's shuffle and dropout masks come from (model seed, epoch), so a resumed
//! run draws exactly what the uninterrupted run draws.
//!
//! LibTorch has one random generator per process: a seed-and-draw sequence holds the crate's
//! lock ([`crate::rng_lock`]) so other threads of this library do not interleave, but dropout
//! masks are only reproducible when one model trains at a time in the process.
use tch::{Device, Kind, Tensor};

use crate::Result;

/// Seed of an epoch's shuffle and dropout masks (a SplitMix64 step of seed and epoch).
pub(crate) fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    let mut z = seed.wrapping_add((epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 1) as i64
}

/// Seeds LibTorch for an epoch (its dropout masks).
pub(crate) fn seed_epoch(seed: u64, epoch: usize) {
    let _rng = crate::rng_lock();
    tch::manual_seed(epoch_seed(seed, epoch));
}

/// Seeds LibTorch for the batches of `epoch` from its step `step` on: where an epoch of
/// `steps_per_epoch` continues a pass, whose source reseeded the generator for the pass, so
/// epochs sharing a pass still draw different dropout masks (and a resumed run the same).
pub(crate) fn seed_epoch_at(seed: u64, epoch: usize, step: usize) {
    let _rng = crate::rng_lock();
    tch::manual_seed(epoch_seed(epoch_seed(seed, epoch) as u64, step));
}

/// The order an epoch visits `n` samples in: a permutation drawn on `device` (no host copy),
/// the same for the same seed and epoch. It also leaves LibTorch seeded for the epoch.
pub(crate) fn epoch_permutation(n: i64, seed: u64, epoch: usize, device: Device) -> Result<Tensor> {
    let _rng = crate::rng_lock();
    tch::manual_seed(epoch_seed(seed, epoch));
    Ok(Tensor::f_randperm(n, (Kind::Int64, device))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seeds_differ_by_seed_and_epoch_and_are_non_negative() {
        let seeds: Vec<i64> = (0..4).flat_map(|s| (0..50).map(move |e| epoch_seed(s, e))).collect();
        let mut unique = seeds.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seeds.len());
        assert!(seeds.iter().all(|&s| s >= 0));
        assert_eq!(epoch_seed(7, 3), epoch_seed(7, 3));
    }

    #[test]
    fn permutations_are_reproducible_per_seed_and_epoch() {
        let p = epoch_permutation(1000, 7, 3, Device::Cpu).unwrap();
        let mut sorted = Vec::<i64>::try_from(&p).unwrap();
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert!(p.equal(&epoch_permutation(1000, 7, 3, Device::Cpu).unwrap()), "not reproducible");
        assert!(!p.equal(&epoch_permutation(1000, 7, 4, Device::Cpu).unwrap()), "same order every epoch");
        assert!(!p.equal(&epoch_permutation(1000, 8, 3, Device::Cpu).unwrap()), "seed ignored");
    }
}
