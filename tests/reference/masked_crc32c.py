"""Masked CRC-32C values with TensorBoard's own TFRecord code, for src/tensorboard.rs's unit test.

Run: PYTHONPATH=$(scripts/py-deps.sh tensorboard) python3 tests/reference/masked_crc32c.py
"""
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

for data in [b"123456789", b""]:
    print(f"{data!r}: 0x{masked_crc32c(data):08X}")
