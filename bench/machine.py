"""The machine's limit: the decoder's FLOPs per image against this CPU's matrix-multiply FLOP/s."""
from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from bench.timing import time_calls


def decoder_flops(decoder) -> int:
    """Multiply-adds x 2 of every Dense, Conv2D and Conv2DTranspose layer for one image."""
    from keras import layers

    total = 0
    for layer in decoder.layers:
        if isinstance(layer, layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, layers.Conv2DTranspose):
            _, height, width, channels = layer.input.shape  # every input pixel scatters a k x k x C_out patch
            kh, kw = layer.kernel_size
            total += 2 * height * width * channels * kh * kw * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, height, width, _ = layer.output.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * layer.input.shape[-1] * kh * kw * layer.filters
    return int(total)


def matmul_flops_per_second(size: int = 2048, repeats: int = 7) -> float:
    """Median float32 matrix-multiply throughput of TensorFlow on this CPU (all cores)."""
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    timing = time_calls(lambda: tf.linalg.matmul(a, b).numpy(), calls=repeats, warmup=2)
    return 2 * size ** 3 / (timing["median_ms"] / 1000.0)


def describe_machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    import os

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def measure_limit(model) -> dict:
    flops = decoder_flops(model.decoder)
    peak = matmul_flops_per_second()
    z1 = np.zeros((1, model.cfg.latent_dim), np.float32)
    z256 = np.zeros((256, model.cfg.latent_dim), np.float32)
    single = time_calls(lambda: model.decode(z1), calls=50)["median_ms"] / 1000.0
    batched = time_calls(lambda: model.decode(z256), calls=10, warmup=2)["median_ms"] / 1000.0 / 256
    limit = flops / peak
    return {"decoder_mflops_per_image": round(flops / 1e6, 2), "matmul_gflops_per_second": round(peak / 1e9, 1),
            "fastest_possible_decode_ms": round(limit * 1000, 4),
            "decode_ms_single": round(single * 1000, 3), "decode_ms_per_image_batch_256": round(batched * 1000, 4),
            "ratio_single": round(single / limit, 1), "ratio_batch_256": round(batched / limit, 2)}
