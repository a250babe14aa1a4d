"""Keras 3's default layer names for the class names in src/layers/custom.rs's snake-case test.

Run: KERAS_BACKEND=torch PYTHONPATH=/root/.cache/tch-keras/py-keras:/root/.cache/tch-keras/torch-2.11.0 \
    python3 tests/reference/snake_case.py
"""
from keras.src.utils.naming import to_snake_case

for name in ["Scale", "ScaledResidual", "LSTMCell", "Conv2D", "MyDense2", "AbCdEf", "HTTPLayer"]:
    print(name, to_snake_case(name))
