"""Write a model's networks as LiteRT (TensorFlow Lite) files, which vae.lite serves without TensorFlow.

The encoder and the refiner store int8 weights (dynamic-range quantisation: half the bytes of
float16, and the refiner runs three times as fast); their answers stay within a few levels of
the float ones (BENCHMARKS.md). The decoder and the fit keep float16 weights, as in
model.keras: LiteRT has no fast int8 kernel for the decoder's transposed convolutions, and a
fit through int8 weights lands further from the print. The fit (vae.fit's objective and its
gradient with respect to the code) is traced with LeakyReLU written as max(x, a x):
TensorFlow's own LeakyReLU gradient has no LiteRT kernel, and the two are the same function.
Every file takes one row per call: LiteRT hands a graph to its fast (XNNPACK) kernels only when
every shape is fixed (BENCHMARKS.md has what a free batch dimension costs).
`python -m vae.export` calls this.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

from common.files import atomic_path
from vae.fit import fit_objective
from vae.lite import FILES, REFINER_FILE

WEIGHTS = {"encoder": "int8", "decoder": "float16", "fit": "float16", "refiner": "int8"}  # as the docstring says


@contextlib.contextmanager
def _leaky_relu_as_maximum():
    """Keras's LeakyReLU traced as max(x, a x), whose gradient LiteRT can run."""
    import keras.src.backend.tensorflow.nn as backend_nn
    import tensorflow as tf

    original = backend_nn.leaky_relu
    backend_nn.leaky_relu = lambda x, negative_slope=0.2: tf.maximum(x, negative_slope * tf.convert_to_tensor(x))
    try:
        yield
    finally:
        backend_nn.leaky_relu = original


def _convert(function, path: Path, weights: str) -> None:
    """`function` (a tf.function with an input signature, returning a dict) as a LiteRT file
    whose weights are stored as `weights`: "float16", or "int8" (dynamic-range quantised)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if weights == "float16":
        converter.target_spec.supported_types = [tf.float16]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    with atomic_path(path) as temporary:
        Path(temporary).write_bytes(flatbuffer)


def export_lite(model, refiner, folder: Path) -> list[str]:
    """Write the model's networks (and the refiner's, where there is one) as LiteRT files into
    `folder`; returns the names written."""
    import tensorflow as tf

    folder = Path(folder)
    size, dims = model.cfg.image_size, model.cfg.latent_dim
    conditioned = bool(getattr(model, "domain_conditioned", False))
    images = tf.TensorSpec((1, size, size, 3), tf.float32, name="images")
    codes = tf.TensorSpec((1, dims), tf.float32, name="z")
    domains = tf.TensorSpec((1, 1), tf.float32, name="domains")

    def draw(z, domain):
        return model.decoder([z, domain], training=False) if conditioned else model.decoder(z, training=False)

    @tf.function(input_signature=[images])
    def encoder(x):
        outputs = model.encoder(x, training=False)
        named = {"mean": outputs[0], "log_var": outputs[1]}
        if len(outputs) > 2:
            named["domain_logit"] = outputs[2]
        return named

    @tf.function(input_signature=[codes, domains])
    def decoder(z, domain):
        return {"pictures": draw(z, domain) + 0.0 * tf.reduce_sum(domain)}  # the domain stays an input

    @tf.function(input_signature=[codes, images, domains])
    def fit(z, x, domain):
        with tf.GradientTape() as tape:
            tape.watch(z)
            objective = tf.reduce_sum(fit_objective(lambda code: draw(code, domain), z, x))
        return {"objective": objective, "gradient": tape.gradient(objective, z)}

    _convert(encoder, folder / FILES["encoder"], WEIGHTS["encoder"])
    _convert(decoder, folder / FILES["decoder"], WEIGHTS["decoder"])
    with _leaky_relu_as_maximum():
        _convert(fit, folder / FILES["fit"], WEIGHTS["fit"])
    return list(FILES.values()) + export_lite_refiner(refiner, folder, size)


def export_lite_refiner(refiner, folder: Path, size: int) -> list[str]:
    """Write the refiner (vae.refiner.Refiner) as a LiteRT file for pictures of `size` pixels
    into `folder`; with none, remove a refiner file left there, so that the folder's pictures
    stay the model's own."""
    import tensorflow as tf

    path = Path(folder) / REFINER_FILE
    if refiner is None:
        path.unlink(missing_ok=True)
        return []

    @tf.function(input_signature=[tf.TensorSpec((1, size, size, 3), tf.float32, name="images"),
                                  tf.TensorSpec((1, 1), tf.float32, name="domains")])  # one row: see export_lite
    def refine(x, domain):
        return {"pictures": refiner.network([x, domain], training=False)}

    _convert(refine, path, WEIGHTS["refiner"])
    return [REFINER_FILE]
