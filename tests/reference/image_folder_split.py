"""Reference for tests/data_loaders.rs: which files Keras 3's image_dataset_from_directory
puts in the training and validation subsets, and NumPy's RandomState shuffles.

Builds the folder the Rust test builds (file names only; Keras lists files without decoding
them before the split), then runs Keras's own listing, shuffle and split functions
(keras.src.utils.dataset_utils, as image_dataset_from_directory calls them).

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/image_folder_split.py
"""
import os
import tempfile

import numpy as np
from keras.src.utils import dataset_utils

# (class folder, relative file names) -- mirrored by image_folder_layout() in the Rust test.
LAYOUT = [
    ("ankle_boot", ["img0.png", "img1.png", "img10.png", "img2.png", "Img3.PNG", "img4.png", "notes.txt"]),
    ("bag", ["b0.png", "b1.png", "b2.png", "sub/b3.png", "sub/b4.png", "sub2/b5.png"]),
    ("coat", ["c0.png", "c1.png", "c2.png", "c3.png", "c4.png", "c5.png", "c6.png"]),
    (".hidden", ["h0.png"]),
]
SEED = 1337
SPLIT = 0.25

with tempfile.TemporaryDirectory() as root:
    for cls, names in LAYOUT:
        for name in names:
            path = os.path.join(root, cls, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "wb").close()
    paths, labels, classes = dataset_utils.index_directory(
        root, "inferred", formats=(".bmp", ".gif", ".jpeg", ".jpg", ".png"), shuffle=True, seed=SEED, verbose=False
    )
    rel = [os.path.relpath(p, root) for p in paths]
    print("classes", classes)
    for subset in ("training", "validation"):
        files, labs = dataset_utils.get_training_or_validation_split(rel, labels, SPLIT, subset)
        print(subset, list(zip(files, [int(l) for l in labs])))

r = np.random.RandomState(1337)
x = list(range(10))
r.shuffle(x)
print("RandomState(1337).shuffle(range(10))", x)
r = np.random.RandomState(2**32 - 1)
x = list(range(300))
r.shuffle(x)
print("RandomState(2**32-1).shuffle(range(300))[:12]", x[:12])
print("numpy", np.__version__)
