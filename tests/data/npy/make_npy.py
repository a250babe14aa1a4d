"""Writes the NumPy files tests/data_loaders.rs reads (run once; the outputs are committed).

Run: PYTHONPATH=$CACHE/py-keras python3 tests/data/npy/make_npy.py
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
x = (np.arange(12, dtype=np.float32) / 4 - 1).reshape(3, 4)  # -1.0, -0.75, ... 1.75
y = np.array([2, 0, 1], dtype=np.int64)
np.save(os.path.join(here, "x_f32.npy"), x)
np.save(os.path.join(here, "y_i64.npy"), y)
np.save(os.path.join(here, "x_f64_fortran.npy"), np.asfortranarray(x.astype(np.float64)))
np.save(os.path.join(here, "mask_bool.npy"), np.array([True, False, True]))
np.save(os.path.join(here, "pixels_u8.npy"), np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
np.save(os.path.join(here, "x_f32_bigendian.npy"), x.astype(">f4"))
np.savez(os.path.join(here, "xy.npz"), x=x, y=y)
np.savez_compressed(os.path.join(here, "xy_compressed.npz"), x=x, y=y)
print("numpy", np.__version__, "wrote", sorted(os.listdir(here)))
