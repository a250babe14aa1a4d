"""Reads MNIST-format idx files (the four files tch::vision::mnist::load_dir reads), without
depending on numpy or torch: each peer turns the bytes into its own arrays."""
import os
import struct

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def read_idx(path):
    """(payload bytes, shape) of one idx file of unsigned bytes."""
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return bytearray(data[4 + 4 * dims:]), shape


def load(data_dir, to_array):
    """The four files as (train images, train labels, test images, test labels), each made by
    `to_array(payload, shape)`."""
    return [to_array(*read_idx(os.path.join(data_dir, n))) for n in NAMES]
